"""`terrl assign MODEL_FILE ACCOUNTS`: assign every account of a CSV / JSON Lines file."""

from __future__ import annotations

import gc
import os
import sys
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterator, NoReturn

import click

from terrl.cli.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from terrl.cli._model import load_checked_program, pick
from terrl.targets.outcome import ASSIGNED, INVALID, UNASSIGNED

PROGRESS_EVERY = 8192  # rows between progress bar updates


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
@click.option("--escape-formulas/--no-escape-formulas", default=True, show_default=True,
              help="CSV output: put a ' before every text cell (key, titles, owners, ...) starting with =, +, -, @, "
                   "a tab or a carriage return, so that a spreadsheet shows it rather than running it as a formula "
                   "(a text key -5 becomes '-5). JSON Lines output never changes.")
@click.option("--progress/--no-progress", default=None, help="A progress bar on stderr (default: when stderr is a terminal).")
def assign(model_file: Path, accounts: str, output: str, model_name: str | None, fmt: str | None,
           input_format: str | None, explain: bool, fail_on_invalid: bool, progress: bool | None, engine: str = "python",
           escape_formulas: bool = True) -> None:
    """Assign every account in ACCOUNTS (CSV or JSON Lines; `-` for stdin) to territories.

    Writes one result per input row, in input order: row, key, status (assigned,
    unassigned, invalid), territories, titles, owners, reason. Exit status: 0 done (even
    with invalid rows, unless --fail-on-invalid), 1 the model has errors or
    --fail-on-invalid and some row is invalid, 2 the account file cannot be used
    (unreadable, empty, required columns missing).
    """
    from terrl.io.accounts import FORMATS, AccountsError, ResultWriter, detect_format

    program, shown = load_checked_program(model_file, "assign")
    model = pick(program, model_name)
    if engine == "duckdb" and explain:
        raise click.UsageError("--explain needs `--engine python` (it traces the reference interpreter)")
    try:
        # Both engines give the same stream: (row, key, Assignment, explain steps or None).
        run = _duckdb_run(model, accounts, input_format) if engine == "duckdb" else \
            _python_run(model, shown, accounts, input_format, explain)
        # What is loaded now (the IR and the evaluator: millions of objects for a large model)
        # lives until the end: frozen, the cyclic collector's full passes no longer walk it (they
        # tripled the cost of each new outcome on a 13,000-territory model).
        gc.freeze()
        first = next(run.results, None)  # whole-file problems surface before any output is written
    except AccountsError as exc:  # the DuckDB engine's EngineError is one too
        _usage_error(str(exc))
    # from the output's extension, else the input's format (Parquet: CSV)
    out_format = fmt or (detect_format(output, b"") if output != "-" and Path(output).suffix
                         else run.format if run.format in FORMATS else "csv")
    for warning in run.warnings:
        click.echo(f"warning: {warning}", err=True)

    if output == "-":
        out_stream = sys.stdout
    else:
        try:
            out_stream = open(output, "w", encoding="utf-8", newline="")
        except OSError as exc:
            _usage_error(f"cannot write {output}: {exc.strerror or exc}")
    writer = ResultWriter(out_stream, out_format, explain=explain, escape_formulas=escape_formulas)
    counts = {ASSIGNED: 0, UNASSIGNED: 0, INVALID: 0}
    show_progress = progress if progress is not None else _stderr_is_terminal()
    total = _size(accounts) if run.position is not None else None
    bar = click.progressbar(length=total, file=sys.stderr, label="assigning") if show_progress and total else None
    try:
        if bar is not None:
            bar.__enter__()
        write = writer.write
        item = first
        while item is not None:
            if type(item) is not tuple:  # a ResultBatch (the Python engine on CSV input)
                for status, n in Counter(map(attrgetter("status"), item.results)).items():
                    counts[status] += n
                writer.write_batch(item.rows, item.keys, item.results)
                if bar is not None:
                    bar.update(run.position() - bar.pos)
                item = next(run.results, None)
                continue
            row, key, result, steps = item
            counts[result.status] += 1
            if explain:
                write(row, key, result, _explain(model, steps, out_format) if steps is not None else None)
            else:
                write(row, key, result)
            if bar is not None and row % PROGRESS_EVERY == 0:
                bar.update(run.position() - bar.pos)
            item = next(run.results, None)
        if bar is not None:
            bar.update(total - bar.pos)
    except AccountsError as exc:  # DuckDB may fail part-way (it reads in batches)
        _usage_error(str(exc))
    finally:
        writer.flush()  # the writer keeps lines in batches
        if bar is not None:
            bar.__exit__(None, None, None)
        if output == "-":
            out_stream.flush()
        else:
            out_stream.close()
    summarize_and_exit(counts, run.blank_lines(), output, fail_on_invalid)


@dataclass
class _Run:
    """One engine's results over one account file, and what the summary needs of it."""

    results: Iterator[tuple]  # (row, key, Assignment, steps | None), in input order
    format: str  # the input's format: the output's default
    warnings: list[str]
    blank_lines: Callable[[], int]  # known once `results` is exhausted
    position: Callable[[], int] | None  # bytes read so far, for the progress bar


def _python_run(model, shown: str, accounts: str, input_format: str | None, explain: bool) -> _Run:
    from terrl.io.accounts import open_accounts
    from terrl.targets.evaluate import assign_batches, assign_records, compile_model

    evaluator = compile_model(model, shown)
    reader = open_accounts(accounts, model.schema, input_format)
    batches = None if explain else reader.batches()  # CSV: a column at a time (same results)
    results = assign_batches(evaluator, batches, reader.index) if batches is not None else \
        assign_records(evaluator, reader.records(), explain=explain)
    return _Run(results, reader.format, reader.warnings, lambda: reader.blank_lines, reader.position)


def _duckdb_run(model, accounts: str, input_format: str | None) -> _Run:
    from terrl.targets.sql_engine import prepare

    run = prepare(model, accounts, input_format)
    results = ((row, key, result, None) for row, key, result in run.results())
    return _Run(results, run.format, run.warnings, lambda: run.blank_lines, None)


def _usage_error(message: str) -> NoReturn:
    click.echo(f"terrl assign: {message}", err=True)
    sys.exit(EXIT_USAGE)


def summarize_and_exit(counts: dict, blank_lines: int, output: str, fail_on_invalid: bool) -> None:
    """The summary line on stderr and the exit status, the same for every engine."""
    rows = sum(counts.values())
    blank = f"; {blank_lines} blank line{'s' if blank_lines != 1 else ''} skipped" if blank_lines else ""
    where = "" if output == "-" else f" -> {output}"
    click.echo(f"{rows} account{'s' if rows != 1 else ''}: {counts[ASSIGNED]} assigned, {counts[UNASSIGNED]} unassigned, "
               f"{counts[INVALID]} invalid{blank}{where}", err=True)
    sys.exit(EXIT_ERRORS if fail_on_invalid and counts[INVALID] else EXIT_OK)


def _explain(model, steps, out_format: str):
    """The `explain` column: the decisions in `terrl explain`'s order and words."""
    from terrl.targets.reference import decisions

    shown = decisions(model, steps)
    if out_format == "jsonl":
        return [{"territory": s.path, "verdict": verdict, "where": s.condition, "matched": s.matched, "taken": s.taken}
                for s, verdict in shown]
    return "; ".join(f"{s.path}: {verdict} ({s.condition})" for s, verdict in shown)


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
