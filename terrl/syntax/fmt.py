"""`terrl fmt`: one canonical layout for `.terr` files.

The layout (docs/cli.md shows it from the user's side):

- 2-space indentation, one body item per line; a territory whose body is a single
  item other than a territory stays on one line (`territory c { else }`) when it fits;
- every `{...}` list (sets and set literals in `where`, enums, inline enums, `meta`,
  `account`) stays on one line when its stretch of line fits in `LINE_LENGTH` (100) and it
  holds no comment; otherwise `{` ends the line, one element per line follows one level
  deeper, each with a trailing comma, and `}` starts the line that carries on. A list's
  stretch runs from the start of its line (or the `}` of an exploded list before it) to
  the next list, so a short list next to a long one stays on one line. The decision
  depends on the tree alone (and comments), so formatting is idempotent;
- a `where`/`segment` predicate that does not fit breaks before each `or` (or `and`) of
  its chain, one operand per line one level deeper; an operand that still does not fit is
  broken the same way, a parenthesized chain opening `(` at the end of its line and closing
  `)` on a line of its own, so no chain, at any depth, leaves a line over `LINE_LENGTH`;
- one blank line between top-level declarations (consecutive imports stay together);
  inside a body, one blank line where the source had at least one;
- schema field types aligned in a column; trailing comments on consecutive lines aligned;
- nothing that carries meaning moves: items, territories, set members and enum members
  keep their order; parentheses (`ParenPred`), number literals (`500M`) and string
  escapes keep their written form.

Comments stay after the token they followed. A comment alone on its line leads the next
item (or closes its block before a `}`) and stays alone on its line; a comment after code
ends the line of that code. Inside an item, a trailing comment ends the line after the
same token it followed in the source and the rest of the item continues one level deeper
(`where state in  # why` / `us.west`); an own-line one gets its own line there.

Line endings are the file's own: the layout is built with `\n`, then every line ends
like the file's first line does (`\r\n` stays `\r\n`; a mixed file takes the first
line's ending), so `fmt` never rewrites a whole Windows file for its newlines alone.

`format_source` re-parses its own output, line endings included, and compares the
trees (spans ignored) and the sequence of comment texts before returning it: a
formatter bug becomes an internal error, never a changed meaning.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from terrl.syntax import ast
from terrl.diagnostics.core import Diagnostic, has_errors
from terrl.syntax.parser import parse
from terrl.diagnostics.source import SourceFile

LINE_LENGTH = 100
INDENT = "  "


@dataclass(frozen=True, slots=True)
class FormatResult:
    """The outcome of formatting one text. `text` is None when it cannot be formatted."""

    text: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    internal_error: str | None = None  # the self-check failed: a bug in terrl

    @property
    def ok(self) -> bool:
        return self.text is not None


def format_source(source: SourceFile, *, line_length: int = LINE_LENGTH) -> FormatResult:
    """Parse, format and verify. Syntax errors come back as diagnostics, text None."""
    module, diagnostics = parse(source)
    if module is None or has_errors(diagnostics):
        return FormatResult(None, diagnostics)
    try:
        text = format_module(module, source, line_length=line_length)
    except RecursionError:
        return FormatResult(None, diagnostics, "the input is nested too deeply to format")
    newline = line_ending(source.text)
    if newline != "\n":
        text = text.replace("\n", newline)  # no token spans a line, so only line ends change
    problem = verify(module, text, source.path)
    if problem:
        return FormatResult(None, diagnostics, problem)
    return FormatResult(text, diagnostics)


def line_ending(text: str) -> str:
    """The ending of the first line: `\r\n` or `\n` (also for a text of one line)."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def verify(module: ast.Module, text: str, path: str = "<formatted>") -> str | None:
    """Why `text` does not mean the same as `module`, or None when it does."""
    again, diagnostics = parse(SourceFile(path, text))
    if again is None or has_errors(diagnostics):
        first = next((d.message for d in diagnostics if d.is_error), "no tree")
        return f"the formatted text does not parse: {first}"
    if again != module:
        return "the formatted text parses to a different tree"
    if _comment_texts(again) != _comment_texts(module):
        return "the formatted text does not keep every comment in order"
    return None


