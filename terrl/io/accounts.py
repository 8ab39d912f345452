"""Streaming readers of account files and writers of assignment results.

Readers take CSV (a header row, then one account per row) or JSON Lines (one object
per line) and yield one `Record` per account, in input order, holding memory flat:
rows are read one at a time and never collected. A row that cannot be read (ragged,
not UTF-8, not JSON, a field larger than `MAX_FIELD_BYTES`) is still a record: it
carries a `problem` and becomes an `invalid` result; no row is ever dropped.
Blank lines are not records (a CSV blank line has no cells to give); the reader
counts them so the command can say how many it passed over.

Problems with the whole file (empty, no header, required columns missing, duplicate
columns) raise `AccountsError` before the first record, so nothing is assigned from a
file that cannot be right.

CSV conventions (the design brief's "Assignment results"): UTF-8 with or without a
byte-order mark, an empty cell is a missing value (None), every other cell is passed
as text to the evaluator, which coerces it per the schema.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, NamedTuple, Sequence

from terrl.diagnostics.json_values import json_default
from terrl.diagnostics.suggest import closest
from terrl.semantics import ir

MAX_FIELD_BYTES = 256 * 1024 * 1024  # a single cell larger than this is a problem row, not a memory blow-up
FORMATS = ("csv", "jsonl")
RESULT_COLUMNS = ("row", "key", "status", "territories", "titles", "owners", "reason")
LIST_SEPARATOR = ";"
CHUNK_ROWS = 2048  # CSV rows read at once (plain rows: one line each, as wide as the header)


# `--columns salesforce`: where a Salesforce Account export (API names, then report labels) holds
# the fields a schema commonly calls by these names.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "salesforce": {
        "id": ("Id", "Account ID"), "account_id": ("Id", "Account ID"),
        "name": ("Name", "Account Name"), "account_name": ("Name", "Account Name"),
        "country": ("BillingCountry", "Billing Country"), "billing_country": ("BillingCountry", "Billing Country"),
        "state": ("BillingState", "Billing State/Province"), "billing_state": ("BillingState", "Billing State/Province"),
        "zip": ("BillingPostalCode", "Billing Zip/Postal Code"), "postal_code": ("BillingPostalCode", "Billing Zip/Postal Code"),
        "billing_postal_code": ("BillingPostalCode", "Billing Zip/Postal Code"),
        "industry": ("Industry",),
        "employees": ("NumberOfEmployees", "Employees"), "number_of_employees": ("NumberOfEmployees", "Employees"),
        "revenue": ("AnnualRevenue", "Annual Revenue"), "annual_revenue": ("AnnualRevenue", "Annual Revenue"),
    },
}


def column_mapping(schema: ir.Schema, header: list[str] | tuple[str, ...], columns: Mapping[str, str],
                   preset: str | None) -> dict[str, str]:
    """field -> the header column that holds it: `columns` (FIELD=HEADER) first, then the field's own
    name, then the preset's headers for it. Raises AccountsError for a FIELD the schema lacks."""
    unknown = [name for name in columns if name not in {f.name for f in schema.fields}]
    if unknown:
        hint = closest(unknown[0], [f.name for f in schema.fields])
        raise AccountsError(f"--column {unknown[0]}=...: schema `{schema.name}` has no field `{unknown[0]}`"
                            + (f"; did you mean `{hint}`?" if hint else ""))
    present = set(header)
    table = PRESETS.get(preset or "", {})
    mapping = {}
    for f in schema.fields:
        if f.name in columns:
            mapping[f.name] = columns[f.name]
        elif f.name not in present:
            found = next((h for h in table.get(f.name, ()) if h in present), None)
            if found is not None:
                mapping[f.name] = found
    return mapping


class AccountsError(Exception):
    """The account file as a whole cannot be used (a message for the user, not a bug)."""


