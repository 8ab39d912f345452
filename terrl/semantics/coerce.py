"""Validation and coercion of raw account values against a schema.

Input arrives as text (a CSV cell) or typed (a JSON value, a Python value from an
embedding service). Both are coerced to the IR's value representation (see
`terrl.semantics.ir`), or rejected with a reason that names the field. This module is the
reference for what is valid; the generated evaluator (`terrl/targets/templates/module.py.j2`) implements
the same rules for speed and the differential tests hold the two together.

Rules, per field kind:

| kind       | text (CSV)                         | typed (JSON / Python)                          |
|------------|------------------------------------|------------------------------------------------|
| bool       | `true`, `false`                    | `True`, `False`                                |
| int        | `-?[0-9]+(.[0-9]+)?`, whole value  | int (not bool); a whole Decimal or float       |
| decimal    | `-?[0-9]+(.[0-9]+)?`, exact        | int (not bool), finite Decimal, finite float   |
| string     | any text                           | str                                            |
| digits(N)  | exactly N ASCII digits             | str of exactly N ASCII digits                  |
| enum       | a member name                      | a member name (str)                            |

A field read `of` another (`state: subdivisions.Subdivision? of country [in {US, CA}]`) holds
ISO 3166-2 codes and is read in the context of the account's country, after it (see
`read_in_context`): `CA` is `US-CA` for a US account, a full code `US-CA` must be of the
account's country, and for an account whose country is missing, invalid or not listed the
value is not read at all (it is missing: a free-text column holds anything there).

`None` is a missing value (the CSV reader turns an empty cell into `None`); a missing
required field is invalid. A float is read through its shortest repr (`0.1` is
`Decimal("0.1")`), so values a person typed survive. No thousands separators, no
exponents, no surrounding spaces: `"5,000"` and `" 5000"` are invalid.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from terrl.semantics import ir

NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
SHOWN_CHARS = 40  # raw values in reasons are cut to this many characters
# A number value has at most this many characters (text) or digits written out (typed):
# longer ones are invalid, so reading one is linear and bounded (docs/limits.md).
MAX_NUMBER_CHARS = 1000
_TOO_LONG = 10 ** MAX_NUMBER_CHARS  # the smallest int written with more characters than allowed
_TOO_LONG_NEG = -(10 ** (MAX_NUMBER_CHARS - 1))  # the largest negative one (its `-` counts)


def number_too_long(raw: int | Decimal) -> bool:
    """Whether a typed number's plain text (`str(int)`, `format(d, "f")`) has more than
    MAX_NUMBER_CHARS characters: the bound CSV text has, so typed and text input agree."""
    if isinstance(raw, int):
        return not _TOO_LONG_NEG < raw < _TOO_LONG
    exponent = raw.as_tuple().exponent
    if exponent < -MAX_NUMBER_CHARS or (exponent > MAX_NUMBER_CHARS and not raw.is_zero()):
        return True  # decided without writing the digits out (1E+999999999)
    return len(format(raw, "f")) > MAX_NUMBER_CHARS


class InvalidValue(Exception):
    """A raw value that the schema does not allow; `reason` names the field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def show(raw: Any) -> str:
    """A raw value as quoted in a reason: repr, cut short for huge fields."""
    if isinstance(raw, str):
        text = raw if len(raw) <= SHOWN_CHARS else raw[:SHOWN_CHARS] + "..."
        return repr(text)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int) and raw.bit_length() > 3000:  # str() refuses ints this long
        return f"a number of {len(str(Decimal(raw)).lstrip('-'))} digits"
    if isinstance(raw, (int, Decimal, float)):
        text = str(raw)
        return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
    kind = type_name(raw)
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def described(raw: Any) -> str:
    """A value of the wrong type, as a reason names it: `number 5`, `boolean true`, `a list`."""
    return f"{type_name(raw)} {show(raw)}" if isinstance(raw, (bool, int, float, Decimal)) else show(raw)


def type_name(raw: Any) -> str:
    if isinstance(raw, bool):
        return "boolean"
    if isinstance(raw, (int, float, Decimal)):
        return "number"
    if isinstance(raw, str):
        return "string"
    if isinstance(raw, (list, tuple)):
        return "list"
    if isinstance(raw, Mapping):
        return "object"
    return type(raw).__name__


