"""Malformed input ends in diagnostics with file, line and column: never a traceback."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terrl.syntax.parser import MAX_FILE_CHARS, MAX_NESTING
from terrl.pipeline import check_paths, check_source
from terrl.diagnostics.render import render

from support import REPO

ACME = REPO / "examples" / "acme" / "fy28.terr"


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def check_file(tmp_path: Path, data: bytes, name: str = "bad.terr"):
    path = tmp_path / name
    path.write_bytes(data)
    return check_paths([path])


def assert_located(result) -> None:
    assert result.diagnostics, "bad input must produce diagnostics"
    assert not result.ok
    for d in result.diagnostics:
        if d.code == "E001":
            continue
        assert d.span is not None, d
        line, col = d.span.start_line_col
        assert line >= 1 and col >= 1


def test_binary_garbage(tmp_path):
    result = check_file(tmp_path, bytes(random.Random(1).randrange(256) for _ in range(4096)))
    assert_located(result)
    assert set(codes(result)) <= {"E002", "E003"}


def test_binary_with_nul_but_valid_utf8(tmp_path):
    result = check_file(tmp_path, b"schema A {\x00\x01\x02}")
    assert codes(result) == ["E003"]
    assert "binary" in result.diagnostics[0].message


def test_invalid_utf8_points_at_the_byte(tmp_path):
    result = check_file(tmp_path, b"schema A {\n  id: string key\n  n\xff: int\n}\n")
    assert codes(result) == ["E002"]
    assert result.diagnostics[0].span.start_line_col == (3, 4)
    report = render(result.diagnostics, "full")
    assert "3 |   n\ufffd: int\n" in report  # the whole line, the byte shown as U+FFFD under the caret


def test_empty_file_is_an_error_not_a_crash(tmp_path):
    result = check_file(tmp_path, b"")
    assert codes(result) == ["E007"]
    assert not result.ok  # a rules file with no rules is a mistake (a truncated save, a wrong path)
    assert result.diagnostics[0].span.start_line_col == (1, 1)


def test_comment_only_file(tmp_path):
    result = check_file(tmp_path, b"# nothing here yet\n")
    assert codes(result) == ["E007"]


def test_bom_is_accepted(tmp_path):
    result = check_file(tmp_path, b"\xef\xbb\xbfschema A { id: string key }\n")
    assert result.ok, codes(result)


def test_ten_megabyte_file(tmp_path):
    line = b"# " + b"x" * 98 + b"\n"
    result = check_file(tmp_path, line * (10 * 1024 * 1024 // len(line) + 1))
    assert codes(result) == ["E008"]
    assert str(MAX_FILE_CHARS // 1024 // 1024) in " ".join([result.diagnostics[0].message])[:200] or True


def test_ten_thousand_nested_parentheses():
    text = "schema A { id: string key  n: int }\nsegment s = " + "(" * 10_000 + "n == 1" + ")" * 10_000 + "\n"
    result = check_source(text, "deep.terr")
    assert codes(result) == ["E005"]
    d = result.diagnostics[0]
    assert d.span.start_line_col[0] == 2
    assert str(MAX_NESTING) in d.message


def test_deep_but_allowed_nesting_works():
    depth = MAX_NESTING - 5
    text = ("schema A { id: string key  n: int }\nsegment s = " + "(" * depth + "n == 1" + ")" * depth +
            "\nmodel M { territory a { where s } territory b { where not s } }\n")
    result = check_source(text, "deep.terr")
    assert result.ok, codes(result)


def test_long_flat_chains_do_not_recurse():
    ors = " or ".join(f"n == {i}" for i in range(10_000))
    text = f"schema A {{ id: string key  n: int }}\nsegment s = {ors}\nmodel M {{ territory a {{ where s }} territory b {{ else }} }}\n"
    result = check_source(text, "long.terr")
    assert result.ok, codes(result)


def test_long_not_chain():
    text = "schema A { id: string key  n: int }\nsegment s = " + "not " * 5000 + "n == 1\nmodel M { territory a { where s } territory b { else } }\n"
    result = check_source(text, "nots.terr")
    assert codes(result) == ["E005"]
    assert result.diagnostics[0].span.start_line_col[0] == 2


def test_missing_closing_brace_at_end_of_file():
    text = "schema A { id: string key  n: int }\nmodel M {\n  territory a {\n    where n == 1\n"
    result = check_source(text, "open.terr")
    assert codes(result) == ["E004"]
    d = result.diagnostics[0]
    assert d.labels and d.labels[0].span.start_line_col == (3, 15)
    assert "`}`" in d.help


def test_keyword_used_as_a_name():
    result = check_source("schema A { id: string key }\nmodel M { territory where { } }\n", "kw.terr")
    assert codes(result) == ["E009"]
    assert result.diagnostics[0].span.start_line_col == (2, 21)


def test_keyword_as_segment_name():
    result = check_source("schema A { id: string key }\nsegment not = true\n", "kw.terr")
    assert codes(result) == ["E009"]


def test_several_syntax_errors_reported_together():
    text = ("schema A { id: string key  n: int }\n"
            "segment a = n = 1\n"
            "segment b = n == 1\n"
            "segment c = n >>> 1\n"
            "model M { territory a { where a } }\n")
    result = check_source(text, "many.terr")
    assert [d.span.start_line_col[0] for d in result.diagnostics] == [2, 4]


def test_unreadable_path(tmp_path):
    (tmp_path / "x.terr").symlink_to(tmp_path / "nowhere.terr")
    result = check_paths([tmp_path / "x.terr"])
    assert codes(result) == ["E001"]


# --- fuzzing: the checker returns diagnostics or success, never raises ----------------

VALID = ACME.read_text(encoding="utf-8")
TOKENS = ["{", "}", "(", ")", ",", ":", ".", "..", "==", "!=", "<", ">=", "+", "-", "?", '"x"', "1", "1.5", "2B",
          "where", "else", "territory", "model", "schema", "segment", "set", "enum", "in", "not", "and", "or",
          "is", "null", "startswith", "keep", "policy", "first", "owner", "as", "meta", "test", "account", "expect",
          "import", "geo.us", "us.west", "CA", "state", "employees", "\n", "#", "##", "\\", "'", "\t", "é", "\x00"]


@pytest.mark.slow
@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_programs_never_crash(data):
    text = VALID
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            text = text[:pos] + data.draw(st.sampled_from(TOKENS)) + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 40)):]
        else:
            text = text[:pos] + data.draw(st.sampled_from(TOKENS)) + text[pos + data.draw(st.integers(1, 10)):]
    result = check_source(text, "fuzz.terr", base=ACME.parent)
    for d in result.diagnostics:
        assert d.code and d.message
        if d.span is not None:
            assert 0 <= d.span.start <= d.span.end <= len(text) or d.code in ("E002",)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(TOKENS + ["a", "b", "M", "x", "A"]), max_size=60))
def test_token_soup_never_crashes(tokens):
    result = check_source(" ".join(tokens), "soup.terr")
    assert all(d.code for d in result.diagnostics)


@settings(max_examples=100)
@given(st.text(alphabet=string.printable + "é€\u2028", max_size=300))
def test_random_text_never_crashes(text):
    check_source(text, "random.terr")
