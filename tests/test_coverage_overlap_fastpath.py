"""coverage.overlapping_pairs: interval boxes counted without a diagram walk equal brute force.

Random sibling groups (under a random parent) mix interval boxes (conjunctions of ranges and comparisons: the fast
path) with any other predicate (confirmed on the diagrams). The pairs listed and the count
must equal what enumerating every account of the small schema says, on every path: every
pair tested (small groups), hull bitsets, and the sweep past BITSET_PAIRS_LIMIT.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from terrl.analysis import coverage
from terrl.analysis.dd import Manager
from terrl.analysis.domain import build_domains
from terrl.semantics import ir

from support import all_accounts, atoms, holds, predicates, small_schemas

SCHEMAS = small_schemas(max_fields=3, max_accounts=1500)


@st.composite
def interval_where(draw, schema: ir.Schema) -> ir.Pred:
    """A conjunction of one-interval atoms (`<`, `>=`, `in LO..HI`, `==`) over the ordered fields."""
    parts = []
    for f in schema.fields:
        if f.type.kind == "bool" or draw(st.integers(0, 2)) == 0:
            continue
        atom = draw(atoms(ir.Schema("S", (f,))).filter(
            lambda a: isinstance(a, (ir.Compare, ir.InRange, ir.StartsWith))))
        parts.append(atom)
    if not parts:
        return ir.Const(True)
    return parts[0] if len(parts) == 1 else ir.And(tuple(parts))


@st.composite
def groups(draw):
    schema = draw(SCHEMAS)
    wheres = draw(st.lists(st.one_of(interval_where(schema), interval_where(schema), predicates(schema, 4)),
                           min_size=2, max_size=14))
    parent = draw(st.one_of(st.none(), interval_where(schema), predicates(schema, 3)))  # what reaches the group
    return schema, wheres, parent


def _brute_force(schema, wheres, parent):
    accounts = [a for a in all_accounts(schema) if parent is None or holds(parent, a, schema)]
    matched = [{n for n, a in enumerate(accounts) if holds(w, a, schema)} for w in wheres]
    return [(i, j) for i in range(len(wheres)) for j in range(i + 1, len(wheres)) if matched[i] & matched[j]]


@pytest.mark.parametrize("path", ["every pair", "bitsets", "sweep"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=groups(), limit=st.sampled_from([1, 3, 50]))
def test_overlapping_pairs_equal_brute_force(path, case, limit) -> None:
    schema, wheres, parent = case
    m = Manager(build_domains(schema, [*wheres, parent]))
    where_nodes = [m.compile(w) for w in wheres]
    nodes = [m.and_(m.compile(parent), w) for w in where_nodes]  # each sibling's reach under `policy unique`
    expected = _brute_force(schema, wheres, parent)
    saved = coverage.SMALL_SIBLING_GROUP, coverage.BITSET_PAIRS_LIMIT
    coverage.SMALL_SIBLING_GROUP = 10 ** 9 if path == "every pair" else 1
    coverage.BITSET_PAIRS_LIMIT = 0 if path == "sweep" else saved[1]
    try:
        listed, total = coverage.overlapping_pairs(m, nodes, limit)
        assert coverage.overlapping_pairs(m, nodes, limit, where_nodes) == (listed, total)  # the `where` pre-test
    finally:
        coverage.SMALL_SIBLING_GROUP, coverage.BITSET_PAIRS_LIMIT = saved
    assert listed == expected[:limit]
    assert total == len(expected)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(SCHEMAS.flatmap(lambda s: st.tuples(st.just(s), predicates(s, 5))))
def test_interval_box_is_exactly_the_node(case) -> None:
    """When interval_box answers, the box holds exactly the accounts of the node."""
    schema, where = case
    domains = build_domains(schema, [where])
    m = Manager(domains)
    node = m.compile(where)
    box = coverage.interval_box(m, node)
    if box is None:
        return
    accounts = all_accounts(schema)
    for account in accounts:
        cells = m.cells_of(account)
        inside = all(first <= cell < end for cell, (first, end) in zip(cells, box))
        assert inside == holds(where, account, schema)


def test_thousands_of_mutually_overlapping_siblings_are_counted(monkeypatch) -> None:
    """3,000 siblings that all overlap: 4,498,500 pairs, counted (not walked), 50 listed."""
    fields = (ir.Field("a", ir.FieldType("int", lo=0, hi=100_000)), ir.Field("b", ir.FieldType("int", lo=0, hi=100_000)))
    schema = ir.Schema("S", fields)
    n = 3000
    wheres = [ir.And((ir.Compare("a", ">=", i), ir.Compare("b", "<=", 100_000 - i))) for i in range(n)]
    m = Manager(build_domains(schema, wheres))
    nodes = [m.compile(w) for w in wheres]
    walked = []
    monkeypatch.setattr(m, "intersects", lambda a, b: walked.append((a, b)) or Manager.intersects(m, a, b))
    listed, total = coverage.overlapping_pairs(m, nodes, 50)
    assert total == n * (n - 1) // 2
    assert listed == [(0, j) for j in range(1, 51)]
    assert walked == []  # every sibling is an interval box: no pair needed the diagrams
