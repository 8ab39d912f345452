"""Issue 18 item 5: tests kept outside the model's file, every problem of a test block at once."""

from __future__ import annotations

import json

from terrl.pipeline import Compilation
from terrl.syntax.fmt import format_source
from terrl.diagnostics.source import SourceFile

from support import make_project, run_cli

MODEL = """schema Account {
  id:    string key
  state: enum { CA, NY, TX }
}

model FY26 "Fiscal 2026" {
  territory west { where state == CA }
  territory east { where state in {NY, TX} }
}
"""

TESTS = """import "./fy26.terr"

test "a Californian" {
  account { id: "1", state: CA }
  expect fy26.FY26: west
}

test "a Texan, expected in the wrong place" {
  account { id: "2", state: TX }
  expect fy26.FY26: west
}
"""


def test_a_test_file_that_imports_the_model_runs_its_tests(tmp_path, monkeypatch):
    make_project(tmp_path, {"fy26.terr": MODEL, "fy26_tests.terr": TESTS}, monkeypatch=monkeypatch, config="")
    result = run_cli(["test", "fy26_tests.terr"])
    assert result.exit_code == 1, result.output
    assert "PASS fy26_tests.terr:5  a Californian" in result.output
    assert "FAIL fy26_tests.terr:10  a Texan, expected in the wrong place" in result.output
    assert "fy26.FY26: expected west" in result.output and "actual   east" in result.output
    assert "1 passed, 1 failed\n" in result.output
    # the whole folder: the model file's own check and the tests, each test run once
    result = run_cli(["test", "--format", "json", "."])
    report = json.loads(result.output)
    assert [(t["name"], t["model"], t["passed"]) for t in report["tests"]] == [
        ("a Californian", "fy26.FY26", True), ("a Texan, expected in the wrong place", "fy26.FY26", False)]
    assert run_cli(["check", "."]).exit_code == 0


def test_an_import_alias_names_the_model(tmp_path, monkeypatch):
    tests = TESTS.replace('import "./fy26.terr"', 'import "./fy26.terr" as plan').replace("fy26.FY26", "plan.FY26")
    make_project(tmp_path, {"fy26.terr": MODEL, "t.terr": tests}, monkeypatch=monkeypatch, config="")
    assert "1 passed, 1 failed" in run_cli(["test", "t.terr"]).output


def _errors(tmp_path, tests: str, model: str = MODEL) -> list[str]:
    make_project(tmp_path, {"fy26.terr": model, "t.terr": tests}, config="")
    compilation = Compilation.from_paths([tmp_path / "t.terr"])
    return [f"{d.code} {d.message} {' '.join(d.notes)} {d.help or ''}".strip()
            for d in compilation.diagnostics if d.is_error]


def test_a_model_named_without_its_import_says_how_to_name_it(tmp_path):
    (error,) = _errors(tmp_path, TESTS.replace("fy26.FY26", "FY26", 1))
    assert error.startswith("E101 unknown model `FY26`") and "`expect fy26.FY26: ...`" in error


def test_unknown_imported_models_and_modules(tmp_path):
    errors = _errors(tmp_path, TESTS.replace("fy26.FY26", "fy26.FY62", 1).replace("fy26.FY26", "fy62.FY26", 1))
    assert errors[0].startswith("E101 unknown model `fy26.FY62`") and "did you mean `fy26.FY26`?" in errors[0]
    assert errors[1].startswith("E101 unknown module `fy62`")


def test_every_problem_of_an_imported_model_test_is_reported_at_once(tmp_path):
    tests = TESTS.replace('account { id: "1", state: CA }', 'account { id: "1", stat: CA }').replace(
        "expect fy26.FY26: west", "expect fy26.FY26: wset", 1)
    errors = _errors(tmp_path, tests)
    assert [e.split()[0] for e in errors] == ["E119", "E113"], errors
    assert "model `fy26.FY26` has no territory `wset`" in errors[1] and "did you mean `west`?" in errors[1]


def test_errors_in_the_imported_model_are_why_its_tests_cannot_run(tmp_path):
    broken = MODEL.replace("state == CA", "state == ZZ")
    errors = _errors(tmp_path, TESTS, broken)
    assert [e.split()[0] for e in errors] == ["E104"], errors  # reported once, in fy26.terr
    # the paths are still checked against the territories as written
    errors = _errors(tmp_path, TESTS.replace("fy26.FY26: west", "fy26.FY26: wset", 1), broken)
    assert [e.split()[0] for e in errors] == ["E104", "E113"], errors


def test_fmt_keeps_a_qualified_model_name():
    text = format_source(SourceFile("t.terr", TESTS)).text
    assert "expect fy26.FY26: west" in text
    assert format_source(SourceFile("t.terr", text)).text == text
