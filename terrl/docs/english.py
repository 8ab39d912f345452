"""Plain-English criteria: an IR predicate as a sentence people who sell can read.

The IR has sets and segments expanded, but keeps where each part came from (its
provenance, which takes no part in equality): "whose state is in the West census
region" reads the `NamedSet` an `InSet` was written with, "that are enterprise" the
`NamedSegment` a predicate came from, and a `Not` says whether it was written as `not`,
`!=`, `not in` or `is not null`. The renderer returns a *phrase*, a tuple of parts
(text, links, value lists), so that the Markdown and HTML templates each render links
and long lists their own way.

Choices (see docs/docs-command.md):
- numbers get thousands separators; round millions and billions are written out
  ("500 million"); no currency is ever shown, since the schema does not say one;
- enum members appear by their title (`CA "California"`), else by name;
- a negated atom on an optional field says "or is missing", because `not` is true
  for a missing value (two-valued logic), unless the clause around it already settles
  the missing case (`zip is null or ...`, `zip startswith "9" and ...`);
- values compared with one field in one `or` (`zip startswith "940" or zip startswith
  "941"`, `state == CA or state == NV`) and negated ones in one `and` read as one
  clause with one list ("whose zip starts with 940–941 or 945");
- long value lists (more than six) are sorted (enum members in declared order), and runs
  of consecutive whole numbers and ZIP-like codes are written as ranges ("94000–94199");
  ZIP-like prefixes that follow each other merge the same way ("940–941": every code that
  starts with 940 or 941); templates show the first few and "N others", the rest behind
  a `<details>` (HTML) or in full (a territory's own criteria in Markdown).
"""

from __future__ import annotations

import dataclasses
import re

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, Union

from terrl.semantics import ir

LIST_PREVIEW = 3  # values shown before "and N others"
LIST_INLINE_MAX = 6  # lists up to this length are shown whole


# --- phrases --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Text:
    text: str
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    anchor: str  # "#seg-enterprise" or "FY27.html#t-na"; templates add nothing
    kind: str = "link"


@dataclass(frozen=True, slots=True)
class Values:
    """A list of values joined by `conj`, shortened when long."""

    shown: tuple[str, ...]
    rest: tuple[str, ...]
    conj: str  # "or" / "and"
    kind: str = "values"

    @property
    def total(self) -> int:
        return len(self.shown) + len(self.rest)


Part = Union[Text, Link, Values]
Phrase = tuple[Part, ...]


def values(items: list[str], conj: str = "or") -> Values:
    if len(items) <= LIST_INLINE_MAX:
        return Values(tuple(items), (), conj)
    return Values(tuple(items[:LIST_PREVIEW]), tuple(items[LIST_PREVIEW:]), conj)


def plain(phrase: Phrase) -> str:
    """The phrase as plain text (lists in full): for search indexes and tests."""
    out = []
    for part in phrase:
        if isinstance(part, Values):
            out.append(join_words(list(part.shown + part.rest), part.conj))
        else:
            out.append(part.text)
    return "".join(out)


def visible(text: str) -> str:
    """Control characters (a witness string may end in NUL) as visible symbols: "\\x00" -> "␀"."""
    if not any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return text
    return "".join(chr(0x2400 + ord(ch)) if ord(ch) < 32 and ch not in "\t\n\r" else "␡" if ord(ch) == 127 else ch
                   for ch in text)


