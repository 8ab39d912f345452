"""`--target sql`: assign accounts inside a database, with the evaluator's exact meaning.

The SQL is built as sqlglot expressions (and short SQL texts parsed by sqlglot) and rendered
per dialect (duckdb, postgres, spark, bigquery, snowflake) with every identifier quoted. It
never evaluates the `where` predicates row by row, and its size is linear in the rules: it is
the Python evaluator's plan (`terrl.targets.sibling_index`) written as lookup tables.

1. `terrl_input`: the account table (typed columns), or, for `input_types="text"`
   (CSV read through DuckDB), every column as text, parsed and checked in SQL.
2. `terrl_checked`: per row, the `invalid` reason (NULL when valid, worded like
   `terrl.semantics.coerce`) and each tested field's **cell** (`terrl.analysis.domain`): a
   balanced `CASE` tree over the field's boundaries, O(log boundaries); a missing value is
   its own cell, so SQL's NULL never reaches a comparison (two-valued logic by construction).
3. `terrl_combos`: the distinct combinations of cells of the valid rows (accounts alike to
   the model share one; 1,000,000 accounts of the 3,000-leaf ZIP model have 37,000). The
   walk runs on them, level by level of the hierarchy (`_Walk`): every (sibling group, field)
   owns a segment of one integer line, `key = (group * fields + field) * stride + cell`;
   `terrl_cells_<d>` / `terrl_rules_<d>` hold, per sibling of level d, the cells (short runs,
   an equality join) or ranges (a range join) where its most selective per-field condition
   (its lead: the most runs) holds: the candidates. `terrl_checks_<d>` holds the runs of its
   other per-field conditions, checked on the candidates only (a join on the territory and a
   count). A sibling matches where all hold and its residual (conditions across fields, a SQL
   boolean over cells) holds; then the policy (`first`: the lowest sibling;
   `unique` and `all`: every match, `unique` noting the conflict), `else`, and `keep` or a gap
   when nothing takes the account. The walk is as deep as the hierarchy, not as wide as it.
4. `terrl_outcomes`: per combination, status, territories, titles, owners (each once, where it
   first appears) and reason, aggregated in the evaluator's order (`STRING_AGG ... ORDER BY`,
   `LISTAGG ... WITHIN GROUP` per dialect) with `terrl.targets.outcome`'s wording; every account
   joins its combination. `compact` (for `terrl.targets.sql_engine`) gives a coded result
   instead, which `Plan.result_of` turns into `result_fields` in Python.

One form for every model: the old per-model choice (one decision diagram of outcomes, whose
terminals are combinations of territories) was faster on tiny models only and exploded under
`policy all` overlays. Lookup tables longer than `LONG_TABLE` rows are written row by row by
`to_text` (or, for `--engine duckdb`, created as tables: `build_query(external=...)`).

Exactness: decimal boundaries are exact decimal literals (`CAST('12.5' AS DECIMAL(38, s))`
where a dialect reads `12.5` as a float); text is compared in code-point order (postgres:
`COLLATE "C"`); `startswith` is a range of the field's cells, never `LIKE`.

Documented differences from the Python evaluator: docs/sql.md.
"""

from __future__ import annotations

import functools
import itertools
import sys
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Sequence

import sqlglot
from sqlglot import exp

from terrl import __version__
from terrl.semantics import ir
from terrl.analysis.domain import FieldDomain, build_model_domains
from terrl.targets import sibling_index
from terrl.targets.outcome import REASONS, Outcome, result_fields

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")
INPUT_TYPES = ("typed", "text")
RESULT_COLUMNS = ("key", "status", "territories", "titles", "owners", "reason")
LIST_SEPARATOR = ";"
SHORT_RUN = 4  # a run of at most this many cells is written one row per cell (an equality join)
PRECISION = 38  # widest DECIMAL in duckdb, spark and snowflake
SHOWN_CHARS = 40  # as terrl.coerce.SHOWN_CHARS
MAX_NUMBER_CHARS = 1000  # as terrl.semantics.coerce.MAX_NUMBER_CHARS


class SqlUnsupported(ValueError):
    """The model uses a value that the chosen SQL dialect cannot hold exactly, or is too large for it."""


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

POLICY_NAMES = {sibling_index.FIRST: "first", sibling_index.UNIQUE: "unique", sibling_index.ALL: "all"}
# Where a reason sorts in the `reason` column (terrl.targets.outcome.result_fields' order).
OUTSIDE_NOTE, CONFLICT_NOTE, GAP_NOTE, KEPT_NOTE = 0, 1, 2, 3


