"""docs/cli.md and docs/errors.md are generated (docs/generate.py) and must be up to date."""

from __future__ import annotations

import importlib.util
import re

from support import REPO, run_cli


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", REPO / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date():
    text = _generator().cli_reference()
    assert (REPO / "docs" / "cli.md").read_text(encoding="utf-8") == text, "run python docs/generate.py"
    for command in ("check", "fmt", "assign", "docs", "test"):
        assert f"## terrl {command}\n" in text
    assert "--no-config" in text and "--diff" in text


def test_error_index_is_up_to_date_with_an_anchor_per_code():
    from terrl.diagnostics.core import CODES

    text = _generator().error_index()
    assert (REPO / "docs" / "errors.md").read_text(encoding="utf-8") == text, "run python docs/generate.py"
    anchors = re.findall(r'<a id="([a-z]\d{3})"></a>', text)
    assert sorted(anchors) == sorted(code.lower() for code in CODES)


def test_sarif_help_uri_points_at_the_error_index():
    """The anchors are what rule help links use: `errors.md#e201`."""
    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    assert '<a id="e201"></a>\n\n## E201 `overlap`' in text


def test_check_mode_reports_stale_pages(tmp_path, monkeypatch):
    gen = _generator()
    monkeypatch.setattr(gen, "DOCS", tmp_path)
    assert gen.main(["--check"]) == 1  # nothing written yet
    assert gen.main([]) == 0 and (tmp_path / "cli.md").exists()
    assert gen.main(["--check"]) == 0


def test_getting_started_example_behaves_as_the_page_says(tmp_path, monkeypatch):
    page = (REPO / "docs" / "getting-started.md").read_text(encoding="utf-8")
    example = re.search(r"```terr\n(.*?)```", page, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "territories.terr").write_text(example, encoding="utf-8")
    result = run_cli(["check", "--no-config", "--format", "concise", "territories.terr"])
    assert result.exit_code == 0 and "warning[W306]" in result.output and "no `state`" in result.output
    assert "error" not in result.output.replace("0 errors", "")
    assert run_cli(["fmt", "--check", "--no-config", "territories.terr"]).exit_code == 0
