"""action.yml, .pre-commit-hooks.yaml and the example workflow in docs/github-actions.md.

Validated against the published schemas (SchemaStore's github-action and github-workflow
schemas, as vendored by check-jsonschema) when check-jsonschema is installed; the
structural tests run everywhere. The pre-commit hooks are run for real by
scripts/try-pre-commit.sh (slow: pre-commit builds a virtualenv with terrl in it).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from support import REPO


def _workflow_text() -> str:
    text = (REPO / "docs" / "github-actions.md").read_text(encoding="utf-8")
    return re.search(r"```yaml\n(name: territories.*?)```", text, re.S).group(1)


def test_action_structure():
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"paths", "args", "sarif-file", "python-version"}
    steps = action["runs"]["steps"]
    assert all("shell" in s for s in steps if "run" in s)  # composite run steps must name a shell
    script = "\n".join(s.get("run", "") for s in steps)
    assert 'pip install' in script and "$GITHUB_ACTION_PATH" in script
    assert "--format github" in script and "$GITHUB_STEP_SUMMARY" in script and "--format sarif" in script
    assert "${{" not in script  # inputs reach the script through env, never spliced into its text


def test_pre_commit_hooks_structure():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"terrl-check", "terrl-fmt"}
    for hook in hooks:
        assert hook["language"] == "python" and re.search(hook["files"], "a/b.terr")
        assert not re.search(hook["files"], "a/b.terr.bak")
        assert hook["entry"].split()[:2] == ["terrl", hook["id"].split("-")[1]]


def test_example_workflow_uses_the_action_and_uploads_sarif():
    workflow = yaml.safe_load(_workflow_text())
    steps = workflow["jobs"]["terrl"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.endswith("/terrl@v0.1.0") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)


@pytest.mark.skipif(shutil.which("check-jsonschema") is None,
                    reason="check-jsonschema (pip install check-jsonschema) vendors the GitHub schemas")
@pytest.mark.parametrize("schema, name", [("vendor.github-actions", "action"), ("vendor.github-workflows", "workflow")])
def test_against_published_schemas(tmp_path, schema, name):
    if name == "action":
        target = REPO / "action.yml"
    else:
        target = tmp_path / "workflow.yml"
        target.write_text(_workflow_text(), encoding="utf-8")
    run = subprocess.run(["check-jsonschema", "--builtin-schema", schema, str(target)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed (pip install pre-commit)")
def test_pre_commit_manifest_is_valid():
    run = subprocess.run(["pre-commit", "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed (pip install pre-commit)")
def test_pre_commit_try_repo():
    run = subprocess.run(["bash", str(REPO / "scripts" / "try-pre-commit.sh")], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
