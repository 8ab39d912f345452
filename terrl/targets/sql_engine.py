"""`terrl assign --engine duckdb`: the SQL target run on an embedded DuckDB over a CSV, Parquet or JSON Lines file.

CSV and Parquet are read by DuckDB with every column as text (Parquet columns are cast
to text), so the rules of `terrl.semantics.coerce` apply in SQL exactly as to a CSV read by the
Python engine: an empty cell is missing, `"5,000"` is not a number, and so on. The CSV
is read with fixed settings (no sniffing: a sniffer guesses header, skipped rows and
quoting from a sample, and a wrong guess loses rows), its columns named from the header
that `terrl.io.accounts` checked. The query is `terrl.sql.build_query(...,
input_types="text", compact=True)`: per row the key, a coded result (`sql.Plan.result_of`
turns it into the same `result_fields` tuple the Python evaluator returns; one per distinct
outcome) or the invalid reason. Long lookup tables of the query are created as temporary
tables from CSV (`_create_lookup_tables`) rather than parsed as inline VALUES. Results come
back in input order and are written by the same `ResultWriter` as the Python engine's,
so both engines write the same bytes.

A CSV goes to DuckDB as it is only when DuckDB is known to split it into the same rows
and cells as `terrl.io.accounts` or to reject it (`reads_alike`: a scan at disk speed).
When it does not, or DuckDB rejects a row (ragged, a quote never closed or closed in the
wrong place, bytes that are not UTF-8), the file is read with terrl's reader instead, as
JSON Lines always is: the readable rows are staged as text in a temporary CSV for the
SQL, and a second pass over the file merges them in input order with the rows the reader
reports as `invalid` (its reasons, word for word).

JSON Lines: DuckDB's JSON reader reads numbers as doubles (`0.1000000000000000000001`
becomes `0.1`), so lines are parsed and checked in Python (`terrl.io.accounts`,
`terrl.semantics.coerce`: typed JSON values have their own rules) and the valid accounts are
staged; rows that are invalid, or hold text that is not UTF-8 (a lone surrogate escape),
take the Python evaluator's result, keeping each key as JSON typed it.

Differences (docs/sql.md): `--explain` and standard input need the Python engine.
"""

from __future__ import annotations

import csv
import codecs
import mmap
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlglot import exp

from terrl.io.accounts import AccountsError
from terrl.semantics import ir
from terrl.semantics.cleanup import DEFAULT_RULES
from terrl.targets import sql
from terrl.targets.outcome import INVALID

FETCH_ROWS = 50_000  # rows per fetch from DuckDB
ROW_COLUMN = "terrl_row"
ENGINE_FORMATS = ("csv", "parquet", "jsonl")
SCAN_BYTES = 1 << 20  # chunk size when looking for blank lines
STAGED_LINE_CHARS = 500_000  # longer staged lines could pass DuckDB's 2 MB line limit: Python assigns those rows


class EngineError(AccountsError):
    """The file cannot be assigned by the DuckDB engine (a message for the user; an
    `AccountsError`, so the command reports both engines' file problems alike)."""


