"""The one JSON encoder for terrl's values: every JSON terrl writes goes through `json_value`.

Python's `json` knows str, int, float, bool, None, lists, tuples and dicts; terrl's values
also hold `Decimal` (exact numbers: never rounded through a float), dates (`effective`,
`meta`) and frozensets (enum and string sets). Decimals are written in one of three
styles, each part of a documented format:

- `"number"` — witnesses in diagnostics (docs/analysis.md): an int when integral, else a
  JSON number when the float's shortest repr is exactly the decimal, else the exact text
  as a string;
- `"string"` — the normalized model (docs/normalized-model.md): always a string holding
  the exact decimal in plain notation (`"500000000"`, `"12.5"`), never a float;
- `"int-or-text"` — `terrl assign` JSON Lines (a key read from JSON): an int when
  integral, else the decimal's text.

An integral decimal becomes an int only when its exponent is small: `int(Decimal("1E+999999999"))`
would take minutes (such a value is never a valid number in terrl, see docs/limits.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

DECIMAL_STYLES = ("number", "string", "int-or-text")


def json_value(value: Any, decimals: str = "number") -> Any:
    """`value` as plain JSON data (str, int, float, bool, None, list, dict), recursively."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return _decimal(value, decimals)
    if isinstance(value, (tuple, list)):
        return [json_value(v, decimals) for v in value]
    if isinstance(value, (frozenset, set)):
        return [json_value(v, decimals) for v in sorted(value)]
    if isinstance(value, dict):
        return {k: json_value(v, decimals) for k, v in value.items()}
    if hasattr(value, "isoformat"):  # date, datetime
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_default(decimals: str = "number") -> Callable[[Any], Any]:
    """For `json.dumps(..., default=json_default(style))`: the types `json` does not know."""
    if decimals not in DECIMAL_STYLES:
        raise ValueError(f"unknown decimal style {decimals!r}")
    return lambda value: json_value(value, decimals)


def _decimal(value: Decimal, style: str) -> Any:
    if style == "string":
        return format(value, "f")
    if value.is_finite() and abs(value.adjusted()) < 1000 and value == value.to_integral_value():
        return int(value)
    if style == "number":
        as_float = float(value)
        if Decimal(repr(as_float)) == value:
            return as_float
        return str(value)
    if style == "int-or-text":
        return str(value)
    raise ValueError(f"unknown decimal style {style!r}")
