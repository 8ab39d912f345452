"""Exact coverage analysis: gaps, overlaps, unreachable and empty territories.

Follows "Meaning of a model" in the design brief. Every set of accounts below is a
boolean decision diagram (`terrl.analysis.dd`) over the model's cell domains (`terrl.analysis.domain`),
so each question is decided exactly, for every field kind, nulls included:

- universe U = valid accounts (every cell of every field) and the model's `where`;
- a parent P with reach R and children c1..cn with `where` w1..wn (no `where`: TRUE):
  - `unique` / `all`: reach(ci) = R and wi;
  - `first`: reach(ci) = R and wi and not (w1 or .. or w(i-1));
  - `else`: reach = R and not (w1 or .. or wn) over the other siblings;
- **gap** (E202) at P when R and not (w1 or .. or wn) is non-empty, unless P (or the
  model, at the root) says `keep` or P has an `else` child;
- **overlap** (E201) under `unique`: R and wi and wj non-empty, one finding per pair;
- **unreachable** (E203) under `first`: R and wi non-empty but reach(ci) empty;
- **order decides** (N201, a note) under `first`: reach(ci) and wj non-empty for a later
  sibling cj: accounts that both match go to ci, the earlier; one note per pair, the
  witness drawn from reach(ci) so the evaluator gives it to ci (cj unreachable: E203 only;
  cj matching all of R, a catch-all placed last: nothing to report);
- **empty** (E204): R and wi empty;
- **redundant-where** (W201): R non-empty and R implies wi (the `where` adds nothing
  to its parent's scope), for a territory with siblings: an only child that restates its
  parent's criteria (as models exported from a CRM do on every level) is left alone, since
  nothing there depends on the `where`;
- **dead-else** (W202): R non-empty and the `else` child's reach is empty.

Territories whose reach is empty are reported once (as empty or unreachable) and not
examined further: everything below them is empty too.

Every finding carries a witness (an account in the offending region, one per finding:
it reproduces through the evaluator) and a short description of the whole region.
JSON values of witnesses: enum members and strings as strings, ints as ints, bools as
bools, missing as null; a decimal is an int when integral, otherwise a float when the
float's shortest repr is exactly the decimal (so the JSON text is the exact value),
otherwise (never for representatives of boundaries with < 15 digits) its exact text
as a string.

Overlaps among many siblings: candidate pairs come from the per-field projections of
each sibling's reach (a sweep with Python-int bitsets over cell intervals: two
siblings can overlap only if their projections meet on every field); a candidate
whose two siblings are interval boxes (`interval_box`) overlaps for sure and is only
counted, every other one is confirmed exactly with `Manager.intersects`. Gaps use one balanced
n-ary OR of the siblings. See docs/analysis.md.

`ModelSpace(model)` is reusable: the domains in level order, the diagram manager,
the universe node, and `reach[path]`, `matched[path]` (the `where`, or for an `else`
the complement of its siblings) for every territory, and `union(parent path)` ("" is
the model root).
"""

from __future__ import annotations

import bisect
import heapq
import json
import threading
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

from terrl.semantics import ir
from terrl.analysis.dd import Manager, Node
from terrl.diagnostics.core import Diagnostic, Label, diag
from terrl.diagnostics.source import Span
from terrl.diagnostics.json_values import json_value
from terrl.analysis.domain import FieldDomain, build_model_domains, field_order, format_number, range_mask, runs

_SPACES = threading.local()  # ModelSpace.of: the last space built on this thread
MAX_PAIR_FINDINGS = 50  # overlap findings listed per parent; existence is always decided
REGION_LIMIT = 50  # boxes read from a diagram to describe a region
REGION_SHOWN = 3  # boxes printed in a region's text
LABELLED_SIBLINGS = 5  # secondary spans on gap / unreachable findings
SMALL_SIBLING_GROUP = 24  # below this, every pair is tested directly


