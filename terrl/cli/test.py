"""`terrl test PATH...`: run the `test` blocks of `.terr` files, and case tables (`--cases`), through the evaluator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from terrl.cli.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UserError, no_terr_files

FORMATS = ("text", "json", "github", "sarif")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Print failures and the summary only (text format).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: PASS/FAIL lines; json: every test and the summary; github, sarif: failures (E401) "
                   "and file errors as annotations.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Read this configuration file instead of looking for terrl.toml / pyproject.toml.")
@click.option("--no-config", is_flag=True, help="Ignore configuration files.")
@click.option("--cases", "case_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A case table to check too (repeatable): a CSV or JSON Lines account file, read as `terrl assign` "
                   "reads one, with an `expect` column (a territory path, several joined with `;`, `unassigned` or "
                   "`invalid`), optionally `model` and `case` (the row's name) columns.")
@click.option("--model", "model_name", help="The model the case tables' rows are checked against when they have no "
                                            "`model` column (needed when the files declare several).")
def test(paths: tuple[Path, ...], quiet: bool, fmt: str, output: Path | None, config_path: Path | None,
         no_config: bool, case_files: tuple[Path, ...] = (), model_name: str | None = None) -> None:
    """Run every `test` block in PATHS (files or folders; default: the configuration's
    `include` patterns, else the current folder; the configuration's excludes apply).

    Each expectation is checked with the compiled evaluator; a failure prints the
    expected and the actual result with the test's source line. `--cases FILE` checks
    each row of a table of accounts the same way, a failure located at its line (the
    models are those of PATHS). Exit status: 0 all passed, 1 a test failed or a file (or
    a case table) has errors, 2 a path or the configuration cannot be read.
    """
    from terrl.diagnostics.core import sort_diagnostics
    from terrl.pipeline import Compilation, UsageError
    from terrl.diagnostics.render import json_object, render
    from terrl.diagnostics.source import display_path
    from terrl.targets.testing import run_case_table, run_tests
    from terrl.cli._model import concise
    from terrl.cli._report import write_report
    from terrl.cli._selection import command_config, select_files

    config = command_config(config_path, no_config)
    files, all_excluded = select_files(paths, config)
    if all_excluded:
        click.echo(f"nothing to test: {', '.join(str(p) for p in paths)} excluded by {config.path}", err=True)
        sys.exit(EXIT_OK)
    if not files:
        raise no_terr_files(paths or (Path("."),))
    try:
        compilation = Compilation.from_paths(files)
    except UsageError as exc:
        raise UserError(str(exc))
    errors = [d for d in compilation.diagnostics if d.severity == "error"]
    outcomes = [outcome for unit in compilation.units for outcome in run_tests(unit.program)]
    evaluators: dict = {}  # one per model, shared by the tables
    # The models of the files given, and those their tests name in files they import (a test
    # file beside its table), each once.
    models = {(m.file, m.name): m for m in compilation.models}
    for unit in compilation.units:
        for _, m in unit.program.tested_models:
            models.setdefault((m.file, m.name), m)
    for case_file in case_files:
        table_outcomes, problems = run_case_table(case_file, display_path(case_file), list(models.values()),
                                                  model_name, evaluators)
        outcomes += table_outcomes
        errors += problems
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    summary = {"passed": passed, "failed": failed, "errors": len(errors)}

    if fmt == "text":
        lines = []
        for d in errors:  # on stderr, unless the report goes to a file
            if output is None:
                click.echo(concise(d), err=True)
            else:
                lines.append(concise(d))
        for o in outcomes:
            if o.passed:
                if not quiet:
                    lines.append(f"PASS {o.location}  {o.name}")
                continue
            lines += [f"FAIL {o.location}  {o.name}",
                      f"     {o.model}: expected {o.expected}",
                      f"     {' ' * len(o.model)}  actual   {o.actual}"]
            if o.source_line:
                lines.append(f"     | {o.source_line}")
        text = f"{passed} passed, {failed} failed"
        if errors:
            text += f", {len(errors)} error{'s' if len(errors) != 1 else ''} in the files"
        report = "\n".join(lines + [text]) + "\n"
    else:
        diagnostics = sort_diagnostics(errors + [o.diagnostic for o in outcomes if o.diagnostic is not None])
        if fmt == "json":
            tests = [{"name": o.name, "model": o.model, "passed": o.passed, "expected": o.expected,
                      "actual": o.actual, "file": o.file, "line": o.line} for o in outcomes]
            report = json.dumps({"tests": tests, "diagnostics": [json_object(d, None) for d in diagnostics],
                                 "summary": summary}, ensure_ascii=False, indent=2) + "\n"
        else:
            report = render(diagnostics, fmt)
    write_report(report, output, "test")
    if any(d.code == "E001" for d in errors):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_ERRORS if failed or errors else EXIT_OK)
