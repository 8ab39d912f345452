"""`terrl docs`: goldens, plain English, safety of HTML and Mermaid, determinism, the CLI."""

from __future__ import annotations

import html.parser
import re
from decimal import Decimal
from pathlib import Path

import pytest

from terrl.docs import docsgen
from terrl.docs import english

from support import REPO, check_golden_dir, make_project, run_cli

GOLDEN = REPO / "tests" / "golden" / "docs"


def golden_cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if (p / "input.terr").is_file() or (p / "SOURCES").is_file())


def case_sources(case: str) -> list[Path]:
    folder = GOLDEN / case
    if (folder / "SOURCES").is_file():
        return [Path(line) for line in (folder / "SOURCES").read_text().split() if line]
    return [(folder / "input.terr").relative_to(REPO)]


def generate(paths: list[Path], formats=("markdown", "html"), analyse: bool = True) -> dict[str, str]:
    loaded = docsgen.load_docs(paths, analyse=analyse)
    assert loaded.ok, [d.message for d in loaded.diagnostics if d.is_error]
    return docsgen.render_site(docsgen.build_site(loaded), formats)


def write_terr(tmp_path: Path, text: str, name: str = "model.terr") -> Path:
    return make_project(tmp_path, {name: text}, config="") / name


# --- goldens -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", golden_cases())
def test_golden(case: str, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # paths shown in the pages are relative to the working directory
    # Without the coverage analysis, so goldens test the docs, not the analysis's wording
    # (findings are covered by the tests below).
    files = generate(case_sources(case), analyse=False)
    check_golden_dir(GOLDEN / case / "expected", files)


def test_output_is_deterministic_across_runs(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(REPO)
    source = str(GOLDEN / "sales" / "input.terr")
    outputs = []
    for run in ("a", "b"):
        result = run_cli(["docs", source, "-o", str(tmp_path / run)])  # with analysis, where present
        assert result.exit_code == 0, result.output
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / run).iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"README.md", "FY30.md", "index.html", "FY30.html"}


# --- plain English -----------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (1000, "1,000"), (999, "999"), (Decimal("500000000"), "500 million"), (Decimal("2500000000"), "2.5 billion"),
    (Decimal("1234567"), "1,234,567"), (Decimal("0.5"), "0.5"), (Decimal("-12.50"), "-12.5"), (0, "0"),
    (Decimal("1000000"), "1 million"), (Decimal("1050000"), "1,050,000"),
])
def test_format_number(value, text) -> None:
    assert english.format_number(value) == text


SALES_SCHEMA = """
enum Region { west "The West", east "The East", north, south, mid, far, near, deep }
## Regions on the Pacific coast.
set coast: Region = {west, north}
schema Account {
  id: string key
  region: Region?
  zip: digits(5)?
  employees: int in 0..
  revenue: decimal in 0..
  founded: int
  name: string
}
segment big = employees >= 1000
"""


def criteria(tmp_path: Path, where: str) -> str:
    text = SALES_SCHEMA + f'model M {{ territory t {{ where {where} }} }}\n'
    files = generate([write_terr(tmp_path, text)], ("markdown",))
    site = docsgen.build_site(docsgen.load_docs([tmp_path / "model.terr"]))
    assert files  # rendered without error
    return english.plain(site.models[0].territories[0].own)


