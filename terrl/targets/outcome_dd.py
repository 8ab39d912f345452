"""A whole model as one multi-terminal decision diagram whose terminals are `Outcome`s: the SQL target's plan.

(The Python evaluator uses `terrl.targets.sibling_index` instead: this diagram's terminals are
combinations of territories, which multiply under `policy all`; the SQL target bounds it.)

Built on `terrl.analysis.dd` over the cells of `terrl.analysis.domain`: every `where` is compiled to a
boolean diagram, and the hierarchy is folded bottom-up into a diagram mapping every
valid account to its outcome (landings, gaps, conflicts, outside the universe). To
assign an account one then finds each field's cell and walks the diagram: the cost
per account depends on the number of fields, not on the number of territories.

Sibling groups are combined as balanced trees (the combinations are associative),
so building stays near n log n in the number of siblings.
"""

from __future__ import annotations

from dataclasses import dataclass

from terrl.semantics import ir
from terrl.analysis.dd import Manager, Node
from terrl.analysis.domain import FieldDomain, build_model_domains, field_order
from terrl.targets.outcome import Outcome

# Intermediate terminals while folding siblings: None (no sibling matched) or
# (paths of the siblings that matched, in source order, their merged outcome).


def _gate(matches: bool, below):
    """The sibling's result where its `where` holds, "no match" elsewhere."""
    return below if matches else None


def _first(a, b):
    """`policy first`: the earlier sibling's match wins."""
    return a if a is not None else b


def _together(a, b):
    """`policy unique` and `all`: every matching sibling, in source order."""
    if a is None:
        return b
    if b is None:
        return a
    return (a[0] + b[0], a[1].merge(b[1]))


def _or_else(found, else_result):
    return found if found is not None else else_result


def _inside(in_universe: bool, outcome: Outcome) -> Outcome:
    return outcome if in_universe else Outcome(outside=True)


@dataclass(frozen=True)
class OutcomeDiagram:
    manager: Manager
    root: Node
    domains: list[FieldDomain]  # in level order (the manager's)

    def outcome_of(self, values: dict) -> Outcome:
        """The outcome of a coerced, valid account (for tests and tools)."""
        cells = [d.cell_of(values.get(d.name)) for d in self.domains]
        return self.manager.value(self.manager.lookup(self.root, cells))


def build_outcome_diagram(model: ir.Model, max_pieces: int | None = None) -> OutcomeDiagram:
    """Raises `terrl.analysis.dd.TooLarge` past `max_pieces` (see `Manager`)."""
    by_name = {d.name: d for d in build_model_domains(model)}
    domains = [by_name[name] for name in field_order(model)]
    mgr = Manager(domains, max_pieces=max_pieces)

    def balanced(nodes: list[Node], fn) -> Node:
        if not nodes:
            return mgr.leaf(None)
        while len(nodes) > 1:
            paired = [mgr.apply(fn, nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
            if len(nodes) % 2:
                paired.append(nodes[-1])
            nodes = paired
        return nodes[0]

    def settle(t: ir.Territory) -> Node:
        """What a territory that the account reached makes of it: an Outcome diagram."""
        if t.is_leaf:
            return mgr.leaf(Outcome(landings=(t.path,)))
        found = children(t.children, t.policy)
        fallback = Outcome(landings=(t.path,)) if t.keep else Outcome(gaps=(t.path,))
        return mgr.map(lambda v, fallback=fallback: v[1] if v is not None else fallback, found)

    def children(kids: tuple[ir.Territory, ...], policy: str) -> Node:
        """None where no child takes the account, else (matched sibling paths, merged outcome)."""
        gated = []
        for c in kids:
            if c.is_else:
                continue
            below = mgr.map(lambda o, path=c.path: ((path,), o), settle(c))
            gated.append(mgr.apply(_gate, mgr.compile(c.where), below))
        found = balanced(gated, _first if policy == "first" else _together)
        else_child = next((c for c in kids if c.is_else), None)
        if else_child is not None:
            below = mgr.map(lambda o, path=else_child.path: ((path,), o), settle(else_child))
            found = mgr.apply(_or_else, found, below)
        if policy == "unique":
            found = mgr.map(_mark_conflict, found)
        return found

    top = children(model.territories, model.policy)
    nothing = Outcome(kept=True) if model.keep else Outcome(gaps=("",))
    root = mgr.map(lambda v: v[1] if v is not None else nothing, top)
    root = mgr.apply(_inside, mgr.compile(model.universe), root)
    return OutcomeDiagram(mgr, root, domains)


def _mark_conflict(v):
    if v is None or len(v[0]) < 2:
        return v
    paths, outcome = v
    return (paths, Outcome(outcome.landings, outcome.gaps, (paths,) + outcome.conflicts, outcome.outside, outcome.kept))
