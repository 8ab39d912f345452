"""The grammar and the stdlib are found from a wheel install and from a checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from terrl.resources import grammar_path, stdlib_dir

REPO = Path(__file__).resolve().parent.parent


def test_checkout_finds_grammar_and_stdlib():
    assert grammar_path().is_file()
    assert (stdlib_dir() / "geo").is_dir()


@pytest.mark.slow
def test_wheel_carries_grammar_and_stdlib_and_works(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend reachable?): {build.stderr.strip()[-300:]}")
    wheel = next((tmp_path / "dist").glob("terrl-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "terrl/_data/grammar/terr.lark" in names
    assert any(n.startswith("terrl/_data/stdlib/geo/") and n.endswith(".terr") for n in names)
    # Install it into a fresh venv that sees this interpreter's site-packages (for lark,
    # click, jinja2) but not the checkout, and check a file that imports the stdlib.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    (work / "m.terr").write_text(
        'import geo.us\nschema A { id: string key  state: us.UsState }\n'
        'model M { territory w { where state in us.west } territory r { else } }\n', encoding="utf-8")
    probe = ("import terrl.resources as r, sys; "
             "assert '_data' in str(r.grammar_path()), r.grammar_path(); "
             "assert '_data' in str(r.stdlib_dir()), r.stdlib_dir()")
    run = subprocess.run([str(python), "-c", probe], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([str(python), "-m", "terrl", "check", "m.terr", "--format", "concise"], cwd=work,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
