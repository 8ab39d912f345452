"""Project configuration: `terrl.toml`, or `[tool.terrl]` in `pyproject.toml`.

Found like Ruff finds its own: from the current directory upwards, the first folder
holding a `terrl.toml`, or a `pyproject.toml` with a `[tool.terrl]` table, wins (in one
folder `terrl.toml` comes first).

`include` and `exclude` are gitignore patterns (matched by the `pathspec` library, as git
does) against paths relative to the folder of that file: `*.draft.terr` or `archive` at
any depth, `/main.terr` or `rules/*.terr` from that folder only (a `/` at the start or in
the middle anchors), `archive/` folders only, `**` any number of folders, `!pattern`
takes back what an earlier pattern matched (the last matching pattern wins; each file is
matched, so unlike git a file can be taken back from an excluded folder). `include`
chooses among the `*.terr` files below the folder (hidden folders skipped); `models`
are shell patterns on model names.

```toml
include = ["territories/**/*.terr"]   # what `terrl check` / `terrl fmt` read when given no PATH
exclude = ["archive/", "*.draft.terr"]
models = ["FY28*"]                    # coverage and lint findings only for these models
line-length = 100                     # terrl fmt

[severity]                            # per code or name: error, warning, note or off
W301 = "error"
"title-missing" = "warning"           # rules that are off by default are enabled this way

[lint]
max-inline-values = 10                # W305: longer inline lists should be a named `set`
inherited-owners = true               # W301: an ancestor's owner counts
unique-owners = true                  # W303: one owner on two siblings under `policy unique`
owner-pattern = '[a-z.]+@acme\\.example'  # W302: owners must match this (default: a sane id or e-mail)

[assign]                              # terrl assign (docs/assign.md); the command line wins
cleanup = ["trim", "case"]            # the clean-up rules on ([] is strict; default: the five on by default)
preset = "salesforce"                 # column names of a CRM export
on-duplicate-key = "error"            # warn, error or ignore

[assign.columns]
country = "Billing Country"           # field = header
```

A mistake in the file is a `ConfigError` naming the file, the line when it can be found,
the key and the problem; the CLI prints it as one line `terrl: error: terrl.toml:3:
`severity.W999`: not a diagnostic code or name` with a `help:` line, and exits 2.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    import pathspec

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from terrl.diagnostics.core import CODES, CODES_BY_NAME, NOT_UNDERSTOOD_PREFIXES, Diagnostic
from terrl.diagnostics.source import display_path, find_upwards
from terrl.diagnostics.suggest import closest

SEVERITIES = ("error", "warning", "note", "off")
# What terrl did not understand (reading, syntax, name and type errors) and its own
# internal errors cannot be silenced or downgraded.
FIXED_PREFIXES = NOT_UNDERSTOOD_PREFIXES + ("E9",)


class ConfigError(Exception):
    """An invalid configuration file (exit status 2): where, which key, what is wrong, what to write."""

    def __init__(self, path: str, problem: str, *, key: str | None = None, line: int | None = None,
                 help: str | None = None) -> None:
        self.path, self.problem, self.key, self.line, self.help = path, problem, key, line, help
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return ": ".join([where] + ([f"`{self.key}`"] if self.key else []) + [self.problem])


@dataclass(frozen=True, slots=True)
class LintOptions:
    max_inline_values: int = 10
    inherited_owners: bool = True
    unique_owners: bool = True
    owner_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class AssignOptions:
    """`[assign]`: how `terrl assign` reads account files (docs/assign.md)."""

    cleanup: tuple[str, ...] | None = None  # the clean-up rules on; None: the defaults
    columns: Mapping[str, str] = field(default_factory=dict)  # [assign.columns]: field -> header
    preset: str | None = None  # a column preset, e.g. "salesforce"
    on_duplicate_key: str | None = None  # warn | error | ignore


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None  # the file read; None: built-in defaults
    root: Path = field(default_factory=Path.cwd)  # include and exclude are relative to this folder
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)  # code -> error|warning|note|off
    lint: LintOptions = LintOptions()
    line_length: int = 100
    assign: AssignOptions = AssignOptions()

    # -- files --
    def is_excluded(self, path: Path) -> bool:
        """Whether `path` matches the `exclude` patterns (relative to the config's folder)."""
        if not self.exclude:
            return False
        relative = _relative(path, self.root)
        return relative is not None and _spec(self.exclude).match_file(relative)

    def included_files(self) -> list[Path]:
        """The `*.terr` files below the config's folder that `include` matches (sorted), without
        the excluded ones; hidden folders are skipped, as when a folder is given as PATH."""
        spec = _spec(self.include)
        found = []
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            base = Path(folder)
            for name in files:
                if name.endswith(".terr"):
                    if spec.match_file((base / name).relative_to(self.root).as_posix()):
                        found.append(base / name)
        return sorted(p for p in found if not self.is_excluded(p))

    # -- diagnostics --
    def apply(self, diagnostics: Iterable[Diagnostic], *, default_off: Iterable[str] = ()) -> list[Diagnostic]:
        """Severity overrides, rules off by default, and the `models` filter."""
        off = set(default_off)
        out = []
        for d in diagnostics:
            model = d.extra.get("model")
            if self.models and model is not None and not any(fnmatch.fnmatchcase(model, m) for m in self.models):
                continue
            wanted = self.severity.get(d.code)
            if wanted is None and d.code in off:
                continue
            if wanted == "off":
                continue
            if wanted is not None and wanted != d.severity:
                d = dataclasses.replace(d, severity=wanted)
            out.append(d)
        return out


def find_config(start: Path | None = None) -> Path | None:
    """The nearest `terrl.toml`, or `pyproject.toml` with `[tool.terrl]`, at or above `start`."""
    return find_upwards(start or Path.cwd(), ("terrl.toml", "pyproject.toml"), accept=_is_config)


def _is_config(candidate: Path) -> bool:
    if not candidate.is_file():
        return False
    if candidate.name == "terrl.toml":
        return True
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not ours to judge unless it is meant for terrl
    return isinstance(data.get("tool"), dict) and "terrl" in data["tool"]


def discover(start: Path | None = None) -> Config:
    path = find_config(start)
    return load_config(path) if path is not None else Config(root=(start or Path.cwd()).resolve())


def load_config(path: Path) -> Config:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(shown, "cannot read the configuration: it is not UTF-8 text",
                          help="save the file as UTF-8")
    except OSError as exc:
        raise ConfigError(shown, f"cannot read the configuration: {(exc.strerror or str(exc)).lower()}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(shown, exc, text)
    prefix = ""
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("terrl", {})
        prefix = "tool.terrl."
        if not isinstance(data, dict):
            raise ConfigError(shown, f"must be a table, not {_toml_type(data)}", key="tool.terrl",
                              line=key_line(text, ("tool", "terrl")), help="write the settings under `[tool.terrl]`")
    return parse_config(data, path, prefix, text=text)


def _toml_error(shown: str, exc: Exception, text: str) -> ConfigError:
    # tomllib ends its messages with "(at line L, column C)"; the line goes where every error puts it
    message = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    line = None
    if found:
        line = int(found.group(1))
        message = message[:found.start()] + f" (column {found.group(2)})"
    elif (end := re.search(r"\s*\(at end of document\)\s*$", message)):
        message = message[:end.start()] + " (at the end of the file)"
        line = max(1, len(text.splitlines()))
    message = message[:1].lower() + message[1:]
    return ConfigError(shown, f"not valid TOML: {message}", line=line,
                       help="see https://toml.io for the syntax; strings need quotes, e.g. `W301 = \"error\"`")


_LIST_EXAMPLES = {"include": '"rules/**/*.terr"', "exclude": '"archive/**"', "models": '"FY28*"'}
_TOP_KEYS = {"include", "exclude", "models", "severity", "lint", "line-length", "assign"}
_ASSIGN_KEYS = {"cleanup", "columns", "preset", "on-duplicate-key"}
_LINT_KEYS = {"max-inline-values": "max_inline_values", "inherited-owners": "inherited_owners",
              "unique-owners": "unique_owners", "owner-pattern": "owner_pattern"}


def parse_config(data: Mapping[str, Any], path: Path, prefix: str = "", *, text: str | None = None) -> Config:
    """The configuration in `data` (a parsed TOML table); `text`, when given, finds lines for errors."""
    shown = display_path(path)

    def fail(key: str, problem: str, help: str | None = None) -> ConfigError:
        dotted = prefix + key
        line = key_line(text, _split_key(dotted)) if text is not None else None
        return ConfigError(shown, problem, key=dotted, line=line, help=help)

    def unknown(key: str, known: Iterable[str], what: str) -> str:
        guess = closest(key, known)
        return (f"did you mean `{guess}`? " if guess else "") + f"known {what}: " + ", ".join(sorted(known))

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(key, "not a terrl setting", unknown(key, _TOP_KEYS, "settings"))

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            written = json.dumps(value) if isinstance(value, str) and value else _LIST_EXAMPLES[key]
            example = f"{key} = [{written}]"
            raise fail(key, f"must be a list of non-empty strings, not {_toml_type(value)}", f"write `{example}`")
        return tuple(value)

    severity: dict[str, str] = {}
    table = data.get("severity", {})
    if not isinstance(table, dict):
        raise fail("severity", f"must be a table, not {_toml_type(table)}",
                   'write `[severity]` and below it lines like `W301 = "error"`')
    for key, value in table.items():
        entry = CODES.get(key) or CODES_BY_NAME.get(key)
        if entry is None:
            raise fail(f"severity.{key}", "not a diagnostic code or name",
                       _guess(key, list(CODES) + list(CODES_BY_NAME)) + "codes and names are listed in docs/errors.md")
        if value not in SEVERITIES:
            raise fail(f"severity.{key}", f"must be one of {', '.join(SEVERITIES)}, not {_toml_value(value)}",
                       f'write `{_toml_key(key)} = "warning"` (or "error", "note", "off")')
        if entry.code.startswith(FIXED_PREFIXES) and value != entry.severity:
            raise fail(f"severity.{key}", f"cannot change: {entry.code} ({entry.name}) means terrl did not "
                                          "understand the input", "remove this line")
        severity[entry.code] = value

    lint_table = data.get("lint", {})
    if not isinstance(lint_table, dict):
        raise fail("lint", f"must be a table, not {_toml_type(lint_table)}",
                   "write `[lint]` and below it lines like `max-inline-values = 10`")
    options: dict[str, Any] = {}
    for key, value in lint_table.items():
        if key not in _LINT_KEYS:
            raise fail(f"lint.{key}", "not a lint option", unknown(key, _LINT_KEYS, "options"))
        name = _LINT_KEYS[key]
        if name == "max_inline_values":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise fail(f"lint.{key}", f"must be a positive integer, not {_toml_value(value)}",
                           f"write `{key} = 10`")
        elif name == "owner_pattern":
            if not isinstance(value, str):
                raise fail(f"lint.{key}", f"must be a regular expression in a string, not {_toml_type(value)}",
                           f"write `{key} = '[a-z.]+@example\\.com'`")
            try:
                re.compile(value)
            except re.error as exc:
                raise fail(f"lint.{key}", f"not a valid regular expression: {exc}",
                           "single quotes keep backslashes as written: `'[a-z]+\\.example'`")
        elif not isinstance(value, bool):
            raise fail(f"lint.{key}", f"must be true or false, not {_toml_value(value)}",
                       f"write `{key} = true` (no quotes)")
        options[name] = value

    line_length = data.get("line-length", 100)
    if not isinstance(line_length, int) or isinstance(line_length, bool) or not 40 <= line_length <= 400:
        raise fail("line-length", f"must be an integer from 40 to 400, not {_toml_value(line_length)}",
                   "write `line-length = 100`")

    return Config(path=path, root=path.resolve().parent, include=strings("include"), exclude=strings("exclude"),
                  models=strings("models"), severity=severity, lint=LintOptions(**options), line_length=line_length,
                  assign=_assign_options(data.get("assign", {}), fail, unknown))


def _assign_options(table: Any, fail, unknown) -> AssignOptions:
    if not isinstance(table, dict):
        raise fail("assign", f"must be a table, not {_toml_type(table)}",
                   'write `[assign]` and below it lines like `cleanup = ["trim", "case"]`')
    for key in table:
        if key not in _ASSIGN_KEYS:
            raise fail(f"assign.{key}", "not an assign option", unknown(key, _ASSIGN_KEYS, "options"))
    cleanup = table.get("cleanup")
    if cleanup is not None:
        if not isinstance(cleanup, list) or not all(isinstance(r, str) for r in cleanup):
            raise fail("assign.cleanup", f"must be a list of clean-up rules, not {_toml_type(cleanup)}",
                       'write `cleanup = ["trim", "case", "title", "zip4", "number-format"]` (`[]`: none)')
        cleanup = tuple(cleanup)  # rule names are checked by `terrl assign` (terrl.semantics.cleanup)
    columns = table.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) and v for v in columns.values()):
        raise fail("assign.columns", "must be a table of field = \"header\"",
                   'write `[assign.columns]` and below it lines like `country = "Billing Country"`')
    preset = table.get("preset")
    if preset is not None and preset != "salesforce":
        raise fail("assign.preset", f"must be \"salesforce\", not {_toml_value(preset)}", 'write `preset = "salesforce"`')
    duplicate = table.get("on-duplicate-key")
    if duplicate is not None and duplicate not in ("warn", "error", "ignore"):
        raise fail("assign.on-duplicate-key", f"must be warn, error or ignore, not {_toml_value(duplicate)}",
                   'write `on-duplicate-key = "error"`')
    return AssignOptions(cleanup=cleanup, columns=dict(columns), preset=preset, on_duplicate_key=duplicate)


