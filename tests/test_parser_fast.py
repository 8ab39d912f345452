"""The parser's fast LALR driver agrees with Lark's own parser loop.

`terrl.syntax.parser` runs Lark's tables with its own loop (`_fast_parse`) and falls back to
Lark (`_lark_parse`) on anything it does not expect. For every input both must give the
same AST, spans and comments included, or the fast driver must give up exactly where
Lark reports a syntax error.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, strategies as st
from lark.exceptions import UnexpectedInput

from terrl.syntax import parser
from terrl.diagnostics.source import SourceFile, Span

from support import REPO, repo_files


def _shape(node):
    """Everything about a node, spans included (AST equality ignores them)."""
    if isinstance(node, Span):
        return ("span", node.start, node.end)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(_shape(getattr(node, f.name)) for f in dataclasses.fields(node))
    if isinstance(node, (tuple, list)):
        return tuple(_shape(x) for x in node)
    return node


def _run(parse, text: str):
    lower = parser._Lower(SourceFile("t.terr", text), [])
    try:
        return "ok", _shape(parse(lower, text))
    except parser._Fallback:
        return "fallback", None
    except UnexpectedInput as exc:
        return "syntax error", type(exc).__name__
    except parser._LiteralError as exc:
        return "literal error", (exc.diagnostic.code, exc.diagnostic.message, exc.diagnostic.span.start)


def _public(lower, text: str):
    return parser._parse_text(lower.source, lower.diagnostics)


def _agree(text: str) -> None:
    fast = _run(parser._fast_parse, text)
    slow = _run(parser._lark_parse, text)
    if slow[0] == "syntax error":
        assert fast[0] in ("fallback", "literal error"), text  # a literal error may come first
    else:
        assert fast == slow, text
    # What callers see: the public parse gives Lark's result.
    assert _run(_public, text) == (slow if fast[0] != "literal error" else fast)


def _sources():
    for path in repo_files("*.terr"):
        text = path.read_text(encoding="utf-8")
        for i, chunk in enumerate(re.split(r"^---$\n?", text, flags=re.M)):
            yield pytest.param(chunk, id=f"{path.relative_to(REPO)}-{i}")


@pytest.mark.parametrize("text", list(_sources()))
def test_fast_driver_matches_lark_on_every_file_in_the_repo(text: str) -> None:
    _agree(text)


@pytest.mark.parametrize("text", list(_sources())[:12])
def test_fast_driver_matches_lark_on_truncated_files(text: str) -> None:
    for cut in range(0, len(text), max(1, len(text) // 40)):
        _agree(text[:cut])


def test_the_fast_driver_is_used() -> None:
    tables, problem = parser._tables_built()
    assert tables is not None, (
        f"the fast LALR driver cannot read this Lark's internals ({problem}); parsing falls back to "
        "Lark's own loop (correct but slower): adapt parser._Tables or the `lark` pin in pyproject.toml")
    text = (REPO / "examples" / "acme" / "acme.terr").read_text(encoding="utf-8")
    assert _run(parser._fast_parse, text)[0] == "ok"


# Words and symbols of the language, soft keywords used as names, and near misses.
_VOCAB = [
    "import", "geo.us", "as", "enum", "set", "segment", "schema", "model", "territory", "test", "where", "else",
    "policy", "unique", "first", "all", "keep", "owner", "meta", "effective", "status", "active", "planning",
    "account", "expect", "unassigned", "invalid", "not", "and", "or", "in", "is", "null", "true", "false",
    "startswith", "for", "key", "bool", "int", "decimal", "string", "digits", "x", "employees", "state", "us.west",
    "firstly", "allx", "_a", "A1", "{", "}", "(", ")", ",", ":", "=", "==", "!=", "<", "<=", ">", ">=", "+", "-",
    "?", ".", "..", "0", "10", "-1", "1.5", "500M", "1_000", "1__0", "2027-02-01", "2027-13-01", '"a"', '"9"',
    '"\\q"', '"', "# c", "## doc", "\n", " ",
]


@given(st.lists(st.sampled_from(_VOCAB), max_size=40))
def test_fast_driver_matches_lark_on_random_token_soup(words) -> None:
    _agree(" ".join(words))


_PROGRAM = """schema Account {
  id: string key
  state: enum { CA, NY, TX }?
  employees: int in 0..
}
segment big = employees >= 1000
model M "Title" {
  policy first
  territory a "A" { where state in {CA, NY} and not big  owner "x@y" as AE }
  territory b { where employees in 10..20 or state is null }
  territory c { else }
}
"""


@given(st.data())
def test_fast_driver_matches_lark_on_edited_programs(data) -> None:
    text = _PROGRAM
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        edit = data.draw(st.sampled_from(["delete", "insert"]))
        if edit == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 8)):]
        else:
            text = text[:at] + " " + data.draw(st.sampled_from(_VOCAB)) + " " + text[at:]
    _agree(text)
