"""Issue 15: inputs that made terrl stall or crash after `check` accepted them.

Each test here failed on the code before its fix (the numbers: 5,000-digit values were
converted in full and accepted; now a number longer than MAX_NUMBER_CHARS is `invalid`
with one reason, word for word the same in the reference, the generated module and SQL).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

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


# --- item 6: chains of segments and sets, nesting through names --------------------------------

from terrl.semantics.resolve import MAX_CHAIN  # noqa: E402
from terrl.syntax.parser import MAX_NESTING  # noqa: E402

CHAIN_HEAD = "schema A {\n  id: string key\n  n: int?\n}\n\n"


def _chain_model(decls: list[str], where: str, n: int) -> str:
    """A model with one territory `t` taking `where`, and a test that an account with `n` lands on it."""
    return (CHAIN_HEAD + "".join(decls) + '\nmodel M {\n  keep\n\n  territory t {\n    where ' + where +
            '\n    owner "o@example.com" as AE\n  }\n}\n\n'
            f'test "deep" {{\n  account {{ id: "x", n: {n} }}\n  expect M: t\n}}\n')


def _segment_chain(length: int, first: str = "n > 0") -> list[str]:
    return [f"segment s1 = {first}\n"] + [f"segment s{i} = s{i - 1} and n > {i}\n" for i in range(2, length + 1)]


def _set_chain(length: int) -> list[str]:
    return ["set t1: int = {1}\n"] + [f"set t{i}: int = t{i - 1} + {{{i}}}\n" for i in range(2, length + 1)]


def _deepest_expression() -> str:
    """MAX_NESTING - 1 parentheses, each around an `and` (the most nodes per level)."""
    depth = MAX_NESTING - 1
    return "".join(f"(n > {k} and " for k in range(depth)) + "n > 0" + ")" * depth


def _every_command(tmp_path: Path, path: Path) -> dict[str, object]:
    """Every command that reads a model, on `path`: name -> click Result."""
    (tmp_path / "a.csv").write_text(f"id,n\nx,{10 ** 6}\ny,\n")
    runs = {"check": ["check", str(path)], "test": ["test", str(path)],
            "docs": ["docs", str(path), "-o", str(tmp_path / "docs")],
            "explain": ["explain", str(path), "--account", '{"id": "x", "n": 1000000}']}
    for target in ("python", "json"):
        runs[f"compile-{target}"] = ["compile", str(path), "--target", target, "-o", str(tmp_path / "out")]
    for dialect in ("duckdb", "postgres", "spark", "bigquery", "snowflake"):
        runs[f"sql-{dialect}"] = ["compile", str(path), "--target", "sql", "--dialect", dialect,
                                  "-o", str(tmp_path / "out.sql")]
    for engine in ("python", "duckdb"):
        runs[f"assign-{engine}"] = ["assign", str(path), str(tmp_path / "a.csv"), "--engine", engine,
                                    "-o", str(tmp_path / f"r-{engine}.csv")]
    return {name: run_cli(args) for name, args in runs.items()}


@pytest.mark.parametrize("shape", ["segments", "sets", "segments-deepest", "segments-then-sets"])
def test_a_chain_at_the_limit_works_in_every_command(tmp_path, shape):
    """MAX_CHAIN names in a chain, with as many levels as allowed: exit 0 everywhere (400 crashed before)."""
    if shape == "segments":
        source = _chain_model(_segment_chain(MAX_CHAIN), f"s{MAX_CHAIN}", 10 ** 6)
    elif shape == "sets":
        source = _chain_model(_set_chain(MAX_CHAIN), f"n in t{MAX_CHAIN}", MAX_CHAIN)
    elif shape == "segments-deepest":  # the chain and the nesting both at their limits
        source = _chain_model(_segment_chain(MAX_CHAIN, _deepest_expression()), f"s{MAX_CHAIN}", 10 ** 6)
    else:  # half segments, then half sets: the chain counts both
        half = MAX_CHAIN // 2
        decls = _set_chain(half) + _segment_chain(half, f"n in t{half} or n > 1000")
        source = _chain_model(decls, f"s{half}", 10 ** 6)
    path = tmp_path / "m.terr"
    path.write_text(source)
    fmt = run_cli(["fmt", str(path)])
    assert fmt.exit_code == 0, fmt.output
    for name, result in _every_command(tmp_path, path).items():
        assert result.exit_code == 0, (name, result.output[-500:])
    assert "1 passed" in run_cli(["test", str(path)]).output
    assert (tmp_path / "r-python.csv").read_bytes() == (tmp_path / "r-duckdb.csv").read_bytes()


@pytest.mark.parametrize("shape", ["segments", "sets", "sets-declared-last-first"])
def test_one_name_past_the_limit_is_e128_at_the_reference(tmp_path, shape):
    n = MAX_CHAIN + 1
    if shape == "segments":
        source = _chain_model(_segment_chain(n), f"s{n}", 10 ** 6)
        # resolved from the territory down: the 51st name is `s1`, used in `s2`
        expected = (f"segment `s{n}` is defined through more than {MAX_CHAIN} segments; the limit is {MAX_CHAIN}",
                    "segment s2 = s1", "s1")
    elif shape == "sets":
        source = _chain_model(_set_chain(n), f"n in t{n}", 5)
        # sets are resolved in declaration order: `t{n}` reuses `t{n-1}`, whose chain is known
        expected = (f"set `t{n}` is defined through {n} sets; the limit is {MAX_CHAIN}", f"set t{n}: int", f"t{n - 1}")
    else:
        source = _chain_model(list(reversed(_set_chain(n))), f"n in t{n}", 5)
        expected = (f"set `t{n}` is defined through more than {MAX_CHAIN} sets; the limit is {MAX_CHAIN}",
                    "set t2: int", "t1")
    result = check_source(source, "m.terr")
    assert [d.code for d in result.diagnostics] == ["E128"], result.diagnostics
    d = result.diagnostics[0]
    message, line_start, reference = expected
    assert d.message == message
    line = source.splitlines()[d.span.start_line_col[0] - 1]
    assert line.startswith(line_start) and d.span.text == reference, (line, d.span.text)
    assert "chain: " in d.notes[0]


def test_one_name_past_the_limit_stops_every_command_with_the_diagnostic(tmp_path):
    path = tmp_path / "m.terr"
    path.write_text(_chain_model(_segment_chain(MAX_CHAIN + 1), f"s{MAX_CHAIN + 1}", 10 ** 6))
    for name, result in _every_command(tmp_path, path).items():
        assert result.exit_code == 1 and "E128" in result.output, (name, result.exit_code, result.output[-500:])
    assert run_cli(["fmt", str(path)]).exit_code == 0  # fmt does not resolve names


def test_the_400_segment_and_3000_set_chains_of_the_issue_are_e128(tmp_path):
    for source in (_chain_model(_segment_chain(400), "s400", 10 ** 6), _chain_model(_set_chain(3000), "n in t3000", 5)):
        path = tmp_path / "m.terr"
        path.write_text(source)
        for name in ("check", "docs"):
            args = [name, str(path)] + (["-o", str(tmp_path / "docs")] if name == "docs" else [])
            result = run_cli(args)
            assert result.exit_code == 1 and "E128" in result.output, (name, result.output[-300:])


def test_nesting_through_names_is_bounded_like_nesting_in_one_expression():
    """`not not (s and ...)` adds 3 levels per name: 34 names nest 99 levels, 35 go past MAX_NESTING."""
    def chain(length: int) -> str:
        decls = ["segment s1 = n > 0\n"] + [f"segment s{i} = not not (s{i - 1} and n > {i})\n" for i in range(2, length + 1)]
        return _chain_model(decls, f"s{length}", 10 ** 6)

    assert check_source(chain(34), "m.terr").ok
    result = check_source(chain(35), "m.terr")
    assert [d.code for d in result.diagnostics] == ["E128"]
    assert result.diagnostics[0].message == (f"through segment `s2`, segment `s35` is nested more than {MAX_NESTING} "
                                             f"levels deep; the limit is {MAX_NESTING}")


@pytest.mark.parametrize("where", [
    "(" + ("not " * 60 + "(") + "not " * 60 + "n > 0))",      # 122 levels of `not` and `(`: crashed every command
    "n in " + " + ".join("{%d}" % i for i in range(MAX_NESTING + 2)),  # 101 set operators in a row
    "(" * 30 + "not " * 80 + "n > 0" + ")" * 30,
], ids=["nots-in-parens", "set-operators", "parens-and-nots"])
def test_an_expression_nested_too_deep_is_e005_and_fmt_says_so(tmp_path, where):
    source = _chain_model([], where, 1)
    result = check_source(source, "m.terr")
    assert [d.code for d in result.diagnostics] == ["E005"], result.diagnostics
    assert f"nested more than {MAX_NESTING} levels deep" in result.diagnostics[0].message
    assert result.diagnostics[0].span.start_line_col[0] == 11  # the `where` line
    path = tmp_path / "m.terr"
    path.write_text(source)
    for args in (["fmt", str(path)], ["docs", str(path), "-o", str(tmp_path / "d")]):
        out = run_cli(args)
        assert out.exit_code == 1 and "E005" in out.output, (args, out.output[-300:])


# --- item 11: formulas in CSV output -------------------------------------------------------------

FORMULA_MODEL = """\
schema A {
  id: string key
  n:  int?
}

