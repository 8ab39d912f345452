"""The grammar and the stdlib are found from a wheel install and from a checkout."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from terrl.resources import grammar_path, stdlib_dir

from support import REPO


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
    # Install it with its dependencies into a fresh venv that sees neither the checkout nor
    # any other site-packages (with system_site_packages, inside the README's .venv, the
    # base interpreter's packages showed instead of the venv's: no lark). This pip installs
    # into it, so the dependencies come from the index and find-links pip is configured with.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    site = subprocess.run([str(python), "-c", "import site, sys; print('\\n'.join(site.getsitepackages()))"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert site and all(p.startswith(str(env_dir)) for p in site), site  # no other site-packages seen
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


def _tracked_test_files() -> list[Path]:
    # Only committed files: a colleague's uncommitted test must not fail this one before it lands.
    listed = subprocess.run(["git", "ls-files", "tests/*.py"], cwd=REPO, capture_output=True, text=True)
    if listed.returncode != 0:
        return sorted((REPO / "tests").glob("*.py"))
    return [REPO / line for line in listed.stdout.split()]


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_test_extra_installs_every_module_the_tests_import():
    """README's `pip install -e '.[test]'` then `python -m pytest` must not fail on a missing module."""
    import ast
    import importlib.metadata
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted: set[str] = {_requirement_name(r) for r in project["dependencies"]}
    pending = ["test"]
    while pending:
        for requirement in extras[pending.pop()]:
            name = _requirement_name(requirement)
            if name == "terrl":
                pending.extend(requirement.split("[", 1)[1].split("]", 1)[0].split(","))
            else:
                wanted.add(name)
    local = {p.stem for p in (REPO / "tests").glob("*.py")} | {"terrl"}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for test_file in _tracked_test_files():
        tree = ast.parse(test_file.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: imports inside tests may be skipped on purpose
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                root = name.split(".")[0]
                if root in sys.stdlib_module_names or root in local:
                    continue
                provided_by = {d.lower().replace("_", "-") for d in distributions.get(root, [root])}
                if not provided_by & wanted:
                    missing.setdefault(root, []).append(test_file.name)
    assert not missing, f"modules imported by tests but not installed by the `test` extra: {missing}"
