"""coverage.overlapping_hulls: the candidate-pair sweep for large sibling groups equals its definition."""

from __future__ import annotations

from hypothesis import given, strategies as st

import pytest

from terrl.analysis.coverage import _overlapping_hulls_bitsets, _overlapping_hulls_sweep, overlapping_hulls


def _brute_force(hulls, levels):
    rules = sorted(hulls)
    return [(i, j) for a, i in enumerate(rules) for j in rules[a + 1:]
            if all(hulls[j][k][0] < hulls[i][k][1] and hulls[i][k][0] < hulls[j][k][1] for k in range(levels))]


def _hull(cells):
    # A projection mask's hull is (lowest cell, highest cell + 1); an empty mask gives (-1, 0).
    return st.one_of(st.just((-1, 0)), st.tuples(st.integers(0, cells - 1), st.integers(1, cells)).map(
        lambda t: (min(t[0], t[1] - 1), max(t[1], t[0] + 1))))


@given(st.integers(1, 4).flatmap(lambda levels: st.tuples(
    st.just(levels),
    st.dictionaries(st.integers(0, 60), st.lists(_hull(12), min_size=levels, max_size=levels), max_size=40))))
def test_both_methods_equal_every_pair_checked(case) -> None:
    levels, hulls = case
    expected = _brute_force(hulls, levels)
    assert _overlapping_hulls_bitsets(hulls, levels) == expected
    assert _overlapping_hulls_sweep(hulls, levels) == expected


@pytest.mark.parametrize("rules", [100, 9_000])  # both sides of BITSET_PAIRS_LIMIT
def test_many_disjoint_rules_give_no_pairs(rules) -> None:
    hulls = {i: [(i, i + 1), (0, 5)] for i in range(rules)}
    assert overlapping_hulls(hulls, 2) == []
    hulls[rules] = [(10, 12), (4, 5)]
    assert overlapping_hulls(hulls, 2) == [(10, rules), (11, rules)]


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=6),
       st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=12))
def test_runs_minus_equals_mask_arithmetic(within, taken) -> None:
    """The flat-group gap (coverage._runs_minus): the reach's runs without the `where`s' runs."""
    from terrl.analysis.coverage import _runs_minus
    from terrl.analysis.domain import range_mask, runs

    within_mask = 0
    for a, b in within:
        within_mask |= range_mask(min(a, b), max(a, b))
    taken = sorted((min(a, b), max(a, b)) for a, b in taken)
    taken_mask = 0
    for a, b in taken:
        taken_mask |= range_mask(a, b)
    assert list(_runs_minus(list(runs(within_mask)), taken)) == list(runs(within_mask & ~taken_mask))