@pytest.mark.parametrize("where, text", [
    ("employees >= 1000", "Accounts with 1,000 or more employees"),
    ("employees < 50", "Accounts with fewer than 50 employees"),
    ("revenue >= 500M", "Accounts with revenue of at least 500 million"),
    ("revenue > 12.5", "Accounts with revenue above 12.5"),
    ("founded >= 2000", "Accounts with founded of at least 2,000"),
    ('zip startswith "94"', "Accounts whose zip starts with 94"),
    ('name startswith "Ac"', "Accounts whose name starts with “Ac”"),
    ("region is null", "Accounts with no region"),
    ("region is not null", "Accounts with a region"),
    ("region == west", "Accounts whose region is The West"),
    ("region != west", "Accounts whose region is not The West or is missing"),
    ("employees != 5", "Accounts whose employees is not 5"),
    ("region in {west, east, north}", "Accounts whose region is The West, The East or north"),
    ("region not in {west, east}", "Accounts whose region is neither The West nor The East or is missing"),
    ("region in coast", "Accounts whose region is in Regions on the Pacific coast (The West, north)"),
    ("region in coast + {far}", "Accounts whose region is in Regions on the Pacific coast or far"),
    ("region in coast - {north}", "Accounts whose region is in Regions on the Pacific coast but not north"),
    ("big", "Accounts that are big"),
    ("not big", "Accounts that are not big"),
    ("not (big or region == west)", "Accounts that do not match (Accounts that are big or whose region is The West)"),
    ("big and (region == west or zip is null)",
     "Accounts that are big and (whose region is The West or with no zip)"),
    ("big or region == west and zip is null", "Accounts that are big or (whose region is The West and with no zip)"),
    ("employees in 10..99", "Accounts with employees between 10 and 99"),
    ("employees not in 10..99", "Accounts with employees not between 10 and 99"),
    ('zip in "90000".."96199"', "Accounts whose zip is between 90000 and 96199"),
    ("not (employees < 10)", "Accounts with 10 or more employees"),
    ("true", "All accounts"),
])
def test_criteria_in_plain_english(tmp_path, where, text) -> None:
    assert criteria(tmp_path, where) == text


def test_long_value_lists_are_summarized_and_complete(tmp_path) -> None:
    where = "region in {west, east, north, south, mid, far, near}"
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, SALES_SCHEMA + f"model M {{ territory t {{ where {where} }} }}\n")]))
    values = next(p for p in site.models[0].territories[0].own if isinstance(p, english.Values))
    assert values.shown == ("The West", "The East", "north") and len(values.rest) == 4
    files = docsgen.render_site(site)
    assert "The West, The East, north or 4 others" in files["M.md"]
    assert '<details class="more"><summary>4 others</summary>south, mid, far, near</details>' in files["M.html"]


def test_named_sets_and_segments_are_explained_once_and_linked(tmp_path) -> None:
    text = SALES_SCHEMA + """
model M {
  territory a { where big and region in coast }
  territory b { where not big and region in coast }
}
"""
    files = generate([write_terr(tmp_path, text)])
    md, page = files["M.md"], files["M.html"]
    assert md.count('<a id="seg-big"></a>') == 1 and md.count('<a id="set-coast"></a>') == 1
    assert md.count("[big](#seg-big)") >= 2 and md.count("[Regions on the Pacific coast](#set-coast)") >= 2
    assert page.count('id="seg-big"') == 1 and page.count('href="#seg-big"') >= 2


def test_same_names_from_two_files_get_their_own_glossary_entries(tmp_path) -> None:
    # Two imported files with the same stem both declare `bigco` and `west`: each use links to its own entry.
    for folder, n in (("a", 5000), ("b", 7000)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "lib.terr").write_text(
            f"enum R {{ west, east, north, south, mid, far, near, deep }}\nset west: R = {{west}}\n"
            f"segment bigco = employees >= {n}\n", encoding="utf-8")
    text = SALES_SCHEMA.replace("enum Region", 'import "./a/lib.terr" as la\nimport "./b/lib.terr" as lb\nenum Region') + """
model M {
  territory a { where la.bigco and region in la.west }
  territory b { where lb.bigco and region in lb.west }
}
"""
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, text)], analyse=False))
    glossary = {(g.kind, g.anchor): g for g in site.models[0].glossary}
    assert sorted(glossary) == [("segment", "seg-lib.bigco"), ("segment", "seg-lib.bigco-2"),
                                ("set", "set-lib.west"), ("set", "set-lib.west-2")]
    assert english.plain(glossary["segment", "seg-lib.bigco"].definition) == "Accounts with 5,000 or more employees"
    assert english.plain(glossary["segment", "seg-lib.bigco-2"].definition) == "Accounts with 7,000 or more employees"
    assert glossary["segment", "seg-lib.bigco-2"].name.endswith("b/lib.terr)")  # the heading names the file
    a, b = site.models[0].territories
    assert [p.anchor for p in a.own if isinstance(p, english.Link)] == ["#seg-lib.bigco", "#set-lib.west"]
    assert [p.anchor for p in b.own if isinstance(p, english.Link)] == ["#seg-lib.bigco-2", "#set-lib.west-2"]
    md = docsgen.render_site(site, ("markdown",))["M.md"]
    assert md.count('<a id="seg-lib.bigco"></a>') == 1 and md.count('<a id="seg-lib.bigco-2"></a>') == 1