@dataclass
class DuckdbRun:
    """An assignment ready to run: `results()` yields (row, key, Assignment) in input order."""

    model: ir.Model
    path: Path
    format: str
    columns: tuple[str, ...]  # the file's columns (JSON Lines: the schema's fields)
    warnings: list[str]
    threads: int | None = None
    cleanup: tuple[str, ...] = DEFAULT_RULES  # the clean-up rules (terrl.semantics.cleanup); () is strict
    wanted: tuple = ({}, None)  # (columns, preset) for terrl's reader
    mapping: dict = field(default_factory=dict)  # field -> its CSV column, where they differ
    blank_lines: int = 0  # known once `results()` is exhausted (as the Python reader counts them)
    _cached_plan: "sql.Plan | None" = field(default=None, repr=False)
    _evaluator: object = field(default=None, repr=False)

    def results(self) -> Iterator[tuple[int, object, object]]:
        self._plan()  # a model the SQL cannot hold (e.g. decimals past DECIMAL(38)) fails here, once
        if self.format == "csv" and reads_alike(self.path, self.columns):
            direct = self._sql_results(self._source_select(), empty_is_missing=True)
            try:
                first = next(direct, None)  # DuckDB reads the whole file before the first row
            except EngineError:
                pass  # DuckDB rejects a row: terrl's reader says which, and why (below)
            else:
                if first is not None:
                    yield first
                    yield from direct
                self.blank_lines = count_blank_lines(self.path, len(self.columns))
                return
        if self.format in ("csv", "jsonl"):
            yield from self._staged_results()
            return
        yield from self._sql_results(self._source_select(), empty_is_missing=True)

    def _plan(self) -> sql.Plan:
        if self._cached_plan is None:
            try:
                self._cached_plan = sql.plan_model(self.model)
            except sql.SqlUnsupported as exc:
                raise EngineError(f"`--engine duckdb` cannot assign with model `{self.model.name}`: {exc}") from None
        return self._cached_plan

    def _sql_results(self, source: exp.Select, empty_is_missing: bool) -> Iterator[tuple[int, object, object]]:
        """Run the SQL over `source` (ROW_COLUMN and every schema field as text), in row order."""
        import duckdb

        from terrl.targets.evaluate import Assignment

        plan = self._plan()
        assignments: dict[str, Assignment] = {}  # coded result -> its Assignment (few distinct per file)
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")  # it would write to standard output, among the results
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            con.execute(f'CREATE VIEW "terrl_accounts" AS {source.sql("duckdb")}')
            lookups: dict = {}
            try:
                query = sql.build_query(self.model, dialect="duckdb", table=exp.to_table("terrl_accounts", quoted=True),
                                        input_types="text", carry=(ROW_COLUMN,), compact=True, plan=plan,
                                        empty_is_missing=empty_is_missing, external=lookups,
                                        python_cleanup=tuple(self.cleanup))
            except sql.SqlUnsupported as exc:  # e.g. boundaries wider than DECIMAL(38): use `--engine python`
                raise EngineError(f"`--engine duckdb` cannot assign with model `{self.model.name}`: {exc}; "
                                  "use `--engine python`") from None
            _create_lookup_tables(con, lookups)
            cursor = con.execute(sql.to_text(query, "duckdb") + f' ORDER BY "{ROW_COLUMN}"')
            while True:
                batch = cursor.fetchmany(FETCH_ROWS)
                if not batch:
                    break
                # Rows the SQL finds invalid take the Python evaluator's result: it cleans their
                # values (the SQL checks strictly) and words the reason with its hints.
                again = self._python_results(con, [row for row, _, result, _ in batch if result is None])
                for row, key, result, reason in batch:
                    if result is None:
                        yield row, key, again[row]
                    else:
                        found = assignments.get(result)
                        if found is None:
                            found = assignments[result] = Assignment(*plan.result_of(result))
                        yield row, key, found
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB cannot assign {self.path}: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()

    def _python_results(self, con, rows: list[int]) -> dict:
        """row -> the Python evaluator's result, for these rows of the view `terrl_accounts`."""
        if not rows:
            return {}
        from terrl.targets.evaluate import compile_model

        if self._evaluator is None:
            self._evaluator = compile_model(self.model, cleanup=self.cleanup)
        names = [f.name for f in self.model.schema.fields]
        cursor = con.cursor()
        try:
            select = ", ".join(f'"{n}"' for n in [ROW_COLUMN] + [n.replace('"', '""') for n in names])
            found = cursor.execute(f'SELECT {select} FROM "terrl_accounts" WHERE "{ROW_COLUMN}" IN '
                                   f'(SELECT unnest(?::BIGINT[]))', [rows]).fetchall()
        finally:
            cursor.close()
        assign = self._evaluator.assign
        return {values[0]: assign(dict(zip(names, values[1:]))) for values in found}

    def _source_select(self) -> exp.Select:
        """ROW_COLUMN and every schema field as text (NULL for an absent optional column)."""
        path = exp.Literal.string(str(self.path))
        if self.format == "csv":
            # fixed settings, columns named from the checked header: nothing guessed from a sample
            names = [f"terrl_column_{i}" for i in range(len(self.columns))]
            source = _read_csv(path, [(n, "VARCHAR") for n in names], header=True, no_nulls=True)
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
            column = self.mapping.get(f.name, f.name)
            value = exp.column(by_name[column], quoted=True) if column in by_name else exp.null()
            columns.append(exp.alias_(exp.cast(value, "VARCHAR"), f.name, quoted=True))
        return exp.select(*columns).from_(exp.Table(this=source))

    # --- read by terrl, assigned by DuckDB ------------------------------------------------

    def _staged_results(self) -> Iterator[tuple[int, object, object]]:
        """Stage the rows terrl's reader reads, run the SQL on them, and merge in input order
        the rows it reports as unreadable or invalid (the Python engine's results for them)."""
        from terrl.io.accounts import AccountsError, open_accounts
        from terrl.targets.evaluate import Assignment, compile_model

        key_field = self.model.schema.key

        def key_of(record):
            return record.values.get(key_field.name) if key_field else None

        with tempfile.TemporaryDirectory(prefix="terrl-duckdb-") as tmp:
            staged = Path(tmp) / "accounts.csv"
            try:
                sent = self._stage(staged)
                reader = open_accounts(self.path, self.model.schema, self.format, *self.wanted)
            except (AccountsError, OSError) as exc:
                raise EngineError(str(exc)) from None
            evaluator = None
            typed_keys = self.format == "jsonl"
            names = [ROW_COLUMN] + [f.name for f in self.model.schema.fields]
            source = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(exp.Table(this=_read_csv(
                exp.Literal.string(str(staged)), [(ROW_COLUMN, "BIGINT")] + [(n, "VARCHAR") for n in names[1:]],
                header=False, staged=True)))
            # CSV: raw text, as in the file (an empty cell is missing); JSON Lines: values already checked
            from_sql = self._sql_results(source, empty_is_missing=self.format == "csv") if sent else iter(())
            pending = next(from_sql, None)
            try:
                for record in reader.records():
                    if pending is not None and pending[0] == record.row:
                        if typed_keys:  # the SQL gives the key as text; JSON may have typed it
                            pending = record.row, key_of(record), pending[2]
                        yield pending
                        pending = next(from_sql, None)
                    elif record.problem is not None:
                        yield record.row, record.key, Assignment(INVALID, (), (), (), record.problem)
                    else:
                        evaluator = evaluator or compile_model(self.model, cleanup=self.cleanup)
                        yield record.row, key_of(record), evaluator.assign(record.values)
            finally:
                reader.stream.close()
            assert pending is None, "a staged row was not read back"
            self.blank_lines = reader.blank_lines

    def _stage(self, staged: Path) -> int:
        """Write the rows the SQL can take as text (row, fields) to `staged`; the number of rows written.

        Left out (the merge gives them the Python engine's result): rows the reader cannot read,
        JSON values that fail their checks, text that is not UTF-8, and very long lines."""
        from terrl.io.accounts import open_accounts
        from terrl.semantics.coerce import coerce_account

        reader = open_accounts(self.path, self.model.schema, self.format, *self.wanted)
        fields = [f.name for f in self.model.schema.fields]
        typed = self.format == "jsonl"
        sent = 0
        with staged.open("w", encoding="utf-8", newline="") as out:
            lines: list[str] = []
            for record in reader.records():
                if record.problem is not None:
                    continue
                values = record.values
                if typed:
                    notes: list = []
                    values, reason = coerce_account(self.model.schema, values, self.cleanup, notes)
                    if reason is not None or notes:  # the Python evaluator takes it (and says what it cleaned)
                        continue
                    cells = ",".join([_staged_cell(values[name]) for name in fields])
                else:  # text or None (an empty cell, or a column the file does not have)
                    cells = ",".join(['' if v is None else '"' + v.replace('"', '""') + '"' for v in map(values.get, fields)])
                line = f"{record.row},{cells}\n"
                if len(line) > STAGED_LINE_CHARS or (not line.isascii() and not _is_utf8(line)):
                    continue  # the Python evaluator takes this row
                lines.append(line)
                sent += 1
                if len(lines) >= 4096:
                    out.write("".join(lines))
                    lines.clear()
            out.write("".join(lines))
        reader.stream.close()
        return sent


