"""`terrl fmt`: golden cases, idempotence, AST equality, a round-trip property, the CLI.

Golden cases live in tests/cases/fmt/*.terr: the input, then a line `# --- output ---`,
then the expected output. `TERRL_UPDATE_GOLDEN=1 python -m pytest tests/test_fmt.py`
rewrites the expected part (review the diff). Every case also checks that formatting
the output changes nothing and that input and output parse to equal trees with the
same comments in the same order.
"""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from terrl.syntax import ast
from terrl.syntax.fmt import format_module, format_source, verify
from terrl.syntax.parser import RESERVED, parse
from terrl.diagnostics.source import SourceFile

from support import REPO, check_golden, make_project, run_cli

CASES = REPO / "tests" / "cases" / "fmt"
MARKER = "# --- output ---\n"


def _cases():
    return [pytest.param(p, id=p.stem) for p in sorted(CASES.glob("*.terr"))]


def _parse(text: str, path: str = "case.terr") -> ast.Module:
    module, diagnostics = parse(SourceFile(path, text))
    assert module is not None and not any(d.is_error for d in diagnostics), [d.message for d in diagnostics]
    return module


@pytest.mark.parametrize("path", _cases())
def test_golden(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    source_text = text.partition(MARKER)[0]
    result = format_source(SourceFile(path.name, source_text))
    assert result.internal_error is None and result.text is not None, result
    check_golden(path, source_text + MARKER + result.text)
    # same meaning, same comments
    before, after = _parse(source_text), _parse(result.text)
    assert before == after
    assert [c.text.rstrip() for c in before.comments] == [c.text.rstrip() for c in after.comments]
    # idempotent
    again = format_source(SourceFile(path.name, result.text))
    assert again.text == result.text


def test_examples_and_stdlib_are_formatted() -> None:
    result = run_cli(["fmt", "--check", "--no-config", str(REPO / "examples"), str(REPO / "stdlib")])
    assert result.exit_code == 0, result.output


def test_comment_positions() -> None:
    text = (CASES / "comments.terr").read_text(encoding="utf-8").partition(MARKER)[0]
    out = format_source(SourceFile("c.terr", text)).text
    lines = out.splitlines()
    assert "import geo.us     # trailing on an import" in lines  # aligned with the next import's comment
    assert "schema Account {  # on the schema's brace line" in lines
    assert "  CA,  # California" in lines
    assert "}  # after the brace" in lines
    assert "  territory b { where not big }  # after b" in lines
    # a comment inside a one-line predicate stays after its token; the rest continues below
    at = lines.index("    where state in  # after `in`: the line breaks here")
    assert lines[at + 1] == "      us.west"
    # the doc comment still documents the schema and the field
    module = _parse(out)
    schema = next(d for d in module.decls if isinstance(d, ast.SchemaDecl))
    assert schema.doc == "Doc of the schema."
    assert schema.fields[1].doc == "doc of a field"
    assert module.doc == "The module's doc comment."


def test_blank_lines_are_kept_once_inside_bodies_and_forced_between_declarations() -> None:
    text = "segment a = true\nsegment b = false\nmodel M {\n\n\n  territory x { else }\n\n\n\n  territory y {}\n}\n"
    out = format_source(SourceFile("b.terr", text)).text
    assert out == ("segment a = true\n\nsegment b = false\n\nmodel M {\n  territory x { else }\n\n"
                   "  territory y {}\n}\n")


def test_a_blank_line_that_ends_a_doc_block_is_kept() -> None:
    text = "## not a doc of a\n\n## doc of a\nsegment a = true\n"
    out = format_source(SourceFile("d.terr", text)).text
    assert out == text
    assert _parse(out).decls[0].doc == "doc of a"


def test_syntax_error_gives_diagnostics_and_no_text() -> None:
    result = format_source(SourceFile("bad.terr", "model M { territory a { where x == } }\n"))
    assert result.text is None and result.internal_error is None
    assert [d.code for d in result.diagnostics] == ["E003"]


def test_verify_catches_a_changed_meaning() -> None:
    module = _parse("segment a = (x == 1 or y == 2) and z == 3\n")
    assert verify(module, "segment a = (x == 1 or y == 2) and z == 3\n") is None
    assert "different tree" in verify(module, "segment a = x == 1 or y == 2 and z == 3\n")
    assert "does not parse" in verify(module, "segment a = \n")
    with_comment = _parse("segment a = true  # why\n")
    assert "comment" in verify(with_comment, "segment a = true\n")


def test_a_formatter_bug_is_an_internal_error_and_nothing_is_written(tmp_path, monkeypatch) -> None:
    import terrl.syntax.fmt as fmt_module

    target = tmp_path / "a.terr"
    target.write_text("segment a = x == 1\n", encoding="utf-8")
    monkeypatch.setattr(fmt_module, "pred_parts", lambda p: ["true"])  # a formatter that drops the predicate
    result = run_cli(["fmt", "--no-config", str(target)])
    assert result.exit_code == 3
    assert "internal error" in result.output
    assert target.read_text(encoding="utf-8") == "segment a = x == 1\n"


# --- property: every comment stays after the same token ----------------------------------
#
# A small lexer of `.terr` tokens (comments included). Formatting moves only whitespace and
# commas, so the code tokens other than `,` are the same sequence before and after; each
# comment must follow the same code token, stay a trailing comment (on that token's line)
# or an own-line comment as it was.

_TOKEN = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|\d{4}-\d{2}-\d{2}|-?[0-9][0-9_]*(?:\.[0-9][0-9_]*)?[KMB]?'
                    r'|[A-Z]{2}-[A-Z0-9]{1,3}(?![\w-])'  # an ISO 3166-2 code is one token (`US-CA`)
                    r'|[A-Za-z_][A-Za-z0-9_]*|\.\.|==|!=|<=|>=|\S')


