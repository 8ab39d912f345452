"""`terrl assign --engine duckdb`: the SQL target run on an embedded DuckDB over a CSV, Parquet or JSON Lines file.

CSV and Parquet are read by DuckDB with every column as text (Parquet columns are cast
to text), so the rules of `terrl.coerce` apply in SQL exactly as to a CSV read by the
Python engine: an empty cell is missing, `"5,000"` is not a number, and so on. The CSV
is read with fixed settings (no sniffing: a sniffer guesses header, skipped rows and
quoting from a sample, and a wrong guess loses rows), its columns named from the header
that `terrl.accounts_io` checked. The query is `terrl.sql.build_query(...,
input_types="text", compact=True)`: per row the key, the index of the result (the same
`result_fields` tuples the Python evaluator returns) or the invalid reason. Results come
back in input order and are written by the same `ResultWriter` as the Python engine's,
so both engines write the same bytes.

JSON Lines: DuckDB's JSON reader reads numbers as doubles (`0.1000000000000000000001`
becomes `0.1`), so lines are parsed and checked in Python (`terrl.accounts_io`,
`terrl.coerce`: typed JSON values have their own rules) and the valid accounts are
staged as text in a temporary CSV for the SQL; rows that are invalid, or hold text that
is not UTF-8 (a lone surrogate escape), take the Python evaluator's result. A second
pass over the file merges both in input order, keeping each key as JSON typed it.

Differences (docs/sql.md): the whole CSV must be well-formed (a ragged or non-UTF-8 row
stops the run with an error; `--engine python` reports such rows as `invalid` and goes
on), and `--explain` needs the Python engine.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlglot import exp

from . import ir, sql
from .outcome import INVALID

FETCH_ROWS = 50_000  # rows per fetch from DuckDB
ROW_COLUMN = "terrl_row"
ENGINE_FORMATS = ("csv", "parquet", "jsonl")
SCAN_BYTES = 1 << 20  # chunk size when looking for blank lines


class EngineError(Exception):
    """The file cannot be assigned by the DuckDB engine (a message for the user)."""


@dataclass
class DuckdbRun:
    """An assignment ready to run: `results()` yields (row, Assignment) in input order."""

    model: ir.Model
    path: Path
    format: str
    columns: tuple[str, ...]  # the file's columns (JSON Lines: the schema's fields)
    warnings: list[str]
    threads: int | None = None
    blank_lines: int = 0  # known once `results()` is exhausted (as the Python reader counts them)

    def results(self) -> Iterator[tuple[int, object]]:
        if self.format == "jsonl":
            yield from self._jsonl_results()
            return
        yield from self._sql_results(self._source_select(), empty_is_missing=True)
        if self.format == "csv":
            self.blank_lines = count_blank_lines(self.path, len(self.columns))

    def _sql_results(self, source: exp.Select, empty_is_missing: bool) -> Iterator[tuple[int, object]]:
        """Run the SQL over `source` (ROW_COLUMN and every schema field as text), in row order."""
        import duckdb

        from .evaluate import Assignment

        plan = sql.plan_model(self.model)
        assignments = [Assignment(*fields, None) for fields in plan.results]  # key filled per row
        con = duckdb.connect()
        try:
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            con.execute(f'CREATE VIEW "terrl_accounts" AS {source.sql("duckdb")}')
            query = sql.build_query(self.model, dialect="duckdb", table=exp.to_table("terrl_accounts", quoted=True),
                                    input_types="text", carry=(ROW_COLUMN,), compact=True, plan=plan,
                                    empty_is_missing=empty_is_missing)
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

    def _source_select(self) -> exp.Select:
        """ROW_COLUMN and every schema field as text (NULL for an absent optional column)."""
        path = exp.Literal.string(str(self.path))
        if self.format == "csv":
            # fixed settings, columns named from the checked header: nothing guessed from a sample
            names = [f"terrl_column_{i}" for i in range(len(self.columns))]
            source = _read_csv(path, [(n, "VARCHAR") for n in names], header=True)
            # DuckDB scans in file order (insertion order is preserved); number rows in that order
            row = exp.Window(this=exp.RowNumber())
            by_name = {c: n for c, n in reversed(list(zip(self.columns, names)))}  # the first of duplicates
        else:
            source = exp.Anonymous(this="read_parquet", expressions=[
                path, exp.EQ(this=exp.column("file_row_number"), expression=exp.true())])
            row = exp.Add(this=exp.column("file_row_number"), expression=exp.Literal.number(1))
            by_name = {c: c for c in self.columns}
        columns = [exp.alias_(row, ROW_COLUMN, quoted=True)]
        for f in self.model.schema.fields:
            value = exp.column(by_name[f.name], quoted=True) if f.name in by_name else exp.null()
            columns.append(exp.alias_(exp.cast(value, "VARCHAR"), f.name, quoted=True))
        return exp.select(*columns).from_(exp.Table(this=source))

    # --- JSON Lines ------------------------------------------------------------------------

    def _jsonl_results(self) -> Iterator[tuple[int, object]]:
        from .accounts_io import AccountsError, open_accounts
        from .evaluate import Assignment, compile_model

        key_field = self.model.schema.key
        with tempfile.TemporaryDirectory(prefix="terrl-duckdb-") as tmp:
            staged = Path(tmp) / "accounts.csv"
            try:
                sent = self._stage_jsonl(staged)
                reader = open_accounts(self.path, self.model.schema, "jsonl")
            except (AccountsError, OSError) as exc:
                raise EngineError(str(exc)) from None
            evaluator = None
            names = [ROW_COLUMN] + [f.name for f in self.model.schema.fields]
            source = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(exp.Table(this=_read_csv(
                exp.Literal.string(str(staged)), [(ROW_COLUMN, "BIGINT")] + [(n, "VARCHAR") for n in names[1:]],
                header=False, quoted_empty_is_text=True)))
            from_sql = self._sql_results(source, empty_is_missing=False) if sent else iter(())
            pending = next(from_sql, None)
            try:
                for record in reader.records():
                    if pending is not None and pending[0] == record.row:
                        key = record.values.get(key_field.name) if key_field else None
                        yield record.row, pending[1]._replace(key=key)
                        pending = next(from_sql, None)
                    elif record.problem is not None:
                        yield record.row, Assignment(INVALID, (), (), (), record.problem, record.key)
                    else:
                        evaluator = evaluator or compile_model(self.model)
                        yield record.row, evaluator.assign(record.values)
            finally:
                reader.stream.close()
            assert pending is None, "a staged row was not read back"
            self.blank_lines = reader.blank_lines

    def _stage_jsonl(self, staged: Path) -> int:
        """Write the valid accounts as text (row, fields) to `staged`; the number of rows written."""
        from .accounts_io import open_accounts
        from .coerce import coerce_account

        reader = open_accounts(self.path, self.model.schema, "jsonl")
        fields = [f.name for f in self.model.schema.fields]
        sent = 0
        with staged.open("w", encoding="utf-8", newline="") as out:
            lines: list[str] = []
            for record in reader.records():
                if record.problem is not None:
                    continue
                values, reason = coerce_account(self.model.schema, record.values)
                if reason is not None:
                    continue
                cells = [_staged_cell(values[name]) for name in fields]
                line = f"{record.row},{','.join(cells)}\n"
                if not line.isascii() and not _is_utf8(line):
                    continue  # a lone surrogate escape: the Python evaluator takes this row
                lines.append(line)
                sent += 1
                if len(lines) >= 4096:
                    out.write("".join(lines))
                    lines.clear()
            out.write("".join(lines))
        reader.stream.close()
        return sent


def _read_csv(path: exp.Expression, columns: list[tuple[str, str]], header: bool,
              quoted_empty_is_text: bool = False) -> exp.Expression:
    """read_csv with every setting given: RFC 4180 quoting, the columns and their types."""
    struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(name), expression=exp.Literal.string(kind))
                                     for name, kind in columns])
    options = [("auto_detect", exp.false()), ("header", exp.true() if header else exp.false()),
               ("skip", exp.Literal.number(0)), ("delim", exp.Literal.string(",")),
               ("quote", exp.Literal.string('"')), ("escape", exp.Literal.string('"')), ("columns", struct)]
    if quoted_empty_is_text:
        options.append(("allow_quoted_nulls", exp.false()))
    return exp.Anonymous(this="read_csv", expressions=[
        path, *(exp.EQ(this=exp.column(k), expression=v) for k, v in options)])


def _staged_cell(value: object) -> str:
    """A coerced value as text the SQL reads back to the same value; NULL unquoted, text quoted."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return format(value, "f") if not isinstance(value, int) else str(value)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def count_blank_lines(path: Path, width: int) -> int:
    """Blank lines of a CSV file, as `terrl.accounts_io` counts them (for the summary line).

    Most files have none: a scan for two line breaks in a row decides that at disk speed;
    only a file that has such a pair (a blank line, or one inside a quoted cell) is read
    with the csv module, as the Python engine's reader reads it."""
    if width == 1:  # the reader takes a blank line as one empty cell
        return 0
    candidate = False
    previous = b""
    with open(path, "rb") as f:
        while chunk := f.read(SCAN_BYTES):
            joined = previous + chunk
            if b"\n\n" in joined or b"\n\r" in joined or b"\r\r" in joined:
                candidate = True
                break
            previous = chunk[-1:]
    if not candidate:
        return 0
    blank = 0
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        rows = csv.reader(f, strict=False)
        next(rows, None)  # the header
        for cells in rows:
            if not cells:
                blank += 1
    return blank


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
        raise EngineError(f"`--engine duckdb` reads CSV, Parquet and JSON Lines, not {fmt}")
    if fmt in ("csv", "jsonl"):
        try:
            reader = open_accounts(path, model.schema, fmt)
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

    from .accounts_io import FORMATS, ResultWriter, detect_format
    from .cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
    from .outcome import ASSIGNED, UNASSIGNED

    if explain:
        raise click.UsageError("--explain needs `--engine python` (it traces the reference interpreter)")
    try:
        run = prepare(model, accounts, input_format)
    except EngineError as exc:
        click.echo(f"terrl assign: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    # as the Python engine: from the output's extension, else the input's format (Parquet: CSV)
    out_format = fmt or (detect_format(output, b"") if output != "-" and Path(output).suffix
                         else run.format if run.format in FORMATS else "csv")
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
    blank = f"; {run.blank_lines} blank line{'s' if run.blank_lines != 1 else ''} skipped" if run.blank_lines else ""
    where = "" if output == "-" else f" -> {output}"
    click.echo(f"{rows} account{'s' if rows != 1 else ''}: {counts[ASSIGNED]} assigned, {counts[UNASSIGNED]} unassigned, "
               f"{counts[INVALID]} invalid{blank}{where}", err=True)
    sys.exit(EXIT_ERRORS if fail_on_invalid and counts[INVALID] else EXIT_OK)
