"""`--target sql`: assign accounts inside a database, with the evaluator's exact meaning.

The SQL is built as sqlglot expressions and rendered per dialect (duckdb, postgres,
spark, bigquery, snowflake) with every identifier quoted. It never evaluates the
`where` predicates row by row. Like the Python evaluator it uses the model's outcome
diagram (`terrl.targets.outcome_dd`):

1. `terrl_input`: the account table (typed columns), or, for `input_types="text"`
   (CSV read through DuckDB), every column as text, parsed and checked in SQL.
2. `terrl_checked`: per row, the `invalid` reason (NULL when valid, worded like
   `terrl.semantics.coerce`) and each field's **cell** (`terrl.analysis.domain`): a balanced `CASE` tree
   over the field's boundaries, O(log boundaries); a missing value is its own cell, so
   SQL's NULL never reaches a comparison (two-valued logic holds by construction).
3. `terrl_level_<i>`: the diagram's nodes that test field i, as an inline table
   (node, cell, kid) — one row per cell, or per piece (node, first, last, kid) when
   that would be too large. The walk is one LEFT JOIN per field: an equi-join on
   (current node, cell), so the work per row is the number of fields, not territories.
4. `terrl_results`: one row per diagram terminal with status, territories, titles,
   owners, reason (`terrl.outcome.result_fields`, so the wording is the evaluator's).
   Several territories (`policy all`, overlaps) are joined with `;` as in the CSV
   result file.

Exactness: decimal boundaries are exact decimal literals (`CAST('12.5' AS DECIMAL(38, s))`
where a dialect reads `12.5` as a float); text is compared in code-point order (postgres:
`COLLATE "C"`); `startswith` is a range of the field's cells, never `LIKE`.

Documented differences from the Python evaluator: docs/sql.md.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Sequence

import sqlglot
from sqlglot import exp

from terrl import __version__
from terrl.semantics import ir
from terrl.targets.outcome import Outcome, result_fields
from terrl.analysis.dd import TooLarge
from terrl.analysis.domain import build_model_domains
from terrl.targets.outcome_dd import OutcomeDiagram, build_outcome_diagram

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")
INPUT_TYPES = ("typed", "text")
RESULT_COLUMNS = ("key", "status", "territories", "titles", "owners", "reason")
LIST_SEPARATOR = ";"
# A level is written as one row per (node, cell), joined on equality, unless that is more than
# DENSE_FACTOR times its pieces or DENSE_LIMIT rows: then one row per piece (node, first, last),
# joined on the node and a range (a few pieces per node in practice).
DENSE_LIMIT = 200_000
DENSE_FACTOR = 4
PRECISION = 38  # widest DECIMAL in duckdb, spark and snowflake
SHOWN_CHARS = 40  # as terrl.coerce.SHOWN_CHARS
MAX_NUMBER_CHARS = 1000  # as terrl.semantics.coerce.MAX_NUMBER_CHARS


class SqlUnsupported(ValueError):
    """The model uses a value that the chosen SQL dialect cannot hold exactly, or is too large for it."""


# The SQL walks the model's outcome diagram, whose terminals are combinations of territories:
# they multiply with independent overlays (`policy all`, overlaps under `unique`). Past this many
# pieces (about 300 MB and tens of seconds to build), terrl says so rather than run out of memory.
MAX_PIECES = 2_000_000


def too_large(model: ir.Model) -> str:
    """Why a model's diagram is too large, naming the groups and fields that make it so."""
    groups = [(len(t.children), t.path, t.policy) for t in model.walk() if t.children]
    groups.append((len(model.territories), "(top level)", model.policy))
    widest = sorted((g for g in groups if g[2] != "first"), reverse=True)[:3]
    domains = sorted(build_model_domains(model), key=lambda d: -d.cells)[:3]
    named = ", ".join(f"{path} ({n} children, policy {policy})" for n, path, policy in widest) or "none"
    fields = ", ".join(f"`{d.name}` ({d.cells:,} cells)" for d in domains if d.cuts)
    return (f"its decision diagram needs more than {MAX_PIECES:,} pieces: the combinations of territories that "
            f"match together multiply (the widest sibling groups that can match together: {named}; the most cut "
            f"fields: {fields}). The Python evaluator has no such bound (`--target python`, `--engine python`)")


# --- small expression helpers (no copies: every node is built once) -----------------

def _unaliased(e: exp.Expression) -> exp.Expression:
    return e.this if isinstance(e, exp.Alias) else e


def _alias(e: exp.Expression, name: str, quoted: bool = True) -> exp.Expression:
    return exp.alias_(e, name, quoted=quoted, copy=False)


def _cast(e: exp.Expression, to: exp.DataType) -> exp.Expression:
    return exp.cast(e, to, copy=False)


def _and(*parts: exp.Expression) -> exp.Expression:
    return exp.and_(*parts, copy=False)


def _or(*parts: exp.Expression) -> exp.Expression:
    return exp.or_(*parts, copy=False)


def _select(*columns: exp.Expression | str) -> exp.Select:
    return exp.Select(expressions=[exp.Star() if c == "*" else c for c in columns])


def _not(e: exp.Expression) -> exp.Expression:
    return exp.not_(e, copy=False)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _str(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _int(value: int) -> exp.Expression:
    if -(2**63) < value < 2**63:
        return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))
    return _dec(Decimal(value), 0)


