"""Where the grammar and the stdlib live, for a wheel install and for a checkout.

The repo keeps `grammar/` and `stdlib/` at its top; a wheel carries copies in
`terrl/_data/` (see pyproject.toml). An editable install or a plain checkout finds
the top-level folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"terrl installation is incomplete: no {name}/ directory found")


def grammar_path() -> Path:
    return data_dir("grammar") / "terr.lark"


def stdlib_dir() -> Path:
    return data_dir("stdlib")