@dataclass
class Plan:
    """The evaluator's plan (`terrl.targets.sibling_index`) laid out as the SQL's lookup tables.

    Cells are numbered per field; the SQL puts every (sibling group, field) pair on one line of
    integers, `key = (group * fields + slot) * stride + cell`, so that one range join per level
    finds, for every (account, group), each sibling's conditions that hold."""

    model: ir.Model
    index: sibling_index.Plan
    domains: dict[str, FieldDomain]  # every schema field's domain
    slots: dict[str, int]  # tested field -> slot: its cell is column terrl_cell_<slot>
    group_of: tuple[int, ...]  # territory id -> the group it is a child of
    group_parent: tuple[int, ...]  # group id -> territory id of its parent, -1 for the top level
    group_depth: tuple[int, ...]  # group id -> depth (0: the top level)
    stride: int  # more than any tested field's cell count
    _decoded: dict[str, tuple] = field(default_factory=dict, repr=False)
    _by_path: dict[str, ir.Territory] = field(default_factory=dict, repr=False)

    @property
    def depth(self) -> int:
        return max(self.group_depth) + 1

    def key_base(self, group: int, slot: int) -> int:
        return (group * max(1, len(self.slots)) + slot) * self.stride

    def lead_field(self, tid: int) -> str:
        """The territory's most selective per-field condition (the most runs): the one its candidates
        are looked up by; the others are checked on the candidates only."""
        factors = self.index.conditions[tid].factors
        return max(factors, key=lambda name: (len(factors[name]), -self.slots[name]))

    def rule_rows(self, depth: int) -> list[tuple[int, int, int]]:
        """(lo, hi, territory) for the siblings of the groups at `depth`: one row per run of cells where
        its lead condition holds, on the key line (`key_base`)."""
        rows = []
        for g, group in enumerate(self.index.groups):
            if self.group_depth[g] != depth:
                continue
            for tid in group.kids:
                conditions = self.index.conditions[tid]
                if conditions is None or not conditions.possible or not conditions.factors:
                    continue
                lead = self.lead_field(tid)
                base, flips = self.key_base(g, self.slots[lead]), conditions.factors[lead]
                rows += [(base + flips[i], base + flips[i + 1] - 1, tid) for i in range(0, len(flips), 2)]
        return rows

    def check_rows(self, depth: int) -> list[tuple[int, int, int, int, int]]:
        """(territory, slot, lo, hi, others) for the other conditions of the siblings at `depth`: the runs
        of cells where each holds; `others` is how many such conditions the territory has."""
        rows = []
        for g, group in enumerate(self.index.groups):
            if self.group_depth[g] != depth:
                continue
            for tid in group.kids:
                conditions = self.index.conditions[tid]
                if conditions is None or not conditions.possible or len(conditions.factors) < 2:
                    continue
                lead, others = self.lead_field(tid), len(conditions.factors) - 1
                for name, flips in conditions.factors.items():
                    if name != lead:
                        rows += [(tid, self.slots[name], flips[i], flips[i + 1] - 1, others)
                                 for i in range(0, len(flips), 2)]
        return rows

    def size(self) -> int:
        """Rows of the lookup tables (the SQL's size is linear in it)."""
        return (sum(len(self.rule_rows(d)) + len(self.check_rows(d)) for d in range(self.depth)) + len(self.index.paths)
                + len(self.index.groups))

    def result_of(self, code: str) -> tuple:
        """The result fields of a `compact` result: `landed territory ids|notes` (`_Walk.compact_outcomes`)."""
        found = self._decoded.get(code)
        if found is None:
            paths = self.index.paths
            landed, _, notes = code.partition("|")
            gaps: list[str] = []
            conflicts: list[tuple[str, ...]] = []
            outside = kept = False
            for note in notes.split(",") if notes else ():
                if note == "o":
                    outside = True
                elif note == "k":
                    kept = True
                elif note[0] == "g":
                    gaps.append(paths[int(note[1:])] if len(note) > 1 else "")
                else:
                    conflicts.append(tuple(paths[int(t)] for t in note[1:].split(".")))
            outcome = Outcome(tuple(paths[int(t)] for t in landed.split(",")) if landed else (), tuple(gaps),
                              tuple(conflicts), outside, kept)
            if not self._by_path:
                self._by_path.update((t.path, t) for t in self.model.walk())
            found = self._decoded[code] = result_fields(self.model, outcome, self._by_path)
        return found


def plan_model(model: ir.Model) -> Plan:
    """The SQL plan: linear in the rules, whatever the policies (no combination of territories is built)."""
    index = sibling_index.build_plan(model)
    domains = {f.name: d for f, d in zip(model.schema.fields, index.all_domains)}
    group_of = [-1] * len(index.paths)
    parent = [-1] * len(index.groups)
    for t, g in enumerate(index.below):
        if g >= 0:
            parent[g] = t
    for g, group in enumerate(index.groups):
        for t in group.kids + ((group.else_kid,) if group.else_kid >= 0 else ()):
            group_of[t] = g
    depth = [0] * len(index.groups)
    for g in range(1, len(index.groups)):  # a group comes after the group holding its parent
        depth[g] = depth[group_of[parent[g]]] + 1
    stride = max([1] + [d.cells for d in index.domains])
    return Plan(model, index, domains, {name: i for i, name in enumerate(index.fields)}, tuple(group_of),
                tuple(parent), tuple(depth), stride)

# --- per-field SQL --------------------------------------------------------------------

class _Field:
    """The expressions of one schema field: its parsed value, the reason it is invalid, its cell."""

    def __init__(self, gen: "_Generator", index: int, f: ir.Field) -> None:
        self.gen, self.index, self.field = gen, index, f
        self.kind = f.type.kind
        self.domain = gen.plan.domains[f.name]
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
        elif k == "string" and text_input and "trim" in (self.gen.python_cleanup or ()):
            # Under `trim`, a text with whitespace around it is cleaned: the DuckDB engine gives such
            # rows (marked invalid here) to the Python evaluator, which cleans and counts.
            whens.append((_has_whitespace_around(self.raw, self.gen.dialect), _str(PYTHON_CLEANUP_REASON)))
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


# The characters str.isspace() holds (terrl.semantics.cleanup.is_blank): TRIM removes them.
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
PYTHON_CLEANUP_REASON = "terrl: cleaned by the Python evaluator"  # never shown: sql_engine replaces the row