model M {
  keep

  territory t "=HYPERLINK(\\"http://x.example\\",\\"x\\")" {
    where n > 0
    owner "@evil" as AE
    owner "-sub@x.example" as SE
  }

  territory u "+Plus" {
    where n < 0
    owner "\\tx@x.example" as AE
  }
}
"""

FORMULA_KEYS = ["=1+1", "+cmd", "-5", "@SUM(A1)", "\tk", "\rk", "safe", "5"]


def _formula_runs(tmp_path: Path, *flags: str, fmt: str = "csv", suffix: str = "csv") -> dict[str, bytes]:
    (tmp_path / "m.terr").write_text(FORMULA_MODEL)
    if suffix == "csv":
        rows = "".join(f'"{k}",{n}\r\n' for k, n in zip(FORMULA_KEYS, [1, -1, 1, -1, 1, 0, 1, 0]))
        (tmp_path / "a.csv").write_bytes(("id,n\r\n" + rows).encode())
    else:
        lines = [{"id": k, "n": n} for k, n in zip(FORMULA_KEYS, [1, -1, 1, -1, 1, 0, 1, 0])] + [{"id": -5, "n": 1}]
        (tmp_path / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = {}
    for engine in ("python", "duckdb"):
        target = tmp_path / f"r-{engine}.{fmt}"
        result = run_cli(["assign", str(tmp_path / "m.terr"), str(tmp_path / f"a.{suffix}"),
                                          "--engine", engine, "--format", fmt, "-o", str(target), *flags])
        assert result.exit_code == 0, result.output
        out[engine] = target.read_bytes()
    assert out["python"] == out["duckdb"]
    return out


def test_csv_output_escapes_cells_a_spreadsheet_would_run(tmp_path):
    text = _formula_runs(tmp_path)["python"].decode()
    lines = text.split("\r\n")
    assert lines[1] == ("1,'=1+1,assigned,t,\"'=HYPERLINK(\"\"http://x.example\"\",\"\"x\"\")\","
                        "'@evil;-sub@x.example,")
    assert lines[2] == "2,'+cmd,assigned,u,'+Plus,'\tx@x.example,"
    assert lines[3].startswith("3,'-5,assigned,")  # OWASP: a leading `-` too, a negative number included
    assert lines[4].startswith("4,'@SUM(A1),assigned,u,'+Plus,")
    assert lines[5].startswith("5,'\tk,assigned,")
    assert lines[6].startswith("6,\"'\rk\",unassigned,")
    assert lines[7].startswith("7,safe,assigned,") and lines[8].startswith("8,5,unassigned,")


def test_no_escape_formulas_writes_cells_verbatim(tmp_path):
    text = _formula_runs(tmp_path, "--no-escape-formulas")["python"].decode()
    lines = text.split("\r\n")
    assert lines[1] == '1,=1+1,assigned,t,"=HYPERLINK(""http://x.example"",""x"")",@evil;-sub@x.example,'
    assert lines[3].startswith("3,-5,assigned,") and lines[6].startswith('6,"\rk",unassigned,')
    assert "'" not in text


def test_json_lines_output_never_changes_and_a_json_number_key_is_not_text(tmp_path):
    escaped = _formula_runs(tmp_path, fmt="jsonl", suffix="jsonl")["python"]
    verbatim = _formula_runs(tmp_path, "--no-escape-formulas", fmt="jsonl", suffix="jsonl")["python"]
    assert escaped == verbatim
    rows = [json.loads(line) for line in escaped.decode().splitlines()]
    assert [r["key"] for r in rows] == [*FORMULA_KEYS, -5] and rows[0]["titles"][0].startswith("=")
    csv_text = _formula_runs(tmp_path, suffix="jsonl")["python"].decode()
    assert csv_text.split("\r\n")[9].startswith("9,-5,invalid,")  # a number (invalid for `id`), not a text cell


# --- item 9: reasons quote raw values alike in SQL and Python -------------------------------------

import csv as _csv  # noqa: E402
import io as _io  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from terrl.semantics.coerce import SHOWN_CHARS  # noqa: E402

REASON_MODEL = """\
schema A {
  id: string key
  b:  bool?
  n:  int?
  z:  digits(3)?
  e:  enum { x, y }?
}

