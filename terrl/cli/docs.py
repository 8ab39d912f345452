"""`terrl docs MODEL_FILE... -o DIR`: Markdown and HTML documentation of the models."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from terrl.cli.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UserError


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write the pages to (created if missing).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "both"]), default="both", show_default=True,
              help="Markdown (README.md + one page per model) and/or a static HTML site (index.html + one page per model).")
@click.option("--check/--no-check", "check", default=True, show_default=True,
              help="Run the coverage analysis and document its findings (gaps, overlaps, ...).")
def docs(paths: tuple[Path, ...], out_dir: Path, fmt: str, check: bool) -> None:
    """Write documentation of the models in PATHS (files or folders) for the people who sell.

    Each model gets a page: its hierarchy, a table of territories and owners, every
    territory's criteria in plain English, and the check results (gaps, overlaps, with
    example accounts). Files with syntax or type errors produce no docs (exit 1);
    gaps and overlaps are documented, not fatal. Output is byte-identical for the same input.
    """
    from terrl.cli._model import concise
    from terrl.docs.docsgen import build_site, docs_input, render_site, write_site
    from terrl.pipeline import Compilation, UsageError

    try:
        compilation = Compilation.from_paths(paths)
    except UsageError as exc:
        raise UserError(str(exc))
    problems = [d for d in compilation.diagnostics if d.severity == "error"]
    if problems:
        for d in problems:
            click.echo(concise(d), err=True)
        click.echo(f"terrl docs: {len(problems)} error{'s' if len(problems) != 1 else ''}; no docs written "
                   "(see `terrl check` for details)", err=True)
        sys.exit(EXIT_USAGE if any(d.code == "E001" for d in problems) else EXIT_ERRORS)
    formats = ("markdown", "html") if fmt == "both" else (fmt,)
    site = build_site(docs_input(compilation, analyse=check))
    files = render_site(site, formats)
    try:
        write_site(files, out_dir)
    except OSError as exc:
        click.echo(f"terrl docs: cannot write to {out_dir}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    findings = sum(len(m.findings) for m in site.models)
    note = f", {findings} check finding{'s' if findings != 1 else ''} documented" if findings else ""
    click.echo(f"wrote {len(files)} file{'s' if len(files) != 1 else ''} for {len(site.models)} "
               f"model{'s' if len(site.models) != 1 else ''} to {out_dir}{note}", err=True)
    sys.exit(EXIT_OK)
