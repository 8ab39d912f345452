"""What an account's walk through a model ends in, and how that reads in a result.

An `Outcome` is the decision alone: the territories the account lands on, the parents
whose children leave it in a gap, the sibling groups that conflict under
`policy unique`, and whether the account is outside the model's universe. Every
evaluator (the reference interpreter, the compiled decision diagram, the generated
module) computes the same `Outcome`s; `result_fields` turns one into the columns of an
assignment result, so the wording is shared by construction.

Decisions documented in docs/assign.md:

- an account in a gap is `unassigned`, its reason names the parent whose children
  leave it (`gap: no child of `na.west` takes the account`);
- an account matching several siblings under `policy unique` (an overlap) is
  `assigned` to every matching sibling and its reason says there is a conflict;
- an account that lands somewhere but also falls into a gap on another branch (only
  possible under `policy all`) is `assigned` to where it landed, and the reason
  names the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from terrl.semantics import ir

ASSIGNED, UNASSIGNED, INVALID = "assigned", "unassigned", "invalid"


@dataclass(frozen=True, slots=True)
class Outcome:
    landings: tuple[str, ...] = ()  # territory paths, depth first in source order
    gaps: tuple[str, ...] = ()  # parents whose children leave the account ("" is the model root)
    conflicts: tuple[tuple[str, ...], ...] = ()  # sibling paths matching together under `policy unique`
    outside: bool = False  # outside the model's own `where`
    kept: bool = False  # no top-level territory takes it and the model says `keep`

    def merge(self, other: "Outcome") -> "Outcome":
        """Both outcomes at once (siblings under `policy all` or an overlap)."""
        return Outcome(self.landings + other.landings, self.gaps + other.gaps, self.conflicts + other.conflicts,
                       self.outside or other.outside, self.kept or other.kept)


# The reasons' wording, shared with the generated module (which fills in `{model}` when it is
# generated and the rest per account): one text, so the engines cannot word them apart.
REASONS = {
    "outside": "outside the universe of model `{model}` (its `where`)",
    "conflict": "conflict: {names} {both} match under policy unique (an overlap); assigned to each",
    "gap": "gap: the account reaches `{parent}` but none of its children takes it",
    "top_gap": "gap: no top-level territory of model `{model}` takes the account",
    "kept": "no top-level territory takes the account and model `{model}` says `keep`",
}


def conflict_reason(paths: tuple[str, ...]) -> str:
    names = ", ".join(f"`{p}`" for p in paths[:-1]) + f" and `{paths[-1]}`"
    return REASONS["conflict"].format(names=names, both="both" if len(paths) == 2 else "all")


def result_fields(model: ir.Model, outcome: Outcome, by_path: dict[str, ir.Territory] | None = None,
                  ) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], str | None]:
    """(status, territories, titles, owners, reason) for a valid account's outcome.

    `by_path` (path -> territory) saves a walk of the model per call when given."""
    reasons: list[str] = []
    if outcome.outside:
        reasons.append(REASONS["outside"].replace("{model}", model.name))
    for group in outcome.conflicts:
        reasons.append(conflict_reason(group))
    for parent in outcome.gaps:
        if parent:
            reasons.append(REASONS["gap"].format(parent=parent))
        else:
            reasons.append(REASONS["top_gap"].replace("{model}", model.name))
    if outcome.kept:
        reasons.append(REASONS["kept"].replace("{model}", model.name))
    reason = "; ".join(reasons) or None
    if not outcome.landings:
        return UNASSIGNED, (), (), (), reason
    territories = tuple(outcome.landings)
    by_path = by_path or {t.path: t for t in model.walk()}
    titles = tuple(by_path[p].title or by_path[p].name for p in territories)
    owners: list[str] = []
    for p in territories:
        for owner in by_path[p].owners:
            if owner.id not in owners:
                owners.append(owner.id)
    return ASSIGNED, territories, titles, tuple(owners), reason
