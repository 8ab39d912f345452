"""`terrl explain MODEL --accounts FILE --key ID | --row N` (issue 18): one row of an account file,
explained as `terrl assign` reads and assigns it."""

from __future__ import annotations

import csv
import io
import re
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
  territory intl "International" { where country == DE }
}
"""

ACCOUNTS = ("id,country,state,employees\n"
            "A1,US,CA,10\n"
            "A2,DE,,5\n"
            "A2,US,NY,5\n"
            ",US,NY,5\n"
            '"A5,US\n'
            "A6,XX,,5\n")


def _project(tmp_path, monkeypatch):
    make_project(tmp_path, {"fy.terr": MODEL, "accounts.csv": ACCOUNTS}, monkeypatch=monkeypatch, config="")


def test_a_row_picked_by_key_is_explained_as_if_given_inline(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    from_file = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--key", "A1"])
    assert from_file.exit_code == 0, from_file.output
    inline = run_cli(["explain", "fy.terr", "--account",
                      json.dumps({"id": "A1", "country": "US", "state": "CA", "employees": "10"})])
    head, rest = from_file.stdout.split("\n", 1)
    assert head == 'accounts.csv:2: row 1, key "A1"'
    assert rest == inline.stdout
    assert "taken      west" in rest and "result: assigned\n  na.west" in rest


def test_a_repeated_key_explains_the_first_row_and_says_so(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    result = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--key", "A2"])
    assert result.exit_code == 0
    assert result.stdout.startswith('accounts.csv:3: row 2, key "A2"\n') and "intl" in result.stdout
    assert 'key "A2" is on rows 2 and 3 of accounts.csv; explaining row 2 (pick another with --row N)' in result.stderr
    by_row = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--row", "3"])
    assert by_row.stdout.startswith('accounts.csv:4: row 3, key "A2"\n') and "na.east" in by_row.stdout


def test_rows_that_cannot_be_assigned_say_why_as_assign_does(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    no_key = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--row", "4"]).stdout
    assert no_key.startswith("accounts.csv:5: row 4, no key\n") and "reason: missing required field `id`" in no_key
    unreadable = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--row", "5"]).stdout
    assert "result: invalid" in unreadable and "a quoted cell is never closed" in unreadable
    unknown = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--key", "A6"]).stdout
    assert "'XX' is not a member" in unknown


def test_mistakes_in_the_options_and_the_file(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    missing = run_cli(["explain", "fy.terr", "--accounts", "accounts.csv", "--key", "Z9"])
    assert missing.exit_code == 2
    assert 'accounts.csv: no account with `id` "Z9" among its 6 accounts' in missing.stderr
    assert "has no row 99: it holds 6 accounts" in run_cli(
        ["explain", "fy.terr", "--accounts", "accounts.csv", "--row", "99"]).stderr
    for args, message in [
        (["--accounts", "accounts.csv"], "say which row: --key ID or --row N"),
        (["--accounts", "accounts.csv", "--key", "A1", "--row", "1"], "say which row: --key ID or --row N"),
        (["--key", "A1"], "--key and --row pick a row of --accounts FILE"),
        ([], "either --account JSON or --accounts FILE"),
        (["--account", "{}", "--accounts", "accounts.csv", "--row", "1"], "either --account JSON or --accounts FILE"),
    ]:
        result = run_cli(["explain", "fy.terr", *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    (tmp_path / "bad.csv").write_text("id,country\nA1,US\n", encoding="utf-8")
    bad = run_cli(["explain", "fy.terr", "--accounts", "bad.csv", "--key", "A1"])
    assert bad.exit_code == 2 and "missing required column(s) `employees`" in bad.stderr
    assert "cannot read nope.csv" in run_cli(["explain", "fy.terr", "--accounts", "nope.csv", "--row", "1"]).stderr
    keyless = MODEL.replace("id:        string key", "id:        string")
    (tmp_path / "keyless.terr").write_text(keyless, encoding="utf-8")
    result = run_cli(["explain", "keyless.terr", "--accounts", "accounts.csv", "--key", "A1"])
    assert result.exit_code == 2 and "has no `key` field" in result.stderr and "--row N" in result.stderr
    assert run_cli(["explain", "keyless.terr", "--accounts", "accounts.csv", "--row", "1"]).exit_code == 0


def test_json_lines_keys_are_compared_as_json_writes_them(tmp_path, monkeypatch):
    _project(tmp_path, monkeypatch)
    (tmp_path / "a.jsonl").write_text('{"id": "7", "country": "CA", "employees": 3}\n'
                                      '{"id": 7, "country": "DE", "employees": 3}\n', encoding="utf-8")
    result = run_cli(["explain", "fy.terr", "--accounts", "a.jsonl", "--key", "7"])
    assert result.stdout.startswith('a.jsonl:1: row 1, key "7"\n') and "na.rest" in result.stdout
    assert "is on rows 1 and 2" in result.stderr


CELLS = {"id": st.sampled_from(["A1", "A2", "", "=x", "a,b"]), "country": st.sampled_from(["US", "CA", "DE", "XX", ""]),
         "state": st.sampled_from(["CA", "WA", "NY", "", "ny"]), "employees": st.sampled_from(["0", "999", "1000", "-1", "x", ""])}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=6), st.data())
def test_explaining_a_row_ends_as_assign_assigns_it(tmp_path_factory, rows, data):
    """The reference walk that `explain` shows, on a row read from a file, ends where the compiled
    evaluator of `terrl assign` puts the same row."""
    folder = tmp_path_factory.mktemp("explain")
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(CELLS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    make_project(folder, {"fy.terr": MODEL, "accounts.csv": text.getvalue()}, config="")
    assigned = list(csv.DictReader(io.StringIO(run_cli(["assign", str(folder / "fy.terr"),
                                                        str(folder / "accounts.csv")]).stdout)))
    n = data.draw(st.integers(1, len(rows)))
    out = run_cli(["explain", str(folder / "fy.terr"), "--accounts", str(folder / "accounts.csv"),
                   "--row", str(n)]).stdout
    result = out.split("\nresult: ", 1)[1].splitlines()
    expected = assigned[n - 1]
    assert result[0] == expected["status"]
    paths = [line.split()[0] for line in result[1:] if line.startswith("  ") and not line.startswith(("  owners:", "  reason:"))]
    assert ";".join(paths) == expected["territories"]
    reason = next((line[len("  reason: "):] for line in result if line.startswith("  reason: ")), "")
    # `assign` also marks a key repeated in the file (a fact of the file, not of the row's walk)
    assert reason == re.sub(r"(; )?duplicate key: also on row \d+$", "", expected["reason"])
