"""Loading one model for `assign`, `explain` and `compile`.

The file is checked in full (coverage included). Parse, name and type errors stop the
command (exit 1, or 2 for an unreadable file); coverage findings alone (gaps,
overlaps, unreachable or empty territories) are printed on stderr as warnings and the
command goes on: the evaluator reports the accounts concerned (docs/assign.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from terrl.semantics import ir
from terrl.cli.errors import EXIT_ERRORS, EXIT_USAGE, UserError
from terrl.diagnostics.core import Diagnostic

def concise(d: Diagnostic, severity: str | None = None) -> str:
    severity = severity or d.severity
    if d.span is None:
        return f"{severity}[{d.code}]: {d.message}"
    line, col = d.span.file.line_col(d.span.start)
    return f"{d.span.file.path}:{line}:{col}: {severity}[{d.code}]: {d.message}"


def load_checked_program(path: Path, command: str) -> tuple[ir.Program, str]:
    """The checked program of one file and its displayed path; exits on errors."""
    from terrl.pipeline import Compilation, UsageError

    if path.is_dir():
        raise UserError(f"`{path}` is a folder; give one `.terr` file")
    try:
        compilation = Compilation.from_paths([path])
    except UsageError as exc:
        raise UserError(str(exc))
    errors = [d for d in compilation.diagnostics_through("analyze") if d.severity == "error"]
    if compilation.blocking_errors() or not compilation.units:
        for d in errors:
            click.echo(concise(d), err=True)
        click.echo(f"terrl {command}: {len(errors)} error{'s' if len(errors) != 1 else ''} in {path}; "
                   "nothing done (see `terrl check` for details)", err=True)
        sys.exit(EXIT_USAGE if any(d.code == "E001" for d in errors) else EXIT_ERRORS)
    for d in errors:
        click.echo(concise(d, "warning"), err=True)
    if errors:
        click.echo(f"terrl {command}: going on despite {len(errors)} coverage finding{'s' if len(errors) != 1 else ''}: "
                   "accounts in a gap are `unassigned`, accounts in an overlap are assigned to every match "
                   "(the reason says which)", err=True)
    return compilation.units[0].program, compilation.files[0]


def pick(program: ir.Program, name: str | None) -> ir.Model:
    from terrl.targets.evaluate import ModelError, pick_model

    try:
        return pick_model(program, name)
    except ModelError as exc:
        message = str(exc).replace("pick one with `model=`", "pick one with `--model NAME`")
        raise UserError(message)