def _dec(value: Decimal, scale: int, narrow: bool = False) -> exp.Expression:
    """An exact decimal constant: CAST('…' AS DECIMAL(38, scale)) (BigQuery reads 12.5 as a float).

    `narrow`: DECIMAL(digits, scale), as few digits as the value needs. Spark compares two
    decimals in their wider type, and where that needs more than 38 digits it drops fraction
    digits first: a DECIMAL(38, 10) column against a DECIMAL(38, 0) boundary is compared
    rounded to whole numbers (499999999.9999999999 >= 500000000). Against a narrow boundary
    the wider type is the column's own, so the comparison is exact."""
    with localcontext() as ctx:
        ctx.prec = 4 * PRECISION  # room for any boundary that passed `_scale`
        text = format(value.quantize(Decimal(1).scaleb(-scale)), "f")
    precision = PRECISION
    if narrow:
        whole = text.lstrip("-").split(".")[0].lstrip("0")
        precision = max(1, len(whole) + scale)
    return _cast(_str(text), exp.DataType.build(f"DECIMAL({precision}, {scale})"))


def _null(kind: str = "VARCHAR") -> exp.Expression:
    return _cast(exp.null(), exp.DataType.build(kind))


def _case(whens: Sequence[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=cond, true=then) for cond, then in whens], default=default)


def _concat(parts: Sequence[exp.Expression]) -> exp.Expression:
    """a || b || …, NULL when any part is NULL (balanced: long lists nest shallowly)."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return exp.DPipe(this=_concat(parts[:mid]), expression=_concat(parts[mid:]), safe=False)


def _length(e: exp.Expression) -> exp.Expression:
    return exp.Length(this=e)


def _substr(e: exp.Expression, start: int, length: int | None = None) -> exp.Expression:
    return exp.Substring(this=e, start=exp.Literal.number(start),
                         length=None if length is None else exp.Literal.number(length))


def _contains(e: exp.Expression, text: str) -> exp.Expression:
    return exp.GT(this=exp.StrPosition(this=e, substr=_str(text)), expression=exp.Literal.number(0))


def _replace(e: exp.Expression, old: str, new: str) -> exp.Expression:
    return exp.Anonymous(this="REPLACE", expressions=[e, _str(old), _str(new)])


# --- the plan: what the SQL is made of, independent of dialect -------------------------

@dataclass
class Plan:
    """The flattened outcome diagram: what the SQL tables hold."""

    model: ir.Model
    diagram: OutcomeDiagram
    root: int  # node id (>= 0 inner, < 0 terminal)
    levels: list[tuple[int, list[tuple[int, int, int, int]]]]  # (level, [(node, first, end, kid)]) in level order
    results: list[tuple]  # result index -> (status, territories, titles, owners, reason)
    field_levels: dict[str, int] = field(default_factory=dict)


def plan_model(model: ir.Model, diagram: OutcomeDiagram | None = None) -> Plan:
    """Raises SqlUnsupported when the model's outcome diagram outgrows MAX_PIECES."""
    if diagram is None:
        try:
            diagram = build_outcome_diagram(model, max_pieces=MAX_PIECES)
        except TooLarge:
            raise SqlUnsupported(too_large(model)) from None
    mgr = diagram.manager
    results: list[tuple] = []
    result_id: dict[int, int] = {}
    node_id: dict[int, int] = {}
    by_level: dict[int, list[int]] = {}
    by_path = {t.path: t for t in model.walk()}
    stack = [diagram.root]
    seen: set[int] = set()
    while stack:  # every reachable node, numbered in a stable depth-first order
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if mgr.is_leaf(node):
            outcome = mgr.value(node)
            assert isinstance(outcome, Outcome)
            result_id[node] = -1 - len(results)
            results.append(result_fields(_Landed(model.name, [by_path[p] for p in outcome.landings]), outcome))
            continue
        node_id[node] = len(node_id)
        by_level.setdefault(mgr.level(node), []).append(node)
        stack.extend(kid for _, _, kid in reversed(mgr.pieces(node)))

    def ref(node: int) -> int:
        return result_id[node] if mgr.is_leaf(node) else node_id[node]

    levels = []
    for level in sorted(by_level):
        rows = [(node_id[n], first, end, ref(kid)) for n in by_level[level] for first, end, kid in mgr.pieces(n)]
        levels.append((level, rows))
    field_levels = {d.name: i for i, d in enumerate(diagram.domains)}
    return Plan(model, diagram, ref(diagram.root), levels, results, field_levels)


@dataclass(frozen=True)
class _Landed:
    """What `result_fields` reads of a model (its name, its territories), narrowed to one outcome's
    landings: it looks territories up by walking the model, which costs O(territories) per outcome."""

    name: str
    territories: list

    def walk(self):
        return iter(self.territories)


# --- per-field SQL --------------------------------------------------------------------