def test_a_parenthesized_literal_set_is_listed_like_a_literal(tmp_path) -> None:
    # Parentheses are syntax: `({west, east})` is a literal set, shown by its members with no definition line.
    text = SALES_SCHEMA + "set pair: Region = ({west, east})\nmodel M { territory t { where region in pair } }\n"
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, text)], analyse=False))
    (entry,) = site.models[0].glossary
    assert entry.name == "pair" and entry.definition == ()
    assert english.plain((entry.values,)) == "The West and The East"


def test_effective_scope_lists_inherited_criteria_and_earlier_siblings(tmp_path) -> None:
    text = SALES_SCHEMA + """
model M {
  policy first
  where employees > 0
  territory one "One" { where region == west }
  territory two "Two" {
    where big
    territory leaf { else }
    territory other { where zip is null }
  }
}
"""
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, text)]))
    leaf = next(t for t in site.models[0].territories if t.path == "two.leaf")
    steps = [((s.source.text if s.source else ""), english.plain(s.phrase)) for s in leaf.scope]
    assert steps == [
        ("M", "with more than 0 employees"),
        ("Two", "that are big"),
        ("Two", "not taken by an earlier sibling (first match wins): One"),
        ("leaf", "not taken by other"),
    ]


# --- check results -------------------------------------------------------------------------

def test_control_characters_are_shown_as_symbols(tmp_path) -> None:
    path = write_terr(tmp_path, SALES_SCHEMA + 'model M { territory a { where big } }\n')
    loaded = docsgen.load_docs([path], analyse=False)
    from terrl.diagnostics.core import diag
    loaded.analysed = True
    loaded.findings = [diag("E202", "a gap", loaded.roots[0][1].models[0].territory("a").name_span, model="M",
                            territories=[], witness={"id": "A\x00"}, region='id >= "A\x00"')]
    files = docsgen.render_site(docsgen.build_site(loaded))
    for name, text in files.items():
        assert "\x00" not in text, name
    assert "“A␀”" in files["M.md"] and "“A␀”" in files["M.html"]


def test_findings_are_shown_with_witnesses(tmp_path) -> None:
    from terrl.diagnostics.core import diag

    path = write_terr(tmp_path, SALES_SCHEMA + 'model M { territory a "A" { where big } territory b { where region == west } }\n')
    loaded = docsgen.load_docs([path])
    model = loaded.roots[0][1].models[0]
    loaded.analysed = True
    loaded.findings = [diag("E201", "`a` and `b` overlap", model.territory("a").name_span, model="M",
                            territories=["a", "b"], witness={"id": "X", "region": "west", "employees": 1000,
                                                             "zip": None}, region="employees >= 1000 and region == west")]
    files = docsgen.render_site(docsgen.build_site(loaded))
    md = files["M.md"]
    assert "**error E201 overlap**: \\`a\\` and \\`b\\` overlap (" in md
    assert "territories: [A](#t-a), [b](#t-b)" in md
    assert "example account: id = “X”; region = The West (west); zip = missing; employees = 1,000" in md
    assert "No gaps, no overlaps" not in md
    loaded.findings = []
    files = docsgen.render_site(docsgen.build_site(loaded))
    assert "**No gaps, no overlaps.**" in files["M.md"] and "<strong>No gaps, no overlaps.</strong>" in files["M.html"]


def test_without_coverage_analysis_the_docs_do_not_claim_a_clean_result(tmp_path) -> None:
    loaded = docsgen.load_docs([write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where big } }\n")])
    loaded.analysed = False
    files = docsgen.render_site(docsgen.build_site(loaded))
    assert "No gaps, no overlaps" not in files["M.md"] + files["M.html"]
    assert "were not checked" in files["M.md"] and "not analysed" in files["README.md"]


