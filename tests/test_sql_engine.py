"""`terrl assign --engine duckdb` on malformed CSV: the same result bytes, summary and exit code as
`--engine python`, row for row (ragged rows, quotes never closed or closed in the wrong place,
bytes that are not UTF-8, blank lines, BOM, CRLF), and the fast path kept for clean files.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terrl.targets import sql_engine

from support import REPO, run_cli

FY28 = str(REPO / "examples" / "acme" / "fy28.terr")
FY28_HEADER = b"id,name,country,state,zip,industry,employees,revenue"
GOOD = b"G1,Acme,US,CA,94105,software,5000,2000000000"

# a small model: DuckDB plans its SQL quickly, so the property below can afford its examples
SMALL_MODEL = """\
schema Account {
  id:        string key
  name:      string?
  country:   enum { US, CA, DE }?
  employees: int in 0..?
}

model Demo {
  policy first
  territory big "Big accounts" { where employees >= 1000  owner "kim@example.com" as AE }
  territory us "United States" { where country == US  owner "lee@example.com" as AE }
  territory rest "Everything else" { else  owner "ops@example.com" as AE }
}
"""


def run_engines(workdir: Path, model_file: str, data: bytes, out_name: str = "out.csv") -> dict[str, tuple]:
    """(exit code, result file bytes, stderr with the paths taken out) per engine."""
    source = workdir / "accounts.csv"
    source.write_bytes(data)
    runs = {}
    for engine in ("python", "duckdb"):
        out = workdir / f"{engine}-{out_name}"
        result = run_cli(["assign", model_file, str(source), "-o", str(out), "--engine", engine])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        runs[engine] = (result.exit_code, out.read_bytes() if out.exists() else None,
                        result.output.replace(str(out), "OUT").replace(str(source), "IN"))
    return runs


def rows(data: bytes) -> bytes:
    return FY28_HEADER + b"\n" + data


MALFORMED = {
    "ragged rows": rows(GOOD + b"\nR1,short,US\nR2,long,US,CA,94105,software,1,1,extra\n" + GOOD + b"\n"),
    "a trailing comma": rows(GOOD + b"\nT1,Acme,US,CA,94105,software,5000,2000000000,\n,,,,,,,,\n" + GOOD + b"\n"),
    "a quote never closed, at the end": rows(GOOD + b'\nU1,"Acme,US,CA,94105,software,5000,2000000000'),
    "a quote never closed, mid-file": rows(GOOD + b'\nU2,"Acme,US,CA,94105,software,5000,2000000000\n' + GOOD + b"\n" + GOOD + b"\n"),
    "a quote closed by the next row's quote": rows(
        GOOD + b'\nQ1,"Acme,US,CA,94105,software,5000,2000000000\nQ2,"ok",US,CA,94105,software,1,1\n' + GOOD + b"\n"),
    "a quote closed in the wrong place": rows(b'W1,"Ac"me,US,CA,94105,software,5000,2000000000\nW2,"x" y,US,,,retail,1,1\n'),
    "bytes that are not UTF-8": rows(GOOD + b"\nN1,Caf\xe9,US,CA,94105,software,5000,2000000000\nN\xff2,x,US,,,retail,1,1\n"),
    "spaces around quotes": rows(b'S1,Acme,"US" ,CA,94105,software,5000,1\nS2,Acme, "US",CA,94105,software,1,1\n'
                                 b'S3,"a "" b",US,CA,94105,software,1,1\n'),  # DuckDB alone reads `US` twice
    "a lone carriage return": rows(GOOD + b"\rC1,Acme,US,CA,94105,software,5000,2000000000\n"),
    "BOM, CRLF and blank lines": b"\xef\xbb\xbf" + rows(GOOD + b"\r\n\r\nB1,short\r\n\r\n" + GOOD + b"\r\n").replace(
        FY28_HEADER + b"\n", FY28_HEADER + b"\r\n"),
    "a line break in a header cell": FY28_HEADER + b',"notes\nmore"\r\n' + GOOD + b",n\r\n" + GOOD + b",\r\n",  # DuckDB alone: no rows
    "everything at once": b"\xef\xbb\xbf" + rows(
        GOOD + b'\r\n\nR1,short\nU1,"open,US\n' + GOOD + b"\nN1,\xff,US,CA,94105,software,5000,1\n"
        + b'T1,Acme,US,CA,94105,software,5000,1,\nW1,"x"y,US,,,retail,1,1\r\n\n' + GOOD),
}


@pytest.mark.parametrize("out_name", ["out.csv", "out.jsonl"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_csv_gives_the_python_engines_bytes_and_summary(tmp_path, case, out_name):
    runs = run_engines(tmp_path, FY28, MALFORMED[case], out_name)
    assert runs["duckdb"] == runs["python"]
    code, data, output = runs["duckdb"]
    assert code == 0 and data and "accounts:" in output.splitlines()[-1]


def test_the_reasons_name_each_problem_row(tmp_path):
    """What the equal bytes hold: every row once, in order, problem rows with the reader's reason."""
    runs = run_engines(tmp_path, FY28, MALFORMED["everything at once"])
    assert runs["duckdb"] == runs["python"]
    lines = runs["duckdb"][1].decode("utf-8").splitlines()[1:]
    assert [line.split(",")[:2] for line in lines] == [
        ["1", "G1"], ["2", "R1"], ["3", "U1"], ["4", "G1"], ["5", "N1"], ["6", "T1"], ["7", "W1"], ["8", "G1"]]
    assert "ragged row: 2 cells where the header has 8" in lines[1]
    assert "a quoted cell is closed in the wrong place" in lines[2]  # by W1's quote, 4 lines down
    assert "column `name` holds bytes that are not UTF-8 text" in lines[4]
    assert "ragged row: 9 cells where the header has 8" in lines[5]  # DuckDB alone drops a trailing comma
    assert ",assigned," in lines[6]  # `"x"y` reads as `xy`, as the Python engine reads it
    assert runs["duckdb"][2].splitlines()[-1] == "8 accounts: 4 assigned, 0 unassigned, 4 invalid; 2 blank lines skipped -> OUT"


