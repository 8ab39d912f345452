"""Clean-up of text values before they are checked against the schema (docs/assign.md).

CRM exports spell valid values in many ways: `' TX'`, `ca`, `California`, `94105-1234`,
`$1,200,000`. A clean-up rule rewrites such a text to the one spelling the schema takes,
and only where the rewrite can mean one thing. Rules on by default (`DEFAULT_RULES`):

| rule            | fields          | example                                   |
|-----------------|-----------------|-------------------------------------------|
| `trim`          | every kind      | `' TX'` -> `TX`                           |
| `case`          | enum, bool      | `ca` -> `CA`, `Public Sector` -> `public_sector`, `U.S.` -> `US`, `TRUE` -> `true` |
| `title`         | enum            | `California` -> `CA`, `united states` -> `US` |
| `zip4`          | digits(5)       | `94105-1234` -> `94105`                   |
| `number-format` | int, decimal    | `$1,200,000` -> `1200000`, `1,200` -> `1200` |

Opt-in (`OPT_IN_RULES`): `leading-zeros` (digits(N): `2139` -> `02139`, a zero a
spreadsheet dropped, or a short code) and `suffix` (int, decimal: `1.2M` -> `1200000`).

What is *missing* is not a clean-up: a text that is empty or only whitespace is a missing
value everywhere (CSV, JSON Lines, the Python API, the generated module, SQL), also with
`--strict`. `is_blank` says it.

A rule is applied only when it lands on the one spelling of a value: a member's name or
title spelt alike by two members (`enum {a_b, ab}`) is left alone, a comma that does not
group digits by three (`1,5`) is not a thousands separator. On a value the schema already
takes, every rule but `trim` changes nothing, so the evaluators try it only on values that
fail their fast checks.

This module uses the standard library only: the generated evaluator module embeds its
source (`terrl/targets/codegen_python.py`), so every engine cleans alike.
"""

import re
from decimal import Decimal

DEFAULT_RULES = ("trim", "case", "title", "zip4", "number-format")
OPT_IN_RULES = ("leading-zeros", "suffix")
ALL_RULES = DEFAULT_RULES + OPT_IN_RULES


def rules_for(strict: bool, clean=(), base=DEFAULT_RULES) -> tuple:
    """The rules a run uses, in ALL_RULES order: `base` and the `clean` ones turned on; none under `strict`."""
    return () if strict else tuple(r for r in ALL_RULES if r in base or r in clean)
# How the summary and `--explain` name each rule's change.
RULE_WORDS = {"trim": "trimmed", "case": "letter case", "title": "member title", "zip4": "ZIP+4 cut to 5 digits",
              "number-format": "number format", "leading-zeros": "leading zeros restored",
              "suffix": "K/M/B suffix"}

_GROUPED = re.compile(r"(-?)([$€£¥]?) ?(-?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?")
_SUFFIXED = re.compile(r"(.*?) ?([kKmMbB])")
_SUFFIX_POWER = {"k": 3, "m": 6, "b": 9}
_ZIP4 = re.compile(r"[0-9]{5}-[0-9]{4}")


def is_blank(raw) -> bool:
    """Whether a raw value is missing: None, or a text that is empty or only whitespace."""
    return raw is None or (isinstance(raw, str) and (not raw or raw.isspace()))


