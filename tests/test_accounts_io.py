"""Streaming account readers and result writers: bad data never drops a row or raises."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terrl.io import accounts as accounts_io
from terrl.io.accounts import AccountsError, ResultWriter, detect_format, open_accounts
from terrl.targets.evaluate import Assignment
from terrl.pipeline import check_source

SCHEMA_TEXT = """
schema Account {
  id:        string key
  name:      string?
  country:   enum { US, CA, DE }
  employees: int in 0..
}
model M { territory t { } }
"""


@pytest.fixture(scope="module")
def schema():
    result = check_source(SCHEMA_TEXT, "m.terr", stop_after="resolve")
    return next(iter(result.programs.values())).models[0].schema


def read(data: bytes, schema, fmt=None):
    reader = open_accounts(io.BufferedReader(io.BytesIO(data)), schema, fmt)
    return reader, list(reader.records())


# --- CSV ---------------------------------------------------------------------------------------

def test_csv_rows_become_text_values_and_empty_cells_missing(schema):
    reader, records = read(b"id,name,country,employees,extra\nA1,,US,10,x\nA2,Bob,CA,0,\n", schema)
    assert reader.format == "csv"
    assert [r.row for r in records] == [1, 2]
    assert records[0].values == {"id": "A1", "name": None, "country": "US", "employees": "10"}
    assert records[1].values["name"] == "Bob"
    assert all(r.problem is None for r in records)


def test_byte_order_mark_and_crlf(schema):
    _, records = read(b"\xef\xbb\xbfid,country,employees\r\nA1,US,10\r\n", schema)
    assert records[0].values == {"id": "A1", "country": "US", "employees": "10"}


def test_quoted_fields_with_commas_newlines_and_quotes(schema):
    data = 'id,name,country,employees\nA1,"Smith, ""Jr""\nsecond line",US,1\nA2,é ✓,DE,2\n'.encode()
    _, records = read(data, schema)
    assert records[0].values["name"] == 'Smith, "Jr"\nsecond line'
    assert records[1].values["name"] == "é ✓"
    assert [r.line for r in records] == [2, 4]


def test_empty_file_is_a_clear_error(schema):
    with pytest.raises(AccountsError, match="is empty: expected a header row naming the columns"):
        read(b"", schema)


def test_header_only_gives_no_records(schema):
    _, records = read(b"id,country,employees\n", schema)
    assert records == []


def test_missing_required_columns_are_named_before_any_row(schema):
    with pytest.raises(AccountsError) as info:
        read(b"id,Country,staff\nA1,US,1\n", schema)
    message = str(info.value)
    assert "missing required column(s) `country`, `employees` of schema `Account`" in message
    assert "did you mean: `country` (found `Country`: `--column country=Country`)" in message


def test_missing_optional_column_is_a_warning(schema):
    reader, records = read(b"id,country,employees\nA1,US,1\n", schema)
    assert reader.warnings == ["<stream> has no column `name`: every account is read with no `name`"]
    assert "name" not in records[0].values  # read as missing


def test_duplicate_column_is_an_error(schema):
    with pytest.raises(AccountsError, match="`country` appear more than once"):
        read(b"id,country,country,employees\n", schema)


def test_ragged_rows_are_invalid_records_not_dropped(schema):
    _, records = read(b"id,country,employees\nA1,US,1\nA2,US\nA3,US,1,extra\nA4,DE,4\n", schema)
    assert [r.row for r in records] == [1, 2, 3, 4]
    assert records[1].problem == "ragged row: 2 cells where the header has 3" and records[1].key == "A2"
    assert records[2].problem == "ragged row: 4 cells where the header has 3"
    assert records[3].values["id"] == "A4"


def test_non_utf8_bytes_make_the_row_invalid_and_reading_goes_on(schema):
    _, records = read(b"id,name,country,employees\nA1,caf\xe9,US,1\nA2,ok,US,2\n", schema)
    assert records[0].problem == "column `name` holds bytes that are not UTF-8 text"
    assert records[0].key == "A1"
    assert records[1].values["name"] == "ok"


def test_non_utf8_header_is_an_error(schema):
    with pytest.raises(AccountsError, match="header row is not UTF-8"):
        read(b"id,n\xe9,country,employees\n", schema)


def test_huge_fields_are_read_and_oversized_ones_are_invalid(schema, monkeypatch):
    big = "x" * 2_000_000
    _, records = read(f"id,name,country,employees\nA1,{big},US,1\n".encode(), schema)
    assert records[0].values["name"] == big
    monkeypatch.setattr(accounts_io, "MAX_FIELD_BYTES", 1000)
    try:
        _, records = read(f"id,name,country,employees\nA1,{'y' * 5000},US,1\nA2,n,US,2\n".encode(), schema)
    finally:
        csv.field_size_limit(accounts_io.MAX_FIELD_BYTES)
    assert records[0].problem.startswith("row cannot be read as CSV: field larger than field limit")
    assert records[1].values["id"] == "A2"


def test_blank_lines_are_counted_not_records(schema):
    reader, records = read(b"id,country,employees\nA1,US,1\n\n\nA2,US,2\n", schema)
    assert [r.values["id"] for r in records] == ["A1", "A2"]
    assert reader.blank_lines == 2


cells = st.text(alphabet=st.sampled_from('ab,"\n\r é✓'), max_size=6)


@given(rows=st.lists(st.lists(cells, min_size=1, max_size=5), max_size=30))
def test_every_written_row_is_exactly_one_record_in_order(rows):
    """Whatever the cells (commas, quotes, newlines, ragged widths), rows in == records out."""
    result = check_source(SCHEMA_TEXT, "m.terr", stop_after="resolve")
    schema = next(iter(result.programs.values())).models[0].schema
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF: the only terminator that makes csv quote a lone \r
    writer.writerow(["id", "name", "country", "employees"])
    kept = [row for row in rows if row != [""]]  # a lone empty cell is written as a blank line
    for i, row in enumerate(kept):
        writer.writerow([f"K{i}"] + row)
    _, records = read(out.getvalue().encode(), schema)
    assert [r.row for r in records] == list(range(1, len(kept) + 1))
    for i, (row, record) in enumerate(zip(kept, records)):
        if len(row) == 3:
            assert record.values["id"] == f"K{i}" and record.values["name"] == (row[0] or None)
        else:
            assert record.problem.startswith("ragged row") and record.key == f"K{i}"


def test_an_unclosed_quote_does_not_swallow_the_rows_after_it(schema):
    data = b'id,name,country,employees\nA1,"Acme,US,1\nA2,ok,US,2\nA3,ok,DE,3\n'
    _, records = read(data, schema)
    assert [r.row for r in records] == [1, 2, 3] and [r.line for r in records] == [2, 3, 4]
    assert records[0].key == "A1" and records[0].problem.startswith(
        "a quoted cell is never closed: read as one row it would take in the 2 lines after it")
    assert [r.values["id"] for r in records[1:]] == ["A2", "A3"]


def test_a_quote_closed_by_the_next_rows_quote_is_reported_and_the_next_row_kept(schema):
    data = b'id,name,country,employees\nA1,"Acme,US,1\nA2,"ok",US,2\nA3,5" screen,US,3\n'
    _, records = read(data, schema)
    assert records[0].problem.startswith("a quoted cell is closed in the wrong place") and records[0].key == "A1"
    assert [(r.values["id"], r.values["name"]) for r in records[1:]] == [("A2", "ok"), ("A3", '5" screen')]


def test_a_quoted_cell_with_line_breaks_is_one_row(schema):
    data = b'id,name,country,employees\nA1,"two\nlines, ""quoted""",US,1\nA2,n,US,2\n'
    _, records = read(data, schema)
    assert records[0].values["name"] == 'two\nlines, "quoted"' and records[1].line == 4


