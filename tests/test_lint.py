"""Lint rules (terrl.analysis.lint): each rule fires where it should and stays quiet where it should not."""

from __future__ import annotations

import pytest

from terrl.project.config import LintOptions
from terrl.diagnostics.core import CODES, not_understood
from terrl.analysis.lint import DEFAULT_OFF, lint_program, owner_problem
from terrl.pipeline import check_source

SCHEMA = """
schema Account {
  id:        string key
  state:     enum { ca, ny, tx, wa }?
  employees: int in 0..
}
"""


def lint(body: str, options: LintOptions = LintOptions(), tmp_path=None):
    text = SCHEMA + body
    result = check_source(text, "lint.terr", base=tmp_path)
    assert not any(not_understood(d) for d in result.diagnostics), \
        [d.message for d in result.diagnostics]
    program = result.programs["lint.terr"]
    return lint_program(program, result.modules["lint.terr"], options)


def codes(diagnostics, code):
    return [d for d in diagnostics if d.code == code]


def test_codes_are_registered_with_docs():
    for code in ("W301", "W302", "W303", "W304", "W305", "W306", "W307"):
        entry = CODES[code]
        assert entry.explanation and entry.example, code
    assert DEFAULT_OFF == {"W304"}


def test_leaf_without_owner_and_inherited_owners():
    body = """
model M "M" {
  territory owned "O" {
    owner "a@x.example"
    territory child "C" { where employees > 10 }
    territory other "D" { else }
  }
  territory bare "B" { where employees <= 10 and state == ca }
  territory rest "R" { keep  territory sub "S" { where state == tx } }
}
"""
    found = codes(lint(body), "W301")
    assert sorted(d.extra["territories"][0] for d in found) == ["bare", "rest", "rest.sub"]
    strict = codes(lint(body, LintOptions(inherited_owners=False)), "W301")
    assert sorted(d.extra["territories"][0] for d in strict) == ["bare", "owned.child", "owned.other", "rest",
                                                                   "rest.sub"]
    assert found[0].extra["model"] == "M"


@pytest.mark.parametrize("owner, problem", [
    ("kim@acme.example", None), ("0051t000001AbCd", None), ("", "is empty"), (" kim@acme.example", "contains spaces"),
    ("kim @acme.example", "contains spaces"), ("kim@acme", "is not a valid e-mail address"),
    ("kim@@acme.example", "is not a valid e-mail address"), ("kim\u0007", "contains a control character"),
])
def test_owner_problem(owner, problem):
    assert owner_problem(owner) == problem


def test_owner_malformed_and_pattern():
    body = 'model M "M" {\n  territory a "A" { owner "dana@acme"  owner "kim@acme.example" }\n}\n'
    found = codes(lint(body), "W302")
    assert [d.message for d in found] == ["owner `dana@acme` of `a` is not a valid e-mail address"]
    assert found[0].span.text == 'owner "dana@acme"'
    found = codes(lint(body, LintOptions(owner_pattern=r"[a-z]+@acme\.example")), "W302")
    assert len(found) == 1 and "owner-pattern" in found[0].message


def test_duplicate_owner_under_unique_only():
    body = """
model M "M" {
  territory a "A" { where state == ca  owner "kim@x.example" }
  territory b "B" { where state == ny  owner "kim@x.example" }
  territory c "C" {
    where state == tx
    policy first
    territory c1 "C1" { where employees > 5  owner "lee@x.example" }
    territory c2 "C2" { else  owner "lee@x.example" }
  }
  territory d "D" { else  owner "max@x.example" }
}
"""
    found = codes(lint(body), "W303")
    assert [d.message for d in found] == ["`kim@x.example` owns both `a` and `b` under `policy unique`"]
    assert found[0].labels and "also the owner of `a`" in found[0].labels[0].message
    assert codes(lint(body, LintOptions(unique_owners=False)), "W303") == []


def test_title_missing():
    found = codes(lint('model M {\n  territory a { else }\n  territory b "B" { where state == ca }\n}\n'), "W304")
    assert sorted(d.message for d in found) == ["model `M` has no title", "territory `a` has no title"]


def test_long_inline_list_threshold():
    body = """
segment many = employees in {1, 2, 3, 4}
model M "M" {
  territory a "A" { where employees in {5, 6, 7} or employees in {8, 9} + {10, 11, 12} }
  territory b "B" { else }
}
"""
    assert codes(lint(body), "W305") == []
    found = codes(lint(body, LintOptions(max_inline_values=3)), "W305")
    assert sorted(d.span.text for d in found) == ["{1, 2, 3, 4}"]
    found = codes(lint(body, LintOptions(max_inline_values=2)), "W305")
    assert sorted(d.span.text for d in found) == ["{1, 2, 3, 4}", "{10, 11, 12}", "{5, 6, 7}"]
    assert {d.extra.get("model") for d in found} == {None, "M"}


