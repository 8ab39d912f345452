"""Inline-expectation case files (starlark style).

Each file under tests/cases/diagnostics/ holds small programs separated by lines
`---`. A trailing comment `### CODE: text` on a line says that a diagnostic with that
code starts on that line and that its message, notes or help contain `text`. Every
diagnostic must be expected and every expectation met.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from terrl.pipeline import check_source

CASES = Path(__file__).parent / "cases" / "diagnostics"
EXPECT = re.compile(r"###\s*([EW]\d{3})(?::\s*(.*?))?\s*(?=###|$)")


def _chunks():
    for path in sorted(CASES.glob("*.terr")):
        text = path.read_text(encoding="utf-8")
        for i, chunk in enumerate(re.split(r"^---$\n?", text, flags=re.M)):
            yield pytest.param(chunk, id=f"{path.stem}-{i}")


@pytest.mark.parametrize("chunk", list(_chunks()))
def test_case(chunk: str, tmp_path: Path) -> None:
    expected: list[tuple[int, str, str]] = []
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
            blob = " ".join([d.message, *d.notes, d.help or ""])
            if item[0] == line and item[1] == code and text in blob:
                unmatched.remove(item)
                break
        else:
            missing.append((line, code, text))
    report = "\n".join(f"  line {l}: {c} {d.message} | notes={d.notes} help={d.help}" for l, c, d in actual)
    assert not missing, f"expected but not reported: {missing}\nreported:\n{report}"
    assert not unmatched, "reported but not expected:\n" + "\n".join(
        f"  line {l}: {c} {d.message}" for l, c, d in unmatched)
