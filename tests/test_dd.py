"""Decision diagrams: compiled predicates agree with direct evaluation on every account."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terrl.semantics import ir
from terrl.analysis.dd import Manager
from terrl.analysis.domain import build_domains

from support import all_accounts, holds, predicates, small_schemas


def setup(data):
    schema = data.draw(small_schemas(max_fields=3, max_accounts=3000))
    preds = data.draw(st.lists(predicates(schema), min_size=2, max_size=3))
    domains = build_domains(schema, preds)
    order = data.draw(st.permutations(domains))
    return schema, preds, Manager(order)


@pytest.mark.slow
@given(st.data())
def test_compile_and_algebra_match_brute_force(data):
    schema, (p, q, *_), m = setup(data)
    a, b = m.compile(p), m.compile(q)
    ops = {"and": m.and_(a, b), "or": m.or_(a, b), "not": m.not_(a), "diff": m.diff(a, b)}
    for account in all_accounts(schema):
        cells = m.cells_of(account)
        x, y = holds(p, account, schema), holds(q, account, schema)
        assert m.lookup(a, cells) == (m.TRUE if x else m.FALSE)
        assert m.lookup(ops["and"], cells) == (m.TRUE if x and y else m.FALSE)
        assert m.lookup(ops["or"], cells) == (m.TRUE if x or y else m.FALSE)
        assert m.lookup(ops["not"], cells) == (m.FALSE if x else m.TRUE)
        assert m.lookup(ops["diff"], cells) == (m.TRUE if x and not y else m.FALSE)
    assert m.intersects(a, b) == (ops["and"] != m.FALSE)
    assert m.subset(a, b) == (ops["diff"] == m.FALSE)
    # canonical: equal functions are equal nodes
    assert m.compile(ir.Not(ir.Not(p))) == a
    assert m.or_many([a, b, m.FALSE]) == ops["or"]


@pytest.mark.slow
@given(st.data())
def test_witness_and_regions(data):
    schema, (p, *_), m = setup(data)
    node = m.compile(p)
    accounts = all_accounts(schema)
    if node == m.FALSE:
        assert not any(holds(p, a, schema) for a in accounts)
        return
    w = m.witness(node)
    assert set(w) == {f.name for f in schema.fields}
    assert holds(p, w, schema)
    # a null only where the path needs it: a witness of `x is not null` never has nulls
    boxes, total = m.regions(node, limit=10_000)
    assert total == len(boxes)
    for account in accounts:
        cells = dict(zip((d.name for d in m.domains), m.cells_of(account)))
        inside = sum(all(box_mask >> cells[name] & 1 for name, box_mask in box.items()) for box in boxes)
        assert inside == (1 if holds(p, account, schema) else 0)


def test_witness_shows_optional_fields_missing_unless_a_value_matters():
    schema = ir.Schema("S", (ir.Field("a", ir.FieldType("int"), optional=True),
                             ir.Field("b", ir.FieldType("enum", members=("x", "y")), optional=True),
                             ir.Field("c", ir.FieldType("enum", members=("x", "y")))))
    p = ir.Compare("a", ">", 5)
    m = Manager(build_domains(schema, [p]))
    assert m.witness(m.compile(p)) == {"a": 6, "b": None, "c": "x"}
    q = ir.Or((ir.IsNull("a"), ir.Compare("a", ">", 5)))
    m = Manager(build_domains(schema, [q]))
    assert m.witness(m.compile(q)) == {"a": None, "b": None, "c": "x"}
    r = ir.Not(ir.InSet("b", frozenset({"x"})))
    m = Manager(build_domains(schema, [r]))
    assert m.witness(m.compile(r)) == {"a": None, "b": None, "c": "x"}


def test_multi_terminal_apply():
    schema = ir.Schema("S", (ir.Field("n", ir.FieldType("int", lo=0, hi=9)),))
    small, even = ir.Compare("n", "<", 5), ir.InSet("n", frozenset({0, 2, 4, 6, 8}))
    m = Manager(build_domains(schema, [small, even]))
    tag = lambda flag, label: m.map(lambda v: (label,) if v else (), m.compile(flag))  # noqa: E731
    both = m.apply(lambda x, y: x + y, tag(small, "small"), tag(even, "even"))
    for n in range(10):
        got = m.value(m.lookup(both, m.cells_of({"n": n})))
        assert got == (("small",) if n < 5 else ()) + (("even",) if n % 2 == 0 else ())
    assert m.leaf(1) != m.TRUE and m.leaf(0) != m.FALSE


@given(st.data())
def test_from_runs_equals_from_mask(data):
    """Atoms are compiled from their runs of cells (no bitmask): the same node as from the mask."""
    schema, _, m = setup(data)
    level = data.draw(st.integers(0, m.levels - 1))
    cells = m.domains[level].cells
    bounds = sorted(set(data.draw(st.lists(st.integers(0, cells), max_size=8))))
    runs = [(a, b) for a, b in zip(bounds[::2], bounds[1::2]) if a < b]  # sorted, disjoint (maybe adjacent)
    mask = 0
    for a, b in runs:
        mask |= ((1 << (b - a)) - 1) << a
    assert m.from_runs(level, runs) == m.from_mask(level, mask)