def test_long_inline_lists_are_one_finding_per_cause():
    twelve = ", ".join(str(i) for i in range(12))
    many = "\n".join(f'  territory u{i} "U" {{ where employees in {{{", ".join(str(100 * i + j) for j in range(12))}}} }}'
                      for i in range(1, 6))
    body = f"""
model M "M" {{
  policy all
  keep
  territory a "A" {{ where employees in {{{twelve}}} }}
  territory b "B" {{ where employees in {{{twelve}}} }}
  territory c "C" {{ where employees in {{{twelve}}} or state == ca }}
{many}
}}
"""
    found = codes(lint(body), "W305")
    assert [d.message for d in found] == [
        "this inline list of 12 values is written 3 times",
        "this inline list has 12 values (more than 10), and so do 4 more inline lists in this file"]
    copies, others = found
    assert [lb.message for lb in copies.labels] == ["the same list", "the same list"]
    assert copies.notes == ["the copies: lines 12, 13"]
    assert others.notes == ["the others: lines 15, 16, 17, 18"]
    # three or fewer: one each, as before
    assert len(codes(lint(body.replace(many, many.split("\n", 2)[2])), "W305")) == 1 + 3


def test_else_that_takes_missing_values_is_exact():
    split = 'model M "M" {\n  territory w "W" { where state in {ca, wa} }\n  territory e "E" { where state in {ny, tx} }\n' \
            '  territory rest "R" { else }\n}\n'
    found = codes(lint(split), "W306")
    assert len(found) == 1 and "no `state`" in found[0].message
    assert found[0].extra["witness"]["state"] is None
    # an explicit sibling for missing states: nothing is hidden
    handled = split.replace('  territory rest', '  territory none "N" { where state is null }\n  territory rest')
    assert codes(lint(handled), "W306") == []
    # the parent requires a state (no missing value reaches `rest`), and `other`'s sibling says `is not null`
    nested = ('model M "M" {\n  territory us "US" {\n    where state is not null\n'
              '    territory w "W" { where state == ca }\n    territory rest "R" { else }\n  }\n'
              '  territory other "O" { else }\n}\n')
    assert codes(lint(nested), "W306") == []


def test_duplicate_owner_is_one_finding_per_owner_and_sibling_group():
    siblings = "\n".join(f'  territory t{i} "T{i}" {{ where employees == {i}  owner "kim@x.example" }}' for i in range(30))
    body = f'model M "M" {{\n{siblings}\n  territory rest "Rest" {{ else  owner "lee@x.example" }}\n}}\n'
    found = codes(lint(body), "W303")
    assert len(found) == 1
    assert found[0].message == ("`kim@x.example` owns 30 sibling territories under `policy unique`: "
                                "`t0`, `t1`, `t2`, `t3`, `t4` and 25 more")
    assert found[0].extra["territories"] == [f"t{i}" for i in range(30)]
    assert [label.message for label in found[0].labels] == [f"also the owner of `t{i}`" for i in (0, 2, 3, 4)]


BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"]


def test_bidi_controls_in_strings_titles_owners_and_comments():
    rlo, lri, rlm, lre = "\u202e", "\u2066", "\u200f", "\u202a"
    body = (f"## The model{rlo} of record\n"
            f'model M "Ti{rlm}tle" {{\n'
            f'  territory a "A" {{ where state == ca  owner "kim@x.example{lri}" }}  # note {lre}x\n'
            f'  territory b "B" {{ else  owner "lee@x.example" }}\n'
            f"}}\n"
            f'set ids: string = {{"001{rlo}"}}\n')
    found = codes(lint(body), "W307")
    assert [(d.span.text, d.span.start_line_col) for d in found] == [
        (rlo, (7, 13)), (rlm, (8, 12)), (lri, (9, 60)), (lre, (9, 73)), (rlo, (12, 24))]
    assert [d.message.rsplit(" in a ", 1)[1] for d in found] == ["doc comment", "string", "string", "comment", "string"]
    assert found[0].message == ("invisible bidirectional control character U+202E (right-to-left override) "
                                "in a doc comment")
    assert found[0].help == "remove it: comments have no escapes"
    assert found[1].help == "remove it; if the text needs it, write the escape `\\u200F`, which a review shows"
    assert all(d.severity == "warning" and d.notes for d in found)


@pytest.mark.parametrize("char", BIDI)
def test_every_bidi_control_is_found(char):
    found = codes(lint(f'model M "M" {{ territory a "A{char}" {{ owner "kim@x.example" }} }}\n'), "W307")
    assert [d.span.text for d in found] == [char]


def test_escapes_and_other_unicode_are_fine():
    body = ('## Équipe Nord, שלום, مرحبا\n'
            'model M "Zürich \\u202E and \\u2066" {\n  territory a "東京" { owner "kim@x.example" }  # ünïcode\n}\n')
    assert codes(lint(body), "W307") == []


def test_bidi_warning_through_check_and_its_severity_override(tmp_path, monkeypatch):
    import json

    from support import run_cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.terr").write_text(SCHEMA + 'model M "M" {\n  territory a "A" { where id == "x\u202e" owner "k@x.io" }\n'
                                     '  territory b "B" { else  owner "l@x.io" }\n}\n', encoding="utf-8")
    result = run_cli(["check", "--format", "json", "m.terr"])
    found = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "W307"]
    assert [(d["name"], d["line"], d["column"], d["end_column"]) for d in found] == \
        [("bidi-control-character", 8, 35, 36)]
    assert result.exit_code == 0
    (tmp_path / "terrl.toml").write_text('[severity]\n"bidi-control-character" = "error"\n', encoding="utf-8")
    assert run_cli(["check", "m.terr"]).exit_code == 1
