"""`terrl assign --engine duckdb`: the SQL target run on an embedded DuckDB over a CSV or Parquet file.

The file is read by DuckDB with every column as text (Parquet columns are cast to
text), so the rules of `terrl.coerce` apply in SQL exactly as to a CSV read by the
Python engine: an empty cell is missing, `"5,000"` is not a number, and so on. The
query is `terrl.sql.build_query(..., input_types="text", compact=True)`: per row the
key, the index of the result (the same `result_fields` tuples the Python evaluator
returns) or the invalid reason. Results come back in input order and are written by
the same `ResultWriter` as the Python engine's, so both engines write the same bytes.

Differences (docs/sql.md): the whole file must be well-formed CSV (a ragged or
non-UTF-8 row stops the run with an error; `--engine python` reports such rows as
`invalid` and goes on), and `--explain` needs the Python engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlglot import exp

from . import ir, sql
from .outcome import INVALID

FETCH_ROWS = 50_000  # rows per fetch from DuckDB
ROW_COLUMN = "terrl_row"
ENGINE_FORMATS = ("csv", "parquet")


class EngineError(Exception):
    """The file cannot be assigned by the DuckDB engine (a message for the user)."""


@dataclass
class DuckdbRun:
    """An assignment ready to run: `results()` yields (row, Assignment) in input order."""

    model: ir.Model
    path: Path
    format: str
    columns: tuple[str, ...]  # the file's columns
    warnings: list[str]
    threads: int | None = None

    def results(self) -> Iterator[tuple[int, object]]:
        import duckdb

        from .evaluate import Assignment

        plan = sql.plan_model(self.model)
        assignments = [Assignment(*fields, None) for fields in plan.results]  # key filled per row
        con = duckdb.connect()
        try:
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            con.execute(self._source_view())
            query = sql.build_query(self.model, dialect="duckdb", table=exp.to_table("terrl_accounts", quoted=True),
                                    input_types="text", carry=(ROW_COLUMN,), compact=True, plan=plan)
            cursor = con.execute(sql.to_text(query, "duckdb") + f' ORDER BY "{ROW_COLUMN}"')
            while True:
                batch = cursor.fetchmany(FETCH_ROWS)
                if not batch:
                    break
                for row, key, result, reason in batch:
                    if result is None:
                        yield row, Assignment(INVALID, (), (), (), reason, key)
                    else:
                        yield row, assignments[result]._replace(key=key)
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB cannot read {self.path}: {str(exc).splitlines()[0]}; "
                              "`--engine python` reports malformed rows as `invalid` and goes on") from None
        finally:
            con.close()

    def _source_view(self) -> str:
        """terrl_accounts: the row number and every schema field as text (NULL for an absent optional column)."""
        path = exp.Literal.string(str(self.path))
        if self.format == "csv":
            source = exp.Anonymous(this="read_csv", expressions=[
                path, *(exp.EQ(this=exp.column(k), expression=v) for k, v in (
                    ("header", exp.true()), ("all_varchar", exp.true()), ("delim", exp.Literal.string(",")),
                    ("quote", exp.Literal.string('"')), ("escape", exp.Literal.string('"'))))])
            # DuckDB scans in file order (insertion order is preserved); number rows in that order
            row = exp.Window(this=exp.RowNumber())
        else:
            source = exp.Anonymous(this="read_parquet", expressions=[
                path, exp.EQ(this=exp.column("file_row_number"), expression=exp.true())])
            row = exp.Add(this=exp.column("file_row_number"), expression=exp.Literal.number(1))
        present = set(self.columns)
        columns = [exp.alias_(row, ROW_COLUMN, quoted=True)]
        for f in self.model.schema.fields:
            value = exp.column(f.name, quoted=True) if f.name in present else exp.null()
            columns.append(exp.alias_(exp.cast(value, "VARCHAR"), f.name, quoted=True))
        select = exp.select(*columns).from_(exp.Table(this=source))
        return f'CREATE VIEW "terrl_accounts" AS {select.sql("duckdb")}'


def engine_format(path: str, input_format: str | None) -> str:
    if input_format:
        return input_format
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def prepare(model: ir.Model, path: str, input_format: str | None) -> DuckdbRun:
    """Check the file's columns (the same errors as the Python engine's reader) before any work."""
    from .accounts_io import AccountsError, open_accounts

    fmt = engine_format(path, input_format)
    if path == "-":
        raise EngineError("`--engine duckdb` reads a file, not standard input; give a path or use `--engine python`")
    if fmt not in ENGINE_FORMATS:
        raise EngineError(f"`--engine duckdb` reads CSV and Parquet, not {fmt}; use `--engine python` for JSON Lines")
    if fmt == "csv":
        try:
            reader = open_accounts(path, model.schema, "csv")
        except AccountsError as exc:
            raise EngineError(str(exc)) from None
        reader.stream.close()
        return DuckdbRun(model, Path(path), fmt, reader.columns, reader.warnings)
    import duckdb

    try:
        con = duckdb.connect()
        names = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()]
        con.close()
    except duckdb.Error as exc:
        raise EngineError(f"cannot read {path} as Parquet: {str(exc).splitlines()[0]}") from None
    missing = [f.name for f in model.schema.fields if f.name not in names and not f.optional]
    if missing:
        raise EngineError(f"{path}: missing required column(s) {', '.join(f'`{n}`' for n in missing)} of schema "
                          f"`{model.schema.name}`; the file has {', '.join(f'`{n}`' for n in names) or 'no columns'}")
    warnings = [f"{path} has no column `{f.name}`: every account is read with no `{f.name}`"
                for f in model.schema.fields if f.name not in names]
    return DuckdbRun(model, Path(path), fmt, tuple(names), warnings)


def assign_command(model: ir.Model, accounts: str, output: str, fmt: str | None, input_format: str | None,
                   explain: bool, fail_on_invalid: bool) -> None:
    """`terrl assign --engine duckdb`: the same output, summary and exit codes as the Python engine."""
    import sys

    import click

    from .accounts_io import ResultWriter, detect_format
    from .cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
    from .outcome import ASSIGNED, UNASSIGNED

    if explain:
        raise click.UsageError("--explain needs `--engine python` (it traces the reference interpreter)")
    try:
        run = prepare(model, accounts, input_format)
    except EngineError as exc:
        click.echo(f"terrl assign: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    out_format = fmt or (detect_format(output, b"") if output != "-" and Path(output).suffix else "csv")
    for warning in run.warnings:
        click.echo(f"warning: {warning}", err=True)
    results = run.results()
    counts = {ASSIGNED: 0, UNASSIGNED: 0, INVALID: 0}
    try:
        first = next(results, None)  # DuckDB reads the whole file before the first row: errors surface here
    except EngineError as exc:
        click.echo(f"terrl assign: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        out_stream = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")
    except OSError as exc:
        click.echo(f"terrl assign: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    writer = ResultWriter(out_stream, out_format)
    try:
        item = first
        while item is not None:
            row, result = item
            counts[result.status] += 1
            writer.write(row, result)
            item = next(results, None)
    except EngineError as exc:
        click.echo(f"terrl assign: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    finally:
        writer.flush()  # the writer keeps lines in batches
        if output == "-":
            out_stream.flush()
        else:
            out_stream.close()
    rows = sum(counts.values())
    where = "" if output == "-" else f" -> {output}"
    click.echo(f"{rows} account{'s' if rows != 1 else ''}: {counts[ASSIGNED]} assigned, {counts[UNASSIGNED]} unassigned, "
               f"{counts[INVALID]} invalid{where}", err=True)
    sys.exit(EXIT_ERRORS if fail_on_invalid and counts[INVALID] else EXIT_OK)
