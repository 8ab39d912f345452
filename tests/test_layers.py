"""The package's layering (pyproject.toml, [tool.importlinter]) holds: import-linter's
contracts say which layer may import which, that only `terrl.cli` imports click, that
commands, targets and docs reach the resolver, the analysis and lint only through
`terrl.pipeline.Compilation`, and that sibling packages import each other in no cycle."""

from __future__ import annotations

import os
import subprocess
import sys

from support import REPO

_RUN = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))")


def test_import_contracts_are_kept() -> None:
    # a subprocess: import-linter builds the import graph of the installed `terrl` from scratch
    run = subprocess.run([sys.executable, "-c", _RUN], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 kept, 0 broken" in run.stdout, run.stdout


def test_the_docs_contract_catches_an_import_of_the_ast_or_the_resolver(tmp_path) -> None:
    # A copy of the package with one docs module that reads the AST and one that resolves names
    # (a lazy import counts too); the copy comes first on the path, so import-linter checks it.
    import shutil
    shutil.copytree(REPO / "terrl", tmp_path / "terrl", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "terrl" / "docs" / "probe_ast.py").write_text("from terrl.syntax import ast\n", encoding="utf-8")
    (tmp_path / "terrl" / "docs" / "probe_resolve.py").write_text(
        "def names():\n    import terrl.semantics.resolve\n", encoding="utf-8")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    run = subprocess.run([sys.executable, "-c", _RUN], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert run.returncode != 0, run.stdout + run.stderr
    assert "docs read the IR, not the AST or the resolver BROKEN" in run.stdout, run.stdout
    assert "terrl.docs.probe_ast -> terrl.syntax" in run.stdout, run.stdout
    assert "terrl.docs.probe_resolve -> terrl.semantics.resolve" in run.stdout, run.stdout
    assert "passes are wired only in terrl.pipeline BROKEN" in run.stdout, run.stdout  # the resolver, too
    assert "3 kept, 2 broken" in run.stdout, run.stdout