class _Field:
    """The expressions of one schema field: its parsed value, the reason it is invalid, its cell."""

    def __init__(self, gen: "_Generator", index: int, f: ir.Field) -> None:
        self.gen, self.index, self.field = gen, index, f
        self.kind = f.type.kind
        self.domain = gen.plan.diagram.domains[gen.plan.field_levels[f.name]]
        self.scale = self._scale() if self.kind in ("int", "decimal") else 0

    @property
    def raw(self) -> exp.Column:
        return _col(self.field.name)

    # names of helper columns in terrl_parsed (user field names are never reused)
    def helper(self, what: str) -> str:
        return f"terrl_{what}_{self.index}"

    def _scale(self) -> int:
        return 0 if self.kind == "int" else decimal_scale(self.field, self.domain)

    def text(self, e: exp.Expression) -> exp.Expression:
        """A string expression in code-point order (postgres compares by its locale otherwise)."""
        if self.gen.dialect == "postgres":
            return exp.Collate(this=e, expression=exp.Identifier(this="C", quoted=True))
        return e

    # --- text input: parsing in SQL (DuckDB functions) ---------------------------------

    def parsed_columns(self) -> list[exp.Expression]:
        """Helper columns of terrl_parsed for text input: the typed value and, for numbers, their parts."""
        k = self.kind
        if self.gen.input_types == "typed":
            return []
        if k == "bool":
            value = _case([(exp.EQ(this=self.raw, expression=_str("true")), exp.true()),
                           (exp.EQ(this=self.raw, expression=_str("false")), exp.false())])
            return [_alias(value, self.helper("v"), quoted=True)]
        if k not in ("int", "decimal"):
            return []
        # number text -> sign, integer digits without leading zeros, fraction digits
        is_number = exp.Anonymous(this="regexp_full_match", expressions=[self.raw, _str(r"-?[0-9]+(\.[0-9]+)?")])
        sign = exp.Anonymous(this="regexp_extract", expressions=[self.raw, _str("^(-?)"), exp.Literal.number(1)])
        whole = exp.Anonymous(this="ltrim", expressions=[
            exp.Anonymous(this="regexp_extract", expressions=[self.raw, _str("^-?([0-9]+)"), exp.Literal.number(1)]), _str("0")])
        fraction = exp.Anonymous(this="regexp_extract", expressions=[self.raw, _str(r"\.([0-9]+)$"), exp.Literal.number(1)])
        return [_alias(is_number, self.helper("ok"), quoted=True),
                _alias(sign, self.helper("sign"), quoted=True),
                _alias(whole, self.helper("int"), quoted=True),
                _alias(fraction, self.helper("frac"), quoted=True)]

    def number_columns(self) -> list[exp.Expression]:
        """terrl_number columns for text input: floor at the field's scale (`v`) and whether digits were dropped (`x`).

        The exact value v lies in [floor, floor + 10^-scale); every boundary has at most
        `scale` fractional digits, so `c <= v` iff `c <= floor` and `c < v` iff
        `c < floor or (c = floor and dropped)`: comparisons stay exact for any input.
        """
        if self.gen.input_types == "typed" or self.kind not in ("int", "decimal"):
            return []
        s = self.scale
        ok, sign, whole, frac = (_col(self.helper(h)) for h in ("ok", "sign", "int", "frac"))
        room = PRECISION - s - 1  # integer digits kept; larger magnitudes are clamped (above every boundary)
        kept_frac = exp.Anonymous(this="rpad", expressions=[_substr(frac, 1, s), exp.Literal.number(s), _str("0")])
        magnitude_text = _concat([exp.Coalesce(this=exp.Nullif(this=whole, expression=_str("")), expressions=[_str("0")])]
                                 + ([_str("."), kept_frac] if s else []))
        dtype = exp.DataType.build(f"DECIMAL({PRECISION}, {s})")
        too_big = exp.GT(this=_length(whole), expression=exp.Literal.number(room))
        magnitude = _case([(too_big, _dec(Decimal(10) ** room, s))], _cast(magnitude_text, dtype))
        dropped_digits = exp.Anonymous(this="regexp_matches", expressions=[_substr(frac, s + 1), _str("[1-9]")])
        dropped = _or(too_big, dropped_digits)
        negative = exp.EQ(this=sign, expression=_str("-"))
        ulp = _dec(Decimal(1).scaleb(-s), s)
        floor = _case([(_and(negative, dropped), _cast(exp.Sub(this=exp.Neg(this=magnitude), expression=ulp), dtype)),
                       (negative, _cast(exp.Neg(this=magnitude), dtype))], magnitude)
        valid = exp.Paren(this=ok)
        return [_alias(_case([(valid, floor)]), self.helper("v"), quoted=True),
                _alias(_case([(valid, dropped)], exp.false()), self.helper("x"), quoted=True)]

    def value(self) -> exp.Expression:
        """The typed value (text input: parsed; NULL when missing)."""
        if self.gen.input_types == "text" and self.kind in ("bool", "int", "decimal"):
            return _col(self.helper("v"))
        return self.raw

    def dropped(self) -> exp.Expression | None:
        if self.gen.input_types == "text" and self.kind in ("int", "decimal"):
            return _col(self.helper("x"))
        return None

    # --- comparisons with a boundary ----------------------------------------------------

    def at_least(self, bound: Any) -> exp.Expression:
        """value >= bound (numbers)."""
        return exp.GTE(this=self.value(), expression=self.number(bound))

    def above(self, bound: Any) -> exp.Expression:
        """value > bound (numbers), exact for text input whose digits go beyond the scale."""
        gt = exp.GT(this=self.value(), expression=self.number(bound))
        dropped = self.dropped()
        if dropped is None:
            return gt
        return _or(gt, _and(exp.EQ(this=self.value(), expression=self.number(bound)), dropped))

    def number(self, value: Any) -> exp.Expression:
        if self.kind == "int":
            return _int(int(value))
        return _dec(Decimal(value), self.scale, narrow=self.gen.dialect == "spark")

    def cut_reached(self, cut: Any) -> exp.Expression:
        """The boundary `cut` (a key of terrl.analysis.domain) lies at or below the value: the value's cell is past it."""
        k = self.kind
        if k == "int":
            return self.at_least(cut)
        if k == "decimal":
            value, after = cut
            return self.above(value) if after else self.at_least(value)
        if k == "digits":
            return exp.GTE(this=self.text(self.value()), expression=_str(str(cut).zfill(self.field.type.digits or 0)))
        if k == "string":
            if "\0" in cut[:-1] or (cut.endswith("\0") and "\0" in cut[:-1]):
                raise SqlUnsupported(f"field `{self.field.name}`: SQL text cannot hold the NUL character")
            if cut.endswith("\0"):  # just after cut[:-1]: no string lies between
                return exp.GT(this=self.text(self.value()), expression=_str(cut[:-1]))
            return exp.GTE(this=self.text(self.value()), expression=_str(cut))
        raise AssertionError(k)

    # --- the cell ------------------------------------------------------------------------

    def cell(self) -> exp.Expression:
        d = self.domain
        value = self.value()
        k = self.kind
        if k == "enum":
            tree = _col(self.helper("member"))
        elif k == "bool":
            tree = _case([(value, exp.Literal.number(d.cell_of(True)))], exp.Literal.number(d.cell_of(False)))
        else:
            tree = self._cut_tree(0, len(d.cuts))
        if d.null_cell is None:
            return tree
        return _case([(exp.Is(this=value, expression=exp.null()), exp.Literal.number(d.null_cell))], tree)

    def _cut_tree(self, lo: int, hi: int) -> exp.Expression:
        """The number of cuts at or below the value, knowing cuts[:lo] are and cuts[hi:] are not."""
        if lo == hi:
            return exp.Literal.number(lo)
        mid = (lo + hi) // 2
        return _case([(self.cut_reached(self.domain.cuts[mid]), self._cut_tree(mid + 1, hi))], self._cut_tree(lo, mid))

    def member_columns(self) -> list[exp.Expression]:
        """terrl_members column of an enum field: its member's cell, NULL for a value that is no member."""
        if self.kind != "enum":
            return []
        return [_alias(self._member_tree(sorted(self.field.type.members)), self.helper("member"))]

    def _member_tree(self, members: list[str]) -> exp.Expression:
        """A binary search over member names (code-point order): the member's cell, NULL for a non-member."""
        value = self.text(self.value())
        if len(members) == 1:
            m = members[0]
            return _case([(exp.EQ(this=value, expression=_str(m)), exp.Literal.number(self.domain.cell_of(m)))])
        mid = len(members) // 2
        return _case([(exp.LT(this=value, expression=_str(members[mid])), self._member_tree(members[:mid]))],
                     self._member_tree(members[mid:]))

    # --- why a value is invalid (the wording of terrl.semantics.coerce) ---------------------------

    def problem(self) -> exp.Expression | None:
        """The reason this field makes the account invalid, NULL when it does not (None: never)."""
        f, t = self.field, self.field.type
        name = f"`{f.name}`: "
        whens: list[tuple[exp.Expression, exp.Expression]] = []
        missing = exp.Is(this=self.raw, expression=exp.null())
        if not f.optional:
            whens.append((missing, _str(f"missing required field `{f.name}`")))
        else:
            whens.append((missing, _null()))
        text_input = self.gen.input_types == "text"
        k = self.kind
        if k == "bool" and text_input:
            whens.append((exp.Is(this=self.value(), expression=exp.null()),
                          _concat([_str(f"{name}expected true or false, got "), self.py_repr(self.raw)])))
        elif k in ("int", "decimal"):
            if text_input:  # too long first, as terrl.semantics.coerce checks it before the syntax
                whens.append((exp.GT(this=_length(self.raw.copy()), expression=exp.Literal.number(MAX_NUMBER_CHARS)),
                              _concat([_str(name), self.py_repr(self.raw),
                                       _str(f" is too long for a number (more than {MAX_NUMBER_CHARS} characters or digits)")])))
                whens.append((_not(_col(self.helper("ok"))),
                              _concat([_str(name), self.py_repr(self.raw),
                                       _str(" is not a number (write digits with `.` as the decimal point)")])))
                if k == "int":
                    whens.append((exp.Anonymous(this="regexp_matches", expressions=[_col(self.helper("frac")), _str("[1-9]")]),
                                  _concat([_str(name), self.py_repr(self.raw), _str(" is not a whole number")])))
            shown = self.shown_number()
            if t.lo is not None:
                whens.append((_not(self.at_least(t.lo)),
                              _concat([_str(name), shown, _str(f" is below the lower bound {t.lo}")])))
            if t.hi is not None:
                whens.append((self.above(t.hi), _concat([_str(name), shown, _str(f" is above the upper bound {t.hi}")])))
        elif k == "digits":
            n = t.digits or 0
            text = self.text(self.raw)
            digit_checks = [exp.Between(this=self.text(_substr(self.raw, i, 1)), low=_str("0"), high=_str("9")) for i in range(1, n + 1)]
            ok = _and(exp.EQ(this=_length(self.raw), expression=exp.Literal.number(n)), *digit_checks) if n else \
                exp.EQ(this=_length(text), expression=exp.Literal.number(0))
            whens.append((_not(exp.Paren(this=ok)),
                          _concat([_str(f"{name}expected exactly {n} digits, got "), self.py_repr(self.raw)])))
        elif k == "enum" and f.context is not None:
            whens += self.context_problems(name)
        elif k == "enum":
            whens.append((exp.Is(this=_col(self.helper("member")), expression=exp.null()),
                          _concat([_str(name), self.py_repr(self.raw), _str(f" is not a member of {t.describe()}")])))
        if len(whens) == 1 and f.optional:
            return None
        return _case(whens, _null())

    # --- a field read in the context of a country field (`state: ... of country`) ----------
    # terrl_input holds the code read in context (`US-CA` for `CA` and country US; NULL when the
    # country is missing, invalid or not listed) under the field's name, and the value as given
    # in `terrl_raw_<index>`, which the reasons quote as terrl.semantics.coerce.read_in_context does.

    def context_inputs(self, given: exp.Expression, country: exp.Expression) -> list[exp.Expression]:
        f = self.field
        read_for = f.read_for if f.read_for is not None else self.gen.plan.model.schema.field(f.context).type.members
        listed = exp.In(this=self.text(country.copy()), expressions=[_str(c) for c in sorted(read_for)])
        code = _case([(exp.Like(this=given.copy(), expression=_str("%-%")), given.copy())],
                     _concat([country.copy(), _str("-"), given.copy()]))
        return [_alias(_case([(_and(exp.Not(this=exp.Is(this=given.copy(), expression=exp.null())), listed), code)]),
                       f.name, quoted=True),
                _alias(given.copy(), self.helper("raw"), quoted=True)]

    def context_problems(self, name: str) -> list[tuple[exp.Expression, exp.Expression]]:
        country = _col(self.field.context)
        given = self.py_repr(_col(self.helper("raw")))
        prefix = _concat([country, _str("-")])
        other = exp.NEQ(this=self.text(_substr(self.raw, 1, 3)), expression=self.text(prefix))
        return [(other, _concat([_str(name), given, _str(" is a subdivision code of another country than "), country.copy()])),
                (exp.Is(this=_col(self.helper("member")), expression=exp.null()),
                 _concat([_str(name), given.copy(), _str(" is not a subdivision code of "), country.copy()]))]

    def shown_number(self) -> exp.Expression:
        """The number as `terrl.coerce.show` prints the coerced value (cut to 40 characters)."""
        if self.gen.input_types == "typed":
            text = _cast(self.raw, exp.DataType.build("VARCHAR"))
        else:
            sign, whole, frac = (_col(self.helper(h)) for h in ("sign", "int", "frac"))
            digits = exp.Coalesce(this=exp.Nullif(this=whole, expression=_str("")), expressions=[_str("0")])
            nonzero_sign = _case([(_and(exp.EQ(this=sign, expression=_str("-")), exp.NEQ(this=whole, expression=_str(""))),
                                   _str("-"))], _str(""))
            integer = _concat([nonzero_sign, digits])
            if self.kind == "int":
                text = integer
            else:  # Decimal(text) keeps the sign and the fraction as written; "-0" read as an int first is "0"
                text = _case([(exp.NEQ(this=frac, expression=_str("")), _concat([sign, digits, _str("."), frac]))], integer)
        return _cut(text)

    def py_repr(self, raw: exp.Expression) -> exp.Expression:
        """repr() of text cut to 40 characters, as `terrl.coerce.show` quotes raw values.

        DuckDB and PostgreSQL escape every character as Python does (`_repr_escapes`). The other
        dialects escape backslash, newline, carriage return, tab and quotes, and show other
        non-printable characters as they are (docs/sql.md)."""
        s = _cut(raw)
        if self.gen.dialect in _ESCAPES_BY_DIALECT:
            escaped = _repr_escapes(s.copy(), self.gen.dialect)
        else:
            escaped = _replace(_replace(_replace(_replace(s, "\\", "\\\\"), "\n", "\\n"), "\r", "\\r"), "\t", "\\t")
        double = _and(_contains(s.copy(), "'"), _not(_contains(s.copy(), '"')))
        # two copies: rendering (copy=False) may rearrange a node, which must not appear twice
        return _case([(double, _concat([_str('"'), escaped.copy(), _str('"')]))],
                     _concat([_str("'"), _replace(escaped, "'", "\\'"), _str("'")]))


