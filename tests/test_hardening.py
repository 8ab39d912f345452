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
from click.testing import CliRunner

from terrl.cli.app import cli
from terrl.pipeline import check_source
from terrl.semantics.coerce import MAX_NUMBER_CHARS, coerce_account
from terrl.targets.evaluate import compile_model
from terrl.targets.reference import assign_reference

from tests.test_sql_engine import SMALL_MODEL, run_engines

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
        result = CliRunner().invoke(cli, ["assign", str(tmp_path / "m.terr"), str(source), "--format", "jsonl",
                                          "--engine", engine])
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
