"""`terrl check` from the user's side: exit codes, formats, paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from terrl.cli.app import main

from support import REPO, make_project, run_cli

CLEAN = "schema A { id: string key  n: int }\nmodel M { territory a { where n > 0 } territory b { else } }\n"
BROKEN = "schema A { id: string key  n: int }\nmodel M { territory a { where m > 0 } territory b { else } }\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, {"clean.terr": CLEAN, "broken.terr": BROKEN}, monkeypatch=monkeypatch)


def test_clean_file_exits_0(project):
    result = run_cli(["check", "clean.terr"])
    assert result.exit_code == 0, result.output


def test_errors_exit_1_with_location(project):
    result = run_cli(["check", "broken.terr", "--format", "concise"])
    assert result.exit_code == 1
    assert "broken.terr:2:31: error[E101]" in result.output


def test_json_contract(project):
    result = run_cli(["check", "broken.terr", "clean.terr", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert set(data) == {"diagnostics", "summary"}
    (d,) = data["diagnostics"]
    for key in ("code", "name", "severity", "message", "file", "line", "column", "end_line", "end_column", "notes"):
        assert key in d, key
    assert (d["code"], d["name"], d["severity"]) == ("E101", "unknown-name", "error")
    assert (d["file"], d["line"], d["column"], d["end_line"], d["end_column"]) == ("broken.terr", 2, 31, 2, 32)
    assert data["summary"]["errors"] == 1 and data["summary"]["files"] == 2


def test_directory_is_searched_recursively(project):
    (project / "sub").mkdir()
    (project / "sub" / "deep.terr").write_text(BROKEN, encoding="utf-8")
    (project / ".hidden").mkdir()
    (project / ".hidden" / "skip.terr").write_text("garbage", encoding="utf-8")
    result = run_cli(["check", ".", "--format", "json"])
    files = sorted({d["file"] for d in json.loads(result.output)["diagnostics"]})
    assert files == ["broken.terr", "sub/deep.terr"]


def test_missing_path_is_a_usage_error(project):
    result = run_cli(["check", "nope.terr"])
    assert result.exit_code == 2
    assert "no such file" in result.output


@pytest.mark.parametrize("args, message", [
    (["check", "nope.terr"], "no such file or directory: `nope.terr`"),
    (["test", "nope"], "no such file or directory: `nope`"),
    (["docs", "nope", "-o", "out"], "no such file or directory: `nope`"),
    (["explain", ".", "--account", "{}"], "`.` is a folder; give one `.terr` file"),
    (["explain", "clean.terr", "--account", '{"n": '], "--account is not valid JSON: Expecting value (column 7)"),
    (["explain", "clean.terr", "--account", "[1]"], "--account must be a JSON object"),
    (["explain", "clean.terr", "--model", "Q", "--account", "{}"], "no model `Q`; the file has `M`"),
])
def test_input_errors_are_one_line_without_the_usage_banner(project, args, message):
    """The command line was typed right; what it names is wrong: say that in one line, exit 2."""
    result = run_cli(args)
    assert result.exit_code == 2
    assert result.output.startswith("terrl: error: " + message), result.output
    assert "Usage:" not in result.output and "--help" not in result.output


def test_unreadable_file_exits_2(project):
    (project / "dangling.terr").symlink_to(project / "gone.terr")
    result = run_cli(["check", "dangling.terr", "--format", "concise"])
    assert result.exit_code == 2
    assert "E001" in result.output


def test_empty_directory_is_a_usage_error(project):
    (project / "empty").mkdir()
    result = run_cli(["check", "empty"])
    assert result.exit_code == 2


def test_bad_format_is_a_usage_error(project):
    assert run_cli(["check", "clean.terr", "--format", "xml"]).exit_code == 2


def test_stop_after_parse_skips_name_errors(project):
    assert run_cli(["check", "broken.terr", "--stop-after", "parse"]).exit_code == 0


def test_output_file(project):
    result = run_cli(["check", "broken.terr", "--format", "json", "-o", "report.json"])
    assert result.exit_code == 1
    assert json.loads((project / "report.json").read_text())["summary"]["errors"] == 1


def test_output_file_that_cannot_be_written_is_a_usage_error(project):
    (project / "plain").write_text("", encoding="utf-8")
    for target in ["missing/report.json", "plain/report.json"]:
        result = run_cli(["check", "broken.terr", "-o", target])
        assert result.exit_code == 2 and f"cannot write {target}" in result.output, result.output


def test_standard_input(project):
    result = run_cli(["check", "-", "--format", "concise"], input=BROKEN)
    assert result.exit_code == 1 and "<stdin>:2:31: error[E101]" in result.output, result.output
    assert run_cli(["check", "-"], input=CLEAN).exit_code == 0
    assert run_cli(["check", "-", "clean.terr"], input=CLEAN).exit_code == 2


def test_standard_input_is_decoded_like_a_file(project):
    """Not UTF-8 on stdin is E002 at the byte, as in a file (not mojibake checked as text); a BOM is dropped."""
    result = run_cli(["check", "-", "--format", "concise"], input=b'schema A { id: string key }\nset s: string = {"caf\xe9"}\n')
    assert result.exit_code == 1 and "<stdin>:2:22: error[E002]" in result.output, result.output
    assert run_cli(["check", "-"], input=b"\xef\xbb\xbf" + CLEAN.encode()).exit_code == 0


def test_no_color_when_not_a_tty(project):
    result = run_cli(["check", "broken.terr"])
    assert "\x1b[" not in result.output


def test_python_dash_m_and_internal_error_exit_code(project):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ok = subprocess.run([sys.executable, "-m", "terrl", "check", "clean.terr"], cwd=project, env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    version = subprocess.run([sys.executable, "-m", "terrl", "--version"], cwd=project, env=env, capture_output=True, text=True)
    assert "terrl" in version.stdout


def test_check_as_a_process_ends_with_its_whole_report_and_exit_code(project):
    """`terrl check` run as the program ends the process at once (app._exit_process): the
    report is still complete on a pipe and in `-o FILE`, and the exit code is kept."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    files = [f"f{i}.terr" for i in range(30)]
    for name in files:
        (project / name).write_text(BROKEN, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "terrl", "check", "--format", "json", *files], cwd=project, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)  # the whole of a long report reached the pipe
    assert report["summary"]["errors"] == 30 and len(report["diagnostics"]) >= 30
    written = subprocess.run([sys.executable, "-m", "terrl", "check", "--format", "json", "-o", "out.json", *files],
                             cwd=project, env=env, capture_output=True, text=True)
    assert written.returncode == 1 and json.loads((project / "out.json").read_text(encoding="utf-8")) == report
    usage = subprocess.run([sys.executable, "-m", "terrl", "check", "missing.terr"], cwd=project, env=env,
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "missing.terr" in usage.stderr


def test_internal_errors_say_so_and_exit_3(project, monkeypatch, capsys):
    from terrl.pipeline import Compilation

    def boom(*args, **kwargs):
        raise ValueError("synthetic failure")

    monkeypatch.setattr(Compilation, "check", boom)
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "clean.terr"])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err


def test_examples_and_stdlib_check_clean(repo):
    result = run_cli(["check", str(repo / "examples" / "acme" / "fy28.terr"), str(repo / "stdlib"), "--format", "concise"])
    assert result.exit_code == 0, result.output


def test_github_and_sarif_paths_are_relative_to_the_repository(tmp_path, monkeypatch):
    """GitHub resolves annotation and SARIF paths from the repository's top folder, wherever terrl ran."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "broken.terr").write_text(BROKEN, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "rules")
    assert run_cli(["check", "--format", "github", "broken.terr"]).output.startswith("::error file=rules/broken.terr,line=2")
    log = json.loads(run_cli(["check", "--format", "sarif", "broken.terr"]).output)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "rules/broken.terr", "uriBaseId": "%SRCROOT%"}
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run_cli(["check", "--format", "concise", "broken.terr"]).output.startswith("broken.terr:2:31")