@functools.cache
def _unprintable_class(flavor: str) -> str:
    """A regular expression class of the characters Python's repr() escapes: those for which
    `str.isprintable()` is false in this Python's Unicode database, the one
    `terrl.semantics.coerce.show` uses. Ranges written out, so the database's own Unicode
    tables play no part. `flavor`: `re2` (DuckDB, `\\x{h}`) or `postgres` (`\\uhhhh`,
    `\\Uhhhhhhhh`; no NUL, which PostgreSQL text cannot hold)."""
    def char(cp: int) -> str:
        if flavor == "re2":
            return f"\\x{{{cp:x}}}"
        return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"

    ranges: list[str] = []
    start = None
    for cp in range(0 if flavor == "re2" else 1, sys.maxunicode + 2):
        printable = cp > sys.maxunicode or chr(cp).isprintable()
        if not printable and start is None:
            start = cp
        elif printable and start is not None:
            ranges.append(char(start) + (f"-{char(cp - 1)}" if cp - 1 > start else ""))
            start = None
    return "[" + "".join(ranges) + "]"


# Each character as repr() writes it inside quotes (the quotes aside): a backslash doubled,
# \t, \n, \r, and \xhh, \uhhhh or \Uhhhhhhhh for a character in `_unprintable_class`.
# chr(92) is the backslash: none in the SQL text but the class's, in a literal read as is.
_CHARACTER_ESCAPE = (
    "CASE WHEN terrl_ch = chr(92) THEN chr(92) || chr(92) WHEN terrl_ch = chr(9) THEN chr(92) || 't'"
    " WHEN terrl_ch = chr(10) THEN chr(92) || 'n' WHEN terrl_ch = chr(13) THEN chr(92) || 'r'"
    " WHEN NOT {matches} THEN terrl_ch"
    " WHEN {code} < 256 THEN chr(92) || 'x' || {hex2}"
    " WHEN {code} < 65536 THEN chr(92) || 'u' || {hex4}"
    " ELSE chr(92) || 'U' || {hex8} END")
