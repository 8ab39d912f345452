"""Every way a list of diagnostics is shown: full, concise, json, github, sarif.

One `Diagnostic` type, five renderers (as in Ruff and rustc). Positions are 1-based
lines and columns counted in code points; an end column is exclusive (the column just
after the last character), as in LSP and SARIF. A span that ends just after a newline
is shown as ending at the end of its last line, so no format points at an empty line.

Paths are shown relative to `root` when the file lies inside it, with `/` separators;
other files keep the path they were read with. The default root is the working directory
for people (full, concise, json) and the git repository's top folder for GitHub (github,
sarif), which resolves annotation and SARIF paths from there wherever terrl ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from terrl.diagnostics.core import CODES, Diagnostic
from terrl.diagnostics.source import Span, find_upwards

FORMATS = ("full", "concise", "json", "github", "sarif")

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "terrl/v1"
TAB_WIDTH = 4
# Lines longer than this (in code points) are cut to a window around their marks, so a
# one-line megabyte file does not flood the terminal.
LONG_LINE = 240
LONG_LINE_CONTEXT = 60


def render(diagnostics: list[Diagnostic], fmt: str, *, color: bool = False, root: Path | None = None,
           summary: dict | None = None) -> str:
    """The report for already sorted diagnostics, ending with a newline unless empty."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    paths = _Paths(root if root is not None or fmt not in ("github", "sarif") else _repository_root())
    if summary is None:
        summary = count_severities(diagnostics)
    if fmt == "full":
        return _render_full(diagnostics, paths, summary, color)
    if fmt == "concise":
        return _render_concise(diagnostics, paths, summary)
    if fmt == "json":
        data = {"diagnostics": [json_object(d, paths.root) for d in diagnostics], "summary": summary}
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "github":
        return "".join(github_command(d, paths) + "\n" for d in diagnostics)
    return json.dumps(sarif_log(diagnostics, paths.root), ensure_ascii=False, indent=2) + "\n"


def _repository_root() -> Path:
    """The top folder of the git repository holding the working directory (a `.git` folder or file), else it."""
    git = find_upwards(Path.cwd(), (".git",))
    return git.parent if git is not None else Path.cwd().resolve()


def count_severities(diagnostics: list[Diagnostic]) -> dict[str, int]:
    return {
        "errors": sum(d.severity == "error" for d in diagnostics),
        "warnings": sum(d.severity == "warning" for d in diagnostics),
        "notes": sum(d.severity == "note" for d in diagnostics),
    }


