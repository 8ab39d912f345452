"""Differential: compiled evaluator == generated module (imported from a file) == reference.

Random models (IR built directly: random trees of territories with random predicates,
policies, `keep`, `else` and universes) and random accounts (text and typed values,
nulls, boundary values, invalid values), compared account by account.
"""

from __future__ import annotations

import importlib.util
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terrl import ir
from terrl.evaluate import compile_model
from terrl.reference import assign_reference

ENUM = ("red", "green", "blue", "other")
SCHEMA = ir.Schema("Account", (
    ir.Field("id", ir.FieldType("string"), key=True),
    ir.Field("color", ir.FieldType("enum", members=ENUM)),
    ir.Field("size", ir.FieldType("int", lo=0, hi=100)),
    ir.Field("amount", ir.FieldType("decimal"), optional=True),
    ir.Field("code", ir.FieldType("digits", digits=3), optional=True),
    ir.Field("flag", ir.FieldType("bool"), optional=True),
    ir.Field("label", ir.FieldType("string"), optional=True),
))

INTS = (0, 1, 9, 10, 11, 50, 99, 100)
DECIMALS = (Decimal("-1"), Decimal("0"), Decimal("0.5"), Decimal("1"), Decimal("1.5"), Decimal("10"), Decimal("1000000"))
CODES = ("000", "099", "100", "123", "500", "999")
LABELS = ("", "a", "ab", "abc", "b", "zz", "é")
IDS = ("A1", "A2", "B7", "")


def atoms():
    return st.one_of(
        st.builds(ir.Compare, st.just("color"), st.sampled_from(["==", "<", "<=", ">", ">="]), st.sampled_from(ENUM)),
        st.builds(lambda vs: ir.InSet("color", frozenset(vs)), st.sets(st.sampled_from(ENUM), min_size=1)),
        st.builds(ir.Compare, st.just("size"), st.sampled_from(["==", "<", "<=", ">", ">="]), st.sampled_from(INTS)),
        st.builds(lambda a, b: ir.InRange("size", min(a, b), max(a, b)), st.sampled_from(INTS), st.sampled_from(INTS)),
        st.builds(ir.Compare, st.just("amount"), st.sampled_from(["==", "<", "<=", ">", ">="]), st.sampled_from(DECIMALS)),
        st.builds(lambda a, b: ir.InRange("amount", a, b), st.sampled_from(DECIMALS + (None,)), st.sampled_from(DECIMALS + (None,))),
        st.builds(ir.StartsWith, st.just("code"), st.sampled_from(["", "0", "1", "12", "99", "123"])),
        st.builds(lambda vs: ir.InSet("code", frozenset(vs)), st.sets(st.sampled_from(CODES), min_size=1)),
        st.builds(ir.Compare, st.just("code"), st.sampled_from(["<", ">="]), st.sampled_from(CODES)),
        st.builds(ir.Compare, st.just("flag"), st.just("=="), st.booleans()),
        st.builds(ir.StartsWith, st.just("label"), st.sampled_from(["a", "ab", "b", ""])),
        st.builds(ir.Compare, st.just("label"), st.sampled_from(["==", "<", ">="]), st.sampled_from(LABELS)),
        st.builds(lambda vs: ir.InSet("id", frozenset(vs)), st.sets(st.sampled_from(IDS), min_size=1)),
        st.builds(ir.IsNull, st.sampled_from(["amount", "code", "flag", "label"])),
        st.builds(ir.Const, st.booleans()),
    )