def test_findings_of_the_real_coverage_analysis_are_documented(tmp_path) -> None:
    from terrl.pipeline import check_paths

    text = SALES_SCHEMA + 'model M { territory a "A" { where big } territory b { where region == west } }\n'
    path = write_terr(tmp_path, text)
    expected = [d for d in check_paths([path]).diagnostics if d.extra.get("model") == "M"]
    assert any(d.name == "overlap" for d in expected) and any(d.name == "gap" for d in expected)
    site = docsgen.build_site(docsgen.load_docs([path]))
    findings = site.models[0].findings
    assert [(f.code, f.message) for f in findings] == [(d.code, d.message) for d in expected]
    overlap = next(f for f in findings if f.name == "overlap")
    assert [link.anchor for link in overlap.territories] == ["#t-a", "#t-b"] and overlap.witness
    page = docsgen.render_site(site, ("html",))["M.html"]
    assert page.count('<li class="finding error">') == len(expected)
    assert "No gaps, no overlaps" not in page
    site = docsgen.build_site(docsgen.load_docs([path], analyse=False))
    assert not site.models[0].findings and not site.models[0].analysed


# --- injection ---------------------------------------------------------------------------

HOSTILE = r'''
## File doc <script>alert("file")</script>
schema Account {
  id: string key
  ## Field doc <b>bold</b> | pipe | & `tick` <script>alert("field")</script>
  kind: enum { a "A <b>bold</b> & \"q\" [x] end", b }
}
## Segment doc with <img src=x onerror=alert(3)> and | pipes | and `ticks`
segment evil = kind == a
## Model doc [link](javascript:alert(4)) & <i>it</i>
## second line ]]> --> end
model M "<script>alert(1)</script>" {
  ## Territory doc <iframe src="x"></iframe> "quoted" 'single' {braces}
  ## # not a heading
  territory t1 "Title \"with quotes\" [brackets] (parens) {braces} <b>&amp; end\nnew line;%%" {
    where evil
    owner "a<b>@x.example" as AE
    meta { note: "<i>x</i> | y" }
  }
  territory end "end" { where not evil }
  territory subgraph "subgraph --> click" { where id == "x\"y" }
}
'''


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler attribute {name}"
            assert "javascript:" not in (value or "")

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_html_shows_hostile_text_as_text(tmp_path) -> None:
    files = generate([write_terr(tmp_path, HOSTILE)], ("html",))
    page = files["M.html"]
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags.count("script") == 1  # ours, the search box
    assert not {"b", "i", "img", "iframe"} & set(parsed.tags)
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(3)>" in text
    assert 'Title "with quotes" [brackets]' in text
    assert "a<b>@x.example" in text and "<i>x</i> | y" in text
    assert "A <b>bold</b> & \"q\" [x] end" in text  # the enum member's title in the criteria
    assert 'File doc <script>alert("file")</script>' in text  # the schema's doc (no import: it is not a file header)
    assert 'Field doc <b>bold</b> | pipe | & `tick` <script>alert("field")</script>' in text
    index = _Tags()
    index.feed(files["index.html"])
    assert "<script>alert(1)</script>" in "".join(index.text) and index.tags.count("script") == 1


def test_markdown_escapes_hostile_text(tmp_path) -> None:
    files = generate([write_terr(tmp_path, HOSTILE)], ("markdown",))
    md = files["M.md"]
    outside_mermaid = re.sub(r"```mermaid\n.*?```", "", md, flags=re.S)
    for raw in ("<script>", "<img", "<iframe", "<b>", "<i>"):
        assert raw not in outside_mermaid
    assert not re.search(r"(?<!\\)\]\(javascript", outside_mermaid)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "\\[link\\](javascript:alert(4))" in md
    # every table row still has exactly its four cells: pipes in user text are escaped
    rows = [line for line in md.splitlines() if line.startswith("| [")]
    assert rows and all(len(re.findall(r"(?<!\\)\|", row)) == 5 for row in rows)
    field_rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(field_rows) == 2 and all(len(re.findall(r"(?<!\\)\|", row)) == 5 for row in field_rows)
    assert "Field doc &lt;b&gt;bold&lt;/b&gt; \\| pipe \\| &amp; \\`tick\\`" in md
    # newlines in titles do not end a heading or a table row
    assert "### t1: Title \"with quotes\" \\[brackets\\] (parens) {braces} &lt;b&gt;&amp;amp; end new line;%%" in md