@given(rows=st.lists(st.lists(st.text(alphabet="ab é✓", max_size=4), min_size=3, max_size=3), min_size=1, max_size=12),
       data=st.data())
def test_a_stray_quote_never_costs_a_row(rows, data):
    """One cell opened with a quote that is never closed: every line is still one record."""
    result = check_source(SCHEMA_TEXT, "m.terr", stop_after="resolve")
    schema = next(iter(result.programs.values())).models[0].schema
    bad = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.integers(0, 2))
    lines = []
    for i, row in enumerate(rows):
        cells = [f"K{i}"] + row
        if i == bad:
            cells[column + 1] = '"' + cells[column + 1]
        lines.append(",".join(cells))
    _, records = read(("id,name,country,employees\n" + "\n".join(lines) + "\n").encode(), schema)
    assert [r.line for r in records] == list(range(2, len(rows) + 2))
    assert [r.key if r.values is None else r.values["id"] for r in records] == [f"K{i}" for i in range(len(rows))]
    assert records[bad].problem is not None or bad == len(rows) - 1


# --- JSON Lines -----------------------------------------------------------------------------------

def test_jsonl_typed_values_decimals_exact(schema):
    reader, records = read(b'\xef\xbb\xbf{"id": "A1", "country": "US", "employees": 10, "x": 0.1}\n', schema)
    assert reader.format == "jsonl"
    assert records[0].values["x"] == Decimal("0.1") and records[0].values["employees"] == 10


