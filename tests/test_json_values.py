"""The one JSON encoder (terrl/diagnostics/json_values.py) and the formats that use it."""

import datetime
import json
from decimal import Decimal

import pytest

from terrl.diagnostics.json_values import json_default, json_value


@pytest.mark.parametrize("value, number, string, int_or_text", [
    (Decimal("5"), 5, "5", 5),
    (Decimal("5.00"), 5, "5.00", 5),
    (Decimal("1E+3"), 1000, "1000", 1000),
    (Decimal("12.5"), 12.5, "12.5", "12.5"),
    (Decimal("1.5E-7"), 1.5e-7, "0.00000015", "1.5E-7"),
    # more digits than a float holds: the exact text, never a rounded number
    (Decimal("0.333333333333333333333"), "0.333333333333333333333", "0.333333333333333333333",
     "0.333333333333333333333"),
    # integral but far too large to turn into an int quickly: its text
    (Decimal("1E+999999999"), "1E+999999999", None, "1E+999999999"),
])
def test_decimal_styles(value, number, string, int_or_text):
    assert json_value(value, "number") == number and type(json_value(value, "number")) is type(number)
    if string is not None:
        assert json_value(value, "string") == string
    assert json_value(value, "int-or-text") == int_or_text


def test_other_values_and_containers():
    value = {"d": datetime.date(2028, 2, 1), "t": (Decimal("2.5"), 1, None, True), "s": frozenset({"b", "a"})}
    assert json_value(value) == {"d": "2028-02-01", "t": [2.5, 1, None, True], "s": ["a", "b"]}
    assert json.dumps({"k": Decimal("12.5")}, default=json_default("int-or-text")) == '{"k": "12.5"}'
    with pytest.raises(TypeError, match="cannot write object as JSON"):
        json_value(object())
    with pytest.raises(ValueError):
        json_default("float")


def test_every_json_writer_uses_the_one_encoder():
    # the encoders that used to be written out in each module are gone
    import inspect

    from terrl.analysis import coverage
    from terrl.io import accounts
    from terrl.targets import codegen_json

    for module in (coverage, accounts, codegen_json):
        source = inspect.getsource(module)
        assert "to_integral_value" not in source and 'format(v, "f")' not in source, module.__name__
