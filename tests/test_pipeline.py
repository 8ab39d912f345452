"""The one pipeline (terrl/pipeline.py): a Compilation reads and parses at once, resolves on
first use, and runs the analysis and lint only when asked, once each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import terrl
from terrl.cli.app import cli
from terrl.diagnostics.core import NOT_UNDERSTOOD_PREFIXES, diag, not_understood
from terrl.pipeline import Compilation, UsageError
from terrl.project.config import FIXED_PREFIXES, Config, LintOptions

GAP = 'schema A { id: string key  n: int in 0..10 }\nmodel P "P" { territory t "T" { where n < 5 owner "o@x.example" } }\n'
UNUSED_IMPORT = ('import geo.us\nschema B { id: string key  n: int in 0..10 }\n'
                 'model Q "Q" { territory t "T" { where n < 10 owner "o@x.example" } }\n')
NO_OWNER = ('schema A { id: string key  n: int in 0..10 }\n'
            'model P "P" { territory t "T" { where n < 5 } territory u "U" { where n >= 5 owner "o@x.example" } }\n')


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def codes(diagnostics) -> list[tuple[str, str]]:
    return [(d.code, d.span.file.path.rpartition("/")[2] if d.span else "") for d in diagnostics]


def test_stages_run_when_asked_and_once(tmp_path, monkeypatch):
    from terrl.analysis import coverage, lint

    calls = {"analyze": 0, "lint": 0}
    analyze, lint_program = coverage.analyze, lint.lint_program

    def counted_analyze(model):
        calls["analyze"] += 1
        return analyze(model)

    def counted_lint(*args):
        calls["lint"] += 1
        return lint_program(*args)

    monkeypatch.setattr(coverage, "analyze", counted_analyze)
    monkeypatch.setattr(lint, "lint_program", counted_lint)
    c = Compilation.from_paths([write(tmp_path, "a.terr", NO_OWNER)])
    assert len(c.files) == 1 and c.files[0].endswith("a.terr")
    assert c.diagnostics == [] and c.ok and c.understood and [m.name for m in c.models] == ["P"]
    assert calls == {"analyze": 0, "lint": 0}
    assert c.findings == [] and c.findings == []
    assert [d.code for d in c.lint()] == ["W301"] and [d.code for d in c.lint()] == ["W301"]
    assert calls == {"analyze": 1, "lint": 1}
    c.lint(LintOptions(inherited_owners=False))  # other options: lint again
    assert calls == {"analyze": 1, "lint": 2}
    # what `terrl check` reports is the compilation's check
    assert [d.code for d in c.check(config=Config(severity={"W301": "off"}))] == []
    assert [d.code for d in c.check(stop_after="parse")] == []
    assert [d.code for d in c.check()] == ["W301"]


def test_not_understood_stops_analysis_and_lint(tmp_path):
    c = Compilation.from_source(NO_OWNER.replace("n < 5", "m < 5"), "bad.terr", base=tmp_path)
    assert [d.code for d in c.diagnostics] == ["E101"] and not c.understood
    assert c.findings == [] and c.lint() == []
    assert [d.code for d in c.check()] == ["E101"]
    # the one rule, used by the pipeline and by the configuration (which cannot silence such errors)
    assert FIXED_PREFIXES[:len(NOT_UNDERSTOOD_PREFIXES)] == NOT_UNDERSTOOD_PREFIXES
    assert not_understood(diag("E003", "x", None)) and not not_understood(diag("E202", "x", None))


def test_a_gap_in_one_file_does_not_hide_warnings_in_the_next(tmp_path, monkeypatch):
    # Before the Compilation, `terrl check a.terr b.terr` analyzed a.terr before resolving
    # b.terr, and a.terr's gap (an error) silenced b.terr's unused-import warning, which
    # `--stop-after resolve` and `terrl check b.terr` both showed.
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.terr", GAP)
    write(tmp_path, "b.terr", UNUSED_IMPORT)
    c = Compilation.from_paths([Path("a.terr"), Path("b.terr")])
    assert codes(c.check()) == [("E202", "a.terr"), ("W101", "b.terr"), ("E202", "b.terr")]
    result = CliRunner().invoke(cli, ["check", "a.terr", "b.terr", "--format", "json", "--no-config"])
    shown = [(d["code"], d["file"]) for d in json.loads(result.output)["diagnostics"]]
    assert shown == [("E202", "a.terr"), ("W101", "b.terr"), ("E202", "b.terr")]


def test_findings_only_for_files_that_resolved(tmp_path):
    write(tmp_path, "a.terr", GAP)
    write(tmp_path, "b.terr", GAP.replace("n < 5", "m < 5"))
    c = Compilation.from_paths([tmp_path])
    assert [u.shown.rpartition("/")[2] for u in c.units] == ["a.terr", "b.terr"]
    assert codes(c.findings) == [("E202", "a.terr")]
    assert codes(c.diagnostics_through("analyze")) == [("E202", "a.terr"), ("E101", "b.terr")]
    # a gap lets an evaluator be built; a name error does not
    assert codes(c.blocking_errors()) == [("E101", "b.terr")]


def test_unreadable_and_missing(tmp_path):
    c = Compilation.from_paths([write(tmp_path, "x.terr", "").with_name("x.terr")])
    assert [d.code for d in c.diagnostics] == ["E007"] and c.units[0].program.models == ()
    with pytest.raises(UsageError, match="no such file or directory"):
        Compilation.from_paths([tmp_path / "missing.terr"])
    bad = Compilation.from_source(b"\xff\xfe", "bin.terr")
    assert [d.code for d in bad.diagnostics] == ["E002"] and bad.units == [] and bad.files == ["bin.terr"]


def test_public_api_goes_through_the_compilation(tmp_path):
    assert terrl.Compilation is Compilation
    path = write(tmp_path, "m.terr", GAP)
    assert terrl.load(path).assign({"id": "1", "n": 7}).status == "unassigned"  # a gap does not stop load
    with pytest.raises(terrl.ModelError) as info:
        terrl.load(write(tmp_path, "bad.terr", GAP.replace("n < 5", "m < 5")))
    assert [d.code for d in info.value.diagnostics] == ["E101"]
