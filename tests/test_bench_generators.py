"""bench/generators.py: the benchmark inputs are deterministic, realistic and say what they claim.

Small sizes only; the clean/defect claims are checked against both `terrl check`
(terrl.pipeline.check_source) and brute force over sampled accounts.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import json
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner

from terrl.analysis.coverage import MAX_PAIR_FINDINGS
from terrl.targets.evaluate import compile_model
from terrl.pipeline import check_source

from support import REPO


def _load_generators():
    spec = importlib.util.spec_from_file_location("bench_generators", REPO / "bench" / "generators.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen = _load_generators()


def _check(text: str, name: str = "bench.terr"):
    result = check_source(text, name, base=REPO)
    return result, result.programs.get(name)


def _leaves(territories) -> list:
    out = []
    for t in territories:
        out.extend(_leaves(t.children) if t.children else [t])
    return out


def _paths(territories, prefix: str = "") -> list[str]:
    out = []
    for t in territories:
        path = prefix + t.name
        out.append(path)
        out.extend(_paths(t.children, path + "."))
    return out


# --- ZIP model ---------------------------------------------------------------

@pytest.mark.parametrize("leaves", [4, 10, 37, 150])
def test_zip_model_is_clean_and_has_exactly_the_leaves_asked_for(leaves):
    generated = gen.generate_zip_model(leaves, seed=leaves)
    result, program = _check(generated.text)
    assert result.diagnostics == []
    model = program.models[0]
    assert len(_leaves(model.territories)) == leaves == generated.leaves
    assert len(_paths(model.territories)) == generated.territories


def test_zip_model_with_every_state_is_clean_and_four_levels_deep():
    """At 2,040 leaves all 50 states and DC are listed: no region needs an `else`, so a state
    missing from CENSUS_REGIONS (or a name that is a keyword, like Indiana's `in`) would show."""
    text = gen.zip_model(2040, seed=0)
    result, program = _check(text)
    assert result.diagnostics == []
    regions = program.models[0].territories
    states = [s.name for r in regions for s in r.children]
    assert {r.name for r in regions} == {"northeast", "midwest", "south", "west", "unaligned"}
    assert {"indiana", "oregon", "district_of_columbia"} <= set(states)
    assert not any(s.endswith("_other") for r in regions for s in [c.name for c in r.children])
    depths = {p.count(".") for p in _paths(regions)}
    assert max(depths) == 3  # region.state.group.segment


def test_zip_model_is_deterministic_per_seed():
    assert gen.zip_model(60, seed=7) == gen.zip_model(60, seed=7)
    assert gen.zip_model(60, seed=7) != gen.zip_model(60, seed=8)


def test_zip_groups_are_ranges_of_real_prefixes_of_their_state():
    _, program = _check(gen.zip_model(400, seed=2))
    by_state = gen.zips_by_state()
    seen = 0
    for region in program.models[0].territories:
        for state in region.children:
            if state.is_else:
                continue
            code = state.where_span.text.split("==")[1].strip()
            bounds = []
            for group in state.children:
                if group.is_else:
                    continue
                units = group.name[1:].split("_")  # z940_941: the first and last prefix of the range
                for unit in units:
                    assert any(z.startswith(unit) for z in by_state[code]), (code, group.name)
                assert f'"{units[0]}' in group.where_span.text and f'"{units[-1]}' in group.where_span.text
                bounds.append((units[0], units[-1]))
                seen += 1
            assert bounds == sorted(bounds) and all(a[1] < b[0] for a, b in zip(bounds, bounds[1:]))
    assert seen > 50


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_defects_are_exactly_what_check_reports(seed):
    generated = gen.generate_zip_model(300, seed=seed, defects=6)
    assert {d.cause for d in generated.defects} == {"zip-range-overlap", "missing-segment", "boundary-off-by-one"}
    result, _ = _check(generated.text)
    found = sorted((d.name, tuple(d.extra["territories"])) for d in result.diagnostics)
    planted = sorted((d.name, d.territories) for d in generated.defects)
    assert found == planted
    lines = generated.text.splitlines()
    for d in generated.defects:
        assert "territory" in lines[d.line - 1] or "where" in lines[d.line - 1]


def test_planted_defect_witnesses_reproduce_in_the_evaluator():
    generated = gen.generate_zip_model(120, seed=4, defects=3)
    result, program = _check(generated.text)
    evaluator = compile_model(program.models[0])
    for d in result.diagnostics:
        outcome = evaluator.assign(d.extra["witness"])
        if d.name == "overlap":
            assert [t.rsplit(".", 1)[0] for t in outcome.territories] == d.extra["territories"]
            assert outcome.reason.startswith("conflict")
        else:
            assert outcome.status == "unassigned" and outcome.reason.startswith("gap")
            assert f"`{d.extra['territories'][0]}`" in outcome.reason


def test_too_many_defects_for_a_tiny_model_is_refused():
    with pytest.raises(ValueError):
        gen.generate_zip_model(10, defects=50)


# --- accounts ------------------------------------------------------------------

def test_accounts_are_valid_real_and_land_on_exactly_one_leaf_of_a_clean_model():
    """The brute-force side of "clean": every sampled account is assigned to one leaf."""
    _, program = _check(gen.zip_model(200, seed=1))
    evaluator = compile_model(program.models[0])
    zip_state = {z.code: z.state for z in gen.us_zip_codes()}
    accounts = list(gen.zip_accounts(3000, seed=9))
    statuses = {(r.status, len(r.territories), r.reason) for r in evaluator.assign_many(accounts)}
    assert statuses == {("assigned", 1, None)}
    us = [a for a in accounts if a["country"] == "US"]
    assert 0.9 < len(us) / len(accounts) < 0.99
    for a in us:
        if a["zip"] is not None and a["state"] is not None:
            assert zip_state[a["zip"]] == a["state"]
    assert any(a["state"] is None for a in us) and any(a["zip"] is None for a in us)
    assert all(isinstance(a["revenue"], Decimal) and a["revenue"] >= 0 and a["employees"] >= 0 for a in accounts)
    assert len({a["id"] for a in accounts}) == len(accounts)
    assert 0.01 < sum(a["employees"] >= 1000 for a in accounts) / len(accounts) < 0.10


def test_accounts_are_deterministic_and_lazy():
    assert list(gen.zip_accounts(50, seed=3)) == list(gen.zip_accounts(50, seed=3))
    assert list(gen.zip_accounts(50, seed=3)) != list(gen.zip_accounts(50, seed=4))
    first = list(itertools.islice(gen.zip_accounts(10**12), 5))  # a list this long could never be built
    assert len(first) == 5


def test_accounts_csv_round_trips(tmp_path):
    path = tmp_path / "accounts.csv"
    assert gen.write_accounts_csv(path, 9000, seed=2) == 9000
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == gen.ACCOUNT_COLUMNS
    expected = [["" if v is None else str(v) for v in a.values()] for a in gen.zip_accounts(9000, seed=2)]
    assert rows[1:] == expected


# --- DMN tables ------------------------------------------------------------------

def _volume(box) -> int:
    v = 1
    for lo, hi in box:
        v *= hi - lo + 1
    return v


def _intersects(a, b) -> bool:
    return all(max(x[0], y[0]) <= min(x[1], y[1]) for x, y in zip(a, b))


@pytest.mark.parametrize("rules,fields", [(1, 1), (50, 3), (200, 5), (120, 13)])
def test_clean_dmn_table_tiles_the_domain(rules, fields):
    table = gen.dmn_table(rules, fields, noise=0.10, seed=rules)
    assert len(table.clean) == len(table.rules) == rules
    assert sum(_volume(b) for b in table.clean) == _volume(table.domain)
    assert not any(_intersects(a, b) for a, b in itertools.combinations(table.clean, 2))
    assert len(table.perturbations) == round(0.10 * rules)
    touched = {p.rule for p in table.perturbations}
    assert all((table.rules[i] != table.clean[i]) == (i in touched) for i in range(rules))


def _uncovered(boxes, fields: int) -> bool:
    """Brute force on the compressed grid: is some point of the domain in no box?"""
    lo, hi = gen.DMN_DOMAIN
    cuts = [sorted({lo, hi + 1} | {b[f][0] for b in boxes} | {b[f][1] + 1 for b in boxes}) for f in range(fields)]
    for cell in itertools.product(*(c[:-1] for c in cuts)):
        if not any(all(b[f][0] <= cell[f] <= b[f][1] for f in range(fields)) for b in boxes):
            return True
    return False


@pytest.mark.parametrize("rules,fields,seed", [(40, 2, 0), (40, 2, 1), (14, 3, 2), (30, 3, 3)])
def test_dmn_model_findings_match_brute_force(rules, fields, seed):
    table = gen.dmn_table(rules, fields, noise=0.2, seed=seed)
    result, program = _check(gen.render_dmn_model(table))
    assert len(program.models[0].territories) == rules
    overlaps = {tuple(d.extra["territories"]) for d in result.diagnostics if d.name == "overlap"}
    expected = {(f"r{i + 1}", f"r{j + 1}") for i, j in itertools.combinations(range(rules), 2)
                if _intersects(table.rules[i], table.rules[j])}
    assert overlaps <= expected
    assert len(overlaps) == min(len(expected), MAX_PAIR_FINDINGS)  # check lists at most this many per parent
    gaps = [d for d in result.diagnostics if d.name == "gap"]
    assert bool(gaps) == _uncovered(table.rules, fields)
    assert {d.name for d in result.diagnostics} <= {"overlap", "gap"}


def test_clean_dmn_model_checks_clean_and_is_deterministic():
    text = gen.dmn_model(60, 4, noise=0, seed=5)
    assert text == gen.dmn_model(60, 4, noise=0, seed=5)
    assert text != gen.dmn_model(60, 4, noise=0, seed=6)
    result, _ = _check(text)
    assert result.diagnostics == []


def test_dmn_rows_fit_the_schema():
    rows = list(gen.dmn_rows(100, 3, seed=1))
    assert all(set(r) == {"id", "f1", "f2", "f3"} for r in rows)
    assert all(0 <= r["f2"] <= 999 for r in rows)


# --- command line ----------------------------------------------------------------

def test_cli_zip_model_writes_the_model_and_reports_defects(tmp_path):
    out = tmp_path / "z.terr"
    result = CliRunner().invoke(gen._cli(), ["zip-model", "--leaves", "80", "--defects", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == gen.zip_model(80, defects=2)
    defects = json.loads(result.output)  # the model went to the file: only stderr's report is left
    assert [d["name"] for d in defects] == ["overlap", "gap"]


def test_cli_dmn_boxes_match_the_model(tmp_path):
    out = tmp_path / "t.json"
    result = CliRunner().invoke(gen._cli(), ["dmn-boxes", "--rules", "20", "--fields", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    table = gen.dmn_table(20, 3)
    assert [tuple(map(tuple, b)) for b in data["rules"]] == list(table.rules)
    assert len(data["perturbations"]) == 2


# --- Salesforce-like overlays (issue 14) ----------------------------------------

def test_salesforce_model_checks_without_errors_and_is_deterministic():
    text = gen.salesforce_model(40, seed=2, zips_per_leaf=30, excluded=6)
    result, program = _check(text)
    assert result.ok, [d for d in result.diagnostics if d.severity == "error"][:3]
    model = program.models[0]
    assert "\n  policy all\n" in text and model.name == "SalesforceLike"
    assert text.count("territory ") == 40
    assert "zip not in {" in text and text.count('"') > 40 * 30 * 2
    assert gen.salesforce_model(40, seed=2, zips_per_leaf=30, excluded=6) == text
    assert gen.salesforce_model(40, seed=3, zips_per_leaf=30, excluded=6) != text
    with pytest.raises(ValueError):
        gen.salesforce_model(4)


def test_salesforce_model_prefix_forms_mean_the_same():
    """`--zip-form startswith-or` and `startswith-set` write the same prefixes: the same IR."""
    chain = gen.salesforce_model(24, seed=5, zips_per_leaf=30, excluded=4, zip_form="startswith-or")
    listed = gen.salesforce_model(24, seed=5, zips_per_leaf=30, excluded=4, zip_form="startswith-set")
    assert 'zip startswith "' in chain and "zip startswith {" in listed
    (_, a), (_, b) = _check(chain), _check(listed)
    assert a.models[0].territories == b.models[0].territories
    with pytest.raises(ValueError):
        gen.salesforce_model(24, zip_form="like")


def test_salesforce_model_overlaps_on_purpose_and_the_evaluator_agrees_with_the_reference():
    """Accounts built from the model's own ZIP codes land on several leaves at once (`policy all`),
    and the in-process evaluator gives the reference interpreter's answer on each."""
    import random
    import re

    from terrl.targets.reference import assign_reference

    text = gen.salesforce_model(24, seed=5, zips_per_leaf=12, excluded=4)
    _, program = _check(text)
    model = program.models[0]
    evaluator = compile_model(model)
    zips = sorted(set(re.findall(r'"(\d{5})"', text)))
    rng = random.Random(7)
    region_states = [members for _, (_, members) in gen.CENSUS_REGIONS.items()]
    leaves_hit = []
    for i in range(1500):
        zip_code = rng.choice(zips)  # region r draws its codes from first digits 2r and 2r+1
        state = rng.choice(region_states[int(zip_code[0]) // 2])
        account = {"id": f"a{i}", "country": "US", "state": state, "zip": zip_code,
                   "industry": rng.choice(gen.INDUSTRIES), "employees": rng.choice((5, 150, 300, 2500)),
                   "revenue": Decimal("10")}
        got = evaluator.assign(account)
        expected = assign_reference(model, account)
        assert (got.status, tuple(got.territories)) == expected[:2], account
        leaves_hit.append(len(got.territories))
    assert max(leaves_hit) >= 2  # the overlay really overlaps
    assert min(leaves_hit) == 1  # and some accounts rest on the region only (keep)