def test_exit_codes_and_fail_on_invalid_match(tmp_path):
    source = tmp_path / "accounts.csv"
    source.write_bytes(MALFORMED["ragged rows"])
    codes = {engine: run_cli(["assign", FY28, str(source), "--engine", engine, "--fail-on-invalid"])
             for engine in ("python", "duckdb")}
    assert codes["duckdb"].exit_code == codes["python"].exit_code == 1
    assert codes["duckdb"].output == codes["python"].output


def test_one_column_file_with_blank_lines(tmp_path):
    """In a one-column file a blank line is a row with one empty cell (DuckDB would skip it)."""
    model = tmp_path / "demo.terr"
    model.write_text(SMALL_MODEL, encoding="utf-8")
    runs = run_engines(tmp_path, str(model), b"id\nA\n\nB\r\n\r\nC")
    assert runs["duckdb"] == runs["python"]
    assert runs["duckdb"][1].count(b"missing required field `id`") == 2


def test_a_row_too_long_to_stage_is_assigned_by_the_python_evaluator(tmp_path, monkeypatch):
    monkeypatch.setattr(sql_engine, "STAGED_LINE_CHARS", 80)
    long_name = b"x" * 200
    data = rows(GOOD + b"\nL1," + long_name + b",US,CA,94105,software,5000,2000000000\nR1,short\n" + GOOD + b"\n")
    runs = run_engines(tmp_path, FY28, data)
    assert runs["duckdb"] == runs["python"]
    assert b"\n2,L1,assigned," in runs["duckdb"][1].replace(b"\r\n", b"\n")


def test_a_line_over_duckdbs_line_limit(tmp_path):
    """DuckDB stops at lines over 2 MB; terrl's reader does not: the row is still assigned."""
    data = rows(GOOD + b"\nL1," + b"x" * 2_200_000 + b",US,CA,94105,software,5000,2000000000\n")
    runs = run_engines(tmp_path, FY28, data)
    assert runs["duckdb"] == runs["python"]
    assert b"\n2,L1,assigned," in runs["duckdb"][1].replace(b"\r\n", b"\n")


