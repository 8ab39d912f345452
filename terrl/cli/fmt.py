"""`terrl fmt PATH...`: rewrite `.terr` files in the canonical layout (see terrl/syntax/fmt.py)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from terrl.cli.errors import EXIT_ERRORS, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UserError
from terrl.cli._selection import command_config, select_files


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; list the files that would change and exit 1 if there are any.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Write nothing; print a unified diff of the changes and exit 1 if there are any.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Read this configuration file instead of looking for terrl.toml / pyproject.toml.")
@click.option("--no-config", is_flag=True, help="Ignore configuration files.")
def fmt(paths: tuple[Path, ...], check_only: bool, show_diff: bool, config_path: Path | None, no_config: bool) -> None:
    """Format `.terr` files in place in the one canonical layout.

    PATHS are files or directories (searched for *.terr); `-` formats standard input
    to standard output. Without PATHS: the configuration's `include` patterns, else the
    current directory. Files that are not UTF-8 or have syntax errors are reported
    (as `terrl check` reports them) and left untouched.
    An `or`/`and` chain (at any depth) or a `{...}` list that does not fit the line
    length (100, `line-length` in the configuration) is broken one operand or element
    per line. Line endings are kept: a CRLF file stays CRLF (a mixed file takes its first line's).
    Before writing, fmt re-parses its output and compares it with the input's syntax
    tree and comments; if they differ it writes nothing and reports an internal error.

    Exit status: 0 nothing to do (or all formatted), 1 files would change (--check,
    --diff) or have errors (not UTF-8, syntax), 2 a path or the configuration cannot
    be read, 3 an internal error.
    """
    from terrl.syntax.fmt import format_source
    from terrl.syntax.parser import decode_source, read_source
    from terrl.diagnostics.render import render
    from terrl.diagnostics.source import display_path

    config = command_config(config_path, no_config)
    if paths == (Path("-"),):
        # bytes in and out: text streams would turn `\r\n` into `\n` (and back on Windows),
        # and an editor piping a CRLF buffer must get its line endings back
        data = sys.stdin.buffer.read()
        source, problems = decode_source(data, "<stdin>")
        if source is None:  # not UTF-8: the same E002 as `terrl check -` (a diagnostic, exit 1)
            click.echo(render(problems, "full", color=False), err=True, nl=False)
            sys.exit(EXIT_ERRORS)
        text = data.decode("utf-8")  # as sent, a BOM included: fmt drops it, and that is a change
        result = format_source(source, line_length=config.line_length)
        if result.internal_error:
            click.echo(f"terrl: internal error: <stdin>: {result.internal_error}; nothing was written", err=True)
            sys.exit(EXIT_INTERNAL)
        if result.text is None:
            click.echo(render(result.diagnostics, "full", color=False), err=True, nl=False)
            sys.exit(EXIT_ERRORS)
        changed = result.text != text
        if show_diff:
            click.echo(_diff(text, result.text, "<stdin>"), nl=False)
        elif check_only:
            if changed:
                click.echo("would reformat <stdin>", err=True)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(result.text.encode("utf-8"))
            sys.stdout.buffer.flush()
        sys.exit(EXIT_ERRORS if changed and (check_only or show_diff) else EXIT_OK)
    if Path("-") in paths:
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")

    files, _ = select_files(paths, config)

    status = EXIT_OK
    changed_files, unchanged, broken, unreadable, failed = [], 0, 0, 0, 0
    for path in files:
        shown = display_path(path)
        source, problems = read_source(path, shown)
        if source is None:
            click.echo(render(problems, "full", color=False), err=True, nl=False)
            if any(d.code == "E001" for d in problems):  # the path itself cannot be read
                status = max(status, EXIT_USAGE)
                unreadable += 1
            else:  # not UTF-8 or too large: the file's content is at fault, as `terrl check` says
                status = max(status, EXIT_ERRORS)
                broken += 1
            continue
        result = format_source(source, line_length=config.line_length)
        if result.internal_error:
            click.echo(f"terrl: internal error: {shown}: {result.internal_error}; the file was left untouched",
                       err=True)
            status = max(status, EXIT_INTERNAL)
            failed += 1
            continue
        if result.text is None:
            click.echo(render(result.diagnostics, "full", color=False), err=True, nl=False)
            broken += 1
            status = max(status, EXIT_ERRORS)
            continue
        original = path.read_bytes().decode("utf-8")  # exact bytes: a BOM counts as a change
        if result.text == original:
            unchanged += 1
            continue
        changed_files.append(shown)
        if show_diff:
            click.echo(_diff(original, result.text, shown), nl=False)
        elif check_only:
            click.echo(f"would reformat {shown}")
        else:
            path.write_bytes(result.text.encode("utf-8"))
        if check_only or show_diff:
            status = max(status, EXIT_ERRORS)

    verb = "would be reformatted" if (check_only or show_diff) else "reformatted"
    parts = []
    if changed_files:
        parts.append(f"{_files(len(changed_files))} {verb}")
    if unchanged:
        parts.append(f"{_files(unchanged)} already formatted")
    if broken:
        parts.append(f"{_files(broken)} with errors left untouched")
    if unreadable:
        parts.append(f"{_files(unreadable)} that cannot be read")
    if failed:
        parts.append(f"{_files(failed)} that terrl failed to format (an internal error, above)")
    click.echo(", ".join(parts) if parts else "no .terr files to format", err=True)
    sys.exit(status)


def _files(n: int) -> str:
    return f"{n} file" + ("" if n == 1 else "s")


def _diff(before: str, after: str, shown: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"{shown} (original)", tofile=f"{shown} (formatted)"))
