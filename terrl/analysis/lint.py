"""Lint rules beyond coverage: what an ops reviewer would flag in a pull request.

`lint_program(program, module, options)` is a pure function of the checked program
(and, for W305 and W307, the syntax tree and text of the file): it returns warnings, configured through
`[lint]` and `[severity]` in terrl.toml (terrl/project/config.py). `terrl check` runs it after
resolve when the files have no syntax, name or type errors.

| code | name | what |
|---|---|---|
| W301 | territory-without-owner | accounts can land on a territory (a leaf, or a `keep` parent) and nobody owns it: no `owner` on it or, with `inherited-owners = true` (default), on any ancestor |
| W302 | owner-malformed | an owner id is empty, has spaces or control characters, is a broken e-mail address, or does not match `owner-pattern` |
| W303 | duplicate-owner | one owner id on two sibling territories under `policy unique` (`unique-owners = false` to allow) |
| W304 | title-missing | a model or territory has no title (off by default) |
| W305 | long-inline-list | an inline `{...}` list longer than `max-inline-values` (default 10): name it with `set`; one finding per list written several times, and one for all the others when there are more than three |
| W306 | else-takes-missing | an `else` takes accounts with no value in a field its siblings split on (tested by more than half of them) |
| W307 | bidi-control-character | an invisible bidirectional control character in a string, title, owner, doc comment or comment ("Trojan Source") |

Why W306 is the `else` finding: an `else` is written for "the other values"; what it
also silently takes, and what reviews miss, is accounts with no value at all in the
field its siblings split on (`state` missing under a split by state). That is decided
exactly (with a witness) on the coverage analysis's diagrams.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Iterator

from terrl.syntax import ast
from terrl.semantics import ir
from terrl.project.config import LintOptions
from terrl.diagnostics.core import Diagnostic, Label, diag

DEFAULT_OFF = frozenset({"W304"})
LONG_LISTS_SHOWN = 3  # W305: long inline lists reported one by one; more are one finding
LINES_SHOWN = 12  # W305: line numbers listed in a note
DUPLICATE_OWNERS_SHOWN = 5  # siblings named in one W303 message  # enabled by a [severity] entry; codes registered in terrl.diagnostics.core

# Unicode's bidirectional formatting characters: embeddings and overrides (U+202A-E),
# isolates (U+2066-9) and the marks LRM, RLM, ALM; terrl.diagnostics.render prints them as U+FFFD.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def lint_program(program: ir.Program, module: ast.Module | None, options: LintOptions = LintOptions()) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for model in program.models:
        out.extend(check_owners(model, options))
        out.extend(check_titles(model))
        out.extend(check_else_missing(model))
    if module is not None:
        out.extend(check_inline_lists(module, options))
        out.extend(check_bidi_controls(module))
    return out


def _territories_with_parents(model: ir.Model) -> Iterator[tuple[ir.Territory, tuple[ir.Territory, ...]]]:
    def go(t: ir.Territory, ancestors: tuple[ir.Territory, ...]):
        yield t, ancestors
        for c in t.children:
            yield from go(c, ancestors + (t,))
    for t in model.territories:
        yield from go(t, ())


def check_owners(model: ir.Model, options: LintOptions) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    pattern = re.compile(options.owner_pattern) if options.owner_pattern else None
    for t, ancestors in _territories_with_parents(model):
        for owner in t.owners:
            problem = owner_problem(owner.id, pattern)
            if problem:
                out.append(diag("W302", f"owner `{owner.id}` of `{t.path}` {problem}", owner.span or t.name_span,
                                help="write the owner's e-mail address or CRM user id", model=model.name,
                                territories=[t.path]))
        lands = t.is_leaf or t.keep
        owned = bool(t.owners) or (options.inherited_owners and any(a.owners for a in ancestors))
        if lands and not owned:
            where = "it or its parents" if options.inherited_owners and ancestors else "it"
            out.append(diag("W301", f"territory `{t.path}` has no owner", t.name_span or t.span,
                            notes=[f"accounts land on `{t.path}` and no `owner` is set on {where}"],
                            help='add `owner "someone@example.com" as ROLE`', model=model.name,
                            territories=[t.path]))
    if options.unique_owners:
        groups = [(model.policy, model.territories)] + [(t.policy, t.children) for t in model.walk()]
        for policy, siblings in groups:
            if policy != "unique":
                continue
            # One finding per owner and sibling group, however many siblings share the owner:
            # a rep who covers 200 sibling ZIP territories is one thing to fix, not 199.
            owned_by: dict[str, list[ir.Territory]] = {}
            for t in siblings:
                for owner_id in dict.fromkeys(o.id for o in t.owners):
                    owned_by.setdefault(owner_id, []).append(t)
            for owner_id, owners_of in owned_by.items():
                if len(owners_of) > 1:
                    out.append(_duplicate_owner(model, owner_id, owners_of))
    return out


def _duplicate_owner(model: ir.Model, owner_id: str, territories: list[ir.Territory]) -> Diagnostic:
    def owner_span(t: ir.Territory):
        return next((o.span for o in t.owners if o.id == owner_id), None) or t.name_span

    first, second = territories[0], territories[1]
    if len(territories) == 2:
        message = f"`{owner_id}` owns both `{first.path}` and `{second.path}` under `policy unique`"
    else:
        shown = ", ".join(f"`{t.path}`" for t in territories[:DUPLICATE_OWNERS_SHOWN])
        more = len(territories) - DUPLICATE_OWNERS_SHOWN
        message = (f"`{owner_id}` owns {len(territories)} sibling territories under `policy unique`: "
                   f"{shown}{f' and {more} more' if more > 0 else ''}")
    labels = [Label(owner_span(t), f"also the owner of `{t.path}`")
              for t in [first, *territories[2:DUPLICATE_OWNERS_SHOWN]] if owner_span(t)]
    return diag("W303", message, owner_span(second), labels=labels,
                help="give each sibling its own owner, or move the owner to the parent",
                model=model.name, territories=[t.path for t in territories])


def owner_problem(owner_id: str, pattern: re.Pattern | None = None) -> str | None:
    """Why an owner id is malformed, or None."""
    if not owner_id.strip():
        return "is empty"
    if _CONTROL.search(owner_id):
        return "contains a control character"
    if owner_id != owner_id.strip() or any(ch.isspace() for ch in owner_id):
        return "contains spaces"
    if pattern is not None:
        if not pattern.fullmatch(owner_id):
            return f"does not match the configured `owner-pattern` ({pattern.pattern})"
        return None
    if "@" in owner_id and not _EMAIL.fullmatch(owner_id):
        return "is not a valid e-mail address"
    return None


def check_titles(model: ir.Model) -> list[Diagnostic]:
    out = []
    if not model.title:
        out.append(diag("W304", f"model `{model.name}` has no title", model.name_span or model.span,
                        help=f'write `model {model.name} "A title people read"`', model=model.name, territories=[]))
    for t in model.walk():
        if not t.title:
            out.append(diag("W304", f"territory `{t.path}` has no title", t.name_span or t.span,
                            help=f'write `territory {t.name} "A title people read"`', model=model.name,
                            territories=[t.path]))
    return out


def check_inline_lists(module: ast.Module, options: LintOptions) -> list[Diagnostic]:
    """W305, one finding per cause rather than per list (a model exported from a CRM has a long
    list in every territory): a list written more than once is one finding at its first place
    (labels on the others); up to `LONG_LISTS_SHOWN` other long lists are one finding each, more
    are one finding at the first that counts them and gives their lines."""
    limit = options.max_inline_values
    found = [(literal, model) for pred, model in _predicates(module) for literal in _inline_literals(pred)
             if len(literal.values) > limit]
    found.sort(key=lambda lm: lm[0].span.start if lm[0].span is not None else 0)
    copies: dict[frozenset, list] = {}
    for literal, model in found:
        copies.setdefault(frozenset(literal.values), []).append((literal, model))
    out, single = [], []
    help = "declare it once with `set name: Type = {...}` and use the name"
    for same in copies.values():
        if len(same) == 1:
            single.append(same[0])
            continue
        (first, model), others = same[0], same[1:]
        out.append(diag("W305", f"this inline list of {len(first.values)} values is written {len(same)} times",
                        first.span, help=help + " in each place",
                        labels=[Label(o.span, "the same list") for o, _ in others[:LONG_LISTS_SHOWN] if o.span],
                        notes=_lines_note("the copies", [o for o, _ in others]), **({"model": model} if model else {})))
    if len(single) <= LONG_LISTS_SHOWN:
        for literal, model in single:
            out.append(diag("W305", f"this inline list has {len(literal.values)} values (more than {limit})",
                            literal.span, help=help, **({"model": model} if model else {})))
    else:
        (first, model), others = single[0], single[1:]
        out.append(diag("W305", f"this inline list has {len(first.values)} values (more than {limit}), "
                        f"and so do {len(others):,} more inline lists in this file", first.span,
                        help=help + f", or raise `max-inline-values` in `[lint]` if such lists are the norm here",
                        notes=_lines_note("the others", [o for o, _ in others]), **({"model": model} if model else {})))
    return out


def _lines_note(what: str, literals: list) -> list[str]:
    lines = [lit.span.file.line_col(lit.span.start)[0] for lit in literals if lit.span is not None]
    if not lines:
        return []
    shown = ", ".join(str(n) for n in lines[:LINES_SHOWN])
    more = f" and {len(lines) - LINES_SHOWN:,} more" if len(lines) > LINES_SHOWN else ""
    return [f"{what}: line{'s' if len(lines) > 1 else ''} {shown}{more}"]


def _predicates(module: ast.Module):
    """Every predicate in the file, with the model it belongs to (None for segments)."""
    def body(items, model):
        for item in items:
            if isinstance(item, ast.WhereItem):
                yield item.pred, model
            elif isinstance(item, ast.TerritoryDecl):
                yield from body(item.items, model)
    for decl in module.decls:
        if isinstance(decl, ast.SegmentDecl):
            yield decl.pred, None
        elif isinstance(decl, ast.ModelDecl):
            yield from body(decl.items, decl.name.name)


def _inline_literals(pred) -> Iterator[ast.SetLiteral]:
    stack = [pred]
    while stack:
        p = stack.pop()
        if isinstance(p, ast.InSetPred):
            sets = [p.target]
            while sets:
                s = sets.pop()
                if isinstance(s, ast.SetLiteral):
                    yield s
                elif isinstance(s, ast.SetOp):
                    sets += [s.left, s.right]
                elif isinstance(s, ast.SetParen):
                    sets.append(s.inner)
        elif isinstance(p, (ast.AndPred, ast.OrPred)):
            stack.extend(p.operands)
        elif isinstance(p, ast.NotPred):
            stack.append(p.operand)
        elif isinstance(p, ast.ParenPred):
            stack.append(p.inner)


def check_bidi_controls(module: ast.Module) -> list[Diagnostic]:
    """W307: one finding per bidirectional control character in the file's text.

    A file that parses can hold such a character only inside a string or a comment (the
    grammar admits them nowhere else), so the comment spans tell the two apart."""
    if module.span is None:
        return []
    source = module.span.file
    comments = sorted((c for c in module.comments if c.span is not None), key=lambda c: c.span.start)
    starts = [c.span.start for c in comments]
    out = []
    for found in BIDI_CONTROLS.finditer(source.text):
        at = found.start()
        char = found.group()
        k = bisect.bisect_right(starts, at) - 1
        comment = comments[k] if k >= 0 and at < comments[k].span.end else None
        name = f"U+{ord(char):04X} ({unicodedata.name(char, 'bidirectional control').lower()})"
        if comment is not None:
            where = "doc comment" if comment.is_doc else "comment"
            help = "remove it: comments have no escapes"
        else:
            where = "string"
            help = f'remove it; if the text needs it, write the escape `\\u{ord(char):04X}`, which a review shows'
        out.append(diag("W307", f"invisible bidirectional control character {name} in a {where}",
                        source.span(at, at + 1),
                        notes=["it reorders how the rest of the line is displayed, so what a reviewer reads can "
                               "differ from what terrl runs (\"Trojan Source\")"],
                        help=help))
    return out


def check_else_missing(model: ir.Model) -> list[Diagnostic]:
    groups = [("", model.territories)] + [(t.path, t.children) for t in model.walk()]
    groups = [(parent, kids) for parent, kids in groups if any(k.is_else for k in kids)]
    if not groups:
        return []
    from terrl.analysis.coverage import ModelSpace, show_witness

    space = ModelSpace.of(model)  # the one the coverage analysis built
    m = space.manager
    out = []
    for parent, kids in groups:
        # the fields the siblings split on: tested by more than half of them
        tests = [ir.pred_fields(k.where) for k in kids if not k.is_else and k.where is not None]
        # a sibling that says `is null` / `is not null` shows the missing case was thought about
        considered = {a.field for k in kids if k.where is not None for a in _atoms(k.where) if isinstance(a, ir.IsNull)}
        split_on = [f for f in model.schema.fields
                    if f.optional and f.name not in considered and sum(f.name in t for t in tests) * 2 > len(tests)]
        for e in (k for k in kids if k.is_else):
            reach = space.reach.get(e.path, m.FALSE)
            missing, witness = [], None
            for f in split_on:
                node = m.and_(reach, m.compile(ir.IsNull(f.name)))
                if node != m.FALSE:
                    missing.append(f.name)
                    witness = witness or space.witness(node)
            if not missing:
                continue
            names = " or ".join(f"no `{n}`" for n in missing)
            first = missing[0]
            out.append(diag("W306", f"`else` in `{e.path}` also takes accounts with {names}",
                            e.where_span or e.name_span or e.span,
                            notes=[f"its siblings split on {', '.join(f'`{n}`' for n in missing)}, which may be "
                                   f"missing; for example {show_witness(witness, model.schema)}"],
                            help=f"add a sibling `territory ... {{ where {first} is null }}` to say where they go, "
                                 f"or make `{first}` required in the schema",
                            model=model.name, territories=[e.path], witness=witness))
    return out


def _atoms(pred: ir.Pred) -> Iterator[ir.Pred]:
    if isinstance(pred, ir.Not):
        yield from _atoms(pred.operand)
    elif isinstance(pred, (ir.And, ir.Or)):
        for p in pred.operands:
            yield from _atoms(p)
    else:
        yield pred
