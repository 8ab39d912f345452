"""Text -> AST: the Lark LALR parser, syntax diagnostics, doc-comment attachment.

`parse(source)` never raises for bad input: it returns `(module or None, diagnostics)`.
On a syntax error the file is cut at its top-level declarations and each piece is
parsed again on its own, so one run reports the first error of every broken
declaration rather than only the first of the file.
"""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal, InvalidOperation
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast
from .diagnostics import Diagnostic, Label, diag
from .resources import grammar_path
from .source import SourceFile, Span

MAX_FILE_CHARS = 8 * 1024 * 1024  # a 10,000-territory model is about 2 MB
MAX_NESTING = 100  # parentheses and braces; keeps every recursive pass far from Python's stack limit
MAX_ERRORS_PER_FILE = 25

# Words that can never name anything. Others (`first`, `all`, `string`, ...) are
# keywords only where the grammar expects them.
RESERVED = frozenset("""
    import as enum set segment schema model territory where else policy keep owner meta test
    account expect and or not in is null true false startswith for effective status key
""".split())

_SUFFIX = {"K": Decimal(1_000), "M": Decimal(1_000_000), "B": Decimal(1_000_000_000)}
_TOP_LEVEL = re.compile(r"^(?:import|enum|set|segment|schema|model|test)\b", re.M)

_TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string", "NUMBER": "a number", "DATE": "a date (YYYY-MM-DD)",
    "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`", "RPAR": "`)`", "COMMA": "`,`", "COLON": "`:`",
    "DOT": "`.`", "EQUAL": "`=`", "CMP_OP": "a comparison (`==`, `<`, ...)", "SET_OP": "`+` or `-`",
    "OPTIONAL": "`?`", "POLICY": "`unique`, `first` or `all`", "STATUS": "`planning`, `active` or `archived`",
    "BASE_TYPE": "a type", "$END": "the end of the file", "__ANON_0": "`..`",
}


class _CommentSink:
    """Lark calls the lexer callback for every comment; the current parse collects them."""

    def __init__(self) -> None:
        self.comments: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.comments.append(token)
        return token


_SINK = _CommentSink()


@cache
def _lark() -> Lark:
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                propagate_positions=True, maybe_placeholders=False,
                lexer_callbacks={"COMMENT": _SINK})