def _create_lookup_tables(con, lookups: dict) -> None:
    """The query's long lookup tables (`sql.build_query(external=...)`) as temporary tables, read
    from CSV: as inline VALUES, DuckDB would take GBs to parse them (700 Salesforce-like overlays)."""
    if not lookups:
        return
    with tempfile.TemporaryDirectory(prefix="terrl-lookups-") as tmp:
        for name, (columns, rows) in lookups.items():
            path = Path(tmp) / f"{name}.csv"
            path.write_text("".join(",".join(map(str, row)) + "\n" for row in rows), encoding="ascii")
            source = _read_csv(exp.Literal.string(str(path)), [(c, "BIGINT") for c in columns], header=False)
            con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM {exp.Table(this=source).sql("duckdb")}')


def _read_csv(path: exp.Expression, columns: list[tuple[str, str]], header: bool,
              no_nulls: bool = False, staged: bool = False) -> exp.Expression:
    """read_csv with every setting given: RFC 4180 quoting, the columns and their types.

    `no_nulls`: no cell reads as NULL (the SQL takes `''` as missing), because DuckDB takes a
    NULL cell past the last column for a trailing delimiter and drops it, where terrl reports a
    ragged row; the null string is a line break, which no unquoted cell holds. `staged`: a file
    written by `DuckdbRun._stage`: `\\n` line ends (not guessed from a value's `\\r\\n`), `""` is text."""
    struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(name), expression=exp.Literal.string(kind))
                                     for name, kind in columns])
    options = [("auto_detect", exp.false()), ("header", exp.true() if header else exp.false()),
               ("skip", exp.Literal.number(0)), ("delim", exp.Literal.string(",")),
               ("quote", exp.Literal.string('"')), ("escape", exp.Literal.string('"')), ("columns", struct)]
    if no_nulls:
        options += [("nullstr", exp.Literal.string("\n")), ("allow_quoted_nulls", exp.false())]
    if staged:
        options += [("new_line", exp.Literal.string("\\n")), ("allow_quoted_nulls", exp.false())]
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


