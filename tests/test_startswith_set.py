"""`field startswith {"940", "941"}` (issue 18 item 11): from the user's side (check, assign,
fmt), its lowering, its errors, and every evaluator against the reference on random prefix
sets written in source."""

from __future__ import annotations

import json

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terrl.pipeline import check_source
from terrl.semantics import ir
from terrl.syntax.fmt import format_source
from terrl.diagnostics.source import SourceFile
from terrl.targets.evaluate import compile_model
from terrl.targets.reference import assign_reference

from support import create_table, expected_rows, insert, make_project, run_cli, run_query

SCHEMA = """
schema Account {
  id: string key
  zip: digits(5)?
  name: string?
  employees: int in 0..
}
"""


def model_of(where: str) -> ir.Model:
    result = check_source(SCHEMA + f"model M {{ keep  territory t {{ where {where} }} }}\n", "s.terr",
                          stop_after="resolve")
    assert not [d for d in result.diagnostics if d.is_error], [d.message for d in result.diagnostics]
    (program,) = result.programs.values()
    return program.models[0]


def errors_of(where: str) -> list[tuple[str, int, int, str]]:
    text = SCHEMA + f"model M {{ keep  territory t {{ where {where} }} }}\n"
    result = check_source(text, "s.terr", stop_after="resolve")
    out = []
    for d in result.diagnostics:
        if d.is_error:
            line, column = d.span.file.line_col(d.span.start)
            out.append((d.code, line, column, d.message))
    return out


def test_a_set_of_prefixes_means_the_or_of_one_startswith_each():
    written = model_of('zip startswith {"940", "941", "9450"}').territories[0].where
    chain = model_of('zip startswith "940" or zip startswith "941" or zip startswith "9450"').territories[0].where
    assert written == chain  # the same meaning; only the provenance differs
    assert isinstance(written, ir.Or) and written.written == "startswith" and chain.written == "or"
    assert [(a.prefix, a.text) for a in written.operands] == [("940", '"940"'), ("941", '"941"'), ("9450", '"9450"')]
    # one prefix is a set of one
    single = model_of('name startswith {"Ac"}').territories[0].where
    assert single == ir.Or((ir.StartsWith("name", "Ac"),))


def test_errors_say_where_and_what_to_write():
    column = len("model M { keep  territory t { where zip startswith ") + 1
    line = SCHEMA.count("\n") + 1
    assert errors_of("zip startswith {}") == [
        ("E103", line, column, "`startswith {}` lists no prefix, so it matches nothing")]
    assert errors_of('zip startswith {"94", 95, "9400000"}') == [
        ("E103", line, column + 7, "`startswith` takes a quoted prefix"),
        ("E103", line, column + 11, '`zip` holds 5 digits; a prefix of it is 1 to 5 digits, not "9400000"')]
    assert [e[0] for e in errors_of('employees startswith {"1"}')] == ["E105"]


def test_from_the_command_line(tmp_path):
    text = SCHEMA + """
model M {
  territory bay "Bay" { where zip startswith {"940", "941"}  owner "a@x.example" as AE }
  territory south "South" { where zip startswith {"90", "91"}  owner "b@x.example" as AE }
  territory rest "Rest" { else  owner "c@x.example" as AE }
}
"""
    root = make_project(tmp_path, {"m.terr": text, "accounts.csv": "id,zip,name,employees\n1,94105,,5\n2,91000,,5\n3,,,5\n"})
    assert run_cli(["check", str(root / "m.terr")]).exit_code == 0
    result = run_cli(["assign", str(root / "m.terr"), str(root / "accounts.csv"), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [row["territories"] for row in rows] == [["bay"], ["south"], ["rest"]]
    # an overlap inside the set of one territory and another's is found exactly, with a witness
    overlapping = text.replace('{"90", "91"}', '{"90", "9412"}')
    (root / "m.terr").write_text(overlapping, encoding="utf-8")
    result = run_cli(["check", str(root / "m.terr"), "--format", "json"])
    assert result.exit_code == 1 and '"zip": "94120"' in result.output


def test_fmt_keeps_the_set_and_breaks_it_when_long():
    prefixes = ", ".join(f'"{p:03d}"' for p in range(40))
    text = SCHEMA + f"model M {{ territory t {{ where zip startswith {{{prefixes}}} and employees > 5 }} }}\n"
    out = format_source(SourceFile("f.terr", text)).text
    assert out is not None and max(map(len, out.splitlines())) <= 100
    assert "    where zip startswith {" in out.splitlines() and '      "039",' in out.splitlines()
    assert format_source(SourceFile("f.terr", out)).text == out


_PREFIXES = st.lists(st.text("0123456789", min_size=1, max_size=3), min_size=1, max_size=8)
_ZIPS = st.one_of(st.none(), st.text("0123456789", min_size=5, max_size=5),
                  st.sampled_from(["94000", "94099", "94100", "94999", "95000", "00000", "99999"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefixes=_PREFIXES, others=_PREFIXES, negate=st.booleans(), zips=st.lists(_ZIPS, min_size=1, max_size=20))
def test_every_evaluator_agrees_with_the_reference_on_sets_written_in_source(prefixes, others, negate, zips):
    def written(ps):
        return "{" + ", ".join(f'"{p}"' for p in ps) + "}"
    first = f"zip startswith {written(prefixes)}"
    where_a = f"not ({first})" if negate else first
    text = SCHEMA + f"""
model M {{
  policy all
  keep
  territory a {{ where {where_a} }}
  territory b {{ where zip startswith {written(others)} or employees > 5 }}
}}
"""
    result = check_source(text, "d.terr", stop_after="resolve")
    assert not [d for d in result.diagnostics if d.is_error]
    model = next(iter(result.programs.values())).models[0]
    accounts = [{"id": str(i), "zip": z, "name": None, "employees": i % 10} for i, z in enumerate(zips)]
    evaluator = compile_model(model)
    for account in accounts:
        r = evaluator.assign(account)
        assert (r.status, tuple(r.territories)) == assign_reference(model, account)[:2], account
    con = duckdb.connect()
    try:
        cursor = con.cursor()
        create_table(cursor, "duckdb", model.schema, "accounts", text=False)
        insert(cursor, "duckdb", model.schema, "accounts", accounts)
        assert run_query(cursor, model, "duckdb", "accounts", "typed") == expected_rows(model, accounts)
    finally:
        con.close()