def _tokens(text: str) -> list[tuple[str, int]]:
    """(token, line number) for every token."""
    return [(m.group(), text.count("\n", 0, m.start())) for m in _TOKEN.finditer(text)]


def _comment_places(text: str):
    """The code tokens (no commas) and, per comment: (text, index of the code token before it, own line)."""
    code, places, last_line = [], [], -1
    for token, line in _tokens(text):
        if token.startswith("#"):
            places.append((token.rstrip(), len(code) - 1, last_line != line))
            continue
        if token != ",":  # commas move; a comment after a comma alone on its line is an own-line one
            code.append((token, line))
            last_line = line
    return [t for t, _ in code], places, code


def _assert_comments_stay(source_text: str) -> str:
    result = format_source(SourceFile("c.terr", source_text))
    assert result.internal_error is None and result.text is not None, (result, source_text)
    before_code, before, _ = _comment_places(source_text)
    after_code, after, code_lines = _comment_places(result.text)
    assert after_code == before_code
    assert after == before, result.text
    # a trailing comment is on the line of the token before it
    for (text, index, own), (_, line) in zip(after, _comment_lines(result.text)):
        if not own:
            assert code_lines[index][1] == line, (text, result.text)
    assert format_source(SourceFile("c.terr", result.text)).text == result.text  # idempotent
    return result.text


def _comment_lines(text: str):
    return [(token, line) for token, line in _tokens(text) if token.startswith("#")]


def _with_comments(text: str, gaps: dict[int, bool]) -> str:
    """`text` with a comment after the n-th token for each n in `gaps` (True: on its own line)."""
    spans = [m.span() for m in _TOKEN.finditer(text)]
    out, at = [], 0
    for n, (start, end) in enumerate(spans):
        if n in gaps:
            out.append(text[at:end])
            own_line = gaps[n] or text[start] == "#"  # nothing can follow a comment on its line
            out.append(f"\n# c{n}\n" if own_line else f"  # c{n}\n")
            at = end
    out.append(text[at:])
    return "".join(out)