class Record(NamedTuple):
    """One account read from the file (a named tuple: one is made per row, cheaply)."""

    row: int  # 1-based number of the account in the file
    line: int  # 1-based line where it starts
    values: Mapping[str, Any] | None  # field -> raw value; None when the row cannot be read
    problem: str | None = None  # why the row cannot be read
    key: Any = None  # the raw key value when it could be read, for problem rows


def detect_format(name: str | None, head: bytes = b"") -> str:
    """`csv` or `jsonl`, from the file name's extension or else from its first bytes."""
    if name:
        suffix = Path(name).suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            return "jsonl"
        if suffix in (".csv", ".txt"):
            return "csv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if stripped.startswith(b"{") else "csv"


@dataclass
class AccountReader:
    """An open account file; iterate `records()` once."""

    stream: IO[bytes]
    schema: ir.Schema
    format: str
    name: str = "<stdin>"
    columns: tuple[str, ...] = ()
    mapping: dict[str, str] = field(default_factory=dict)  # field -> header, where they differ
    warnings: list[str] = field(default_factory=list)
    blank_lines: int = 0
    _rows: Iterator[Record] | None = None
    wanted: tuple = ({}, None)  # (columns, preset) as asked for
    _csv: Iterator | None = None  # a CSV file's rows (see _csv_rows), under `_rows` or `batches`
    index: dict[str, int] = field(default_factory=dict)  # a CSV file: field -> its column's position

    def records(self) -> Iterator[Record]:
        assert self._rows is not None
        return self._rows

    def batches(self, size: int = CHUNK_ROWS) -> Iterator[Record | Batch] | None:
        """For a CSV file, instead of `records()`: runs of up to `size` readable rows as one
        Batch (cells as read: "" is missing), and a Record for each row that cannot be read,
        in file order. None for other formats."""
        return _csv_batches(self._csv, size) if self._csv is not None else None

    def position(self) -> int:
        """Bytes consumed so far (approximately), for a progress bar."""
        try:
            return self.stream.tell()
        except (OSError, ValueError):
            return 0


def open_accounts(source: str | Path | IO[bytes], schema: ir.Schema, fmt: str | None = None,
                  columns: Mapping[str, str] | None = None, preset: str | None = None, *,
                  extra_columns: tuple[str, ...] = ()) -> AccountReader:
    """Open `source` (a path, `-` for stdin, or a binary stream) and read its header.
    `extra_columns`: CSV columns to read besides the schema's fields, when the header has them
    (a JSON Lines record keeps every key of its object anyway).

    `columns` (field -> header) and `preset` (a name of `PRESETS`) say where fields whose
    column is not named as the field are (`column_mapping`); in JSON Lines, the keys.

    Raises AccountsError for an unreadable or unusable file.
    """
    if isinstance(source, (str, Path)) and str(source) == "-":
        stream, name = sys.stdin.buffer, "<stdin>"
    elif isinstance(source, (str, Path)):
        name = str(source)
        try:
            stream = open(source, "rb")
        except OSError as exc:
            raise AccountsError(f"cannot read {name}: {exc.strerror or exc}") from None
    else:
        stream, name = source, getattr(source, "name", "<stream>")
    if fmt is None:
        if not hasattr(stream, "peek"):  # a pipe-like stream: read ahead, then put the bytes back in front
            head = stream.read(64)
            stream = io.BufferedReader(_Rewound(head, stream))
        fmt = detect_format(None if name.startswith("<") else name, stream.peek(64)[:64])
    if fmt not in FORMATS:
        raise AccountsError(f"unknown account format `{fmt}`; use one of: {', '.join(FORMATS)}")
    reader = AccountReader(stream, schema, fmt, name)
    reader.wanted = (dict(columns or {}), preset)
    if fmt == "csv":
        _open_csv(reader, extra_columns)
    else:
        if not _peek(stream, 4).removeprefix(b"\xef\xbb\xbf"):  # as an empty CSV: a usage error, not 0 accounts
            raise AccountsError(f"{name} is empty: expected one JSON object (an account) per line")
        reader._rows = _jsonl_records(reader)
    return reader


class _Rewound(io.RawIOBase):
    """`head` followed by the rest of `stream`: lets a stream without `peek` be sniffed."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


# --- CSV ----------------------------------------------------------------------------

def _open_csv(reader: AccountReader, extra_columns: tuple[str, ...] = ()) -> None:
    text = io.TextIOWrapper(reader.stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    csv.field_size_limit(MAX_FIELD_BYTES)
    lines = _Lines(text)
    rows = csv.reader(lines, strict=False)
    try:
        header = next(rows, None)
    except csv.Error as exc:
        raise AccountsError(f"{reader.name}: the header row cannot be read: {exc}") from None
    if header is None:
        raise AccountsError(f"{reader.name} is empty: expected a header row naming the columns "
                            f"({', '.join(f.name for f in reader.schema.fields)})")
    if not _is_utf8("".join(header)):
        raise AccountsError(f"{reader.name}: the header row is not UTF-8 text; save the file as UTF-8")
    reader.columns = tuple(header)
    reader.mapping = column_mapping(reader.schema, header, *reader.wanted)
    reader.index = _column_index(reader, header)
    for name in extra_columns:
        if name in header and name not in reader.index:
            reader.index[name] = header.index(name)
    reader._csv = _csv_rows(reader, lines, rows, header, reader.index)
    reader._rows = _csv_records(reader, reader._csv, reader.index)


def _column_index(reader: AccountReader, header: list[str]) -> dict[str, int]:
    schema = reader.schema
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        positions.setdefault(name, []).append(i)
    for name, column in reader.mapping.items():  # a mapped field reads its column, not one of its own name
        positions[name] = positions.get(column, [])
    duplicated = [f.name for f in schema.fields if len(positions.get(f.name, ())) > 1]
    if duplicated:
        raise AccountsError(f"{reader.name}: column(s) {_names(duplicated)} appear more than once in the header; "
                            "keep one column per field")
    missing = [f for f in schema.fields if not positions.get(f.name)]
    required = [f.name for f in missing if not f.optional]
    if required:
        hints = []
        for name in required:
            close = next((c for c in header if c.strip().lower() == name.lower()), None) or \
                closest(name, header, cutoff=0.7)
            if name in reader.mapping:
                hints.append(f"`{name}` (mapped to `{reader.mapping[name]}`, which the header lacks)")
            elif close:
                hints.append(f"`{name}` (found `{close}`: `--column {name}={close}`)")
        message = (f"{reader.name}: missing required column(s) {_names(required)} of schema `{schema.name}`; "
                   f"the header has {_names(header) if header else 'no columns'}")
        if hints:
            message += "; did you mean: " + ", ".join(hints)
        if reader.wanted[1] is None:  # a CRM export whose columns a preset knows
            for preset, table in PRESETS.items():
                if all(any(h in positions for h in table.get(name, ())) for name in required):
                    message += f"; these are the columns of a {preset.title()} export: add `--columns {preset}`"
        raise AccountsError(message)
    for f in missing:
        reader.warnings.append(f"{reader.name} has no column `{f.name}`: every account is read with no `{f.name}`")
    return {f.name: positions[f.name][0] for f in schema.fields if positions.get(f.name)}


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates stand for bytes that were not UTF-8
        return False
    return True


class _Lines:
    """The physical lines of the text, as csv.reader reads them, keeping those of the record
    being read: a record that a misplaced quote ran across can be read again line by line."""

    def __init__(self, text: IO[str]) -> None:
        self.source = iter(text)
        self.again: list[str] = []  # lines to give again (reversed), before the rest of the text
        self.taken: list[str] = []  # the lines of the current record
        self.count = 0  # physical lines given out so far

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.again.pop() if self.again else next(self.source)
        self.taken.append(line)
        self.count += 1
        return line

    def give_again(self, lines: list[str]) -> None:
        self.again.extend(reversed(lines))
        self.count -= len(lines)


def _csv_rows(reader: AccountReader, lines: _Lines, rows, header: list[str],
              index: dict[str, int]) -> Iterator[Record | tuple[int, int, list[str]]]:
    """The rows of the file in order: a Record for a row that cannot be read (its problem), else
    (row number, line, the row's cells) -- the cells of every column, as read."""
    width = len(header)
    key_field = reader.schema.key
    key_at = index.get(key_field.name) if key_field else None
    row_number = 0
    while True:
        if not lines.again:  # at a record boundary, on fresh lines: try a chunk of plain rows
            line = lines.count + 1
            taken = list(islice(lines.source, CHUNK_ROWS))
            try:  # strictly: a quote still open at the chunk's end is an error here, not a cell's end
                chunk = list(csv.reader(taken, strict=True))
            except csv.Error:
                chunk = None  # read again below, row by row (a quote over several lines, an error)
            if chunk is not None and _plain(chunk, taken, width):
                lines.count += len(taken)
                yield Chunk(row_number + 1, line, chunk)
                row_number += len(chunk)
                if len(taken) < CHUNK_ROWS:
                    return
                continue
            # Anything unusual (a row over several lines or cut by the chunk's end, a blank or
            # ragged row, bytes that are not UTF-8, a CSV error): these lines again, one row at
            # a time, as before.
            lines.give_again(taken)
            lines.count += len(taken)
            rows = csv.reader(lines, strict=False)
        line = lines.count + 1
        lines.taken.clear()
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            yield Record(row_number, line, None, f"row cannot be read as CSV: {exc}")
            continue
        if not cells:
            if width != 1:
                reader.blank_lines += 1
                continue
            cells = [""]
        row_number += 1
        spanned = lines.taken
        if len(spanned) > 1 or len(cells) != width:
            key = _printable(cells[key_at]) if key_at is not None and key_at < len(cells) else None
            misquoted = _misquoted(spanned) if len(spanned) > 1 else None
            if misquoted:
                # A quote that was never closed (or closed by the next row's quote) made csv
                # take the following lines into this row. Report this line; read the lines
                # after it again, as rows of their own.
                lines.give_again(spanned[1:])
                rows = csv.reader(lines, strict=False)
                more = len(spanned) - 1
                yield Record(row_number, line, None,
                             f"{misquoted}: read as one row it would take in the {more} line{'s' if more > 1 else ''} "
                             'after it; close the quote, or write a quote inside a cell as ""', key)
                continue
            if len(cells) != width:
                yield Record(row_number, line, None, f"ragged row: {len(cells)} cells where the header has {width}", key)
                continue
        joined = "".join(cells)
        if not joined.isascii() and not _is_utf8(joined):
            bad = next(header[i] for i, c in enumerate(cells) if not _is_utf8(c))
            yield Record(row_number, line, None, f"column `{bad}` holds bytes that are not UTF-8 text",
                         _printable(cells[key_at]) if key_at is not None else None)
            continue
        yield row_number, line, cells


class Chunk(NamedTuple):
    """Consecutive rows of a CSV file, one line each, all as wide as the header, in UTF-8."""

    row: int  # the first one's row number
    line: int  # and line
    cells: list[list[str]]


def _plain(chunk: list[list[str]], taken: list[str], width: int) -> bool:
    """Whether the rows csv just read are plain: one line each (so no blank line and no
    quote over several lines), each as wide as the header, their text UTF-8."""
    if len(taken) != len(chunk) or not chunk or set(map(len, chunk)) != {width}:
        return False
    joined = "".join(map("".join, chunk))
    return joined.isascii() or _is_utf8(joined)


def _csv_records(reader: AccountReader, rows: Iterator, index: dict[str, int]) -> Iterator[Record]:
    items = tuple(index.items())
    for item in rows:
        if type(item) is Record:
            yield item
        elif type(item) is Chunk:
            for offset, cells in enumerate(item.cells):
                yield Record(item.row + offset, item.line + offset, row_values(cells, items))
        else:
            row_number, line, cells = item
            yield Record(row_number, line, row_values(cells, items))


def row_values(cells: list[str], items: tuple[tuple[str, int], ...]) -> dict[str, str | None]:
    """A CSV row's values by field (`items`: (field, column position)); an empty cell is missing."""
    return {name: (cells[i] or None) for name, i in items}


class Batch(NamedTuple):
    """Consecutive readable rows of a CSV file, for `AccountReader.batches`."""

    rows: Sequence[int]  # their row numbers
    lines: Sequence[int]  # the lines where they start
    cells: list[list[str]]  # each row's cells, as read (every column of the file)

    def column(self, position: int | None) -> Sequence:
        """The cells of one column of the file (None: a column the file does not have)."""
        return [None] * len(self.rows) if position is None else list(map(itemgetter(position), self.cells))

    def columns(self, positions: list[int | None]) -> list[Sequence]:
        """`column` of each position; one transposition of the rows when most columns are wanted."""
        if self.cells and len(self.cells[0]) <= 2 * len(positions):
            every = list(zip(*self.cells))
            return [[None] * len(self.rows) if p is None else every[p] for p in positions]
        return [self.column(p) for p in positions]


def _csv_batches(rows: Iterator, size: int) -> Iterator[Record | Batch]:
    batch = Batch([], [], [])
    for item in rows:
        if type(item) is Chunk:
            if batch.rows:
                yield batch
                batch = Batch([], [], [])
            n = len(item.cells)
            yield Batch(range(item.row, item.row + n), range(item.line, item.line + n), item.cells)
            continue
        if type(item) is Record:
            if batch.rows:
                yield batch
                batch = Batch([], [], [])
            yield item
            continue
        row_number, line, cells = item
        batch.rows.append(row_number)
        batch.lines.append(line)
        batch.cells.append(cells)
        if len(batch.rows) >= size:
            yield batch
            batch = Batch([], [], [])
    if batch.rows:
        yield batch


def _misquoted(lines: list[str]) -> str | None:
    """What is wrong with the quotes of a row that spans these lines, read strictly (RFC 4180),
    or None when they are right (a quoted cell that holds line breaks)."""
    try:
        for _ in csv.reader(lines, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return "a quoted cell is never closed"
        return f"a quoted cell is closed in the wrong place ({exc})"
    return None


def _printable(value: Any) -> Any:
    """The value, with bytes that were not UTF-8 shown as U+FFFD and lone surrogates from
    JSON escapes as `\\udXXX`, so that it can be written out."""
    if isinstance(value, str) and not _is_utf8(value):
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a lone surrogate that does not stand for a byte
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


# --- JSON Lines -----------------------------------------------------------------------

def _peek(stream: IO[bytes], n: int) -> bytes:
    """Up to `n` bytes ahead, left in the stream (b"" at its end)."""
    if hasattr(stream, "peek"):
        return stream.peek(n)[:n]
    position = stream.tell()  # a seekable stream without peek (BytesIO)
    head = stream.read(n)
    stream.seek(position)
    return head


def _json_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Lines ended by LF, CRLF or a lone CR, as the CSV reader takes them (a CR is never inside
    a JSON value: strings spell it `\\r`)."""
    for raw in stream:
        body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
        if b"\r" not in body:
            yield raw
            continue
        pieces = body.split(b"\r")
        if raw.endswith(b"\r") and not raw.endswith(b"\n"):
            pieces.pop()  # the last CR ends the last line: no empty line after it
        for piece in pieces:
            yield piece + b"\n"


def _jsonl_records(reader: AccountReader) -> Iterator[Record]:
    key_field = reader.schema.key
    columns, preset = reader.wanted
    # JSON Lines has no header: a field is read from its mapped key, or the preset's first key
    mapping = dict(columns)
    fallback = {name: headers for name, headers in PRESETS.get(preset or "", {}).items()
                if name not in mapping and any(f.name == name for f in reader.schema.fields)}
    reader.mapping = mapping
    row_number = 0
    for line_number, raw in enumerate(_json_lines(reader.stream), start=1):
        if line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            reader.blank_lines += 1
            continue
        row_number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Record(row_number, line_number, None, f"the line is not UTF-8 text (byte {exc.start + 1})")
            continue
        try:
            value = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            yield Record(row_number, line_number, None, f"the line is not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield Record(row_number, line_number, None, "the line is not valid JSON: nested too deeply")
            continue
        except ValueError as exc:  # e.g. an integer with more digits than Python reads
            yield Record(row_number, line_number, None, f"the line cannot be read: {exc}")
            continue
        if not isinstance(value, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number" if value is not None else "null")
            yield Record(row_number, line_number, None, f"expected a JSON object (one account per line), got {kind}")
            continue
        if mapping or fallback:
            value = dict(value)
            for name, column in mapping.items():
                value[name] = value.get(column)
            for name, headers in fallback.items():
                if name not in value:
                    value[name] = next((value[h] for h in headers if h in value), None)
        key = value.get(key_field.name) if key_field else None
        if b"\\u" in raw:  # a JSON escape may spell half of a UTF-16 pair: not Unicode text
            bad = next((name for name, v in value.items() if isinstance(v, str) and not _is_utf8(v)), None)
            if bad is not None:
                yield Record(row_number, line_number, None,
                             f"field `{_printable(bad)}` holds a lone UTF-16 surrogate escape (such as \\ud800), "
                             "which is not Unicode text", _printable(key))
                continue
        yield Record(row_number, line_number, value, key=key)


# --- writers ----------------------------------------------------------------------------

_JSON_DEFAULT = json_default("int-or-text")  # a key read from JSON: docs/assign.md


def _csv_field(text: str) -> str:
    """One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """`text` with a `'` in front when a spreadsheet would read it as a formula. OWASP's rule,
    applied as it stands: any leading `-`, so a text cell `-5` is written `'-5` too."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class ResultWriter:
    """Writes one line per result in CSV or JSON Lines (columns: `RESULT_COLUMNS`, then `explain`).

    CSV lines end in CRLF (RFC 4180). The columns after the key depend only on the
    outcome, and results of one outcome share their tuples, so their text is cached.
    With `escape_formulas` (the default), every text cell of CSV output (key, territories,
    titles, owners, reason, explain) that a spreadsheet would run as a formula gets a
    leading `'` (`formula_safe`); a key that is a JSON number is a number and stays as it
    is. JSON Lines output never changes.
    """

    CACHE_LIMIT = 100_000
    BATCH = 2048  # lines joined per write to the stream

    def __init__(self, stream: IO[str], fmt: str, *, explain: bool = False, escape_formulas: bool = True) -> None:
        if fmt not in FORMATS:
            raise AccountsError(f"unknown output format `{fmt}`; use one of: {', '.join(FORMATS)}")
        self.stream, self.format, self.explain = stream, fmt, explain
        self._cell = (lambda text: _csv_field(formula_safe(text))) if escape_formulas else _csv_field
        # id(result) -> its CSV columns; `_kept` holds those results, so no id is reused meanwhile
        self._tail_text: dict[int, str] = {}
        self._kept: list = []
        self._cleaned_tails: dict[tuple, str] = {}  # a cleaned result's columns -> its CSV columns
        self._lines: list[str] = []
        if fmt == "csv":
            stream.write(",".join(RESULT_COLUMNS + (("explain",) if explain else ())) + "\r\n")

    def flush(self) -> None:
        """Write the lines held back; call once at the end (and whenever the output must be current)."""
        if self._lines:
            self.stream.write("".join(self._lines))
            self._lines.clear()
        self.stream.flush()

    def _csv_tail(self, result) -> str:
        # Keyed by identity (accounts that end alike share one result object): no tuple to hash
        # per row. `_kept` holds every cached result, so its id cannot be reused while cached.
        tail = self._tail_text.get(id(result))
        if tail is not None:
            return tail
        if len(result) > 5 and result[5]:  # a cleaned account's own copy of a shared result: by its columns
            columns = result[:5]
            tail = self._cleaned_tails.get(columns)
            if tail is None:
                tail = self._tail_of(result)
                if len(self._cleaned_tails) < self.CACHE_LIMIT:
                    self._cleaned_tails[columns] = tail
            return tail
        tail = self._tail_of(result)
        if len(self._tail_text) < self.CACHE_LIMIT:
            self._kept.append(result)
            self._tail_text[id(result)] = tail
        return tail

    def _tail_of(self, result) -> str:
        cell = self._cell
        return result.status + "," + ",".join(cell(x) for x in (
            LIST_SEPARATOR.join(result.territories), LIST_SEPARATOR.join(result.titles),
            LIST_SEPARATOR.join(result.owners), result.reason or ""))

    def write_batch(self, rows: Sequence[int], keys: list, results: list) -> None:
        """`write` for each (row, key, result) of a batch, with no `explain`: CSV lines built a
        batch at a time (C-level maps) where the keys need no escaping; the same text as `write`."""
        if self.format != "csv" or self.explain or not _plain_keys(keys, self._cell is not _csv_field):
            for row, key, result in zip(rows, keys, results):
                self.write(row, key, result)
            return
        tails = list(map(self._tail_text.get, map(id, results)))
        if None in tails:
            tails = [self._csv_tail(result) if tail is None else tail for tail, result in zip(tails, results)]
        self._lines.extend(map("{},{},{}\r\n".format, rows, keys, tails))
        if len(self._lines) >= self.BATCH:
            self.stream.write("".join(self._lines))
            self._lines.clear()

    def write(self, row: int, key: Any, result, explain: Any = None) -> None:
        """One output row: the input row number, the account's key as given, its result."""
        if isinstance(key, str) and not key.isascii():
            key = _printable(key)
        if self.format == "csv":
            key_text = "" if key is None else self._cell(key) if isinstance(key, str) else _csv_field(_text_of(key))
            line = f"{row},{key_text},{self._csv_tail(result)}"
            if self.explain:
                line += "," + self._cell(explain or "")
            self._lines.append(line + "\r\n")
        else:
            obj = {"row": row, "key": key, "status": result.status, "territories": list(result.territories),
                   "titles": list(result.titles), "owners": list(result.owners), "reason": result.reason}
            if self.explain:
                obj["explain"] = explain
            self._lines.append(json.dumps(obj, ensure_ascii=False, default=_JSON_DEFAULT) + "\n")
        if len(self._lines) >= self.BATCH:
            self.stream.write("".join(self._lines))
            self._lines.clear()


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _plain_keys(keys: list, escape_formulas: bool) -> bool:
    """Whether every key of a batch is written as it is: text, ASCII, nothing to quote, and
    (with formula escaping) nothing a spreadsheet would run."""
    if set(map(type, keys)) != {str}:
        return False
    joined = "\x00".join(keys)
    if not joined.isascii() or _NEEDS_QUOTES.search(joined):
        return False
    return not (escape_formulas and any(map(str.startswith, keys, repeat(FORMULA_STARTS))))


def _text_of(value: Any) -> str:
    """A typed key (JSON input) as CSV text: JSON spelling for booleans and structures."""
    if isinstance(value, (bool, list, dict)):
        return json.dumps(value, ensure_ascii=False, default=_JSON_DEFAULT)
    return str(value)