def _comment_texts(module: ast.Module) -> list[str]:
    return [c.text.rstrip() for c in module.comments]


def format_module(module: ast.Module, source: SourceFile | None = None, *, line_length: int = LINE_LENGTH) -> str:
    """The canonical text of a module; comments come from `source` (spans must point into it)."""
    printer = _Printer(source, module.comments if source is not None else (), line_length)
    printer.module(module)
    return printer.render()


# --- one-line parts of expressions ---------------------------------------------------
#
# An item's code is built as "parts": strings and `Braced` lists. Joined flat they are
# the item on one line; the printer explodes the lists of a line that does not fit.

@dataclass(frozen=True, slots=True)
class Braced:
    """A `{a, b}` list: on one line when its line fits, else one element per line."""

    elements: tuple[str, ...]
    spaced: bool  # `{ a, b }` (enums, meta, account) or `{a, b}` (set literals)

    def flat(self) -> str:
        inner = ", ".join(self.elements)
        return f"{{ {inner} }}" if self.spaced and self.elements else f"{{{inner}}}"


def flat(parts) -> str:
    return "".join(p if isinstance(p, str) else p.flat() for p in parts)


def string_text(lit: ast.StringLit) -> str:
    """A string as written (escapes kept), or a canonical JSON string for built trees."""
    written = lit.span.text if lit.span is not None else ""
    if len(written) >= 2 and written[0] == '"' and written[-1] == '"':
        return written
    return json.dumps(lit.value, ensure_ascii=False)


def value_text(v) -> str:
    if isinstance(v, ast.NumberLit):
        return v.text
    if isinstance(v, ast.StringLit):
        return string_text(v)
    if isinstance(v, ast.BoolLit):
        return "true" if v.value else "false"
    if isinstance(v, ast.NullLit):
        return "null"
    if isinstance(v, ast.MemberLit):
        return v.name
    if isinstance(v, ast.DateLit):
        return v.value.isoformat()
    raise TypeError(f"not a literal: {v!r}")


def range_text(r: ast.RangeExpr) -> str:
    lo = value_text(r.lo) if r.lo is not None else ""
    hi = value_text(r.hi) if r.hi is not None else ""
    return f"{lo}..{hi}"


def set_parts(e: ast.SetExpr) -> list:
    if isinstance(e, ast.SetLiteral):
        return [Braced(tuple(value_text(v) for v in e.values), spaced=False)]
    if isinstance(e, ast.SetRef):
        return [e.name.text]
    if isinstance(e, ast.SetParen):
        return ["(", *set_parts(e.inner), ")"]
    if isinstance(e, ast.SetOp):
        return [*set_parts(e.left), f" {e.op} ", *set_parts(e.right)]
    raise TypeError(f"not a set expression: {e!r}")


def set_text(e: ast.SetExpr) -> str:
    return flat(set_parts(e))


def enum_member_text(m: ast.EnumMember) -> str:
    return m.name.name + (" " + string_text(m.title) if m.title is not None else "")


def type_parts(t: ast.TypeExpr) -> list:
    base = t.base
    if isinstance(base, ast.SimpleType):
        parts = [base.kind]
    elif isinstance(base, ast.DigitsType):
        parts = [f"digits({base.length.text})"]
    elif isinstance(base, ast.InlineEnum):
        parts = ["enum ", Braced(tuple(enum_member_text(m) for m in base.members), spaced=True)]
    elif isinstance(base, ast.NamedType):
        parts = [base.name.text]
    else:
        raise TypeError(f"not a type: {base!r}")
    if t.optional:
        parts.append("?")
    if t.bounds is not None:
        parts.append(" in " + range_text(t.bounds))
    if t.context is not None:
        parts.append(f" of {t.context.field.name}")
        if t.context.countries is not None:
            parts += [" in ", *set_parts(t.context.countries)]
    return parts


def type_text(t: ast.TypeExpr) -> str:
    return flat(type_parts(t))


