"""Coverage case files: `.terr` programs with the expected findings written inline.

Same format as tests/cases/diagnostics (see tests/test_cases.py): chunks separated by
`---`, and `### CODE: text` on the line where a finding's primary span starts. Every
coverage finding must also carry the JSON fields of the contract and a witness that
reproduces through the meaning of the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terrl.pipeline import check_source

from support import KIND, REPO, assert_expectations, case_chunks, check_witness, from_json, holds

CASES = REPO / "tests" / "cases" / "coverage"


@pytest.mark.parametrize("chunk", list(case_chunks(CASES)))
def test_case(chunk: str, tmp_path: Path) -> None:
    result = check_source(chunk, "case.terr", base=tmp_path)
    assert_expectations(chunk, result.diagnostics, match_region=True)
    models = {m.name: m for m in result.models}
    for d in result.diagnostics:
        if d.code in KIND:
            assert {"model", "territories", "witness", "region"} <= set(d.extra)
            json.dumps(d.extra)  # JSON-ready
            check_witness(models[d.extra["model"]], d)


def test_overlap_witness_avoids_third_siblings_when_it_can(tmp_path: Path) -> None:
    """Explaining an overlap's witness should show that overlap, not a three-way one."""
    source = """
schema A {
  id: string key
  country: enum { CA, US }
  state: enum { AL, CA, NY }?
  zip: digits(2)?
}
model M {
  territory west { where state == CA or country == CA }
  territory bay { where zip startswith "9" }
  territory east { where state in {AL, NY} }
  territory rest { else }
}
"""
    result = check_source(source, "case.terr", base=tmp_path)
    model = result.models[0]
    overlaps = [d for d in result.diagnostics if d.code == "E201"]
    assert {tuple(d.extra["territories"]) for d in overlaps} == {("west", "bay"), ("west", "east"), ("bay", "east")}
    for d in overlaps:
        account = from_json(model, d.extra["witness"])
        matching = {t.path for t in model.territories if not t.is_else and holds(t.where, account, model.schema)}
        assert matching == set(d.extra["territories"]), (d.message, account)


def test_overlap_pairs_beyond_the_cap_are_counted_on_the_first_finding(monkeypatch, tmp_path: Path) -> None:
    from terrl.analysis import coverage

    monkeypatch.setattr(coverage, "MAX_PAIR_FINDINGS", 2)
    text = ("schema A { id: string key  n: int in 0..9 }\n"
            "model M {\n  territory a { where n >= 1 }\n  territory b { where n >= 2 }\n"
            "  territory c { where n >= 3 }\n  territory d { where n >= 4 }\n  territory z { where n == 0 }\n}\n")
    overlaps = [d for d in check_source(text, "m.terr", base=tmp_path).diagnostics if d.code == "E201"]
    assert len(overlaps) == 2  # 6 pairs, 2 listed
    assert all(d.extra["unlisted_overlaps"] == 4 for d in overlaps)
    notes = [[n for n in d.notes if "not listed" in n] for d in overlaps]
    assert notes[0] == ["4 more overlapping pairs under model `M` are not listed (terrl lists 2 per parent)"]
    assert notes[1] == []  # once, on the finding shown first