# --- the walk: one range join per level of the hierarchy -------------------------------

def _sql(template: str, dialect: str, **parts: exp.Expression) -> exp.Expression:
    """A query written as SQL text (PostgreSQL syntax, rendered per dialect like the rest): easier to
    read than builder calls. `p_<name>` columns in the text are replaced by `parts[name]`.

    ORDER BY keys here are never NULL: they take the target dialect's default NULL order, so
    that no `NULLS LAST` is written (BigQuery's STRING_AGG cannot say it)."""
    tree = sqlglot.parse_one(template, read="postgres")
    nulls_small = sqlglot.Dialect.get_or_raise(dialect).NULL_ORDERING == "nulls_are_small"

    def fill(node):
        if isinstance(node, exp.Ordered):
            node.set("nulls_first", nulls_small if not node.args.get("desc") else not nulls_small)
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("p_") and node.name[2:] in parts:
            return parts[node.name[2:]]
        return node
    return tree.transform(fill, copy=False)


def _balanced(parts: list[exp.Expression], kind: type) -> exp.Expression:
    """a AND b AND … (or OR) as a balanced tree: long lists nest shallowly."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return kind(this=_balanced(parts[:mid], kind), expression=_balanced(parts[mid:], kind))


def _test_sql(test: sibling_index.Test, table: str) -> exp.Expression:
    """An exact test of the plan (`sibling_index.Test`) as a SQL boolean over the cells of `table`."""
    tag = test[0]
    if tag == "const":
        return exp.true() if test[1] else exp.false()
    if tag == "not":
        return _not(exp.Paren(this=_test_sql(test[1], table)))
    if tag in ("and", "or"):
        kind = exp.And if tag == "and" else exp.Or
        return exp.Paren(this=_balanced([exp.Paren(this=_test_sql(t, table)) for t in test[1:]], kind))
    _, slot, flips = test
    if not flips:
        return exp.false()
    cell = f"terrl_cell_{slot}"
    runs = []
    for i in range(0, len(flips), 2):
        lo, hi = flips[i], flips[i + 1] - 1
        runs.append(exp.EQ(this=_col(cell, table), expression=_int(lo)) if lo == hi else
                    exp.Between(this=_col(cell, table), low=_int(lo), high=_int(hi)))
    return exp.Paren(this=_balanced(runs, exp.Or))


class _Walk:
    """The CTEs that take each distinct combination of cells (`terrl_combos`) down the hierarchy.

    Per level d (the sibling groups at depth d):
    - `terrl_reached_d` (combo, grp, cells): the groups each combination reaches;
    - `terrl_keys_d`: one key per (combination, group, lead field) on the line of `Plan.key_base`;
    - `terrl_cells_d` / `terrl_rules_d`: where each sibling's lead condition holds (`Plan.rule_rows`);
      joined to the keys, the candidates (`terrl_leads_d`);
    - `terrl_checks_d` (territory, slot, lo, hi, others): its other per-field conditions, which
      must all hold on a candidate (a count);
    - `terrl_matched_d`: the candidates that pass, and whose residual (conditions across fields,
      a SQL boolean over the cells) holds;
    - `terrl_taken_d`: the policy: `first` keeps the lowest sibling, `unique` and `all` every match
      (`unique` notes the conflict);
    - `terrl_settled_d`: per reached group, what took the account: a match, the `else` child, or
      nothing (NULL: the parent keeps it, or a gap).
    Then results per combination, joined back to the accounts on their cells."""

    def __init__(self, plan: Plan, compact: bool, dialect: str, external: dict | None = None) -> None:
        self.plan, self.compact, self.dialect, self.external = plan, compact, dialect, external
        self.cells = [f"terrl_cell_{i}" for i in range(len(plan.slots))] or ["terrl_all"]
        self.ctes: list[tuple[str, exp.Expression]] = []

    def sql(self, template: str, **parts: exp.Expression) -> exp.Expression:
        return _sql(template, self.dialect, **parts)

    def lookup(self, name: str, rows: list[tuple], columns: tuple[str, ...], wide: tuple[str, ...]) -> None:
        """A lookup table of integers (`wide` columns BIGINT): inline, or (long, and the caller asked for
        it) a table the caller creates."""
        if self.external is not None and len(rows) > LONG_TABLE:
            self.external[name] = (columns, rows)
        else:
            self.add(name, _values(rows, columns, wide=wide))

    def cells_of(self, table: str) -> str:
        return ", ".join(f"{table}.{c}" for c in self.cells)

    def add(self, name: str, body: exp.Expression) -> None:
        self.ctes.append((name, body))

    def build(self) -> list[tuple[str, exp.Expression]]:
        plan, index = self.plan, self.plan.index
        cells = ", ".join(self.cells)
        self.add("terrl_combos", self.sql(
            f"SELECT ROW_NUMBER() OVER (ORDER BY {cells}) AS combo, {cells} "
            f"FROM (SELECT DISTINCT {cells} FROM terrl_checked WHERE terrl_invalid IS NULL) AS distinct_cells"))
        self.tables()
        landed: list[str] = []
        notes: list[str] = []
        universe = None if index.universe is None else _test_sql(index.universe, "c")
        reached = self.sql(f"SELECT c.combo, 0 AS grp, {self.cells_of('c')} FROM terrl_combos AS c")
        if universe is not None:
            reached = reached.where(universe, copy=False)
            outside = REASONS["outside"].replace("{model}", plan.model.name)
            self.add("terrl_outside", self.sql(
                f"SELECT c.combo, {OUTSIDE_NOTE} AS kind, 0 AS at, p_note AS note FROM terrl_combos AS c "
                f"WHERE NOT (p_universe)", note=_str("o" if self.compact else outside), universe=universe.copy()))
            notes.append("terrl_outside")
        self.add("terrl_reached_0", reached)
        for d in range(plan.depth):
            self.level(d, landed, notes)
        self.add("terrl_landed", self.sql(" UNION ALL ".join(f"SELECT combo, territory FROM {t}" for t in landed))
                 if landed else self.sql("SELECT 0 AS combo, 0 AS territory WHERE 1 = 0"))
        self.add("terrl_notes", self.sql(" UNION ALL ".join(f"SELECT combo, kind, at, note FROM {t}" for t in notes)))
        self.outcomes()
        return self.ctes

    def tables(self) -> None:
        """The model as small tables: territories, sibling groups, owners."""
        plan, index, model = self.plan, self.plan.index, self.plan.model
        territories = list(model.walk())
        rows = []
        for tid, t in enumerate(territories):
            conditions = index.conditions[tid]
            need = -1 if conditions is None or not conditions.possible else len(conditions.factors)
            row = (tid, plan.group_of[tid], need, index.below[tid])
            rows.append(row if self.compact else row + (t.path, t.title or t.name))
        columns = ("territory", "grp", "need", "below") + (() if self.compact else ("path", "title"))
        if rows:
            self.add("terrl_territories", _values(rows, columns))
        else:  # a model without territories: the joins below still name the table
            self.add("terrl_territories", self.sql("SELECT " + ", ".join(
                f"{'0' if c in ('territory', 'grp', 'need', 'below') else repr('')} AS {c}" for c in columns)
                + " WHERE 1 = 0"))
        groups = []
        for g, group in enumerate(index.groups):
            parent = plan.group_parent[g]
            if parent >= 0 and index.keep[parent]:
                rest, kind, note = "keep", GAP_NOTE, ""
            elif parent >= 0:
                rest, kind = "gap", GAP_NOTE
                note = f"g{parent}" if self.compact else REASONS["gap"].format(parent=index.paths[parent])
            elif index.top_keep:
                rest, kind, note = "kept", KEPT_NOTE, "k" if self.compact else REASONS["kept"].replace("{model}", model.name)
            else:
                rest, kind = "gap", GAP_NOTE
                note = "g" if self.compact else REASONS["top_gap"].replace("{model}", model.name)
            groups.append((g, POLICY_NAMES[group.policy], group.else_kid, parent, rest, kind, note))
        self.add("terrl_groups", _values(groups, ("grp", "policy", "else_territory", "parent", "rest", "note_kind", "note")))
        if not self.compact:
            owners, seen = [], 0
            for tid, t in enumerate(territories):
                for o in t.owners:
                    owners.append((tid, seen, o.id))
                    seen += 1
            self.has_owners = bool(owners)
            if owners:
                self.add("terrl_owners", _values(owners, ("territory", "rank", "owner")))

    def level(self, d: int, landed: list[str], notes: list[str]) -> None:
        plan, index = self.plan, self.plan.index
        groups = [g for g in range(len(index.groups)) if plan.group_depth[g] == d]
        kids = [t for g in groups for t in index.groups[g].kids]
        conditions = [index.conditions[t] for t in kids]
        possible = [t for t, c in zip(kids, conditions) if c is not None and c.possible]
        policies = {POLICY_NAMES[index.groups[g].policy] for g in groups if index.groups[g].kids}
        reached, cells = f"terrl_reached_{d}", self.cells_of("r")
        matched_parts = []
        rules = plan.rule_rows(d)
        if rules:
            slots = sorted({plan.slots[plan.lead_field(t)] for t in possible if index.conditions[t].factors})
            stride_of_group = max(1, len(plan.slots)) * plan.stride
            self.add(f"terrl_keys_{d}", self.sql(" UNION ALL ".join(
                f"SELECT r.combo, CAST(r.grp AS BIGINT) * {stride_of_group} + {slot * plan.stride} + r.terrl_cell_{slot} "
                f"AS cell_key FROM {reached} AS r" for slot in slots)))
            # Candidates by each sibling's lead condition: short runs as one row per cell (an equality
            # join), long ones as ranges. Keys are BIGINT, and so are the bounds: DuckDB joins a cast
            # bound by a slower merge join.
            short = [(key, t) for lo, hi, t in rules if hi - lo < SHORT_RUN for key in range(lo, hi + 1)]
            long = [r for r in rules if r[1] - r[0] >= SHORT_RUN]
            leads = []
            if short:
                self.lookup(f"terrl_cells_{d}", short, ("cell_key", "territory"), wide=("cell_key",))
                leads.append(f"SELECT k.combo, x.territory FROM terrl_keys_{d} AS k "
                             f"JOIN terrl_cells_{d} AS x ON x.cell_key = k.cell_key")
            if long:
                self.lookup(f"terrl_rules_{d}", long, ("lo", "hi", "territory"), wide=("lo", "hi"))
                leads.append(f"SELECT k.combo, x.territory FROM terrl_keys_{d} AS k "
                             f"JOIN terrl_rules_{d} AS x ON k.cell_key BETWEEN x.lo AND x.hi")
            checks = plan.check_rows(d)
            if not checks:
                matched_parts += leads
            else:  # the other conditions, checked on the candidates only: they must all hold
                self.add(f"terrl_leads_{d}", self.sql(" UNION ALL ".join(leads)))
                self.lookup(f"terrl_checks_{d}", checks, ("territory", "slot", "lo", "hi", "others"), wide=())
                cell = "CASE x.slot " + " ".join(f"WHEN {i} THEN c.terrl_cell_{i}" for i in range(len(plan.slots))) + " END"
                matched_parts.append(f"SELECT l.combo, l.territory FROM terrl_leads_{d} AS l "
                                     f"JOIN terrl_territories AS t ON t.territory = l.territory WHERE t.need = 1")
                matched_parts.append(f"SELECT l.combo, l.territory FROM terrl_leads_{d} AS l "
                                     f"JOIN terrl_combos AS c ON c.combo = l.combo "
                                     f"JOIN terrl_checks_{d} AS x ON x.territory = l.territory AND {cell} BETWEEN x.lo AND x.hi "
                                     f"GROUP BY l.combo, l.territory HAVING COUNT(*) = MIN(x.others)")
        if any(not index.conditions[t].factors for t in possible):  # no condition on a single field
            matched_parts.append(f"SELECT r.combo, t.territory FROM {reached} AS r "
                                 f"JOIN terrl_territories AS t ON t.grp = r.grp AND t.need = 0")
        residuals = [(t, index.conditions[t].residual) for t in possible if index.conditions[t].residual is not None]
        if matched_parts:
            matched = self.sql(" UNION ALL ".join(matched_parts))
            if residuals:  # conditions across fields, tested on the candidates only
                self.add(f"terrl_candidates_{d}", matched)
                test = _case([(exp.EQ(this=_col("territory", "m"), expression=_int(t)), _test_sql(r, "c"))
                              for t, r in residuals], exp.true())
                matched = self.sql(f"SELECT m.combo, m.territory FROM terrl_candidates_{d} AS m "
                               f"JOIN terrl_combos AS c ON c.combo = m.combo WHERE p_residual", residual=test)
            self.add(f"terrl_matched_{d}", matched)
            windows = ""
            if "first" in policies:
                windows += ", MIN(m.territory) OVER (PARTITION BY m.combo, t.grp) AS first_match"
            if "unique" in policies:
                windows += (", COUNT(*) OVER (PARTITION BY m.combo, t.grp) AS matches"
                            ", MIN(m.territory) OVER (PARTITION BY m.combo, t.grp) AS lowest"
                            ", MAX(m.territory) OVER (PARTITION BY m.combo, t.grp) AS highest")
            keep = " WHERE policy <> 'first' OR territory = first_match" if "first" in policies else ""
            self.add(f"terrl_taken_{d}", self.sql(
                f"SELECT * FROM (SELECT m.combo, t.grp, m.territory, g.policy{windows} FROM terrl_matched_{d} AS m "
                f"JOIN terrl_territories AS t ON t.territory = m.territory JOIN terrl_groups AS g ON g.grp = t.grp) "
                f"AS w{keep}"))
            if "unique" in policies:
                self.conflicts(d)
                notes.append(f"terrl_conflicts_{d}")
            self.add(f"terrl_settled_{d}", self.sql(
                f"SELECT r.combo, r.grp, CASE WHEN w.territory IS NOT NULL THEN w.territory "
                f"WHEN g.else_territory >= 0 THEN g.else_territory END AS territory, {cells} "
                f"FROM {reached} AS r JOIN terrl_groups AS g ON g.grp = r.grp "
                f"LEFT JOIN terrl_taken_{d} AS w ON w.combo = r.combo AND w.grp = r.grp"))
        else:  # no sibling can match: the `else` child or nothing
            self.add(f"terrl_settled_{d}", self.sql(
                f"SELECT r.combo, r.grp, CASE WHEN g.else_territory >= 0 THEN g.else_territory END AS territory, "
                f"{cells} FROM {reached} AS r JOIN terrl_groups AS g ON g.grp = r.grp"))
        settled = f"terrl_settled_{d}"
        if kids or any(index.groups[g].else_kid >= 0 for g in groups):
            self.add(f"terrl_leaves_{d}", self.sql(
                f"SELECT s.combo, s.territory FROM {settled} AS s JOIN terrl_territories AS t "
                f"ON t.territory = s.territory WHERE t.below < 0"))
            landed.append(f"terrl_leaves_{d}")
        if any(index.keep[plan.group_parent[g]] for g in groups if plan.group_parent[g] >= 0):
            self.add(f"terrl_kept_{d}", self.sql(
                f"SELECT s.combo, g.parent AS territory FROM {settled} AS s JOIN terrl_groups AS g ON g.grp = s.grp "
                f"WHERE s.territory IS NULL AND g.rest = 'keep'"))
            landed.append(f"terrl_kept_{d}")
        self.add(f"terrl_ends_{d}", self.sql(
            f"SELECT s.combo, g.note_kind AS kind, g.parent AS at, g.note FROM {settled} AS s "
            f"JOIN terrl_groups AS g ON g.grp = s.grp WHERE s.territory IS NULL AND g.rest <> 'keep'"))
        notes.append(f"terrl_ends_{d}")
        if d + 1 < plan.depth:
            self.add(f"terrl_reached_{d + 1}", self.sql(
                f"SELECT s.combo, t.below AS grp, {self.cells_of('s')} FROM {settled} AS s "
                f"JOIN terrl_territories AS t ON t.territory = s.territory WHERE t.below >= 0"))

    def conflicts(self, d: int) -> None:
        """Several matches under `policy unique`: the reason names them (`terrl.targets.outcome.conflict_reason`)."""
        if self.compact:
            note = "'c' || STRING_AGG(CAST(w.territory AS VARCHAR), '.' ORDER BY w.territory)"
        else:
            before, _, after = REASONS["conflict"].partition("{names}")
            between, _, after = after.partition("{both}")
            names = ("STRING_AGG(CASE WHEN w.territory = w.lowest THEN '' WHEN w.territory = w.highest THEN ' and ' "
                     "ELSE ', ' END || '`' || t.path || '`', '' ORDER BY w.territory)")
            note = (f"p_before || {names} || p_between || CASE WHEN MAX(w.matches) = 2 THEN 'both' ELSE 'all' END "
                    f"|| p_after")
        body = self.sql(f"SELECT w.combo, {CONFLICT_NOTE} AS kind, MAX(g.parent) AS at, {note} AS note "
                    f"FROM terrl_taken_{d} AS w JOIN terrl_groups AS g ON g.grp = w.grp "
                    f"JOIN terrl_territories AS t ON t.territory = w.territory "
                    f"WHERE w.policy = 'unique' AND w.matches > 1 GROUP BY w.combo, w.grp",
                    **({} if self.compact else {"before": _str(before), "between": _str(between), "after": _str(after)}))
        self.add(f"terrl_conflicts_{d}", body)

    def outcomes(self) -> None:
        """`terrl_outcomes`: per combination its cells and results (compact: one coded `result`)."""
        cells = self.cells_of("c")
        if self.compact:
            self.add("terrl_outcomes", self.sql(
                f"SELECT {cells}, COALESCE(l.landed, '') || '|' || COALESCE(n.notes, '') AS result "
                f"FROM terrl_combos AS c "
                f"LEFT JOIN (SELECT combo, STRING_AGG(CAST(territory AS VARCHAR), ',' ORDER BY territory) AS landed "
                f"FROM terrl_landed GROUP BY combo) AS l ON l.combo = c.combo "
                f"LEFT JOIN (SELECT combo, STRING_AGG(note, ',' ORDER BY kind, at) AS notes "
                f"FROM terrl_notes GROUP BY combo) AS n ON n.combo = c.combo"))
            return
        sep = LIST_SEPARATOR
        self.add("terrl_lists", self.sql(
            f"SELECT l.combo, STRING_AGG(t.path, '{sep}' ORDER BY l.territory) AS territories, "
            f"STRING_AGG(t.title, '{sep}' ORDER BY l.territory) AS titles FROM terrl_landed AS l "
            f"JOIN terrl_territories AS t ON t.territory = l.territory GROUP BY l.combo"))
        owners = "''"
        if self.has_owners:  # each owner once, where it first appears (territories in order, then owners)
            self.add("terrl_owner_lists", self.sql(
                f"SELECT combo, STRING_AGG(owner, '{sep}' ORDER BY first_rank) AS owners FROM "
                f"(SELECT l.combo, o.owner, MIN(o.rank) AS first_rank FROM terrl_landed AS l "
                f"JOIN terrl_owners AS o ON o.territory = l.territory GROUP BY l.combo, o.owner) AS firsts "
                f"GROUP BY combo"))
            owners = "COALESCE(o.owners, '')"
        self.add("terrl_reasons", self.sql(
            "SELECT combo, STRING_AGG(note, '; ' ORDER BY kind, at) AS reason FROM terrl_notes GROUP BY combo"))
        self.add("terrl_outcomes", self.sql(
            f"SELECT {cells}, CASE WHEN l.combo IS NULL THEN 'unassigned' ELSE 'assigned' END AS status, "
            f"COALESCE(l.territories, '') AS territories, COALESCE(l.titles, '') AS titles, {owners} AS owners, "
            f"n.reason FROM terrl_combos AS c LEFT JOIN terrl_lists AS l ON l.combo = c.combo "
            + ("LEFT JOIN terrl_owner_lists AS o ON o.combo = c.combo " if self.has_owners else "")
            + "LEFT JOIN terrl_reasons AS n ON n.combo = c.combo"))


# --- the query ------------------------------------------------------------------------

def _whitespace(dialect: str) -> exp.Expression:
    """WHITESPACE as a SQL text: escaped where the dialect's literals have escapes, else CHR(...) || ..."""
    if dialect in ("duckdb", "postgres"):  # literals hold control characters and line breaks as they are
        return _concat([exp.Chr(expressions=[exp.Literal.number(ord(c))]) for c in WHITESPACE])
    return _str(WHITESPACE)


