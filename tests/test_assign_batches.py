"""The batch path of `terrl assign` (CSV read a chunk at a time, `assign_columns` in the module,
`ResultWriter.write_batch`) against the row-by-row path, on messy CSV files: the same results
and the same output bytes, whatever the file holds and wherever the chunks end."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terrl.io import accounts
from terrl.io.accounts import ResultWriter, open_accounts
from terrl.targets.evaluate import ResultBatch, assign_batches, assign_records, compile_model

from support import SCHEMA, SCHEMA_LITERALS, models

# Texts as CRM exports have them: plain values of every field's kind, and what goes wrong.
PLAIN = ("A1", "B7", "red", "green", "blue", "other", "0", "1", "9", "10", "11", "50", "99", "100", "123", "000",
         "099", "500", "0.5", "1.5", "1000000", "true", "false", "a", "ab", "zz", "é")
MESSY = ("", " ", " red", "RED", "1,200", "007", "1e3", "-5", "10.0", "101", "12.", ".5", "9" * 1001, "x,y",
         'q"uote', "line\nbreak", "=cmd", "-5", "@x", "\t", "\u00a0", "nan", "Infinity", "True")
# Each column mostly holds its field's own values, as text (whole chunks of plain numbers take
# the column path), sometimes anything.
OWN = {name: tuple(str(v) for v in values if str(v)) for name, values in SCHEMA_LITERALS.items()}
OWN.update({"flag": ("true", "false"), "extra": ("x",), "label": OWN["label"] + ("line\nbreak", "two\r\nlines")})


def cells(column: str):
    return st.sampled_from(OWN[column]) | st.sampled_from(OWN[column]) | st.sampled_from(OWN[column]) | \
        st.sampled_from(PLAIN) | st.sampled_from(MESSY)


@st.composite
def csv_files(draw) -> bytes:
    """A CSV file for SCHEMA: its columns in any order (an optional one left out, an extra one
    added), rows of plain and messy cells, and now and then a blank line, a ragged row, an
    unclosed quote or bytes that are not UTF-8."""
    names = [f.name for f in SCHEMA.fields]
    dropped = draw(st.sampled_from([None, "label", "flag", "price"]))
    header = draw(st.permutations([n for n in names if n != dropped] + draw(st.sampled_from([[], ["extra"]]))))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\r\n", "\n"])))
    writer.writerow(header)
    raw_lines: list[tuple[int, str]] = []
    rows = draw(st.integers(0, 14))
    for i in range(rows):
        kind = draw(st.sampled_from(["row"] * 20 + ["blank", "ragged", "unclosed", "bad utf8"]))
        if kind == "row":
            writer.writerow([draw(cells(c)) for c in header])
        elif kind == "blank":
            out.write("\r\n")
        elif kind == "ragged":
            writer.writerow([draw(cells("extra")) for _ in range(len(header) + draw(st.sampled_from([-1, 1])))])
        elif kind == "unclosed":
            out.write('A9,"red' + "," * (len(header) - 2) + "\r\n")
        else:
            raw_lines.append((out.tell(), ",".join("x" for _ in header)))
            writer.writerow([draw(cells(c)) for c in header])
    data = out.getvalue().encode("utf-8")
    for _ in raw_lines:  # one byte that is not UTF-8, in the last row's first cell
        at = data.rfind(b"\n", 0, len(data) - 1) + 1
        data = data[:at] + b"\xff" + data[at:]
    return data


PLAIN_CHUNK = accounts._plain


def _stream(results) -> list[tuple]:
    out = []
    for item in results:
        if isinstance(item, ResultBatch):
            out += [(row, key, tuple(result)) for row, key, result in zip(item.rows, item.keys, item.results)]
        else:
            row, key, result, _ = item
            out.append((row, key, tuple(result)))
    return out


def _written(results) -> str:
    text = io.StringIO()
    writer = ResultWriter(text, "csv")
    for item in results:
        if isinstance(item, ResultBatch):
            writer.write_batch(item.rows, item.keys, item.results)
        else:
            writer.write(*item[:3])
    writer.flush()
    return text.getvalue()


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_batches_agree_with_rows(monkeypatch_module, data):
    model = data.draw(models(SCHEMA))
    evaluator = compile_model(model)
    file = data.draw(csv_files())
    chunk = data.draw(st.sampled_from([1, 2, 3, 5, 2048]))
    monkeypatch_module.setattr(accounts, "CHUNK_ROWS", chunk)

    def read():
        return open_accounts(io.BytesIO(file), model.schema, "csv")

    by_records = list(read().records())
    by_rows = list(assign_records(evaluator, iter(by_records)))
    reader = read()
    by_batches = list(assign_batches(evaluator, reader.batches(chunk), reader.index))
    assert _stream(by_batches) == _stream(by_rows)
    assert _written(by_batches) == _written(by_rows)
    # the records (row, line, values, problem, key) are those of the row-by-row reader
    monkeypatch_module.setattr(accounts, "_plain", lambda *args: False)
    try:
        assert list(read().records()) == by_records
    finally:
        monkeypatch_module.setattr(accounts, "_plain", PLAIN_CHUNK)
    # a fresh evaluator (empty memos) and a warm one agree too: first sights go through `assign`
    again = read()
    assert _stream(assign_batches(evaluator, again.batches(chunk), again.index)) == _stream(by_rows)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("field, cuts", [
    ("size: int in 1..100", "size < 10 or size == 50 or size >= 99"),
    ("size: int in 0..", "size >= 10 and size <= 11"),
    ("size: int", "size > 7"),
    ("size: decimal in 0..", "size < 2.5 or size == 10 or size > 99.5"),
    ("size: decimal? in 1..100", "size is null or size >= 10 or size == 1"),
    ("size: decimal", "size < 3 or size == 1000000"),
])
def test_number_columns_are_classified_as_assign_does(field, cuts):
    """A column of plain-digit numbers is parsed and classified at once (bounds, cuts before and
    after a value); every value, on and around every boundary, gets `assign`'s result."""
    from terrl.pipeline import Compilation

    model = Compilation.from_source(f"""
schema A {{ id: string key  {field} }}
model M {{
  territory hit {{ where {cuts} }}
  territory miss {{ else }}
}}
""").units[0].program.models[0]
    evaluator = compile_model(model)
    values = [str(v) for v in range(0, 103)] + ["1000000", "999999", "1000001", "007", "0010"]
    for chunk in (values, values[10:12], values[98:101]):  # whole columns of plain digits
        results = evaluator.assign_columns([["A"] * len(chunk), chunk])
        expected = [evaluator.assign({"id": "A", "size": v}) for v in chunk]
        for value, got, want in zip(chunk, results, expected):
            assert got == want or (got is None and want.status == "invalid"), value
        assert all(got is not None for got, want in zip(results, expected) if want.status != "invalid")