def test_json_lines_whose_first_value_holds_a_crlf(tmp_path):
    """The staged copy's line ends are given, not guessed from the first line break in it."""
    data = (b'{"id": "A1", "name": "two\\r\\nlines", "country": "US", "state": "CA", "zip": "94105", '
            b'"industry": "software", "employees": 5000, "revenue": 1}\n'
            b'{"id": "A2", "name": "x", "country": "US", "state": "CA", "zip": "94105", '
            b'"industry": "software", "employees": 1, "revenue": 1}\n')
    source = tmp_path / "accounts.jsonl"
    source.write_bytes(data)
    out = {engine: run_cli(["assign", FY28, str(source), "--engine", engine]) for engine in ("python", "duckdb")}
    assert out["duckdb"].exit_code == 0 and out["duckdb"].output == out["python"].output
    assert "2 accounts: 2 assigned" in out["duckdb"].output


# --- the fast path ---------------------------------------------------------------------------

CLEAN_TRICKY = FY28_HEADER + b"\r\n" + (b'C1,"Acme, Inc.",US,CA,94105,software,5000,2000000000\r\n'
                    b'C2,"say ""hi"" now",US,CA,94105,software,1,1\r\n'
                    b'C3,"two\nlines",US,,,retail,1,1\r\n'
                    b'C4,,US,CA,,retail,,\r\n\r\n')  # one line-end style: DuckDB rejects a mix


def test_a_clean_file_goes_to_duckdb_as_it_is(tmp_path, monkeypatch):
    def staged(self):
        raise AssertionError("a clean CSV took the staged path")

    monkeypatch.setattr(sql_engine.DuckdbRun, "_staged_results", staged)
    runs = run_engines(tmp_path, FY28, CLEAN_TRICKY)
    assert runs["duckdb"] == runs["python"]
    assert runs["duckdb"][2].splitlines()[-1].startswith("4 accounts:")
    assert "; 1 blank line skipped" in runs["duckdb"][2]


def test_a_malformed_file_takes_the_staged_path(tmp_path, monkeypatch):
    taken = []
    original = sql_engine.DuckdbRun._staged_results

    def staged(self):
        taken.append(self.path)
        return original(self)

    monkeypatch.setattr(sql_engine.DuckdbRun, "_staged_results", staged)
    runs = run_engines(tmp_path, FY28, MALFORMED["ragged rows"])
    assert runs["duckdb"] == runs["python"] and len(taken) == 1


@pytest.mark.parametrize("data, alike", [
    (CLEAN_TRICKY, True),
    (b'id,name\nA,"x"\nB,y\n', True),
    (b'id,name\nA,"a "" b"\n', True),        # spaces beside escaped quotes, inside a cell
    (b'id,name\r\nA,x\r\n', True),
    (b'id,name\nA,"x" \n', False),           # DuckDB drops the space after the closing quote
    (b'id,name\nA, "x"\n', False),           # ... and before the opening one
    (b'id,name\nA,"x"  ,\n', False),
    (b'id,name\nA,"" ""\n', False),
    (b'id,name\r\nA,x\rB,y\r\n', False),     # a lone carriage return
    (b'id,name\rA,x\r', False),
    (b'id,"na\nme"\nA,x\n', False),          # a line break in a header cell
])
def test_reads_alike(tmp_path, data, alike):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    header = tuple(next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))))
    assert sql_engine.reads_alike(path, header) is alike


def test_reads_alike_one_column_blank_lines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id\nA\n\nB\n")
    assert not sql_engine.reads_alike(path, ("id",))
    assert sql_engine.reads_alike(path, ("id", "name"))  # a blank line is skipped by both (and counted)


# --- property: messy CSV through both engines ----------------------------------------------------

CELL_TEXT = st.text(alphabet="ab é,\"\n\r", max_size=5)
CELL = st.one_of(
    st.sampled_from(["", "US", "CA", "DE", "FR", "5000", "12", "-3", "1e3", "x"]),
    CELL_TEXT.map(lambda t: t.replace('"', "").replace(",", "").replace("\n", "").replace("\r", "")),
    CELL_TEXT.map(lambda t: '"' + t.replace('"', '""') + '"'),  # well quoted, line breaks and all
    CELL_TEXT,  # raw: stray quotes, commas and line breaks as they come
    st.sampled_from(['"US" ', ' "US"', '"U"S', '"open', "\udcff", "caf\udce9"]),  # \udcXX: a byte that is not UTF-8
)