def _corpus() -> dict[str, str]:
    texts = {p.stem: p.read_text(encoding="utf-8").partition(MARKER)[0] for p in sorted(CASES.glob("*.terr"))}
    texts.update({p.name: p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").rglob("*.terr"))})
    return texts


@pytest.mark.parametrize("name", sorted(_corpus()))
@pytest.mark.parametrize("own_line", [False, True], ids=["trailing", "own-line"])
def test_a_comment_after_every_token_stays_after_it(name: str, own_line: bool) -> None:
    text = _corpus()[name]
    count = len([t for t, _ in _tokens(text)])
    _assert_comments_stay(_with_comments(text, {n: own_line for n in range(count)}))


@given(st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_comments_at_random_places_stay_after_their_token(data) -> None:
    corpus = _corpus()
    text = corpus[data.draw(st.sampled_from(sorted(corpus)))]
    count = len(_tokens(text))
    gaps = data.draw(st.dictionaries(st.integers(0, count - 1), st.booleans(), min_size=1, max_size=8))
    _assert_comments_stay(_with_comments(text, gaps))


def test_the_reviewers_trailing_comments() -> None:
    out = format_source(SourceFile("a.terr", "schema A {   id: string key # trailing\n  x: int }\n")).text
    assert out == "schema A {\n  id: string key  # trailing\n  x:  int\n}\n"
    out = format_source(SourceFile("m.terr", 'model M { territory a { where x == 1 owner "a" # after owner\n } }\n')).text
    assert out == 'model M {\n  territory a {\n    where x == 1\n    owner "a"  # after owner\n  }\n}\n'


# --- property: format(parse(random program)) parses to the same tree --------------------

_names = st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(lambda s: s not in RESERVED and s not in {
    "bool", "int", "decimal", "string", "digits", "enum", "unique", "first", "all", "planning", "active", "archived",
    "unassigned", "invalid", "startswith", "key"})
_idents = _names.map(ast.Ident)
_qual = st.lists(_idents, min_size=1, max_size=3).map(lambda parts: ast.QualName(tuple(parts)))


def _number(draw_int, suffix, decimals):
    text = str(draw_int) + (f".{decimals}" if decimals is not None else "") + suffix
    factor = {"": 1, "K": 1000, "M": 10**6, "B": 10**9}[suffix]
    return ast.NumberLit(Decimal(text.rstrip("KMB")) * factor, text)


_numbers = st.builds(_number, st.integers(-10**6, 10**6), st.sampled_from(["", "K", "M", "B"]),
                     st.one_of(st.none(), st.integers(0, 999)))
_strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).map(ast.StringLit)
_values = st.one_of(_numbers, _strings, st.booleans().map(ast.BoolLit), st.just(ast.NullLit()),
                    _names.map(ast.MemberLit))
_literal_sets = st.lists(_values, max_size=5).map(lambda vs: ast.SetLiteral(tuple(vs)))
_set_exprs = st.recursive(
    st.one_of(_literal_sets, _qual.map(ast.SetRef)),
    lambda inner: st.one_of(
        st.builds(ast.SetOp, st.sampled_from(["+", "-"]), inner, st.one_of(_literal_sets, _qual.map(ast.SetRef))),
        inner.map(ast.SetParen)),
    max_leaves=4)
_ranges = st.one_of(
    st.builds(ast.RangeExpr, st.one_of(st.none(), _numbers), st.one_of(st.none(), _numbers)),
    st.builds(ast.RangeExpr, _strings, _strings))
_atoms = st.one_of(
    st.builds(ast.Comparison, _idents, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _values),
    st.builds(ast.InSetPred, _idents, st.booleans(), _set_exprs),
    st.builds(ast.InRangePred, _idents, st.booleans(), _ranges),
    st.builds(ast.StartsWithPred, _idents, _strings),
    st.builds(ast.StartsWithPred, _idents, st.lists(_strings, max_size=5).map(lambda vs: ast.SetLiteral(tuple(vs)))),
    st.builds(ast.NullPred, _idents, st.booleans()),
    st.booleans().map(ast.BoolPred),
    _qual.map(ast.SegmentRef))


def _preds(max_leaves=8):
    """Predicates the parser can produce: `and` inside `or`, parentheses where needed."""
    def extend(inner):
        unary = st.one_of(_atoms, inner.map(ast.ParenPred))
        negated = unary.map(ast.NotPred)
        conj_operand = st.one_of(unary, negated)
        conj = st.lists(conj_operand, min_size=2, max_size=3).map(lambda ops: ast.AndPred(tuple(ops)))
        disj_operand = st.one_of(conj_operand, conj)
        disj = st.lists(disj_operand, min_size=2, max_size=3).map(lambda ops: ast.OrPred(tuple(ops)))
        return st.one_of(unary, negated, conj, disj)
    return st.recursive(_atoms, extend, max_leaves=max_leaves)


_types = st.builds(
    ast.TypeExpr,
    st.one_of(st.sampled_from(["bool", "int", "decimal", "string"]).map(ast.SimpleType),
              st.integers(1, 9).map(lambda n: ast.DigitsType(ast.NumberLit(Decimal(n), str(n)))),
              st.lists(st.builds(ast.EnumMember, _idents, st.one_of(st.none(), _strings)), min_size=1, max_size=4)
              .map(lambda ms: ast.InlineEnum(tuple(ms))),
              _qual.map(ast.NamedType)),
    st.booleans(), st.one_of(st.none(), _ranges))


def _territories(depth):
    leaf_items = st.one_of(
        _preds(4).map(ast.WhereItem), st.just(ast.ElseItem()), st.sampled_from(["unique", "first", "all"]).map(ast.PolicyItem),
        st.just(ast.KeepItem()), st.builds(ast.OwnerItem, _strings, st.one_of(st.none(), _idents)),
        st.lists(st.builds(ast.MetaEntry, _idents, _values), max_size=3).map(lambda es: ast.MetaItem(tuple(es))))
    items = leaf_items if depth == 0 else st.one_of(leaf_items, _territories(depth - 1))
    return st.builds(ast.TerritoryDecl, _idents, st.one_of(st.none(), _strings),
                     st.lists(items, max_size=4).map(tuple))


_decls = st.one_of(
    st.builds(ast.ImportDecl, _qual, st.none(), st.one_of(st.none(), _idents)),
    st.builds(ast.ImportDecl, st.none(), _strings, st.one_of(st.none(), _idents)),
    st.builds(ast.EnumDecl, _idents, st.lists(st.builds(ast.EnumMember, _idents, st.one_of(st.none(), _strings)),
                                               max_size=5).map(tuple)),
    st.builds(ast.SetDecl, _idents, _types, _set_exprs),
    st.builds(ast.SegmentDecl, _idents, _preds()),
    st.builds(ast.SchemaDecl, _idents, st.lists(st.builds(ast.FieldDecl, _idents, _types, st.booleans()),
                                                 max_size=4).map(tuple)),
    st.builds(ast.ModelDecl, _idents, st.one_of(st.none(), _strings), st.one_of(st.none(), _qual),
              st.lists(_territories(2), max_size=3).map(tuple)),
    st.builds(ast.TestDecl, _strings, st.lists(st.one_of(
        st.lists(st.builds(ast.AccountEntry, _idents, _values), max_size=4).map(lambda es: ast.AccountItem(tuple(es))),
        st.builds(ast.ExpectItem, _qual, st.one_of(_qual, st.sampled_from(["unassigned", "invalid"])))),
        max_size=3).map(tuple)))


@given(st.lists(_decls, min_size=1, max_size=5), st.sampled_from([100, 24]))
def test_format_of_a_random_tree_parses_back_to_it(decls, width) -> None:
    # width 24 makes most lists and predicates too long: exploded layouts get the same checks
    module = ast.Module(tuple(decls))
    text = format_module(module, line_length=width)
    again, diagnostics = parse(SourceFile("random.terr", text))
    assert again is not None, [d.message for d in diagnostics]
    assert not any(d.is_error for d in diagnostics), (text, [d.message for d in diagnostics])
    assert again.decls == module.decls, text
    # and formatting the parsed text (now with spans) is a fixed point
    assert format_source(SourceFile("random.terr", text), line_length=width).text == text


# --- long lists: one line when the line fits, else one element per line ---------------------

def _fmt(text: str, width: int = 100) -> str:
    result = format_source(SourceFile("l.terr", text), line_length=width)
    assert result.internal_error is None and result.text is not None, result
    assert format_source(SourceFile("l.terr", result.text), line_length=width).text == result.text
    return result.text


def test_a_list_that_fits_exactly_stays_on_one_line() -> None:
    values = ", ".join(f'"{i:03d}"' for i in range(11))  # `set s: string = {...}` is 100 columns
    line = f"set s: string = {{{values}}}"
    pad = 100 - len(line)
    line = line.replace('"000"', '"' + "0" * (3 + pad) + '"')
    assert len(line) == 100
    assert _fmt(line + "\n") == line + "\n"
    longer = line.replace('"001"', '"0010"')
    assert _fmt(longer + "\n").splitlines()[1:3] == ['  "' + "0" * (3 + pad) + '",', '  "0010",']


@pytest.mark.parametrize("where", [
    "id in {LIST}",
    "id not in {LIST} and state is not null",
    "state is null or not (id in {LIST})",
    "id in us.west + {LIST}",
])
def test_a_where_list_of_60_values_is_one_value_per_line_wherever_it_sits(where) -> None:
    values = [f'"ID{i:05d}"' for i in range(60)]
    text = f"model M {{ territory t {{ where {where.replace('LIST', ', '.join(values))} }} }}\n"
    out = _fmt(text)
    assert max(len(line) for line in out.splitlines()) <= 100, out
    for value in values:
        assert f"{value}," in [line.strip() for line in out.splitlines()]


@pytest.mark.parametrize("text, head", [
    ("enum E { LIST }", "enum E {"),
    ("schema A { id: string key  e: enum { LIST }? }", "e:  enum {"),
    ("model M { territory t { meta { LIST } } }", "meta {"),
    ('test "t" { account { LIST } expect M: t }', "account {"),
    ("set s: string = {LIST} - {\"short\"}", "set s: string = {"),
])
def test_every_kind_of_brace_list_is_split_when_long(text, head) -> None:
    if "meta" in text or "account" in text:
        elements = [f"field_{i}: \"value number {i}\"" for i in range(12)]
    elif "set" in text:
        elements = [f"\"value number {i}\"" for i in range(12)]
    else:
        elements = [f"member_{i}" for i in range(20)]
    out = _fmt(text.replace("LIST", ", ".join(elements)) + "\n")
    lines = [line.strip() for line in out.splitlines()]
    assert head in lines, out
    assert [line for line in lines if line.rstrip(",") in elements] == [e + "," for e in elements], out
    assert max(len(line) for line in out.splitlines()) <= 100, out
    if "short" in text:  # only the list that does not fit is split
        assert '} - {"short"}' in lines


# --- long chains: broken at every depth, so no line is over the width ---------------------

def _chain(word: str, atoms: list[str]) -> str:
    return f" {word} ".join(atoms)


@pytest.mark.parametrize("where", [
    "n > 5 and (CHAIN) and not (CHAIN)",  # chains inside parentheses, one of them negated
    "(n > 5 and (CHAIN)) or m == 1",  # two levels down
    "CHAIN",  # the top level, as before
    'zip startswith {PREFIXES} and (CHAIN)',
])
def test_a_long_chain_at_any_depth_is_broken_one_operand_per_line(where) -> None:
    atoms = [f'zip startswith "{900 + i}"' for i in range(30)]
    prefixes = ", ".join(f'"{900 + i}"' for i in range(30))
    text = f"model M {{ territory t {{ where {where.replace('CHAIN', _chain('or', atoms)).replace('PREFIXES', prefixes)} }} }}\n"
    out = _fmt(text)
    assert max(len(line) for line in out.splitlines()) <= 100, out
    lines = [line.strip() for line in out.splitlines()]
    for atom in atoms[1:]:
        assert f"or {atom}" in lines, out


def test_a_parenthesized_chain_opens_and_closes_on_its_own_lines() -> None:
    atoms = [f'name == "{"x" * 20}{i}"' for i in range(5)]
    text = f"model M {{ territory t {{ where n > 5 and not ({_chain('or', atoms)}) }} }}\n"
    lines = _fmt(text).splitlines()
    start = lines.index("    where n > 5")
    assert lines[start:start + 8] == [
        "    where n > 5",
        "      and not (",
        f"        {atoms[0]}",
        *[f"        or {a}" for a in atoms[1:]],
        "      )",
    ]


def test_a_chain_that_fits_stays_on_one_line_inside_a_broken_one() -> None:
    short = '(zip startswith "1" or zip startswith "2")'
    long = " and ".join([f'name != "{"y" * 30}{i}"' for i in range(3)])
    out = _fmt(f"model M {{ territory t {{ where {long} and {short} }} }}\n")
    assert f"      and {short}" in out.splitlines(), out


_short_fields = st.sampled_from(["a", "zip", "name"]).map(ast.Ident)
_short_strings = st.text("0123456789", min_size=1, max_size=4).map(ast.StringLit)
_short_atoms = st.one_of(
    st.builds(ast.Comparison, _short_fields, st.sampled_from(["==", "!=", "<"]), _short_strings),
    st.builds(ast.StartsWithPred, _short_fields, _short_strings),
    st.builds(ast.StartsWithPred, _short_fields, st.lists(_short_strings, min_size=1, max_size=12)
              .map(lambda vs: ast.SetLiteral(tuple(vs)))),
    st.builds(ast.InSetPred, _short_fields, st.booleans(), st.lists(_short_strings, max_size=12)
              .map(lambda vs: ast.SetLiteral(tuple(vs)))))


def _short_preds():
    def extend(inner):
        unary = st.one_of(_short_atoms, inner.map(ast.ParenPred))
        conj_operand = st.one_of(unary, unary.map(ast.NotPred))
        conj = st.lists(conj_operand, min_size=2, max_size=6).map(lambda ops: ast.AndPred(tuple(ops)))
        disj = st.lists(st.one_of(conj_operand, conj), min_size=2, max_size=6).map(lambda ops: ast.OrPred(tuple(ops)))
        return st.one_of(unary, conj, disj)
    return st.recursive(_short_atoms, extend, max_leaves=30)


@given(_short_preds(), st.sampled_from([40, 60]))
def test_no_line_is_longer_than_the_width_when_every_atom_fits(pred, width) -> None:
    # atoms of at most 20 characters: nesting (two columns a level) never pushes one past 40
    module = ast.Module((ast.ModelDecl(ast.Ident("M"), None, None, (
        ast.TerritoryDecl(ast.Ident("t"), None, (ast.WhereItem(pred),)),)),))
    text = format_module(module, line_length=width)
    assert max(len(line) for line in text.splitlines()) <= width, text
    assert format_source(SourceFile("short.terr", text), line_length=width).text == text


# --- the command line ----------------------------------------------------------------------

UGLY = "segment  a=x==1\n"
PRETTY = "segment a = x == 1\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, {"ugly.terr": UGLY, "pretty.terr": PRETTY}, monkeypatch=monkeypatch)


def test_fmt_rewrites_files_in_place(project) -> None:
    result = run_cli(["fmt", "."])
    assert result.exit_code == 0, result.output
    assert (project / "ugly.terr").read_text(encoding="utf-8") == PRETTY
    assert "1 file reformatted, 1 file already formatted" in result.output


def test_fmt_default_path_is_the_current_directory(project) -> None:
    assert run_cli(["fmt"]).exit_code == 0
    assert (project / "ugly.terr").read_text(encoding="utf-8") == PRETTY


def test_check_lists_files_and_exits_1_without_writing(project) -> None:
    result = run_cli(["fmt", "--check", "ugly.terr", "pretty.terr"])
    assert result.exit_code == 1
    assert "would reformat ugly.terr" in result.output and "pretty.terr" not in result.output.split("\n")[0]
    assert (project / "ugly.terr").read_text(encoding="utf-8") == UGLY


def test_check_exits_0_when_formatted(project) -> None:
    assert run_cli(["fmt", "--check", "pretty.terr"]).exit_code == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(project) -> None:
    result = run_cli(["fmt", "--diff", "ugly.terr"])
    assert result.exit_code == 1
    assert "--- ugly.terr (original)" in result.output and "-segment  a=x==1" in result.output
    assert "+segment a = x == 1" in result.output
    assert (project / "ugly.terr").read_text(encoding="utf-8") == UGLY
    assert run_cli(["fmt", "--diff", "pretty.terr"]).exit_code == 0


def test_a_bom_counts_as_a_change_and_crlf_is_kept(project) -> None:
    (project / "crlf.terr").write_bytes(b"\xef\xbb\xbfsegment a = x == 1\r\n")
    assert run_cli(["fmt", "--check", "crlf.terr"]).exit_code == 1
    assert run_cli(["fmt", "crlf.terr"]).exit_code == 0
    assert (project / "crlf.terr").read_bytes() == PRETTY.replace("\n", "\r\n").encode()


CRLF_SOURCE = "## The schema.\r\nschema A { id: string key  x: int }\r\n\r\n\r\n# why\r\nsegment  a=x==1   # trailing\r\n"
CRLF_PRETTY = "## The schema.\r\nschema A {\r\n  id: string key\r\n  x:  int\r\n}\r\n\r\n# why\r\nsegment a = x == 1  # trailing\r\n"


def test_crlf_files_stay_crlf(project) -> None:
    (project / "win.terr").write_bytes(CRLF_SOURCE.encode())
    assert run_cli(["fmt", "--check", "win.terr"]).exit_code == 1
    assert run_cli(["fmt", "win.terr"]).exit_code == 0
    assert (project / "win.terr").read_bytes() == CRLF_PRETTY.encode()
    # a correctly formatted CRLF file is formatted: --check and --diff leave it alone
    result = run_cli(["fmt", "--check", "win.terr"])
    assert result.exit_code == 0 and "1 file already formatted" in result.stderr
    assert run_cli(["fmt", "--diff", "win.terr"]).exit_code == 0


def test_crlf_layout_equals_the_lf_layout_line_for_line() -> None:
    crlf = format_source(SourceFile("win.terr", CRLF_SOURCE))
    lf = format_source(SourceFile("unix.terr", CRLF_SOURCE.replace("\r\n", "\n")))
    assert crlf.internal_error is None and lf.internal_error is None
    assert crlf.text == CRLF_PRETTY and lf.text == CRLF_PRETTY.replace("\r\n", "\n")


@pytest.mark.parametrize("path", _cases())
def test_golden_cases_in_crlf(path: Path) -> None:
    source_text, _, expected = path.read_text(encoding="utf-8").partition(MARKER)
    result = format_source(SourceFile(path.name, source_text.replace("\n", "\r\n")))
    assert result.internal_error is None, result.internal_error
    assert result.text == expected.replace("\n", "\r\n")


@pytest.mark.parametrize("first, other", [("\r\n", "\n"), ("\n", "\r\n")])
def test_a_mixed_file_takes_the_first_lines_ending(project, first, other) -> None:
    (project / "mixed.terr").write_bytes(f"segment  a=x==1{first}segment b = x == 2{other}# end{other}".encode())
    assert run_cli(["fmt", "mixed.terr"]).exit_code == 0
    assert (project / "mixed.terr").read_bytes() == \
        f"segment a = x == 1{first}{first}segment b = x == 2{first}# end{first}".encode()
    assert run_cli(["fmt", "--check", "mixed.terr"]).exit_code == 0


def test_stdin_keeps_crlf(project) -> None:
    result = run_cli(["fmt", "-"], input=b"segment  a=x==1\r\n")
    assert result.exit_code == 0 and result.stdout_bytes == b"segment a = x == 1\r\n"
    assert run_cli(["fmt", "--check", "-"], input=b"segment a = x == 1\r\n").exit_code == 0
    result = run_cli(["fmt", "-"], input=b"segment a = \xff\n")
    assert result.exit_code == 1 and "error[E002]" in result.stderr and "<stdin>:1:13" in result.stderr
    assert result.stdout_bytes == b""


def test_stdin_to_stdout(project) -> None:
    result = run_cli(["fmt", "-"], input=UGLY)
    assert result.exit_code == 0
    assert result.stdout == PRETTY


def test_stdin_check_and_diff(project) -> None:
    assert run_cli(["fmt", "--check", "-"], input=UGLY).exit_code == 1
    assert run_cli(["fmt", "--check", "-"], input=PRETTY).exit_code == 0
    result = run_cli(["fmt", "--diff", "-"], input=UGLY)
    assert result.exit_code == 1 and "+segment a = x == 1" in result.stdout


def test_stdin_with_a_syntax_error(project) -> None:
    result = run_cli(["fmt", "-"], input="segment a = \n")
    assert result.exit_code == 1
    assert "error[E004]" in result.stderr or "error[E003]" in result.stderr
    assert result.stdout == ""


def test_stdin_cannot_mix_with_paths(project) -> None:
    assert run_cli(["fmt", "-", "ugly.terr"]).exit_code == 2


def test_syntax_errors_leave_the_file_untouched_and_exit_1(project) -> None:
    (project / "bad.terr").write_text("model M { territory a { where x == } }\n", encoding="utf-8")
    result = run_cli(["fmt", "."])
    assert result.exit_code == 1
    assert "bad.terr:1:36" in result.stderr and "error[E003]" in result.stderr
    assert (project / "bad.terr").read_text(encoding="utf-8") == "model M { territory a { where x == } }\n"
    assert (project / "ugly.terr").read_text(encoding="utf-8") == PRETTY  # the others are still formatted


def test_missing_path_exits_2(project) -> None:
    result = run_cli(["fmt", "nowhere.terr"])
    assert result.exit_code == 2
    assert "no such file" in result.output


@pytest.mark.parametrize("flags", [[], ["--check"], ["--diff"]])
def test_a_file_that_is_not_utf8_is_reported_as_check_reports_it_and_left_untouched(project, flags) -> None:
    data = b"segment caf\xe9 = true\n"
    (project / "latin1.terr").write_bytes(data)
    (project / "garbage.terr").write_bytes(b"\xff\xfe garbage")
    result = run_cli(["fmt", *flags, "latin1.terr", "garbage.terr", "ugly.terr"])
    assert result.exit_code == 1, result.output
    check = run_cli(["check", "latin1.terr"])
    assert check.exit_code == 1
    for shown in ("latin1.terr:1:12", "garbage.terr:1:1"):
        assert shown in result.stderr
    assert "error[E002]: `latin1.terr` is not UTF-8 text" in result.stderr
    assert "error[E002]: `latin1.terr` is not UTF-8 text" in check.output and "latin1.terr:1:12" in check.output
    assert "2 files with errors left untouched" in result.stderr and "no .terr files" not in result.stderr
    assert (project / "latin1.terr").read_bytes() == data
    assert (project / "garbage.terr").read_bytes() == b"\xff\xfe garbage"
    # the well-formed file beside them is still formatted (or reported)
    assert ((project / "ugly.terr").read_text(encoding="utf-8") == PRETTY) == (flags == [])


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_stdin_that_is_not_utf8_is_a_diagnostic_without_a_traceback(encoding) -> None:
    env = dict(os.environ, PYTHONIOENCODING=encoding, NO_COLOR="1")
    done = subprocess.run([sys.executable, "-m", "terrl", "fmt", "-"], input=b"segment \xc3\xa9 = 1\nsegment b = \xff\n",
                          capture_output=True, env=env, timeout=60)
    stderr = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == 1, stderr
    assert "error[E002]" in stderr and "<stdin>:2:13" in stderr and "Traceback" not in stderr
    assert done.stdout == b""


def test_a_file_with_syntax_errors_is_reported_and_not_written_even_with_check(project) -> None:
    bad = "model M { territory a { where x == } }\n"
    (project / "bad.terr").write_text(bad, encoding="utf-8")
    for flags in ([], ["--check"], ["--diff"]):
        result = run_cli(["fmt", *flags, "bad.terr"])
        assert result.exit_code == 1 and "bad.terr:1:36" in result.stderr
        assert "1 file with errors left untouched" in result.stderr
        assert (project / "bad.terr").read_text(encoding="utf-8") == bad


def test_config_excludes_and_line_length(project) -> None:
    (project / "terrl.toml").write_text('exclude = ["ugly.terr"]\nline-length = 40\n', encoding="utf-8")
    (project / "long.terr").write_text("set s: string = {\"aaaaaaaa\", \"bbbbbbbbb\", \"ccccccccc\"}\n",
                                       encoding="utf-8")
    result = run_cli(["fmt", "."])
    assert result.exit_code == 0, result.output
    assert (project / "ugly.terr").read_text(encoding="utf-8") == UGLY
    assert (project / "long.terr").read_text(encoding="utf-8") == (
        'set s: string = {\n  "aaaaaaaa",\n  "bbbbbbbbb",\n  "ccccccccc",\n}\n')
    # --no-config ignores it; --config names another file
    assert run_cli(["fmt", "--check", "--no-config", "ugly.terr"]).exit_code == 1
    (project / "other.toml").write_text("include = [\"pretty.terr\"]\n", encoding="utf-8")
    result = run_cli(["fmt", "--check", "--config", "other.toml"])
    assert result.exit_code == 0 and "1 file already formatted" in result.output


def test_invalid_config_exits_2_naming_file_and_key(project) -> None:
    (project / "terrl.toml").write_text("line-length = \"wide\"\n", encoding="utf-8")
    result = run_cli(["fmt", "."])
    assert result.exit_code == 2
    assert "terrl.toml" in result.output and "`line-length`" in result.output


def test_a_file_fmt_fails_on_is_counted_not_reported_as_no_files(tmp_path, monkeypatch):
    """An internal error leaves the file untouched, exits 3 and says so in the summary (it used to
    end with "no .terr files to format")."""
    import terrl.syntax.fmt as fmt_module

    (tmp_path / "a.terr").write_text("schema A { id: string key }\n", encoding="utf-8")
    monkeypatch.setattr(fmt_module, "format_source", lambda source, **_: fmt_module.FormatResult(None, [], "boom"))
    monkeypatch.chdir(tmp_path)
    result = run_cli(["fmt", "--no-config", "a.terr"])
    assert result.exit_code == 3
    assert "1 file that terrl failed to format" in result.output and "no .terr files" not in result.output
