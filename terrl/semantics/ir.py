"""The checked program: what every back end consumes.

The resolver lowers the AST into these nodes. Names are resolved, sets and segments
expanded, literals typed, `!=` and `not in` rewritten as `Not(...)`. Spans point back
to the source for diagnostics; they never take part in equality.

Provenance (what was written, for docs and plain English; never part of equality, so
the analysis and the evaluators see only meaning): a predicate that a segment reference
produced carries `segment`; a `Not` says how it was `written` (`not`, `!=`, `not in`,
`is not null`); an `InSet` keeps its set expression as `source` (literals in written
order, `+`/`-`, references to `NamedSet`s); an `Or` says whether it was a set of prefixes
(`written="startswith"`); literals keep their source `text`.

Value representation (the same in predicates, test accounts and coerced input):

| field kind | Python value |
|------------|--------------|
| bool       | bool         |
| int        | int          |
| decimal    | decimal.Decimal (exact, never float) |
| string     | str          |
| digits     | str of exactly N ASCII digits |
| enum       | str (the member name) |
| missing    | None         |
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Union

from terrl.diagnostics.source import Span

Value = Union[bool, int, Decimal, str]
Kind = Literal["bool", "int", "decimal", "string", "digits", "enum"]
Policy = Literal["unique", "first", "all"]
ORDERED_KINDS = frozenset({"int", "decimal", "string", "digits", "enum"})


# --- schema ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FieldType:
    kind: Kind
    lo: int | Decimal | None = None  # inclusive lower bound (int, decimal) or None
    hi: int | Decimal | None = None  # inclusive upper bound (int, decimal) or None
    digits: int | None = None  # N of digits(N)
    members: tuple[str, ...] = ()  # enum members in declared order
    enum_name: str | None = None  # "us.UsState" for a named enum, None for an inline one
    titles: tuple[str | None, ...] = field(default=(), compare=False)  # each member's title, for hints and docs
    doc: str | None = field(default=None, compare=False)  # a named enum's `##` doc, for docs
    country: str | None = None  # `enum UsState of US`: member `CA` stands for the subdivision `US-CA`
    subdivisions: bool = False  # an enum of ISO 3166-2 codes (`US-CA`): it may be read `of` a country field

    def describe(self) -> str:
        if self.kind == "digits":
            return f"digits({self.digits})"
        if self.kind == "enum":
            return self.enum_name or "enum {" + ", ".join(self.members) + "}"
        if self.lo is not None or self.hi is not None:
            lo = "" if self.lo is None else str(self.lo)
            hi = "" if self.hi is None else str(self.hi)
            return f"{self.kind} in {lo}..{hi}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: FieldType
    optional: bool = False
    key: bool = False
    span: Span | None = field(default=None, compare=False)
    doc: str | None = field(default=None, compare=False)  # the field's `##` doc, for docs
    # `state: subdivisions.Subdivision? of country [in {US, CA}]`: a raw `CA` is read as
    # `<country>-CA`; only for accounts whose `context` field is one of `read_for` (None: any
    # country), otherwise the value is not read (missing). See `terrl.semantics.coerce`.
    context: str | None = None
    read_for: frozenset[str] | None = None

    def type_text(self) -> str:
        """The type as declared, `of` clause included: `subdivisions.Subdivision of country in {CA, US}`."""
        if self.context is None:
            return self.type.describe()
        base = self.type.describe().split(" in {")[0]  # a listed field's enum says its countries
        listed = "" if self.read_for is None else " in {" + ", ".join(sorted(self.read_for)) + "}"
        return f"{base} of {self.context}{listed}"


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    fields: tuple[Field, ...]
    span: Span | None = field(default=None, compare=False)
    doc: str | None = None
    # Provenance for docs: the declaring file as shown to the user, and whether it is in the stdlib.
    file: str = field(default="", compare=False)
    stdlib: bool = field(default=False, compare=False)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def key(self) -> Field | None:
        return next((f for f in self.fields if f.key), None)


# --- predicates -----------------------------------------------------------------
# Two-valued logic: every atom is false when its field is missing (None), except
# IsNull; Not inverts. `field != v` is Not(Compare(field, "==", v)).
# Every node's `segment` is set when a segment reference produced it (the segment's body).

def _segment():
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Const:
    value: bool
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: Literal["==", "<", "<=", ">", ">="]
    value: Value
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()
    text: str | None = field(default=None, compare=False, repr=False)  # the value as written: "500M", "CA"


@dataclass(frozen=True, slots=True)
class InSet:
    field: str
    values: frozenset[Value]
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()
    source: "SetExpr | None" = field(default=None, compare=False, repr=False)  # the set as written


@dataclass(frozen=True, slots=True)
class InRange:
    """`field in LO..HI`, both ends inclusive; None is an open end."""

    field: str
    lo: Value | None
    hi: Value | None
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()
    lo_text: str | None = field(default=None, compare=False, repr=False)  # the ends as written
    hi_text: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StartsWith:
    field: str
    prefix: str
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()
    text: str | None = field(default=None, compare=False, repr=False)  # the prefix as written, quotes included


@dataclass(frozen=True, slots=True)
class IsNull:
    field: str
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()


# How a Not was written: the keyword, or the negated form of an atom (`!=`, `not in`, `is not null`).
Negation = Literal["not", "!=", "not in", "is not null"]


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Pred"
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()
    written: Negation = field(default="not", compare=False, repr=False)

    @property
    def negates_atom(self) -> bool:
        """`a != b`, `a not in S`, `a is not null`: one negated atom rather than `not (...)`."""
        return self.written != "not"


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple["Pred", ...]
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple["Pred", ...]
    span: Span | None = field(default=None, compare=False)
    segment: "NamedSegment | None" = _segment()
    # `or`, or `startswith`: `field startswith {"940", "941"}`, one StartsWith per prefix.
    written: Literal["or", "startswith"] = field(default="or", compare=False, repr=False)


Pred = Union[Const, Compare, InSet, InRange, StartsWith, IsNull, Not, And, Or]
TRUE = Const(True)
FALSE = Const(False)
ATOMS = (Compare, InSet, InRange, StartsWith, IsNull)


def pred_fields(pred: Pred) -> set[str]:
    """The fields a predicate reads."""
    if isinstance(pred, ATOMS):
        return {pred.field}
    if isinstance(pred, Not):
        return pred_fields(pred.operand)
    if isinstance(pred, (And, Or)):
        out: set[str] = set()
        for p in pred.operands:
            out |= pred_fields(p)
        return out
    return set()


# --- models ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    role: str | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Territory:
    name: str
    path: str  # dotted path below the model: "na.west.west_ent"
    title: str | None
    where: Pred | None  # None: no `where` (matches all that reaches the parent) or `else`
    is_else: bool
    policy: Policy  # effective policy among this territory's children (inherited)
    keep: bool
    owners: tuple[Owner, ...] = ()
    meta: tuple[tuple[str, Value], ...] = ()
    doc: str | None = None
    children: tuple["Territory", ...] = ()
    span: Span | None = field(default=None, compare=False)  # the whole declaration
    name_span: Span | None = field(default=None, compare=False)
    where_span: Span | None = field(default=None, compare=False)  # the `where ...` / `else` item
    policy_span: Span | None = field(default=None, compare=False)  # its own `policy` item; None: inherited

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self):
        """This territory and every descendant, depth first in source order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    title: str | None
    schema: Schema
    universe: Pred | None  # the model's own `where`, or None for every valid account
    policy: Policy  # policy among top-level territories
    keep: bool
    territories: tuple[Territory, ...]
    effective: datetime.date | None = None
    status: Literal["planning", "active", "archived"] | None = None
    doc: str | None = None
    file: str = ""
    span: Span | None = field(default=None, compare=False)
    name_span: Span | None = field(default=None, compare=False)
    where_span: Span | None = field(default=None, compare=False)
    policy_span: Span | None = field(default=None, compare=False)  # its `policy` item; None: the default

    def walk(self):
        for t in self.territories:
            yield from t.walk()

    def territory(self, path: str) -> Territory:
        for t in self.walk():
            if t.path == path:
                return t
        raise KeyError(path)