def _trimmed(e: exp.Expression, dialect: str) -> exp.Expression:
    return exp.Trim(this=e, expression=_whitespace(dialect))


def _starts_with_whitespace(e: exp.Expression) -> exp.Expression:
    """DuckDB: the text's first character is one of WHITESPACE (UNICODE('') is -1: false)."""
    return exp.In(this=exp.Anonymous(this="UNICODE", expressions=[e]),
                  expressions=[exp.Literal.number(ord(c)) for c in WHITESPACE])


def _blank_is_null(e: exp.Expression, dialect: str) -> exp.Expression:
    """NULL for a text that is empty or only whitespace (a missing value), else the text.
    DuckDB's TRIM with a set of characters costs 0.4 µs a value (three times the rest of a
    row's checks on 1M rows): a text whose first character is not whitespace is not blank,
    and only the others are trimmed (30 times faster on CRM-like columns)."""
    blank = (exp.EQ(this=_trimmed(e.copy(), dialect), expression=_str("")), _null())
    if dialect != "duckdb":
        return _case([blank], e)
    return _case([(exp.EQ(this=e.copy(), expression=_str("")), _null()),
                  (_not(exp.Paren(this=_starts_with_whitespace(e.copy()))), e.copy()), blank], e)


def _has_whitespace_around(e: exp.Expression, dialect: str) -> exp.Expression:
    """The text starts or ends with whitespace (TRIM would change it); on DuckDB, TRIM only where
    the first or last character is whitespace (see `_blank_is_null`)."""
    changed = exp.NEQ(this=e.copy(), expression=_trimmed(e.copy(), dialect))
    if dialect != "duckdb":
        return changed
    ends = exp.Or(this=_starts_with_whitespace(e.copy()),
                  expression=_starts_with_whitespace(exp.Anonymous(this="RIGHT", expressions=[e.copy(), exp.Literal.number(1)])))
    return exp.And(this=exp.Paren(this=ends), expression=changed)


