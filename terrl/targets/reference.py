"""The reference interpreter: the meaning of a model, written as plainly as possible.

A tree walk over the territories that evaluates each `where` directly on the coerced
account. It is slow on purpose (every sibling's predicate, every time) and exists to
be obviously right: the differential tests hold the compiled evaluator and the
generated module to it, and `terrl explain` / `assign --explain` use its trace to say
which `where` matched at each level.

The meaning (docs: the design brief's "Meaning of a model"):

- an account reaches the model when it is in its universe (its own `where`);
- among the children of whatever it reached, the matching siblings are those whose
  `where` holds (no `where`: always); `else` matches when no other sibling does;
- `policy first` keeps the first match in source order, `unique` and `all` keep all
  (more than one under `unique` is a conflict, see `terrl.targets.outcome`);
- a matched territory with children passes the account down; if none of them takes
  it, it rests there under `keep` and is in a gap otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from terrl.semantics import ir
from terrl.semantics.cleanup import DEFAULT_RULES
from terrl.semantics.coerce import coerce_account
from terrl.targets.outcome import INVALID, Outcome, result_fields

Values = Mapping[str, ir.Value | None]


def holds(pred: ir.Pred | None, values: Values, schema: ir.Schema) -> bool:
    """Two-valued truth of a predicate: atoms on a missing value are false."""
    if pred is None:
        return True
    if isinstance(pred, ir.Const):
        return pred.value
    if isinstance(pred, ir.Not):
        return not holds(pred.operand, values, schema)
    if isinstance(pred, ir.And):
        return all(holds(p, values, schema) for p in pred.operands)
    if isinstance(pred, ir.Or):
        return any(holds(p, values, schema) for p in pred.operands)
    value = values.get(pred.field)
    if isinstance(pred, ir.IsNull):
        return value is None
    if value is None:
        return False
    if isinstance(pred, ir.StartsWith):
        return value.startswith(pred.prefix)
    if isinstance(pred, ir.InSet):
        return any(_equal(value, v) for v in pred.values)
    order = _order_key(schema.field(pred.field).type)
    if isinstance(pred, ir.InRange):
        return ((pred.lo is None or order(pred.lo) <= order(value))
                and (pred.hi is None or order(value) <= order(pred.hi)))
    if pred.op == "==":
        return _equal(value, pred.value)
    a, b = order(value), order(pred.value)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[pred.op]


def _equal(a: Any, b: Any) -> bool:
    # bool is an int in Python; a bool field only ever meets bool literals, but be exact.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _order_key(t: ir.FieldType):
    if t.kind == "enum":
        index = {m: i for i, m in enumerate(t.members)}
        return index.__getitem__
    return lambda v: v


@dataclass(frozen=True, slots=True)
class Step:
    """One sibling considered on the way down, for `explain`."""

    depth: int  # 0 for top-level territories
    path: str
    title: str | None
    condition: str  # the `where` as written, `else`, or "(no where)"
    matched: bool
    taken: bool
    note: str = ""  # "first match", "policy first: an earlier sibling took it", ...


def walk(model: ir.Model, values: Values, trace: list[Step] | None = None) -> Outcome:
    """The outcome of a valid (coerced) account."""
    if not holds(model.universe, values, model.schema):
        return Outcome(outside=True)
    found = _children(model.territories, model.policy, values, model.schema, 0, trace)
    if found is None:
        return Outcome(kept=True) if model.keep else Outcome(gaps=("",))
    return found


def _children(children, policy: str, values: Values, schema: ir.Schema, depth: int,
              trace: list[Step] | None) -> Outcome | None:
    """What the matching children make of the account; None when no child matches."""
    matches = [c for c in children if not c.is_else and holds(c.where, values, schema)]
    else_child = next((c for c in children if c.is_else), None)
    if policy == "first":
        taken = matches[:1]
    else:
        taken = matches
    if not taken and else_child is not None:
        taken = [else_child]
    if trace is not None:
        matched_ids, taken_ids = {id(c) for c in matches}, {id(c) for c in taken}
        for c in children:
            matched = (id(c) in matched_ids) if not c.is_else else (not matches)
            is_taken = id(c) in taken_ids
            note = ""
            if matched and not is_taken:
                note = "policy first: an earlier sibling took it"
            elif is_taken and policy == "first" and not c.is_else:
                note = "first match"
            elif is_taken and len(taken) > 1:
                note = "conflict under policy unique" if policy == "unique" else "policy all"
            trace.append(Step(depth, c.path, c.title, _condition_text(c), matched, is_taken, note))
    if not taken:
        return None
    result = Outcome(conflicts=(tuple(c.path for c in taken),)) if policy == "unique" and len(taken) > 1 else Outcome()
    for c in taken:
        if c.is_leaf:
            result = result.merge(Outcome(landings=(c.path,)))
            continue
        below = _children(c.children, c.policy, values, schema, depth + 1, trace)
        if below is None:
            below = Outcome(landings=(c.path,)) if c.keep else Outcome(gaps=(c.path,))
        result = result.merge(below)
    return result


def decisions(model: ir.Model, steps: list[Step]) -> list[tuple[Step, str]]:
    """The trace as `terrl explain` and `assign --explain` show it: depth first (each decision
    under its parent), each step with its verdict: `taken`, `no`, `matches` (its `where` holds
    but an earlier sibling came first under `policy first`) or `skipped` (after the first
    match under `policy first`, not tried)."""
    siblings: dict[str, list[Step]] = {}
    for s in steps:
        siblings.setdefault(s.path.rpartition(".")[0], []).append(s)
    by_path = {t.path: t for t in model.walk()}
    out: list[tuple[Step, str]] = []

    def level(parent: str, policy: str) -> None:
        group = siblings.get(parent, [])
        first_at = next((i for i, s in enumerate(group) if s.taken), len(group))
        for i, s in enumerate(group):
            territory = by_path[s.path]
            if policy == "first" and i > first_at:
                verdict = "matches" if s.matched and not territory.is_else else "skipped"
            else:
                verdict = "taken" if s.taken else "matches" if s.matched else "no"
            out.append((s, verdict))
            if s.taken and territory.children:
                level(s.path, territory.policy)

    level("", model.policy)
    return out


def _condition_text(t: ir.Territory) -> str:
    if t.is_else:
        return "else"
    if t.where is None:
        return "(no where: everything that reaches the parent)"
    if t.where_span is not None:
        text = " ".join(t.where_span.text.split())
        return text[len("where "):] if text.startswith("where ") else text
    return "where ..."


def assign_reference(model: ir.Model, account: Mapping[str, Any], cleanup=DEFAULT_RULES, notes: list | None = None,
                     hints: bool = True) -> tuple:
    """(status, territories, titles, owners, reason) by the reference meaning, text values cleaned by
    the `cleanup` rules (each change appended to `notes`); `hints=False`: reasons without did-you-mean."""
    values, reason = coerce_account(model.schema, account, cleanup, notes, hints)
    if values is None:
        return INVALID, (), (), (), reason
    return result_fields(model, walk(model, values))


def explain(model: ir.Model, account: Mapping[str, Any], cleanup=DEFAULT_RULES) -> tuple[tuple, list[Step]]:
    """The result and every sibling considered on the way, in walk order."""
    values, reason = coerce_account(model.schema, account, cleanup)
    if values is None:
        return (INVALID, (), (), (), reason), []
    trace: list[Step] = []
    outcome = walk(model, values, trace)
    return result_fields(model, outcome), trace
