"""`terrl fmt`: one canonical layout for `.terr` files.

The layout (docs/cli.md shows it from the user's side):

- 2-space indentation, one body item per line; a territory whose body is a single
  item other than a territory stays on one line (`territory c { else }`) when it fits;
- `{...}` lists (sets, enums, `meta`, `account`) on one line when they fit in
  `LINE_LENGTH` and hold no comment, otherwise one element per line with a trailing comma;
- long `where`/`segment` predicates break before each top-level `or` (or `and`);
- one blank line between top-level declarations (consecutive imports stay together);
  inside a body, one blank line where the source had at least one;
- schema field types aligned in a column; trailing comments on consecutive lines aligned;
- nothing that carries meaning moves: items, territories, set members and enum members
  keep their order; parentheses (`ParenPred`), number literals (`500M`) and string
  escapes keep their written form.

Comments are attached by span: a comment alone on its line leads the next item, a
comment after code ends that item's line, a comment before a `}` closes its block. A
comment inside an item that is printed on one line moves to a line of its own just
before the item (their order never changes).

Line endings are the file's own: the layout is built with `\n`, then every line ends
like the file's first line does (`\r\n` stays `\r\n`; a mixed file takes the first
line's ending), so `fmt` never rewrites a whole Windows file for its newlines alone.

`format_source` re-parses its own output, line endings included, and compares the
trees (spans ignored) and the sequence of comment texts before returning it: a
formatter bug becomes an internal error, never a changed meaning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from . import ast
from .diagnostics import Diagnostic, has_errors
from .parser import parse
from .source import SourceFile

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


# --- flat text of expressions (no comments, one line) ---------------------------------

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


def set_text(e: ast.SetExpr) -> str:
    if isinstance(e, ast.SetLiteral):
        return "{" + ", ".join(value_text(v) for v in e.values) + "}"
    if isinstance(e, ast.SetRef):
        return e.name.text
    if isinstance(e, ast.SetParen):
        return "(" + set_text(e.inner) + ")"
    if isinstance(e, ast.SetOp):
        return f"{set_text(e.left)} {e.op} {set_text(e.right)}"
    raise TypeError(f"not a set expression: {e!r}")


def enum_member_text(m: ast.EnumMember) -> str:
    return m.name.name + (" " + string_text(m.title) if m.title is not None else "")


def type_text(t: ast.TypeExpr) -> str:
    base = t.base
    if isinstance(base, ast.SimpleType):
        text = base.kind
    elif isinstance(base, ast.DigitsType):
        text = f"digits({base.length.text})"
    elif isinstance(base, ast.InlineEnum):
        text = "enum { " + ", ".join(enum_member_text(m) for m in base.members) + " }" if base.members else "enum {}"
    elif isinstance(base, ast.NamedType):
        text = base.name.text
    else:
        raise TypeError(f"not a type: {base!r}")
    if t.optional:
        text += "?"
    if t.bounds is not None:
        text += " in " + range_text(t.bounds)
    return text


def pred_text(p: ast.Pred) -> str:
    if isinstance(p, ast.Comparison):
        return f"{p.field.name} {p.op} {value_text(p.value)}"
    if isinstance(p, ast.InSetPred):
        return f"{p.field.name} {'not in' if p.negated else 'in'} {set_text(p.target)}"
    if isinstance(p, ast.InRangePred):
        return f"{p.field.name} {'not in' if p.negated else 'in'} {range_text(p.range)}"
    if isinstance(p, ast.StartsWithPred):
        return f"{p.field.name} startswith {value_text(p.prefix)}"
    if isinstance(p, ast.NullPred):
        return f"{p.field.name} is {'not null' if p.negated else 'null'}"
    if isinstance(p, ast.BoolPred):
        return "true" if p.value else "false"
    if isinstance(p, ast.SegmentRef):
        return p.name.text
    if isinstance(p, ast.NotPred):
        return "not " + pred_text(p.operand)
    if isinstance(p, ast.AndPred):
        return " and ".join(pred_text(o) for o in p.operands)
    if isinstance(p, ast.OrPred):
        return " or ".join(pred_text(o) for o in p.operands)
    if isinstance(p, ast.ParenPred):
        return "(" + pred_text(p.inner) + ")"
    raise TypeError(f"not a predicate: {p!r}")


def item_text(item) -> str:
    """A body item other than a territory, on one line."""
    if isinstance(item, ast.WhereItem):
        return "where " + pred_text(item.pred)
    if isinstance(item, ast.ElseItem):
        return "else"
    if isinstance(item, ast.PolicyItem):
        return "policy " + item.policy
    if isinstance(item, ast.KeepItem):
        return "keep"
    if isinstance(item, ast.OwnerItem):
        return "owner " + string_text(item.owner) + (f" as {item.role.name}" if item.role is not None else "")
    if isinstance(item, ast.MetaItem):
        return "meta { " + ", ".join(meta_entry_text(e) for e in item.entries) + " }" if item.entries else "meta {}"
    if isinstance(item, ast.EffectiveItem):
        return "effective " + value_text(item.date)
    if isinstance(item, ast.StatusItem):
        return "status " + item.status
    if isinstance(item, ast.AccountItem):
        return "account { " + ", ".join(account_entry_text(e) for e in item.entries) + " }" if item.entries else "account {}"
    if isinstance(item, ast.ExpectItem):
        outcome = item.outcome if isinstance(item.outcome, str) else item.outcome.text
        return f"expect {item.model.name}: {outcome}"
    raise TypeError(f"not a body item: {item!r}")


def meta_entry_text(e: ast.MetaEntry) -> str:
    return f"{e.key.name}: {value_text(e.value)}"


def account_entry_text(e: ast.AccountEntry) -> str:
    return f"{e.field.name}: {value_text(e.value)}"


def import_text(d: ast.ImportDecl) -> str:
    target = d.module.text if d.module is not None else string_text(d.path)
    return f"import {target}" + (f" as {d.alias.name}" if d.alias is not None else "")


def _header(keyword: str, name: ast.Ident, title: ast.StringLit | None) -> str:
    return f"{keyword} {name.name}" + (" " + string_text(title) if title is not None else "")


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
        self.limit = len(self.text) + 1  # trailing comments are taken only before the enclosing `}`

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

    def has_comments(self, start: int | None, end: int | None) -> bool:
        if start is None or end is None:
            return False
        c = self._next()
        return c is not None and c.span.start < end

    def leading(self, pos: int | None, depth: int, *, blanks: bool = True, item: bool = True) -> None:
        """Own-line comments before `pos`, then the blank line (if any) before the item itself."""
        if pos is None:
            return
        while (c := self._next()) is not None and c.span.start < pos:
            if blanks and not self.block_start and self._blank_before(c.span.start):
                self.blank()
            self.cursor += 1
            self.emit(depth, "", c.text.rstrip())
        if item and blanks and not self.block_start and self._blank_before(pos):
            self.blank()

    def trailing(self, end: int | None) -> str | None:
        """A comment on the same source line after `end`, taken for the line being written."""
        if end is None:
            return None
        c = self._next()
        if (c is not None and end <= c.span.start < self.limit
                and "\n" not in self.text[end:c.span.start]):
            self.cursor += 1
            return c.text.rstrip()
        return None

    def hoist(self, end: int | None, depth: int) -> None:
        """Comments inside an item printed on one line go on their own lines before it."""
        if end is None:
            return
        while (c := self._next()) is not None and c.span.start < end:
            self.cursor += 1
            self.emit(depth, "", c.text.rstrip())

    def closing(self, end: int | None, depth: int, outer_limit: int) -> None:
        """Comments left before a block's `}` (end is just after it), then the `}` line."""
        if end is not None:
            self.leading(end - 1, depth + 1, item=False)
        self.limit = outer_limit
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

    def opening(self, depth: int, header: str, brace: int | None, end: int | None) -> int:
        """The `header {` line; comments between the header and `{` move above it.

        Returns the enclosing limit for trailing comments, to hand back to `closing`."""
        outer = self.limit
        if end is not None:
            self.limit = end - 1
        self.hoist(brace, depth)
        self.emit(depth, header + " {", self.trailing(brace + 1 if brace is not None else None))
        self.block_start = True
        return outer

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
        if isinstance(d, ast.ImportDecl):
            self.hoist(_end(d), 0)
            self.emit(0, import_text(d), self.trailing(_end(d)))
        elif isinstance(d, ast.EnumDecl):
            self.listing(0, f"enum {d.name.name}", d.members, enum_member_text, d.span, spaced=True,
                         after=_end(d.name))
        elif isinstance(d, ast.SetDecl):
            prefix = f"set {d.name.name}: {type_text(d.type)} = "
            if isinstance(d.expr, ast.SetLiteral):
                self.hoist(_start(d.expr), 0)
                self.listing(0, prefix.rstrip(" "), d.expr.values, value_text, d.span, spaced=False,
                             after=_start(d.expr))
            else:
                self.flat(0, prefix + set_text(d.expr), d.span)
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

    def flat(self, depth: int, text: str, span) -> None:
        end = span.end if span is not None else None
        self.hoist(end, depth)
        self.emit(depth, text, self.trailing(end))

    def listing(self, depth: int, head: str, elements, show, span, *, spaced: bool, after: int | None) -> None:
        """`head {a, b}` on one line if it fits, else one element per line with trailing commas."""
        start, end = (span.start, span.end) if span is not None else (None, None)
        inner = ", ".join(show(e) for e in elements)
        one = f"{head} {{ {inner} }}" if spaced and elements else f"{head} {{{inner}}}"
        if not self.has_comments(start, end) and self.fits(depth, one):
            self.emit(depth, one, self.trailing(end))
            return
        outer = self.opening(depth, head, self._brace(after), end)
        for e in elements:
            self.leading(_start(e), depth + 1)
            self.hoist(_end(e), depth + 1)
            comma_end = _after_comma(self.text, _end(e))
            self.emit(depth + 1, show(e) + ",", self.trailing(comma_end))
        self.closing(end, depth, outer)

    def predicate(self, depth: int, prefix: str, pred, span) -> None:
        """`where P` / `segment s = P`: one line, or broken before each top-level `or`/`and`."""
        start, end = (span.start, span.end) if span is not None else (None, None)
        one = prefix + pred_text(pred)
        commented = self.has_comments(start, end)
        if not commented and self.fits(depth, one):
            self.emit(depth, one, self.trailing(end))
            return
        if isinstance(pred, (ast.OrPred, ast.AndPred)) and not self._comments_inside_operands(pred.operands):
            word = "or" if isinstance(pred, ast.OrPred) else "and"
            self.hoist(_start(pred), depth)  # comments between `where` and the predicate
            first, *rest = pred.operands
            self.emit(depth, prefix + pred_text(first), self.trailing(_end(first)))
            for operand in rest:
                self.leading(_start(operand), depth + 1, blanks=False)
                self.emit(depth + 1, f"{word} {pred_text(operand)}", self.trailing(_end(operand)))
            self.hoist(end, depth)  # nothing is left inside by construction; kept for safety
            return
        if isinstance(pred, ast.InSetPred) and isinstance(pred.target, ast.SetLiteral) and pred.target.values:
            head = prefix + f"{pred.field.name} {'not in' if pred.negated else 'in'}"
            self.hoist(_start(pred.target), depth)
            self.listing(depth, head, pred.target.values, value_text, pred.target.span, spaced=False,
                         after=_start(pred.target))
            return
        self.flat(depth, one, span)

    def _comments_inside_operands(self, operands) -> bool:
        last = _end(operands[-1])
        for c in self.comments[self.cursor:]:
            if last is None or c.span.start >= last:
                break
            for o in operands:
                if o.span is not None and o.span.start <= c.span.start < o.span.end:
                    return True
        return False

    def schema(self, d: ast.SchemaDecl) -> None:
        if not d.fields and not self.has_comments(_start(d), _end(d)):
            self.emit(0, f"schema {d.name.name} {{}}", self.trailing(_end(d)))
            return
        outer = self.opening(0, f"schema {d.name.name}", self._brace(_end(d.name)), _end(d))
        pad = max((len(f.name.name) + 1 for f in d.fields), default=0)
        for f in d.fields:
            self.leading(_start(f), 1)
            text = f"{f.name.name + ':':<{pad}} {type_text(f.type)}" + (" key" if f.key else "")
            self.flat(1, text, f.span)
        self.closing(_end(d), 0, outer)

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
        outer = self.opening(depth, header, self._brace(after), end)
        for item in items:
            self.leading(_start(item), depth + 1)
            self.item(depth + 1, item)
        self.closing(end, depth, outer)

    def item(self, depth: int, item) -> None:
        if isinstance(item, ast.TerritoryDecl):
            after = _end(item.title) if item.title is not None else _end(item.name)
            self.body(depth, _header("territory", item.name, item.title), item.items, item.span, after)
        elif isinstance(item, ast.WhereItem):
            self.predicate(depth, "where ", item.pred, item.span)
        elif isinstance(item, ast.MetaItem):
            self.listing(depth, "meta", item.entries, meta_entry_text, item.span, spaced=True,
                         after=_start(item))
        elif isinstance(item, ast.AccountItem):
            self.listing(depth, "account", item.entries, account_entry_text, item.span, spaced=True,
                         after=_start(item))
        else:
            self.flat(depth, item_text(item), item.span)


def _start(node) -> int | None:
    span = getattr(node, "span", None)
    return span.start if span is not None else None


def _end(node) -> int | None:
    span = getattr(node, "span", None)
    return span.end if span is not None else None


def _after_comma(text: str, end: int | None) -> int | None:
    """Just past the `,` that follows an element (if any), so `a,  # c` keeps `# c` on a's line."""
    if end is None:
        return None
    i = end
    while i < len(text) and text[i] in " \t":
        i += 1
    return i + 1 if i < len(text) and text[i] == "," else end


def _align_trailing_comments(lines: list[_Line | None]) -> None:
    """Trailing comments of consecutive lines at the same depth start in one column."""
    run: list[_Line] = []

    def flush() -> None:
        if len(run) > 1:
            column = max(len(line.code) for line in run)
            for line in run:
                line.code = line.code.ljust(column)
        run.clear()

    for line in lines:
        if line is not None and line.code and line.comment is not None and (not run or run[-1].depth == line.depth):
            run.append(line)
        else:
            flush()
            if line is not None and line.code and line.comment is not None:
                run.append(line)
    flush()
