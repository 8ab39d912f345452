"""Inline-expectation case files (starlark style).

Each file under tests/cases/diagnostics/ holds small programs separated by lines
`---`. A trailing comment `### CODE: text` on a line says that a diagnostic with that
code starts on that line and that its message, notes or help contain `text`. Every
diagnostic must be expected and every expectation met (tests/support.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from terrl.pipeline import check_source

from support import REPO, assert_expectations, case_chunks

CASES = REPO / "tests" / "cases" / "diagnostics"


@pytest.mark.parametrize("chunk", list(case_chunks(CASES)))
def test_case(chunk: str, tmp_path: Path) -> None:
    assert_expectations(chunk, check_source(chunk, "case.terr", base=tmp_path).diagnostics)
