"""Per-field discretization: each field's value domain cut into cells.

Every atom of a model (`Compare`, `InSet`, `InRange`, `StartsWith`, `IsNull`) reads one
field and is true on a union of intervals of that field's ordered domain. Cutting the
domain at every interval end that any atom of the model uses leaves finitely many
**cells**; every atom is then exactly a set of cells, and two values in one cell are
indistinguishable by the model. This is what makes the coverage analysis exact and
finite, and what the evaluator looks up per field before walking its diagram.

Cuts. A cut is a position between values, written as a sortable key:

| kind          | key of a value v                  | cut before v    | cut after v        |
|---------------|-----------------------------------|-----------------|--------------------|
| int           | v                                 | ceil(v)         | floor(v) + 1       |
| digits(N)     | int(v) (fixed width: lexicographic = numeric) | int(v) | int(v) + 1   |
| enum          | index of the member               | index           | index + 1          |
| bool          | 0 / 1                             | 0 / 1           | 1 / 2              |
| string        | v (code-point order; from "\\0": a blank text is missing) | v | v + "\\0"     |
| decimal       | (v, 0)                            | (v, 0)          | (v, 1)             |

Decimals are dense, so a boundary value is a cell of its own: `revenue < 1M` and
`revenue > 1M` leave the cell `[(1M, 0), (1M, 1))` = {1M}. For the other kinds any
two distinct cuts have a value between them, so no cell is ever empty.

Cells of a field are numbered in domain order `0 .. value_cells - 1`; an optional
field has one more cell, `null_cell == value_cells`, for the missing value. A set of
cells is a Python int used as a bitmask (bit i = cell i).

Two-valued logic: every atom except `IsNull` is false on the null cell; `Not` is
the complement over *all* cells of the field, null included.

API (`FieldDomain`): `cell_of(value)`, `atom_cells(atom)`, `cells`, `value_cells`,
`null_cell`, `all_cells`, `representative(cell)`, `preferred_cell`, `describe(mask)`,
`interval(cell)`; `build_domains(schema, preds)` makes one per schema field.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Iterator, Sequence

from terrl.semantics import ir

MAX_CODE_POINT = 0x10FFFF


def next_prefix(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (None: none is)."""
    chars = list(prefix)
    while chars and ord(chars[-1]) == MAX_CODE_POINT:
        chars.pop()
    if not chars:
        return None
    following = ord(chars[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not text (no reader takes them, no encoder writes them)
        following = 0xE000
    chars[-1] = chr(following)
    return "".join(chars)


def runs(mask: int) -> Iterator[tuple[int, int]]:
    """Maximal runs of set bits as half-open ranges (start, end), lowest first."""
    while mask:
        low = (mask & -mask).bit_length() - 1
        shifted = mask >> low
        length = (shifted ^ (shifted + 1)).bit_length() - 1
        yield low, low + length
        mask &= ~(((1 << length) - 1) << low)


def range_mask(start: int, end: int) -> int:
    """The bitmask of cells start .. end - 1."""
    return ((1 << (end - start)) - 1) << start if end > start else 0


def _merge_runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans [a, b) as disjoint runs: overlapping or touching spans joined, empty ones dropped."""
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if a >= b:
            continue
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def atoms_of(pred: ir.Pred) -> Iterator[ir.Pred]:
    """Every atom in a predicate (iterative: deep trees are fine)."""
    stack = [pred]
    while stack:
        p = stack.pop()
        if isinstance(p, ir.ATOMS):
            yield p
        elif isinstance(p, ir.Not):
            stack.append(p.operand)
        elif isinstance(p, (ir.And, ir.Or)):
            stack.extend(p.operands)


def format_number(value: int | Decimal) -> str:
    """A number as a person writes it in `.terr`: 1M, 500M, 2B, 1000, 12.5."""
    if isinstance(value, Decimal):
        value = value.normalize()
        if value == value.to_integral_value():
            value = int(value)
        else:
            return format(value, "f")
    for suffix, scale in (("B", 10**9), ("M", 10**6)):
        if value != 0 and value % scale == 0:
            return f"{value // scale}{suffix}"
    return str(value)


@dataclass(frozen=True)
class _Interval:
    """Cell bounds as cut keys; None is an open (infinite) end."""

    lo: object | None
    hi: object | None


class FieldDomain:
    """One field's domain cut into cells by every boundary the model's atoms use."""

    def __init__(self, field: ir.Field, atoms: Iterable[ir.Pred] = ()) -> None:
        self.field = field
        self.name = field.name
        t = field.type
        self.type = t
        self.kind = t.kind
        self.optional = field.optional
        self.start, self.end = self._domain_ends()
        cuts = set()
        for atom in atoms:
            points = self._point_cuts(atom)
            if points is not None:  # a long list: its cuts added in bulk
                cuts.update(points[0])
                cuts.update(points[1])
                continue
            for lo, hi in self._atom_intervals(atom):
                cuts.add(lo)
                cuts.add(hi)
        cuts.discard(None)
        # Filtered once per distinct cut, not once per value of every list
        self.cuts: list = sorted(c for c in cuts if self._interior(c))
        self._cells_before_cut: dict | None = None  # built by _point_runs when first needed
        self.value_cells = len(self.cuts) + 1
        self.null_cell: int | None = self.value_cells if self.optional else None
        self.cells = self.value_cells + (1 if self.optional else 0)
        self.all_cells = (1 << self.cells) - 1
        self.value_mask = (1 << self.value_cells) - 1
        if self.kind == "decimal":
            self._cut_values = [c[0] for c in self.cuts]
        self.preferred_cell = self._preferred_cell()

    # --- keys and cuts ---------------------------------------------------------------

    def _domain_ends(self) -> tuple[object | None, object | None]:
        t = self.type
        if self.kind == "int":
            return (None if t.lo is None else math.ceil(t.lo), None if t.hi is None else math.floor(t.hi) + 1)
        if self.kind == "decimal":
            return (None if t.lo is None else (Decimal(t.lo), 0), None if t.hi is None else (Decimal(t.hi), 1))
        if self.kind == "digits":
            return 0, 10 ** (t.digits or 0)
        if self.kind == "enum":
            self._index = {m: i for i, m in enumerate(t.members)}
            return 0, len(t.members)
        if self.kind == "bool":
            return 0, 2
        # string: from the least non-empty text up, unbounded. A blank text (empty or only
        # whitespace) is a missing value, not a string (docs/assign.md); "" is the only one
        # the domain's cells could hold alone ([v, v + NUL) needs a blank literal, which the
        # resolver refuses).
        return "\0", None

    def _interior(self, cut) -> bool:
        return (self.start is None or cut > self.start) and (self.end is None or cut < self.end)

    def key(self, value: ir.Value):
        """The sort key of a valid value (see the table in the module docstring)."""
        k = self.kind
        if k == "int":
            return value
        if k == "decimal":
            return (Decimal(value), 0)
        if k == "digits":
            return int(value)
        if k == "enum":
            return self._index[value]
        if k == "bool":
            return int(value)
        return value

    def cut_before(self, value: ir.Value):
        k = self.kind
        if k == "int":
            return math.ceil(value)
        if k == "decimal":
            return (Decimal(value), 0)
        return self.key(value)

    def cut_after(self, value: ir.Value):
        k = self.kind
        if k == "int":
            return math.floor(value) + 1
        if k == "decimal":
            return (Decimal(value), 1)
        if k == "string":
            return value + "\0"
        return self.key(value) + 1

    def _prefix_interval(self, prefix: str) -> tuple[object, object | None]:
        if self.kind == "digits":
            n = self.type.digits or 0
            scale = 10 ** (n - len(prefix))
            base = int(prefix) if prefix else 0
            return base * scale, (base + 1) * scale
        return prefix, next_prefix(prefix)

    def _atom_intervals(self, atom: ir.Pred) -> list[tuple[object | None, object | None]]:
        """The value intervals [lo, hi) (as cuts; None = unbounded) where an atom holds."""
        if isinstance(atom, ir.Compare):
            v = atom.value
            if self.kind == "enum" and v not in self._index:
                return []
            op = atom.op
            if op == "==":
                return [(self.cut_before(v), self.cut_after(v))]
            if op == "<":
                return [(None, self.cut_before(v))]
            if op == "<=":
                return [(None, self.cut_after(v))]
            if op == ">":
                return [(self.cut_after(v), None)]
            return [(self.cut_before(v), None)]  # >=
        if isinstance(atom, ir.InSet):  # lists of digits, strings and enum members take `_point_cuts`
            return [(self.cut_before(v), self.cut_after(v)) for v in atom.values]
        if isinstance(atom, ir.InRange):
            lo = None if atom.lo is None else self.cut_before(atom.lo)
            hi = None if atom.hi is None else self.cut_after(atom.hi)
            return [(lo, hi)]
        if isinstance(atom, ir.StartsWith):
            return [self._prefix_interval(atom.prefix)]
        return []  # IsNull: no value interval

    def _point_cuts(self, atom: ir.Pred) -> tuple[list, list] | None:
        """For an `in` list over a field whose values are points of the cut order (digits,
        string, enum): the cuts before and after each value, as two lists; None otherwise.
        The same intervals as `_atom_intervals`, computed with C-level maps: ZIP lists of
        hundreds of values over 2,000 territories made the per-value path most of a load."""
        if not isinstance(atom, ir.InSet):
            return None
        kind = self.kind
        if kind == "digits":
            before = list(map(int, atom.values))
            return before, list(map((1).__add__, before))
        if kind == "string":
            return list(atom.values), [v + "\0" for v in atom.values]
        if kind == "enum":
            before = [self._index[v] for v in atom.values if v in self._index]
            return before, list(map((1).__add__, before))
        return None

    def _point_runs(self, before: list, after: list) -> list[tuple[int, int]]:
        """`atom_runs` of an `in` list from its `_point_cuts`: the cells before each cut looked
        up in a table of the cuts (a dict), `_cell_at_cut` only for the cuts not in it."""
        at = self._cells_before_cut
        if at is None:
            at = self._cells_before_cut = dict(zip(self.cuts, range(1, len(self.cuts) + 1)))
        a = list(map(at.get, before))
        b = list(map(at.get, after))
        if None in a:
            a = [self._cell_at_cut(c) if x is None else x for x, c in zip(a, before)]
        if None in b:
            b = [self._cell_at_cut(c) if x is None else x for x, c in zip(b, after)]
        return _merge_runs(sorted(set(zip(a, b))))

    def _cell_at_cut(self, cut) -> int:
        """How many value cells lie wholly before `cut` (None below means -inf)."""
        if self.end is not None and cut >= self.end:
            return self.value_cells
        if self.start is not None and cut <= self.start:
            return 0
        return bisect.bisect_right(self.cuts, cut)

    # --- the public API --------------------------------------------------------------

    def atom_cells(self, atom: ir.Pred) -> int:
        """The cells (bitmask) where an atom on this field is true."""
        mask = 0
        for a, b in self.atom_runs(atom):
            mask |= range_mask(a, b)
        return mask

    def atom_runs(self, atom: ir.Pred) -> list[tuple[int, int]]:
        """The cells where an atom on this field is true, as sorted disjoint runs [a, b) (no big
        bitmask: a list of hundreds of ZIP codes over a field of 30,000 cells stays small)."""
        if isinstance(atom, ir.IsNull):
            return [] if self.null_cell is None else [(self.null_cell, self.null_cell + 1)]
        points = self._point_cuts(atom)
        if points is not None:
            return self._point_runs(*points)
        spans = []
        for lo, hi in self._atom_intervals(atom):
            a = 0 if lo is None else self._cell_at_cut(lo)
            b = self.value_cells if hi is None else self._cell_at_cut(hi)
            spans.append((a, b))
        spans.sort()
        return _merge_runs(spans)

    def cell_of(self, value: ir.Value | None) -> int:
        """The cell of a valid value in IR representation (None: the null cell)."""
        if value is None:
            if self.null_cell is None:
                raise ValueError(f"`{self.name}` is required")
            return self.null_cell
        k = self.kind
        if k == "decimal":
            # cuts are (v, 0) before v and (v, 1) after v: count cuts <= (value, 0)
            i = bisect.bisect_left(self._cut_values, value)
            if i < len(self.cuts) and self.cuts[i] == (value, 0):
                i += 1
            return i
        return bisect.bisect_right(self.cuts, self.key(value))

    def interval(self, cell: int) -> _Interval:
        """The cut keys bounding a value cell."""
        lo = self.start if cell == 0 else self.cuts[cell - 1]
        hi = self.end if cell == self.value_cells - 1 else self.cuts[cell]
        return _Interval(lo, hi)

    def contains(self, cell: int, value: ir.Value | None) -> bool:
        return self.cell_of(value) == cell

    def _preferred_cell(self) -> int:
        """The cell of the nicest value of the whole domain (used for unconstrained fields)."""
        return 0 if self.kind in ("digits", "enum", "bool") else self.cell_of(self.representative_in(0, self.value_cells))

    def representative(self, cell: int) -> ir.Value | None:
        """A concrete valid value in a cell: 0, the lower boundary, a round number, the first member."""
        if cell == self.null_cell:
            return None
        return self.representative_in(cell, cell + 1)

    def representative_in(self, first: int, end: int) -> ir.Value:
        """The nicest value in cells first .. end - 1 (a contiguous, non-empty range)."""
        lo = self.interval(first).lo
        hi = self.interval(end - 1).hi
        k = self.kind
        if k == "digits":
            return str(lo).zfill(self.type.digits or 0)
        if k == "enum":
            return self.type.members[lo]
        if k == "bool":
            return bool(lo)
        if k == "int":
            if (lo is None or lo <= 0) and (hi is None or hi > 0):
                return 0
            return lo if lo is not None and lo > 0 else hi - 1
        if k == "string":
            # the lower end unless it is an artificial cut ("s\0" = just after s); else a short plain text
            stem = lo[:-1] if lo.endswith("\0") else None
            candidates = ([] if stem is not None or lo == self.start else [lo]) + ["a", "A", "0", lo]
            if stem is not None:
                candidates += [stem + "0", stem + "a", stem + " "]
            for candidate in candidates:
                if candidate >= lo and (hi is None or candidate < hi):
                    return candidate
            return lo
        return self._decimal_in(lo, hi)

    def _decimal_in(self, lo, hi) -> Decimal:
        def inside(x: Decimal) -> bool:
            return (lo is None or (x, 0) >= lo) and (hi is None or (x, 0) < hi)

        zero = Decimal(0)
        if inside(zero):
            return zero
        candidates: list[Decimal] = []
        if lo is not None and lo[0] >= 0:  # wholly positive: from the lower end up
            base = lo[0]
            candidates.append(base)
            candidates += [base + Decimal(10) ** e for e in range(0, -40, -1)]
        else:  # wholly negative: from the upper end down
            base = hi[0]
            candidates.append(base)
            candidates += [base - Decimal(10) ** e for e in range(0, -40, -1)]
        # round numbers first: the integral part of each candidate when still inside
        for c in candidates:
            r = c.to_integral_value()
            if inside(r):
                return r
        for c in candidates:
            if inside(c):
                return c.normalize()
        a = lo[0] if lo is not None else hi[0] - 1
        b = hi[0] if hi is not None else lo[0] + 1
        return (a + b) / 2

    # --- descriptions ----------------------------------------------------------------

    def describe(self, mask: int) -> str | None:
        """Readable text for a set of cells; None when the set says nothing (all cells)."""
        mask &= self.all_cells
        if mask == self.all_cells:
            return None
        f = f"`{self.name}`"
        if mask == 0:
            return "false"
        null = self.null_cell is not None and bool(mask >> self.null_cell & 1)
        values = mask & self.value_mask
        if values == 0:
            return f"{f} missing"
        if values == self.value_mask:
            return f"{f} present" if not null else None
        text = self._describe_values(values)
        if null:
            # "`s` != x and present, or `s` missing" says "`s` != x, or `s` missing" in more words
            return f"({text.removesuffix(' and present')} or {f} missing)"
        return text

    def _describe_values(self, values: int) -> str:
        f = f"`{self.name}`"
        k = self.kind
        if k in ("enum", "bool"):
            members = self.type.members if k == "enum" else ("false", "true")
            # a cell spans the members between two cuts: index lo .. hi - 1
            inside, outside = [], []
            for cell in range(self.value_cells):
                iv = self.interval(cell)
                (inside if values >> cell & 1 else outside).extend(members[iv.lo:iv.hi])
            if len(inside) == 1:
                return f"{f} == {inside[0]}"
            if len(outside) == 1 and len(inside) > 3:
                return f"{f} != {outside[0]}" + (" and present" if self.optional else "")
            if len(outside) < len(inside) and len(inside) > 6:
                return f"{f} not in {{{_listing(outside)}}}" + (" and present" if self.optional else "")
            return f"{f} in {{{_listing(inside)}}}"
        points = self._points(self.value_mask & ~values)
        if points is not None and 0 < len(points) <= 6:
            listed = ", ".join(self._show(p) for p in points)
            text = f"{f} != {listed}" if len(points) == 1 else f"{f} not in {{{listed}}}"
            return text + (" and present" if self.optional else "")
        parts = [self._describe_range(a, b) for a, b in runs(values)]
        if len(parts) > 6:
            parts = parts[:5] + [f"{len(parts) - 5} more ranges"]
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def _points(self, mask: int) -> list | None:
        """The values of cells that each hold exactly one value, or None if some cell holds more."""
        out = []
        for cell in range(self.value_cells):
            if not mask >> cell & 1:
                continue
            iv = self.interval(cell)
            lo, hi = iv.lo, iv.hi
            if lo is None or hi is None:
                return None
            if self.kind == "decimal":
                if not (lo[1] == 0 and hi == (lo[0], 1)):
                    return None
                out.append(lo[0])
            elif self.kind == "string":
                if hi != lo + "\0":
                    return None
                out.append(lo)
            elif hi == lo + 1:
                out.append(lo)
            else:
                return None
            if len(out) > 6:
                return None
        return out

    def _show(self, value) -> str:
        if self.kind in ("int", "decimal"):
            return format_number(value)
        if self.kind == "digits":
            return '"' + str(value).zfill(self.type.digits or 0) + '"'
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    def _describe_range(self, first: int, end: int) -> str:
        """Text for the value cells first .. end - 1 (contiguous)."""
        f = f"`{self.name}`"
        lo = self.interval(first).lo
        hi = self.interval(end - 1).hi
        k = self.kind
        if k == "digits":
            return self._describe_digits(lo, hi)
        if k == "string":
            if hi is not None and hi == lo + "\0":
                return f"{f} == {self._show(lo)}"
            if lo != "" and hi == next_prefix(lo):
                return f"{f} starts with {self._show(lo)}"
            if lo == self.start:
                return f"{f} < {self._show(hi)}"
            if hi is None:
                return f"{f} >= {self._show(lo)}"
            return f"{f} >= {self._show(lo)} and {f} < {self._show(hi)}"
        if k == "int":
            if lo is not None and hi is not None and hi == lo + 1:
                return f"{f} == {self._show(lo)}"
            if lo is None or lo == self.start:
                if hi is None:
                    return f"{f} any"
                # `< 1000` reads better than `<= 999`
                return f"{f} < {self._show(hi)}" if hi % 10 == 0 else f"{f} <= {self._show(hi - 1)}"
            if hi is None or hi == self.end:
                return f"{f} >= {self._show(lo)}"
            return f"{f} in {self._show(lo)}..{self._show(hi - 1)}"
        # decimal: cuts (v, 0) = before v, (v, 1) = after v
        if lo is not None and hi is not None and lo == (hi[0], 0) and hi[1] == 1:
            return f"{f} == {self._show(lo[0])}"
        low = None if lo is None or lo == self.start else (">=" if lo[1] == 0 else ">", lo[0])
        high = None if hi is None or hi == self.end else ("<" if hi[1] == 0 else "<=", hi[0])
        if low and high and low[0] == ">=" and high[0] == "<=":
            return f"{f} in {self._show(low[1])}..{self._show(high[1])}"
        pieces = [f"{f} {bound[0]} {self._show(bound[1])}" for bound in (low, high) if bound]
        return " and ".join(pieces) if pieces else f"{f} any"

    # --- the same as predicates (for plain English in docs) -------------------------------

    def to_pred(self, mask: int) -> ir.Pred | None:
        """An IR predicate true exactly for the values of the cells in `mask` (None: every
        cell, nothing to say), shaped like `describe`'s text so that docs can read it out."""
        mask &= self.all_cells
        if mask == self.all_cells:
            return None
        if mask == 0:
            return ir.FALSE
        f = self.name
        null = self.null_cell is not None and bool(mask >> self.null_cell & 1)
        values = mask & self.value_mask
        if values == 0:
            return ir.IsNull(f)
        if values == self.value_mask:
            return ir.Not(ir.IsNull(f), written="is not null")
        pred = self._values_pred(values)
        return ir.Or((ir.IsNull(f), pred)) if null else pred

    def _values_pred(self, values: int) -> ir.Pred:
        f = self.name
        if self.kind in ("enum", "bool"):
            members = self.type.members if self.kind == "enum" else (False, True)
            inside, outside = [], []
            for cell in range(self.value_cells):
                iv = self.interval(cell)
                (inside if values >> cell & 1 else outside).extend(members[iv.lo:iv.hi])
            if len(inside) == 1:
                return ir.Compare(f, "==", inside[0])
            if len(outside) < len(inside) and len(inside) > 6:
                return self._none_of(outside)
            return ir.InSet(f, frozenset(inside), source=ir.SetLiteral(tuple(inside), tuple(map(str, inside))))
        points = self._points(self.value_mask & ~values)
        if points is not None and 0 < len(points) <= 6:
            if self.kind == "digits":
                points = [str(p).zfill(self.type.digits or 0) for p in points]
            return self._none_of(points)
        parts = [self._run_pred(a, b) for a, b in runs(values)]
        return parts[0] if len(parts) == 1 else ir.Or(tuple(parts))

    def _none_of(self, values: list) -> ir.Pred:
        """Present and none of `values` (`not in` alone would take a missing value too)."""
        f = self.name
        atom = ir.Compare(f, "==", values[0]) if len(values) == 1 else \
            ir.InSet(f, frozenset(values), source=ir.SetLiteral(tuple(values), tuple(map(str, values))))
        negated = ir.Not(atom, written="!=" if len(values) == 1 else "not in")
        return ir.And((ir.Not(ir.IsNull(f), written="is not null"), negated)) if self.optional else negated

    def _run_pred(self, first: int, end: int) -> ir.Pred:
        """The value cells first .. end - 1 (contiguous, not all of them) as one predicate."""
        f = self.name
        lo = self.interval(first).lo
        hi = self.interval(end - 1).hi
        k = self.kind
        if k == "digits":
            n = self.type.digits or 0
            if hi == lo + 1:
                return ir.Compare(f, "==", str(lo).zfill(n))
            blocks = _prefix_blocks(lo, hi, n)
            if len(blocks) <= 3:
                atoms = tuple(ir.StartsWith(f, p) for p in blocks)
                return atoms[0] if len(atoms) == 1 else ir.Or(atoms, written="startswith")
            return ir.InRange(f, str(lo).zfill(n), str(hi - 1).zfill(n))
        if k == "string":
            if hi is not None and hi == lo + "\0":
                return ir.Compare(f, "==", lo)
            if lo != "" and hi == next_prefix(lo):
                return ir.StartsWith(f, lo)
            if lo == "":
                return ir.Compare(f, "<", hi)
            if hi is None:
                return ir.Compare(f, ">=", lo)
            return ir.And((ir.Compare(f, ">=", lo), ir.Compare(f, "<", hi)))
        if k == "int":
            if lo is not None and hi is not None and hi == lo + 1:
                return ir.Compare(f, "==", lo)
            low = lo if lo is not None and lo != self.start else None
            high = hi - 1 if hi is not None and hi != self.end else None
            if low is None:
                return ir.Compare(f, "<=", high)
            if high is None:
                return ir.Compare(f, ">=", low)
            return ir.InRange(f, low, high)
        # decimal: cuts (v, 0) = before v, (v, 1) = after v
        if lo is not None and hi is not None and lo == (hi[0], 0) and hi[1] == 1:
            return ir.Compare(f, "==", lo[0])
        low = None if lo is None or lo == self.start else (">=" if lo[1] == 0 else ">", lo[0])
        high = None if hi is None or hi == self.end else ("<" if hi[1] == 0 else "<=", hi[0])
        if low and high and low[0] == ">=" and high[0] == "<=":
            return ir.InRange(f, low[1], high[1])
        atoms = tuple(ir.Compare(f, bound[0], bound[1]) for bound in (low, high) if bound)
        return atoms[0] if len(atoms) == 1 else ir.And(atoms)

    def _describe_digits(self, lo: int, hi: int) -> str:
        f = f"`{self.name}`"
        n = self.type.digits or 0
        if hi == lo + 1:
            return f"{f} == {self._show(lo)}"
        blocks = _prefix_blocks(lo, hi, n)
        if len(blocks) <= 3:
            texts = [f'{f} starts with "{p}"' if p else f"{f} any" for p in blocks]
            return texts[0] if len(texts) == 1 else "(" + " or ".join(texts) + ")"
        return f"{f} in {self._show(lo)}..{self._show(hi - 1)}"


def _listing(names: list[str], shown: int = 12) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f", … {len(names) - shown} more"


def _prefix_blocks(lo: int, hi: int, n: int, limit: int = 4) -> list[str]:
    """[lo, hi) as the fewest digit prefixes, each the block of all N-digit codes that start
    with it; at most `limit` blocks are computed (more means "describe as a range")."""
    blocks: list[str] = []
    while lo < hi and len(blocks) < limit:
        size = 1
        while lo % (size * 10) == 0 and lo + size * 10 <= hi:
            size *= 10
        width = n - (len(str(size)) - 1)
        blocks.append(str(lo // size).zfill(width) if width else "")
        lo += size
    return blocks if lo >= hi else blocks + ["?"]


def build_domains(schema: ir.Schema, preds: Iterable[ir.Pred | None]) -> list[FieldDomain]:
    """One domain per schema field (schema order), cut by every atom of `preds`."""
    by_field: dict[str, list[ir.Pred]] = {f.name: [] for f in schema.fields}
    for pred in preds:
        if pred is None:
            continue
        for atom in atoms_of(pred):
            if atom.field in by_field:
                by_field[atom.field].append(atom)
    return [FieldDomain(f, by_field[f.name]) for f in schema.fields]


def model_preds(model: ir.Model) -> list[ir.Pred]:
    """The model's universe and every territory's `where`."""
    preds = [model.universe] if model.universe is not None else []
    preds += [t.where for t in model.walk() if t.where is not None]
    return preds


def build_model_domains(model: ir.Model) -> list[FieldDomain]:
    return build_domains(model.schema, model_preds(model))


def field_order(model: ir.Model) -> list[str]:
    """A variable order for decision diagrams: fields in order of first use, top of the tree first.

    Fields the universe and top-level territories test come first, so the diagrams split
    on them near the root, like the hierarchy itself; unused fields go last.
    """
    seen: dict[str, None] = {}

    def visit(pred: ir.Pred | None) -> None:
        if pred is None:
            return
        stack = [pred]
        while stack:
            p = stack.pop()
            if isinstance(p, ir.ATOMS):
                seen.setdefault(p.field, None)
            elif isinstance(p, ir.Not):
                stack.append(p.operand)
            elif isinstance(p, (ir.And, ir.Or)):
                stack.extend(reversed(p.operands))

    visit(model.universe)
    level: Sequence[ir.Territory] = model.territories
    while level:
        for t in level:
            visit(t.where)
        level = [c for t in level for c in t.children]
    names = [f.name for f in model.schema.fields]
    return [n for n in seen if n in names] + [n for n in names if n not in seen]
