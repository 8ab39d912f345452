"""A model as one candidate index per sibling group: the evaluator's plan, linear in the rules.

An account is first reduced to one **cell** per tested field (`terrl.analysis.domain`,
over every boundary the model uses). Then the hierarchy is walked top-down as the
meaning says (`terrl.targets.reference`), but a sibling group is never tried sibling by
sibling. Each sibling's `where` is split into per-field **factors** (a conjunction of
conditions on one field each) and a **residual** (the conjuncts that read several fields
at once, rare in practice). Per group and field, the factors are swept into an index:
sorted cell boundaries and, between two boundaries, the bitmask of siblings whose factor
on that field holds there (the packet-classification technique). An account's
candidates are the AND of one lookup per field; only candidates with a residual are
then tested on it, exactly.

Why not one decision diagram of the whole model (what this replaced): its terminals are
*combinations* of territories, which multiply with independent overlays under
`policy all`; a real 700-territory Salesforce model needed 18 GB. Here the size is the
sum over groups of their factors' boundaries: linear in the source. The per-account
cost is one bisect per (visited group, field) and a few integer operations.

The plan is plain data (tuples of ints and predicates) so that the generated module
(`terrl.targets.codegen_python`) writes it as literals and walks it with a few lines of
code; the in-process evaluator executes that same module.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from terrl.analysis.domain import FieldDomain, build_model_domains, model_preds
from terrl.semantics import ir

FIRST, UNIQUE, ALL = 0, 1, 2
POLICY_CODES = {"first": FIRST, "unique": UNIQUE, "all": ALL}


@dataclass(frozen=True, slots=True)
class FieldIndex:
    """One field's lookup in one sibling group: the candidates for a cell are
    `masks[bisect_right(cuts, cell)]` (bit i: the group's i-th sibling, `else` excluded)."""

    slot: int  # position of the field's cell in the walk's cells tuple
    cuts: tuple[int, ...]  # global cell numbers where the candidate set changes, ascending
    masks: tuple[int, ...]  # len(cuts) + 1 candidate bitmasks


# A residual test, as nested tuples (data, so that it can be written as a literal):
# ("in", slot, flips) holds when bisect_right(flips, cell) is odd — `flips` are the cells
# where the truth of a one-field condition changes, starting false at cell 0;
# ("not", test), ("and", test, ...), ("or", test, ...), ("const", bool).
Test = tuple


@dataclass(frozen=True, slots=True)
class Group:
    """The children of one territory (or the model's top level)."""

    policy: int  # FIRST, UNIQUE or ALL
    kids: tuple[int, ...]  # territory ids of the non-`else` children, in source order (bit i)
    possible: int  # bitmask of the kids whose `where` can hold at all
    fields: tuple[FieldIndex, ...]  # most boundaries first (the most selective, usually)
    residuals: tuple[tuple[int, Test], ...]  # (bit, exact test of what the factors leave out)
    else_kid: int  # territory id of the `else` child, or -1


@dataclass(frozen=True, slots=True)
class Plan:
    fields: tuple[str, ...]  # the tested fields, in cells-tuple order (slots)
    domains: tuple[FieldDomain, ...]  # their domains (global cells), same order
    universe: Test | None  # the model's own `where`, or None
    groups: tuple[Group, ...]  # groups[0] is the top level
    paths: tuple[str, ...]  # territory id -> path (depth first, source order)
    below: tuple[int, ...]  # territory id -> group id of its children, or -1 for a leaf
    keep: tuple[bool, ...]  # territory id -> `keep` (rests there when no child takes it)
    top_keep: bool  # the model says `keep`

    def size(self) -> int:
        """Integers in the plan's tables (a proxy for memory and generated-source size)."""
        total = 0
        for g in self.groups:
            total += len(g.kids) + sum(2 * len(f.cuts) + 1 for f in g.fields) + sum(_test_size(t) for _, t in g.residuals)
        return total


def _test_size(test: Test) -> int:
    stack, total = [test], 0
    while stack:
        t = stack.pop()
        if t[0] == "in":
            total += len(t[2]) + 1
        elif t[0] in ("not", "and", "or"):
            total += 1
            stack.extend(t[1:])
        else:
            total += 1
    return total


def build_plan(model: ir.Model) -> Plan:
    """The model's plan (see the module docstring). Linear in the size of the rules."""
    by_name = {d.name: d for d in build_model_domains(model)}
    read: set[str] = set()
    for pred in model_preds(model):
        read |= ir.pred_fields(pred)
    tested = [f.name for f in model.schema.fields if f.name in read]
    slots = {name: i for i, name in enumerate(tested)}
    domains = tuple(by_name[n] for n in tested)
    factors = _Factors(by_name)

    territories = list(model.walk())
    ids = {id(t): i for i, t in enumerate(territories)}
    groups: list[Group] = []
    below = [-1] * len(territories)

    def group_of(children: tuple[ir.Territory, ...], policy: str) -> int:
        kids = [c for c in children if not c.is_else]
        else_kid = next((ids[id(c)] for c in children if c.is_else), -1)
        groups.append(_group(kids, ids, policy, else_kid, factors, slots))
        return len(groups) - 1

    group_of(model.territories, model.policy)  # the top level is group 0
    for t in territories:
        if t.children:
            below[ids[id(t)]] = group_of(t.children, t.policy)
    universe = None if model.universe is None else factors.test(model.universe, slots)
    return Plan(tuple(tested), domains, universe, tuple(groups), tuple(t.path for t in territories), tuple(below),
                tuple(t.keep for t in territories), model.keep)


class _Factors:
    """One-field conditions as flips over the field's global cells: the sorted cells where the
    condition's truth changes, starting false at cell 0 (so runs are consecutive pairs). Every
    operation is a merge, linear in the flips: no bitmask as wide as the field."""

    def __init__(self, domains: dict[str, FieldDomain]) -> None:
        self.domains = domains

    def of(self, pred: ir.Pred, field: str) -> tuple[int, ...]:
        """Where a predicate that reads only `field` holds (post-order with a stack: deep `where`s are fine)."""
        d = self.domains[field]
        out: list[tuple[int, ...]] = []
        stack: list[tuple[ir.Pred, bool]] = [(pred, False)]
        while stack:
            p, done = stack.pop()
            if isinstance(p, ir.Const):
                out.append((0, d.cells) if p.value else ())
            elif isinstance(p, ir.ATOMS):
                out.append(tuple(chain.from_iterable(d.atom_runs(p))))
            elif not done:
                stack.append((p, True))
                operands = (p.operand,) if isinstance(p, ir.Not) else p.operands
                stack.extend((o, False) for o in reversed(operands))
            elif isinstance(p, ir.Not):
                out.append(_complement(out.pop(), d.cells))
            else:
                k = len(p.operands)
                values, out[-k:] = out[-k:], []
                out.append(_union(values) if isinstance(p, ir.Or) else _intersection(values))
        return out[0]

    def test(self, pred: ir.Pred, slots: dict[str, int]) -> Test:
        """An exact test of any predicate on the cells tuple; one-field parts become `in` lookups."""
        fields = ir.pred_fields(pred)
        if not fields:
            return ("const", _constant(pred))
        if len(fields) == 1:
            (name,) = fields
            return ("in", slots[name], self.of(pred, name))
        if isinstance(pred, ir.Not):
            return ("not", self.test(pred.operand, slots))
        tag = "and" if isinstance(pred, ir.And) else "or"
        return (tag, *(self.test(o, slots) for o in pred.operands))


def _complement(flips: tuple[int, ...], cells: int) -> tuple[int, ...]:
    out = list(flips)
    if out and out[0] == 0:
        out.pop(0)
    else:
        out.insert(0, 0)
    if out and out[-1] == cells:
        out.pop()
    else:
        out.append(cells)
    return tuple(out)


def _union(operands: list[tuple[int, ...]]) -> tuple[int, ...]:
    runs_ = sorted((f[i], f[i + 1]) for f in operands for i in range(0, len(f), 2))
    merged: list[int] = []
    for a, b in runs_:
        if merged and a <= merged[-1]:
            merged[-1] = max(merged[-1], b)
        else:
            merged += [a, b]
    return tuple(merged)


def _intersection(operands: list[tuple[int, ...]]) -> tuple[int, ...]:
    acc = operands[0]
    for other in operands[1:]:
        acc = _both(acc, other)
    return acc


def _both(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Where both hold: the runs [a[i], a[i+1]) and [b[j], b[j+1]) intersected pairwise, in order."""
    out: list[int] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = a[i] if a[i] > b[j] else b[j]
        hi = a[i + 1] if a[i + 1] < b[j + 1] else b[j + 1]
        if lo < hi:
            if out and out[-1] == lo:
                out[-1] = hi
            else:
                out += (lo, hi)
        if a[i + 1] < b[j + 1]:
            i += 2
        else:
            j += 2
    return tuple(out)


def _constant(pred: ir.Pred) -> bool:
    if isinstance(pred, ir.Const):
        return pred.value
    if isinstance(pred, ir.Not):
        return not _constant(pred.operand)
    values = [_constant(o) for o in pred.operands]  # type: ignore[union-attr]
    return all(values) if isinstance(pred, ir.And) else any(values)


def conjuncts(pred: ir.Pred) -> list[ir.Pred]:
    """The predicate as a conjunction: nested `and`s flattened, `not (a or b)` as `not a and not b`."""
    out: list[ir.Pred] = []
    stack = [pred]
    while stack:
        p = stack.pop()
        if isinstance(p, ir.And):
            stack.extend(reversed(p.operands))
        elif isinstance(p, ir.Not) and isinstance(p.operand, ir.Or):
            stack.extend(ir.Not(o) for o in reversed(p.operand.operands))
        elif isinstance(p, ir.Not) and isinstance(p.operand, ir.Not):
            stack.append(p.operand.operand)
        else:
            out.append(p)
    return out


def _group(kids: list[ir.Territory], ids: dict[int, int], policy: str, else_kid: int, factors: _Factors,
           slots: dict[str, int]) -> Group:
    possible = 0
    per_field: dict[str, dict[int, tuple[int, ...]]] = {}  # field -> bit -> flips of that sibling's factor
    residuals: list[tuple[int, Test]] = []
    for bit, kid in enumerate(kids):
        rest: list[ir.Pred] = []
        mine: dict[str, list[ir.Pred]] = {}
        never = False
        for c in ([] if kid.where is None else conjuncts(kid.where)):
            fields = ir.pred_fields(c)
            if not fields:
                never = never or not _constant(c)
            elif len(fields) == 1:
                mine.setdefault(next(iter(fields)), []).append(c)
            else:
                rest.append(c)
        if never:
            continue
        possible |= 1 << bit
        for name, parts in mine.items():
            per_field.setdefault(name, {})[bit] = factors.of(parts[0] if len(parts) == 1 else ir.And(tuple(parts)), name)
        if rest:
            residuals.append((bit, factors.test(rest[0] if len(rest) == 1 else ir.And(tuple(rest)), slots)))
    indexes = [_sweep(slots[name], factors.domains[name], flips, possible) for name, flips in per_field.items()]
    indexes.sort(key=lambda f: -len(f.cuts))
    return Group(POLICY_CODES[policy], tuple(ids[id(k)] for k in kids), possible, tuple(indexes), tuple(residuals),
                 else_kid)


def _sweep(slot: int, domain: FieldDomain, per_bit: dict[int, tuple[int, ...]], possible: int) -> FieldIndex:
    """Candidates per cell interval of one field: siblings that do not constrain the field are
    candidates everywhere; the others where their factor holds."""
    unconstrained = possible
    toggles: dict[int, int] = {}
    for bit, flips in per_bit.items():
        unconstrained &= ~(1 << bit)
        if not (possible >> bit) & 1:  # a sibling whose `where` can never hold is no candidate
            continue
        for at in flips:
            toggles[at] = toggles.get(at, 0) ^ (1 << bit)
    cuts: list[int] = []
    current = toggles.pop(0, 0)
    out: list[int] = [unconstrained | current]
    for at in sorted(toggles):
        if at >= domain.cells or not toggles[at]:
            continue
        current ^= toggles[at]
        cuts.append(at)
        out.append(unconstrained | current)
    return FieldIndex(slot, tuple(cuts), tuple(out))