def pred_parts(p: ast.Pred) -> list:
    if isinstance(p, ast.Comparison):
        return [f"{p.field.name} {p.op} {value_text(p.value)}"]
    if isinstance(p, ast.InSetPred):
        return [f"{p.field.name} {'not in' if p.negated else 'in'} ", *set_parts(p.target)]
    if isinstance(p, ast.InRangePred):
        return [f"{p.field.name} {'not in' if p.negated else 'in'} {range_text(p.range)}"]
    if isinstance(p, ast.StartsWithPred):
        if isinstance(p.prefix, ast.SetLiteral):
            return [f"{p.field.name} startswith ", *set_parts(p.prefix)]
        return [f"{p.field.name} startswith {value_text(p.prefix)}"]
    if isinstance(p, ast.NullPred):
        return [f"{p.field.name} is {'not null' if p.negated else 'null'}"]
    if isinstance(p, ast.BoolPred):
        return ["true" if p.value else "false"]
    if isinstance(p, ast.SegmentRef):
        return [p.name.text]
    if isinstance(p, ast.NotPred):
        return ["not ", *pred_parts(p.operand)]
    if isinstance(p, (ast.AndPred, ast.OrPred)):
        word = " and " if isinstance(p, ast.AndPred) else " or "
        parts: list = []
        for i, operand in enumerate(p.operands):
            parts += ([word] if i else []) + pred_parts(operand)
        return parts
    if isinstance(p, ast.ParenPred):
        return ["(", *pred_parts(p.inner), ")"]
    raise TypeError(f"not a predicate: {p!r}")


def pred_text(p: ast.Pred) -> str:
    return flat(pred_parts(p))


def item_parts(item) -> list:
    """A body item other than a territory, as one line."""
    if isinstance(item, ast.WhereItem):
        return ["where ", *pred_parts(item.pred)]
    if isinstance(item, ast.ElseItem):
        return ["else"]
    if isinstance(item, ast.PolicyItem):
        return ["policy " + item.policy]
    if isinstance(item, ast.KeepItem):
        return ["keep"]
    if isinstance(item, ast.OwnerItem):
        return ["owner " + string_text(item.owner) + (f" as {item.role.name}" if item.role is not None else "")]
    if isinstance(item, ast.MetaItem):
        return ["meta ", Braced(tuple(meta_entry_text(e) for e in item.entries), spaced=True)]
    if isinstance(item, ast.EffectiveItem):
        return ["effective " + value_text(item.date)]
    if isinstance(item, ast.StatusItem):
        return ["status " + item.status]
    if isinstance(item, ast.AccountItem):
        return ["account ", Braced(tuple(account_entry_text(e) for e in item.entries), spaced=True)]
    if isinstance(item, ast.ExpectItem):
        outcome = item.outcome if isinstance(item.outcome, str) else item.outcome.text
        return [f"expect {item.model.text}: {outcome}"]
    raise TypeError(f"not a body item: {item!r}")


def item_text(item) -> str:
    return flat(item_parts(item))


def meta_entry_text(e: ast.MetaEntry) -> str:
    return f"{e.key.name}: {value_text(e.value)}"


def account_entry_text(e: ast.AccountEntry) -> str:
    return f"{e.field.name}: {value_text(e.value)}"


def import_text(d: ast.ImportDecl) -> str:
    target = d.module.text if d.module is not None else string_text(d.path)
    return f"import {target}" + (f" as {d.alias.name}" if d.alias is not None else "")


def _header(keyword: str, name: ast.Ident, title: ast.StringLit | None) -> str:
    return f"{keyword} {name.name}" + (" " + string_text(title) if title is not None else "")


# --- where comments go -------------------------------------------------------------------
#
# Formatting changes only whitespace and commas, so the "significant" characters (all but
# whitespace and commas, comments aside) of an item's source and of its formatted text are
# the same sequence. A comment inside an item is placed after the same significant
# character it followed in the source: on that line's end if it was a trailing comment
# (the line is split there when code follows), on a line of its own if it was one.

def _significant(text: str) -> int:
    return sum(1 for ch in text if not (ch.isspace() or ch == ","))


def _significant_text(text: str) -> str:
    return "".join(ch for ch in text if not (ch.isspace() or ch == ","))


