"""Inline-expectation case files (tests/cases/*): the shared reader and matcher.

A case file is chunks separated by `---` lines; `### CODE: text` on a line says a
diagnostic with that code starts there and mentions `text` (in its message, notes or
help). Every expected diagnostic must be reported and every reported one expected.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

EXPECT = re.compile(r"###\s*([EW]\d{3})(?::\s*(.*?))?\s*(?=###|$)")


def case_chunks(folder: Path):
    """One pytest param per chunk of every `.terr` file in `folder`, named `file-N`."""
    for path in sorted(folder.glob("*.terr")):
        text = path.read_text(encoding="utf-8")
        for i, chunk in enumerate(re.split(r"^---$\n?", text, flags=re.M)):
            yield pytest.param(chunk, id=f"{path.stem}-{i}")


def assert_expectations(chunk: str, diagnostics, *, match_region: bool = False) -> None:
    """The diagnostics are exactly those the chunk's `###` comments expect."""
    expected = [(lineno, m.group(1), (m.group(2) or "").strip())
                for lineno, line in enumerate(chunk.splitlines(), start=1) for m in EXPECT.finditer(line)]
    actual = [(d.span.start_line_col[0] if d.span else 0, d.code, d) for d in diagnostics]
    unmatched = list(actual)
    missing = []
    for line, code, text in expected:
        for item in unmatched:
            d = item[2]
            blob = " ".join([d.message, *d.notes, d.help or "", (d.extra.get("region") or "") if match_region else ""])
            if item[0] == line and item[1] == code and text in blob:
                unmatched.remove(item)
                break
        else:
            missing.append((line, code, text))
    report = "\n".join(f"  line {l}: {c} {d.message} | notes={d.notes} help={d.help}" for l, c, d in actual)
    assert not missing, f"expected but not reported: {missing}\nreported:\n{report}"
    assert not unmatched, "reported but not expected:\n" + "\n".join(
        f"  line {l}: {c} {d.message}" for l, c, d in unmatched)
