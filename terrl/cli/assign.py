"""`terrl assign MODEL_FILE ACCOUNTS`: assign every account of a CSV / JSON Lines file."""

from __future__ import annotations

import gc
from decimal import Decimal
import os
import sys
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterator, NoReturn

import click

from terrl.cli.errors import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UserError
from terrl.semantics.cleanup import ALL_RULES, DEFAULT_RULES, RULE_WORDS, rules_for
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
@click.option("--strict", is_flag=True, help="No clean-up: take every value exactly as written (docs/assign.md).")
@click.option("--clean", "clean", multiple=True, type=click.Choice(ALL_RULES),
              help="Turn on a clean-up rule besides the defaults (trim, case, title, zip4, number-format): "
                   "leading-zeros (digits(N): 2139 -> 02139), suffix (1.2M -> 1200000). Repeatable.")
@click.option("--column", "column", multiple=True, metavar="FIELD=HEADER",
              help="Read schema field FIELD from the column (JSON Lines: the key) HEADER. Repeatable; "
                   "adds to `[assign.columns]` in terrl.toml.")
@click.option("--columns", "preset", type=click.Choice(["salesforce"]),
              help="Column names of a CRM export: salesforce (BillingCountry or Billing Country, BillingState, "
                   "BillingPostalCode, Industry, NumberOfEmployees, AnnualRevenue, Id, Name) for the fields "
                   "country, state, zip, industry, employees, revenue, id, name (and billing_country, ...).")
@click.option("--on-duplicate-key", type=click.Choice(["warn", "error", "ignore"]), default=None,
              help="A key seen on an earlier row: warn (default: the reason says `duplicate key`, the summary "
                   "counts them), error (the same, and exit 1), ignore.")
def assign(model_file: Path, accounts: str, output: str, model_name: str | None, fmt: str | None,
           input_format: str | None, explain: bool, fail_on_invalid: bool, progress: bool | None, engine: str = "python",
           escape_formulas: bool = True, strict: bool = False, clean: tuple[str, ...] = (), column: tuple[str, ...] = (),
           preset: str | None = None, on_duplicate_key: str | None = None) -> None:
    """Assign every account in ACCOUNTS (CSV or JSON Lines; `-` for stdin) to territories.

    Writes one result per input row, in input order: row, key, status (assigned,
    unassigned, invalid), territories, titles, owners, reason. Exit status: 0 done (even
    with invalid rows, unless --fail-on-invalid), 1 the model has errors or
    --fail-on-invalid and some row is invalid, 2 the account file cannot be used
    (unreadable, empty, required columns missing).
    """
    from terrl.io.accounts import FORMATS, AccountsError, ResultWriter, detect_format

    options = _reading_options(strict, clean, column, preset, on_duplicate_key)
    program, shown = load_checked_program(model_file, "assign")
    model = pick(program, model_name)
    if engine == "duckdb" and explain:
        raise click.UsageError("--explain needs `--engine python` (it traces the reference interpreter)")
    try:
        # Both engines give the same stream: (row, key, Assignment, explain steps or None).
        run = _duckdb_run(model, accounts, input_format, options) if engine == "duckdb" else \
            _python_run(model, shown, accounts, input_format, explain, options)
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
    cleaned: dict[str, int] = {}  # rule -> values it changed
    values_cleaned = 0
    duplicates = 0
    check_keys = options.on_duplicate_key != "ignore" and model.schema.key is not None
    keys_seen = _KeyMemory("trim" in options.cleanup)

    def tally(notes) -> int:
        for note in notes:
            for rule in note[3]:
                cleaned[rule] = cleaned.get(rule, 0) + 1
        return len(notes)

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
                results = item.results
                for status, n in Counter(map(attrgetter("status"), results)).items():
                    counts[status] += n
                if any(map(attrgetter("cleaned"), results)):
                    for result in results:
                        if result.cleaned:
                            values_cleaned += tally(result.cleaned)
                if check_keys:
                    for i, (row, first_row) in enumerate(zip(item.rows, keys_seen.first_rows(item.keys, item.rows))):
                        if first_row != row:
                            duplicates += 1
                            results[i] = marked(results[i], first_row)
                writer.write_batch(item.rows, item.keys, results)
                if bar is not None:
                    bar.update(run.position() - bar.pos)
                item = next(run.results, None)
                continue
            row, key, result, steps = item
            counts[result.status] += 1
            if result.cleaned:
                values_cleaned += tally(result.cleaned)
            if check_keys:
                first_row = keys_seen.first_seen(key, row)
                if first_row != row:
                    duplicates += 1
                    result = marked(result, first_row)
            if explain:
                write(row, key, result, _explain(model, steps, out_format, result.cleaned) if steps is not None
                      else _explain(model, [], out_format, result.cleaned) if result.cleaned else None)
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
    if values_cleaned:
        parts = ", ".join(f"{n:,} {RULE_WORDS[rule]}" for rule, n in sorted(cleaned.items(), key=lambda kv: -kv[1]))
        click.echo(f"{values_cleaned:,} value{'s' if values_cleaned != 1 else ''} cleaned: {parts} "
                   "(--strict: none; --explain: per row)", err=True)
    if duplicates:
        click.echo(f"{'error' if options.on_duplicate_key == 'error' else 'warning'}: {duplicates:,} row"
                   f"{'s' if duplicates != 1 else ''} repeat the key of an earlier row (their reason says "
                   "`duplicate key: also on row N`)", err=True)
    summarize_and_exit(counts, run.blank_lines(), output,
                       fail_on_invalid, failed=bool(duplicates) and options.on_duplicate_key == "error")