model M { keep }
"""

# What repr() escapes or quotes specially, and what it shows as is (non-BMP, combining, Latin-1).
_AWKWARD = ["\r", "\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\xa0", "\xad", "\u200b", "\u200d", "\u2028", "\u2060",
            "\ufeff", "\u0378", "\ue000", "'", '"', "\\", "é", "e\u0301", "\U0001F600", "\U000E0001", "\U000F0000",
            "\U0010FFFD", "\U0003FFFF", "a", "7", " ", "\u3000"]
_RAW = st.one_of(
    st.lists(st.sampled_from(_AWKWARD), min_size=1, max_size=SHOWN_CHARS + 8).map("".join),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=SHOWN_CHARS + 8),
)


def _reason_csv(values: list[str]) -> bytes:
    out = _io.StringIO(newline="")
    writer = _csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "b", "n", "z", "e"])
    for i, v in enumerate(values):
        writer.writerow([f"k{i}", v, v, v, v])
    return out.getvalue().encode("utf-8")


def _both_engines(tmp_path: Path, data: bytes) -> dict[str, bytes]:
    (tmp_path / "m.terr").write_text(REASON_MODEL)
    (tmp_path / "a.csv").write_bytes(data)
    outs = {}
    for engine in ("python", "duckdb"):
        target = tmp_path / f"r-{engine}.csv"
        result = run_cli(["assign", str(tmp_path / "m.terr"), str(tmp_path / "a.csv"),
                                          "--engine", engine, "-o", str(target)])
        assert result.exit_code == 0, result.output
        outs[engine] = target.read_bytes()
    return outs


def test_sql_reasons_escape_what_repr_escapes(tmp_path):
    """Item 9: DuckDB printed CR, NBSP and U+200B raw where the Python engine escapes them."""
    values = ["a\rb", "x\xa0y", "\u200bq", "both '\"", "back\\slash", "\U000F0000\U0001F600", "\x00z",
              "\u200b" * (SHOWN_CHARS + 5), "\U0001F600" * (SHOWN_CHARS + 1)]
    outs = _both_engines(tmp_path, _reason_csv(values))
    assert outs["python"] == outs["duckdb"]
    text = outs["python"].decode()
    for shown in ["'a\\rb'", "'x\\xa0y'", "'\\u200bq'", "'both \\'\"\"'", "'back\\\\slash'", "'\\U000f0000\U0001F600'",
                  "'\\x00z'", "'" + "\\u200b" * SHOWN_CHARS + "...'", "'" + "\U0001F600" * SHOWN_CHARS + "...'"]:
        assert f"got {shown}" in text, shown


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_RAW, min_size=1, max_size=8))
def test_sql_and_python_reasons_are_byte_identical(tmp_path, values):
    outs = _both_engines(tmp_path, _reason_csv(values))
    assert outs["python"] == outs["duckdb"]


TYPED_REASON_MODEL = """\
schema A {
  id: string key
  z:  digits(3)?
  e:  enum { x, y }?
}

