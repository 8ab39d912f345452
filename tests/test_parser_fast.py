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


# --- set literals lowered in one step (`parser._lower_set_literal`) ----------------------

_LIST_PROGRAM = """schema Account {{
  id: string key
  zip: string?
}}
set zips: string = {literal}
model M {{
  territory a {{ where zip in {literal} and zip not in {literal}  owner "x@y" }}
  territory b {{ where zip in ({literal} + {literal}) - {literal} }}
}}
"""

_LIST_CASES = [
    '{"94000", "94001", "94002"}', '{"a"}', "{}", "{ }", '{"a",}', '{"a" , "b" ,\n}', '{\n  "a",\n  "b"\n}',
    '{"a",\t"b"\r\n}', '{"a",\f"b"}', "{CA, NY, TX}", "{CA,NY}", '{"a", CA, 1, -2.5, 1_000, 500M, 1.5K}',
    "{true, false, null}", "{CA, true}", "{null}", "{and, or}", "{in}", "{_a, A1, a_1}",
    '{"a" # a comment\n, "b"}', '{"a", "b"} # after', '{"\\u00e9", "b"}', '{"a\\"b"}', '{"é", "日本"}',
    '{"a"\v, "b"}', '{"a"\xa0, "b"}', '{"a" "b"}', '{"a",, "b"}', '{,}', '{"a"', '{"a",', '{1__0, "a"}',
    '{1__0}', '{1e5}', '{12K5}', '{2027-02-01}', '{"a"}}', '{"\\q"}', '{"\t"}', '{"\\ud800"}', '{-}', "{1.}",
    '{"' + "x" * 50 + '"}', "{" + ", ".join(f'"{i:05d}"' for i in range(500)) + "}",
]


@pytest.mark.parametrize("literal", _LIST_CASES)
def test_fast_driver_matches_lark_on_set_literals(literal: str) -> None:
    _agree(_LIST_PROGRAM.format(literal=literal))
    _agree(f"set s: string = {literal}\n")
    _agree(f"set s: string = {literal}")  # the literal ends the file


def test_plain_set_literals_are_lowered_in_one_step() -> None:
    """The shortcut is taken for plain lists (else the tests above would not exercise it)."""
    tables = parser._tables()
    for literal, values in [('{"94000", "94001",}', ("94000", "94001")), ("{CA, NY}", ("CA", "NY")),
                            ('{ 1, "a" }', (1, "a")), ("{}", ())]:
        text = f"x {literal} y"
        lower = parser._Lower(SourceFile("t.terr", text), [])
        lbrace = parser._Tok("LBRACE", "{", 2, 3)
        result = parser._lower_set_literal(lower, text, lbrace, tables.keywords)
        assert result is not None, literal
        lit, end = result
        assert text[end:] == " y"
        assert (lit.span.start, lit.span.end) == (2, end)
        assert tuple(getattr(v, "value", getattr(v, "name", None)) for v in lit.values) == values
    for literal in ['{"a" # c\n}', '{"a\\n"}', "{true}", '{"a" "b"}', "{,}"]:
        text = f"x {literal} y"
        lower = parser._Lower(SourceFile("t.terr", text), [])
        assert parser._lower_set_literal(lower, text, parser._Tok("LBRACE", "{", 2, 3), tables.keywords) is None


_LIST_VOCAB = ['"a"', '"94000"', '"\\n"', '"é"', "CA", "ny", "true", "null", "and", "0", "-1", "1.5", "500M", "1__0",
               ",", ",", ",", " ", "\n", "\t", "# c\n", "{", "}", "(", "+", "-", ".."]


@given(st.lists(st.sampled_from(_LIST_VOCAB), max_size=12), st.booleans())
def test_fast_driver_matches_lark_on_random_set_literals(words, closed) -> None:
    literal = "{" + " ".join(words) + (" }" if closed else "")
    _agree(_LIST_PROGRAM.format(literal=literal))


def test_direct_slot_construction_matches_the_dataclass_constructors() -> None:
    source = SourceFile("t.terr", "abc")
    for made, expected in [(parser._make_span(source, 1, 2), Span(source, 1, 2)),
                           (parser._string_lit("a", Span(source, 0, 3)), parser.ast.StringLit("a", Span(source, 0, 3))),
                           (parser._member_lit("CA", Span(source, 0, 2)), parser.ast.MemberLit("CA", Span(source, 0, 2))),
                           (parser._make_ident("x", Span(source, 0, 1)), parser.ast.Ident("x", Span(source, 0, 1)))]:
        assert type(made) is type(expected) and _shape(made) == _shape(expected)
        assert made == expected and hash(made) == hash(expected)
        assert not hasattr(type(made), "__post_init__")
    assert parser._make_span(source, 1, 2).file is source


@given(st.lists(st.sampled_from(["(", ")", "{", "}", '"', '"(("', '"\\"("', "\\", "#", "# ((\n", "\n", "x", " "]),
                max_size=40))
def test_the_bracket_prefilter_finds_the_nesting_the_token_scan_finds(pieces) -> None:
    """`_check_nesting` cuts strings and comments out before counting; the token by token
    scan (`_deep_nesting`) is the reference, at a small limit so that both outcomes occur."""
    source = SourceFile("t.terr", "".join(pieces))
    limit = parser.MAX_NESTING
    try:
        parser.MAX_NESTING = 3
        fast, slow = parser._check_nesting(source), parser._deep_nesting(source)
    finally:
        parser.MAX_NESTING = limit
    assert (fast and (fast.code, fast.span.start)) == (slow and (slow.code, slow.span.start))
