"""The one did-you-mean helper: the closest known name to a misspelt one.

Callers pass their own cutoff because they compare different things: identifiers
(0.6, difflib's default), CSV headers (0.7) and long member titles (0.75) where a
loose match would suggest an unrelated title.

`member_hint` is the hint for a value that is not a member of an enum, shared by `terrl check`
(a literal in a `.terr` file) and the evaluators (an account's value, in an `invalid` reason).
This module uses the standard library only: the generated evaluator module embeds its source
(`terrl/targets/codegen_python.py`), so every engine gives the same hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most similar to `name` (difflib ratio >= cutoff), or None."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


MINOR_WORDS = {"and", "of", "the", "da", "de", "du", "del"}


def member_hint(name: str, members: tuple[str, ...], titles: tuple[str | None, ...] = ()) -> str | None:
    """The "did you mean ...?" note for a name that is not a member: a member spelled in
    another case or close to it; or a member whose title the name spells, abbreviates by
    its initials (`UK`: `GB`, "United Kingdom") or misspells (`Frnace`: `FR`, "France")."""
    titles = titles or (None,) * len(members)

    def normal(text: str) -> str:
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    def named(i: int) -> str:
        return f"did you mean `{members[i]}` ({titles[i]})?"

    for m in members:
        if m.casefold() == name.casefold():
            return f"did you mean `{m}`?"
    titled = [(i, t) for i, t in enumerate(titles) if t]
    for i, t in titled:
        if normal(t) == normal(name):
            return named(i)
    if name.isalpha() and 2 <= len(name) <= 5:
        for i, t in titled:
            words = [w for w in t.replace("-", " ").split() if w.casefold() not in MINOR_WORDS]
            if len(words) >= 2 and "".join(w[0] for w in words).upper() == name.upper():
                return named(i)
    if len(name) > 3 and titled:
        by_title = {normal(t): i for i, t in titled}
        close = closest(normal(name), by_title, cutoff=0.75)
        if close:
            return named(by_title[close])
    by_folded = {m.casefold(): m for m in members}
    close = closest(name.casefold(), by_folded, cutoff=0.6)
    if close:
        return f"did you mean `{by_folded[close]}`?"
    # Short codes are too short for a similarity ratio (`IO` and `IA` share half their letters):
    # the members one letter away (a later letter changed, or two swapped; a first letter is
    # rarely the typo, and allowing it would suggest half the alphabet), when they are few.
    near = [i for i, m in enumerate(members) if one_letter_away(name.casefold(), m.casefold())]
    if 1 <= len(near) <= 5:
        shown = [f"`{members[i]}`" + (f" ({titles[i]})" if titles[i] else "") for i in near]
        return "did you mean " + (", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]) + "?"
    return None


def one_letter_away(a: str, b: str) -> bool:
    """A letter after the first changed, or two neighbours swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (len(diff) == 1 and diff[0] > 0) or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                 and a[diff[1]] == b[diff[0]])