MERMAID_NODE = re.compile(r'^  n\d+\["[^"\[\]<>&\n]*"\]$')
MERMAID_EDGE = re.compile(r"^  n\d+ (-->|-\.->) n\d+$")


def mermaid_blocks(md: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", md, flags=re.S)


def check_mermaid_structure(block: str) -> list[str]:
    """The strict structural check: generated ids, quoted entity-encoded labels, edges between declared nodes."""
    lines = block.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR"
    declared, labels = set(), []
    for line in lines[1:]:
        if MERMAID_NODE.match(line):
            node = line.split("[", 1)[0].strip()
            assert node not in declared
            declared.add(node)
            labels.append(re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), line.split('"')[1]))
        else:
            assert MERMAID_EDGE.match(line), f"unexpected Mermaid line {line!r}"
            a, _, b = line.split()
            assert a in declared and b in declared
    return labels


def test_mermaid_labels_are_generated_ids_and_escaped(tmp_path) -> None:
    files = generate([write_terr(tmp_path, HOSTILE)], ("markdown",))
    (block,) = mermaid_blocks(files["M.md"])
    labels = check_mermaid_structure(block)
    assert labels == ["<script>alert(1)</script>",
                      'Title "with quotes" [brackets] (parens) {braces} <b>&amp; end new line;%%',
                      "end", "subgraph --> click"]


def large_model_text(tops: int, per_top: int) -> str:
    lines = ['schema Account { id: string key  zip: digits(5) }', 'model Big "Big" {', "  policy first"]
    for i in range(tops):
        lines.append(f'  territory r{i} "Region {i}" {{ where zip startswith "{i}"')
        for j in range(per_top):
            lines.append(f'    territory z{i}_{j} {{ where zip startswith "{i}{j:03d}" owner "rep{j}@x.example" as AE }}')
        lines.append("    territory rest { else }\n  }")
    lines.append("  territory other { else }\n}")
    return "\n".join(lines) + "\n"


def test_large_model_diagrams_are_collapsed_and_split(tmp_path) -> None:
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, large_model_text(4, 120))]))
    model = site.models[0]
    assert len(model.territories) == 4 * 122 + 1
    assert [d.caption for d in model.diagrams][1:] == [f"Region {i} (r{i})" for i in range(4)]
    for d in model.diagrams:
        labels = check_mermaid_structure(d.mermaid)
        assert len(labels) <= docsgen.DIAGRAM_MAX_NODES + 1 and d.collapsed  # + the root
    assert any("more" in line for line in model.diagrams[1].mermaid.splitlines())
    # the scope of a late sibling does not list hundreds of earlier siblings
    late = next(t for t in model.territories if t.path == "r0.z0_119")
    assert english.plain(late.scope[-1].phrase) == "not taken by an earlier sibling (first match wins): any of the 119 earlier siblings (see Region 0)"


# --- doc comments --------------------------------------------------------------------------

DOCUMENTED_MAIN = """## Header of the main file: what this alignment is for.
##
## Second paragraph of the header.
import "./accounts.terr"

## The doc of the model.
model M "Documented" {
  ## The doc of the territory.
  territory t { where accounts.big and region in accounts.coast }
  territory u { else }
}
"""

DOCUMENTED_ACCOUNTS = """## Header of the accounts file.
import geo.us

## Regions we sell in.
enum Region { west, east }

## One row of the CRM export.
schema Account {
  id: string key
  ## Annual revenue in euros,
  ## as booked by finance.
  revenue: decimal in 0..
  region: Region?
  state: us.UsState?
}

## Large accounts.
segment big = revenue >= 1M

## The Pacific coast.
set coast: Region = {west}
"""


