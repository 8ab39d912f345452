"""The one did-you-mean helper: the closest known name to a misspelt one.

Callers pass their own cutoff because they compare different things: identifiers
(0.6, difflib's default), CSV headers (0.7) and long member titles (0.75) where a
loose match would suggest an unrelated title.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most similar to `name` (difflib ratio >= cutoff), or None."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None