def _index_after(text: str, count: int) -> int:
    """The index just past the `count`-th significant character of `text` and a comma after it."""
    i = 0
    while count > 0:
        if not (text[i].isspace() or text[i] == ","):
            count -= 1
        i += 1
    j = i
    while j < len(text) and text[j] == " ":
        j += 1
    return j + 1 if j < len(text) and text[j] == "," else i


@dataclass(frozen=True, slots=True)
class _Note:
    """A comment inside an item: after `after` significant characters of the item."""

    after: int
    text: str
    own_line: bool


# --- the printer ---------------------------------------------------------------------

@dataclass(slots=True)
class _Line:
    depth: int
    code: str
    comment: str | None = None


class _Printer:
    """Writes lines in source order, taking comments from a cursor as it passes them."""

    def __init__(self, source: SourceFile | None, comments, line_length: int) -> None:
        self.text = source.text if source is not None else ""
        self.comments = sorted(comments, key=lambda c: c.span.start) if source is not None else []
        self.cursor = 0
        self.width = line_length
        self.lines: list[_Line | None] = []  # None is a blank line
        self.block_start = True  # no blank line right after `{` or at the top of the file

    # -- output --
    def render(self) -> str:
        _align_trailing_comments(self.lines)
        out = []
        for line in self.lines:
            if line is None:
                out.append("")
                continue
            text = INDENT * line.depth + line.code if line.code else ""
            if line.comment is not None:
                text = (text + "  " + line.comment) if line.code else INDENT * line.depth + line.comment
            out.append(text.rstrip())
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n" if out else ""

    def emit(self, depth: int, code: str, comment: str | None = None) -> None:
        self.lines.append(_Line(depth, code, comment))
        self.block_start = False

    def blank(self) -> None:
        if self.lines and self.lines[-1] is not None:
            self.lines.append(None)

    def fits(self, depth: int, text: str) -> bool:
        return len(INDENT) * depth + len(text) <= self.width

    # -- comments --
    def _next(self):
        return self.comments[self.cursor] if self.cursor < len(self.comments) else None

    def _blank_before(self, pos: int) -> bool:
        """Whether the source has an empty line just before `pos`."""
        k = pos
        while k > 0 and self.text[k - 1] in " \t\r\n":
            k -= 1
        return self.text.count("\n", k, pos) >= 2

    def _own_line(self, pos: int) -> bool:
        """Whether no code precedes `pos` on its source line (commas do not count: they move)."""
        return self.text[self.text.rfind("\n", 0, pos) + 1:pos].replace(",", "").strip() == ""

    def has_comments(self, start: int | None, end: int | None) -> bool:
        if start is None or end is None:
            return False
        c = self._next()
        return c is not None and c.span.start < end

    def leading(self, pos: int | None, depth: int, *, item: bool = True) -> None:
        """Own-line comments before `pos`, then the blank line (if any) before the item itself."""
        if pos is None:
            return
        while (c := self._next()) is not None and c.span.start < pos:
            if not self.block_start and self._blank_before(c.span.start):
                self.blank()
            self.cursor += 1
            self.emit(depth, "", c.text.rstrip())
        if item and not self.block_start and self._blank_before(pos):
            self.blank()

    def trailing(self, end: int | None, peek: bool = False) -> str | None:
        """The comment that follows `end` with only spaces between (the end of its line);
        `peek`: without taking it."""
        if end is None:
            return None
        c = self._next()
        gap = self.text[end:c.span.start] if c is not None and end <= c.span.start else None
        if gap is not None and gap.strip() == "" and "\n" not in gap:
            if not peek:
                self.cursor += 1
            return c.text.rstrip()
        return None

    def _notes(self, start: int, end: int) -> list[_Note]:
        """Take the comments inside source[start:end], each placed by the code before it."""
        notes, count, at = [], 0, start
        while (c := self._next()) is not None and c.span.start < end:
            self.cursor += 1
            count += _significant(self.text[at:c.span.start])
            at = c.span.end
            notes.append(_Note(count, c.text.rstrip(), self._own_line(c.span.start)))
        return notes

    # -- items: layout, then comments woven in --
    def code(self, logical: list[tuple[int, list]], start: int | None, end: int | None) -> None:
        """Print one item given as logical lines `(depth, parts)` that cover source[start:end].

        A line explodes its `{}` lists when it does not fit, or when a list holds a comment."""
        notes = self._notes(start, end) if start is not None and end is not None else []
        if notes and self._significant_without_comments(start, end, self._taken(len(notes))) \
                != "".join(_significant_text(flat(parts)) for _, parts in logical):
            # the layout moved code across a comment (a field type's `?` is written before
            # `in LO..HI` however the source placed it): the comments then go above the item
            # (order kept), and the self-check still guards the meaning
            if len(notes) == 1 and self.trailing(end, peek=True) is None:
                # one comment: it ends the item's last line, where a `##` stays a plain comment
                # (on a line of its own above the item it would become the item's doc)
                total = sum(_significant(flat(parts)) for _, parts in logical)
                notes = [_Note(total, notes[0].text, own_line=False)]
            else:
                for note in notes:
                    self.emit(logical[0][0], "", note.text)
                notes = []
        lines = self._layout(logical, [n.after for n in notes])
        woven = _weave(lines, notes)
        for line in woven:
            self.lines.append(line)
        self.block_start = False
        comment = self.trailing(end)
        if comment is not None:
            last = woven[-1]
            if last.comment is None:
                last.comment = comment
            else:  # not reachable: a comment inside an item always has code after it
                self.emit(last.depth, "", comment)

    def _significant_without_comments(self, start: int, end: int, comments) -> str:
        pieces, at = [], start
        for c in comments:
            pieces.append(_significant_text(self.text[at:c.span.start]))
            at = c.span.end
        pieces.append(_significant_text(self.text[at:end]))
        return "".join(pieces)

    def _taken(self, n: int):
        return self.comments[self.cursor - n:self.cursor]

    def _layout(self, logical: list[tuple[int, list]], marks: list[int]) -> list[tuple[int, str]]:
        lines: list[tuple[int, str]] = []
        offset = 0  # significant characters before the current part
        for depth, parts in logical:
            current = ""
            for i, part in enumerate(parts):
                if isinstance(part, str):
                    current += part
                    offset += _significant(part)
                    continue
                inside = offset + 1  # just after `{`
                closing = inside + sum(_significant(e) for e in part.elements)  # just before `}`
                # the list's stretch of line: from the line's start (or the last exploded
                # list's `}`) through the text that follows it up to the next list
                follows = "".join(itertools.takewhile(lambda p: isinstance(p, str), parts[i + 1:]))
                too_long = not self.fits(depth, current + part.flat() + follows)
                if part.elements and (too_long or any(inside <= m <= closing for m in marks)):
                    lines.append((depth, current + "{"))
                    lines.extend((depth + 1, e + ",") for e in part.elements)
                    current = "}"
                else:
                    current += part.flat()
                offset = closing + 1
            lines.append((depth, current))
        return lines

    def predicate(self, depth: int, prefix: str, pred, span) -> None:
        """`where P` / `segment s = P`: one line, or broken before each `or`/`and` of a chain
        that does not fit, at any depth (a comment inside breaks the top-level chain)."""
        start, end = (span.start, span.end) if span is not None else (None, None)
        self.code(self._pred_lines(depth, [prefix], pred, [], force=self.has_comments(start, end)), start, end)

    def _pred_lines(self, depth: int, lead: list, pred, tail: list, *, force: bool = False,
                    hang: bool = True) -> list[tuple[int, list]]:
        """`lead + pred + tail` as logical lines: one when it fits; a chain one operand per
        line (`or`/`and` first, one level deeper when `hang`); a parenthesized chain opens
        `(` at the end of the line, its operands one level deeper, and closes `)` on a line
        of its own. Lists are left to `_layout`."""
        one = [*lead, *pred_parts(pred), *tail]
        if not force and self.fits(depth, flat(one)):
            return [(depth, one)]
        if isinstance(pred, (ast.OrPred, ast.AndPred)):
            word = "or " if isinstance(pred, ast.OrPred) else "and "
            last = len(pred.operands) - 1
            lines = []
            for i, operand in enumerate(pred.operands):
                lines += self._pred_lines(depth if i == 0 or not hang else depth + 1, lead if i == 0 else [word], operand,
                                          tail if i == last else [])
            return lines
        if isinstance(pred, ast.ParenPred):
            broken = [(depth, [*lead, "("]), *self._pred_lines(depth + 1, [], pred.inner, [], hang=False),
                      (depth, [")", *tail])]
            if isinstance(pred.inner, (ast.OrPred, ast.AndPred)):
                return broken
            inline = self._pred_lines(depth, [*lead, "("], pred.inner, [")", *tail])  # `((...))`, `(not (...))`
            # parentheses around one condition stay on its line, unless that line is then too long
            # (a list inside breaks on its own: `_layout`)
            too_long = any(not self.fits(d, flat(parts)) and not any(isinstance(p, Braced) for p in parts)
                           for d, parts in inline)
            return broken if too_long else inline
        if isinstance(pred, ast.NotPred):
            return self._pred_lines(depth, [*lead, "not "], pred.operand, tail)
        return [(depth, one)]

    # -- blocks --
    def closing(self, end: int | None, depth: int) -> None:
        """Comments left before a block's `}` (end is just after it), then the `}` line."""
        if end is not None:
            self.leading(end - 1, depth + 1, item=False)
        self.block_start = False
        self.emit(depth, "}", self.trailing(end))

    def _brace(self, after: int | None) -> int | None:
        """The offset of the `{` that opens a block, skipping comments after its header."""
        if after is None:
            return None
        text, i = self.text, after
        while i < len(text):
            ch = text[i]
            if ch == "#":
                j = text.find("\n", i)
                i = len(text) if j == -1 else j
            elif ch == "{":
                return i
            elif ch == '"':  # a title or an import path: skip the string
                i += 1
                while i < len(text) and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
                i += 1
            else:
                i += 1
        return None

    def opening(self, depth: int, header: str, start: int | None, brace: int | None) -> None:
        """The `header {` line; a comment inside the header stays after its token."""
        self.code([(depth, [header + " {"])], start, brace + 1 if brace is not None else None)
        self.block_start = True

    # -- declarations --
    def module(self, module: ast.Module) -> None:
        previous = None
        for decl in module.decls:
            start = _start(decl)
            if previous is not None:
                if isinstance(decl, ast.ImportDecl) and isinstance(previous, ast.ImportDecl):
                    self.block_start = False
                else:
                    self.blank()
                    self.block_start = True
            self.leading(start, 0)
            self.decl(decl)
            previous = decl
        if self.comments[self.cursor:]:
            self.leading(len(self.text) + 1, 0, item=False)

    def decl(self, d) -> None:
        start, end = _start(d), _end(d)
        if isinstance(d, ast.ImportDecl):
            self.code([(0, [import_text(d)])], start, end)
        elif isinstance(d, ast.EnumDecl):
            members = Braced(tuple(enum_member_text(m) for m in d.members), spaced=True)
            of = f" of {d.country.name}" if d.country is not None else ""
            self.code([(0, [f"enum {d.name.name}{of} ", members])], start, end)
        elif isinstance(d, ast.SetDecl):
            self.code([(0, [f"set {d.name.name}: ", *type_parts(d.type), " = ", *set_parts(d.expr)])], start, end)
        elif isinstance(d, ast.SegmentDecl):
            self.predicate(0, f"segment {d.name.name} = ", d.pred, d.span)
        elif isinstance(d, ast.SchemaDecl):
            self.schema(d)
        elif isinstance(d, ast.ModelDecl):
            header = _header("model", d.name, d.title) + (f" for {d.schema.text}" if d.schema is not None else "")
            after = _end(d.schema) if d.schema is not None else _end(d.title) if d.title is not None else _end(d.name)
            self.body(0, header, d.items, d.span, after)
        elif isinstance(d, ast.TestDecl):
            self.body(0, f"test {string_text(d.name)}", d.items, d.span, _end(d.name), one_line=False)
        else:
            raise TypeError(f"not a declaration: {d!r}")

    def schema(self, d: ast.SchemaDecl) -> None:
        if not d.fields and not self.has_comments(_start(d), _end(d)):
            self.emit(0, f"schema {d.name.name} {{}}", self.trailing(_end(d)))
            return
        self.opening(0, f"schema {d.name.name}", _start(d), self._brace(_end(d.name)))
        pad = max((len(f.name.name) + 1 for f in d.fields), default=0)
        for f in d.fields:
            self.leading(_start(f), 1)
            parts = [f"{f.name.name + ':':<{pad}} ", *type_parts(f.type)] + ([" key"] if f.key else [])
            self.code([(1, parts)], _start(f), _end(f))
        self.closing(_end(d), 0)

    def body(self, depth: int, header: str, items, span, after: int | None, *, one_line: bool = True) -> None:
        """A model, territory or test: `header { item }` when short, else one item per line."""
        start, end = (span.start, span.end) if span is not None else (None, None)
        if not items and not self.has_comments(start, end):
            self.emit(depth, header + " {}", self.trailing(end))
            return
        if (one_line and len(items) == 1 and not isinstance(items[0], ast.TerritoryDecl)
                and not self.has_comments(start, end)):
            one = f"{header} {{ {item_text(items[0])} }}"
            if self.fits(depth, one):
                self.emit(depth, one, self.trailing(end))
                return
        self.opening(depth, header, start, self._brace(after))
        for item in items:
            self.leading(_start(item), depth + 1)
            self.item(depth + 1, item)
        self.closing(end, depth)

    def item(self, depth: int, item) -> None:
        if isinstance(item, ast.TerritoryDecl):
            after = _end(item.title) if item.title is not None else _end(item.name)
            self.body(depth, _header("territory", item.name, item.title), item.items, item.span, after)
        elif isinstance(item, ast.WhereItem):
            self.predicate(depth, "where ", item.pred, item.span)
        else:
            self.code([(depth, item_parts(item))], _start(item), _end(item))


