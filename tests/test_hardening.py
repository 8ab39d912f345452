"""Issue 15: inputs that made terrl stall or crash after `check` accepted them.

Each test here failed on the code before its fix (the numbers: 5,000-digit values were
converted in full and accepted; now a number longer than MAX_NUMBER_CHARS is `invalid`
with one reason, word for word the same in the reference, the generated module and SQL).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from terrl.pipeline import check_source
from terrl.semantics.coerce import MAX_NUMBER_CHARS, coerce_account
from terrl.targets.evaluate import compile_model
from terrl.targets.reference import assign_reference

from support import run_cli
from test_sql_engine import SMALL_MODEL, run_engines

MODEL = """\
schema Account {
  id: string key
  n:  int?
  d:  decimal?
}

model M { keep }
"""

TOO_LONG = f"is too long for a number (more than {MAX_NUMBER_CHARS} characters or digits)"


def _model(source: str = MODEL):
    result = check_source(source, "m.terr")
    assert result.ok, result.diagnostics
    return result.models[0]


@pytest.mark.parametrize("raw", [
    "9" * 5000,                    # text: a CSV cell
    "-" + "1" * MAX_NUMBER_CHARS,   # one character over
    "0." + "0" * 2000 + "1",
    Decimal("1E+5000"),            # typed: a JSON number (parse_float=Decimal)
    Decimal("1E-5000"),
    10 ** 5000,                    # typed: a Python int
], ids=["text", "one-over", "long-fraction", "exp-high", "exp-low", "python-int"])
@pytest.mark.parametrize("field", ["n", "d"])
def test_a_number_too_long_is_invalid_in_every_engine(raw, field):
    model = _model()
    account = {"id": "A", field: raw}
    _, reason = coerce_account(model.schema, account)
    assert reason is not None and reason.endswith(TOO_LONG), reason
    assert compile_model(model).assign(account).reason == reason
    assert assign_reference(model, account)[4] == reason


@pytest.mark.parametrize("raw", ["9" * MAX_NUMBER_CHARS, "-" + "9" * (MAX_NUMBER_CHARS - 1), Decimal("1E+998"), 10 ** 999 - 1],
                         ids=["text", "negative", "exp", "python-int"])
def test_a_number_at_the_limit_is_read(raw):
    model = _model()
    account = {"id": "A", "n": raw}
    values, reason = coerce_account(model.schema, account)
    assert reason is None and values["n"] == int(raw)
    assert compile_model(model).assign(account).status == "unassigned"


def test_a_huge_json_exponent_is_invalid_and_the_key_is_written(tmp_path):
    """Issue item 1: a 43-byte line stalled both engines (int(Decimal('1E+999999999')))."""
    (tmp_path / "m.terr").write_text(MODEL.replace("id: string key", "id: decimal key"))
    source = tmp_path / "a.jsonl"
    source.write_text('{"id":1e999999999,"n":1e999999999}\n{"id":2,"n":3}\n')
    outs = {}
    for engine in ("python", "duckdb"):
        result = run_cli(["assign", str(tmp_path / "m.terr"), str(source), "--format", "jsonl", "--engine", engine])
        assert result.exit_code == 0, result.output
        outs[engine] = result.output
    assert outs["python"] == outs["duckdb"]
    first = json.loads(outs["python"].splitlines()[0])
    assert first["status"] == "invalid" and TOO_LONG in first["reason"]


def test_a_long_digit_cell_is_invalid_alike_in_both_engines(tmp_path):
    """Issue item 2: a long cell of digits in an int column (quadratic before)."""
    (tmp_path / "m.terr").write_text(SMALL_MODEL)
    data = (b"id,name,country,employees\nL1,x,US," + b"7" * 20_000 + b"\nL2,x,US,-" + b"0" * 1000
            + b"\nL3,x,US,1" + b"0" * 999 + b"\n")
    runs = run_engines(tmp_path, str(tmp_path / "m.terr"), data)
    assert runs["duckdb"] == runs["python"]
    text = runs["python"][1].decode()
    assert text.count(TOO_LONG) == 2, text
    assert "\n3,L3,assigned," in text.replace("\r\n", "\n")


# --- items 3, 4: text that no encoder writes ---------------------------------------------------

STRING_MODEL = """\
schema A {{
  id: string key
  s:  string?
}}

