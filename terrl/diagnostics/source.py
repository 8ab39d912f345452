"""Source files and spans.

A span is a pair of character offsets into one `SourceFile`; lines and columns
are computed only when something is printed, so passes never carry them around.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


class SourceFile:
    """The text of one `.terr` file (or of a string given on the command line)."""

    __slots__ = ("path", "text", "_line_starts")

    def __init__(self, path: str, text: str) -> None:
        self.path = path  # as shown to the user
        self.text = text
        self._line_starts: list[int] | None = None

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r})"

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            text = self.text
            i = text.find("\n")
            while i != -1:
                starts.append(i + 1)
                i = text.find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in code points) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self.line_starts
        if not 1 <= line <= len(starts):
            return ""
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def span(self, start: int, end: int) -> "Span":
        return Span(self, start, end)


@dataclass(frozen=True, slots=True)
class Span:
    file: SourceFile = field(compare=False)
    start: int
    end: int

    @property
    def start_line_col(self) -> tuple[int, int]:
        return self.file.line_col(self.start)

    @property
    def end_line_col(self) -> tuple[int, int]:
        return self.file.line_col(self.end)

    @property
    def text(self) -> str:
        return self.file.text[self.start : self.end]

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of `other`."""
        return Span(self.file, min(self.start, other.start), max(self.end, other.end))

    def sort_key(self) -> tuple[str, int, int]:
        return (self.file.path, self.start, self.end)


def display_path(path: Path) -> str:
    """A path as the user should see it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# A project is the folder holding one of these (the nearest above a file wins): imports
# may not leave it (E111).
PROJECT_MARKERS = ("terrl.toml", "pyproject.toml", ".git")


def find_upwards(start: Path, markers: tuple[str, ...] = PROJECT_MARKERS,
                 accept: Callable[[Path], bool] = Path.exists) -> Path | None:
    """The first of `markers` (in order) that `accept`s, in `start` or the nearest folder above it.

    The one search for roots: the project root (`find_project_root`), the git repository
    (GitHub and SARIF paths) and the configuration file (`terrl.project.config`) differ
    only in the markers they look for."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for marker in markers:
            if accept(folder / marker):
                return folder / marker
    return None


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding terrl.toml, pyproject.toml or .git, else `start`."""
    marker = find_upwards(start)
    return marker.parent if marker is not None else start.resolve()