def use_color(stream) -> bool:
    """Colour only for a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def summary_line(summary: dict) -> str:
    """"found 3 errors and 1 warning in 2 files", or "all checks passed"."""
    counts = [(summary.get("errors", 0), "error"), (summary.get("warnings", 0), "warning"),
              (summary.get("notes", 0), "note")]
    parts = [_plural(n, word) for n, word in counts if n]
    if not parts:
        return "all checks passed"
    text = "found " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
    if "files" in summary:
        text += " in " + _plural(summary["files"], "file")
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- positions and paths -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int
    end_line: int
    end_column: int  # exclusive


def position(span: Span) -> Position:
    line, column = span.file.line_col(span.start)
    end_line, end_column = span.file.line_col(span.end)
    if end_line > line and end_column == 1:
        # The span takes the newline that ends a line: it ends on that line.
        end_line -= 1
        end_column = len(span.file.line_text(end_line)) + 1
    return Position(line, column, end_line, end_column)


class _Paths:
    """Paths relative to the root, computed once per file."""

    def __init__(self, root: Path | None) -> None:
        self.root = (root or Path.cwd()).resolve()
        self._cache: dict[str, tuple[str, bool]] = {}

    def _lookup(self, path: str) -> tuple[str, bool]:
        if path not in self._cache:
            try:
                relative = Path(path).resolve().relative_to(self.root)
                self._cache[path] = (relative.as_posix(), True)
            except (ValueError, OSError, RuntimeError):
                self._cache[path] = (Path(path).as_posix(), False)
        return self._cache[path]

    def show(self, path: str) -> str:
        return self._lookup(path)[0]

    def inside_root(self, path: str) -> bool:
        return self._lookup(path)[1]


# --- full ---------------------------------------------------------------------------

_STYLES = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "note": "\x1b[1;36m",
    "help": "\x1b[1;36m",
    "secondary": "\x1b[1;34m",
    "gutter": "\x1b[1;34m",
    "bold": "\x1b[1m",
}
_RESET = "\x1b[0m"
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible_char(ch: str) -> tuple[str, int]:
    """What to print for one source character, and how many terminal columns it takes."""
    code = ord(ch)
    if ch in _BIDI:
        return "\ufffd", 1  # bidi controls would reorder the line on screen (Trojan Source)
    if code < 0x20:
        return chr(0x2400 + code), 1  # control pictures: ␀ ␍ ␛ ...
    if code == 0x7F:
        return "\u2421", 1
    if 0x80 <= code < 0xA0:
        return "\ufffd", 1
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return ch, 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return ch, 2
    return ch, 1


def _visible_text(text: str) -> str:
    """User text for a terminal: control characters (except newlines) as symbols."""
    if text.isascii() and text.isprintable():  # the common case, without a look at each character
        return text
    out = []
    for ch in text:
        if ch == "\n" or " " <= ch <= "~" or (ord(ch) >= 0xA0 and ch not in _BIDI):
            out.append(ch)
        else:
            out.append(_visible_char(ch)[0])
    return "".join(out)


def _display_line(text: str, lo: int, hi: int) -> tuple[str, list[int]]:
    """Printable text of `text[lo:hi]` (tabs expanded, marks of a cut line) and the display
    column at which each code point lo..hi (inclusive) starts."""
    out = ["..."] if lo > 0 else []
    col = 3 if lo > 0 else 0
    piece = text[lo:hi]
    if piece.isascii() and piece.isprintable():  # one column per character
        out.append(piece)
        if hi < len(text):
            out.append("...")
        return "".join(out), list(range(col, col + len(piece) + 1))
    starts = []
    for ch in piece:
        starts.append(col)
        if ch == "\t":
            width = TAB_WIDTH - (col % TAB_WIDTH)
            out.append(" " * width)
        else:
            shown, width = _visible_char(ch)
            out.append(shown)
        col += width
    starts.append(col)
    if hi < len(text):
        out.append("...")
    return "".join(out), starts


@dataclass(slots=True)
class _Mark:
    span: Span
    message: str
    primary: bool


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return _STYLES[style] + text + _RESET


def _render_full(diagnostics: list[Diagnostic], paths: _Paths, summary: dict, color: bool) -> str:
    paint = _Painter(color)
    chunks = [_full_one(d, paths, paint) for d in diagnostics]
    line = summary_line(summary)
    style = "error" if summary.get("errors") else "warning" if summary.get("warnings") else "bold"
    chunks.append(paint(line, style) + "\n")
    return "\n".join(chunks)


def _full_one(d: Diagnostic, paths: _Paths, paint: _Painter) -> str:
    out = [paint(f"{d.severity}[{d.code}]", d.severity) + paint(": " + _visible_text(d.message), "bold")]
    marks: list[_Mark] = []
    if d.span is not None:
        # A label on exactly the primary span gives the carets their message.
        primary_message = next((lb.message for lb in d.labels if _same_span(lb.span, d.span)), "")
        marks.append(_Mark(d.span, primary_message, True))
    marks += [_Mark(lb.span, lb.message, False) for lb in d.labels
              if d.span is None or not _same_span(lb.span, d.span)]

    blocks: dict[int, list[_Mark]] = {}  # one block per file, the primary's file first
    files: dict[int, str] = {}
    for mark in marks:
        key = id(mark.span.file)
        blocks.setdefault(key, []).append(mark)
        files[key] = mark.span.file.path
    shown_lines = [line for block in blocks.values() for line in _block_lines(block)]
    width = len(str(max(shown_lines))) if shown_lines else 0
    gutter = " " * (width + 1) + paint("|", "gutter")

    for i, (key, block) in enumerate(blocks.items()):
        if i:
            out.append(gutter)
        anchor = block[0] if block[0].primary else min(block, key=lambda m: (m.span.start, m.span.end))
        pos = position(anchor.span)
        out.append(" " * width + paint("-->", "gutter") + f" {_visible_text(paths.show(files[key]))}:{pos.line}:{pos.column}")
        out.append(gutter)
        out += _block_rows(block, width, d.severity, paint)

    trailer = [("note", n) for n in d.notes] + ([("help", d.help)] if d.help else [])
    if trailer and marks:
        out.append(gutter)
    for kind, text in trailer:
        prefix = " " * (width + 1) + paint("=", "gutter") + " " + paint(kind, kind) + ": "
        indent = " " * (width + 3 + len(kind) + 2)
        out.append(prefix + _visible_text(text).replace("\n", "\n" + indent))
    return "\n".join(out) + "\n"


def _same_span(a: Span, b: Span) -> bool:
    return a.file is b.file and a.start == b.start and a.end == b.end


def _block_lines(block: list[_Mark]) -> list[int]:
    return [position(m.span).line for m in block]


def _block_rows(block: list[_Mark], width: int, severity: str, paint: _Painter) -> list[str]:
    """Source lines with their marks, in line order; skipped lines become `...`."""
    source = block[0].span.file
    by_line: dict[int, list[tuple[_Mark, Position]]] = {}
    for mark in block:
        pos = position(mark.span)
        by_line.setdefault(pos.line, []).append((mark, pos))
    rows: list[str] = []
    previous: int | None = None
    continues = False  # the last line shown starts a span that goes on below it
    for line in sorted(by_line):
        if previous is not None:
            if line == previous + 2:  # one line between: show it rather than `...`
                rows.append(_source_row(source.line_text(previous + 1), previous + 1, width, paint))
            elif line > previous + 2:
                rows.append("...")
        text = source.line_text(line)
        items = sorted(by_line[line], key=lambda mp: (mp[1].column, mp[1].end_column))
        spans = []
        for mark, pos in items:
            start = pos.column - 1
            end = pos.end_column - 1 if pos.end_line == line else len(text)
            spans.append((start, max(end, start + 1)))
        lo, hi = 0, len(text)
        if len(text) > LONG_LINE:
            lo = max(0, min(s for s, _ in spans) - LONG_LINE_CONTEXT)
            hi = min(len(text), max(e for _, e in spans) + LONG_LINE_CONTEXT, lo + LONG_LINE)
        shown, starts = _display_line(text, lo, hi)
        rows.append(_source_row_shown(shown, line, width, paint))
        for (mark, pos), (start, end) in zip(items, spans):
            a = _column_at(starts, start, lo, hi, len(text))
            b = _column_at(starts, end, lo, hi, len(text))
            char = "^" if mark.primary else "-"
            style = severity if mark.primary else "secondary"
            marker = paint(char * max(b - a, 1), style)
            message = _visible_text(mark.message)
            row = " " * (width + 1) + paint("|", "gutter") + " " + " " * a + marker
            if message:
                indent = " " * (width + 3 + a + max(b - a, 1) + 1)
                row += " " + paint(message.replace("\n", "\n" + indent), style)
            rows.append(row)
        continues = any(pos.end_line > line for _, pos in items)
        previous = line
    if continues:
        rows.append("...")
    return rows


def _column_at(starts: list[int], index: int, lo: int, hi: int, length: int) -> int:
    """Display column of code point `index` of a line of `length` code points, of which
    lo..hi are shown; past the end of the line each missing code point counts one column."""
    if index <= lo:
        return starts[0]
    if index >= hi:
        return starts[-1] + (index - hi if hi == length else 0)
    return starts[index - lo]


def _source_row(text: str, line: int, width: int, paint: _Painter) -> str:
    shown, _ = _display_line(text, 0, len(text))
    return _source_row_shown(shown, line, width, paint)


def _source_row_shown(shown: str, line: int, width: int, paint: _Painter) -> str:
    number = paint(str(line).rjust(width) + " |", "gutter")
    return number + " " + shown if shown else number


# --- concise ------------------------------------------------------------------------


def _render_concise(diagnostics: list[Diagnostic], paths: _Paths, summary: dict) -> str:
    lines = []
    for d in diagnostics:
        message = " ".join(_visible_text(d.message).split("\n"))
        head = f"{d.severity}[{d.code}] {message}"
        if d.span is None:
            lines.append(head)
        else:
            pos = position(d.span)
            lines.append(f"{_visible_text(paths.show(d.span.file.path))}:{pos.line}:{pos.column}: {head}")
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"


# --- json ---------------------------------------------------------------------------

_JSON_KEYS = ("code", "name", "severity", "message", "file", "line", "column", "end_line", "end_column",
              "notes", "help", "labels")


def json_object(d: Diagnostic, root: Path | None) -> dict[str, Any]:
    """The per-diagnostic object of the JSON contract (docs: language.md, "Machine-readable
    outputs"). Keys of `d.extra` follow the fixed keys; they never replace one."""
    paths = root if isinstance(root, _Paths) else _Paths(root)
    obj: dict[str, Any] = {"code": d.code, "name": d.name, "severity": d.severity, "message": d.message}
    obj.update(_json_location(d.span, paths))
    obj["notes"] = list(d.notes)
    obj["help"] = d.help
    obj["labels"] = [{"message": lb.message, **_json_location(lb.span, paths)} for lb in d.labels]
    for key, value in d.extra.items():
        if key not in _JSON_KEYS:
            obj[key] = value
    return obj


def _json_location(span: Span | None, paths: _Paths) -> dict[str, Any]:
    if span is None:
        return {"file": None, "line": None, "column": None, "end_line": None, "end_column": None}
    pos = position(span)
    return {"file": paths.show(span.file.path), "line": pos.line, "column": pos.column,
            "end_line": pos.end_line, "end_column": pos.end_column}


# --- github -------------------------------------------------------------------------

_GITHUB_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def github_escape_data(text: str) -> str:
    """As @actions/core escapes a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(text: str) -> str:
    """As @actions/core escapes a command's property values."""
    return github_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(d: Diagnostic, paths: _Paths | Path | None = None) -> str:
    """`::error file=...,line=...,title=...::message` for one diagnostic."""
    paths = paths if isinstance(paths, _Paths) else _Paths(paths)
    props: list[tuple[str, str]] = []
    if d.span is not None:
        pos = position(d.span)
        props += [("file", paths.show(d.span.file.path)), ("line", str(pos.line)), ("col", str(pos.column)),
                  ("endLine", str(pos.end_line)), ("endColumn", str(pos.end_column))]
    props.append(("title", f"terrl {d.code} ({d.name})"))
    text = ",".join(f"{k}={github_escape_property(v)}" for k, v in props)
    return f"::{_GITHUB_COMMANDS[d.severity]} {text}::{github_escape_data(_message_with_trailer(d))}"


def _message_with_trailer(d: Diagnostic) -> str:
    lines = [d.message] + [f"note: {n}" for n in d.notes] + ([f"help: {d.help}"] if d.help else [])
    return "\n".join(lines)


# --- sarif --------------------------------------------------------------------------


def project_url() -> str | None:
    """The project's repository or home page from the installed package metadata."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata
        urls = metadata("terrl").get_all("Project-URL") or []
    except (ImportError, PackageNotFoundError):
        return None
    by_label = {}
    for entry in urls:
        label, _, url = entry.partition(",")
        by_label[label.strip().lower()] = url.strip()
    for label in ("repository", "source", "homepage"):
        if by_label.get(label):
            return by_label[label].rstrip("/")
    return None


def sarif_rules(base_url: str | None) -> list[dict[str, Any]]:
    """One reportingDescriptor per registered code, in code order (ruleIndex points here)."""
    rules = []
    for code in sorted(CODES):
        entry = CODES[code]
        description = entry.explanation or entry.summary
        rule: dict[str, Any] = {
            "id": entry.code,
            "name": entry.name,
            "shortDescription": {"text": entry.summary},
            "fullDescription": {"text": description},
            "help": {"text": description},
            "defaultConfiguration": {"level": entry.severity},
        }
        if base_url:
            rule["helpUri"] = f"{base_url}/blob/main/docs/errors.md#{entry.code.lower()}"
        if entry.retired:
            rule["properties"] = {"retired": True}
        rules.append(rule)
    return rules


def sarif_log(diagnostics: list[Diagnostic], root: Path | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run."""
    from terrl import __version__

    paths = _Paths(root)
    base_url = project_url()
    rules = sarif_rules(base_url)
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    seen: dict[str, int] = {}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": rule_index[d.code],
            "level": d.severity,
            "message": {"text": _message_with_trailer(d)},
        }
        if d.span is not None:
            result["locations"] = [{"physicalLocation": _sarif_physical(d.span, paths)}]
        if d.labels:
            result["relatedLocations"] = [
                {"id": i, "physicalLocation": _sarif_physical(lb.span, paths), "message": {"text": lb.message}}
                for i, lb in enumerate(d.labels)]
        fingerprint = _fingerprint(d, paths)
        # Identical findings in one file (the same unknown name twice) still get distinct prints.
        occurrence = seen.get(fingerprint, 0)
        seen[fingerprint] = occurrence + 1
        result["partialFingerprints"] = {FINGERPRINT_KEY: f"{fingerprint}:{occurrence}"}
        if d.extra:
            result["properties"] = dict(d.extra)
        results.append(result)
    driver: dict[str, Any] = {"name": "terrl", "version": __version__}
    if base_url:
        driver["informationUri"] = base_url
    driver["rules"] = rules
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": paths.root.as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _sarif_physical(span: Span, paths: _Paths) -> dict[str, Any]:
    pos = position(span)
    path = span.file.path
    if paths.inside_root(path):
        artifact = {"uri": quote(paths.show(path)), "uriBaseId": "%SRCROOT%"}
    else:
        try:
            artifact = {"uri": Path(path).resolve().as_uri()}
        except ValueError:
            artifact = {"uri": quote(Path(path).as_posix())}
    return {"artifactLocation": artifact,
            "region": {"startLine": pos.line, "startColumn": pos.column,
                       "endLine": pos.end_line, "endColumn": pos.end_column}}


def _fingerprint(d: Diagnostic, paths: _Paths) -> str:
    """A hash of what the finding is about, not where it is: moving code keeps the print."""
    territories = d.extra.get("territories")
    subject = json.dumps(territories, ensure_ascii=False) if territories is not None else d.message
    parts = [d.code, paths.show(d.span.file.path) if d.span is not None else "", str(d.extra.get("model", "")), subject]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]
