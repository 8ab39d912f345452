"""docs/architecture.md stays true: what it cites exists and its diagram is the layering contract."""

from __future__ import annotations

import importlib
import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from support import REPO

PAGE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
FENCED = re.compile(r"^```.*?^```", re.M | re.S)
PROSE = FENCED.sub("", PAGE)
TABLE_ROW = re.compile(r"^\| `(terrl/[\w/]*/)` \| (.*) \|$", re.M)
CITED = re.findall(r"`([^`\n]+)`", PROSE)
FILE_SUFFIX = re.compile(r"\.(py|md|toml|lark|j2|terr|yaml|yml)$")
KINDS_OF_FILE = {".terr", "terrl.toml"}  # named on the page, but files of a user's project, not of this repository


def cited_paths() -> list[str]:
    """Backticked paths (`a/b.py`, `terrl/syntax/`, `pyproject.toml`) and the targets of relative links;
    bare file names in the package table are checked against their package below."""
    outside_table = re.findall(r"`([^`\n]+)`", TABLE_ROW.sub("", PROSE))
    paths = [c for c in outside_table if " " not in c and "<" not in c and c not in KINDS_OF_FILE
             and ("/" in c or FILE_SUFFIX.search(c)) and not re.search(r"[(=:\"]", c)]
    paths += [f"docs/{t}" for t in re.findall(r"\]\(([^)#\s]+)", PROSE) if "://" not in t]  # links are relative
    return paths


def table_rows() -> list[tuple[str, str]]:
    """(folder, cell) for each row of the package table whose first cell is a folder."""
    rows = TABLE_ROW.findall(PAGE)
    assert len(rows) >= 8, rows
    return rows


def test_every_cited_path_exists():
    paths = cited_paths()
    assert len(paths) > 30, paths  # the extraction still finds them
    missing = [p for p in paths if not (REPO / p.rstrip("/")).exists()]
    assert not missing, missing


def test_every_file_named_in_the_package_table_is_in_that_package():
    missing = []
    for folder, cell in table_rows():
        for name in re.findall(r"`([\w/.]+(?:\.py|\.j2|/))`", cell):
            if "/" in name.rstrip("/") and name.startswith("terrl/"):
                continue  # a full path, checked above
            if not (REPO / folder / name).exists():
                missing.append(folder + name)
    assert not missing, missing


def test_every_cited_dotted_name_resolves():
    names = [c for c in CITED if re.fullmatch(r"terrl(\.\w+)+", c) and c not in KINDS_OF_FILE]
    assert len(names) > 10, names
    unresolved = []
    for name in names:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                unresolved.append(name)
            break
        else:
            unresolved.append(name)
    assert not unresolved, unresolved


def test_the_diagram_is_the_layers_contract():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    rank = {name.strip(): i for i, layer in enumerate(layers) for name in layer.split("|")}  # 0 = top
    diagram = re.search(r"```mermaid\n(.*?)```", PAGE, re.S).group(1)
    nodes = dict(re.findall(r'^\s*(\w+)\["(terrl\.\w+)<br/>', diagram, re.M))
    assert set(nodes.values()) == set(rank), "the diagram shows exactly the packages of the contract"
    edges = [(nodes[a], nodes[b]) for a, b in re.findall(r"^\s*(\w+) --> (\w+)\s*$", diagram, re.M)]
    assert edges and all(rank[a] < rank[b] for a, b in edges), "every arrow points down a layer"
    below = {b for _, b in edges}
    above = {a for a, _ in edges}
    assert set(rank) - below == {name for name, r in rank.items() if r == 0}  # only the top has no arrow in
    assert set(rank) - above == {name for name, r in rank.items() if r == len(layers) - 1}  # only the bottom none out
    for package in rank:  # and each is a real package or module
        assert (REPO / package.replace(".", "/")).is_dir() or (REPO / (package.replace(".", "/") + ".py")).is_file()


def test_the_readme_layout_points_here():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    assert "(docs/architecture.md)" in layout