def spelling(text: str) -> str:
    """A text as the `case` and `title` rules compare it: case folded, letters and digits only."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def member_spellings(members, titles=()) -> dict:
    """spelling -> (member, rule) for every member name (`case`) and title (`title`) that
    names one member only; a spelling shared by two members names none of them."""
    found: dict = {}
    clashes = set()
    titles = titles or (None,) * len(members)
    for rule, names in (("case", members), ("title", titles)):
        for member, name in zip(members, names):
            if not name:
                continue
            key = spelling(name)
            if not key:
                continue
            if key in found and found[key][0] != member:
                clashes.add(key)
            elif key not in found:
                found[key] = (member, rule)
    return {key: entry for key, entry in found.items() if key not in clashes}


def _plain_number(text: str, rules) -> str | None:
    """A number text without its currency symbol and thousands separators (`number-format`),
    its K/M/B suffix multiplied out (`suffix`), or None when neither rule makes it a plain number."""
    power = 0
    if "suffix" in rules:
        suffixed = _SUFFIXED.fullmatch(text)
        if suffixed:
            text, power = suffixed.group(1), _SUFFIX_POWER[suffixed.group(2).lower()]
    match = _GROUPED.fullmatch(text)
    if match is None:
        return None
    sign1, currency, sign2, whole, fraction = match.groups()
    if sign1 and sign2:
        return None
    if (currency or "," in whole) and "number-format" not in rules:
        return None
    plain = sign1 + sign2 + whole.replace(",", "") + (fraction or "")
    if power:
        sign, figures, exponent = Decimal(plain).as_tuple()
        plain = format(Decimal((sign, figures, exponent + power)), "f")  # exact: no rounding to a context
        if "." in plain:
            plain = plain.rstrip("0").rstrip(".")
    return plain


def clean_text(raw: str, kind: str, digits, spellings, rules) -> tuple:
    """(text, rules applied) for a text value of a field of this kind (`digits`: N of
    digits(N); `spellings`: `member_spellings` of an enum). `rules` are the rules turned on;
    no rule applied: `(raw, ())`."""
    text, applied = raw, []
    if "trim" in rules:
        stripped = raw.strip()
        if stripped != raw:
            text = stripped
            applied.append("trim")
    if kind == "enum":
        if text not in spellings.get(None, ()):
            entry = spellings.get(spelling(text))
            if entry is not None and entry[1] in rules:
                text = entry[0]
                applied.append(entry[1])
    elif kind == "bool":
        if text not in ("true", "false") and "case" in rules and text.lower() in ("true", "false"):
            text = text.lower()
            applied.append("case")
    elif kind == "digits":
        if not (len(text) == digits and text.isascii() and text.isdigit()):
            if digits == 5 and "zip4" in rules and _ZIP4.fullmatch(text):
                text = text[:5]
                applied.append("zip4")
            elif "leading-zeros" in rules and 0 < len(text) < digits and text.isascii() and text.isdigit():
                text = text.zfill(digits)
                applied.append("leading-zeros")
    elif kind in ("int", "decimal"):
        if len(text) <= 1000 and not (text.isascii() and text.replace(".", "", 1).replace("-", "", 1).isdigit()):
            plain = _plain_number(text, rules)
            if plain is not None and plain != text:
                if "suffix" in rules and _SUFFIXED.fullmatch(text):
                    applied.append("suffix")
                if "," in text or any(symbol in text for symbol in "$€£¥"):
                    applied.append("number-format")
                text = plain
    return text, tuple(applied)


def field_spellings(members, titles=()) -> dict:
    """What `clean_text` takes for an enum: `member_spellings`, and under None the members."""
    table = member_spellings(members, titles)
    table[None] = frozenset(members)
    return table


def plain_value(text: str, kind: str, digits, spellings) -> bool:
    """Whether the schema takes this text as it is (the strict check, without bounds)."""
    if kind == "enum":
        return text in spellings[None]
    if kind == "bool":
        return text in ("true", "false")
    if kind == "digits":
        return len(text) == digits and text.isascii() and text.isdigit()
    if kind in ("int", "decimal"):
        return _PLAIN_NUMBER.fullmatch(text) is not None
    return True


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def rule_hint(raw: str, kind: str, digits, spellings, rules) -> str | None:
    """For a text the rules turned on leave invalid: which rules turned off would clean it, and to what."""
    text, applied = clean_text(raw, kind, digits, spellings, ALL_RULES)
    missing = [rule for rule in applied if rule not in rules]
    if not missing or not plain_value(text, kind, digits, spellings):
        return None
    named = " and ".join(f"`{rule}`" for rule in missing)
    return f"clean-up {named} would read it as {text!r}"
