"""Incremental coverage analysis: re-analyse only the sibling groups whose rules changed.

For a language server that checks on every keystroke. The findings of one sibling group
(`coverage._Analysis.group`) depend on nothing but:

- the model's context: its name, schema fields, universe, the diagrams' field order and every
  field's cells (a witness is a representative of a cell, so a new boundary anywhere in
  the model can move it: such an edit re-analyses every group);
- what reaches the parent: the policy and the `where`s of each ancestor's sibling group,
  from the root down (`first` and `else` read their siblings);
- the group itself: the parent's path and `keep`, the policy, each child's path, `where`
  and whether it is `else`;
- source positions, which change with any edit above the group: they are not part of the
  key; a reused finding gets the spans of the new territories it names (same path, same
  role), and a finding with a span that cannot be mapped is computed again.

`AnalysisCache.analyze(model, file)` returns exactly what `coverage.analyze(model)` returns
(the same findings, in the same order) and keeps, per (file, model), the groups of the last
call only, so memory stays that of one analysis. `last` says what the last call did:
which parents' groups were analysed and how many were reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import count

from terrl.analysis import coverage
from terrl.analysis.domain import build_model_domains, field_order
from terrl.diagnostics.core import Diagnostic, Label
from terrl.diagnostics.source import Span
from terrl.semantics import ir


@dataclass
class Run:
    """What one `AnalysisCache.analyze` call did."""

    analysed: list[str] = field(default_factory=list)  # parent paths ("" = the model root) analysed again
    reused: int = 0  # groups whose findings came from the cache


@dataclass
class _Entry:
    findings: list[Diagnostic]
    spans: list[Span | None]  # the spans the findings may name, in `_group_spans` order


@dataclass
class _ModelState:
    """The cache of one (file, model): the last call's groups and the ids of the keys they used."""

    ids: dict[tuple, int] = field(default_factory=dict)
    entries: dict[tuple, _Entry] = field(default_factory=dict)


class AnalysisCache:
    """Findings of sibling groups from earlier checks (see the module docstring). Not locked:
    one per thread, like a `Compilation`."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str], _ModelState] = {}
        self._ids = count()  # ids are never reused, so a stale id cannot match a new key
        self.last = Run()

    def analyze(self, model: ir.Model, file: str = "") -> list[Diagnostic]:
        """Every coverage finding of `model`, as `coverage.analyze` gives them, reusing the groups
        whose key is unchanged since the last call for (file, model name)."""
        self.last = run = Run()
        old = self._models.get((file, model.name), _ModelState())
        new = _ModelState()
        self._models[(file, model.name)] = new

        def intern(key: tuple) -> int:
            # one small id per distinct key: the group keys below nest ids, not whole predicates
            i = old.ids.get(key)
            if i is None:
                i = new.ids.get(key)
            if i is None:
                i = next(self._ids)
            new.ids[key] = i
            return i

        try:
            domains = {d.name: d for d in build_model_domains(model)}
            order = field_order(model)
            context = intern((model.name, model.schema.fields, model.universe, tuple(order),
                              tuple(tuple(domains[n].cuts) for n in order)))
            space = None
            out: list[Diagnostic] = []
            reach_of: dict[str, tuple] = {"": (context,)}  # what reaches each parent, as nested ids
            for parent, children, policy, keep in coverage.sibling_groups(model):
                parent_path = parent.path if parent else ""
                siblings = intern((reach_of[parent_path], policy, tuple((c.is_else, c.where) for c in children)))
                for i, c in enumerate(children):
                    reach_of[c.path] = (siblings, i)
                key = (siblings, parent_path, keep, tuple(c.path for c in children))
                spans = _group_spans(model, parent, children)
                entry = old.entries.get(key)
                findings = _moved(entry, spans) if entry is not None else None
                if findings is None:
                    if space is None:
                        space = coverage.ModelSpace.of(model)
                    analysis = coverage._Analysis(space)
                    analysis.group(parent, children, policy, keep)
                    findings = analysis.out
                    run.analysed.append(parent_path)
                else:
                    run.reused += 1
                new.entries[key] = _Entry(findings, spans)
                out.extend(findings)
            return out
        except Exception as exc:  # as coverage.analyze: a bug in terrl, reported as such
            self._models.pop((file, model.name), None)
            return [coverage.analysis_failed(model, exc)]


def _group_spans(model: ir.Model, parent: ir.Territory | None, children: tuple[ir.Territory, ...]) -> list[Span | None]:
    """Every span a finding of the group can carry, in a fixed order of roles."""
    spans = [model.name_span, model.span, model.where_span]
    if parent is not None:
        spans += [parent.name_span, parent.span, parent.where_span]
    for c in children:
        spans += [c.where_span, c.name_span, c.span]
    return spans


def _moved(entry: _Entry, spans: list[Span | None]) -> list[Diagnostic] | None:
    """The entry's findings with each span replaced by the span of the same role now; None when
    a span is not one of the roles or two roles that shared a position have come apart."""
    if len(spans) != len(entry.spans):
        return None
    moved: dict[Span, Span] = {}
    for old, new in zip(entry.spans, spans):
        if old is None or new is None:
            if old is not new:
                return None
            continue
        if moved.setdefault(old, new) != new:  # Span equality is by position
            return None
    out = []
    for d in entry.findings:
        if d.span is not None and d.span not in moved:
            return None
        if any(label.span not in moved for label in d.labels):
            return None
        out.append(replace(d, span=moved[d.span] if d.span is not None else None,
                           labels=[Label(moved[label.span], label.message) for label in d.labels],
                           notes=list(d.notes), extra=dict(d.extra), facts=dict(d.facts)))
    return out