_ESCAPES_BY_DIALECT = {
    "duckdb": "array_to_string(list_transform(string_split(terrl_text, ''), lambda terrl_ch: " + _CHARACTER_ESCAPE.format(
        matches="regexp_full_match(terrl_ch, terrl_class)", code="unicode(terrl_ch)",
        hex2="printf('%02x', unicode(terrl_ch))", hex4="printf('%04x', unicode(terrl_ch))",
        hex8="printf('%08x', unicode(terrl_ch))") + "), '')",
    # string_to_array(s, NULL) splits into characters; ascii() is the code point in a UTF8 database
    "postgres": "COALESCE((SELECT string_agg(" + _CHARACTER_ESCAPE.format(
        matches="terrl_ch ~ terrl_class", code="ascii(terrl_ch)",
        hex2="lpad(to_hex(ascii(terrl_ch)), 2, '0')", hex4="lpad(to_hex(ascii(terrl_ch)), 4, '0')",
        hex8="lpad(to_hex(ascii(terrl_ch)), 8, '0')") + ", '' ORDER BY terrl_pos)"
        " FROM unnest(string_to_array(terrl_text, NULL)) WITH ORDINALITY AS terrl_chars(terrl_ch, terrl_pos)), '')",
}


def _repr_escapes(text: exp.Expression, dialect: str) -> exp.Expression:
    """`text` with every character escaped as repr() escapes it (`_ESCAPES_BY_DIALECT`)."""
    template = sqlglot.parse_one(_ESCAPES_BY_DIALECT[dialect], read=dialect)
    flavor = "re2" if dialect == "duckdb" else dialect

    def fill(node):
        if isinstance(node, exp.Column) and node.name == "terrl_text":
            return text.copy()
        if isinstance(node, exp.Column) and node.name == "terrl_class":
            return _str(_unprintable_class(flavor))
        if isinstance(node, exp.Hex):  # sqlglot reads PostgreSQL's to_hex as HEX, which PostgreSQL lacks
            return exp.Anonymous(this="to_hex", expressions=[node.this])
        return node
    return template.transform(fill)


