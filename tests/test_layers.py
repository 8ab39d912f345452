"""The package's layering (pyproject.toml, [tool.importlinter]) holds: import-linter's
contracts say which layer may import which, that only `terrl.cli` imports click, and
that sibling packages import each other in no cycle."""

from __future__ import annotations

import subprocess
import sys

from support import REPO

_RUN = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))")


def test_import_contracts_are_kept() -> None:
    # a subprocess: import-linter builds the import graph of the installed `terrl` from scratch
    run = subprocess.run([sys.executable, "-c", _RUN], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout, run.stdout
