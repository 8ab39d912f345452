"""`terrl assign`, `explain`, `compile` and `test` from the user's side: flags, outputs, exit codes."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from pathlib import Path

import pytest

from support import REPO, make_project, run_cli

MODEL = """
schema Account {
  id:        string key
  country:   enum { US, CA, DE, FR }
  state:     enum { CA, WA, NY }?
  employees: int in 0..
}

model FY "Fiscal" {
  policy first
  territory na "North America" {
    where country in {US, CA}
    policy unique
    territory west "West" { where state in {CA, WA} owner "eli@x" as AE }
    territory east "East" { where state == NY owner "ivy@x" as AE }
    territory rest "Rest" { else }
  }
  territory intl "International" { where country not in {US, CA} keep
    territory de "Germany" { where country == DE } }
}

test "west" {
  account { id: "1", country: US, state: CA, employees: 1 }
  expect FY: na.west
}
"""

SECOND_MODEL = "\nmodel FY2 { territory all_ { where true } }\n"
OVERLAP = MODEL.replace('territory east "East" { where state == NY', 'territory east "East" { where state in {NY, WA}')
BROKEN = MODEL.replace("where country == DE", "where contry == DE")

ACCOUNTS_CSV = (
    "id,country,state,employees,notes\n"
    "1,US,CA,10,a\n"
    "2,DE,,5,b\n"
    "3,FR,,5,\n"
    "4,XX,,5,\n"
    "5,US,NY\n"
    "6,US,,5,\n"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, {"fy.terr": MODEL, "two.terr": MODEL + SECOND_MODEL, "overlap.terr": OVERLAP,
                                   "broken.terr": BROKEN, "accounts.csv": ACCOUNTS_CSV}, monkeypatch=monkeypatch)


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# --- assign ------------------------------------------------------------------------------------

def test_assign_csv_to_file(project):
    result = run_cli(["assign", "fy.terr", "accounts.csv", "-o", "out.csv"])
    assert result.exit_code == 0, result.output
    rows = csv_rows((project / "out.csv").read_text(encoding="utf-8"))
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r["key"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r["status"] for r in rows] == ["assigned", "assigned", "assigned", "invalid", "invalid", "assigned"]
    assert rows[0]["territories"] == "na.west" and rows[0]["titles"] == "West" and rows[0]["owners"] == "eli@x"
    assert rows[2]["territories"] == "intl"
    assert rows[3]["reason"] == "`country`: 'XX' is not a member of enum {US, CA, DE, FR}"
    assert rows[4]["reason"] == "ragged row: 3 cells where the header has 5"
    assert rows[5]["territories"] == "na.rest"
    assert "6 accounts: 4 assigned, 0 unassigned, 2 invalid -> out.csv" in result.stderr


def test_assign_stdin_to_stdout_jsonl(project):
    lines = '{"id": "A", "country": "DE", "employees": 3}\n{"id": "B", "country": "US", "employees": -1}\n'
    result = run_cli(["assign", "fy.terr", "-", "--format", "jsonl"], input=lines)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {"row": 1, "key": "A", "status": "assigned", "territories": ["intl.de"], "titles": ["Germany"],
                     "owners": [], "reason": None}
    assert second["status"] == "invalid" and second["reason"] == "`employees`: -1 is below the lower bound 0"


def test_output_format_follows_the_extension(project):
    assert run_cli(["assign", "fy.terr", "accounts.csv", "-o", "out.jsonl"]).exit_code == 0
    objects = [json.loads(line) for line in (project / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(objects) == 6 and objects[0]["territories"] == ["na.west"]


def test_input_format_option(project):
    (project / "accounts.txt").write_text('{"id": "A", "country": "FR", "employees": 3}\n', encoding="utf-8")
    result = run_cli(["assign", "fy.terr", "accounts.txt", "--input-format", "jsonl", "--format", "csv"])
    assert csv_rows(result.stdout)[0]["territories"] == "intl"


def test_explain_column(project):
    result = run_cli(["assign", "fy.terr", "accounts.csv", "--explain"])
    rows = csv_rows(result.stdout)
    # `terrl explain`'s order (depth first) and words (`skipped`: not tried under policy first)
    assert rows[0]["explain"] == ("na: taken (country in {US, CA}); na.west: taken (state in {CA, WA}); "
                                  "na.east: no (state == NY); na.rest: no (else); intl: skipped (country not in {US, CA})")
    assert rows[3]["explain"] == ""
    result = run_cli(["assign", "fy.terr", "accounts.csv", "--explain", "--format", "jsonl"])
    first = json.loads(result.stdout.splitlines()[0])
    assert first["explain"][0] == {"territory": "na", "verdict": "taken", "where": "country in {US, CA}",
                                   "matched": True, "taken": True}
    assert first["explain"][-1]["verdict"] == "skipped"


def test_the_explain_column_and_explain_agree_row_by_row(project):
    """Every decision in the column is a line of `terrl explain` with the same verdict (issue 18, item 10)."""
    rows = csv_rows(run_cli(["assign", "fy.terr", "accounts.csv", "--explain"]).stdout)
    with open("accounts.csv", newline="", encoding="utf-8") as f:
        accounts = list(csv.DictReader(f))
    for row, account in zip(rows, accounts):
        if not row["explain"]:
            continue
        out = explain("fy.terr", {k: (int(v) if k == "employees" else v) for k, v in account.items() if v}).stdout
        shown = {}
        for line in out.splitlines()[1:]:
            parts = line.split()
            if parts and parts[0] in ("taken", "no", "matches"):
                shown[parts[1]] = parts[0]
            elif parts and parts[0] == "skipped":
                for name in line.split("(not tried")[0].split(None, 1)[1].split(","):
                    shown[name.strip()] = "skipped"
        for decision in row["explain"].split("; "):
            path, verdict = decision.split(": ")[0], decision.split(": ")[1].split(" ")[0]
            assert shown[path.rpartition(".")[2]] == verdict, (decision, out)


def test_fail_on_invalid(project):
    assert run_cli(["assign", "fy.terr", "accounts.csv"]).exit_code == 0
    assert run_cli(["assign", "fy.terr", "accounts.csv", "--fail-on-invalid"]).exit_code == 1
    (project / "good.csv").write_text("id,country,employees\n1,DE,1\n", encoding="utf-8")
    assert run_cli(["assign", "fy.terr", "good.csv", "--fail-on-invalid"]).exit_code == 0


def test_model_option(project):
    result = run_cli(["assign", "two.terr", "accounts.csv"])
    assert result.exit_code == 2 and "several models (`FY`, `FY2`); pick one with `--model NAME`" in result.stderr
    result = run_cli(["assign", "two.terr", "accounts.csv", "--model", "FY2"])
    assert result.exit_code == 0 and csv_rows(result.stdout)[0]["territories"] == "all_"
    result = run_cli(["assign", "two.terr", "accounts.csv", "--model", "FY3"])
    assert result.exit_code == 2 and "no model `FY3`" in result.stderr


def test_missing_columns_stop_before_any_output(project):
    (project / "bad.csv").write_text("id,Country,staff\n1,US,4\n", encoding="utf-8")
    result = run_cli(["assign", "fy.terr", "bad.csv", "-o", "out.csv"])
    assert result.exit_code == 2
    assert "missing required column(s) `country`, `employees`" in result.stderr
    assert not (project / "out.csv").exists()


def test_empty_and_missing_account_files(project):
    (project / "empty.csv").write_bytes(b"")
    result = run_cli(["assign", "fy.terr", "empty.csv"])
    assert result.exit_code == 2 and "is empty" in result.stderr
    result = run_cli(["assign", "fy.terr", "nope.csv"])
    assert result.exit_code == 2 and "cannot read nope.csv" in result.stderr


def test_model_with_errors_is_refused(project):
    result = run_cli(["assign", "broken.terr", "accounts.csv"])
    assert result.exit_code == 1
    assert "error[E101]" in result.stderr and "nothing done" in result.stderr
    assert result.stdout == ""


def test_unreadable_model_file(project):
    assert run_cli(["assign", "nope.terr", "accounts.csv"]).exit_code == 2


def test_coverage_findings_warn_and_go_on(project):
    result = run_cli(["assign", "overlap.terr", "accounts.csv"])
    assert result.exit_code == 0
    assert "warning[E201]" in result.stderr and "going on despite 1 coverage finding" in result.stderr
    (project / "wa.csv").write_text("id,country,state,employees\n9,US,WA,1\n", encoding="utf-8")
    row = csv_rows(run_cli(["assign", "overlap.terr", "wa.csv"]).stdout)[0]
    assert row["territories"] == "na.west;na.east" and row["reason"].startswith("conflict: `na.west` and `na.east`")


def test_progress_bar_goes_to_stderr_only(project):
    result = run_cli(["assign", "fy.terr", "accounts.csv", "--progress"])
    assert result.exit_code == 0
    assert "assigning" in result.stderr and "assigning" not in result.stdout
    assert len(csv_rows(result.stdout)) == 6


# --- explain -----------------------------------------------------------------------------------

def explain(model_file, account):
    return run_cli(["explain", model_file, "--account", json.dumps(account)])


def test_explain_reads_depth_first_with_the_values_behind_each_decision(project):
    result = explain("fy.terr", {"id": "1", "country": "US", "state": "NY", "employees": 3})
    assert result.exit_code == 0
    # na's children come right under na, before intl; under policy first intl is not tried
    assert result.stdout == (
        'model FY "Fiscal" (policy first)\n'
        "  taken    na      country in {US, CA}  (country: US)\n"
        "  no         west  state in {CA, WA}  (state: NY)\n"
        "  taken      east  state == NY  (state: NY)\n"
        "  no         rest  else  (a sibling matches)\n"
        "  skipped  intl  (not tried: `na` came first, policy first)\n"
        "\n"
        "result: assigned\n"
        '  na.east  "East"\n'
        "  owners: ivy@x\n")


def test_explain_shows_a_keep_parent_and_missing_values(project):
    out = explain("fy.terr", {"id": "1", "country": "FR", "employees": 3}).stdout
    assert out.splitlines()[1:5] == [
        "  no       na    country in {US, CA}  (country: FR)",
        "  taken    intl  country not in {US, CA}  (country: FR)",
        "  no         de  country == DE  (country: FR)",
        "  keep       no child of `intl` matches: the account rests there (`keep`)",
    ]
    out = explain("fy.terr", {"id": "1", "country": "US", "employees": 3}).stdout
    assert "  no         west  state in {CA, WA}  (state: null)\n" in out
    assert "  taken      rest  else  (no sibling matches)\n" in out


def test_explain_policy_first_shows_a_later_match_and_skips_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.terr").write_text("""
schema A { id: string key  size: int  zip: digits(5)? }
model M "M" {
  policy first
  territory big "Big" { where size >= 100 }
  territory any "Any" { where true }
  territory small "Small" { where size < 10 }
  territory west "West" { where zip startswith "9" and size >= 50 }
  territory rest "Rest" { else }
}
""", encoding="utf-8")
    out = explain("m.terr", {"id": "1", "size": 500, "zip": "94105"}).stdout
    assert out.splitlines()[1:5] == [
        "  taken    big   size >= 100  (size: 500)",
        "  matches  any   true; `big` came first (policy first)",
        '  matches  west  zip startswith "9" and size >= 50  (size: 500, zip: "94105"); `big` came first (policy first)',
        "  skipped  small, rest  (not tried: `big` came first, policy first)",
    ]


def test_explain_overlap_gap_and_universe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.terr").write_text("""
schema A { id: string key  country: enum { US, CA, DE }  employees: int in 0.. }
model G "Gappy" {
  where country != DE
  territory na "North America" {
    where country in {US, CA}
    territory big "Big" { where employees >= 1000 }
    territory huge "Huge" { where employees >= 5000 }
  }
}
""", encoding="utf-8")
    out = explain("g.terr", {"id": "1", "country": "US", "employees": 3}).stdout
    assert out.splitlines()[1:6] == [
        "  inside the model's universe: where country != DE  (country: US)",
        "  taken    na      country in {US, CA}  (country: US)",
        "  no         big   employees >= 1000  (employees: 3)",
        "  no         huge  employees >= 5000  (employees: 3)",
        "  gap        no child of `na` matches: a gap",
    ]
    out = explain("g.terr", {"id": "1", "country": "US", "employees": 6000}).stdout
    assert "  taken      big   employees >= 1000  (employees: 6000); overlap: `huge` also matches under policy unique" in out
    out = explain("g.terr", {"id": "1", "country": "DE", "employees": 6000}).stdout
    assert out.splitlines()[1:3] == ["  OUTSIDE the model's universe: where country != DE  (country: DE)", ""]


def test_explain_invalid_account_and_bad_json(project):
    result = run_cli(["explain", "fy.terr", "--account", '{"id": "1", "country": "ZZ", "employees": 1.5}'])
    assert result.exit_code == 0
    assert "result: invalid" in result.stdout and "`employees`: 1.5 is not a whole number" in result.stdout
    assert run_cli(["explain", "fy.terr", "--account", "{nope"]).exit_code == 2
    assert run_cli(["explain", "fy.terr", "--account", "[1]"]).exit_code == 2


# --- compile -----------------------------------------------------------------------------------

def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compile_python_module(project):
    result = run_cli(["compile", "fy.terr", "--target", "python", "-o", "assign_fy.py"])
    assert result.exit_code == 0 and "wrote assign_fy.py" in result.stderr
    source = (project / "assign_fy.py").read_text(encoding="utf-8")
    assert source.startswith("# Generated by terrl 0.1.0 from fy.terr, model FY (Fiscal).")
    module = import_file(project / "assign_fy.py")
    r = module.assign({"id": "1", "country": "US", "state": "CA", "employees": "10"})
    assert (r.status, r.territories, r.titles, r.owners, r.reason) == \
        ("assigned", ("na.west",), ("West",), ("eli@x",), None)
    assert module.MODEL == "FY" and module.SOURCE == "fy.terr" and module.FIELDS[0] == "id"


def test_compile_creates_the_output_folder(project):
    result = run_cli(["compile", "fy.terr", "--target", "python", "-o", "out/gen/assign_fy.py"])
    assert result.exit_code == 0, result.stderr
    assert (project / "out" / "gen" / "assign_fy.py").is_file()
    (project / "plain").write_text("not a folder", encoding="utf-8")
    assert run_cli(["compile", "fy.terr", "--target", "python", "-o", "plain/x.py"]).exit_code == 2


def test_compile_to_stdout_and_model_option(project):
    result = run_cli(["compile", "two.terr", "--target", "python", "--model", "FY2"])
    assert result.exit_code == 0 and "MODEL = 'FY2'" in result.stdout
    assert run_cli(["compile", "two.terr", "--target", "python"]).exit_code == 2
    assert run_cli(["compile", "fy.terr", "--target", "cobol"]).exit_code == 2
    assert run_cli(["compile", "broken.terr", "--target", "json"]).exit_code == 1


def test_compile_json(project):
    result = run_cli(["compile", "fy.terr", "--target", "json", "-o", "fy.json"])
    assert result.exit_code == 0
    doc = json.loads((project / "fy.json").read_text(encoding="utf-8"))
    assert doc["format"] == "terrl-normalized-model" and doc["version"] == 1
    assert doc["model"]["name"] == "FY" and doc["schema"]["key"] == "id"
    west = doc["territories"][0]["children"][0]
    assert west["path"] == "na.west"
    assert west["where"] == {"field": "state", "in": [{"values": ["CA", "WA"]}], "null": False, "cells": [0, 1]}


# --- test ------------------------------------------------------------------------------------

def test_terrl_test_passes_on_the_acme_example(monkeypatch):
    monkeypatch.chdir(REPO)
    result = run_cli(["test", "examples/acme/fy28.terr"])
    assert result.exit_code == 0, result.output
    blocks = len(re.findall(r'^\s*test "', (REPO / "examples/acme/fy28.terr").read_text(encoding="utf-8"), re.M))
    assert blocks >= 6 and f"{blocks} passed, 0 failed" in result.stdout


def test_terrl_test_failure_shows_expected_actual_and_line(project):
    (project / "failing.terr").write_text(MODEL.replace("expect FY: na.west", "expect FY: na.east"), encoding="utf-8")
    result = run_cli(["test", "failing.terr"])
    assert result.exit_code == 1
    out = result.stdout
    assert "FAIL failing.terr:24  west" in out
    assert "FY: expected na.east" in out and "actual   na.west" in out
    assert "| expect FY: na.east" in out and "0 passed, 1 failed" in out


def test_terrl_test_exit_codes_for_errors(project):
    assert run_cli(["test", "fy.terr"]).exit_code == 0
    result = run_cli(["test", "broken.terr"])
    assert result.exit_code == 1 and "error[E101]" in result.stderr
    assert run_cli(["test", "nope.terr"]).exit_code == 2


def test_terrl_test_on_a_folder_without_terr_files_names_it_like_check(project):
    (project / "emptydir").mkdir()
    (project / "emptydir" / "notes.txt").write_text("not a model", encoding="utf-8")
    for command in ("test", "check"):
        result = run_cli([command, "emptydir"])
        assert result.exit_code == 2
        assert result.stderr == "terrl: error: no .terr files found in `emptydir`\n"
        assert result.stdout == ""
    (project / "other").mkdir()
    result = run_cli(["test", "emptydir", "other"])
    assert result.stderr == "terrl: error: no .terr files found in `emptydir`, `other`\n"


def test_terrl_test_json_lists_every_test_and_the_summary(project):
    (project / "failing.terr").write_text(MODEL.replace("expect FY: na.west", "expect FY: na.east"), encoding="utf-8")
    result = run_cli(["test", "fy.terr", "failing.terr", "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"passed": 1, "failed": 1, "errors": 0}
    failing = [t for t in doc["tests"] if not t["passed"]]
    assert failing == [{"name": "west", "model": "FY", "passed": False, "expected": "na.east", "actual": "na.west",
                        "file": "failing.terr", "line": 24}]
    assert [(d["code"], d["file"], d["line"]) for d in doc["diagnostics"]] == [("E401", "failing.terr", 24)]


def test_terrl_test_github_and_sarif_annotate_failures_and_file_errors(project):
    (project / "failing.terr").write_text(MODEL.replace("expect FY: na.west", "expect FY: na.east"), encoding="utf-8")
    result = run_cli(["test", "failing.terr", "broken.terr", "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("::error file=failing.terr,line=24,") and "E401" in line for line in lines)
    assert any(line.startswith("::error file=broken.terr,") and "E101" in line for line in lines)
    result = run_cli(["test", "failing.terr", "--format", "sarif", "-o", "tests.sarif"])
    assert result.exit_code == 1 and result.stdout == ""
    sarif = json.loads((project / "tests.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["E401"]


def test_terrl_test_follows_the_configuration(project):
    (project / "vendor").mkdir()
    (project / "vendor" / "failing.terr").write_text(MODEL.replace("expect FY: na.west", "expect FY: na.east"),
                                                    encoding="utf-8")
    for name in ("broken.terr", "overlap.terr", "two.terr"):
        (project / name).unlink()
    assert run_cli(["test"]).exit_code == 1  # vendor/failing.terr is found
    (project / "terrl.toml").write_text('exclude = ["vendor/**"]\n', encoding="utf-8")
    result = run_cli(["test"])
    assert result.exit_code == 0 and "1 passed, 0 failed" in result.stdout
    assert run_cli(["test", "--no-config"]).exit_code == 1
    result = run_cli(["test", "vendor/failing.terr"])  # named, but excluded: nothing to test
    assert result.exit_code == 0 and "nothing to test" in result.stderr
    (project / "bad.toml").write_text("exclude = 5\n", encoding="utf-8")
    result = run_cli(["test", "--config", "bad.toml"])
    assert result.exit_code == 2 and result.stderr.startswith("terrl: error: bad.toml")


# --- end to end against the reference ----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CELLS = {
    "id": st.sampled_from(["1", "A,2", 'q"uote', "", "ünï"]),
    "country": st.sampled_from(["US", "CA", "DE", "FR", "XX", "", "us"]),
    "state": st.sampled_from(["CA", "WA", "NY", "", "TX"]),
    "employees": st.sampled_from(["0", "5", "1000", "-1", "5,000", "1.0", "1.5", "", "x", "0" * 30 + "7"]),
}


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries(CELLS), max_size=20))
def test_cli_results_equal_the_reference_row_by_row(rows, tmp_path_factory):
    from terrl.pipeline import check_source
    from terrl.targets.reference import assign_reference

    folder = tmp_path_factory.mktemp("e2e")
    (folder / "fy.terr").write_text(MODEL, encoding="utf-8")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(CELLS))
    for row in rows:
        writer.writerow([row[c] for c in CELLS])
    (folder / "in.csv").write_text(out.getvalue(), encoding="utf-8", newline="")
    result = run_cli(["assign", str(folder / "fy.terr"), str(folder / "in.csv"), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    model = next(iter(check_source(MODEL, "fy.terr", stop_after="resolve").programs.values())).models[0]
    assert [line["row"] for line in lines] == list(range(1, len(rows) + 1))
    first_row: dict = {}
    for number, (row, line) in enumerate(zip(rows, lines), 1):
        account = {k: (v or None) for k, v in row.items()}
        status, territories, titles, owners, reason = assign_reference(model, account)
        key = (row["id"] or "").strip()
        if key and first_row.setdefault(key, number) != number:  # a repeated key is marked in the reason
            marker = f"duplicate key: also on row {first_row[key]}"
            reason = f"{reason}; {marker}" if reason else marker
        assert (line["status"], line["territories"], line["titles"], line["owners"], line["reason"]) == \
            (status, list(territories), list(titles), list(owners), reason)
        assert line["key"] == (row["id"] or None)