model M { keep }
"""


def _typed_reason_rows(cursor, dialect: str, values: list[str]):
    from support import create_table, expected_rows, insert, read_back, run_query

    model = _model(TYPED_REASON_MODEL)
    accounts = [{"id": f"k{i}", "z": v, "e": v} for i, v in enumerate(values)]
    create_table(cursor, dialect, model.schema, "terrl_reason_accounts", text=False)
    insert(cursor, dialect, model.schema, "terrl_reason_accounts", accounts)
    stored = read_back(cursor, model.schema, "terrl_reason_accounts")
    got = [row[-1] for row in run_query(cursor, model, dialect, "terrl_reason_accounts", "typed")]
    return got, [row[-1] for row in expected_rows(model, stored)]


_TYPED_RAW = _RAW.map(lambda v: v.replace("\x00", "")).filter(bool)  # PostgreSQL text holds no NUL


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_TYPED_RAW, min_size=1, max_size=8))
def test_duckdb_view_reasons_on_typed_input_are_pythons(values):
    import duckdb
    got, expected = _typed_reason_rows(duckdb.connect().cursor(), "duckdb", values)
    assert got == expected


@pytest.fixture(scope="module")
def pg_cursor():
    from support import postgres_dsn
    dsn = postgres_dsn()
    if dsn is None:
        pytest.skip("no PostgreSQL server: set TERRL_TEST_POSTGRES_DSN (.ci/run starts one on loopback)")
    psycopg = pytest.importorskip("psycopg")
    con = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    yield con.cursor()
    con.close()


@pytest.mark.postgres
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_TYPED_RAW, min_size=1, max_size=8))
def test_postgres_view_reasons_are_pythons(pg_cursor, values):
    got, expected = _typed_reason_rows(pg_cursor, "postgres", values)
    assert got == expected
