"""The syntax tree of a `.terr` file, lowered from Lark's concrete tree by terrl.parser.

Every node carries a `span` that is ignored by equality, so two trees that differ only
in layout compare equal (the formatter relies on it to check itself). Children are
tuples. Names that the user wrote are `Ident`s so that diagnostics can point at them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Optional, Union

from terrl.diagnostics.source import Span


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Ident:
    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class QualName:
    """`us.west`, `FY27`, `na.west.west_ent`: one or more dotted parts."""

    parts: tuple[Ident, ...]
    span: Span | None = _span()

    @property
    def text(self) -> str:
        return ".".join(p.name for p in self.parts)


# --- literals ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NumberLit:
    value: Decimal  # suffixes applied: 500M -> 500000000
    text: str  # as written, for the formatter and messages
    span: Span | None = _span()

    @property
    def is_integral(self) -> bool:
        return self.value == self.value.to_integral_value()


@dataclass(frozen=True, slots=True)
class StringLit:
    value: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class NullLit:
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class MemberLit:
    """A bare name used as a value: an enum member (`CA`, `software`)."""

    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class DateLit:
    value: datetime.date
    span: Span | None = _span()


Literal_ = Union[NumberLit, StringLit, BoolLit, NullLit, MemberLit]


# --- types ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EnumMember:
    name: Ident
    title: Optional[StringLit] = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SimpleType:
    kind: Literal["bool", "int", "decimal", "string"]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class DigitsType:
    length: NumberLit
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class InlineEnum:
    members: tuple[EnumMember, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class NamedType:
    name: QualName
    span: Span | None = _span()


BaseType = Union[SimpleType, DigitsType, InlineEnum, NamedType]


@dataclass(frozen=True, slots=True)
class RangeExpr:
    """`LO..HI`, both ends inclusive; a missing end is open."""

    lo: Optional[Union[NumberLit, StringLit]]
    hi: Optional[Union[NumberLit, StringLit]]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class TypeExpr:
    base: BaseType
    optional: bool = False
    bounds: Optional[RangeExpr] = None
    span: Span | None = _span()
    context: Optional["TypeContext"] = None  # `of country [in {US, CA}]`: a subdivision field


@dataclass(frozen=True, slots=True)
class TypeContext:
    """`of FIELD [in SET]`: values are read in the context of another field (a subdivision code
    of the account's country); with `in SET`, only for those countries."""

    field: Ident
    countries: Optional["SetExpr"] = None
    span: Span | None = _span()


# --- set expressions ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SetLiteral:
    values: tuple[Literal_, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SetRef:
    name: QualName
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SetOp:
    """`left + right` (union) or `left - right` (difference)."""

    op: Literal["+", "-"]
    left: "SetExpr"
    right: "SetExpr"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SetParen:
    inner: "SetExpr"
    span: Span | None = _span()


SetExpr = Union[SetLiteral, SetRef, SetOp, SetParen]


# --- predicates -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Comparison:
    field: Ident
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    value: Literal_
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class InSetPred:
    field: Ident
    negated: bool
    target: SetExpr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class InRangePred:
    field: Ident
    negated: bool
    range: RangeExpr
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StartsWithPred:
    """`field startswith "94"`, or with a set of prefixes: `field startswith {"940", "941"}`."""

    field: Ident
    prefix: "Literal_ | SetLiteral"  # StringLits when valid; the resolver reports anything else
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class NullPred:
    field: Ident
    negated: bool  # `is not null`
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class BoolPred:
    value: bool
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class SegmentRef:
    name: QualName
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class NotPred:
    operand: "Pred"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class AndPred:
    operands: tuple["Pred", ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class OrPred:
    operands: tuple["Pred", ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ParenPred:
    """Parentheses the user wrote; kept so that `fmt` preserves them."""

    inner: "Pred"
    span: Span | None = _span()


Pred = Union[Comparison, InSetPred, InRangePred, StartsWithPred, NullPred, BoolPred, SegmentRef,
             NotPred, AndPred, OrPred, ParenPred]


# --- declarations -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ImportDecl:
    module: Optional[QualName]  # `import geo.us`
    path: Optional[StringLit]  # `import "./segments.terr"`
    alias: Optional[Ident]
    span: Span | None = _span()
    doc: Optional[str] = None

    @property
    def local_name(self) -> str:
        """The qualifier this import's names are used with."""
        if self.alias is not None:
            return self.alias.name
        if self.module is not None:
            return self.module.parts[-1].name
        stem = self.path.value.rsplit("/", 1)[-1] if self.path else ""
        return stem[:-5] if stem.endswith(".terr") else stem


@dataclass(frozen=True, slots=True)
class EnumDecl:
    name: Ident
    members: tuple[EnumMember, ...]
    span: Span | None = _span()
    doc: Optional[str] = None
    country: Optional[Ident] = None  # `enum UsState of US`: the members are subdivisions of US


@dataclass(frozen=True, slots=True)
class SetDecl:
    name: Ident
    type: TypeExpr
    expr: SetExpr
    span: Span | None = _span()
    doc: Optional[str] = None


@dataclass(frozen=True, slots=True)
class SegmentDecl:
    name: Ident
    pred: Pred
    span: Span | None = _span()
    doc: Optional[str] = None


@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: Ident
    type: TypeExpr
    key: bool = False
    span: Span | None = _span()
    doc: Optional[str] = None


@dataclass(frozen=True, slots=True)
class SchemaDecl:
    name: Ident
    fields: tuple[FieldDecl, ...]
    span: Span | None = _span()
    doc: Optional[str] = None


# body items of models and territories

@dataclass(frozen=True, slots=True)
class WhereItem:
    pred: Pred
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ElseItem:
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class PolicyItem:
    policy: Literal["unique", "first", "all"]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class KeepItem:
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class OwnerItem:
    owner: StringLit
    role: Optional[Ident] = None
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class MetaEntry:
    key: Ident
    value: Union[Literal_, DateLit]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class MetaItem:
    entries: tuple[MetaEntry, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class EffectiveItem:
    date: DateLit
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class StatusItem:
    status: Literal["planning", "active", "archived"]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class TerritoryDecl:
    name: Ident
    title: Optional[StringLit]
    items: tuple["BodyItem", ...]
    span: Span | None = _span()
    doc: Optional[str] = None


BodyItem = Union[WhereItem, ElseItem, PolicyItem, KeepItem, OwnerItem, MetaItem, EffectiveItem, StatusItem, TerritoryDecl]


@dataclass(frozen=True, slots=True)
class ModelDecl:
    name: Ident
    title: Optional[StringLit]
    schema: Optional[QualName]  # `model FY27 for Account`
    items: tuple[BodyItem, ...]
    span: Span | None = _span()
    doc: Optional[str] = None


@dataclass(frozen=True, slots=True)
class AccountEntry:
    field: Ident
    value: Literal_
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class AccountItem:
    entries: tuple[AccountEntry, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ExpectItem:
    model: QualName  # `FY27`, or `fy27.FY27` for a model in an imported file
    outcome: Union[QualName, Literal["unassigned", "invalid"]]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class TestDecl:
    name: StringLit
    items: tuple[Union[AccountItem, ExpectItem], ...]
    span: Span | None = _span()
    doc: Optional[str] = None
    __test__ = False  # not a pytest class


Decl = Union[ImportDecl, EnumDecl, SetDecl, SegmentDecl, SchemaDecl, ModelDecl, TestDecl]


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # including the leading `#`
    span: Span | None = _span()

    @property
    def is_doc(self) -> bool:
        return self.text.startswith("##")


@dataclass(frozen=True, slots=True)
class Module:
    decls: tuple[Decl, ...]
    doc: Optional[str] = None  # a `##` block before the first import
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    span: Span | None = _span()