@st.composite
def messy_csv(draw) -> bytes:
    columns = draw(st.sampled_from([["id"], ["id", "country"], ["id", "name", "country", "employees"],
                                    ["employees", "id", "extra", "country"]]))
    lines = [",".join(columns)]
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["row", "row", "row", "ragged", "blank"]))
        if kind == "blank":
            lines.append("")
            continue
        width = len(columns) if kind == "row" else draw(st.integers(1, len(columns) + 2))
        cells = [draw(CELL) for _ in range(width)]
        at = columns.index("id")
        if at < width and draw(st.booleans()):
            cells[at] = f"K{i}"  # a key to recognise the row by
        lines.append(",".join(cells))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, ends))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode("utf-8", "surrogateescape")


@pytest.mark.slow
@given(data=messy_csv())  # the profile's examples (tests/conftest.py): about 0.1 s each
def test_both_engines_agree_on_messy_csv(data):
    runs = small_model_runs(data)
    assert runs["duckdb"] == runs["python"]


def small_model_runs(data: bytes) -> dict:
    """Both engines' outputs for an account file under SMALL_MODEL."""
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        model = workdir / "demo.terr"
        model.write_text(SMALL_MODEL, encoding="utf-8")
        return run_engines(workdir, str(model), data)


WIDE_MODEL = """schema A { id: string key  n: decimal? }
model M { keep
  territory big { where n > 1000000000000000000000000000000 owner "a@x" as AE }
  territory tiny { where n < 0.000000000000000000000000000001 and n > 0 owner "b@x" as AE }
}
"""


def test_a_model_sql_cannot_hold_is_a_usage_error_in_duckdb_and_compile(tmp_path):
    """Boundaries needing more than DECIMAL(38) digits: `check` accepts the model (the Python
    engine assigns it), the SQL paths say why they cannot and exit 2, never a traceback."""
    model = tmp_path / "wide.terr"
    model.write_text(WIDE_MODEL, encoding="utf-8")
    data = tmp_path / "a.csv"
    data.write_text("id,n\nA,5\nB,2000000000000000000000000000000\n", encoding="utf-8")
    duck = run_cli(["assign", str(model), str(data), "--engine", "duckdb"])
    assert duck.exit_code == 2
    assert "`--engine duckdb` cannot assign with model `M`" in duck.output and "use `--engine python`" in duck.output
    python = run_cli(["assign", str(model), str(data), "--engine", "python"])
    assert python.exit_code == 0 and ",assigned,big," in python.output
    compiled = run_cli(["compile", str(model), "--target", "sql"])
    assert compiled.exit_code == 2 and "cannot compile model `M` to SQL" in compiled.output


@pytest.mark.parametrize("data", [
    b"id,name,country,employees\n,\xff,,\n",  # found by test_both_engines_agree_on_messy_csv
    b"id,name,country,employees\nA1,caf\xc3,US,5\nA2,ok,US,5\n",  # a sequence cut short
    b"id,name,country,employees\nA1,\xed\xa0\x80,US,5\n",  # an encoded surrogate
])
def test_bytes_that_are_not_utf8_are_the_same_invalid_row_in_both_engines(data):
    runs = small_model_runs(data)
    assert runs["duckdb"] == runs["python"]
    assert "not UTF-8" in str(runs["python"])


def test_a_sibling_whose_conditions_on_one_field_never_hold_is_never_a_candidate(tmp_path):
    """`code startswith "0" and code == "864"` holds in no cell: the SQL walk must not let the
    sibling through on its other condition alone (found by the wide-model differential)."""
    model = tmp_path / "m.terr"
    model.write_text('schema A { id: string key  color: enum { red, blue }  code: digits(3) }\n'
                     'model M {\n'
                     '  territory t0 { where code startswith "0" and color == red and code == "864"  owner "a@x" }\n'
                     '  territory t1 {\n    territory u0 { where code == "864" }\n  }\n}\n', encoding="utf-8")
    accounts = tmp_path / "a.csv"
    accounts.write_text("id,color,code\nA1,red,000\nA2,red,864\n", encoding="utf-8")
    outputs = []
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.csv"
        result = run_cli(["assign", str(model), str(accounts), "-o", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    assert "A1,unassigned" in outputs[0] and "A2,assigned,t1.u0" in outputs[0]