def test_jsonl_bad_lines_are_invalid_records(schema):
    data = b"\n".join([
        b'{"id": "A1", "country": "US", "employees": 1}',
        b'{"id": "A2", "country": ',
        b'[1, 2]',
        b'"text"',
        b'{"id": "caf\xe9"}',
        b'{"id": "A6", "employees": ' + b"9" * 5000 + b"}",
        b"",
        b'{"id": "A7", "country": "DE", "employees": 2}',
    ]) + b"\n"
    reader, records = read(data, schema)
    assert [r.row for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert records[1].problem.startswith("the line is not valid JSON: Expecting value")
    assert records[2].problem == "expected a JSON object (one account per line), got an array"
    assert records[3].problem == "expected a JSON object (one account per line), got a string"
    assert records[4].problem == "the line is not UTF-8 text (byte 12)"
    assert records[5].problem.startswith("the line cannot be read")
    assert records[6].values["id"] == "A7" and records[6].line == 8
    assert reader.blank_lines == 1


def test_jsonl_lone_surrogate_escapes_are_invalid_records_that_can_be_written(schema):
    data = b'{"id": "\\ud800", "country": "US", "employees": 1}\n{"id": "A2", "name": "x\\udfff"}\n' \
        b'{"id": "A3", "name": "\\ud83d\\ude00", "country": "US", "employees": 1}\n'
    _, records = read(data, schema)
    assert records[0].problem.startswith("field `id` holds a lone UTF-16 surrogate escape")
    assert records[0].key == "\\ud800"  # shown as the escape: it can be written as UTF-8
    assert records[1].problem.startswith("field `name` holds") and records[1].key == "A2"
    assert records[2].values["name"] == "\U0001F600"  # a whole pair is one character
    out = io.StringIO()
    ResultWriter(out, "csv").write(1, records[0].key, Assignment("invalid", (), (), (), records[0].problem))
    out.getvalue().encode("utf-8")


def test_format_detection():
    assert detect_format("a.csv") == "csv"
    assert detect_format("a.JSONL") == "jsonl"
    assert detect_format("a.ndjson") == "jsonl"
    assert detect_format(None, b'  {"id": 1}') == "jsonl"
    assert detect_format(None, b"\xef\xbb\xbf{") == "jsonl"
    assert detect_format(None, b"id,country") == "csv"


def test_unreadable_file_is_an_accounts_error(schema, tmp_path):
    with pytest.raises(AccountsError, match="cannot read"):
        open_accounts(tmp_path / "nope.csv", schema)


# --- writers -------------------------------------------------------------------------------------

RESULT = Assignment("assigned", ("a.b", "c"), ("A; B", "C"), ("x@y",), None)


def test_csv_writer_columns_and_joins():
    out = io.StringIO()
    w = ResultWriter(out, "csv", explain=True)
    w.write(1, "K1", RESULT, "a: taken (true)")
    w.write(2, None, Assignment("invalid", (), (), (), "bad, \"quoted\""))
    assert out.getvalue() == "row,key,status,territories,titles,owners,reason,explain\r\n"  # held back
    w.flush()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["row", "key", "status", "territories", "titles", "owners", "reason", "explain"]
    assert rows[1] == ["1", "K1", "assigned", "a.b;c", "A; B;C", "x@y", "", "a: taken (true)"]
    assert rows[2] == ["2", "", "invalid", "", "", "", 'bad, "quoted"', ""]


def test_jsonl_writer_objects():
    out = io.StringIO()
    w = ResultWriter(out, "jsonl")
    w.write(7, Decimal("12"), RESULT)
    w.write(8, "caf\udce9", RESULT)
    w.flush()
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {"row": 7, "key": 12, "status": "assigned", "territories": ["a.b", "c"],
                     "titles": ["A; B", "C"], "owners": ["x@y"], "reason": None}
    assert second["key"] == "caf\ufffd"
