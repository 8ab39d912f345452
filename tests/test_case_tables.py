"""`terrl test --cases FILE` (issue 18 item 5): a table of accounts with an `expect` column,
each failing row reported at its line, in every output format of `terrl test`."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terrl.pipeline import Compilation
from terrl.targets import reference

from support import make_project, run_cli

MODEL = """schema Account {
  id:        string key
  country:   enum { US, CA, DE }
  state:     enum { CA, WA, NY }?
  employees: int in 0..
}

model FY "Fiscal" {
  policy first
  territory big "Big" { where employees >= 1000 }
  territory na "North America" {
    where country in {US, CA}
    policy unique
    territory west "West" { where state in {CA, WA} }
    territory east "East" { where state == NY }
    territory rest "Rest" { else }
  }
  territory intl "International" { where country == DE  keep
    territory de_big { where employees >= 500 }
  }
}
"""

NEXT = MODEL.replace('model FY "Fiscal"', 'model FY2 "Next year"').split("model FY2", 1)[1]
TWO_MODELS = MODEL + "\nmodel FY2" + NEXT

CASES = ("id,country,state,employees,expect,case\n"
         "A1,US,CA,10,na.west,a Californian\n"
         "A2,US,NY,10,na.west,a New Yorker\n"
         "A3,DE,,5,intl,\n"
         "A4,XX,,5,invalid,unknown country\n")


def _project(tmp_path, monkeypatch, cases: str = CASES, model: str = MODEL, name: str = "cases.csv"):
    make_project(tmp_path, {"fy.terr": model, name: cases}, monkeypatch=monkeypatch, config="")


def test_each_failing_row_is_reported_at_its_line(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    result = run_cli(["test", "fy.terr", "--cases", "cases.csv"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ("PASS cases.csv:2  a Californian\n"
                             "FAIL cases.csv:3  a New Yorker\n"
                             "     FY: expected na.west\n"
                             "         actual   na.east\n"
                             "     | A2,US,NY,10,na.west,a New Yorker\n"
                             "PASS cases.csv:4  row 3\n"
                             "PASS cases.csv:5  unknown country\n"
                             "3 passed, 1 failed\n")
    assert run_cli(["test", "fy.terr", "--cases", "cases.csv", "-q"]).stdout.startswith("FAIL cases.csv:3")


def test_every_output_format_locates_the_failing_row(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    report = json.loads(run_cli(["test", "fy.terr", "--cases", "cases.csv", "--format", "json"]).stdout)
    assert report["summary"] == {"passed": 3, "failed": 1, "errors": 0}
    (failed,) = [t for t in report["tests"] if not t["passed"]]
    assert failed == {"name": "a New Yorker", "model": "FY", "passed": False, "expected": "na.west",
                      "actual": "na.east", "file": "cases.csv", "line": 3}
    (d,) = report["diagnostics"]
    assert (d["code"], d["file"], d["line"]) == ("E401", "cases.csv", 3)
    github = run_cli(["test", "fy.terr", "--cases", "cases.csv", "--format", "github"]).stdout
    assert github.startswith("::error file=cases.csv,line=3,col=1,") and "expected na.west, got na.east" in github
    sarif = json.loads(run_cli(["test", "fy.terr", "--cases", "cases.csv", "--format", "sarif"]).stdout)
    (r,) = sarif["runs"][0]["results"]
    assert r["ruleId"] == "E401"
    assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "cases.csv"
    assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_json_lines_tables_and_several_territories_under_policy_all(tmp_path, monkeypatch):
    model = MODEL.replace("    policy unique\n", "    policy all\n").replace(
        "territory east \"East\" { where state == NY }", "territory east \"East\" { where state in {NY, WA} }")
    lines = [{"id": "1", "country": "US", "state": "WA", "employees": 1, "expect": ["na.west", "na.east"]},
             {"id": "2", "country": "US", "state": "WA", "employees": 1, "expect": "na.east;na.west"},
             {"id": "3", "country": "US", "state": "WA", "employees": 1, "expect": "na.west"}]
    _project(tmp_path, monkeypatch, "".join(json.dumps(x) + "\n" for x in lines), model, "cases.jsonl")
    result = run_cli(["test", "fy.terr", "--cases", "cases.jsonl"])
    assert "PASS cases.jsonl:1" in result.stdout and "PASS cases.jsonl:2" in result.stdout
    assert "FAIL cases.jsonl:3" in result.stdout and "actual   na.west, na.east" in result.stdout


def _problems(tmp_path, monkeypatch, cases: str, *args: str, model: str = MODEL) -> tuple[int, list[str]]:
    _project(tmp_path, monkeypatch, cases, model)
    result = run_cli(["test", "fy.terr", "--cases", "cases.csv", "--format", "json", *args])
    report = json.loads(result.stdout)
    return result.exit_code, [f"{d['code']} {d['line']} {d['message']} | {' '.join(d['notes'])} | {d['help']}"
                              for d in report["diagnostics"]]


def test_malformed_rows_are_diagnosed_each_at_its_line(tmp_path, monkeypatch):
    cases = ("id,country,state,employees,expect\n"
             "A1,US,CA,10,na.wst\n"
             "A2,US,CA,10,\n"
             "A3,US,CA,10,unassigned;na.west\n"
             "A4,US,CA\n"
             "A5,US,CA,10,na.west\n")
    status, problems = _problems(tmp_path, monkeypatch, cases)
    assert status == 1
    assert [p.split(" | ")[0] for p in problems] == [
        "E402 2 row 1 of `cases.csv`: model `FY` has no territory `na.wst`",
        "E402 3 row 2 of `cases.csv`: `expect` is empty or missing",
        "E402 4 row 3 of `cases.csv`: `unassigned;na.west`: `unassigned` and `invalid` stand alone",
        "E402 5 row 4 of `cases.csv`: cannot be read: ragged row: 3 cells where the header has 5"]
    assert "did you mean `na.west`?" in problems[0]


def test_malformed_tables_are_diagnosed_at_their_header(tmp_path, monkeypatch):
    for cases, message in [
        ("id,country,state,employees,expected\nA1,US,CA,10,na.west\n", "`cases.csv` has no `expect` column (found `expected`)"),
        ("", "cases.csv is empty"),
        ("id,country,expect\nA1,US,na.west\n", "missing required column(s) `employees`"),
    ]:
        status, problems = _problems(tmp_path, monkeypatch, cases)
        assert status == 1 and len(problems) == 1 and problems[0].startswith("E403 1 ") and message in problems[0], \
            problems
    status, problems = _problems(tmp_path, monkeypatch, CASES, "--model", "FY9")
    assert problems[0].startswith("E403 1 --model `FY9`: no such model in the files given; did you mean `FY`?")


def test_several_models_need_a_model_column_or_option(tmp_path, monkeypatch):
    status, problems = _problems(tmp_path, monkeypatch, CASES, model=TWO_MODELS)
    assert len(problems) == 4 and all("which model? the files given declare `FY`, `FY2`" in p for p in problems)
    status, problems = _problems(tmp_path, monkeypatch, CASES, "--model", "FY2", model=TWO_MODELS)
    assert status == 1 and [p.split()[0] for p in problems] == ["E401"]
    with_column = CASES.replace(",case\n", ",case,model\n").replace("\nA1,US,CA,10,na.west,a Californian\n",
                                                                    "\nA1,US,CA,10,na.west,a Californian,FY2\n")
    with_column = "\n".join(line + ("" if i < 2 else ",FY") if line else line
                            for i, line in enumerate(with_column.split("\n")))
    status, problems = _problems(tmp_path, monkeypatch, with_column, model=TWO_MODELS)
    assert [p.split()[0] for p in problems] == ["E401"]
    status, problems = _problems(tmp_path, monkeypatch, with_column.replace(",FY2\n", ",FY22\n"), model=TWO_MODELS)
    assert "unknown model `FY22`" in problems[0] and "did you mean `FY2`?" in problems[0]


def test_models_with_other_schemas_are_named(tmp_path, monkeypatch):
    other = (MODEL.replace('model FY "Fiscal"', 'model FY "Fiscal" for Account')
             + "schema Other { id: string key  employees: int in 0.. }\n"
             + "model FY2 for Other { territory all_ { where employees >= 0 } }\n")
    status, problems = _problems(tmp_path, monkeypatch, CASES, model=other)
    assert problems and problems[0].startswith("E403 1 the models of the files given follow different schemas"), problems
    status, problems = _problems(tmp_path, monkeypatch, CASES, "--model", "FY", model=other)
    assert [p.split()[0] for p in problems] == ["E401"]  # read with FY's schema
    status, problems = _problems(tmp_path, monkeypatch, CASES.replace(",case\n", ",model\n").replace(
        "a Californian", "FY2"), "--model", "FY", model=other)
    assert "model `FY2` follows schema `Other`, not the `Account` this table is read with" in problems[0], problems


# --- differential: the table's verdicts against the reference interpreter -------------------------

CELLS = {"id": st.sampled_from(["A1", ""]), "country": st.sampled_from(["US", "CA", "DE", "XX"]),
         "state": st.sampled_from(["CA", "WA", "NY", ""]), "employees": st.sampled_from(["0", "600", "1000", "x"])}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=8), st.data())
def test_rows_pass_exactly_when_the_reference_interpreter_agrees(tmp_path_factory, rows, data):
    folder = tmp_path_factory.mktemp("cases")
    make_project(folder, {"fy.terr": MODEL}, config="")
    (model,) = Compilation.from_paths([folder / "fy.terr"]).models
    wrong = set(data.draw(st.sets(st.integers(0, len(rows) - 1))))
    choices = ["na.west", "na.east", "intl", "intl.de_big", "big", "unassigned", "invalid"]
    for i, row in enumerate(rows):
        status, territories = reference.explain(model, {k: v or None for k, v in row.items()})[0][:2]
        truth = ";".join(territories) if status == "assigned" else status
        row["expect"] = data.draw(st.sampled_from([c for c in choices if c != truth])) if i in wrong else truth
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=[*CELLS, "expect"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / "cases.csv").write_text(text.getvalue(), encoding="utf-8")
    report = json.loads(run_cli(["test", str(folder / "fy.terr"), "--cases", str(folder / "cases.csv"),
                                 "--format", "json"]).stdout)
    assert report["diagnostics"] == [d for d in report["diagnostics"] if d["code"] == "E401"]
    assert [t["line"] for t in report["tests"]] == [i + 2 for i in range(len(rows))]
    assert {t["line"] - 2 for t in report["tests"] if not t["passed"]} == wrong


def test_a_table_beside_a_test_file_uses_the_model_it_imports(tmp_path, monkeypatch):
    tests = 'import "./fy.terr"\ntest "west" {\n  account { id: "1", country: US, state: CA, employees: 1 }\n  expect fy.FY: na.west\n}\n'
    make_project(tmp_path, {"fy.terr": MODEL, "fy_tests.terr": tests, "cases.csv": CASES}, monkeypatch=monkeypatch,
                 config="")
    result = run_cli(["test", "fy_tests.terr", "--cases", "cases.csv"])
    assert "PASS fy_tests.terr:4  west" in result.stdout and "FAIL cases.csv:3  a New Yorker" in result.stdout
    assert "4 passed, 1 failed\n" in result.stdout  # the model is found once, through the test file's import
    both = run_cli(["test", "fy.terr", "fy_tests.terr", "--cases", "cases.csv"])
    assert both.stdout.endswith("4 passed, 1 failed\n"), both.output  # and once when both files are given