class _KeyMemory:
    """Where each key was first seen. `first_seen(key, row)`: that row (this row when the key is
    new, or missing: None or blank). Under `trim`, keys are compared trimmed."""

    def __init__(self, trim: bool) -> None:
        self.trim = trim
        self.seen: dict = {}

    def first_seen(self, key, row: int) -> int:
        if key is None:
            return row
        if key.__class__ is str:
            if self.trim:
                key = key.strip()
            return self.seen.setdefault(key, row) if key and not key.isspace() else row
        # a typed JSON key: a number, or a list or object (by its text)
        return self.seen.setdefault(key if isinstance(key, (int, float, Decimal)) else repr(key), row)

    def first_rows(self, keys: list, rows) -> list[int]:
        """`first_seen` of each (key, row) of a batch, in order; with C-level maps when every key is
        a text that is not blank (CSV keys, nearly always)."""
        if set(map(type, keys)) == {str}:
            texts = list(map(str.strip, keys)) if self.trim else keys
            if "" not in texts and (self.trim or not any(map(str.isspace, texts))):
                return list(map(self.seen.setdefault, texts, rows))
        return [self.first_seen(key, row) for key, row in zip(keys, rows)]


def marked(result, first_row: int):
    """A result whose key an earlier row had: the reason says so."""
    marker = f"duplicate key: also on row {first_row}"
    return result._replace(reason=f"{result.reason}; {marker}" if result.reason else marker)


@dataclass(frozen=True)
class ReadingOptions:
    """How account files are read: clean-up rules, column mapping, duplicate keys."""

    cleanup: tuple[str, ...]
    columns: dict[str, str]
    preset: str | None
    on_duplicate_key: str


