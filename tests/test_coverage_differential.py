"""The analysis agrees with brute force on random small schemas and models.

Every account of a small schema is enumerated (support.field_values reaches
every cell any literal can make) and the meaning of the model is applied directly; the
analysis must report a finding iff enumeration exhibits it, and every witness must
exhibit the finding it comes with.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from terrl.analysis import coverage
from terrl.analysis.coverage import analyze

from support import KIND, all_accounts, brute_force_findings, check_witness, holds, parent_of, reaches, small_models

SMALL_MODELS = small_models()  # every account of their schema can be listed


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                     HealthCheck.data_too_large])
@given(SMALL_MODELS)
def test_analysis_equals_brute_force(model):
    diagnostics = analyze(model)
    assert not [d for d in diagnostics if d.code == "E901"], diagnostics
    expected = brute_force_findings(model, all_accounts(model.schema))
    found: dict[str, set] = {k: set() for k in expected}
    for d in diagnostics:
        kind = KIND[d.code]
        paths = d.extra["territories"]
        if kind == "gap":
            found[kind].add(paths[0] if paths else "")
        elif kind in ("overlap", "ordered"):
            found[kind].add(tuple(paths))
        else:
            found[kind].add(paths[0])
        assert d.extra["model"] == "M" and isinstance(d.extra["region"], str) and d.extra["region"]
        check_witness(model, d)
        check_region_pred(model, d, kind)
    assert found == expected


def check_region_pred(model, d, kind) -> None:
    """The region a finding gives as a predicate (which docs put into words) is exactly its
    accounts, when it is given whole: the gap's or the overlap's accounts, by enumeration."""
    facts = d.facts
    if "region_pred" not in facts:  # only a model `where` that matches nothing: there is no region
        assert d.extra["region"] == "no account"
        return
    if facts["more_regions"] or kind not in ("gap", "overlap"):
        return
    schema = model.schema
    paths = d.extra["territories"]
    for account in all_accounts(schema):
        if not holds(model.universe, account, schema):
            continue  # the diagrams describe accounts of the universe; outside it the text says nothing
        if kind == "gap":
            parent = paths[0] if paths else ""
            children = model.territory(parent).children if parent else model.territories
            inside = reaches(model, parent, account) and not any(
                holds(c.where, account, schema) for c in children if not c.is_else)
        else:
            parent, _ = parent_of(model, paths[0])
            inside = reaches(model, parent, account) and all(
                holds(model.territory(p).where, account, schema) for p in paths)
        assert holds(facts["region_pred"], account, schema) == inside, (d.message, account, facts["region_pred"])


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                    HealthCheck.data_too_large])
@given(SMALL_MODELS)
def test_sweeps_for_many_siblings_equal_brute_force(model):
    """The paths for large sibling groups (candidate-pair sweep, gap box search), forced on small ones."""
    saved = coverage.SMALL_SIBLING_GROUP
    coverage.SMALL_SIBLING_GROUP = 1
    try:
        test_analysis_equals_brute_force.hypothesis.inner_test(model)
    finally:
        coverage.SMALL_SIBLING_GROUP = saved
