"""`terrl docs`: goldens, plain English, safety of HTML and Mermaid, determinism, the CLI."""

from __future__ import annotations

import html.parser
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from terrl import docsgen, english
from terrl.cli import cli

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "docs"
UPDATE = os.environ.get("TERRL_UPDATE_GOLDEN") == "1"


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
    (tmp_path / "terrl.toml").write_text("")  # the project root, so imports stay inside tmp_path
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- goldens -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", golden_cases())
def test_golden(case: str, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # paths shown in the pages are relative to the working directory
    # Without the coverage analysis, so goldens test the docs, not the analysis's wording
    # (findings are covered by the tests below).
    files = generate(case_sources(case), analyse=False)
    expected_dir = GOLDEN / case / "expected"
    if UPDATE:
        expected_dir.mkdir(exist_ok=True)
        for old in expected_dir.iterdir():
            old.unlink()
        docsgen.write_site(files, expected_dir)
    expected = {p.name: p.read_text(encoding="utf-8") for p in expected_dir.iterdir()}
    assert sorted(files) == sorted(expected), "set of generated files changed (TERRL_UPDATE_GOLDEN=1 to accept)"
    for name, text in files.items():
        assert text == expected[name], f"{case}/expected/{name} differs (TERRL_UPDATE_GOLDEN=1 to accept)"


def test_output_is_deterministic_across_runs(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(REPO)
    source = str(GOLDEN / "sales" / "input.terr")
    runner = CliRunner()
    outputs = []
    for run in ("a", "b"):
        result = runner.invoke(cli, ["docs", source, "-o", str(tmp_path / run)])  # with analysis, where present
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
    from terrl.diagnostics import diag
    loaded.analysed = True
    loaded.findings = [diag("E202", "a gap", loaded.roots[0][2].models[0].territory("a").name_span, model="M",
                            territories=[], witness={"id": "A\x00"}, region='id >= "A\x00"')]
    files = docsgen.render_site(docsgen.build_site(loaded))
    for name, text in files.items():
        assert "\x00" not in text, name
    assert "“A␀”" in files["M.md"] and "“A␀”" in files["M.html"]


def test_findings_are_shown_with_witnesses(tmp_path) -> None:
    from terrl.diagnostics import diag

    path = write_terr(tmp_path, SALES_SCHEMA + 'model M { territory a "A" { where big } territory b { where region == west } }\n')
    loaded = docsgen.load_docs([path])
    model = loaded.roots[0][2].models[0]
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
schema Account { id: string key  kind: enum { a "A <b>bold</b> & \"q\" [x] end", b } }
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


# --- the command ---------------------------------------------------------------------------

def test_cli_writes_only_the_format_asked(tmp_path) -> None:
    source = write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where big } }\n")
    result = CliRunner().invoke(cli, ["docs", str(source), "-o", str(tmp_path / "md"), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["M.md", "README.md"]
    result = CliRunner().invoke(cli, ["docs", str(source), "-o", str(tmp_path / "html"), "--format", "html"])
    assert sorted(p.name for p in (tmp_path / "html").iterdir()) == ["M.html", "index.html"]


def test_cli_reports_errors_and_writes_nothing(tmp_path) -> None:
    source = write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where employes > 1 } }\n")
    result = CliRunner().invoke(cli, ["docs", str(source), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "error[E101]" in result.output and "no docs written" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_missing_file_is_a_usage_error(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["docs", str(tmp_path / "nope.terr"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2


def test_cli_output_folder_that_cannot_be_made_is_a_usage_error(tmp_path) -> None:
    source = write_terr(tmp_path, SALES_SCHEMA + "model M { territory a { where big } }\n")
    (tmp_path / "plain").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["docs", str(source), "-o", str(tmp_path / "plain" / "out")])
    assert result.exit_code == 2 and "cannot write to" in result.output, result.output