class _Generator:
    def __init__(self, plan: Plan, dialect: str, input_types: str, empty_is_missing: bool = True,
                 python_cleanup: tuple[str, ...] | None = None, external: dict | None = None) -> None:
        self.external = external
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
        if input_types not in INPUT_TYPES:
            raise ValueError(f"unknown input types {input_types!r}")
        self.plan, self.dialect, self.input_types = plan, dialect, input_types
        self.empty_is_missing = empty_is_missing
        self.python_cleanup = python_cleanup
        self.fields = [_Field(self, i, f) for i, f in enumerate(plan.model.schema.fields)]

    def query(self, table: exp.Expression, carry: Sequence[str], compact: bool) -> exp.Select:
        plan, schema = self.plan, self.plan.model.schema
        names = [f.name for f in schema.fields]
        carried = [c for c in carry if c not in names]
        # terrl_input: the columns terrl reads; a text that is empty or only whitespace is a missing value
        text = self.input_types == "text"
        if text and self.empty_is_missing:
            inputs = [_alias(_blank_is_null(_cast(_col(n), exp.DataType.build("VARCHAR")), self.dialect), n, quoted=True)
                      for n in names]
        elif text:
            inputs = [_alias(_cast(_col(n), exp.DataType.build("VARCHAR")), n, quoted=True) for n in names]
        else:
            inputs = [_alias(_blank_is_null(_col(f.name), self.dialect), f.name, quoted=True)
                      if f.type.kind in ("string", "digits", "enum") else _col(f.name) for f in schema.fields]
        # a field read in the context of its country: the code, and the value as given
        inputs = [e for f, given in zip(self.fields, inputs) for e in (
            f.context_inputs(_unaliased(given), _unaliased(inputs[names.index(f.field.context)]))
            if f.field.context is not None else [given])]
        # the key as given (an empty CSV cell: NULL, as terrl's reader gives it), for the output's key column
        key_field = schema.key
        if key_field is not None:
            given = _cast(_col(key_field.name), exp.DataType.build("VARCHAR")) if text else _col(key_field.name)
            if text and self.empty_is_missing:
                given = exp.Nullif(this=given, expression=_str(""))
            inputs.append(_alias(given, "terrl_key_given", quoted=True))
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
        cells = [_alias(f.cell(), f"terrl_cell_{plan.slots[f.field.name]}", quoted=True)
                 for f in self.fields if f.field.name in plan.slots] or [_alias(exp.Literal.number(0), "terrl_all")]
        checked = _select(*[_col(c) for c in carried],
                             _alias(_col("terrl_key_given") if key else _null(), "terrl_key", quoted=True),
                             _alias(invalid, "terrl_invalid", quoted=True), *cells
                             ).from_(exp.to_table("terrl_members", quoted=True), copy=False)
        members = _select("*", *[e for f in self.fields for e in f.member_columns()]).from_(
            exp.to_table("terrl_numbers" if text else "terrl_input", quoted=True), copy=False)

        ctes: list[tuple[str, exp.Expression]] = [("terrl_input", input_select)]
        if text:  # typed input needs no parsing
            ctes += [("terrl_parsed", parsed), ("terrl_numbers", numbers)]
        ctes += [("terrl_members", members), ("terrl_checked", checked)]
        walk = _Walk(plan, compact, self.dialect, self.external)
        ctes += walk.build()
        # each account takes the outcome of its combination of cells
        on = _balanced([exp.EQ(this=_col(c, "o"), expression=_col(c, "c")) for c in walk.cells], exp.And)
        select = _select().from_(exp.to_table("terrl_checked", alias="c", quoted=True), copy=False).join(
            exp.to_table("terrl_outcomes", alias="o", quoted=True), on=on, join_type="left", copy=False)

        def invalid_col() -> exp.Expression:
            return _col("terrl_invalid", "c")

        def is_invalid() -> exp.Expression:
            return _not(exp.Is(this=invalid_col(), expression=exp.null()))

        if compact:
            result = _case([(is_invalid(), _null())], _col("result", "o"))
            select = select.select(*[_col(c, "c") for c in carried], _alias(_col("terrl_key", "c"), "key", quoted=True),
                                   _alias(result, "result", quoted=True), _alias(invalid_col(), "reason", quoted=True), copy=False)
        else:
            def unless_invalid(column: str, invalid_value: exp.Expression) -> exp.Expression:
                return _alias(_case([(is_invalid(), invalid_value)], _col(column, "o")), column, quoted=True)

            select = select.select(*[_col(c, "c") for c in carried], _alias(_col("terrl_key", "c"), "key", quoted=True),
                                   unless_invalid("status", _str("invalid")), unless_invalid("territories", _str("")),
                                   unless_invalid("titles", _str("")), unless_invalid("owners", _str("")),
                                   unless_invalid("reason", invalid_col()), copy=False)
        # DuckDB inlines a CTE into each query that reads it; the walk's are read several times
        # (computed once each: 7.6 -> 4.2 s CPU on the 3,000-leaf model over 1M rows)
        shared = {"terrl_checked"} | {name for name, _ in walk.ctes} if self.dialect == "duckdb" else set()
        for name, body in ctes:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=body, copy=False,
                                  materialized=True if name in shared else None)
        return select


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return _null()
    if isinstance(value, int):
        return _int(value)
    return _str(value)