def join_words(items: list[str], conj: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _merge(parts) -> Phrase:
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            part = Text(part)
        if isinstance(part, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + part.text)
        elif not (isinstance(part, Text) and not part.text):
            out.append(part)
    return tuple(out)


# --- values ---------------------------------------------------------------------

def format_number(value: Decimal | int) -> str:
    """1000 -> "1,000"; 500000000 -> "500 million"; 2.5 -> "2.5" (never a currency)."""
    value = Decimal(value)
    sign = "-" if value < 0 else ""
    mag = abs(value)
    for unit, word in ((Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million")):
        if mag >= unit and (mag * 10 / unit) == (mag * 10 / unit).to_integral_value():
            scaled = mag / unit
            return f"{sign}{_plain_decimal(scaled)} {word}"
    return sign + _plain_decimal(mag)


def _plain_decimal(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}.{frac}"


def humanize(name: str) -> str:
    """A field name as words: `annual_revenue` "annual revenue", `BillingPostalCode` "billing postal
    code", a Salesforce custom field `Clinical_Type__c` "clinical type"; acronyms stay (`SIC_code`
    "SIC code")."""
    base = _CUSTOM_SUFFIX.sub("", name) or name
    spaced = _CAMEL.sub(" ", base).replace("_", " ")
    words = [w if (w.isupper() and len(w) > 1) else w.lower() for w in spaced.split()]
    return " ".join(words) or name


def territory_label(t: ir.Territory) -> str:
    """How docs name a territory: its title, else its name as words when it has several
    (`central_ent` "Central ent"); a one-word name stays as written (`na`, `emea`)."""
    if t.title:
        return t.title
    words = humanize(t.name)
    return words[:1].upper() + words[1:] if " " in words else t.name


_CUSTOM_SUFFIX = re.compile(r"__c$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    kind: str  # ir kind: bool, int, decimal, string, digits, enum
    optional: bool = False
    titles: dict[str, str] = field(default_factory=dict)  # enum member -> title
    members: tuple[str, ...] = ()  # enum members in declared order (the order of long lists)

    @property
    def label(self) -> str:
        return humanize(self.name)

    @property
    def is_count(self) -> bool:
        """An int field named like a plural ("employees", "seats") reads "1,000 or more employees"."""
        return self.kind == "int" and self.name.endswith("s") and not self.name.endswith("ss")

    def show(self, value) -> str:
        """One raw value (Decimal, str, bool, member name) as a reader sees it."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if self.kind == "enum":
            return self.titles.get(value, value)
        if isinstance(value, (int, Decimal)) and self.kind in ("int", "decimal"):
            return format_number(value)
        if self.kind == "digits":
            return str(value)
        return f"“{value}”"


# --- long value lists: sorted, runs as ranges -------------------------------------------

RUN_MIN = 3  # consecutive values written as one range "lo–hi" from this many on


def value_items(info: FieldInfo, raw: list | tuple) -> list[str]:
    """Raw values as a reader sees them: a short list as written, a long one sorted (without
    repeats), with runs of consecutive whole numbers or codes as ranges."""
    if len(raw) <= LIST_INLINE_MAX:
        return [info.show(v) for v in raw]
    distinct = list(dict.fromkeys(raw))
    if info.kind == "enum":
        order = {m: i for i, m in enumerate(info.members)}
        return [info.show(v) for v in sorted(distinct, key=lambda v: order.get(v, len(order)))]
    if info.kind in ("int", "digits"):
        numbers = sorted(distinct, key=int)
        out = []
        for run in _runs(numbers, key=int):
            if len(run) >= RUN_MIN:
                out.append(f"{info.show(run[0])}–{info.show(run[-1])}")
            else:
                out.extend(info.show(v) for v in run)
        return out
    try:
        return [info.show(v) for v in sorted(distinct)]
    except TypeError:  # mixed kinds cannot be ordered: keep them as written
        return [info.show(v) for v in distinct]


def _runs(ordered: list, key) -> list[list]:
    out: list[list] = []
    for v in ordered:
        if out and key(v) == key(out[-1][-1]) + 1:
            out[-1].append(v)
        else:
            out.append([v])
    return out


def prefix_items(info: FieldInfo, prefixes: list[str]) -> list[str]:
    """Prefixes as a reader sees them. For `digits(N)` each prefix is a range of codes: ranges
    that touch merge, and a merged range is written as one prefix ("94"), as prefixes of one
    length ("940–941": starts with 940 or 941) or as codes ("94050–94199")."""
    distinct = list(dict.fromkeys(prefixes))
    if info.kind != "digits" or not distinct or len(distinct) <= 1:
        return [info.show(p) for p in (sorted(distinct) if len(distinct) > LIST_INLINE_MAX else distinct)]
    width = max(len(p) for p in distinct)  # codes are at least this long; pad the prefixes to it
    spans = sorted((int(p.ljust(width, "0")), int(p.ljust(width, "9"))) for p in distinct)
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    if len(merged) == len(distinct) and len(distinct) <= LIST_INLINE_MAX:
        return distinct  # nothing merged in a short list: as written
    return [_prefix_span(lo, hi, width) for lo, hi in merged]


def _prefix_span(lo: int, hi: int, width: int) -> str:
    # the most trailing digits that both ends leave free (0s below `lo`, 9s up to `hi`)
    free = 0
    while free < width - 1 and lo % 10 ** (free + 1) == 0 and (hi + 1) % 10 ** (free + 1) == 0:
        free += 1
    first, last = str(lo).zfill(width)[:width - free], str(hi).zfill(width)[:width - free]
    return first if first == last else f"{first}–{last}"


# --- names the renderer needs looked up ---------------------------------------------

@dataclass(frozen=True, slots=True)
class NamedRef:
    label: str  # "the West census region", "enterprise"
    anchor: str
    values: tuple = ()  # a set's raw values, in display order


class Lookup(Protocol):
    """What the renderer needs to know about fields and where named sets and segments are documented."""

    def field(self, name: str) -> FieldInfo: ...

    def named_set(self, named: ir.NamedSet) -> NamedRef: ...

    def segment(self, named: ir.NamedSegment) -> NamedRef: ...


# --- predicates -------------------------------------------------------------------
# A node that a segment reference produced is read as that reference ("that are enterprise"),
# whatever its body is: these helpers see a node's own shape only when it is not one.

def _is_const(pred: ir.Pred) -> bool:
    return isinstance(pred, ir.Const) and pred.segment is None


def _is_junction(pred: ir.Pred, kind: type | tuple[type, ...] = (ir.And, ir.Or)) -> bool:
    return isinstance(pred, kind) and pred.segment is None


def _is_not_keyword(pred: ir.Pred) -> bool:
    """`not (...)` as written; `!=`, `not in` and `is not null` are negated atoms."""
    return isinstance(pred, ir.Not) and pred.segment is None and not pred.negates_atom


def sentence(pred: ir.Pred | None, lookup: Lookup, subject: str = "Accounts") -> Phrase:
    """"Accounts whose country is United States or Canada"; `None` and `true` are "All accounts"."""
    if pred is None or (_is_const(pred) and pred.value):
        return (Text(f"All {subject.lower()}"),)
    if _is_const(pred):
        return (Text(f"No {subject.lower()}"),)
    return _merge([subject + " ", *clause(pred, lookup)])


def clause(pred: ir.Pred, lookup: Lookup, quiet: frozenset[str] = frozenset()) -> Phrase:
    """A relative clause that follows "Accounts ": "whose state is California".

    `quiet`: fields whose missing case the surrounding clause already settles (no "or is missing")."""
    if _is_junction(pred):
        is_and = isinstance(pred, ir.And)
        conj = " and " if is_and else " or "
        other = ir.Or if is_and else ir.And
        quiet = quiet | (_present_fields(pred.operands) if is_and else _null_fields(pred.operands))
        parts: list = []
        after_missing = False
        for i, group in enumerate(_groups(pred.operands, negated=is_and)):
            if i:
                # after "... or is missing" a bare "and"/"or" would read as part of that clause
                parts.append("," + conj if after_missing else conj)
            if isinstance(group, _Group):
                inner = _group_phrase(group, lookup, quiet)
            else:
                inner = clause(group, lookup, quiet)
                if _is_junction(group, other) and not isinstance(_single_group(group), _Group):
                    inner = ("(", *inner, ")")
            after_missing = bool(inner) and isinstance(inner[-1], Text) and inner[-1].text.endswith(MISSING)
            parts += inner
        return _merge(parts)
    if _is_not_keyword(pred):
        return _negated(pred.operand, lookup, quiet)
    return _atom(pred, lookup, negated=False, quiet=quiet)


def _negated(inner: ir.Pred, lookup: Lookup, quiet: frozenset[str] = frozenset()) -> Phrase:
    if _is_not_keyword(inner):
        return clause(inner.operand, lookup, quiet)
    group = _single_group(inner)
    if isinstance(group, _Group):  # `not (zip startswith {..})`: one negated list
        return _group_phrase(dataclasses.replace(group, negated=True), lookup, quiet)
    if _is_junction(inner) or _is_const(inner):
        return _merge(["that do not match (", *sentence(inner, lookup), ")"])
    return _atom(inner, lookup, negated=True, quiet=quiet)


# --- one list for many values compared with one field ------------------------------------
# In an `or`, `zip startswith "940" or zip startswith "941"` (and `startswith {..}`, which the
# resolver lowers to that) reads as one clause, as do `state == CA or state in {NV, OR}`; in an
# `and`, the negated forms (`zip != x and not (zip startswith "9")`) do.

@dataclass(frozen=True, slots=True)
class _Group:
    field: str
    tests: tuple[tuple[str, tuple], ...]  # ("starts with" | "is", raw values or prefixes in written order)
    negated: bool


def _membership(pred: ir.Pred, negated: bool) -> tuple[str, str, tuple] | None:
    """(field, verb, values) when `pred` is a plain (or, when `negated`, a negated) test of one
    field against values: what can join a list."""
    if negated:
        if not (isinstance(pred, ir.Not) and pred.segment is None):
            return None
        pred = pred.operand
    if pred.segment is not None:
        return None
    if isinstance(pred, ir.StartsWith):
        return pred.field, "starts with", (pred.prefix,)
    if isinstance(pred, ir.Compare) and pred.op == "==":
        return pred.field, "is", (pred.value,)
    if isinstance(pred, ir.InSet) and isinstance(pred.source, ir.SetLiteral):
        return pred.field, "is", tuple(pred.source.values)
    if isinstance(pred, ir.Or) and pred.operands:  # `startswith {..}`, or a nested list of the same field
        parts = [_membership(op, False) for op in pred.operands]
        if all(parts) and len({(f, v) for f, v, _ in parts}) == 1:
            return parts[0][0], parts[0][1], tuple(x for _, _, vs in parts for x in vs)
    return None


def _groups(operands, *, negated: bool) -> list:
    """The operands that test one field against values gathered into a `_Group` (at the place
    of the first); the others, and a value test alone with its field, as they are (except an
    `or` of prefixes, which is always a list)."""
    out: list = []
    members: dict[str, list] = {}
    for op in operands:
        found = _membership(op, negated)
        if found is None:
            out.append(op)
            continue
        fld = found[0]
        if fld not in members:
            members[fld] = []
            out.append(fld)
        members[fld].append((op, found[1], found[2]))
    result = []
    for item in out:
        if not isinstance(item, str):
            result.append(item)
            continue
        found = members[item]
        op = found[0][0]
        if len(found) == 1 and not _is_junction(op.operand if negated else op):
            result.append(op)
            continue
        tests: dict[str, tuple] = {}
        for _, verb, vals in found:
            tests[verb] = tests.get(verb, ()) + vals
        result.append(_Group(item, tuple(tests.items()), negated))
    return result


def _single_group(pred: ir.Pred):
    """The one `_Group` an `or` of values of one field amounts to, else None."""
    if not _is_junction(pred, ir.Or):
        return None
    found = _membership(pred, False)
    return _Group(found[0], ((found[1], found[2]),), False) if found is not None else None


def _group_phrase(group: _Group, lookup: Lookup, quiet: frozenset[str]) -> Phrase:
    """"whose zip starts with 940–941 or is 95000"; negated "whose zip does not start with 940
    and is not 95000, or is missing"."""
    info = lookup.field(group.field)
    if info.name in quiet:
        info = dataclasses.replace(info, optional=False)
    parts: list = [f"whose {info.label} "]
    listed = 0
    for i, (verb, raw) in enumerate(group.tests):
        if i:
            parts.append(" and " if group.negated else " or ")
        if verb == "starts with":
            items = prefix_items(info, list(raw))
            head, conj = ("does not start with " if group.negated else "starts with "), "or"
        else:
            items = value_items(info, list(raw))
            if not group.negated or len(items) == 1:
                head, conj = ("is not " if group.negated else "is "), "or"
            else:
                head, conj = ("is neither ", "nor") if len(items) == 2 else ("is none of ", "or")
        listed += len(items)
        parts += [head, values(items, conj)]
    note = _missing_note(info, group.negated)
    if note and listed > 1:
        note = "," + note  # "does not start with 940, 941 or 945, or is missing"
    return _merge([*parts, note])


def _present_fields(operands) -> frozenset[str]:
    """Fields that an `and` of these operands requires to be present (so no "or is missing" there)."""
    out = set()
    for op in operands:
        if op.segment is not None:
            continue
        if isinstance(op, ir.Not) and isinstance(op.operand, ir.IsNull) and op.operand.segment is None:
            out.add(op.operand.field)
        elif isinstance(op, (ir.Compare, ir.InSet, ir.InRange, ir.StartsWith)):
            out.add(op.field)
        elif (found := _membership(op, False)) is not None:
            out.add(found[0])
    return frozenset(out)


def _null_fields(operands) -> frozenset[str]:
    """Fields that an `or` of these operands accepts when missing (`zip is null or ...`)."""
    return frozenset(op.field for op in operands if isinstance(op, ir.IsNull) and op.segment is None)


MISSING = " or is missing"


def _missing_note(info: FieldInfo, negated: bool) -> str:
    # `not (state in X)` is true for a missing state: say so where the field may be missing.
    return MISSING if negated and info.optional else ""


def _atom(pred: ir.Pred, lookup: Lookup, *, negated: bool, quiet: frozenset[str] = frozenset()) -> Phrase:
    """One atom, `negated` by a `not` around it; it may itself be written negated (`!=`, `not in`)."""
    if pred.segment is not None:
        ref = lookup.segment(pred.segment)
        return (Text("that are not " if negated else "that are "), Link(ref.label, ref.anchor))
    if isinstance(pred, ir.Const):
        return (Text("of any kind" if pred.value != negated else "of no kind"),)
    written_negated = isinstance(pred, ir.Not)
    if written_negated:
        assert pred.negates_atom and isinstance(pred.operand, ir.ATOMS), pred  # the others are handled above
        pred = pred.operand
    info = lookup.field(pred.field)
    if info.name in quiet and not isinstance(pred, ir.IsNull):
        info = dataclasses.replace(info, optional=False)  # the clause around settles the missing case
    whose = f"whose {info.label} "
    if isinstance(pred, ir.IsNull):
        missing = written_negated == negated  # `is null`, or `not (is not null)`
        return (Text(f"with no {info.label}" if missing else f"with a {info.label}"),)
    if isinstance(pred, ir.StartsWith):
        verb = "does not start with" if negated else "starts with"
        prefix = pred.prefix if info.kind == "digits" else f"“{pred.prefix}”"
        return (Text(f"{whose}{verb} {prefix}{_missing_note(info, negated)}"),)
    if isinstance(pred, ir.Compare):
        return _comparison("!=" if written_negated else pred.op, pred.value, info, negated)
    if isinstance(pred, ir.InRange):
        return _range(pred, info, negated != written_negated)
    if isinstance(pred, ir.InSet):
        neg = negated != written_negated
        target = pred.source
        if isinstance(target, ir.SetLiteral):
            shown = value_items(info, target.values)
            if not neg or len(shown) == 1:
                head, conj = ("is not " if neg else "is "), "or"
            else:
                head, conj = ("is neither ", "nor") if len(shown) == 2 else ("is none of ", "or")
            return _merge([whose + head, values(shown, conj), _missing_note(info, neg)])
        union = isinstance(target, ir.SetOp)
        head = ("is in none of " if union else "is not in ") if neg else "is in "
        return _merge([whose + head, *_set_phrase(target, info, lookup, preview=not union),
                       _missing_note(info, neg)])
    raise AssertionError(f"unhandled predicate {type(pred).__name__}")  # pragma: no cover


_FLIP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def _comparison(written_op: str, value, info: FieldInfo, negated: bool) -> Phrase:
    op = _FLIP[written_op] if negated else written_op
    # `not (x < 5)` flips to `x >= 5` only for a present value; a missing one makes it true too.
    missing = _missing_note(info, negated and written_op != "!=") or (
        MISSING if not negated and written_op == "!=" and info.optional else "")
    v = info.show(value)
    if op in ("==", "!="):
        verb = "is" if op == "==" else "is not"
        return (Text(f"whose {info.label} {verb} {v}{missing}"),)
    if info.is_count:
        text = {">=": f"with {v} or more {info.label}", ">": f"with more than {v} {info.label}",
                "<=": f"with at most {v} {info.label}", "<": f"with fewer than {v} {info.label}"}[op]
    elif info.kind in ("int", "decimal"):
        text = {">=": f"with {info.label} of at least {v}", ">": f"with {info.label} above {v}",
                "<=": f"with {info.label} of at most {v}", "<": f"with {info.label} below {v}"}[op]
    else:
        text = {">=": f"whose {info.label} is {v} or later", ">": f"whose {info.label} comes after {v}",
                "<=": f"whose {info.label} is {v} or earlier", "<": f"whose {info.label} comes before {v}"}[op]
        if info.kind == "enum":
            text = text.replace("later", "after in the list").replace("earlier", "before in the list")
    return (Text(text + missing),)


def _range(rng: ir.InRange, info: FieldInfo, negated: bool) -> Phrase:
    lo = info.show(rng.lo) if rng.lo is not None else None
    hi = info.show(rng.hi) if rng.hi is not None else None
    subject = f"with {info.label}" if info.kind in ("int", "decimal") else f"whose {info.label} is"
    if lo is not None and hi is not None:
        body = f"{'not ' if negated else ''}between {lo} and {hi}"
    elif lo is not None:
        body = f"below {lo}" if negated else f"of at least {lo}" if subject.startswith("with") else f"{lo} or later"
    elif hi is not None:
        body = f"above {hi}" if negated else f"of at most {hi}" if subject.startswith("with") else f"{hi} or earlier"
    else:
        body = "of no value" if negated else "of any value"
    return (Text(f"{subject} {body}{_missing_note(info, negated)}"),)


def _set_phrase(expr: ir.SetExpr, info: FieldInfo, lookup: Lookup, *, preview: bool) -> Phrase:
    if isinstance(expr, ir.SetLiteral):
        return (values(value_items(info, expr.values)),)
    if isinstance(expr, ir.SetOp):
        if expr.op == "-":
            left = _set_phrase(expr.left, info, lookup, preview=preview)
            right = _set_phrase(expr.right, info, lookup, preview=preview)
            return _merge([*left, " but not ", *right])
        parts: list = []
        operands = _union_operands(expr)
        for i, operand in enumerate(operands):
            if i:
                parts.append(" or " if i == len(operands) - 1 else ", ")
            parts += _set_phrase(operand, info, lookup, preview=preview)
        return _merge(parts)
    ref = lookup.named_set(expr.set)
    parts: list = [Link(ref.label, ref.anchor)]
    if preview and ref.values:
        shown = [info.show(v) for v in ref.values]
        head = shown[:LIST_PREVIEW]
        tail = ", …" if len(shown) > LIST_PREVIEW else ""
        parts.append(f" ({', '.join(head)}{tail})")
    return _merge(parts)


def _union_operands(expr: ir.SetExpr) -> list:
    """`a + b + c` (however grouped) as [a, b, c]."""
    if isinstance(expr, ir.SetOp) and expr.op == "+":
        return _union_operands(expr.left) + _union_operands(expr.right)
    return [expr]


def set_description(expr: ir.SetExpr, info: FieldInfo, lookup: Lookup) -> Phrase:
    """A set declaration's definition in words (for the glossary)."""
    return _set_phrase(expr, info, lookup, preview=False)


def doc_label(doc: str | None, fallback: str) -> str:
    """A set's name in criteria: its doc's first line ("The West census region." -> "the West census region")."""
    if not doc:
        return fallback
    first = doc.strip().splitlines()[0].strip().rstrip(".").strip()
    if not first:
        return fallback
    word, _, rest = first.partition(" ")
    if word in ("The", "A", "An") and rest:
        first = word.lower() + " " + rest
    return first