def _cut(text: exp.Expression) -> exp.Expression:
    return _case([(exp.GT(this=_length(text.copy()), expression=exp.Literal.number(SHOWN_CHARS)),
                   _concat([_substr(text.copy(), 1, SHOWN_CHARS), _str("...")]))], text)


# --- the query ------------------------------------------------------------------------

class _Generator:
    def __init__(self, plan: Plan, dialect: str, input_types: str, empty_is_missing: bool = True) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
        if input_types not in INPUT_TYPES:
            raise ValueError(f"unknown input types {input_types!r}")
        self.plan, self.dialect, self.input_types = plan, dialect, input_types
        self.empty_is_missing = empty_is_missing
        self.fields = [_Field(self, i, f) for i, f in enumerate(plan.model.schema.fields)]

    def query(self, table: exp.Expression, carry: Sequence[str], compact: bool) -> exp.Select:
        plan, schema = self.plan, self.plan.model.schema
        names = [f.name for f in schema.fields]
        carried = [c for c in carry if c not in names]
        # terrl_input: the columns terrl reads; in text input an empty cell is a missing value
        text = self.input_types == "text"
        if text and self.empty_is_missing:
            inputs = [_alias(exp.Nullif(this=_cast(_col(n), exp.DataType.build("VARCHAR")), expression=_str("")), n, quoted=True)
                      for n in names]
        elif text:
            inputs = [_alias(_cast(_col(n), exp.DataType.build("VARCHAR")), n, quoted=True) for n in names]
        else:
            inputs = [_col(n) for n in names]
        # a field read in the context of its country: the code, and the value as given
        inputs = [e for f, given in zip(self.fields, inputs) for e in (
            f.context_inputs(_unaliased(given), _unaliased(inputs[names.index(f.field.context)]))
            if f.field.context is not None else [given])]
        input_select = _select(*[_col(c) for c in carried], *inputs).from_(table, copy=False)

        parsed = _select("*", *[e for f in self.fields for e in f.parsed_columns()]).from_(exp.to_table("terrl_input", quoted=True), copy=False)
        numbers = _select("*", *[e for f in self.fields for e in f.number_columns()]).from_(exp.to_table("terrl_parsed", quoted=True), copy=False)

        key = schema.key
        problems = [p for p in (f.problem() for f in self.fields) if p is not None]
        if problems:
            joined = _concat([exp.Coalesce(this=_concat([_str("; "), p]), expressions=[_str("")]) for p in problems])
            invalid = exp.Nullif(this=_substr(joined, 3), expression=_str(""))
        else:
            invalid = _null()
        tested = {level for level, _ in plan.levels}
        cells = [_alias(f.cell(), f"terrl_cell_{plan.field_levels[f.field.name]}", quoted=True)
                 for f in self.fields if plan.field_levels[f.field.name] in tested]
        checked = _select(*[_col(c) for c in carried],
                             _alias(_col(key.name) if key else _null(), "terrl_key", quoted=True),
                             _alias(invalid, "terrl_invalid", quoted=True), *cells
                             ).from_(exp.to_table("terrl_members", quoted=True), copy=False)
        members = _select("*", *[e for f in self.fields for e in f.member_columns()]).from_(
            exp.to_table("terrl_numbers" if text else "terrl_input", quoted=True), copy=False)

        ctes: list[tuple[str, exp.Expression]] = [("terrl_input", input_select)]
        if text:  # typed input needs no parsing
            ctes += [("terrl_parsed", parsed), ("terrl_numbers", numbers)]
        ctes += [("terrl_members", members), ("terrl_checked", checked)]
        # the walk: one LEFT JOIN per tested field, equi-join on (current node, cell)
        select = _select().from_(exp.to_table("terrl_checked", alias="c", quoted=True), copy=False)
        current: list[str] = []  # aliases of the joins so far, latest first

        def now() -> exp.Expression:
            """The node each row has reached: the latest join's kid, else the root."""
            root = _int(plan.root)
            kids = [_col("kid", alias) for alias in current]
            return exp.Coalesce(this=kids[0], expressions=kids[1:] + [root]) if kids else root

        for level, rows in plan.levels:
            cells_count = self.plan.diagram.domains[level].cells
            dense_rows = sum(end - first for _, first, end, _ in rows)
            name, alias = f"terrl_level_{level}", f"s{level}"
            cell = _col(f"terrl_cell_{level}", "c")
            if dense_rows <= min(DENSE_LIMIT, DENSE_FACTOR * len(rows)):
                values = [(node, cell_no, kid) for node, first, end, kid in rows for cell_no in range(first, end)]
                ctes.append((name, _values(values, ("node", "cell", "kid"))))
                on = _and(exp.EQ(this=_col("node", alias), expression=now()), exp.EQ(this=_col("cell", alias), expression=cell))
            else:
                values = [(node, first, end - 1, kid) for node, first, end, kid in rows]
                ctes.append((name, _values(values, ("node", "first_cell", "last_cell", "kid"))))
                on = _and(exp.EQ(this=_col("node", alias), expression=now()),
                              exp.Between(this=cell, low=_col("first_cell", alias), high=_col("last_cell", alias)))
            assert cells_count > 0
            select = select.join(exp.to_table(name, alias=alias, quoted=True), on=on, join_type="left", copy=False)
            current.insert(0, alias)
        def invalid_col() -> exp.Expression:
            return _col("terrl_invalid", "c")

        def is_invalid() -> exp.Expression:
            return _not(exp.Is(this=invalid_col(), expression=exp.null()))

        outcome = now()
        if compact:
            result = _case([(is_invalid(), _null("INTEGER"))], exp.Sub(this=exp.Neg(this=exp.Literal.number(1)), expression=outcome))
            select = select.select(*[_col(c, "c") for c in carried], _alias(_col("terrl_key", "c"), "key", quoted=True),
                                   _alias(result, "result", quoted=True), _alias(invalid_col(), "reason", quoted=True), copy=False)
        else:
            rows = [(-1 - i, *r[:1], *(LIST_SEPARATOR.join(x) for x in r[1:4]), r[4]) for i, r in enumerate(plan.results)]
            ctes.append(("terrl_results", _values(rows, ("id", "status", "territories", "titles", "owners", "reason"))))
            select = select.join(exp.to_table("terrl_results", alias="r", quoted=True),
                                 on=exp.EQ(this=_col("id", "r"), expression=outcome), join_type="left", copy=False)

            def unless_invalid(column: str, invalid_value: exp.Expression) -> exp.Expression:
                return _alias(_case([(is_invalid(), invalid_value)], _col(column, "r")), column, quoted=True)

            select = select.select(*[_col(c, "c") for c in carried], _alias(_col("terrl_key", "c"), "key", quoted=True),
                                   unless_invalid("status", _str("invalid")), unless_invalid("territories", _str("")),
                                   unless_invalid("titles", _str("")), unless_invalid("owners", _str("")),
                                   unless_invalid("reason", invalid_col()), copy=False)
        for name, body in ctes:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=body, copy=False)
        return select


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return _null()
    if isinstance(value, int):
        return _int(value)
    return _str(value)