def documented_site(tmp_path: Path) -> dict[str, str]:
    main = write_terr(tmp_path, DOCUMENTED_MAIN, "main.terr")
    write_terr(tmp_path, DOCUMENTED_ACCOUNTS, "accounts.terr")
    return generate([main])


def _section(text: str, start: str, end: str | None) -> str:
    after = text[text.index(start):]
    return after[:after.index(end)] if end else after


def test_every_doc_comment_reaches_the_docs_where_it_belongs(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = documented_site(tmp_path)
    md, page = files["M.md"], files["M.html"]
    for text in (md, page):
        top = text[:text.index("Check results")]
        assert "Header of the main file: what this alignment is for." in top
        assert "Second paragraph of the header." in top and "The doc of the model." in top
        fields = _section(text, "Account fields", None)
        assert "One row of the CRM export." in fields
        assert "Annual revenue in euros, as booked by finance." in fields  # one paragraph from two lines
        assert "Regions we sell in." in fields  # the doc of the field's named enum type
        # the stdlib enum's doc: its first line only (the second is a note for maintainers)
        assert "The states, district and inhabited territories of the United States (USPS codes)." in fields
        assert "Generated by stdlib" not in fields
        assert "accounts.terr" in fields  # where the schema is declared
        glossary = _section(text, "Segments and sets", "Account fields")
        assert "Large accounts." in glossary and "The Pacific coast." in glossary
        assert "The doc of the territory." in _section(text, "Territory details", "Segments and sets")
        assert "Header of the accounts file." not in text  # an imported file's header documents that file
    assert '<p class="doc">One row of the CRM export.</p>' in page
    assert "| `revenue` | `decimal in 0..` |  | Annual revenue in euros, as booked by finance. |" in md
    for index in (files["README.md"], files["index.html"]):
        assert "main.terr" in index and "Header of the main file: what this alignment is for." in index


def test_acme_schema_doc_is_in_the_docs(tmp_path, monkeypatch) -> None:
    """The reviewer's check: `terrl docs examples/acme` shows the schema's `##` doc."""
    monkeypatch.chdir(REPO)
    result = run_cli(["docs", "examples/acme", "-o", str(tmp_path / "out"), "--no-check"])
    assert result.exit_code == 0, result.output
    pages = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    assert {name for name, text in pages.items() if "One row of the CRM account export." in text} == {
        "FY28.md", "FY28.html"}  # FY27 declares its own schema, without a doc
    assert all("fiscal-2027 alignment." in pages[n] for n in ("FY27.md", "FY27.html", "README.md", "index.html"))


# --- the SVG diagram ---------------------------------------------------------------------------

class _Svg(html.parser.HTMLParser):
    """The inline SVG diagrams of a page: their attributes, boxes, links and texts."""
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.svgs: list[dict] = []
        self.ids: set[str] = set()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "svg":
            self.svgs.append({"attrs": a, "rects": [], "links": [], "texts": [], "titles": [], "paths": []})
        elif self.svgs and "svg" in self.stack:
            svg = self.svgs[-1]
            if tag == "rect":
                svg["rects"].append({k: (int(v) if k in ("x", "y", "width", "height") else v) for k, v in a.items()})
            elif tag == "a":
                svg["links"].append(a["href"])
            elif tag == "path":
                svg["paths"].append(a)
            else:
                assert tag in ("title", "desc", "text"), f"unexpected <{tag}> in the diagram"
        if tag not in ("rect", "path"):  # void in our output
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("rect", "path"):
            self.stack.pop()

    def handle_endtag(self, tag) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data) -> None:
        if self.svgs and "svg" in self.stack and self.stack[-1] in ("text", "title"):
            self.svgs[-1]["texts" if self.stack[-1] == "text" else "titles"].append(data)


def svgs_of(page: str) -> _Svg:
    parsed = _Svg()
    parsed.feed(page)
    return parsed


