"""Coverage case files: `.terr` programs with the expected findings written inline.

Same format as tests/cases/diagnostics (see tests/test_cases.py): chunks separated by
`---`, and `### CODE: text` on the line where a finding's primary span starts. Every
coverage finding must also carry the JSON fields of the contract and a witness that
reproduces through the meaning of the model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from terrl.pipeline import check_source

from coverage_support import KIND, check_witness, from_json

CASES = Path(__file__).parent / "cases" / "coverage"
EXPECT = re.compile(r"###\s*([EW]\d{3})(?::\s*(.*?))?\s*(?=###|$)")


def _chunks():
    for path in sorted(CASES.glob("*.terr")):
        text = path.read_text(encoding="utf-8")
        for i, chunk in enumerate(re.split(r"^---$\n?", text, flags=re.M)):
            yield pytest.param(chunk, id=f"{path.stem}-{i}")


@pytest.mark.parametrize("chunk", list(_chunks()))
def test_case(chunk: str, tmp_path: Path) -> None:
    expected = []
    for lineno, line in enumerate(chunk.splitlines(), start=1):
        for m in EXPECT.finditer(line):
            expected.append((lineno, m.group(1), (m.group(2) or "").strip()))
    result = check_source(chunk, "case.terr", base=tmp_path)
    actual = [(d.span.start_line_col[0] if d.span else 0, d.code, d) for d in result.diagnostics]
    unmatched = list(actual)
    missing = []
    for line, code, text in expected:
        for item in unmatched:
            d = item[2]
            blob = " ".join([d.message, *d.notes, d.help or "", d.extra.get("region") or ""])
            if item[0] == line and item[1] == code and text in blob:
                unmatched.remove(item)
                break
        else:
            missing.append((line, code, text))
    report = "\n".join(f"  line {l}: {c} {d.message} | {d.notes}" for l, c, d in actual)
    assert not missing, f"expected but not reported: {missing}\nreported:\n{report}"
    assert not unmatched, "reported but not expected:\n" + report
    models = {m.name: m for m in result.models}
    for d in result.diagnostics:
        if d.code in KIND:
            assert {"model", "territories", "witness", "region"} <= set(d.extra)
            json.dumps(d.extra)  # JSON-ready
            check_witness(models[d.extra["model"]], d)


def test_overlap_witness_avoids_third_siblings_when_it_can(tmp_path: Path) -> None:
    """Explaining an overlap's witness should show that overlap, not a three-way one."""
    from coverage_support import holds
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
    from terrl import coverage

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