def _values(rows: list[tuple], columns: tuple[str, ...]) -> exp.Select:
    """An inline table: SELECT columns FROM (VALUES …) AS t(columns) (BigQuery: UNNEST of STRUCTs)."""
    tuples = [exp.Tuple(expressions=[_literal(v) for v in row]) for row in rows]
    values = exp.Values(expressions=tuples,
                        alias=exp.TableAlias(this=exp.to_identifier("t", quoted=True),
                                             columns=[exp.to_identifier(c, quoted=True) for c in columns]))
    return _select(*[_col(c) for c in columns]).from_(values)


# --- public API -----------------------------------------------------------------------

def build_query(model: ir.Model, *, dialect: str = "duckdb", table: str | exp.Expression = "accounts",
                input_types: str = "typed", carry: Sequence[str] = (), compact: bool = False,
                plan: Plan | None = None, empty_is_missing: bool = True) -> exp.Select:
    """The SELECT assigning every row of `table`: columns `carry…`, key, status, territories,
    titles, owners, reason — or, `compact`, `carry…`, key, result (index into
    `plan.results`, NULL when invalid), reason (the invalid reason).

    Text input reads an empty string as a missing value (a CSV cell), unless
    `empty_is_missing=False` (values already checked elsewhere, where `""` is a string)."""
    plan = plan or plan_model(model)
    source = table if isinstance(table, exp.Expression) else _table(table, dialect)
    return _Generator(plan, dialect, input_types, empty_is_missing).query(source, carry, compact)


