"""`terrl assign MODEL_FILE ACCOUNTS`: assign every account of a CSV / JSON Lines file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from terrl.cli.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from terrl.cli._model import load_checked_program, pick

PROGRESS_EVERY = 8192  # rows between progress bar updates
_UNREADABLE: dict = {}  # stands in for a row that could not be read (its result is replaced)


@click.command()
@click.argument("model_file", type=click.Path(path_type=Path))
@click.argument("accounts", type=str)
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the results (`-` is standard output).")
@click.option("--model", "model_name", help="The model to use when the file has several.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]),
              help="Output format (default: from the output file's extension, else the input's format).")
@click.option("--input-format", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Input format (default: from the file's extension, else from its first bytes; parquet: --engine duckdb).")
@click.option("--engine", type=click.Choice(["python", "duckdb"]), default="python", show_default=True,
              help="python: the in-process evaluator; duckdb: the SQL target on embedded DuckDB (CSV, Parquet; docs/sql.md).")
@click.option("--explain", is_flag=True, help="Add a column saying which `where` matched at each level.")
@click.option("--fail-on-invalid", is_flag=True, help="Exit 1 when any row is invalid.")
@click.option("--progress/--no-progress", default=None, help="A progress bar on stderr (default: when stderr is a terminal).")
def assign(model_file: Path, accounts: str, output: str, model_name: str | None, fmt: str | None,
           input_format: str | None, explain: bool, fail_on_invalid: bool, progress: bool | None, engine: str = "python") -> None:
    """Assign every account in ACCOUNTS (CSV or JSON Lines; `-` for stdin) to territories.

    Writes one result per input row, in input order: row, key, status (assigned,
    unassigned, invalid), territories, titles, owners, reason. Exit status: 0 done (even
    with invalid rows, unless --fail-on-invalid), 1 the model has errors or
    --fail-on-invalid and some row is invalid, 2 the account file cannot be used
    (unreadable, empty, required columns missing).
    """
    from terrl.io.accounts import AccountsError, ResultWriter, detect_format, open_accounts
    from terrl.targets.evaluate import Assignment, compile_model
    from terrl.targets.outcome import ASSIGNED, INVALID, UNASSIGNED

    program, shown = load_checked_program(model_file, "assign")
    model = pick(program, model_name)
    if engine == "duckdb":
        from terrl.targets.sql_engine import assign_command

        assign_command(model, accounts, output, fmt, input_format, explain, fail_on_invalid)  # exits
    evaluator = compile_model(model, shown)
    try:
        reader = open_accounts(accounts, model.schema, input_format)
    except AccountsError as exc:
        click.echo(f"terrl assign: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        records = reader.records()
        first = next(records, None)  # whole-file problems surface before any output is written
    except AccountsError as exc:
        click.echo(f"terrl assign: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    out_format = fmt or (detect_format(output, b"") if output != "-" and Path(output).suffix else reader.format)
    for warning in reader.warnings:
        click.echo(f"warning: {warning}", err=True)

    if output == "-":
        out_stream = sys.stdout
        close = False
    else:
        try:
            out_stream = open(output, "w", encoding="utf-8", newline="")
        except OSError as exc:
            click.echo(f"terrl assign: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_USAGE)
        close = True
    writer = ResultWriter(out_stream, out_format, explain=explain)
    counts = {ASSIGNED: 0, UNASSIGNED: 0, INVALID: 0}
    show_progress = progress if progress is not None else _stderr_is_terminal()
    total = _size(accounts)
    bar = click.progressbar(length=total, file=sys.stderr, label="assigning") if show_progress and total else None
    current: list = [None]  # the record whose result assign_many yields next (it pulls one at a time)

    def values():
        record = first
        while record is not None:
            current[0] = record
            yield record.values if record.problem is None else _UNREADABLE
            record = next(records, None)

    try:
        if bar is not None:
            bar.__enter__()
        write = writer.write
        key_name = model.schema.key.name if model.schema.key else None
        for result in evaluator.assign_many(values()):
            record = current[0]
            if record.problem is not None:
                result = Assignment(INVALID, (), (), (), record.problem)
                key = record.key
            else:
                key = record.values.get(key_name) if key_name else None
            counts[result.status] += 1
            if explain:
                write(record.row, key, result,
                      _explain(evaluator, record.values, out_format) if record.problem is None else None)
            else:
                write(record.row, key, result)
            if bar is not None and record.row % PROGRESS_EVERY == 0:
                bar.update(reader.position() - bar.pos)
        if bar is not None:
            bar.update(total - bar.pos)
    finally:
        writer.flush()
        if bar is not None:
            bar.__exit__(None, None, None)
        if close:
            out_stream.close()
    summarize_and_exit(counts, reader.blank_lines, output, fail_on_invalid)


def summarize_and_exit(counts: dict, blank_lines: int, output: str, fail_on_invalid: bool) -> None:
    """The summary line on stderr and the exit status, the same for every engine."""
    from terrl.targets.outcome import ASSIGNED, INVALID, UNASSIGNED

    rows = sum(counts.values())
    blank = f"; {blank_lines} blank line{'s' if blank_lines != 1 else ''} skipped" if blank_lines else ""
    where = "" if output == "-" else f" -> {output}"
    click.echo(f"{rows} account{'s' if rows != 1 else ''}: {counts[ASSIGNED]} assigned, {counts[UNASSIGNED]} unassigned, "
               f"{counts[INVALID]} invalid{blank}{where}", err=True)
    sys.exit(EXIT_ERRORS if fail_on_invalid and counts[INVALID] else EXIT_OK)


def _explain(evaluator, values, out_format: str):
    _, steps = evaluator.explain(values)
    if out_format == "jsonl":
        return [{"territory": s.path, "where": s.condition, "matched": s.matched, "taken": s.taken} for s in steps]
    return "; ".join(f"{s.path}: {'taken' if s.taken else 'matched' if s.matched else 'no'} ({s.condition})" for s in steps)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _size(source: str) -> int | None:
    if source == "-":
        return None
    try:
        return os.path.getsize(source)
    except OSError:
        return None