def read_source(path, display: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read a file as UTF-8; unreadable, binary or oversized files become diagnostics."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, [diag("E001", f"cannot read `{display}`: {reason.lower()}", None, notes=[f"file: {display}"])]
    if len(data) > MAX_FILE_CHARS:
        src = SourceFile(display, "")
        return None, [diag("E008", f"`{display}` is {len(data):,} bytes; terrl reads files up to {MAX_FILE_CHARS:,} bytes",
                           src.span(0, 0), help="split the rules into several files joined by `import`")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8", errors="replace")
        src = SourceFile(display, prefix)
        return None, [diag("E002", f"`{display}` is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded",
                           src.span(len(prefix), len(prefix)), help="save the file as UTF-8")]
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM is harmless; editors on Windows add one
    return SourceFile(display, text), []


def parse(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    text = source.text
    if len(text) > MAX_FILE_CHARS:
        return None, [diag("E008", f"the file holds {len(text):,} characters; terrl reads files up to {MAX_FILE_CHARS:,}",
                           source.span(0, 0), help="split the rules into several files joined by `import`")]
    problem = _check_nesting(source)
    if problem:
        return None, [problem]
    if "\x00" in text:
        at = text.index("\x00")
        return None, [diag("E003", "unexpected NUL character: this looks like a binary file, not a `.terr` file",
                           source.span(at, at + 1))]
    try:
        tree, comments = _parse_text(text)
    except UnexpectedInput:
        return None, _collect_syntax_errors(source)
    diagnostics: list[Diagnostic] = []
    try:
        module = _Lower(source, comments, diagnostics).transform(tree)
    except VisitError as exc:  # a literal the lowering rejected
        if isinstance(exc.orig_exc, _LiteralError):
            return None, [exc.orig_exc.diagnostic]
        raise
    if not module.decls and not diagnostics:
        diagnostics.append(diag("E007", "this file holds no declarations", source.span(0, 0),
                                help="a `.terr` file declares a `schema`, `model`s, `segment`s, `set`s, `enum`s or `test`s"))
    return module, diagnostics


def _parse_text(text: str):
    _SINK.comments = []
    tree = _lark().parse(text)
    comments = _SINK.comments
    _SINK.comments = []
    return tree, comments


def _check_nesting(source: SourceFile) -> Diagnostic | None:
    """Reject absurd nesting before the parser builds a tree as deep as the text."""
    depth = 0
    opened: list[int] = []
    text = source.text
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "({":
            depth += 1
            opened.append(i)
            if depth > MAX_NESTING:
                return diag("E005", f"nesting is deeper than {MAX_NESTING} levels", source.span(i, i + 1),
                            help="name parts of the predicate with `segment` declarations to flatten it")
        elif c in ")}":
            depth = max(0, depth - 1)
            if opened:
                opened.pop()
        i += 1
    return None


def _collect_syntax_errors(source: SourceFile) -> list[Diagnostic]:
    text = source.text
    starts = [m.start() for m in _TOP_LEVEL.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    out: list[Diagnostic] = []
    for a, b in zip(starts, starts[1:]):
        if len(out) >= MAX_ERRORS_PER_FILE:
            break
        # Blank out the rest of the file (keeping newlines) so offsets stay exact.
        piece = _blank(text[:a]) + text[a:b] + _blank(text[b:])
        try:
            _parse_text(piece)
        except UnexpectedInput as exc:
            out.append(_syntax_diagnostic(source, exc, eof=len(text[:b].rstrip())))
    if not out:  # the pieces parse alone but not together; report the whole-file error
        try:
            _parse_text(text)
        except UnexpectedInput as exc:
            out.append(_syntax_diagnostic(source, exc))
    return out


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _describe_expected(expected) -> str:
    names = sorted({_TOKEN_NAMES.get(t, f"`{t.lower()}`") for t in expected if not t.startswith("__ANON") or t in _TOKEN_NAMES})
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) > 8:  # long lists help nobody; keep the ones that start the likely next item
        preferred = [n for n in names if n in ("`}`", "`)`", "`where`", "`territory`", "a name", "a comparison (`==`, `<`, ...)", "`and`", "`or`")]
        names = (preferred or names[:8]) + ["..."]
        return ", ".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _syntax_diagnostic(source: SourceFile, exc: UnexpectedInput, eof: int | None = None) -> Diagnostic:
    text = source.text
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = text[pos] if pos < len(text) else ""
        if ch == '"':
            return diag("E004", "this string is not closed before the end of the line", source.span(pos, pos + 1),
                        help='close it with `"`; strings cannot span lines')
        shown = f"`{ch}`" if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
        expected = _describe_expected(exc.allowed or ())
        return diag("E003", f"unexpected character {shown}", source.span(pos, pos + 1),
                    help=f"expected {expected}" if expected else None)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        opener = _unclosed_opener(text[:eof] if eof is not None else text)
        end = len(text.rstrip()) if eof is None else eof
        if opener is not None:
            closer = {"{": "}", "(": ")"}[text[opener]]
            return diag("E004", f"unexpected end of file: `{text[opener]}` is not closed", source.span(end, end),
                        labels=[Label(source.span(opener, opener + 1), "opened here")],
                        help=f"add `{closer}` to close it")
        expected = _describe_expected(getattr(exc, "expected", ()) or ())
        message = "unexpected end of file" if end >= len(text.rstrip()) else "this declaration ends too early"
        return diag("E004", message, source.span(end, end),
                    help=f"expected {expected}" if expected else None)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    start = tok.start_pos if tok.start_pos is not None else len(text)
    end = tok.end_pos if tok.end_pos is not None else start
    expected_set = set(exc.expected or ())
    value = str(tok)
    if value in RESERVED and "NAME" in expected_set:
        return diag("E009", f"`{value}` is a keyword and cannot be used as a name", source.span(start, end),
                    help=f"choose another name, e.g. `{value}_`")
    expected = _describe_expected(expected_set)
    message = f"unexpected `{value}`" if value else "unexpected input"
    if value == "=" and "CMP_OP" in expected_set:
        return diag("E003", "unexpected `=`", source.span(start, end), help="write `==` to compare a field with a value")
    return diag("E003", message, source.span(start, end), help=f"expected {expected}" if expected else None)


def _unclosed_opener(text: str) -> int | None:
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "({":
            stack.append(i)
        elif c in ")}" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


# --- lowering: Lark tree -> terrl.ast ------------------------------------------------

class _LiteralError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _doc_blocks(source: SourceFile, comments: list[Token]) -> dict[int, str]:
    """Map the offset of the first token after each `##` block to the block's text."""
    text = source.text
    docs: dict[int, str] = {}
    block: list[str] = []
    last_end = -1
    for tok in comments:
        line_start = text.rfind("\n", 0, tok.start_pos) + 1
        own_line = text[line_start:tok.start_pos].strip() == ""
        if not (str(tok).startswith("##") and own_line):
            continue
        if block and text[last_end:tok.start_pos].count("\n") > 1:
            block = []  # a blank line ends a block
        block.append(re.sub(r"^## ?", "", str(tok)).rstrip())
        last_end = tok.end_pos
        # Where does the next non-blank, non-comment text start?
        m = re.compile(r"\s*").match(text, last_end)
        nxt = m.end() if m else last_end
        if nxt < len(text) and text[nxt] != "#":
            docs[nxt] = "\n".join(block)
            block = []
    return docs


@v_args(meta=True)
class _Lower(Transformer):
    def __init__(self, source: SourceFile, comments: list[Token], diagnostics: list[Diagnostic]) -> None:
        super().__init__()
        self.source = source
        self.diagnostics = diagnostics
        self.comments = tuple(ast.Comment(str(t), source.span(t.start_pos, t.end_pos)) for t in comments)
        self.docs = _doc_blocks(source, comments)

    # helpers
    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return self.source.span(meta.start_pos, meta.end_pos)

    def _tspan(self, tok: Token) -> Span:
        return self.source.span(tok.start_pos, tok.end_pos)

    def _ident(self, tok: Token, *, declares: bool = False) -> ast.Ident:
        name = str(tok)
        if declares and name in RESERVED:
            self.diagnostics.append(diag("E009", f"`{name}` is a keyword and cannot be used as a name", self._tspan(tok),
                                         help=f"choose another name, e.g. `{name}_`"))
        return ast.Ident(name, self._tspan(tok))

    def _doc(self, meta) -> str | None:
        return None if getattr(meta, "empty", True) else self.docs.get(meta.start_pos)

    def _string(self, tok: Token) -> ast.StringLit:
        try:
            value = json.loads(str(tok))
        except ValueError:
            raise _LiteralError(diag("E006", "this string has an invalid escape sequence", self._tspan(tok),
                                     help=r'escapes are `\"`, `\\`, `\n`, `\t` and `\uXXXX`'))
        return ast.StringLit(value, self._tspan(tok))

    def _number(self, tok: Token) -> ast.NumberLit:
        text = str(tok)
        digits = text.replace("_", "")
        factor = Decimal(1)
        if digits[-1] in _SUFFIX:
            factor = _SUFFIX[digits[-1]]
            digits = digits[:-1]
        try:
            value = Decimal(digits) * factor
        except InvalidOperation:  # pragma: no cover - the token pattern admits only valid numbers
            raise _LiteralError(diag("E006", f"`{text}` is not a number", self._tspan(tok)))
        return ast.NumberLit(value, text, self._tspan(tok))

    def _date(self, tok: Token) -> ast.DateLit:
        try:
            return ast.DateLit(datetime.date.fromisoformat(str(tok)), self._tspan(tok))
        except ValueError:
            raise _LiteralError(diag("E006", f"`{tok}` is not a valid date", self._tspan(tok),
                                     help="dates are written YYYY-MM-DD, e.g. `2027-02-01`"))

    # file
    def start(self, meta, children):
        doc = None
        decls = list(children)
        if decls and isinstance(decls[0], ast.ImportDecl) and decls[0].doc:
            doc = decls[0].doc
        return ast.Module(tuple(decls), doc, self.comments, self._span(meta))

    def dotted_name(self, meta, children):
        return ast.QualName(tuple(self._ident(t) for t in children), self._span(meta))

    def import_decl(self, meta, children):
        module = path = alias = None
        for c in children:
            if isinstance(c, ast.QualName):
                module = c
            elif isinstance(c, Token) and c.type == "STRING":
                path = self._string(c)
            elif isinstance(c, Token) and c.type == "NAME":
                alias = self._ident(c, declares=True)
        return ast.ImportDecl(module, path, alias, self._span(meta), self._doc(meta))

    # enums and sets
    def enum_member(self, meta, children):
        title = self._string(children[1]) if len(children) > 1 else None
        return ast.EnumMember(self._ident(children[0], declares=True), title, self._span(meta))

    def enum_body(self, meta, children):
        return tuple(children)

    def enum_decl(self, meta, children):
        return ast.EnumDecl(self._ident(children[0], declares=True), children[1], self._span(meta), self._doc(meta))

    def set_decl(self, meta, children):
        name, type_, expr = children
        return ast.SetDecl(self._ident(name, declares=True), type_, expr, self._span(meta), self._doc(meta))

    def set_expr(self, meta, children):
        result = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            span = result.span.to(right.span) if result.span and right.span else None
            result = ast.SetOp(str(op), result, right, span)
        if len(children) == 1 and meta is not None:
            return result
        return result

    def set_ref(self, meta, children):
        return ast.SetRef(children[0], self._span(meta))

    def set_literal(self, meta, children):
        return ast.SetLiteral(tuple(children), self._span(meta))

    # values
    def number(self, meta, children):
        return self._number(children[0])

    def string(self, meta, children):
        return self._string(children[0])

    def true(self, meta, children):
        return ast.BoolLit(True, self._tspan(children[0]))

    def false(self, meta, children):
        return ast.BoolLit(False, self._tspan(children[0]))

    def null(self, meta, children):
        return ast.NullLit(self._tspan(children[0]))

    def member(self, meta, children):
        return ast.MemberLit(str(children[0]), self._tspan(children[0]))

    def range(self, meta, children):
        lo = hi = None
        # children: [lo?, hi?] but we need to know which side a single value is on.
        values = [c for c in children if isinstance(c, (ast.NumberLit, ast.StringLit))]
        if len(values) == 2:
            lo, hi = values
        elif len(values) == 1:
            text = self.source.text
            dots = text.find("..", meta.start_pos, meta.end_pos)
            if values[0].span.start < dots:
                lo = values[0]
            else:
                hi = values[0]
        return ast.RangeExpr(lo, hi, self._span(meta))

    # types
    def simple_type(self, meta, children):
        return ast.SimpleType(str(children[0]), self._span(meta))

    def digits_type(self, meta, children):
        return ast.DigitsType(self._number(children[0]), self._span(meta))

    def inline_enum(self, meta, children):
        return ast.InlineEnum(children[0], self._span(meta))

    def named_type(self, meta, children):
        name: ast.QualName = children[0]
        if len(name.parts) == 1 and name.parts[0].name in ("bool", "int", "decimal", "string"):
            return ast.SimpleType(name.parts[0].name, name.span)
        return ast.NamedType(name, self._span(meta))

    def type_bounds(self, meta, children):
        return children[0]

    def type_expr(self, meta, children):
        base = children[0]
        optional = any(isinstance(c, Token) and c.type == "OPTIONAL" for c in children)
        bounds = next((c for c in children if isinstance(c, ast.RangeExpr)), None)
        return ast.TypeExpr(base, optional, bounds, self._span(meta))

    def field_decl(self, meta, children):
        key = any(isinstance(c, Token) and c.type == "KEY" for c in children)
        return ast.FieldDecl(self._ident(children[0], declares=True), children[1], key, self._span(meta), self._doc(meta))

    def schema_decl(self, meta, children):
        return ast.SchemaDecl(self._ident(children[0], declares=True), tuple(children[1:]), self._span(meta), self._doc(meta))

    def segment_decl(self, meta, children):
        return ast.SegmentDecl(self._ident(children[0], declares=True), children[1], self._span(meta), self._doc(meta))

    # predicates
    def or_pred(self, meta, children):
        return children[0] if len(children) == 1 else ast.OrPred(tuple(children), self._span(meta))

    def and_pred(self, meta, children):
        return children[0] if len(children) == 1 else ast.AndPred(tuple(children), self._span(meta))

    def not_pred(self, meta, children):
        *nots, result = children
        if len(nots) > MAX_NESTING:
            raise _LiteralError(diag("E005", f"more than {MAX_NESTING} `not`s in a row", self._tspan(nots[MAX_NESTING]),
                                     help="two `not`s cancel out; remove them in pairs"))
        for tok in reversed(nots):
            span = self.source.span(tok.start_pos, result.span.end) if result.span else None
            result = ast.NotPred(result, span)
        return result

    def paren(self, meta, children):
        return ast.ParenPred(children[0], self._span(meta))

    def comparison(self, meta, children):
        field, op, value = children
        return ast.Comparison(self._ident(field), str(op), value, self._span(meta))

    def in_set(self, meta, children):
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        return ast.InSetPred(self._ident(children[0]), negated, children[-1], self._span(meta))

    def in_range(self, meta, children):
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        return ast.InRangePred(self._ident(children[0]), negated, children[-1], self._span(meta))

    def starts_with(self, meta, children):
        return ast.StartsWithPred(self._ident(children[0]), self._string(children[1]), self._span(meta))

    def is_null(self, meta, children):
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        return ast.NullPred(self._ident(children[0]), negated, self._span(meta))

    def bool_pred(self, meta, children):
        return ast.BoolPred(str(children[0]) == "true", self._span(meta))

    def segment_ref(self, meta, children):
        return ast.SegmentRef(children[0], self._span(meta))

    # models and territories
    def where_item(self, meta, children):
        return ast.WhereItem(children[0], self._span(meta))

    def else_item(self, meta, children):
        return ast.ElseItem(self._span(meta))

    def policy_item(self, meta, children):
        return ast.PolicyItem(str(children[0]), self._span(meta))

    def keep_item(self, meta, children):
        return ast.KeepItem(self._span(meta))

    def owner_item(self, meta, children):
        role = self._ident(children[1]) if len(children) > 1 else None
        return ast.OwnerItem(self._string(children[0]), role, self._span(meta))

    def meta_entry(self, meta, children):
        key, value = children
        if isinstance(value, Token) and value.type == "DATE":
            value = self._date(value)
        return ast.MetaEntry(self._ident(key), value, self._span(meta))

    def meta_item(self, meta, children):
        return ast.MetaItem(tuple(children), self._span(meta))

    def effective_item(self, meta, children):
        return ast.EffectiveItem(self._date(children[0]), self._span(meta))

    def status_item(self, meta, children):
        return ast.StatusItem(str(children[0]), self._span(meta))

    def _decl_head(self, children):
        name = self._ident(children[0], declares=True)
        rest = list(children[1:])
        title = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            title = self._string(rest.pop(0))
        return name, title, rest

    def territory_decl(self, meta, children):
        name, title, items = self._decl_head(children)
        return ast.TerritoryDecl(name, title, tuple(items), self._span(meta), self._doc(meta))

    def model_decl(self, meta, children):
        name, title, items = self._decl_head(children)
        schema = None
        if items and isinstance(items[0], ast.QualName):
            schema = items.pop(0)
        return ast.ModelDecl(name, title, schema, tuple(items), self._span(meta), self._doc(meta))

    # tests
    def account_entry(self, meta, children):
        return ast.AccountEntry(self._ident(children[0]), children[1], self._span(meta))

    def account_item(self, meta, children):
        return ast.AccountItem(tuple(children), self._span(meta))

    def expect_item(self, meta, children):
        model, outcome = children
        if isinstance(outcome, Token):
            outcome = str(outcome)
        return ast.ExpectItem(self._ident(model), outcome, self._span(meta))

    def test_decl(self, meta, children):
        return ast.TestDecl(self._string(children[0]), tuple(children[1:]), self._span(meta), self._doc(meta))
