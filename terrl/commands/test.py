"""`terrl test PATH...`: run the `test` blocks of `.terr` files through the evaluator."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UserError, no_terr_files


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Print failures and the summary only.")
def test(paths: tuple[Path, ...], quiet: bool) -> None:
    """Run every `test` block in PATHS (files or folders; default: the current folder).

    Each expectation is checked with the compiled evaluator; a failure prints the
    expected and the actual result with the test's source line. Exit status: 0 all
    passed, 1 a test failed or a file has errors, 2 a path cannot be read.
    """
    from ..pipeline import UsageError, check_paths
    from ..testing import run_tests
    from ._model import concise

    paths = paths or (Path("."),)
    try:
        result = check_paths(list(paths), stop_after="resolve")
    except UsageError as exc:
        raise UserError(str(exc))
    if not result.files:
        raise no_terr_files(paths)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    for d in errors:
        click.echo(concise(d), err=True)
    passed = failed = 0
    for shown, program in result.programs.items():
        for outcome in run_tests(program):
            if outcome.passed:
                passed += 1
                if not quiet:
                    click.echo(f"PASS {outcome.location}  {outcome.name}")
            else:
                failed += 1
                click.echo(f"FAIL {outcome.location}  {outcome.name}")
                click.echo(f"     {outcome.model}: expected {outcome.expected}")
                click.echo(f"     {' ' * len(outcome.model)}  actual   {outcome.actual}")
                if outcome.source_line:
                    click.echo(f"     | {outcome.source_line}")
    summary = f"{passed} passed, {failed} failed"
    if errors:
        summary += f", {len(errors)} error{'s' if len(errors) != 1 else ''} in the files"
    click.echo(summary)
    if any(d.code == "E001" for d in errors):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_ERRORS if failed or errors else EXIT_OK)
