"""Incremental re-check (terrl.analysis.incremental): only the sibling groups whose rules
changed are analysed again, and the findings always equal a full analysis."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings, strategies as st

from terrl.analysis import coverage
from terrl.analysis.incremental import AnalysisCache
from terrl.diagnostics.render import render
from terrl.pipeline import Compilation
from terrl.semantics import ir

from support import models, small_schemas

MODEL = """\
schema A { id: string key  n: int in 0..100  k: enum { a, b, c }  s: string? }

model M "M" {
  territory low "Low" {
    where n < 50
    territory la { where k == a  owner "x@y" as AE }
    territory lb { where k == b }
  }
  territory high "High" {
    where n >= 50
    territory ha { where k == a }
    territory hb { where k in {a, b} }
    territory hc { where k == c }
  }
  territory big { where n >= 90 }
}
"""


def spied_groups(monkeypatch) -> list[str]:
    """The parents whose groups coverage analyses from now on ("" = the model root)."""
    seen: list[str] = []
    group = coverage._Analysis.group

    def spy(self, parent, *args):
        seen.append(parent.path if parent else "")
        return group(self, parent, *args)

    monkeypatch.setattr(coverage._Analysis, "group", spy)
    return seen


def check_json(compilation: Compilation) -> str:
    return render(compilation.check(), "json")


def recheck(text: str, cache: AnalysisCache) -> Compilation:
    return Compilation.from_source(text, "m.terr", analysis_cache=cache)


def test_an_edit_in_one_group_reanalyses_that_group_only(monkeypatch):
    cache = AnalysisCache()
    first = recheck(MODEL, cache)
    assert check_json(first) == check_json(Compilation.from_source(MODEL, "m.terr"))
    assert cache.last.analysed == ["", "low", "high"] and cache.last.reused == 0
    # `lb` now takes what `la` takes too, with values the model already uses (no new cell)
    edited = MODEL.replace("where k == b }", "where k in {a, b} }")
    seen = spied_groups(monkeypatch)
    second = recheck(edited, cache)
    findings = second.findings
    assert seen == ["low"], seen  # the other groups were not analysed again
    assert cache.last.analysed == ["low"] and cache.last.reused == 2
    overlaps = [d.extra["territories"] for d in findings if d.code == "E201"]
    assert sorted(overlaps) == [["high", "big"], ["high.ha", "high.hb"], ["low.la", "low.lb"]]
    assert check_json(second) == check_json(Compilation.from_source(edited, "m.terr"))


def test_lines_added_above_move_the_reused_findings(monkeypatch):
    cache = AnalysisCache()
    recheck(MODEL, cache).findings
    moved = "## The model of the test.\n\n\n" + MODEL.replace('owner "x@y" as AE', 'owner "someone.else@y" as AE')
    seen = spied_groups(monkeypatch)
    again = recheck(moved, cache)
    again.findings
    assert seen == [] and cache.last.reused == 3
    assert check_json(again) == check_json(Compilation.from_source(moved, "m.terr"))
    overlap = next(d for d in again.findings if d.code == "E201")
    assert overlap.span.start_line_col[0] == MODEL[:MODEL.index("territory hb")].count("\n") + 4
    assert overlap.span.file is again.models[0].span.file  # the new file, not the old one


def test_a_new_boundary_reanalyses_everything(monkeypatch):
    """A witness is a representative of a cell: a new cut anywhere may move it."""
    cache = AnalysisCache()
    recheck(MODEL, cache).findings
    edited = MODEL.replace("n >= 90", "n >= 95")
    seen = spied_groups(monkeypatch)
    again = recheck(edited, cache)
    again.findings
    assert seen == ["", "low", "high"]
    assert check_json(again) == check_json(Compilation.from_source(edited, "m.terr"))


def test_files_and_models_are_cached_apart():
    cache = AnalysisCache()
    a = Compilation.from_source(MODEL, "a.terr", analysis_cache=cache).findings
    b = Compilation.from_source(MODEL, "b.terr", analysis_cache=cache).findings
    assert cache.last.reused == 0 and [d.span.file.path for d in b] == ["b.terr"] * len(b)
    assert len(a) == len(b)
    Compilation.from_source(MODEL, "a.terr", analysis_cache=cache).findings
    assert cache.last.reused == 3


# --- differential: a cache that has seen other versions of a model answers like a full analysis ---

def _edit(model: ir.Model, data) -> ir.Model:
    """Swap the `where`s of two territories (no new cells: many groups keep their key), change a
    title or `keep`, or put a new random `where` on one territory."""
    territories = list(model.walk())
    plain = [t for t in territories if not t.is_else]
    how = data.draw(st.sampled_from(["swap", "title", "keep", "new where", "same"]))
    replacement: dict[str, dict] = {}
    if how == "swap" and len(plain) >= 2:
        a, b = data.draw(st.lists(st.sampled_from(plain), min_size=2, max_size=2, unique_by=lambda t: t.path))
        replacement = {a.path: {"where": b.where}, b.path: {"where": a.where}}
    elif how == "title" and territories:
        t = data.draw(st.sampled_from(territories))
        replacement = {t.path: {"title": "renamed"}}
    elif how == "keep":  # of a parent: whether its gaps are findings
        parents = [t for t in territories if t.children]
        if not parents or data.draw(st.booleans()):
            return dataclasses.replace(model, keep=not model.keep)
        t = data.draw(st.sampled_from(parents))
        replacement = {t.path: {"keep": not t.keep}}
    elif how == "new where" and plain:
        from support import predicates
        t = data.draw(st.sampled_from(plain))
        replacement = {t.path: {"where": data.draw(predicates(model.schema, max_leaves=3))}}

    def rebuild(ts: tuple[ir.Territory, ...]) -> tuple[ir.Territory, ...]:
        return tuple(dataclasses.replace(t, children=rebuild(t.children), **replacement.get(t.path, {})) for t in ts)

    return dataclasses.replace(model, territories=rebuild(model.territories))


def _plain(diagnostics) -> list[tuple]:
    return [(d.code, d.message, d.severity, tuple(d.notes), d.help, repr(d.extra), tuple(l.message for l in d.labels),
             d.facts) for d in diagnostics]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                    HealthCheck.data_too_large])
@given(st.data())
def test_cached_analysis_equals_full_analysis(data):
    model = data.draw(models(small_schemas(max_fields=3), where_leaves=3, universe_leaves=2))
    cache = AnalysisCache()
    reused = 0
    for _ in range(8):
        assert _plain(cache.analyze(model, "m.terr")) == _plain(coverage.analyze(model))
        reused += cache.last.reused
        model = _edit(model, data)
    again = cache.analyze(model, "m.terr")
    assert _plain(again) == _plain(coverage.analyze(model))
    assert cache.analyze(model, "m.terr") == again or _plain(cache.analyze(model, "m.terr")) == _plain(again)
    assert cache.last.analysed == []  # the same model twice: nothing analysed again


def test_a_failing_analysis_is_e901_and_not_cached(monkeypatch):
    cache = AnalysisCache()
    model = Compilation.from_source(MODEL, "m.terr").models[0]

    def boom(self, *args):
        raise RuntimeError("synthetic")

    monkeypatch.setattr(coverage._Analysis, "group", boom)
    (failed,) = cache.analyze(model, "m.terr")
    assert failed.code == "E901" and "synthetic" in failed.message
    monkeypatch.undo()
    assert _plain(cache.analyze(model, "m.terr")) == _plain(coverage.analyze(model))
    assert cache.last.reused == 0
