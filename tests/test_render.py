"""Every renderer of diagnostics: golden snapshots, contracts, escaping, colour.

Goldens live in tests/golden/render/; regenerate them with TERRL_UPDATE_GOLDEN=1 and
review the diff.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

import terrl
from terrl.diagnostics import render as render_module
from terrl.diagnostics.core import CODES, Diagnostic, Label, diag, sort_diagnostics
from terrl.diagnostics.render import (FORMATS, github_escape_data, github_escape_property, json_object, position, render,
                          summary_line, use_color)
from terrl.diagnostics.source import SourceFile

from support import REPO, check_golden

GOLDEN = REPO / "tests" / "golden" / "render"
SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SARIF_VALIDATOR = Draft4Validator(SCHEMA)
ROOT = Path("/project")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

ACME = """\
## Acme's sales territories
model sales {
\twhere region == NA
  territory na "North America" {
    territory west "West" {
      where state in us.west
    }
    territory bay_area "SF Bay Area" { where state == CA }
  }
  territory 東京 "Tōkyō 東京" { where city == "東京"  }
}
"""
LIB = "set west = [CA, OR, WA]\r\nset east = [NY, NJ]\r\n"  # CRLF line ends
# No final newline: the end-of-file span points just after the last character.
UNCLOSED = "model m {\n  territory a {"
LONG = "set big = [" + ", ".join(f"V{i:04d}" for i in range(200)) + ", ZZ]\n"


def at(source: SourceFile, needle: str, length: int | None = None, occurrence: int = 0):
    start = -1
    for _ in range(occurrence + 1):
        start = source.text.index(needle, start + 1)
    return source.span(start, start + (len(needle) if length is None else length))


def mixed_diagnostics() -> list[Diagnostic]:
    """One of each shape the renderers must handle, in the order `check` sorts them."""
    acme = SourceFile(str(ROOT / "examples" / "acme.terr"), ACME)
    lib = SourceFile(str(ROOT / "lib" / "sets.terr"), LIB)
    unclosed = SourceFile(str(ROOT / "broken.terr"), UNCLOSED)
    long_file = SourceFile(str(ROOT / "long.terr"), LONG)
    west_block = acme.span(ACME.index("territory west"), ACME.index("    }\n") + 5)  # four lines
    bay = at(acme, 'territory bay_area "SF Bay Area"')
    return [
        diag("E901", "the coverage analysis of model `sales` failed: RecursionError",
             None, notes=["please report it with the file that caused it"]),
        diag("E004", "`{` is not closed before the end of the file", unclosed.span(len(UNCLOSED), len(UNCLOSED)),
             labels=[Label(at(unclosed, "{", occurrence=1), "opened here")], help="write `}` at the end"),
        diag("W101", "`us` is imported but never used", acme.span(0, 0), help="remove the import"),
        diag("W201", "`where region == NA` adds nothing: every account is in `NA`", at(acme, "where region == NA"),
             severity="note"),
        diag("E201", "`na.west` and `na.bay_area` overlap under `policy unique`", west_block,
             labels=[Label(west_block, "matches accounts in `us.west`"),
                     Label(bay, "also matches them"),
                     Label(at(lib, "CA"), "`CA` is in `west`")],
             notes=["for example: {state: CA, city: \"Oakland\"}"],
             help="narrow `na.bay_area` with `where`, or write `policy first` in `na`",
             model="sales", territories=["na.west", "na.bay_area"],
             witness={"state": "CA", "city": "Oakland", "employees": None}, region="state == CA"),
        diag("E103", "`city` is a string, not a number", at(acme, '"東京"'),
             labels=[Label(at(acme, "東京", occurrence=0), "in this territory"),
                     Label(at(acme, "city"), "declared here")],
             help="write the value in quotes"),
        diag("W204", "set `east` is never used", at(lib, "east"),
             notes=["a set nobody uses\nmay be a typo"]),
        diag("E101", "unknown name `ZZ`", at(long_file, "ZZ"), help="did you mean `V0000`?"),
    ]


def test_mixed_diagnostics_are_in_check_order():
    ds = mixed_diagnostics()
    assert [d.code for d in sort_diagnostics(ds)] == [d.code for d in ds]


MIXED_SUMMARY = {"files": 4, "models": 1, "errors": 5, "warnings": 2, "notes": 1}


def normalized_sarif(text: str) -> dict:
    """The SARIF log without what changes whenever a code is registered or the version bumps
    (both checked by their own tests), so goldens do not churn."""
    log = json.loads(text)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result.pop("ruleIndex")]["id"] == result["ruleId"]
    from terrl.diagnostics.core import CODES

    assert len(rules) == len(CODES)
    run["tool"]["driver"]["rules"] = "<one rule per registered code>"
    run["tool"]["driver"]["version"] = "<terrl.__version__>"
    return log


@pytest.fixture(autouse=True)
def fixed_project_url(monkeypatch):
    monkeypatch.setattr(render_module, "project_url", lambda: "https://example.com/terrl")


# --- goldens ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_mixed(fmt):
    text = render(mixed_diagnostics(), fmt, root=ROOT, summary=MIXED_SUMMARY)
    if fmt == "sarif":
        SARIF_VALIDATOR.validate(json.loads(text))
        text = json.dumps(normalized_sarif(text), ensure_ascii=False, indent=2) + "\n"
    check_golden(GOLDEN / (f"mixed.{fmt}" + (".json" if fmt in ("json", "sarif") else ".txt")), text)


def test_golden_mixed_in_color():
    text = render(mixed_diagnostics(), "full", color=True, root=ROOT, summary=MIXED_SUMMARY)
    check_golden(GOLDEN / "mixed.full-color.txt", text)
    assert ANSI.sub("", text) == render(mixed_diagnostics(), "full", root=ROOT, summary=MIXED_SUMMARY)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_clean(fmt):
    text = render([], fmt, root=ROOT, summary={"files": 2, "models": 1, "errors": 0, "warnings": 0, "notes": 0})
    if fmt == "sarif":
        SARIF_VALIDATOR.validate(json.loads(text))
        text = json.dumps(normalized_sarif(text), ensure_ascii=False, indent=2) + "\n"
    check_golden(GOLDEN / (f"clean.{fmt}" + (".json" if fmt in ("json", "sarif") else ".txt")), text)


# --- full: alignment ----------------------------------------------------------------


def caret_rows(text: str) -> list[str]:
    return [row for row in text.splitlines() if re.fullmatch(r" +\| +[\^-]+( .*)?", row)]


def one(source_text: str, start: int, end: int, **kwargs) -> str:
    src = SourceFile(str(ROOT / "a.terr"), source_text)
    return render([diag("E101", "unknown name", src.span(start, end), **kwargs)], "full", root=ROOT)


def test_tab_and_wide_characters_do_not_misalign_carets():
    text = "\tx = 東京 y\n"
    out = one(text, text.index("y"), text.index("y") + 1)
    # tab -> 4 columns, "x = " 4, two wide characters 4, a space 1: `y` at display column 13
    assert "1 |     x = 東京 y" in out
    assert caret_rows(out) == ["  | " + " " * 13 + "^"]


def test_wide_characters_get_two_carets_each_and_combining_marks_none():
    text = 'a "東京" "e\u0301t\u00e9" b\n'
    start = text.index('"東')
    out = one(text, start, start + 4)
    assert caret_rows(out) == ["  |   ^^^^^^"]  # quote, two wide characters, quote
    start = text.index('"e')
    out = one(text, start, start + 5)  # e + combining acute take one column
    assert caret_rows(out) == ["  | " + " " * 9 + "^" * 4]


def test_tab_after_text_expands_to_the_next_stop():
    text = "ab\tc\n"
    out = one(text, 3, 4)
    assert "1 | ab  c" in out
    assert caret_rows(out) == ["  |     ^"]


def test_empty_span_gets_one_caret():
    out = one("abc\n", 1, 1)
    assert caret_rows(out) == ["  |  ^"]


def test_end_of_file_without_newline_points_after_the_last_character():
    out = one("model m {", 9, 9)
    assert " --> a.terr:1:10" in out
    assert caret_rows(out) == ["  |          ^"]


def test_end_of_file_after_newline_points_at_the_empty_last_line():
    out = one("model m {\n", 10, 10)
    assert " --> a.terr:2:1" in out
    assert "2 |\n  | ^" in out


def test_multi_line_span_shows_its_first_line_and_an_ellipsis():
    text = "territory a {\n  where x\n}\nset s = [A]\n"
    out = one(text, 0, text.index("}") + 1)
    lines = out.splitlines()
    i = lines.index("1 | territory a {")
    assert lines[i + 1] == "  | " + "^" * len("territory a {")
    assert lines[i + 2] == "..."
    assert "where x" not in out


def test_span_ending_with_a_newline_ends_on_its_line():
    src = SourceFile("a.terr", "abc\ndef\n")
    assert position(src.span(0, 4)) == render_module.Position(1, 1, 1, 4)
    assert position(src.span(4, 8)) == render_module.Position(2, 1, 2, 4)
    assert position(src.span(8, 8)) == render_module.Position(3, 1, 3, 1)


def test_control_and_bidi_characters_are_shown_as_symbols():
    text = "a\x1b[31mb \u202eevil\n"
    out = one(text, 0, 1)
    assert "\x1b" not in out and "\u202e" not in out
    assert "1 | a\u241b[31mb \ufffdevil" in out


def test_long_line_is_cut_around_the_mark():
    text = "x" * 5000 + " bad " + "y" * 5000 + "\n"
    start = text.index("bad")
    out = one(text, start, start + 3)
    source_row = next(r for r in out.splitlines() if r.startswith("1 | "))
    assert source_row.startswith("1 | ...x") and source_row.endswith("y...")
    assert len(source_row) < 400
    (carets,) = caret_rows(out)
    assert source_row[carets.index("^"):carets.index("^") + 3] == "bad"


def test_lines_between_marks_one_shown_more_elided():
    text = "".join(f"line{i}\n" for i in range(1, 21))
    src = SourceFile(str(ROOT / "a.terr"), text)
    d = diag("E101", "m", at(src, "line1\n", 5), labels=[Label(at(src, "line3"), "two below"),
                                                        Label(at(src, "line12"), "far below")])
    out = render([d], "full", root=ROOT)
    assert " 2 | line2\n" in out  # a single line between two marks is shown
    assert "\n...\n12 | line12" in out  # longer stretches become `...`
    assert "line7" not in out


def test_labels_in_another_file_get_their_own_arrow():
    out = render(mixed_diagnostics()[4:5], "full", root=ROOT)
    assert out.count("-->") == 2
    assert " --> examples/acme.terr:5:5" in out and " --> lib/sets.terr:1:13" in out
    assert out.index("acme.terr") < out.index("sets.terr")


def test_label_on_the_primary_span_labels_the_carets():
    d = mixed_diagnostics()[4]
    out = render([d], "full", root=ROOT)
    assert re.search(r"\| +\^+ matches accounts in `us.west`", out)
    assert out.count("matches accounts in `us.west`") == 1


def test_diagnostic_without_span_prints_notes_only():
    out = render(mixed_diagnostics()[:1], "full", root=ROOT)
    assert out.splitlines()[:2] == ["error[E901]: the coverage analysis of model `sales` failed: RecursionError",
                                    " = note: please report it with the file that caused it"]
    assert "-->" not in out


def test_multi_line_notes_and_help_are_indented():
    out = render(mixed_diagnostics()[6:7], "full", root=ROOT)
    assert "  = note: a set nobody uses\n          may be a typo\n" in out


# --- summary line -------------------------------------------------------------------


@pytest.mark.parametrize("counts, expected", [
    ({"errors": 0, "warnings": 0, "notes": 0, "files": 3}, "all checks passed"),
    ({"errors": 1, "warnings": 0, "notes": 0, "files": 1}, "found 1 error in 1 file"),
    ({"errors": 3, "warnings": 1, "notes": 0, "files": 2}, "found 3 errors and 1 warning in 2 files"),
    ({"errors": 0, "warnings": 2, "notes": 0, "files": 2}, "found 2 warnings in 2 files"),
    ({"errors": 1, "warnings": 2, "notes": 1, "files": 5}, "found 1 error, 2 warnings and 1 note in 5 files"),
    ({"errors": 0, "warnings": 0, "notes": 2}, "found 2 notes"),
])
def test_summary_line(counts, expected):
    assert summary_line(counts) == expected


def test_summary_is_computed_when_not_given():
    ds = mixed_diagnostics()
    for fmt in ("full", "concise"):
        assert render(ds, fmt, root=ROOT).rstrip("\n").endswith("found 5 errors, 2 warnings and 1 note")
    assert json.loads(render(ds, "json", root=ROOT))["summary"] == {"errors": 5, "warnings": 2, "notes": 1}
    assert render([], "full").strip() == "all checks passed"


# --- concise ------------------------------------------------------------------------


def test_concise_is_one_line_per_diagnostic_plus_summary():
    ds = mixed_diagnostics()
    lines = render(ds, "concise", root=ROOT, summary=MIXED_SUMMARY).splitlines()
    assert len(lines) == len(ds) + 1
    assert lines[4] == "examples/acme.terr:5:5: error[E201] `na.west` and `na.bay_area` overlap under `policy unique`"
    assert lines[0].startswith("error[E901] ")
    assert lines[-1] == "found 5 errors, 2 warnings and 1 note in 4 files"


# --- json ---------------------------------------------------------------------------

REQUIRED = {"code": str, "name": str, "severity": str, "message": str, "file": (str, type(None)),
            "line": (int, type(None)), "column": (int, type(None)), "end_line": (int, type(None)),
            "end_column": (int, type(None)), "notes": list, "help": (str, type(None)), "labels": list}


def test_json_round_trips_with_required_keys_and_types():
    ds = mixed_diagnostics()
    data = json.loads(render(ds, "json", root=ROOT, summary=MIXED_SUMMARY))
    assert list(data) == ["diagnostics", "summary"]
    assert data["summary"] == MIXED_SUMMARY
    assert len(data["diagnostics"]) == len(ds)
    for obj, d in zip(data["diagnostics"], ds):
        assert list(obj)[:len(REQUIRED)] == list(REQUIRED)  # fixed keys first, in this order
        for key, kind in REQUIRED.items():
            assert isinstance(obj[key], kind), key
        assert (obj["code"], obj["name"], obj["severity"]) == (d.code, CODES[d.code].name, d.severity)
        assert obj["severity"] in ("error", "warning", "note")
        assert all(isinstance(n, str) for n in obj["notes"])
        for label in obj["labels"]:
            assert list(label) == ["message", "file", "line", "column", "end_line", "end_column"]
        if obj["file"] is not None:
            assert obj["line"] >= 1 and obj["column"] >= 1
            assert (obj["end_line"], obj["end_column"]) >= (obj["line"], obj["column"])


def test_json_positions_are_one_based_with_exclusive_end():
    obj = json_object(mixed_diagnostics()[7], ROOT)  # `ZZ` in long.terr
    col = LONG.index("ZZ") + 1
    assert (obj["file"], obj["line"], obj["column"], obj["end_line"], obj["end_column"]) == \
        ("long.terr", 1, col, 1, col + 2)


def test_json_no_span_has_null_location():
    obj = json_object(mixed_diagnostics()[0], ROOT)
    assert [obj[k] for k in ("file", "line", "column", "end_line", "end_column")] == [None] * 5


def test_json_extra_fields_at_top_level_after_the_fixed_keys():
    obj = json_object(mixed_diagnostics()[4], ROOT)
    assert list(obj)[len(REQUIRED):] == ["model", "territories", "witness", "region"]
    assert obj["witness"] == {"state": "CA", "city": "Oakland", "employees": None}
    assert obj["labels"][2] == {"message": "`CA` is in `west`", "file": "lib/sets.terr", "line": 1,
                                "column": 13, "end_line": 1, "end_column": 15}


def test_json_extra_never_replaces_a_fixed_key():
    src = SourceFile(str(ROOT / "a.terr"), "abc\n")
    d = diag("E101", "m", src.span(0, 1), file="evil", line=99, model="m")
    obj = json_object(d, ROOT)
    assert (obj["file"], obj["line"], obj["model"]) == ("a.terr", 1, "m")


def test_json_paths_relative_to_root_or_as_given():
    inside = SourceFile(str(ROOT / "sub" / "x.terr"), "a\n")
    outside = SourceFile("/elsewhere/y.terr", "a\n")
    assert json_object(diag("E101", "m", inside.span(0, 1)), ROOT)["file"] == "sub/x.terr"
    assert json_object(diag("E101", "m", outside.span(0, 1)), ROOT)["file"] == "/elsewhere/y.terr"


def test_json_relative_paths_are_taken_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = SourceFile("models/a.terr", "a\n")
    assert json_object(diag("E101", "m", src.span(0, 1)), None)["file"] == "models/a.terr"
    assert json_object(diag("E101", "m", src.span(0, 1)), tmp_path / "models")["file"] == "a.terr"


def test_json_keeps_unicode_unescaped():
    src = SourceFile(str(ROOT / "東京.terr"), "x\n")
    text = render([diag("E101", "unknown name `東京`", src.span(0, 1), witness={"city": "Zürich"})], "json", root=ROOT)
    assert "unknown name `東京`" in text and '"東京.terr"' in text and '"Zürich"' in text
    assert "\\u" not in text


# --- github -------------------------------------------------------------------------


def test_github_escaping_matches_the_actions_toolkit():
    assert github_escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github_escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_github_command_escapes_file_title_and_message():
    src = SourceFile(str(ROOT / "odd, name:1.terr"), "abc\n")
    d = diag("E101", "50% of `x`\nis wrong", src.span(1, 2), notes=["n1"], help="use `y`")
    (line,) = render([d], "github", root=ROOT).splitlines()
    assert line == ("::error file=odd%2C name%3A1.terr,line=1,col=2,endLine=1,endColumn=3,"
                    "title=terrl E101 (unknown-name)::50%25 of `x`%0Ais wrong%0Anote: n1%0Ahelp: use `y`")


def test_github_severity_commands_and_no_span():
    lines = render(mixed_diagnostics(), "github", root=ROOT).splitlines()
    assert len(lines) == len(mixed_diagnostics())
    assert lines[0].startswith("::error title=terrl E901 (internal-error)::")
    assert lines[1].startswith("::error file=broken.terr,line=2,col=16,endLine=2,endColumn=16,")
    assert lines[2].startswith("::warning file=examples/acme.terr,line=1,col=1,")
    assert lines[3].startswith("::notice file=examples/acme.terr,")
    assert all("\n" not in line and "\r" not in line for line in lines)


# --- sarif --------------------------------------------------------------------------


def test_sarif_has_a_rule_for_every_registered_code():
    log = json.loads(render([], "sarif", root=ROOT))
    SARIF_VALIDATOR.validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "terrl" and driver["version"] == terrl.__version__
    assert driver["informationUri"] == "https://example.com/terrl"
    assert [r["id"] for r in driver["rules"]] == sorted(CODES)
    for rule in driver["rules"]:
        entry = CODES[rule["id"]]
        assert rule["name"] == entry.name
        assert rule["shortDescription"]["text"] == entry.summary
        assert rule["fullDescription"]["text"] == (entry.explanation or entry.summary)
        assert rule["defaultConfiguration"]["level"] == entry.severity
        assert rule["helpUri"] == f"https://example.com/terrl/blob/main/docs/errors.md#{entry.code.lower()}"


def test_sarif_without_a_project_url_omits_links(monkeypatch):
    monkeypatch.setattr(render_module, "project_url", lambda: None)
    log = json.loads(render(mixed_diagnostics(), "sarif", root=ROOT))
    SARIF_VALIDATOR.validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver and all("helpUri" not in r for r in driver["rules"])


def test_sarif_results_locations_and_properties():
    log = json.loads(render(mixed_diagnostics(), "sarif", root=ROOT))
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///project/"}}
    overlap = run["results"][4]
    assert overlap["ruleId"] == "E201" and run["tool"]["driver"]["rules"][overlap["ruleIndex"]]["id"] == "E201"
    assert overlap["level"] == "error"
    location = overlap["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "examples/acme.terr", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 5, "endLine": 7, "endColumn": 6}
    assert [r["message"]["text"] for r in overlap["relatedLocations"]] == [
        "matches accounts in `us.west`", "also matches them", "`CA` is in `west`"]
    assert overlap["properties"]["witness"]["state"] == "CA"
    assert overlap["properties"]["territories"] == ["na.west", "na.bay_area"]
    assert "locations" not in run["results"][0]  # no span
    assert [r["level"] for r in run["results"][1:4]] == ["error", "warning", "note"]


def test_sarif_file_outside_root_gets_an_absolute_uri():
    src = SourceFile("/elsewhere/y.terr", "abc\n")
    log = json.loads(render([diag("E101", "m", src.span(0, 1))], "sarif", root=ROOT))
    SARIF_VALIDATOR.validate(log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///elsewhere/y.terr"}


def fingerprints(diagnostics) -> list[str]:
    log = json.loads(render(diagnostics, "sarif", root=ROOT))
    return [r["partialFingerprints"]["terrl/v1"] for r in log["runs"][0]["results"]]


def overlap_in(text: str, message: str = "`na.west` and `na.east` overlap") -> Diagnostic:
    src = SourceFile(str(ROOT / "a.terr"), text)
    return diag("E201", message, at(src, "west"), model="m", territories=["na.west", "na.east"])


def test_sarif_fingerprint_survives_moving_code():
    before = overlap_in("model m {\n  territory west {}\n}\n")
    after = overlap_in("## docs\n\nmodel m {\n\n\n    territory west {}\n}\n")
    assert fingerprints([before]) == fingerprints([after])


def test_sarif_fingerprint_changes_with_what_the_finding_is_about():
    base = fingerprints([overlap_in("territory west\n")])
    other_pair = overlap_in("territory west\n")
    other_pair.extra["territories"] = ["na.west", "na.south"]
    other_code = diag("E203", "m", overlap_in("territory west\n").span, model="m",
                      territories=["na.west", "na.east"])
    other_file = overlap_in("territory west\n")
    other_file.span = SourceFile(str(ROOT / "b.terr"), "territory west\n").span(10, 14)
    for d in (other_pair, other_code, other_file):
        assert fingerprints([d]) != base


def test_sarif_identical_findings_get_distinct_fingerprints():
    src = SourceFile(str(ROOT / "a.terr"), "x x\n")
    ds = [diag("E101", "unknown name `x`", src.span(0, 1)), diag("E101", "unknown name `x`", src.span(2, 3))]
    a, b = fingerprints(ds)
    assert a != b


def test_sarif_of_a_real_check_validates(monkeypatch):
    from terrl.pipeline import check_paths

    monkeypatch.chdir(REPO)
    result = check_paths([Path("examples/acme")])
    assert result.diagnostics, "the acme example has known overlaps"
    log = json.loads(render(result.diagnostics, "sarif"))
    SARIF_VALIDATOR.validate(log)
    def uris(levels):
        return {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
                if r["level"] in levels}
    assert uris({"error", "warning"}) == {"examples/acme/acme.terr"}
    assert uris({"note"}) == {"examples/acme/acme.terr", "examples/acme/fy28.terr"}  # what `policy first` decides
    data = json.loads(render(result.diagnostics, "json"))
    assert all(d["territories"] and "witness" in d for d in data["diagnostics"] if d["name"] == "overlap")


# --- colour -------------------------------------------------------------------------


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("env, tty, expected", [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value disables colour
    ({"TERM": "dumb"}, True, False),
    ({"TERM": "xterm-256color"}, True, True),
])
def test_use_color(monkeypatch, env, tty, expected):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert use_color(FakeStream(tty)) is expected


def test_use_color_on_odd_streams(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(object()) is False
    closed = FakeStream(True)
    closed.isatty = lambda: (_ for _ in ()).throw(ValueError("I/O operation on closed file"))
    assert use_color(closed) is False


def test_color_only_when_asked():
    ds = mixed_diagnostics()
    for fmt in FORMATS:
        assert "\x1b" not in render(ds, fmt, root=ROOT)
    colored = render(ds, "full", color=True, root=ROOT)
    assert "\x1b[1;31merror[E201]\x1b[0m" in colored
    assert "\x1b[1;33mwarning[W101]\x1b[0m" in colored
    assert "\x1b[1;36mnote[W201]\x1b[0m" in colored
    assert "\x1b[1;36mhelp\x1b[0m: " in colored


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render([], "xml")


# --- any text, any span -------------------------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(list("ab {}\n\t\r\"東é\u0301\x00\u202e😀")), max_size=40)


@settings(max_examples=40, deadline=None)
@given(text=TEXT, data=st.data())
def test_any_span_renders_in_every_format(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    label_start = data.draw(st.integers(0, len(text)))
    src = SourceFile(str(ROOT / "f.terr"), text)
    d = diag("E003", "m", src.span(start, end), labels=[Label(src.span(label_start, len(text)), "l")],
             notes=["n\tx"], help="h")
    full = render([d], "full", root=ROOT)
    assert "\r" not in full and "\x00" not in full and "\u202e" not in full
    assert len(caret_rows(full)) == 2 or _same_start_line(d)
    obj = json.loads(render([d], "json", root=ROOT))["diagnostics"][0]
    assert (obj["end_line"], obj["end_column"]) >= (obj["line"], obj["column"])
    SARIF_VALIDATOR.validate(json.loads(render([d], "sarif", root=ROOT)))
    assert len(render([d], "github", root=ROOT).splitlines()) == 1


def _same_start_line(d: Diagnostic) -> bool:
    # The label on the primary span's exact span becomes the primary's message: one row.
    return d.labels[0].span.start == d.span.start and d.labels[0].span.end == d.span.end
