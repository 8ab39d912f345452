"""Writing a command's report: to `-o FILE`, else to standard output."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from terrl.cli.errors import EXIT_USAGE


def write_report(text: str, output: Path | None, command: str, color: bool = False) -> None:
    """Write `text` to `output` (exit 2 when it cannot be written) or to standard output."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"), color=color)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"terrl {command}: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