def test_html_hierarchy_is_an_inline_svg_tree(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    page = generate([GOLDEN / "sales" / "input.terr"], ("html",), analyse=False)["FY30.html"]
    parsed = svgs_of(page)
    (svg,) = parsed.svgs
    assert svg["attrs"]["role"] == "img"
    assert set(svg["attrs"]["aria-labelledby"].split()) <= parsed.ids
    assert svg["titles"][0] == "Hierarchy of Fiscal 2030"
    site = docsgen.build_site(docsgen.load_docs([GOLDEN / "sales" / "input.terr"], analyse=False))
    model = site.models[0]
    # every territory is drawn (the model is small), linked to its section on the page
    assert svg["links"] == ["#top"] + ["#" + t.anchor for t in model.territories]
    assert all(link[1:] in parsed.ids for link in svg["links"])
    assert "West Enterprise" in svg["texts"] and "na.west.west_ent" in svg["texts"]
    assert any("@" in t for t in svg["texts"])  # owners on a third line
    # the nested list is still there, for screen readers and print
    listed = _section(page, '<details class="tree">', "</details>")
    assert listed.count('<li><a href="#t-') == len(model.territories)


def test_svg_layout_is_a_tidy_left_to_right_tree(tmp_path) -> None:
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, large_model_text(3, 7))], analyse=False))
    (diagram,) = site.models[0].diagrams
    svg = diagram.svg
    boxes = svg.boxes
    assert len(boxes) == 1 + 3 * (1 + 7 + 1) + 1  # the model, 3 regions of 7 leaves and an `else`, `other`
    for i, a in enumerate(boxes):  # no two boxes overlap; all inside the drawing
        assert 0 <= a.x and a.x + a.width <= svg.width and 0 <= a.y and a.y + a.height <= svg.height
        for b in boxes[i + 1:]:
            assert a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y
    by_anchor = {b.anchor: b for b in boxes}
    root, region = by_anchor["#top"], by_anchor["#t-r1"]
    first, last = by_anchor["#t-r1.z1_0"], by_anchor["#t-r1.rest"]
    assert root.x < region.x < first.x == last.x  # one column per depth
    assert region.y == first.y < last.y  # a parent is level with its first child
    # one edge per drawn child, from the parent's right side to the child's left side
    assert len(svg.edges) == len(boxes) - 1
    edge = next(e for e in svg.edges if e.d.endswith(f"V{last.y + last.height // 2}H{last.x}"))
    assert edge.d.startswith(f"M{region.x + region.width} {region.y + region.height // 2}H")


def test_svg_diagram_of_a_large_model_is_collapsed_and_small(tmp_path) -> None:
    site = docsgen.build_site(docsgen.load_docs([write_terr(tmp_path, large_model_text(4, 120))], analyse=False))
    model = site.models[0]
    page = docsgen.render_site(site, ("html",))["Big.html"]
    parsed = svgs_of(page)
    assert len(parsed.svgs) == len(model.diagrams) == 5
    for d, svg in zip(model.diagrams, parsed.svgs):
        drawn = [b for b in d.svg.boxes if b.kind == "territory"]
        assert len(drawn) <= docsgen.DIAGRAM_MAX_NODES
        # the same nodes as the Mermaid diagram, with the same "… N more" stand-ins and "(+N below)" counts
        mermaid_labels = check_mermaid_structure(d.mermaid)
        assert len(mermaid_labels) == len(d.svg.boxes)
        assert d.mermaid.count("-.->") == sum(b.kind == "more" for b in d.svg.boxes)
        assert sorted(l for l in mermaid_labels if "more" in l) == sorted(
            b.texts[0].text for b in d.svg.boxes if b.kind == "more")
        assert sum("below)" in l for l in mermaid_labels) == len(d.svg.notes)
        assert any(b.kind == "more" for b in d.svg.boxes) or d.svg.notes
    overview = model.diagrams[0].svg
    # r0's children fill the budget of 40 ("… 87 more"); r1..r3 are drawn without their 120 leaves and `else`
    assert [n.text for n in overview.notes] == ["+121 below"] * 3
    assert [b.texts[0].text for b in overview.boxes if b.kind == "more"] == ["… 87 more"]
    more = [b for b in model.diagrams[1].svg.boxes if b.kind == "more"]
    assert len(more) == 1 and more[0].anchor == "#t-r0" and more[0].texts[0].text == "… 82 more"
    svg_bytes = sum(len(m.group()) for m in re.finditer(r"<svg.*?</svg>", page, re.S))
    assert svg_bytes < 150_000, svg_bytes


