"""Differential: compiled evaluator == generated module (imported from a file) == reference.

Random models (IR built directly: random trees of territories with random predicates,
policies, `keep`, `else` and universes) and random accounts (text and typed values,
nulls, boundary values, invalid values), compared account by account.
"""

from __future__ import annotations

import importlib.util
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terrl.semantics import ir
from terrl.targets.evaluate import compile_model
from terrl.targets.reference import assign_reference

from support import PRICES, SCHEMA, accounts, models, raw_values, wide_models


def load_generated(source: str, tmp_path, counter=itertools.count()):
    path = tmp_path / f"generated_{next(counter)}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_tuple(result) -> tuple:
    return (result.status, tuple(result.territories), tuple(result.titles), tuple(result.owners), result.reason)


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=100)
@given(model=st.one_of(models(), wide_models()), batch=st.lists(accounts, min_size=1, max_size=25))
def test_compiled_generated_and_reference_agree(model, batch, tmp_path):
    evaluator = compile_model(model)
    module = load_generated(evaluator.source, tmp_path)
    many = list(evaluator.assign_many(batch))
    module_many = list(module.assign_many(batch))
    for account, from_many, from_module_many in zip(batch, many, module_many, strict=True):
        expected = assign_reference(model, account)
        assert as_tuple(evaluator.assign(account)) == expected, account
        assert as_tuple(module.assign(account)) == expected, account
        assert as_tuple(from_many) == expected
        assert as_tuple(from_module_many) == expected


# The fast paths of number fields (typed ints and Decimals, texts of digits with and
# without a point, the memo of int texts, one bisect for a Decimal bounded below) on flat
# models that test only `size` (int in 0..100) and `price` (decimal in 0..), so that every
# example exercises them; the shared memo sees each text more than once.
NUMBER_ATOMS = st.one_of(
    st.builds(ir.Compare, st.just("price"), st.sampled_from(["<", ">="]), st.sampled_from(PRICES)),
    st.builds(ir.Compare, st.just("price"), st.sampled_from(["<", ">=", "<=", ">"]), st.sampled_from(PRICES)),
    st.builds(ir.Compare, st.just("size"), st.sampled_from(["<", ">=", "<=", ">", "=="]),
              st.sampled_from((0, 1, 10, 50, 99, 100))),
)


@st.composite
def number_models(draw):
    count = draw(st.integers(1, 6))
    kids = tuple(ir.Territory(f"t{i}", f"t{i}", None, draw(NUMBER_ATOMS), False, "first", False, ())
                 for i in range(count))
    return ir.Model("N", None, SCHEMA, None, "first", False, kids)


number_accounts = st.fixed_dictionaries({"id": st.just("A1"), "color": st.just("red"), "size": raw_values("size"),
                                         "price": raw_values("price")})


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=150)
@given(model=number_models(), batch=st.lists(number_accounts, min_size=1, max_size=40))
def test_number_fast_paths_agree_with_the_reference(model, batch, tmp_path):
    evaluator = compile_model(model)
    module = load_generated(evaluator.source, tmp_path)
    for _ in range(2):  # the second pass meets the texts the first one remembered
        for account, from_many, from_module in zip(batch, evaluator.assign_many(batch), module.assign_many(batch),
                                                   strict=True):
            expected = assign_reference(model, account)
            assert as_tuple(from_many) == expected, account
            assert as_tuple(from_module) == expected, account
            assert as_tuple(evaluator.assign(account)) == expected, account


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=80, deadline=None)
@given(model=st.one_of(models(), wide_models()))
def test_the_plan_agrees_with_the_reference_on_every_cell(model):
    """Exhaustive over the account space: every combination of the tested fields' cells (all
    values of one cell are alike to the model), as a typed account, walks to the reference's
    result. Models whose cell space is too large to enumerate are sampled instead."""
    import random

    from terrl.targets.reference import result_fields, walk

    evaluator = compile_model(model)
    plan = evaluator.plan
    base = {"id": "A1", "color": "red", "size": 0, "amount": None, "code": None, "flag": None, "label": None,
            "price": None}
    spaces = [range(d.cells) for d in plan.domains]
    combos = 1
    for space in spaces:
        combos *= len(space)
    if combos <= 2000:
        cells_list = itertools.product(*spaces)
    else:
        rng = random.Random(0)
        cells_list = [tuple(rng.randrange(len(s)) for s in spaces) for _ in range(2000)]
    for cells in cells_list:
        values = dict(base)
        for d, cell in zip(plan.domains, cells):
            values[d.name] = d.representative(cell)
        expected = result_fields(model, walk(model, values))
        assert as_tuple(evaluator.assign(values)) == (expected[0], *expected[1:]), values