def _table(name: str, dialect: str) -> exp.Table:
    """A possibly qualified table name (`db.schema.accounts`), every part quoted."""
    parts = name.split(".")
    if len(parts) > 3 or not all(parts):
        raise SqlUnsupported(f"`{name}` is not a table name (write `table`, `schema.table` or `db.schema.table`)")
    table = exp.Table(this=exp.to_identifier(parts[-1], quoted=True))
    if len(parts) >= 2:
        table.set("db", exp.to_identifier(parts[-2], quoted=True))
    if len(parts) == 3:
        table.set("catalog", exp.to_identifier(parts[0], quoted=True))
    return table


def to_text(statement: exp.Expression, dialect: str, pretty: bool = False) -> str:
    """Render a statement built here (generated in place: the tree is used once, copying it costs more than the rest)."""
    return sqlglot.Dialect.get_or_raise(dialect).generate(statement, copy=False, identify=True, pretty=pretty,
                                                          unsupported_level=sqlglot.ErrorLevel.RAISE)


def decimal_scale(f: ir.Field, domain) -> int:
    """Fractional digits that every boundary and bound of a decimal field fits in."""
    values = [c[0] for c in domain.cuts] + [v for v in (f.type.lo, f.type.hi) if v is not None]
    scale = max([0] + [-Decimal(v).as_tuple().exponent for v in values])
    digits = max([1] + [len(str(abs(int(Decimal(v))))) for v in values])
    if scale + digits > PRECISION - 2:
        raise SqlUnsupported(f"field `{f.name}`: boundaries need more than {PRECISION - 2} digits")
    return scale


def column_types(model: ir.Model, dialect: str) -> list[tuple[str, str]]:
    """The column type each schema field expects in the account table, per dialect."""
    out = []
    domains = {d.name: d for d in build_model_domains(model)}
    for f in model.schema.fields:
        t = f.type
        if t.kind == "bool":
            sql_type = "BOOLEAN"
        elif t.kind == "int":
            sql_type = "BIGINT"
        elif t.kind == "decimal":
            # The scale is the data's (a column with fewer fraction digits than the data rounds it,
            # and a rounded value can cross a boundary); the boundaries need at least `least`.
            least = decimal_scale(f, domains[f.name])
            sql_type = {"postgres": "NUMERIC", "bigquery": "NUMERIC or BIGNUMERIC",
                        "snowflake": "NUMBER(38, s)"}.get(dialect, "DECIMAL(38, s)")
            if dialect not in ("postgres", "bigquery"):
                sql_type += f", s = the data's fraction digits, at least {least}"
        else:
            sql_type = "TEXT" if dialect == "postgres" else "STRING" if dialect in ("spark", "bigquery") else "VARCHAR"
        out.append((f.name, sql_type + ("" if f.optional else "  -- required")))
    return out


def render_sql(model: ir.Model, source_file: str, dialect: str = "duckdb", table: str = "accounts",
               view: str | None = None, input_types: str = "typed", pretty: bool | None = None) -> str:
    """`terrl compile --target sql`: a commented script holding a SELECT, or `CREATE OR REPLACE VIEW`."""
    plan = plan_model(model)
    query = build_query(model, dialect=dialect, table=table, input_types=input_types, plan=plan)
    statement: exp.Expression = query
    if view:
        statement = exp.Create(this=_table(view, dialect), kind="VIEW", replace=True, expression=query)
    if pretty is None:
        pretty = sum(len(rows) for _, rows in plan.levels) < 2000
    body = to_text(statement, dialect, pretty=pretty)
    header = [
        f"-- Generated by terrl {__version__} from {_one_line(source_file)}, model {_one_line(model.name)}"
        f"{' (' + _one_line(model.title) + ')' if model.title else ''}; dialect {dialect}.",
        "-- Do not edit: change the `.terr` source and run `terrl compile ... --target sql` again.",
        f"-- One row per row of {_one_line(table)}: key, status (assigned | unassigned | invalid),",
        "-- territories, titles, owners (several joined with ';'), reason.",
        f"-- Expected columns of {_one_line(table)}"
        + (" (all text; parsed here):" if input_types == "text" else " (docs/sql.md):"),
    ]
    for name, sql_type in column_types(model, dialect):
        header.append(f"--   {_one_line(name)} {'VARCHAR' if input_types == 'text' else sql_type}")
    return "\n".join(header) + "\n" + body + ";\n"


def render_sql_target(model: ir.Model, source_file: str, dialect: str = "duckdb", table: str = "accounts",
                      view: str | None = None, input: str = "typed", **_ignored: Any) -> str:
    """The entry of `terrl compile --target sql` (options --dialect, --table, --view, --input).
    Raises `SqlUnsupported` with the model named when the dialect cannot hold a value exactly,
    or when text input is asked of a dialect other than DuckDB."""
    if input == "text" and dialect != "duckdb":
        raise SqlUnsupported(f"`--input text` parses values with DuckDB functions: use `--dialect duckdb`, or give "
                             f"the {dialect} table typed columns (`--input typed`, docs/sql.md)")
    try:
        return render_sql(model, source_file, dialect=dialect, table=table, view=view, input_types=input)
    except SqlUnsupported as exc:
        raise SqlUnsupported(f"cannot compile model `{model.name}` to SQL: {exc}") from None


def _one_line(text: str) -> str:
    return repr(text)[1:-1]