class _Filled(dict):
    """A dict whose missing keys are filled by a function of the key (it stores them itself)."""

    def __init__(self, fill) -> None:
        super().__init__()
        self._fill = fill

    def __missing__(self, key: str) -> Node:
        self._fill(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


def sibling_groups(model: ir.Model):
    """Every parent that has children, in pre-order: (parent territory, None at the model root;
    its children; the policy among them; whether the parent says `keep`)."""
    stack: list[tuple[ir.Territory | None, tuple[ir.Territory, ...], str, bool]] = \
        [(None, model.territories, model.policy, model.keep)]
    while stack:
        group = stack.pop()
        if group[1]:  # only the model root may come without children
            yield group
        stack.extend((c, c.children, c.policy, c.keep) for c in reversed(group[1]) if c.children)


class ModelSpace:
    """A model's domains, diagram manager and the reach of every territory."""

    @classmethod
    def of(cls, model: ir.Model) -> "ModelSpace":
        """The space of `model`, shared by the passes that read it (coverage, then lint's W306):
        the diagrams are a third of a check. One model per thread is kept (the last asked for)."""
        last = getattr(_SPACES, "last", None)
        if last is not None and last.model is model:
            return last
        _SPACES.last = space = cls(model)
        return space

    def __init__(self, model: ir.Model) -> None:
        self.model = model
        by_name = {d.name: d for d in build_model_domains(model)}
        self.domains: list[FieldDomain] = [by_name[n] for n in field_order(model)]
        self.manager = Manager(self.domains)
        m = self.manager
        self.universe: Node = m.and_(m.compile(model.universe), m.valid_contexts())
        # reach and matched are filled a sibling group at a time, when a path of the group is
        # first asked for (an incremental check builds only the groups it re-analyses)
        self.reach: dict[str, Node] = _Filled(self._fill)
        self.reach[""] = self.universe
        self.matched: dict[str, Node] = _Filled(self._fill)
        self._union: dict[str, Node] = {}
        self._wheres: dict[str, list[Node]] = {}
        self._group_of: dict[str, tuple[str, tuple[ir.Territory, ...], str]] = {}
        self._first_child: dict[str, str] = {}
        for parent, children, policy, _ in sibling_groups(model):
            parent_path = parent.path if parent else ""
            self._first_child[parent_path] = children[0].path
            for c in children:
                self._group_of[c.path] = (parent_path, children, policy)

    def union(self, parent: str) -> Node:
        """The union of the `where`s of a parent's children (else excluded), built on demand:
        for hundreds of siblings it is the one expensive diagram, and the gap search avoids it."""
        node = self._union.get(parent)
        if node is None:
            if parent not in self._wheres:
                self._fill(self._first_child[parent])
            node = self._union[parent] = self.manager.or_many(self._wheres[parent])
        return node

    def _fill(self, path: str) -> None:
        """reach and matched of every territory in the sibling group of `path`."""
        parent, children, policy = self._group_of[path]
        reach = self.reach[parent]
        m = self.manager
        taken = m.FALSE
        wheres: list[Node] = []
        for c in children:
            if c.is_else:
                continue
            w = m.compile(c.where)
            wheres.append(w)
            self.matched[c.path] = w
            if policy == "first":
                self.reach[c.path] = m.and_(reach, m.diff(w, taken))
                taken = m.or_(taken, w)
            else:
                self.reach[c.path] = m.and_(reach, w)
        self._wheres[parent] = wheres
        for c in children:
            if c.is_else:
                union = self.union(parent)
                self.matched[c.path] = m.not_(union)
                self.reach[c.path] = m.diff(reach, union)

    # --- reading nodes back for people -------------------------------------------------

    def witness(self, node: Node) -> dict[str, Any]:
        """A JSON witness account, fields in schema order."""
        values = self.manager.witness(node)
        return {f.name: json_value(values[f.name]) for f in self.model.schema.fields}

    def region_text(self, node: Node) -> str:
        """A short readable predicate for the whole of node."""
        boxes, total = self.manager.regions(node, REGION_LIMIT)
        return self.boxes_text(boxes, total, True)

    def boxes_text(self, boxes: list[dict[str, int]], total: int, complete: bool) -> str:
        """Text for disjoint boxes {field: cells}; `total` of them in all (at least, if not complete)."""
        shown, more = self._shown_boxes(boxes, total)
        by_name = {d.name: d for d in self.domains}
        order = [f.name for f in self.model.schema.fields]
        texts = []
        for box in shown:
            parts = [by_name[n].describe(box[n]) for n in order if n in box]
            parts = [p for p in parts if p]
            texts.append(" and ".join(parts) if parts else "any account")
        text = ", or ".join(texts)
        if more > 0:
            text += f" … and {'at least ' if not complete else ''}{more} more region{'s' if more != 1 else ''}"
        return text

    def region_facts(self, node: Node | None = None, boxes: list[dict[str, int]] | None = None, total: int = 0,
                     complete: bool = True) -> dict[str, Any]:
        """The region `boxes_text` describes as an IR predicate (an `or` of one `and` per box), for
        docs to put into words: {"region_pred": pred, "more_regions": n, "complete": bool}."""
        if boxes is None:
            boxes, total = self.manager.regions(node, REGION_LIMIT)
        shown, more = self._shown_boxes(boxes, total)
        by_name = {d.name: d for d in self.domains}
        order = [f.name for f in self.model.schema.fields]
        ors = []
        for box in shown:
            parts = [p for p in (by_name[n].to_pred(box[n]) for n in order if n in box) if p is not None]
            ors.append(ir.TRUE if not parts else parts[0] if len(parts) == 1 else ir.And(tuple(parts)))
        pred = ir.FALSE if not ors else ors[0] if len(ors) == 1 else ir.Or(tuple(ors))
        return {"region_pred": pred, "more_regions": max(more, 0), "complete": complete}

    def _shown_boxes(self, boxes: list[dict[str, int]], total: int) -> tuple[list[dict[str, int]], int]:
        """The boxes a region's description shows (merged where that loses nothing), and how many it leaves out."""
        by_name = {d.name: d for d in self.domains}
        boxes = merge_boxes(boxes, by_name) if total <= REGION_LIMIT else boxes
        shown = boxes[:REGION_SHOWN]
        return shown, (len(boxes) if total <= REGION_LIMIT else total) - len(shown)


def merge_boxes(boxes: list[dict[str, int]], domains: dict[str, FieldDomain]) -> list[dict[str, int]]:
    """Fewer boxes for the same union: two boxes equal on all fields but one become one."""
    full = [{n: b.get(n, d.all_cells) for n, d in domains.items()} for b in boxes]
    changed = True
    while changed and len(full) > 1:
        changed = False
        for i in range(len(full)):
            for j in range(i + 1, len(full)):
                a, b = full[i], full[j]
                diff = [n for n in a if a[n] != b[n]]
                if len(diff) <= 1:
                    if diff:
                        a[diff[0]] |= b[diff[0]]
                    del full[j]
                    changed = True
                    break
            if changed:
                break
    return [{n: mask for n, mask in b.items() if mask != domains[n].all_cells} for b in full]


def show_witness(witness: dict[str, Any], schema: ir.Schema) -> str:
    """`{country: US, zip: "94000", employees: 0}` as a person reads it."""
    parts = []
    for f in schema.fields:
        v = witness[f.name]
        if v is None:
            text = "null"
        elif isinstance(v, bool):
            text = "true" if v else "false"
        elif f.type.kind in ("string", "digits"):
            text = json.dumps(v, ensure_ascii=False)
        elif f.type.kind == "enum":
            text = v
        elif isinstance(v, str):  # a decimal kept as exact text
            text = v
        else:
            text = format_number(Decimal(str(v))) if f.type.kind == "decimal" else str(v)
        parts.append(f"{f.name}: {text}")
    return "{" + ", ".join(parts) + "}"


def _where_span(t: ir.Territory):
    return t.where_span or t.name_span or t.span


def _name_span(t: ir.Territory):
    return t.name_span or t.span


class _Analysis:
    def __init__(self, space: ModelSpace) -> None:
        self.space = space
        self.m = space.manager
        self.model = space.model
        self.out: list[Diagnostic] = []

    def run(self) -> list[Diagnostic]:
        for group in sibling_groups(self.model):
            self.group(*group)
        return self.out

    # --- helpers -----------------------------------------------------------------------

    def _finding(self, code: str, message: str, span, node: Node, territories: list[str], *,
                 labels=(), help: str, region_node: Node | None = None, notes: tuple[str, ...] = (),
                 region_text: str | None = None, region_facts: dict | None = None, witness_node: Node | None = None,
                 **extra) -> None:
        witness = self.space.witness(witness_node if witness_node is not None else node)
        region_of = region_node if region_node is not None else node
        if region_text is None or region_facts is None:  # the regions listed once, for the text and the facts
            boxes, total = self.space.manager.regions(region_of, REGION_LIMIT)
            region_text = region_text or self.space.boxes_text(boxes, total, True)
            region_facts = region_facts or self.space.region_facts(boxes=boxes, total=total)
        region = region_text
        all_notes = [*notes, f"for example: {show_witness(witness, self.model.schema)}"]
        found = diag(code, message, span, labels=labels, help=help, notes=all_notes,
                     model=self.model.name, territories=territories, witness=witness, region=region, **extra)
        found.facts.update(region_facts)
        self.out.append(found)

    def _parent_words(self, parent: ir.Territory | None) -> str:
        return f"`{parent.path}`" if parent else f"model `{self.model.name}`"

    def _parent_span(self, parent: ir.Territory | None):
        if parent is not None:
            return _name_span(parent)
        return self.model.name_span or self.model.span

    # --- one group of siblings ---------------------------------------------------------

    def group(self, parent: ir.Territory | None, children: tuple[ir.Territory, ...], policy: str,
              keep: bool) -> None:
        """The findings of one sibling group (they depend on nothing outside it but its reach)."""
        space, m = self.space, self.m
        parent_path = parent.path if parent else ""
        reach = space.reach[parent_path]
        if not children:
            return
        if reach == m.FALSE:
            if parent is None:  # a contradictory model `where`: nothing can reach any territory
                for c in children:
                    if not c.is_else:
                        self.out.append(diag(
                            "E204", f"`{c.path}` can never match: the `where` of model `{self.model.name}` "
                            f"matches no account", _where_span(c),
                            labels=[Label(s, "matches no account") for s in [self.model.where_span] if s],
                            help="fix the model's `where`", model=self.model.name, territories=[c.path],
                            witness=None, region="no account"))
            return
        plain = [c for c in children if not c.is_else]
        has_else = len(plain) < len(children)
        for i, c in enumerate(plain):
            w = space.matched[c.path]
            if not m.intersects(reach, w):
                self._empty(parent, c, reach, w)
            elif policy == "first" and space.reach[c.path] == m.FALSE:
                self._unreachable(parent, c, plain[:i], reach, w)
            elif c.where is not None and len(children) > 1 and m.subset(reach, w):
                self._finding("W201", f"the `where` of `{c.path}` adds nothing: every account reaching "
                              f"{self._parent_words(parent)} matches it", _where_span(c), reach, [c.path],
                              help="remove the `where`: a territory without one takes everything that reaches its parent")
        for c in children:
            if c.is_else and space.reach[c.path] == m.FALSE:
                self._finding("W202", f"`{c.path}` (`else`) can never match: its siblings take every account "
                              f"reaching {self._parent_words(parent)}", _where_span(c), reach, [c.path],
                              help="remove the `else` territory, or narrow its siblings' `where`")
        if not keep and not has_else:
            boxes = None
            if len(plain) >= SMALL_SIBLING_GROUP:
                boxes = gap_boxes(m, reach, [space.matched[c.path] for c in plain])
            if boxes is None:
                gap = m.diff(reach, space.union(parent_path))
                if gap != m.FALSE:
                    self._gap(parent, plain, gap)
            elif boxes[0]:
                self._gap(parent, plain, None, boxes)
        if policy == "unique" and len(plain) > 1:
            self._overlaps(parent, plain, reach)
        elif policy == "first" and len(plain) > 1:
            self._order_decides(parent, plain)

    def _gap(self, parent: ir.Territory | None, plain: list[ir.Territory], gap: Node | None,
             boxes: tuple[list[list[int]], bool] | None = None) -> None:
        if parent is None:
            message = f"some accounts in model `{self.model.name}` match no top-level territory"
            help = ("add a territory that takes them, or write `keep` in the model if they may stay unassigned")
        else:
            message = f"some accounts reaching `{parent.path}` match none of its children"
            help = (f"add a territory that takes them, an `else` child (`territory rest {{ else }}`), "
                    f"or `keep` in `{parent.path}` so that they rest there")
        labels = [Label(_where_span(c), "does not match them") for c in plain[:LABELLED_SIBLINGS]
                  if _where_span(c) is not None]
        notes = (f"and {len(plain) - LABELLED_SIBLINGS} more siblings",) if len(plain) > LABELLED_SIBLINGS else ()
        if gap is None:  # found as boxes by the sweep: describe those, and draw the witness from one
            found, complete = boxes
            gap = self.m.and_many(self.m.from_mask(level, mask) for level, mask in enumerate(found[0]))
            named = [{d.name: b[i] for i, d in enumerate(self.space.domains) if b[i] != d.all_cells}
                     for b in found[:REGION_LIMIT]]
            region = self.space.boxes_text(named, len(found), complete)
            facts = self.space.region_facts(boxes=named, total=len(found), complete=complete)
        else:
            region = self.space.region_text(gap)
            facts = self.space.region_facts(gap)
        self._finding("E202", message, self._parent_span(parent), gap, [parent.path] if parent else [],
                      labels=labels, help=help, notes=(f"accounts in the gap: {region}", *notes), region_text=region,
                      region_facts=facts)

    def _empty(self, parent: ir.Territory | None, c: ir.Territory, reach: Node, w: Node) -> None:
        if w == self.m.FALSE:
            message = f"`{c.path}` can never match: its `where` is always false"
        else:
            message = (f"`{c.path}` can never match: its `where` contradicts what reaches "
                       f"{self._parent_words(parent)}")
        labels = []
        span = (parent.where_span if parent else self.model.where_span)
        if span is not None and w != self.m.FALSE:
            labels.append(Label(span, f"what reaches {self._parent_words(parent)} is decided here"))
        notes = (f"its `where` alone matches {self.space.region_text(w)}",) if w != self.m.FALSE else ()
        parent_path = parent.path if parent else ""
        self._finding("E204", message, _where_span(c), reach,
                      [c.path] + ([parent_path] if parent_path else []), labels=labels, notes=notes,
                      region_node=w if w != self.m.FALSE else reach,
                      help=f"fix the `where` so that it matches accounts reaching {self._parent_words(parent)}, "
                           f"or remove `{c.path}`")

    def _unreachable(self, parent, c: ir.Territory, earlier: list[ir.Territory], reach: Node, w: Node) -> None:
        m, space = self.m, self.space
        scope = m.and_(reach, w)
        takers = [e for e in earlier if m.intersects(scope, space.matched[e.path])]
        labels = [Label(_where_span(e), f"takes accounts `{c.path}` would match") for e in takers[:LABELLED_SIBLINGS]
                  if _where_span(e) is not None]
        self._finding("E203", f"`{c.path}` can never win under `policy first`: earlier siblings take every "
                      f"account it matches", _where_span(c), scope, [c.path] + [e.path for e in takers],
                      labels=labels,
                      help=f"move `{c.path}` before {', '.join(f'`{e.path}`' for e in takers[:3])}, "
                           f"narrow their `where`, or remove `{c.path}`")

    def _meeting_pairs(self, plain: list[ir.Territory], scopes: Callable[[], list[Node]],
                       skip_later: Callable[[int], bool] = lambda j: False) -> tuple[list[tuple[int, int]], int]:
        """Pairs (i, j), i < j, where accounts reaching the earlier also match the later one's
        `where` (and not `skip_later(j)`, asked once per j that meets some earlier sibling): the
        first MAX_PAIR_FINDINGS, and how many more there are. `scopes()[k]` holds every account
        that `plain[k]` could share with a sibling: for large groups, the candidate pairs are
        those whose scopes may meet (small ones try every pair and do not build them)."""
        m, space = self.m, self.space
        if len(plain) < SMALL_SIBLING_GROUP:
            pairs = [(i, j) for i in range(len(plain)) for j in range(i + 1, len(plain))]
        else:
            pairs = candidate_pairs(space, scopes())
        skipped: dict[int, bool] = {}
        confirmed = 0
        listed: list[tuple[int, int]] = []
        for i, j in pairs:
            a, b = plain[i], plain[j]
            # The two `where`s alone first: small diagrams, and disjoint for most pairs of a real model.
            if not m.intersects(space.matched[a.path], space.matched[b.path]):
                continue
            if not m.intersects(space.reach[a.path], space.matched[b.path]):
                continue
            if j not in skipped:
                skipped[j] = skip_later(j)
            if skipped[j]:
                continue
            confirmed += 1
            if len(listed) < MAX_PAIR_FINDINGS:
                listed.append((i, j))
        return listed, confirmed - len(listed)

    def _only_these(self, plain: list[ir.Territory], i: int, j: int, both: Node) -> Node:
        """Part of `both` that no third sibling matches, when there is one, so that explaining
        the witness shows this pair and nothing else (affordable only for small groups)."""
        m, space = self.m, self.space
        if len(plain) < SMALL_SIBLING_GROUP:
            others = m.or_many(space.matched[c.path] for k, c in enumerate(plain) if k not in (i, j))
            alone = m.diff(both, others)
            if alone != m.FALSE:
                return alone
        return both

    def _order_decides(self, parent: ir.Territory | None, plain: list[ir.Territory]) -> None:
        """Under `policy first`, the pairs of siblings whose `where` clauses meet, and which one
        wins there (N201): what the order decides, which `policy unique` would have reported."""
        m, space = self.m, self.space
        # Under `first`, reach(a) already leaves out earlier siblings: its meeting with a later
        # `where` is exactly what `a` takes from it. A later sibling that is unreachable is E203;
        # one that matches everything reaching the parent (no `where`) is a catch-all placed
        # to take what the earlier ones leave: losing to them is its purpose, not news.
        reach = space.reach[parent.path if parent else ""]
        live = [c for c in plain if space.reach[c.path] != m.FALSE]
        # reach(b) leaves out what `a` takes, so candidates come from the `where`s themselves
        listed, unlisted = self._meeting_pairs(
            live, lambda: [space.matched[c.path] for c in live],
            skip_later=lambda j: m.subset(reach, space.matched[live[j].path]))
        if not listed:
            return
        origin, policy_span = self._policy_origin(parent)
        parent_name = f"`{parent.path}`" if parent else "the model"
        for n, (i, j) in enumerate(listed):
            a, b = live[i], live[j]
            both = m.and_(space.reach[a.path], space.matched[b.path])
            labels = [Label(s, f"comes first: takes the accounts `{b.path}` also matches") for s in [_where_span(a)] if s]
            labels += [Label(s, "`policy first` written here") for s in [policy_span] if s]
            notes = [f"accounts in both, given to `{a.path}`: {space.region_text(both)}"]
            if n == 0 and unlisted:
                notes.append(f"{unlisted} more such pair{'s' if unlisted > 1 else ''} under "
                             f"{self._parent_words(parent)} {'are' if unlisted > 1 else 'is'} not listed "
                             f"(terrl lists {MAX_PAIR_FINDINGS} per parent)")
            self._finding("N201", f"`{a.path}` and `{b.path}` overlap; `policy first` ({origin}) gives the "
                          f"accounts both match to `{a.path}`, the earlier", _where_span(b), both, [a.path, b.path],
                          labels=labels, notes=tuple(notes), witness_node=self._only_these(live, i, j, both),
                          **({"unlisted_overlaps": unlisted} if unlisted else {}),
                          help=f"if `{a.path}` should win, nothing to do; otherwise make their `where` clauses "
                               f"exclusive or reorder them, or write `policy unique` in {parent_name} to have such "
                               f"overlaps reported as errors (`N201 = \"off\"` under `[severity]` hides these notes)")

    def _policy_origin(self, parent: ir.Territory | None) -> tuple[str, Span | None]:
        """Where the `policy first` in force among a parent's children is written: on the parent
        ("set on `na`") or the nearest ancestor that says it ("inherited from the model"), and that
        `policy` item's span."""
        line: list[tuple[str, Span | None]] = [("the model", self.model.policy_span)]
        if parent is not None:
            children = self.model.territories
            for part in parent.path.split("."):
                node = next(c for c in children if c.name == part)
                line.append((f"`{node.path}`", node.policy_span))
                children = node.children
        for depth in range(len(line) - 1, -1, -1):
            name, span = line[depth]
            if span is not None or depth == 0:
                return (f"set on {name}" if depth == len(line) - 1 else f"inherited from {name}"), span
        raise AssertionError("unreachable")

    def _overlaps(self, parent: ir.Territory | None, plain: list[ir.Territory], reach: Node) -> None:
        m, space = self.m, self.space
        # E201 pairs are symmetric: counted by `overlapping_pairs` (popcounts for interval boxes)
        listed, confirmed = overlapping_pairs(m, [space.reach[c.path] for c in plain], MAX_PAIR_FINDINGS,
                                              [space.matched[c.path] for c in plain])
        unlisted = confirmed - len(listed)
        # The "more pairs" note goes on the finding printed first (sorted by position), and
        # every listed pair carries the count for programs reading the JSON.
        first_shown = min(range(len(listed)), key=lambda n: _position(_where_span(plain[listed[n][1]]))) \
            if unlisted else -1
        for n, (i, j) in enumerate(listed):
            a, b = plain[i], plain[j]
            both = m.and_(space.reach[a.path], space.matched[b.path])
            labels = [Label(s, f"matches accounts also matched by `{b.path}`") for s in [_where_span(a)] if s]
            pspan = self._parent_span(parent)
            if pspan is not None:
                labels.append(Label(pspan, f"children of {self._parent_words(parent)} must not overlap "
                                           f"(`policy unique`)"))
            notes = [f"accounts in both: {space.region_text(both)}"]
            only_these = self._only_these(plain, i, j, both)
            if n == first_shown:
                notes.append(f"{unlisted} more overlapping pair{'s' if unlisted > 1 else ''} under "
                             f"{self._parent_words(parent)} {'are' if unlisted > 1 else 'is'} not listed "
                             f"(terrl lists {MAX_PAIR_FINDINGS} per parent)")
            parent_name = f"`{parent.path}`" if parent else "the model"
            self._finding("E201", f"`{a.path}` and `{b.path}` overlap: some accounts match both",
                          _where_span(b), both, [a.path, b.path], labels=labels, notes=tuple(notes),
                          witness_node=only_these, **({"unlisted_overlaps": unlisted} if unlisted else {}),
                          help=f"make their `where` clauses exclusive (e.g. add `and not (...)` to one), "
                               f"or write `policy first` in {parent_name} so that the earlier one wins; the "
                               f"policy is inherited, so overlaps further down would then be settled by order "
                               f"too, each named in a note (N201); write `policy unique` in a child to keep them "
                               f"errors")


def _position(span) -> tuple:
    return (span.file.path, span.start) if span is not None else ("\uffff", 0)


def projections(manager: Manager, node: Node) -> list[int]:
    """For each level, the cells (bitmask) some account of node takes there (exact)."""
    m = manager
    levels = m.levels
    masks = [0] * levels
    if node == m.FALSE:
        return masks
    full = [d.all_cells for d in m.domains]
    skipped = [False] * levels
    for level in range(m.level(node)):
        skipped[level] = True
    seen: set[Node] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n in seen or m.is_leaf(n):
            continue
        seen.add(n)
        level = m.level(n)
        for first, end, kid in m.pieces(n):
            if kid == m.FALSE:
                continue
            masks[level] |= ((1 << (end - first)) - 1) << first
            for between in range(level + 1, m.level(kid)):
                skipped[between] = True
            stack.append(kid)
    return [full[i] if skipped[i] else masks[i] for i in range(levels)]


def interval_box(manager: Manager, node: Node) -> list[tuple[int, int]] | None:
    """node as one box of contiguous cell runs, (first, end) per level, when it is exactly that
    (a conjunction of one interval per field: the common `where`); None otherwise (and for FALSE).

    A reduced diagram merges adjacent pieces with the same kid, so a box is a chain of nodes
    with one non-FALSE piece each, ending in TRUE; a level the chain skips is whole."""
    m = manager
    box = [(0, d.cells) for d in m.domains]
    while not m.is_leaf(node):
        level = m.level(node)
        live = [(first, end, kid) for first, end, kid in m.pieces(node) if kid != m.FALSE]
        if len(live) != 1:
            return None
        first, end, node = live[0]
        box[level] = (first, end)
    return box if node == m.TRUE else None


def overlapping_pairs(manager: Manager, nodes: list[Node], limit: int,
                      wheres: list[Node] | None = None) -> tuple[list[tuple[int, int]], int]:
    """The first `limit` pairs (i, j), i < j in order, whose nodes intersect, and how many do in all.
    `wheres`, when given, are supersets of the nodes (each sibling's `where` beside its reach):
    a pair whose small `where` diagrams are disjoint is settled without walking the reaches,
    which repeat every ancestor's tests.

    Small groups test every pair on the diagrams. Large ones take candidates from the hulls
    [first, last] of each node's projections (`overlapping_hulls`): two nodes can meet only
    if their hulls overlap on every level. When both nodes are interval boxes
    (`interval_box`) their hulls are the boxes themselves and overlapping hulls *are* an
    intersection, so such pairs are counted without a diagram walk (a popcount per rule):
    3,000 mutually overlapping siblings are 4.5 million pairs, and confirming each one was
    most of a minute and a gigabyte of memo tables. Other pairs are confirmed exactly.
    """
    m = manager
    n = len(nodes)
    listed: list[tuple[int, int]] = []
    total = 0

    def meet(i: int, j: int) -> bool:
        return (wheres is None or m.intersects(wheres[i], wheres[j])) and m.intersects(nodes[i], nodes[j])

    if n < SMALL_SIBLING_GROUP:
        for i in range(n):
            for j in range(i + 1, n):
                if meet(i, j):
                    total += 1
                    if len(listed) < limit:
                        listed.append((i, j))
        return listed, total
    hulls: dict[int, list[tuple[int, int]]] = {}
    exact = 0  # bitset of the rules that are interval boxes
    for i, node in enumerate(nodes):
        if node == m.FALSE:
            continue
        box = interval_box(m, node)
        if box is not None:
            hulls[i] = box
            exact |= 1 << i
        else:
            hulls[i] = [((mask & -mask).bit_length() - 1, mask.bit_length()) for mask in projections(m, node)]
    if len(hulls) > BITSET_PAIRS_LIMIT:
        for i, j in _overlapping_hulls_sweep(hulls, m.levels):
            if (exact >> i & 1 and exact >> j & 1) or meet(i, j):
                total += 1
                if len(listed) < limit:
                    listed.append((i, j))
        return listed, total
    neighbours = _hull_neighbours(hulls, m.levels)
    for i in sorted(neighbours):
        later = neighbours[i] >> (i + 1) << (i + 1)
        sure = later & exact if exact >> i & 1 else 0
        if len(listed) < limit:  # in order, until the list is full
            for j in _bits(later):
                if sure >> j & 1 or meet(i, j):
                    total += 1
                    if len(listed) < limit:
                        listed.append((i, j))
            continue
        total += sure.bit_count()
        total += sum(1 for j in _bits(later & ~sure) if meet(i, j))
    return listed, total


def _bits(mask: int) -> Iterator[int]:
    """The positions of the set bits of mask, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def candidate_pairs(space: "ModelSpace", nodes: list[Node]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, whose nodes may intersect: their projections meet on every level
    (N201's candidates; E201's symmetric pairs go through `overlapping_pairs`).

    Small groups get every pair. Large ones compare the hulls [first, last] of each
    projection (`overlapping_hulls`).
    """
    n = len(nodes)
    if n < SMALL_SIBLING_GROUP:
        return [(i, j) for i in range(n) for j in range(i + 1, n) if nodes[i] and nodes[j]]
    m = space.manager
    hulls = {}
    for i in range(n):
        if nodes[i] != m.FALSE:
            hulls[i] = [((mask & -mask).bit_length() - 1, mask.bit_length()) for mask in projections(m, nodes[i])]
    return overlapping_hulls(hulls, m.levels)


BITSET_PAIRS_LIMIT = 8_000  # up to here a bitset of neighbours per rule (n^2/8 bytes: 8 MB) is fastest


def overlapping_hulls(hulls: dict[int, list[tuple[int, int]]], levels: int) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, whose hulls (lo, hi) overlap on every level: lo_j < hi_i and lo_i < hi_j."""
    if len(hulls) <= BITSET_PAIRS_LIMIT:
        return _overlapping_hulls_bitsets(hulls, levels)
    return _overlapping_hulls_sweep(hulls, levels)


def _overlapping_hulls_bitsets(hulls: dict[int, list[tuple[int, int]]], levels: int) -> list[tuple[int, int]]:
    """`overlapping_hulls` from the neighbour bitsets of `_hull_neighbours`."""
    neighbours = _hull_neighbours(hulls, levels)
    return [(i, j) for i in sorted(neighbours) for j in _bits(neighbours[i] >> (i + 1) << (i + 1))]


def _hull_neighbours(hulls: dict[int, list[tuple[int, int]]], levels: int) -> dict[int, int]:
    """For each rule, the bitset of rules whose hull overlaps its own on every level (itself
    included): per level, rules starting before its end and not ending before its start."""
    live = sorted(hulls)
    everyone = 0
    for i in live:
        everyone |= 1 << i
    neighbours = {i: everyone for i in live}
    for level in range(levels):
        level_hulls = [(i, *hulls[i][level]) for i in live]
        by_start = sorted(level_hulls, key=lambda h: h[1])
        starts = [h[1] for h in by_start]
        started = [0]  # started[k]: rules among the first k by start
        for i, _, _ in by_start:
            started.append(started[-1] | 1 << i)
        by_end = sorted(level_hulls, key=lambda h: h[2])
        ends = [h[2] for h in by_end]
        ended = [0]
        for i, _, _ in by_end:
            ended.append(ended[-1] | 1 << i)
        for i, lo, hi in level_hulls:
            before_end = started[bisect.bisect_left(starts, hi)]  # start < hi
            gone = ended[bisect.bisect_right(ends, lo)]  # end <= lo
            neighbours[i] &= before_end & ~gone
    return neighbours


def _overlapping_hulls_sweep(hulls: dict[int, list[tuple[int, int]]], levels: int) -> list[tuple[int, int]]:
    """A sweep over the level where the fewest pairs overlap (counted first by bisection), each
    pair it meets checked on the other levels. Memory is linear in the rules plus the pairs
    found (the bitsets take n^2/8 bytes each: 4.5 GB at 190,000 siblings).
    """
    live = sorted(hulls)
    if not live:
        return []

    def overlapping_on(level: int) -> int:
        starts = sorted(hulls[i][level][0] for i in live)
        ends = sorted(hulls[i][level][1] for i in live)
        return sum(bisect.bisect_left(starts, hi) - bisect.bisect_right(ends, lo)
                   for lo, hi in (hulls[i][level] for i in live))

    sweep = min(range(levels), key=overlapping_on) if levels > 1 else 0
    others = [level for level in range(levels) if level != sweep]
    pairs = []
    open_hulls: list[tuple[int, int]] = []  # heap of (hi, rule) on the sweep level
    for i in sorted(live, key=lambda r: hulls[r][sweep][0]):
        lo, hi = hulls[i][sweep]
        while open_hulls and open_hulls[0][0] <= lo:
            heapq.heappop(open_hulls)
        hull_i = hulls[i]
        for _, j in open_hulls:  # lo_j <= lo_i < hi_j, and lo_i < hi_i
            hull_j = hulls[j]
            for level in others:
                a, b = hull_i[level], hull_j[level]
                if not (b[0] < a[1] and a[0] < b[1]):
                    break
            else:
                if lo < hi:
                    pairs.append((j, i) if j < i else (i, j))
        heapq.heappush(open_hulls, (hi, i))
    pairs.sort()
    return pairs


MAX_RULE_BOXES = 20  # per sibling on average; beyond this the gap search falls back to diagrams
MAX_GAP_BOXES = 10_000  # the search stops listing here (existence is already decided)


def diagram_boxes(m: Manager, node: Node, limit: int) -> list[list[int]] | None:
    """node as disjoint boxes, one cell mask per level; None if more than `limit`."""
    found, total = m.regions(node, limit)
    if total > limit:
        return None
    full = [d.all_cells for d in m.domains]
    return [[box.get(d.name, full[i]) for i, d in enumerate(m.domains)] for box in found]


def gap_boxes(m: Manager, reach: Node, wheres: list[Node]) -> tuple[list[list[int]], bool] | None:
    """The accounts of `reach` that no `where` matches, as disjoint boxes, and whether the
    list is complete; None when the rules do not break into few enough boxes.

    A sweep that adapts to the data instead of a global variable order (the k-d / Klee
    style cover check): a region that one rule covers is done, a region that no rule
    meets is a gap; otherwise it is split at the median boundary of the rules that cut
    it, on the level most of them constrain, and both halves are searched with only the
    rules that meet them. Every split is at a rule boundary inside the region, so both
    halves are non-empty and the search ends; the gap boxes are disjoint and exact.
    """
    flat = _one_field_gap(m, reach, wheres)
    if flat is not None:
        return flat
    regions = diagram_boxes(m, reach, MAX_RULE_BOXES * max(1, len(wheres)))
    if regions is None:
        return None
    rules: list[list[int]] = []
    for w in wheres:
        boxes = diagram_boxes(m, w, MAX_RULE_BOXES * max(1, len(wheres)))
        if boxes is None:
            return None
        rules.extend(boxes)
        if len(rules) > MAX_RULE_BOXES * max(1, len(wheres)):
            return None
    levels = m.levels
    found: list[list[int]] = []
    # A stack entry: a region (one cell mask per level) and the rules that meet it, each with
    # the bitmask of levels where it does not cover the region yet. Children of a split differ
    # from their parent on one level only, so only that level is re-examined.
    stack: list[tuple[list[int], list[tuple[list[int], int]]]] = []
    for region in regions:
        active = []
        for rule in rules:
            uncovered = 0
            for level in range(levels):
                both = region[level] & rule[level]
                if not both:
                    break
                if both != region[level]:
                    uncovered |= 1 << level
            else:
                active.append((rule, uncovered))
        stack.append((region, active))
    while stack:
        if len(found) >= MAX_GAP_BOXES:
            return found, False
        region, active = stack.pop()
        if not active:
            found.append(region)
            continue
        if any(uncovered == 0 for _, uncovered in active):
            continue
        open_levels = 0
        for _, uncovered in active:
            open_levels |= uncovered
        if open_levels & (open_levels - 1) == 0:
            # Every rule covers the region but on one level: the gap there is what the union of
            # their cells leaves, in one pass (splitting would cost a pass over the rules per
            # split; with several fields, regions often end up open on one).
            level = open_levels.bit_length() - 1
            covered = 0
            for rule, _ in active:
                covered |= rule[level]
            if not _add_gap_runs(found, region, level, runs(region[level] & ~covered)):
                return found, False
            continue
        # split on the level most active rules leave uncovered, at the median boundary inside the region
        counts = [0] * levels
        for _, uncovered in active:
            while uncovered:
                low = uncovered & -uncovered
                counts[low.bit_length() - 1] += 1
                uncovered ^= low
        level = max(range(levels), key=counts.__getitem__)
        bit = 1 << level
        r = region[level]
        lo, hi = (r & -r).bit_length() - 1, r.bit_length()
        inner = ((1 << hi) - 1) & ~((1 << (lo + 1)) - 1)
        cuts = []
        for rule, uncovered in active:
            if uncovered & bit:
                mask = rule[level]
                edges = (mask ^ (mask << 1)) & inner  # bit i: membership changes between i - 1 and i
                while edges:
                    low = edges & -edges
                    cuts.append(low.bit_length() - 1)
                    edges ^= low
        cuts.sort()
        below = (1 << cuts[len(cuts) // 2]) - 1
        for part in (r & ~below, r & below):
            half = list(region)
            half[level] = part
            kept = []
            for rule, uncovered in active:
                both = rule[level] & part
                if both:
                    kept.append((rule, (uncovered | bit) if both != part else (uncovered & ~bit)))
            stack.append((half, kept))
    return found, True


def _one_field_gap(m: Manager, reach: Node, wheres: list[Node]) -> tuple[list[list[int]], bool] | None:
    """`gap_boxes` when `reach` and every `where` test at most one field, the same one (flat
    groups such as thousands of `code == N`): the `where`s' runs of cells, sorted and merged,
    taken from the reach's runs. No cell mask per rule is kept (at 190,000 siblings those
    masks took gigabytes) and no running mask is grown (50,000 ORs into a 50,000-bit int were
    quadratic). None when the diagrams test other or more fields."""
    level = None
    every = [(0, -1)]  # a TRUE diagram: every cell (the end is filled in once the level is known)

    def cells(node: Node) -> list[tuple[int, int]] | None:
        nonlocal level
        if m.is_leaf(node):
            return every if node == m.TRUE else []
        if level is not None and m.level(node) != level:
            return None
        out = []
        for first, end, kid in m.pieces(node):
            if not m.is_leaf(kid):
                return None
            if kid == m.TRUE:
                out.append((first, end))
        level = m.level(node)
        return out

    covered: list[tuple[int, int]] = []
    for w in wheres:
        found_runs = cells(w)
        if found_runs is None:
            return None
        if found_runs is every:
            return [], True
        covered.extend(found_runs)
    within = cells(reach)
    if within is None or level is None:
        return None
    full = [d.all_cells for d in m.domains]
    if within is every:
        within = [(0, m.domains[level].cells)]
    found: list[list[int]] = []
    return found, _add_gap_runs(found, full, level, _runs_minus(within, sorted(covered)))


def _runs_minus(runs_in: list[tuple[int, int]], taken: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The parts of sorted disjoint runs `runs_in` outside the sorted (overlapping) runs `taken`."""
    k = 0
    for start, end in runs_in:
        pos = start
        while k < len(taken) and taken[k][1] <= pos:
            k += 1
        j = k
        while pos < end and j < len(taken) and taken[j][0] < end:
            first, last = taken[j]
            j += 1
            if last <= first:
                continue
            if first > pos:
                yield pos, first
            pos = max(pos, last)
        if pos < end:
            yield pos, end


def _add_gap_runs(found: list[list[int]], region: list[int], level: int, gap: Iterable[tuple[int, int]]) -> bool:
    """Append to `found` one box of `region` per run (start, end) of gap cells on `level`; False
    when MAX_GAP_BOXES stopped the list."""
    for start, end in gap:
        if len(found) >= MAX_GAP_BOXES:
            return False
        box = list(region)
        box[level] = range_mask(start, end)
        found.append(box)
    return True


def analyze(model: ir.Model) -> list[Diagnostic]:
    """Every coverage finding of one checked model."""
    try:
        return _Analysis(ModelSpace.of(model)).run()
    except Exception as exc:  # a bug in terrl, reported as such rather than as a traceback
        return [analysis_failed(model, exc)]


def analysis_failed(model: ir.Model, exc: Exception) -> Diagnostic:
    """E901: the analysis of `model` raised (a bug in terrl, reported as such rather than as a traceback)."""
    return diag("E901", f"the coverage analysis of model `{model.name}` failed: {type(exc).__name__}: {exc}",
                model.name_span or model.span, help="please report this with the file that triggers it")