def test_svg_text_is_escaped_and_shortened(tmp_path) -> None:
    text = HOSTILE.replace('territory end "end"', 'territory end "צפון אמריקה — أمريكا الشمالية & <i>"')
    page = generate([write_terr(tmp_path, text)], ("html",))["M.html"]
    svg_markup = re.search(r"<svg.*?</svg>", page, re.S).group()
    for raw in ("<script", "<b>", "<i>", "<iframe"):
        assert raw not in svg_markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg_markup
    parsed = svgs_of(page)
    (svg,) = parsed.svgs
    texts, titles = svg["texts"], svg["titles"]
    # the model's title and a right-to-left title, as text: shown shortened, in full in the tooltip
    assert texts[0].startswith("<script>alert(1)") and "<script>alert(1)</script> — M" in titles
    assert any(t.startswith("צפון אמריקה — ") for t in texts)
    assert any(t.startswith("צפון אמריקה — أمريكا الشمالية & <i>") for t in titles)
    long_title = 'Title "with quotes" [brackets] (parens) {braces} <b>&amp; end new line;%%'
    shortened = next(t for t in texts if t.startswith('Title "with'))
    assert shortened.endswith("…") and len(shortened) < len(long_title)
    assert any(long_title in t for t in titles)  # the full title is in the tooltip
    assert "a<b>@x.example (AE)" in texts


@pytest.mark.parametrize("text, room, keep_end, expected", [
    ("West", 100, False, "West"),
    ("North America, state unknown", 80, False, "North Ame…"),  # 10 characters of 7.8 px
    ("na.west.west_ent", 60, True, "…st_ent"),  # a path keeps its end
    ("東京都中央区", 40, False, "東京…"),  # wide characters count as a full em
    ("line one\nline two", 200, False, "line one line two"),
])
def test_fit_shortens_text_to_its_room(text, room, keep_end, expected) -> None:
    from terrl.docs.hierarchy_diagram import fit
    assert fit(text, 13, 0.6, room, keep_end) == expected


# --- the command ---------------------------------------------------------------------------

def test_cli_writes_only_the_format_asked(tmp_path) -> None:
    source = write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where big } }\n")
    result = run_cli(["docs", str(source), "-o", str(tmp_path / "md"), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["M.md", "README.md"]
    result = run_cli(["docs", str(source), "-o", str(tmp_path / "html"), "--format", "html"])
    assert sorted(p.name for p in (tmp_path / "html").iterdir()) == ["M.html", "index.html"]


def test_cli_reports_errors_and_writes_nothing(tmp_path) -> None:
    source = write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where employes > 1 } }\n")
    result = run_cli(["docs", str(source), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "error[E101]" in result.output and "no docs written" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_missing_file_is_a_usage_error(tmp_path) -> None:
    result = run_cli(["docs", str(tmp_path / "nope.terr"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2


def test_cli_output_folder_that_cannot_be_made_is_a_usage_error(tmp_path) -> None:
    source = write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where big } }\n")
    (tmp_path / "plain").write_text("", encoding="utf-8")
    result = run_cli(["docs", str(source), "-o", str(tmp_path / "plain" / "out")])
    assert result.exit_code == 2 and "cannot write to" in result.output, result.output


def test_a_file_name_cannot_end_the_markdown_header_comment(tmp_path) -> None:
    path = tmp_path / "a-->b.terr"
    path.write_text(SALES_SCHEMA + 'model M { territory a "A" { } }\n', encoding="utf-8")
    files = docsgen.render_site(docsgen.build_site(docsgen.load_docs([path])))
    for name in ("M.md", "README.md"):
        first = files[name].splitlines()[0]
        assert first.startswith("<!--") and first.endswith("-->") and first.count("-->") == 1, first
