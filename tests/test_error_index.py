"""The error index (docs/errors.md): every registered code has a worked example and a fix,
each example really produces its code (and only it), and each corrected file is clean.

The examples live in docs/error_examples.py; docs/generate.py runs terrl on them to
write the page, and these tests run the same examples through the same functions.
"""

from __future__ import annotations

import importlib.util
import re

import pytest

import terrl.analysis.lint  # noqa: F401  (registers nothing today, but the page documents its rules)
from terrl.diagnostics.core import CODES

from support import REPO

# Codes no `.terr` file triggers; their entries say how they arise instead of showing a snippet.
NOT_FROM_A_FILE = {
    "E901": "an internal failure of the coverage analysis, i.e. a bug in terrl",
}


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", REPO / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = _generator()
EXAMPLES = GENERATE.load_examples().EXAMPLES
BY_CODE = {e.code: e for e in EXAMPLES}
TRIGGERED = [e for e in EXAMPLES if e.source is not None or e.arrange is not None]


def test_every_registered_code_has_exactly_one_entry():
    codes = [e.code for e in EXAMPLES]
    assert len(codes) == len(set(codes)), "a code has two entries"
    assert sorted(codes) == sorted(CODES), "entries and the registry differ"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.code)
def test_entry_has_a_fix_and_either_an_example_or_how_it_arises(example):
    assert example.fix.strip() and not example.fix.endswith("."), "one line; the page adds the full stop"
    if example.source is None and example.arrange is None:
        assert example.code in NOT_FROM_A_FILE, f"{example.code} needs an example that triggers it"
        assert example.arises.strip(), "say how the code arises"
    else:
        assert example.code not in NOT_FROM_A_FILE
    assert example.command in ("check", "test")


@pytest.mark.parametrize("example", [e for e in EXAMPLES if isinstance(e.shown or e.source, str)], ids=lambda e: e.code)
def test_snippets_are_short(example):
    for text in (example.shown or example.source, example.fixed):
        if text is not None:
            assert 3 <= len(text.splitlines()) <= 12, text


@pytest.mark.parametrize("example", TRIGGERED, ids=lambda e: e.code)
def test_example_produces_exactly_its_code(example):
    codes = GENERATE.reported_codes(example)
    assert codes and set(codes) == {example.code}, codes


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.fixed is not None], ids=lambda e: e.code)
def test_fixed_example_is_clean(example):
    """A fix that trades one finding for another is no fix: the corrected file reports nothing,
    but notes: a fix that settles an overlap by `policy first` is told what the order decides (N201)."""
    codes = GENERATE.reported_codes(example, fixed=True)
    assert [c for c in codes if CODES[c].severity != "note"] == [], codes
    if example.code in ("E201", "E203"):
        assert codes == ["N201"], codes  # the order now decides, and says so


def test_codes_no_file_triggers_are_really_not_reported_from_input():
    """E901 (an internal limit of the analysis) is emitted in one place only, which no example reaches."""
    sources = {p: p.read_text(encoding="utf-8") for p in (REPO / "terrl").rglob("*.py") if p.name != "core.py"}
    assert [p.name for p, text in sources.items() if '"E901"' in text] == ["coverage.py"]


def test_example_that_fails_a_test_is_reported_by_terrl_test():
    """E401 comes from `terrl test`, not `terrl check`: its example must say so and fail there."""
    example = BY_CODE["E401"]
    assert example.command == "test"
    output = GENERATE.example_output(example)
    assert "FAIL territories.terr:8" in output and "0 passed, 1 failed" in output and "(exit status 1)" in output


def _section(text: str, code: str) -> str:
    start = text.index(f'<a id="{code.lower()}"></a>')
    following = text.find('<a id="', start + 1)
    return text[start:following if following != -1 else len(text)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.code)
def test_page_shows_the_example_terrls_output_and_the_fix(example):
    section = _section((REPO / "docs" / "errors.md").read_text(encoding="utf-8"), example.code)
    assert f"**Fix:** {example.fix}." in section
    if example.fixed is not None:
        assert example.fixed in section
    if example in TRIGGERED:
        shown = example.shown or example.source
        if shown is not None:
            assert shown in section
        output = re.search(r"```text\n\$ terrl (\w+) .*?```", section, re.S)
        assert output and output.group(1) == example.command
        if example.command == "check":
            assert f"[{example.code}]:" in output.group(0)
    else:
        assert f"**How it arises.** {example.arises}" in section and "```text" not in section


def test_page_holds_no_invisible_bidi_characters():
    """W307's example carries one; the page shows it as `<U+202E>`, never the character itself."""
    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", text)