model M {{
  keep
  territory t {{ where {where} owner "o@example.com" as AE }}
}}
"""


@pytest.mark.parametrize("text", [r'"x\ud800"', r'"\udc00"', r'"a\ude00b"'])
def test_a_lone_surrogate_escape_is_rejected_where_it_is_written(text):
    source = STRING_MODEL.format(where=f"s == {text}")
    result = check_source(source, "m.terr")
    assert [d.code for d in result.diagnostics] == ["E006"]
    d = result.diagnostics[0]
    assert "surrogate" in d.message and d.span.start_line_col == (8, 28)


def test_a_surrogate_pair_escape_is_one_character_and_compiles(tmp_path):
    path = tmp_path / "m.terr"
    path.write_text(STRING_MODEL.format(where=r's == "\ud83d\ude00"'), encoding="utf-8")
    for args in (["check"], ["compile", "--target", "json"], ["compile", "--target", "sql"]):
        result = run_cli([*args, str(path)])
        assert result.exit_code == 0, (args, result.output)


def test_a_test_name_with_a_lone_surrogate_is_rejected():
    result = check_source('schema A {\n  id: string key\n}\nmodel M { keep }\n'
                          'test "t\\udc00" { account { id: "x" } expect M: unassigned }\n', "m.terr")
    assert [d.code for d in result.diagnostics] == ["E006"]


def test_startswith_the_last_character_before_the_surrogates(tmp_path):
    """Item 4: the next prefix after U+D7FF is U+E000 (U+D800 is no character)."""
    path = tmp_path / "m.terr"
    path.write_text(STRING_MODEL.format(where=r's startswith "\ud7ff"'), encoding="utf-8")
    for args in (["compile", "--target", "json"], ["compile", "--target", "sql"], ["compile", "--target", "python"],
                 ["docs", "-o", str(tmp_path / "docs")]):
        result = run_cli([*args, str(path)])
        assert result.exit_code == 0, (args, result.output)
    model = _model(STRING_MODEL.format(where=r's startswith "\ud7ff"'))
    evaluator = compile_model(model)
    for s, status in [("\ud7ff", "assigned"), ("\ud7ffz", "assigned"), ("\ud7fe\U0010ffff", "unassigned"),
                      ("\ue000", "unassigned"), (None, "unassigned")]:
        assert evaluator.assign({"id": "A", "s": s}).status == status, s
        assert assign_reference(model, {"id": "A", "s": s})[0] == status, s


# --- item 8: a FIFO named like a source file ----------------------------------------------------

@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_named_terr_is_reported_not_read(tmp_path):
    import os
    (tmp_path / "ok.terr").write_text(MODEL)
    os.mkfifo(tmp_path / "x.terr")  # opening it for reading would wait for a writer forever
    result = run_cli(["check", str(tmp_path)])
    assert result.exit_code == 2 and "x.terr`: not a regular file" in result.output, result.output


# --- item 10: JSON Lines read like CSV -----------------------------------------------------------

@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"], ids=["empty", "bom-only"])
def test_an_empty_json_lines_file_is_a_usage_error_like_an_empty_csv(tmp_path, engine, data):
    (tmp_path / "m.terr").write_text(MODEL)
    (tmp_path / "a.jsonl").write_bytes(data)
    (tmp_path / "a.csv").write_bytes(data)
    for name in ("a.jsonl", "a.csv"):
        result = run_cli(["assign", str(tmp_path / "m.terr"), str(tmp_path / name), "--engine", engine])
        assert result.exit_code == 2 and "is empty" in result.output, (name, result.output)


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize("end", [b"\r", b"\r\n", b"\n"], ids=["cr", "crlf", "lf"])
def test_json_lines_take_every_line_end_the_csv_reader_takes(tmp_path, engine, end):
    (tmp_path / "m.terr").write_text(MODEL)
    lines = [b'{"id":"a","n":1}', b'{"id":"b","s\\r":"x\\ry"}', b"", b'{"id":"c"}']
    (tmp_path / "a.jsonl").write_bytes(end.join(lines) + end)
    (tmp_path / "a.csv").write_bytes(end.join([b"id,n", b"a,1", b"b,", b"", b"c,"]) + end)
    outputs = {}
    for name in ("a.jsonl", "a.csv"):
        result = run_cli(["assign", str(tmp_path / "m.terr"), str(tmp_path / name), "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs[name] = result.output
    summary = "3 accounts: 0 assigned, 3 unassigned, 0 invalid; 1 blank line skipped"
    assert outputs["a.csv"].splitlines()[-1] == outputs["a.jsonl"].splitlines()[-1] == summary, outputs
    rows = [json.loads(line) for line in outputs["a.jsonl"].splitlines()[:-1]]
    assert [(r["row"], r["key"], r["status"]) for r in rows] == [(1, "a", "unassigned"), (2, "b", "unassigned"),
                                                                 (3, "c", "unassigned")]


# --- item 12: messages that say what is meant ----------------------------------------------------

def test_an_empty_digits_prefix_asks_for_one_digit_or_more():
    result = check_source('schema A {\n  id: string key\n  z: digits(3)?\n}\nmodel M { keep\n'
                          '  territory t { where z startswith "" owner "o@x" as AE }\n}\n', "m.terr")
    assert [d.code for d in result.diagnostics] == ["E103"]
    assert 'a prefix of it is 1 to 3 digits, not ""' in result.diagnostics[0].message


def test_e120_says_it_covers_unassigned_expectations():
    from terrl.diagnostics.core import CODES
    result = check_source('schema A {\n  id: string key\n  n: int\n}\nmodel M { keep }\n'
                          'test "t" { account { id: "x" } expect M: unassigned }\n', "m.terr")
    assert [d.code for d in result.diagnostics] == ["E120"]
    assert "`unassigned`" in CODES["E120"].summary


# --- item 5: number literals are bounded where they are written ----------------------------------

def test_a_huge_number_literal_is_rejected_at_the_literal():
    from terrl.syntax.parser import MAX_NUMBER_DIGITS
    source = STRING_MODEL.replace("s:  string?", "n:  int?").format(where="n > 1" + "0" * 4400)
    result = check_source(source, "m.terr")
    assert [d.code for d in result.diagnostics] == ["E006"]
    assert result.diagnostics[0].span.start_line_col == (8, 27)  # the literal after `n > `
    assert f"up to {MAX_NUMBER_DIGITS} digits" in result.diagnostics[0].message


def test_the_longest_number_literal_is_exact_and_every_engine_takes_it(tmp_path):
    """36 digits (with a suffix too) are read exactly, not rounded to Decimal's default 28."""
    from terrl.syntax.parser import MAX_NUMBER_DIGITS
    big = "9" * (MAX_NUMBER_DIGITS - 1) + "8"
    path = tmp_path / "m.terr"
    path.write_text(STRING_MODEL.replace("s:  string?", "n:  decimal?").format(where=f"n > {big} or n < -{big[:-9]}B"))
    model = _model(path.read_text())
    for n, status in [(big, "unassigned"), (big[:-1] + "9", "assigned"), ("-" + big[:-9] + "000000000", "unassigned"),
                      ("-" + big[:-9] + "000000000.1", "assigned")]:
        assert compile_model(model).assign({"id": "A", "n": n}).status == status, n
        assert assign_reference(model, {"id": "A", "n": n})[0] == status, n
    (tmp_path / "a.csv").write_text(f"id,n\nA,{big}\nB,{big[:-1]}9\n")
    outs = [run_cli(["assign", str(path), str(tmp_path / "a.csv"), "--engine", e]) for e in ("python", "duckdb")]
    assert outs[0].exit_code == outs[1].exit_code == 0 and outs[0].output == outs[1].output, outs[1].output
    for args in (["compile", "--target", "json"], ["compile", "--target", "sql"], ["docs", "-o", str(tmp_path / "d")]):
        assert run_cli([*args, str(path)]).exit_code == 0, args


# --- item 7: fmt and a comment inside a field type ------------------------------------------------

@pytest.mark.parametrize("field, comment", [("f0: int in # c\n 0..5?", "# c"), ("f0: int in 0.. # c\n 5?", "# c"),
                                            ("f0: int in 0..# c\n5 ?", "# c"), ("f0: int## doc\n in 0..5?", "## doc")])
def test_fmt_keeps_a_comment_inside_a_field_type(tmp_path, field, comment):
    path = tmp_path / "m.terr"
    path.write_text(f"schema A {{\n  id: string key\n  {field}\n}}\n\nmodel M {{ keep }}\n")
    first = run_cli(["fmt", str(path)])
    assert first.exit_code == 0, first.output
    assert path.read_text() == f"schema A {{\n  id: string key\n  f0: int? in 0..5  {comment}\n}}\n\nmodel M {{ keep }}\n"
    assert run_cli(["fmt", "--check", str(path)]).exit_code == 0