# Tables of non-negative integers longer than this are written by `to_text` directly, row by row,
# instead of as sqlglot nodes (about 2 KB of memory per row: 400 MB for 700 Salesforce-like overlays).
LONG_TABLE = 2000
_SENTINEL = 987_654_321_000  # the one row such a table holds until `to_text` writes the real rows
_sentinels = itertools.count()


def _values(rows: list[tuple], columns: tuple[str, ...], wide: tuple[str, ...] = ()) -> exp.Select:
    """An inline table: SELECT columns FROM (VALUES …) AS t(columns) (BigQuery: UNNEST of STRUCTs).
    `wide`: integer columns selected as BIGINT."""
    long = len(rows) > LONG_TABLE and all(type(v) is int and 0 <= v < _SENTINEL for row in rows for v in row)
    # (a sentinel never collides with a real value: keys stay far below it)
    sentinel = tuple(_SENTINEL + 100 * next(_sentinels) + i for i in range(len(columns)))  # unique per table
    tuples = [exp.Tuple(expressions=[_literal(v) for v in row]) for row in ([sentinel] if long else rows)]
    values = exp.Values(expressions=tuples,
                        alias=exp.TableAlias(this=exp.to_identifier("t", quoted=True),
                                             columns=[exp.to_identifier(c, quoted=True) for c in columns]))
    select = _select(*[_alias(_cast(_col(c), exp.DataType.build("BIGINT")), c) if c in wide else _col(c)
                       for c in columns]).from_(values)
    if long:
        select.meta["terrl_rows"] = (sentinel, columns, rows)
    return select


