"""`terrl check PATH...`: parse, type-check and analyze; print diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from ..pipeline import STAGES, UsageError, check_paths


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["full", "concise", "json", "github", "sarif"]), default="full",
              show_default=True, help="How to print diagnostics.")
@click.option("--color/--no-color", default=None, help="Colour the full format (default: only on a terminal, never with NO_COLOR).")
@click.option("--stop-after", type=click.Choice(STAGES), default="analyze", show_default=True,
              help="Stop after this pass (parse, resolve, analyze).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
def check(paths: tuple[Path, ...], fmt: str, color: bool | None, stop_after: str, output: Path | None) -> None:
    """Check `.terr` files: syntax, names, types, gaps, overlaps.

    PATHS are files or directories (searched for *.terr); the default is the current
    directory. Exit status: 0 no errors, 1 errors found, 2 a path cannot be read.
    """
    from ..render import render, use_color

    try:
        result = check_paths(list(paths) or [Path(".")], stop_after=stop_after)
    except UsageError as exc:
        raise click.UsageError(str(exc))
    if not result.files:
        raise click.UsageError("no .terr files found in " + ", ".join(str(p) for p in (paths or (Path("."),))))
    diagnostics = result.diagnostics
    summary = {
        "files": len(result.files),
        "models": len(result.models),
        "errors": sum(d.severity == "error" for d in diagnostics),
        "warnings": sum(d.severity == "warning" for d in diagnostics),
        "notes": sum(d.severity == "note" for d in diagnostics),
    }
    stream = sys.stdout
    if color is None:
        color = output is None and use_color(stream)
    text = render(diagnostics, fmt, color=color, summary=summary)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=not text.endswith("\n"), color=color)
    if any(d.code == "E001" for d in diagnostics):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_ERRORS if summary["errors"] else EXIT_OK)
