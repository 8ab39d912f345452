"""Imports: stdlib modules, relative files, aliases, cycles, the project root."""

from __future__ import annotations

from pathlib import Path

from terrl.pipeline import check_paths

from support import make_project, write_file

SCHEMA = "schema A { id: string key  n: int  state: us.UsState? }\n"


def codes(result) -> list[tuple[str, str, int]]:
    return [(d.code, Path(d.span.file.path).name if d.span else "", d.span.start_line_col[0] if d.span else 0)
            for d in result.diagnostics]


def test_stdlib_and_relative_imports_with_alias(tmp_path):
    root = make_project(tmp_path, config="")
    write_file(root, "lib/segments.terr", "## Shared segments.\nsegment big = n >= 1000\n")
    main = write_file(root, "rules/main.terr",
                      'import geo.us\nimport "../lib/segments.terr" as seg\n' + SCHEMA +
                      "model M { territory a { where seg.big and state in us.west } territory b { else } }\n")
    result = check_paths([main])
    assert result.ok, codes(result)
    (model,) = result.models
    assert model.territories[0].where is not None


def test_unknown_stdlib_module_lists_what_exists(tmp_path):
    main = write_file(make_project(tmp_path, config=""), "m.terr", "import geo.usa\nschema A { id: string key }\n")
    result = check_paths([main])
    (d,) = result.diagnostics
    assert d.code == "E112" and "`geo.us`" in " ".join(d.notes) + (d.help or "")


def test_missing_file(tmp_path):
    main = write_file(make_project(tmp_path, config=""), "m.terr", 'import "./nope.terr"\nschema A { id: string key }\n')
    assert codes(check_paths([main])) == [("E112", "m.terr", 1)]


def test_import_may_not_leave_the_project_root(tmp_path):
    outside = write_file(tmp_path, "outside.terr", "segment s = true\n")
    root = make_project(tmp_path / "proj", config="")
    main = write_file(root, "m.terr", 'import "../outside.terr"\nschema A { id: string key }\n')
    assert outside.exists()
    assert codes(check_paths([main])) == [("E111", "m.terr", 1)]


def test_cycle_is_reported_once_with_the_chain(tmp_path):
    root = make_project(tmp_path, config="")
    write_file(root, "a.terr", 'import "./b.terr"\nsegment sa = true\n')
    write_file(root, "b.terr", 'import "./c.terr"\nsegment sb = true\n')
    write_file(root, "c.terr", 'import "./a.terr"\nsegment sc = true\n')
    result = check_paths([root / "a.terr"])
    cycles = [d for d in result.diagnostics if d.code == "E110"]
    assert len(cycles) == 1
    assert "a.terr -> " in cycles[0].notes[0] and cycles[0].notes[0].count("->") == 3


def test_two_imports_with_one_name(tmp_path):
    root = make_project(tmp_path, config="")
    write_file(root, "x/us.terr", "segment s = true\n")
    main = write_file(root, "m.terr", 'import geo.us\nimport "./x/us.terr"\nschema A { id: string key }\n')
    assert ("E102", "m.terr", 2) in codes(check_paths([main]))


def test_names_are_not_reexported(tmp_path):
    root = make_project(tmp_path, config="")
    write_file(root, "lib.terr", "import geo.us\nsegment s = true\n")
    main = write_file(root, "m.terr", 'import "./lib.terr"\n' + SCHEMA + "model M { territory a { where lib.s } }\n")
    result = check_paths([main])
    assert ("E101", "m.terr", 2) in codes(result)  # `us.UsState` needs its own import


def test_errors_in_an_imported_file_are_reported_in_that_file(tmp_path):
    root = make_project(tmp_path, config="")
    write_file(root, "lib.terr", "segment s = n >>> 1\n")
    main = write_file(root, "m.terr", 'import "./lib.terr"\nschema A { id: string key  n: int }\n'
                      "model M { territory a { where lib.s } territory b { else } }\n")
    result = check_paths([main])
    assert [c for c in codes(result) if c[0] == "E003"] == [("E003", "lib.terr", 1)]


def test_unused_import_warns(tmp_path):
    main = write_file(make_project(tmp_path, config=""), "m.terr",
                      "import geo.world\nschema A { id: string key  n: int }\nmodel M { territory a { } }\n")
    assert ("W101", "m.terr", 1) in codes(check_paths([main]))


def test_an_import_that_supplies_the_models_schema_is_used(tmp_path):
    root = make_project(tmp_path, config="")
    write_file(root, "acc.terr", "schema Account { id: string key  n: int }\n")
    main = write_file(root, "m.terr", 'import "./acc.terr" as acc\n'
                      'model M { territory a { where n > 1 } territory b { else } }\n')
    assert [c for c in codes(check_paths([main])) if c[0] == "W101"] == []


def test_the_same_file_twice_is_checked_once(tmp_path):
    main = write_file(make_project(tmp_path, config=""), "m.terr", "schema A { id: string key  n: int }\nmodel M { territory a { where m > 1 } }\n")
    result = check_paths([main, tmp_path / "." / "m.terr"])
    assert [c[0] for c in codes(result)] == ["E101"]