def _write_long_tables(statement: exp.Expression, text: str, dialect: str) -> str:
    """Put the rows of `_values`' long tables in place of their sentinel row."""
    for node in statement.find_all(exp.Select):
        if "terrl_rows" not in node.meta:
            continue
        sentinel, columns, rows = node.meta["terrl_rows"]
        if dialect == "bigquery":
            names = [f" AS `{c}`" for c in columns]
            row_text = lambda row: "STRUCT(" + ", ".join(f"{v}{n}" for v, n in zip(row, names)) + ")"  # noqa: E731
        else:
            row_text = lambda row: "(" + ", ".join(map(str, row)) + ")"  # noqa: E731
        placeholder = row_text(sentinel)
        assert text.count(placeholder) == 1, "a long table's placeholder row is not where it was written"
        text = text.replace(placeholder, ", ".join(map(row_text, rows)))
    return text


# --- public API -----------------------------------------------------------------------

def build_query(model: ir.Model, *, dialect: str = "duckdb", table: str | exp.Expression = "accounts",
                input_types: str = "typed", carry: Sequence[str] = (), compact: bool = False,
                plan: Plan | None = None, empty_is_missing: bool = True, external: dict | None = None,
                python_cleanup: tuple[str, ...] | None = None) -> exp.Select:
    """The SELECT assigning every row of `table`: columns `carry…`, key, status, territories,
    titles, owners, reason — or, `compact`, `carry…`, key, result (index into
    `plan.results`, NULL when invalid), reason (the invalid reason).

    Text input reads an empty string as a missing value (a CSV cell), unless
    `empty_is_missing=False` (values already checked elsewhere, where `""` is a string).

    `external` (a dict): long lookup tables are not written into the query but put there,
    name -> (columns, rows of integers), for the caller to create as tables of that name
    before running it (`terrl.targets.sql_engine`: DuckDB parsing megabytes of VALUES takes GBs).

    `python_cleanup` (DuckDB, text input; the clean-up rules on): a string value that is blank, or
    with whitespace around it under `trim`, makes the row invalid with `PYTHON_CLEANUP_REASON`;
    the DuckDB engine gives every invalid row to the Python evaluator, which cleans and explains."""
    plan = plan or plan_model(model)
    source = table if isinstance(table, exp.Expression) else _table(table, dialect)
    return _Generator(plan, dialect, input_types, empty_is_missing, python_cleanup, external).query(source, carry, compact)


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
    text = sqlglot.Dialect.get_or_raise(dialect).generate(statement, copy=False, identify=True, pretty=pretty,
                                                          unsupported_level=sqlglot.ErrorLevel.RAISE)
    return _write_long_tables(statement, text, dialect)


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
        pretty = plan.size() < LONG_TABLE // 4  # small enough that no table is long (short runs: 4 rows per run)
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
