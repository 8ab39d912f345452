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

from support import KIND, all_accounts, brute_force_findings, check_witness, small_models

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
    assert found == expected


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
