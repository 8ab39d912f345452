"""Project configuration: `terrl.toml`, or `[tool.terrl]` in `pyproject.toml`.

Found like Ruff finds its own: from the current directory upwards, the first folder
holding a `terrl.toml`, or a `pyproject.toml` with a `[tool.terrl]` table, wins (in one
folder `terrl.toml` comes first). Globs are relative to the folder of that file.

```toml
include = ["territories/**/*.terr"]   # what `terrl check` / `terrl fmt` read when given no PATH
exclude = ["archive/**", "*.draft.terr"]
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
```

A mistake in the file is a `ConfigError` naming the file and the key (exit 2).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .diagnostics import CODES, CODES_BY_NAME, Diagnostic

SEVERITIES = ("error", "warning", "note", "off")
# Reading, syntax, name and type errors mean terrl did not understand the input (and
# the analysis did not run): they cannot be silenced or downgraded.
FIXED_PREFIXES = ("E0", "E1", "E9")


class ConfigError(Exception):
    """An invalid configuration file (exit status 2)."""


@dataclass(frozen=True, slots=True)
class LintOptions:
    max_inline_values: int = 10
    inherited_owners: bool = True
    unique_owners: bool = True
    owner_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None  # the file read; None: built-in defaults
    root: Path = field(default_factory=Path.cwd)  # globs are relative to this folder
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)  # code -> error|warning|note|off
    lint: LintOptions = LintOptions()
    line_length: int = 100

    # -- files --
    def is_excluded(self, path: Path) -> bool:
        """Whether `path` matches an `exclude` glob (relative to the config's folder)."""
        if not self.exclude:
            return False
        relative = _relative(path, self.root)
        return relative is not None and any(glob_match(g, relative) for g in self.exclude)

    def included_files(self) -> list[Path]:
        """The files `include` names (sorted), without the excluded ones."""
        found: set[Path] = set()
        for pattern in self.include:
            for p in self.root.glob(pattern):
                if p.is_file():
                    found.add(p)
        return sorted(p for p in found if not self.is_excluded(p))

    # -- diagnostics --
    def apply(self, diagnostics: Iterable[Diagnostic], *, default_off: Iterable[str] = ()) -> list[Diagnostic]:
        """Severity overrides, rules off by default, and the `models` filter."""
        off = set(default_off)
        out = []
        for d in diagnostics:
            model = d.extra.get("model")
            if self.models and model is not None and not any(glob_match(m, model) for m in self.models):
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
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        candidate = folder / "terrl.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue  # not ours to judge unless it is meant for terrl
            if isinstance(data.get("tool"), dict) and "terrl" in data["tool"]:
                return pyproject
    return None


def discover(start: Path | None = None) -> Config:
    path = find_config(start)
    return load_config(path) if path is not None else Config(root=(start or Path.cwd()).resolve())


def load_config(path: Path) -> Config:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the configuration: {exc}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: not valid TOML: {exc}")
    prefix = ""
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("terrl", {})
        prefix = "tool.terrl."
        if not isinstance(data, dict):
            raise ConfigError(f"{shown}: `tool.terrl` must be a table")
    return parse_config(data, path, prefix)


_TOP_KEYS = {"include", "exclude", "models", "severity", "lint", "line-length"}
_LINT_KEYS = {"max-inline-values": "max_inline_values", "inherited-owners": "inherited_owners",
              "unique-owners": "unique_owners", "owner-pattern": "owner_pattern"}


def parse_config(data: Mapping[str, Any], path: Path, prefix: str = "") -> Config:
    shown = str(path)

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{shown}: `{prefix}{key}` {problem}")

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(key, "is not a terrl setting; known settings: " + ", ".join(sorted(_TOP_KEYS)))

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(key, "must be a list of non-empty strings")
        return tuple(value)

    severity: dict[str, str] = {}
    table = data.get("severity", {})
    if not isinstance(table, dict):
        raise fail("severity", "must be a table of code = severity")
    for key, value in table.items():
        entry = CODES.get(key) or CODES_BY_NAME.get(key)
        if entry is None:
            raise fail(f"severity.{key}", "is not a diagnostic code or name (see docs/errors.md)")
        if value not in SEVERITIES:
            raise fail(f"severity.{key}", f"must be one of {', '.join(SEVERITIES)}, not {value!r}")
        if entry.code.startswith(FIXED_PREFIXES) and value != entry.severity:
            raise fail(f"severity.{key}", f"cannot change: {entry.code} ({entry.name}) means terrl did not "
                                          "understand the input")
        severity[entry.code] = value

    lint_table = data.get("lint", {})
    if not isinstance(lint_table, dict):
        raise fail("lint", "must be a table")
    options: dict[str, Any] = {}
    for key, value in lint_table.items():
        if key not in _LINT_KEYS:
            raise fail(f"lint.{key}", "is not a lint option; known options: " + ", ".join(sorted(_LINT_KEYS)))
        name = _LINT_KEYS[key]
        if name == "max_inline_values":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise fail(f"lint.{key}", "must be a positive integer")
        elif name == "owner_pattern":
            if not isinstance(value, str):
                raise fail(f"lint.{key}", "must be a regular expression in a string")
            try:
                re.compile(value)
            except re.error as exc:
                raise fail(f"lint.{key}", f"is not a valid regular expression: {exc}")
        elif not isinstance(value, bool):
            raise fail(f"lint.{key}", "must be true or false")
        options[name] = value

    line_length = data.get("line-length", 100)
    if not isinstance(line_length, int) or isinstance(line_length, bool) or not 40 <= line_length <= 400:
        raise fail("line-length", "must be an integer from 40 to 400")

    return Config(path=path, root=path.resolve().parent, include=strings("include"), exclude=strings("exclude"),
                  models=strings("models"), severity=severity, lint=LintOptions(**options), line_length=line_length)


# --- globs ------------------------------------------------------------------------------

def _relative(path: Path, root: Path) -> str | None:
    try:
        return PurePosixPath(path.resolve().relative_to(root.resolve())).as_posix()
    except ValueError:
        return None


def _glob_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, relative: str) -> bool:
    """gitignore-like: `a/*.terr` from the root, `*.terr` or `drafts` at any depth, `dir/**` below."""
    pattern = pattern.strip("/") if pattern != "/" else pattern
    if "/" not in pattern:
        pattern = "**/" + pattern
    regex = _glob_regex(pattern)
    # a folder pattern also excludes what is inside it
    parts = relative.split("/")
    return any(regex.match("/".join(parts[:k])) for k in range(1, len(parts) + 1))