preds = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.builds(ir.Not, inner),
        st.builds(lambda ps: ir.And(tuple(ps)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda ps: ir.Or(tuple(ps)), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=5,
)
POLICIES = st.sampled_from(["unique", "first", "all"])


@st.composite
def territories(draw, prefix: str = "", depth: int = 0, inherited: str = "unique"):
    count = draw(st.integers(1, 3))
    else_at = draw(st.one_of(st.none(), st.integers(0, count - 1)))
    out = []
    for i in range(count):
        name = f"t{i}"
        path = f"{prefix}{name}"
        is_else = else_at == i
        where = None if is_else else draw(st.one_of(st.none(), preds, preds, preds))
        policy = draw(st.one_of(st.just(inherited), POLICIES))
        children = ()
        if depth < 2 and draw(st.booleans()):
            children = tuple(draw(territories(path + ".", depth + 1, policy)))
        title = draw(st.sampled_from([None, f"T {path}", 'quote " and \\ back', "line\nbreak", "ünïcödé ✓"]))
        owners = tuple(ir.Owner(o) for o in draw(st.lists(st.sampled_from(["a@x", "b@x", "c@x"]), max_size=2)))
        out.append(ir.Territory(name, path, title, where, is_else, policy, draw(st.booleans()) if children else False,
                                owners, children=children))
    return out


@st.composite
def models(draw):
    policy = draw(POLICIES)
    return ir.Model("M", "Random", SCHEMA, draw(st.one_of(st.none(), st.none(), preds)), policy, draw(st.booleans()),
                    tuple(draw(territories("", 0, policy))))


def raw_values(field: str):
    typed = {
        "id": st.sampled_from(IDS + (None, 5)),
        "color": st.sampled_from(ENUM + ("purple", "", None, 3, "RED")),
        "size": st.sampled_from(INTS + (-1, 101, "0", "10", "100", "101", "5,000", " 5", "1e2", "10.0", "10.5", True, None,
                                        Decimal("10"), Decimal("10.5"), 10.0, 3.5, "", "٣")),
        "amount": st.sampled_from(DECIMALS + (None, "0.5", "1", "1.50", "-1", "abc", 0.5, 1, True, float("nan"),
                                              Decimal("NaN"), "1,000", "")),
        "code": st.sampled_from(CODES + (None, "12", "1234", "12a", 123, "١٢٣", "")),
        "flag": st.sampled_from((True, False, None, "true", "false", "True", 1, 0, "")),
        "label": st.sampled_from(LABELS + (None, 7, "a" * 100)),
    }
    return typed[field]


accounts = st.fixed_dictionaries({f.name: raw_values(f.name) for f in SCHEMA.fields})


def load_generated(source: str, tmp_path, counter=itertools.count()):
    path = tmp_path / f"generated_{next(counter)}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_tuple(result) -> tuple:
    return (result.status, tuple(result.territories), tuple(result.titles), tuple(result.owners), result.reason, result.key)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=40)
@given(model=models(), batch=st.lists(accounts, min_size=1, max_size=25))
def test_compiled_generated_and_reference_agree(model, batch, tmp_path):
    evaluator = compile_model(model)
    module = load_generated(evaluator.source, tmp_path)
    many = list(evaluator.assign_many(batch))
    module_many = list(module.assign_many(batch))
    for account, from_many, from_module_many in zip(batch, many, module_many, strict=True):
        expected = assign_reference(model, account) + (account.get("id"),)
        assert as_tuple(evaluator.assign(account)) == expected, account
        assert as_tuple(module.assign(account)) == expected, account
        assert as_tuple(from_many) == expected
        assert as_tuple(from_module_many) == expected


@settings(max_examples=60)
@given(model=models())
def test_every_outcome_of_the_diagram_is_the_reference_outcome_on_a_witness(model):
    """Each terminal of the outcome diagram, fed a witness account, is what the reference says."""
    from terrl.reference import walk

    evaluator = compile_model(model)
    mgr = evaluator.diagram.manager
    root = evaluator.diagram.root
    terminals = {n for n in _leaves(mgr, root)}
    for terminal in terminals:
        only = mgr.map(lambda v, t=mgr.value(terminal): v == t, root)
        account = mgr.witness(only)
        assert walk(model, account) == mgr.value(terminal)


def _leaves(mgr, node, seen=None):
    seen = set() if seen is None else seen
    if node in seen:
        return
    seen.add(node)
    if mgr.is_leaf(node):
        yield node
        return
    for _, _, kid in mgr.pieces(node):
        yield from _leaves(mgr, kid, seen)