def _weave(lines: list[tuple[int, str]], notes: list[_Note]) -> list[_Line]:
    """The laid-out lines with each note after its significant character.

    A trailing note ends the line there (the rest of that line continues one level
    deeper); an own-line note gets a line of its own, as deep as the deeper of its
    neighbours (inside a list, with its elements)."""
    out: list[_Line] = []
    floating: list[str] = []

    def put(depth: int, code: str) -> None:
        if floating:
            level = max(out[-1].depth, depth) if out else depth
            out.extend(_Line(level, "", text) for text in floating)
            floating.clear()
        out.append(_Line(depth, code))

    consumed, n = 0, 0
    for depth, text in lines:
        rest, level = text, depth
        line_end = consumed + _significant(text)
        while n < len(notes) and notes[n].after <= line_end:
            note = notes[n]
            n += 1
            cut = _index_after(rest, note.after - consumed)
            head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
            consumed += _significant(head)
            if head:
                put(level, head)
                level = depth + 1
            if not note.own_line and head:
                out[-1].comment = note.text
            else:
                floating.append(note.text)
        if rest:
            put(level, rest)
        consumed = line_end
    for text in floating:  # not reachable: a note always has code after it
        out.append(_Line(out[-1].depth if out else 0, "", text))
    return out


def _start(node) -> int | None:
    span = getattr(node, "span", None)
    return span.start if span is not None else None


def _end(node) -> int | None:
    span = getattr(node, "span", None)
    return span.end if span is not None else None


def _align_trailing_comments(lines: list[_Line | None]) -> None:
    """Trailing comments of consecutive lines at the same depth start in one column.

    A line that starts with `}` ends a block and is aligned with nothing."""
    run: list[_Line] = []

    def flush() -> None:
        if len(run) > 1:
            column = max(len(line.code) for line in run)
            for line in run:
                line.code = line.code.ljust(column)
        run.clear()

    for line in lines:
        aligned = line is not None and line.code and line.comment is not None and not line.code.startswith("}")
        if aligned and (not run or run[-1].depth == line.depth):
            run.append(line)
        else:
            flush()
            if aligned:
                run.append(line)
    flush()