_QUOTE_NEIGHBOURS = b',\r\n"'  # what may stand beyond the spaces next to a quote for DuckDB to drop them
_BARE_CR = re.compile(rb"\r(?!\n)")


def reads_alike(path: Path, header: tuple[str, ...]) -> bool:
    """Whether DuckDB's CSV reader (the settings of `_read_csv`) splits this file into the rows and
    cells `terrl.io.accounts` reads, or rejects it (it then takes the staged path). Where they would
    differ without an error (found by comparing both on generated files), the answer is no:

    - a line break inside a header cell: DuckDB's header skip reads the file differently;
    - a blank line in a one-column file: DuckDB skips it, terrl reads one empty cell;
    - a carriage return not followed by a line feed: in a CRLF file DuckDB takes the byte after it as
      part of the line break;
    - spaces between a quote and a comma, a line break, another quote or the file's ends (`"US" ,`,
      `, "US"`): DuckDB drops them and reads the cell as quoted, terrl keeps them as text.

    Memory-mapped and searched for two-byte patterns, which most files do not hold at all."""
    if any("\n" in name or "\r" in name for name in header):
        return False
    with open(path, "rb") as f:
        if not f.seek(0, 2):
            return True
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if len(header) == 1 and any(data.find(pair) >= 0 for pair in (b"\n\n", b"\n\r", b"\r\r")):
                return False
            if data.find(b"\r") >= 0 and _BARE_CR.search(data):
                return False
            if _spaces_beside_a_quote(data):
                return False
            if not _utf8(data):  # DuckDB reads some bytes that are not UTF-8 without a word
                return False
    return True


def _utf8(data: mmap.mmap, chunk: int = 1 << 20) -> bool:
    """Whether the whole file is UTF-8 text; ASCII chunks (most) are passed over in C."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), chunk):
            piece = data[start:start + chunk]
            if piece.isascii() and not decoder.getstate()[0]:
                continue
            decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _spaces_beside_a_quote(data: mmap.mmap) -> bool:
    """A run of spaces between a quote and a comma, a line break, another quote or an end of the file.

    A file without a space beside a quote costs two searches; one with spaces beside escaped quotes
    inside cells (`"say ""hi"" now"`) a few more, for the one-space forms, and a walk over longer runs."""
    size = len(data)
    if data.find(b' "') >= 0:
        if data[:1] == b" " or any(data.find(p) >= 0 for p in (b', "', b'\n "', b'\r "', b'" "')):
            return True
        at = data.find(b'  "')
        while at >= 0:
            start = at
            while start > 0 and data[start - 1] == 0x20:
                start -= 1
            if start == 0 or data[start - 1] in _QUOTE_NEIGHBOURS:
                return True
            at = data.find(b'  "', at + 3)
    if data.find(b'" ') >= 0:
        if data[-1:] == b" " or any(data.find(p) >= 0 for p in (b'" ,', b'" \n', b'" \r')):  # `" "`: above
            return True
        at = data.find(b'"  ')
        while at >= 0:
            end = at + 1
            while end < size and data[end] == 0x20:
                end += 1
            if end == size or data[end] in _QUOTE_NEIGHBOURS:
                return True
            at = data.find(b'"  ', end)
    return False


def count_blank_lines(path: Path, width: int) -> int:
    """Blank lines of a CSV file, as `terrl.io.accounts` counts them (for the summary line).

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


def prepare(model: ir.Model, path: str, input_format: str | None, cleanup: tuple[str, ...] = DEFAULT_RULES,
            columns: dict | None = None, preset: str | None = None) -> DuckdbRun:
    """Check the file's columns (the same errors as the Python engine's reader) before any work."""
    from terrl.io.accounts import AccountsError, open_accounts

    fmt = engine_format(path, input_format)
    if path == "-":
        raise EngineError("`--engine duckdb` reads a file, not standard input; give a path or use `--engine python`")
    if fmt not in ENGINE_FORMATS:
        raise EngineError(f"`--engine duckdb` reads CSV, Parquet and JSON Lines, not {fmt}")
    if fmt in ("csv", "jsonl"):
        try:
            reader = open_accounts(path, model.schema, fmt, columns, preset)
        except AccountsError as exc:
            raise EngineError(str(exc)) from None
        reader.stream.close()
        return DuckdbRun(model, Path(path), fmt, reader.columns, reader.warnings, cleanup=tuple(cleanup),
                         wanted=(dict(columns or {}), preset), mapping=reader.mapping)
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
    return DuckdbRun(model, Path(path), fmt, tuple(names), warnings, cleanup=tuple(cleanup))