def _reading_options(strict: bool, clean: tuple[str, ...], column: tuple[str, ...], preset: str | None,
                     on_duplicate_key: str | None) -> ReadingOptions:
    """The command line over `[assign]` in terrl.toml over the defaults."""
    from terrl.cli._selection import command_config

    settings = command_config(None, False).assign
    rules = settings.cleanup if settings.cleanup is not None else DEFAULT_RULES
    for rule in rules:
        if rule not in ALL_RULES:
            raise UserError(f"terrl.toml: `assign.cleanup`: `{rule}` is not a clean-up rule",
                            help="rules: " + ", ".join(ALL_RULES))
    rules = rules_for(strict, clean, rules)
    columns = dict(settings.columns)
    for item in column:
        name, sep, header = item.partition("=")
        if not sep or not name.strip() or not header:
            raise click.BadParameter(f"`{item}`: write FIELD=HEADER, e.g. `--column country=\"Billing Country\"`",
                                     param_hint="--column")
        columns[name.strip()] = header
    return ReadingOptions(rules, columns, preset or settings.preset,
                          on_duplicate_key or settings.on_duplicate_key or "warn")


@dataclass
class _Run:
    """One engine's results over one account file, and what the summary needs of it."""

    results: Iterator[tuple]  # (row, key, Assignment, steps | None), in input order
    format: str  # the input's format: the output's default
    warnings: list[str]
    blank_lines: Callable[[], int]  # known once `results` is exhausted
    position: Callable[[], int] | None  # bytes read so far, for the progress bar


def _python_run(model, shown: str, accounts: str, input_format: str | None, explain: bool,
                options: ReadingOptions) -> _Run:
    from terrl.io.accounts import open_accounts
    from terrl.targets.evaluate import assign_batches, assign_records, compile_model

    evaluator = compile_model(model, shown, cleanup=options.cleanup)
    reader = open_accounts(accounts, model.schema, input_format, options.columns, options.preset)
    batches = None if explain else reader.batches()  # CSV: a column at a time (same results)
    results = assign_batches(evaluator, batches, reader.index) if batches is not None else \
        assign_records(evaluator, reader.records(), explain=explain)
    return _Run(results, reader.format, reader.warnings, lambda: reader.blank_lines, reader.position)


def _duckdb_run(model, accounts: str, input_format: str | None, options: ReadingOptions) -> _Run:
    from terrl.targets.sql_engine import prepare

    run = prepare(model, accounts, input_format, options.cleanup, options.columns, options.preset)
    results = ((row, key, result, None) for row, key, result in run.results())
    return _Run(results, run.format, run.warnings, lambda: run.blank_lines, None)


def _usage_error(message: str) -> NoReturn:
    click.echo(f"terrl assign: {message}", err=True)
    sys.exit(EXIT_USAGE)


def summarize_and_exit(counts: dict, blank_lines: int, output: str, fail_on_invalid: bool, failed: bool = False) -> None:
    """The summary line on stderr and the exit status, the same for every engine."""
    rows = sum(counts.values())
    blank = f"; {blank_lines} blank line{'s' if blank_lines != 1 else ''} skipped" if blank_lines else ""
    where = "" if output == "-" else f" -> {output}"
    click.echo(f"{rows} account{'s' if rows != 1 else ''}: {counts[ASSIGNED]} assigned, {counts[UNASSIGNED]} unassigned, "
               f"{counts[INVALID]} invalid{blank}{where}", err=True)
    sys.exit(EXIT_ERRORS if (fail_on_invalid and counts[INVALID]) or failed else EXIT_OK)


def _explain(model, steps, out_format: str, cleaned: tuple = ()):
    """The `explain` column: what was cleaned, then the decisions in `terrl explain`'s order and words."""
    from terrl.targets.reference import decisions

    shown = decisions(model, steps)
    if out_format == "jsonl":
        return [{"field": name, "raw": raw, "cleaned": text, "rules": list(rules)} for name, raw, text, rules in cleaned] + \
            [{"territory": s.path, "verdict": verdict, "where": s.condition, "matched": s.matched, "taken": s.taken}
             for s, verdict in shown]
    return "; ".join([f"cleaned `{name}`: {raw!r} -> {text!r} ({', '.join(RULE_WORDS[r] for r in rules)})"
                      for name, raw, text, rules in cleaned] + [f"{s.path}: {verdict} ({s.condition})" for s, verdict in shown])


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