def _guess(key: str, known: list[str]) -> str:
    guess = closest(key, known)
    return f"did you mean `{guess}`? " if guess else ""


def _toml_type(value: Any) -> str:
    """The TOML name of a parsed value's type, with its article."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array with a non-string or empty element" if value else "an empty array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _toml_value(value: Any) -> str:
    """A short TOML rendering of a bad value, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "...", ensure_ascii=False)
    return _toml_type(value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


# --- where a key is written ---------------------------------------------------------------
# tomllib returns plain dicts without positions; this light scanner finds the line of a
# dotted key (a `[table]` header, a `key = ...` line or a dotted `a.b = ...`) so that
# errors can point at it. It falls back to the nearest enclosing table found.

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_DOTTED_KEY = rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*"
_HEADER = re.compile(rf"[ \t]*\[\[?[ \t]*({_DOTTED_KEY})[ \t]*\]\]?")
_ASSIGNMENT = re.compile(rf"[ \t]*({_DOTTED_KEY})[ \t]*=")
_PART = re.compile(_KEY_PART)


def _split_key(dotted: str) -> tuple[str, ...]:
    """`tool.terrl.severity.W301` -> parts (the keys terrl reports never contain dots themselves)."""
    return tuple(dotted.split("."))


def _key_parts(written: str) -> tuple[str, ...]:
    parts = []
    for m in _PART.finditer(written):
        part = m.group()
        if part.startswith('"'):
            try:
                part = json.loads(part)
            except ValueError:
                part = part[1:-1]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def key_line(text: str, key: tuple[str, ...]) -> int | None:
    """The 1-based line where `key` (or, failing that, its nearest written parent table) is set."""
    table: tuple[str, ...] = ()
    best_depth, best_line = 0, None
    in_multiline = None  # the delimiter of a multi-line string being skipped
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        full = None
        if (header := _HEADER.match(line)) is not None:
            table = _key_parts(header.group(1))
            full = table
        elif (assignment := _ASSIGNMENT.match(line)) is not None:
            full = table + _key_parts(assignment.group(1))
            rest = line[assignment.end():]
            for quotes in ('"""', "'''"):
                if rest.count(quotes) % 2 == 1:
                    in_multiline = quotes
        if full and len(full) > best_depth and key[:len(full)] == full:
            best_depth, best_line = len(full), number
            if best_depth == len(key):
                break
    return best_line


# --- patterns ---------------------------------------------------------------------------

def _relative(path: Path, root: Path) -> str | None:
    try:
        return PurePosixPath(path.resolve().relative_to(root.resolve())).as_posix()
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    """gitignore semantics, as git applies them (pathspec's GitIgnoreSpec)."""
    import pathspec  # only when a configuration has patterns: it costs `terrl check` tens of ms to start

    return pathspec.GitIgnoreSpec.from_lines(patterns)
