"""The README is the front door: its example and its main job must keep working."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from support import REPO, run_cli

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_tour_example_checks_clean_and_its_test_passes(tmp_path, monkeypatch):
    tour = re.search(r"```terr\n(.*?)```", README, re.S).group(1)
    (tmp_path / "tour.terr").write_text(tour, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    check = run_cli(["check", "tour.terr", "--format", "concise"])
    assert check.exit_code == 0 and "all checks passed" in check.output, check.output
    test = run_cli(["test", "tour.terr"])
    assert test.exit_code == 0, test.output
    fmt = run_cli(["fmt", "--check", "tour.terr"])
    assert fmt.exit_code == 0, fmt.output


@pytest.mark.slow
def test_main_job_runs_on_the_bundled_example(tmp_path):
    """The first command of the README, after the install: check, compile, docs."""
    line = next(l for l in README.splitlines() if l.startswith("python3 -m venv"))
    steps = [s.strip() for s in re.split(r"&&|;", line) if s.strip().startswith("terrl ")]
    assert [s.split()[1] for s in steps] == ["check", "compile", "docs"]
    results = []
    for step in steps:
        args = step.split()[1:]
        args = [str(REPO / a) if a.startswith("examples/") else str(tmp_path / a) if a.startswith("out/") else a
                for a in args]
        results.append(subprocess.run([sys.executable, "-m", "terrl", *args], capture_output=True, text=True,
                                      cwd=REPO))
    check, compile_, docs = results
    assert check.returncode == 1 and "`na.west` and `na.bay_area` overlap" in check.stdout
    assert compile_.returncode == 0, compile_.stderr
    assert docs.returncode == 0, docs.stderr
    assert (tmp_path / "out" / "assign_fy28.py").is_file()
    assert (tmp_path / "out" / "docs" / "index.html").is_file()
    snippet = re.search(r'`python -c "(.*?)"`', README).group(1)
    run = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, cwd=tmp_path)
    assert "status='assigned'" in run.stdout and "na.west.west_ent" in run.stdout, run.stderr
