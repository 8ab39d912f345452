"""Issue 14: the evaluator on Salesforce-like models (many territories under `policy all`).

The plan (terrl/targets/sibling_index.py) grows linearly with the rules, agrees with the
reference interpreter on a realistic overlay model, and the SQL target, whose diagram
does not scale like that, refuses such a model with a diagnostic instead of running out
of memory. `explain` never builds the evaluator.
"""

from __future__ import annotations

import random
import re

import pytest

from terrl.pipeline import check_source
from terrl.targets import sql
from terrl.targets.evaluate import compile_model
from terrl.targets.reference import assign_reference

from support import REPO, run_cli
from test_bench_generators import gen as GEN  # bench/generators.py, loaded once


def _model(territories: int, zips: int = 60):
    checked = check_source(GEN.salesforce_model(territories, zips_per_leaf=zips), "sf.terr", stop_after="resolve",
                           base=REPO)
    assert checked.ok, [d.message for d in checked.diagnostics if d.severity == "error"][:3]
    return next(iter(checked.programs.values())).models[0]


def test_the_plan_grows_linearly_with_the_territories():
    small, large = _model(60), _model(240)
    small_size, large_size = compile_model(small).plan_size, compile_model(large).plan_size
    territories = sum(1 for _ in large.walk()) / sum(1 for _ in small.walk())
    # Linear: four times the territories, at most about four times the tables (plus slack for
    # the fixed part); the combination diagram grew far faster on these models.
    assert large_size <= 1.3 * territories * small_size, (small_size, large_size, territories)


def test_an_overlay_model_assigns_like_the_reference():
    model = _model(120)
    evaluator = compile_model(model)
    rng = random.Random(7)
    zips = sorted({v for t in model.walk() for v in _zip_values(t.where)})
    states = list(model.schema.field("state").type.members) + [None]
    industries = list(model.schema.field("industry").type.members)
    accounts = []
    for i in range(600):
        accounts.append({"id": f"A{i}", "country": rng.choice(["US", "CA"]), "state": rng.choice(states),
                         "zip": rng.choice(zips + [None, "99999", "00000"]), "industry": rng.choice(industries),
                         "employees": str(rng.choice([0, 50, 199, 200, 999, 1000, 5000, 100000])),
                         "revenue": rng.choice(["0", "1000000.50", "250000000"])})
    landed_on_several = 0
    for account, result in zip(accounts, evaluator.assign_many(accounts), strict=True):
        expected = assign_reference(model, account)
        assert tuple(result[:5]) == expected, account
        landed_on_several += len(result.territories) > 1
    assert landed_on_several > 10  # the overlays really overlap: some accounts land on several leaves


def _zip_values(pred):
    from terrl.semantics import ir
    if pred is None:
        return
    stack = [pred]
    while stack:
        p = stack.pop()
        if isinstance(p, ir.InSet) and p.field == "zip":
            yield from p.values
        elif isinstance(p, ir.Not):
            stack.append(p.operand)
        elif isinstance(p, (ir.And, ir.Or)):
            stack.extend(p.operands)


@pytest.fixture()
def overlay_file(tmp_path):
    path = tmp_path / "sf.terr"
    path.write_text(GEN.salesforce_model(40, zips_per_leaf=40), encoding="utf-8")
    accounts = tmp_path / "a.csv"
    accounts.write_text("id,country,state,zip,industry,employees,revenue\nA1,US,NY,10001,software,150,1000\n")
    return path, accounts


def test_the_sql_target_assigns_overlays_the_old_diagram_refused(overlay_file, tmp_path):
    """Salesforce-like overlays (`policy all`, long ZIP lists, `not in`): the SQL is linear in the rules
    (lookup tables), and `--engine duckdb` writes what `--engine python` writes."""
    path, _ = overlay_file
    accounts = tmp_path / "many.csv"
    # states and ZIP codes the leaves list (so that accounts meet several overlays), and others
    leaves = re.findall(r'where state in \{(\w+)[^}]*\} and .*? zip in \{"(\d{5})", "(\d{5})"', path.read_text())
    places = [(state, z) for state, *zips in leaves[::5] for z in zips] + [("NY", "10001"), ("", ""), ("TX", "00000")]
    rows = [f"A{i},US,{state},{zip_},{industry},{employees},1000" for i, ((state, zip_), industry, employees) in enumerate(
        (p, ind, e) for p in places for ind in ("software", "retail", "finance") for e in (5, 150, 5000))]
    accounts.write_text("id,country,state,zip,industry,employees,revenue\n" + "\n".join(rows) + "\n")
    result = run_cli(["compile", str(path), "--target", "sql"])
    assert result.exit_code == 0, result.output
    assert len(result.output) < 40 * len(path.read_text())  # linear: about 10 bytes per source byte here
    model = check_source(path.read_text(), str(path), stop_after="resolve", base=REPO)
    plan = sql.plan_model(next(iter(model.programs.values())).models[0])
    assert plan.size() < 10 * len(path.read_text()) // 7
    outputs = []
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.csv"
        result = run_cli(["assign", str(path), str(accounts), "-o", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and b";" in outputs[0]  # several territories per account


def test_explain_does_not_build_the_evaluator(overlay_file, monkeypatch):
    path, _ = overlay_file
    import terrl.targets.evaluate as evaluate

    def refuse(*args, **kwargs):
        raise AssertionError("explain built the evaluator")

    monkeypatch.setattr(evaluate, "compile_model", refuse)
    monkeypatch.setattr(evaluate, "build_plan", refuse)
    account = '{"id": "A1", "country": "US", "state": "NY", "zip": "10001", "industry": "software", ' \
              '"employees": 150, "revenue": 1000}'
    result = run_cli(["explain", str(path), "--account", account])
    assert result.exit_code == 0, result.output
    assert "result: assigned" in result.output