def _number(name: str, raw: Any) -> int | Decimal:
    """An exact number from text or a typed number; raises InvalidValue."""
    if isinstance(raw, bool):
        raise InvalidValue(f"`{name}`: expected a number, got {show(raw)}")
    if isinstance(raw, int):
        if number_too_long(raw):
            raise InvalidValue(too_long(name, raw))
        return raw
    if isinstance(raw, str):
        if len(raw) > MAX_NUMBER_CHARS:
            raise InvalidValue(too_long(name, raw))
        if not NUMBER_TEXT.fullmatch(raw):
            raise InvalidValue(f"`{name}`: {show(raw)} is not a number (write digits with `.` as the decimal point)")
        return Decimal(raw) if "." in raw else _int_text(name, raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidValue(f"`{name}`: {show(raw)} is not a finite number")
        return Decimal(repr(raw))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidValue(f"`{name}`: {show(raw)} is not a finite number")
        if number_too_long(raw):
            raise InvalidValue(too_long(name, raw))
        return raw
    raise InvalidValue(f"`{name}`: expected a number, got {described(raw)}")


def too_long(name: str, raw: Any) -> str:
    """The reason for a number longer than MAX_NUMBER_CHARS (the same words in every engine)."""
    return f"`{name}`: {show(raw)} is too long for a number (more than {MAX_NUMBER_CHARS} characters or digits)"


def _int_text(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:  # more digits than Python converts to int at once
        return int(Decimal(raw))


def _bounds(name: str, value: int | Decimal, t: ir.FieldType) -> None:
    if t.lo is not None and value < t.lo:
        raise InvalidValue(f"`{name}`: {show(value)} is below the lower bound {t.lo}")
    if t.hi is not None and value > t.hi:
        raise InvalidValue(f"`{name}`: {show(value)} is above the upper bound {t.hi}")


def coerce_value(field: ir.Field, raw: Any) -> ir.Value | None:
    """The IR value for `raw`, None when missing; raises InvalidValue."""
    name, t = field.name, field.type
    if raw is None:
        if field.optional:
            return None
        raise InvalidValue(f"missing required field `{name}`")
    kind = t.kind
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if raw == "true" and isinstance(raw, str):
            return True
        if raw == "false" and isinstance(raw, str):
            return False
        raise InvalidValue(f"`{name}`: expected true or false, got {show(raw)}")
    if kind == "int":
        number = _number(name, raw)
        if isinstance(number, Decimal):
            try:
                whole = number == number.to_integral_value()
            except InvalidOperation:  # exponent too large to round: certainly whole
                whole = True
            if not whole:
                raise InvalidValue(f"`{name}`: {show(raw)} is not a whole number")
            number = int(number)
        _bounds(name, number, t)
        return number
    if kind == "decimal":
        number = _number(name, raw)
        value = Decimal(number) if isinstance(number, int) else number
        _bounds(name, value, t)
        return value
    if not isinstance(raw, str):
        expected = {"string": "a string", "digits": f"a string of {t.digits} digits",
                    "enum": "a member of " + t.describe()}[kind]
        raise InvalidValue(f"`{name}`: expected {expected}, got {described(raw)}")
    if kind == "string":
        return raw
    if kind == "digits":
        if len(raw) != t.digits or not (raw.isascii() and raw.isdigit()):
            raise InvalidValue(f"`{name}`: expected exactly {t.digits} digits, got {show(raw)}")
        return raw
    if raw not in t.members:
        raise InvalidValue(f"`{name}`: {show(raw)} is not a member of {t.describe()}")
    return raw


def read_in_context(field: ir.Field, raw: Any, country: ir.Value | None) -> Any:
    """The raw value of a field read `of` a country field, as a raw value of its enum: `CA`
    with country US is `US-CA`; None when the value is not read (the country is missing,
    invalid or not listed); raises InvalidValue for a code the country does not have.
    `country` is the country field's valid value (None when missing or invalid). A value that
    is not text is left as it is, for `coerce_value` to name."""
    if raw is None or not isinstance(country, str) or (field.read_for is not None and country not in field.read_for):
        return None
    if not isinstance(raw, str):
        return raw
    code = raw if "-" in raw else f"{country}-{raw}"
    if code[:len(country) + 1] != country + "-":
        raise InvalidValue(f"`{field.name}`: {show(raw)} is a subdivision code of another country than {country}")
    if code not in field.type.members:
        raise InvalidValue(f"`{field.name}`: {show(raw)} is not a subdivision code of {country}")
    return code


def coerce_account(schema: ir.Schema, account: Mapping[str, Any]) -> tuple[dict[str, ir.Value | None] | None, str | None]:
    """(values by field, None) for a valid account, (None, reason) for an invalid one.

    Every invalid field is named, in schema order, joined with `; `. Fields the schema
    does not declare are ignored (exports carry more columns than a model reads).
    """
    values: dict[str, ir.Value | None] = {}
    problems: list[tuple[int, str]] = []
    contextual = []
    for i, f in enumerate(schema.fields):
        if f.context is not None:
            contextual.append((i, f))
            continue
        try:
            values[f.name] = coerce_value(f, account.get(f.name))
        except InvalidValue as exc:
            problems.append((i, exc.reason))
    for i, f in contextual:  # after their country fields, whatever the schema's order
        try:
            values[f.name] = coerce_value(f, read_in_context(f, account.get(f.name), values.get(f.context)))
        except InvalidValue as exc:
            problems.append((i, exc.reason))
    if problems:
        return None, "; ".join(reason for _, reason in sorted(problems))
    if contextual:  # back in schema order
        values = {f.name: values[f.name] for f in schema.fields}
    return values, None
