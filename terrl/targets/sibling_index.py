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

from terrl.analysis.domain import FieldDomain, build_model_domains, runs
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
    tested = [f.name for f in model.schema.fields if by_name[f.name].cuts or _reads(model, f.name)]
    slots = {name: i for i, name in enumerate(tested)}
    domains = tuple(by_name[n] for n in tested)
    masks = _Masks(by_name)

    territories = list(model.walk())
    ids = {id(t): i for i, t in enumerate(territories)}
    groups: list[Group] = []
    below = [-1] * len(territories)

    def group_of(children: tuple[ir.Territory, ...], policy: str) -> int:
        index = len(groups)
        groups.append(None)  # type: ignore[arg-type]  # reserve: the top level is group 0
        kids = [c for c in children if not c.is_else]
        else_kid = next((ids[id(c)] for c in children if c.is_else), -1)
        groups[index] = _group(kids, ids, policy, else_kid, masks, slots)
        return index

    # Breadth first over territories with children; group ids follow, leaves stay -1.
    group_of(model.territories, model.policy)
    for t in territories:
        if t.children:
            below[ids[id(t)]] = group_of(t.children, t.policy)
    universe = None if model.universe is None else masks.test(model.universe, slots)
    return Plan(tuple(tested), domains, universe, tuple(groups), tuple(t.path for t in territories), tuple(below),
                tuple(t.keep for t in territories), model.keep)


def _reads(model: ir.Model, name: str) -> bool:
    """Whether any rule reads the field (an IsNull test adds no cut but still needs the cell)."""
    preds = ([model.universe] if model.universe is not None else []) + [t.where for t in model.walk() if t.where]
    return any(name in ir.pred_fields(p) for p in preds)


class _Masks:
    """One-field conditions as bitmasks over the field's global cells."""

    def __init__(self, domains: dict[str, FieldDomain]) -> None:
        self.domains = domains

    def of(self, pred: ir.Pred, field: str) -> int:
        """The cells of `field` where a predicate that reads only that field holds (iterative)."""
        d = self.domains[field]
        # post-order evaluation with an explicit stack: deep `where`s are fine
        out: list[int] = []
        stack: list[tuple[ir.Pred, bool]] = [(pred, False)]
        while stack:
            p, done = stack.pop()
            if isinstance(p, ir.Const):
                out.append(d.all_cells if p.value else 0)
            elif isinstance(p, ir.ATOMS):
                out.append(d.atom_cells(p))
            elif not done:
                stack.append((p, True))
                operands = (p.operand,) if isinstance(p, ir.Not) else p.operands
                stack.extend((o, False) for o in reversed(operands))
            elif isinstance(p, ir.Not):
                out.append(d.all_cells & ~out.pop())
            else:
                k = len(p.operands)
                values, out[-k:] = out[-k:], []
                acc = values[0]
                for v in values[1:]:
                    acc = acc & v if isinstance(p, ir.And) else acc | v
                out.append(acc)
        return out[0]

    def test(self, pred: ir.Pred, slots: dict[str, int]) -> Test:
        """An exact test of any predicate on the cells tuple; one-field parts become `in` lookups."""
        fields = ir.pred_fields(pred)
        if not fields:
            return ("const", _constant(pred))
        if len(fields) == 1:
            (name,) = fields
            return ("in", slots[name], _flips(self.of(pred, name)))
        if isinstance(pred, ir.Not):
            return ("not", self.test(pred.operand, slots))
        tag = "and" if isinstance(pred, ir.And) else "or"
        return (tag, *(self.test(o, slots) for o in pred.operands))


def _constant(pred: ir.Pred) -> bool:
    if isinstance(pred, ir.Const):
        return pred.value
    if isinstance(pred, ir.Not):
        return not _constant(pred.operand)
    values = [_constant(o) for o in pred.operands]  # type: ignore[union-attr]
    return all(values) if isinstance(pred, ir.And) else any(values)


def _flips(mask: int) -> tuple[int, ...]:
    """The cells where membership changes, from "not in" at cell 0."""
    out: list[int] = []
    for start, end in runs(mask):
        out += [start, end]
    return tuple(out)


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


def _group(kids: list[ir.Territory], ids: dict[int, int], policy: str, else_kid: int, masks: _Masks,
           slots: dict[str, int]) -> Group:
    possible = 0
    factors: dict[str, dict[int, int]] = {}  # field -> bit -> cells where that sibling's factor holds
    residuals: list[tuple[int, Test]] = []
    for bit, kid in enumerate(kids):
        rest: list[ir.Pred] = []
        never = False
        for c in ([] if kid.where is None else conjuncts(kid.where)):
            fields = ir.pred_fields(c)
            if not fields:
                never = never or not _constant(c)
            elif len(fields) == 1:
                (name,) = fields
                mine = factors.setdefault(name, {})
                mine[bit] = mine.get(bit, -1) & masks.of(c, name)
            else:
                rest.append(c)
        if never:
            continue
        possible |= 1 << bit
        if rest:
            test = masks.test(rest[0] if len(rest) == 1 else ir.And(tuple(rest)), slots)
            residuals.append((bit, test))
    indexes = [_sweep(slots[name], masks.domains[name], per_bit, possible) for name, per_bit in factors.items()]
    indexes.sort(key=lambda f: -len(f.cuts))
    return Group(POLICY_CODES[policy], tuple(ids[id(k)] for k in kids), possible, tuple(indexes), tuple(residuals),
                 else_kid)


def _sweep(slot: int, domain: FieldDomain, per_bit: dict[int, int], possible: int) -> FieldIndex:
    """Candidates per cell interval of one field: siblings that do not constrain the field are
    candidates everywhere; the others where their factor holds."""
    unconstrained = possible
    toggles: dict[int, int] = {}
    for bit, cells in per_bit.items():
        unconstrained &= ~(1 << bit)
        if not (possible >> bit) & 1:
            continue
        for start, end in runs(cells & domain.all_cells):
            toggles[start] = toggles.get(start, 0) ^ (1 << bit)
            toggles[end] = toggles.get(end, 0) ^ (1 << bit)
    cuts: list[int] = []
    out: list[int] = [unconstrained | toggles.pop(0, 0)]
    current = out[0] & ~unconstrained
    for at in sorted(toggles):
        if at >= domain.cells or not toggles[at]:
            continue
        current ^= toggles[at]
        cuts.append(at)
        out.append(unconstrained | current)
    return FieldIndex(slot, tuple(cuts), tuple(out))