# --- tests ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Expectation:
    model: str
    outcome: str  # a territory path, "unassigned" or "invalid"
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class TestCase:
    name: str
    account: tuple[tuple[str, Value | None], ...]  # as written: field -> typed literal (enum members as str)
    expectations: tuple[Expectation, ...]
    span: Span | None = field(default=None, compare=False)
    __test__ = False  # not a pytest class


# --- symbols (provenance for docs; never part of equality) ------------------------

@dataclass(frozen=True, slots=True)
class SetLiteral:
    """`{a, b}` in a set expression: the typed values in written order (repeats kept)."""

    values: tuple[Value, ...]
    texts: tuple[str, ...]  # each value as written


@dataclass(frozen=True, slots=True)
class SetOp:
    """`left + right` (union) or `left - right` (difference); parentheses are not kept."""

    op: Literal["+", "-"]
    left: "SetExpr"
    right: "SetExpr"


@dataclass(frozen=True, slots=True)
class SetRef:
    """A named set used in a set expression, resolved to its declaration."""

    set: "NamedSet"


SetExpr = Union[SetLiteral, SetOp, SetRef]


@dataclass(frozen=True, slots=True)
class NamedSet:
    """A declared `set`, as the resolver evaluated it."""

    name: str  # as declared, unqualified
    file: str  # the declaring file as shown to the user
    type: FieldType
    values: frozenset[Value]
    doc: str | None = None
    span: Span | None = field(default=None, compare=False)
    module: str = field(default="", compare=False, repr=False)  # the declaring file's stem: `us` in `us.west`
    expr: SetExpr | None = field(default=None, compare=False, repr=False)  # its definition as written


@dataclass(frozen=True, slots=True, eq=False)
class NamedSegment:
    """A declared `segment`, lowered against the schema of the predicate that uses it.

    Identity, not equality: it only ever sits in `segment` fields, which take no part in equality."""

    name: str  # as declared, unqualified
    file: str  # the declaring file as shown to the user
    module: str  # the declaring file's stem: `accounts` in `accounts.enterprise`
    pred: "Pred" = field(repr=False)  # its body (which may itself come from another segment)
    doc: str | None = None
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """Everything checked from the files given to terrl (imports included)."""

    models: tuple[Model, ...]
    tests: tuple[TestCase, ...] = ()
    schemas: tuple[Schema, ...] = ()
    # Every named set the resolver evaluated (imported ones included), for docs.
    sets: tuple[NamedSet, ...] = field(default=(), compare=False)
    # The root file as shown to the user and its `##` header (before its first import).
    file: str = field(default="", compare=False)
    doc: str | None = field(default=None, compare=False)
    # Models of imported files that this file's tests name, by name as written (`fy26.FY26`).
    tested_models: tuple[tuple[str, Model], ...] = field(default=(), compare=False)

    def named_set(self, file: str, name: str) -> NamedSet:
        for s in self.sets:
            if s.file == file and s.name == name:
                return s
        raise KeyError(f"{file}:{name}")

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def tested_model(self, name: str) -> Model:
        """The model a test's `expect` names: one of this file's, or `fy26.FY26` from an import."""
        for written, m in self.tested_models:
            if written == name:
                return m
        return self.model(name)
