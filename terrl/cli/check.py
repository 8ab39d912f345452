"""`terrl check PATH...`: parse, type-check and analyze; print diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from terrl.gcpause import paused_gc
from terrl.cli.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UserError, no_terr_files
from terrl.pipeline import STAGES, Compilation, UsageError


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["full", "concise", "json", "github", "sarif"]), default="full",
              show_default=True, help="How to print diagnostics.")
@click.option("--color/--no-color", default=None, help="Colour the full format (default: only on a terminal, never with NO_COLOR).")
@click.option("--stop-after", type=click.Choice(STAGES), default="analyze", show_default=True,
              help="Stop after this pass (parse, resolve, analyze).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Read this configuration file instead of looking for terrl.toml / pyproject.toml.")
@click.option("--no-config", is_flag=True, help="Ignore configuration files (built-in defaults).")
@paused_gc()  # a check frees by reference counting: terrl/gcpause.py
def check(paths: tuple[Path, ...], fmt: str, color: bool | None, stop_after: str, output: Path | None,
          config_path: Path | None, no_config: bool) -> None:
    """Check `.terr` files: syntax, names, types, gaps, overlaps, lint rules.

    PATHS are files or directories (searched for *.terr), or `-` for standard input;
    the default is the configuration's `include` patterns, else the current directory. The configuration
    (terrl.toml or [tool.terrl] in pyproject.toml, found from the current directory
    upwards) sets excludes, models, severity overrides and lint options.
    Exit status: 0 no errors, 1 errors found, 2 a path or the configuration cannot be read.
    Warnings and notes (such as N201, which names the overlaps `policy first` settles and
    which sibling wins) never change it; `[severity]` can make any of them an error.
    """
    from terrl.cli._report import write_report
    from terrl.cli._selection import command_config, select_files
    from terrl.cli.app import skip_teardown
    from terrl.diagnostics.render import render, use_color

    skip_teardown()  # a check holds the whole model until it exits: let the OS free it

    config = command_config(config_path, no_config)
    all_excluded = False
    if Path("-") in paths and paths != (Path("-"),):
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")
    try:
        if paths == (Path("-"),):  # an editor or a script pipes one file in; imports resolve from here
            compilation = Compilation.from_source(sys.stdin.buffer.read(), "<stdin>")
        else:
            files, all_excluded = select_files(paths, config)
            compilation = Compilation.from_paths(files)
    except UsageError as exc:
        raise UserError(str(exc))
    if all_excluded:
        click.echo(f"nothing to check: {', '.join(str(p) for p in paths)} excluded by {config.path}", err=True)
    elif not compilation.files:
        raise no_terr_files(paths or (Path("."),))
    diagnostics = compilation.check(stop_after=stop_after, config=config)
    summary = {
        "files": len(compilation.files),
        "models": len(compilation.models) if stop_after != "parse" else 0,
        "errors": sum(d.severity == "error" for d in diagnostics),
        "warnings": sum(d.severity == "warning" for d in diagnostics),
        "notes": sum(d.severity == "note" for d in diagnostics),
    }
    stream = sys.stdout
    if color is None:
        color = output is None and use_color(stream)
    write_report(render(diagnostics, fmt, color=color, summary=summary), output, "check", color)
    if any(d.code == "E001" for d in diagnostics):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_ERRORS if summary["errors"] else EXIT_OK)
