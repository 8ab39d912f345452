"""Text -> AST: the Lark LALR parser, syntax diagnostics, doc-comment attachment.

`parse(source)` never raises for bad input: it returns `(module or None, diagnostics)`.
On a syntax error the file is cut at its top-level declarations and each piece is
parsed again on its own, so one run reports the first error of every broken
declaration rather than only the first of the file.
"""

from __future__ import annotations

import bisect
import datetime
import json
import re
import stat
import threading
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation, localcontext
from functools import cache, partial

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from terrl.syntax import ast
from terrl.diagnostics.core import Diagnostic, Label, diag
from terrl.gcpause import paused_gc
from terrl.resources import grammar_path
from terrl.diagnostics.source import SourceFile, Span

MAX_NUMBER_DIGITS = 36  # digits in a number literal: SQL targets hold DECIMAL(38) with room to round
MAX_FILE_CHARS = 8 * 1024 * 1024  # a 10,000-territory model is about 2 MB
# Parentheses and braces in the text, and the levels of one expression (each `(`, `not` and
# set `+`/`-` inside another): keeps every recursive pass far from Python's stack limit.
MAX_NESTING = 100
MAX_ERRORS_PER_FILE = 25

# Words that can never name anything. Others (`first`, `all`, `string`, ...) are
# keywords only where the grammar expects them.
RESERVED = frozenset("""
    import as enum set segment schema model territory where else policy keep owner meta test
    account expect and or not in is null true false startswith for effective status key of
""".split())

_MISPLACED_UNDERSCORE = re.compile(r"_(?![0-9])|(?<![0-9])_")
_SUFFIX = {"K": Decimal(1_000), "M": Decimal(1_000_000), "B": Decimal(1_000_000_000)}
_TOP_LEVEL = re.compile(r"^(?:import|enum|set|segment|schema|model|test)\b", re.M)
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone halves of UTF-16 pairs (json.loads leaves them)
# No escapes, nothing json.loads refuses, no surrogate: the text between the quotes is the value.
_PLAIN_STRING = re.compile('"[^"\\\\\x00-\x1f\ud800-\udfff]*"')

_TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string", "NUMBER": "a number", "DATE": "a date (YYYY-MM-DD)",
    "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`", "RPAR": "`)`", "COMMA": "`,`", "COLON": "`:`",
    "DOT": "`.`", "EQUAL": "`=`", "CMP_OP": "a comparison (`==`, `<`, ...)", "SET_OP": "`+` or `-`",
    "OPTIONAL": "`?`", "POLICY": "`unique`, `first` or `all`", "STATUS": "`planning`, `active` or `archived`",
    "BASE_TYPE": "a type", "$END": "the end of the file", "__ANON_0": "`..`",
}


# Parsing is re-entrant: everything one parse changes lives in its own `_Lower` (source,
# diagnostics, comments, doc blocks), passed along explicitly on the fast path. Lark's
# lexer callback is fixed when the grammar is built, so on Lark's path the comments of
# the running parse are reached through a context variable (one per thread).
_LARK_COMMENTS: ContextVar[list | None] = ContextVar("terrl_lark_comments", default=None)
_BUILD_LOCK = threading.Lock()


def _comment_sink(token: Token) -> Token:
    """Lark calls this lexer callback for every comment; the running Lark parse collects them."""
    comments = _LARK_COMMENTS.get()
    if comments is not None:
        comments.append(token)
    return token


@cache
def _lark() -> Lark:
    # Spans come from the kept tokens rather than Lark's propagate_positions. The fast
    # driver runs the lowering inside its LALR loop; Lark's own path (errors, reference)
    # builds a tree and lowers it afterwards with a per-parse `_Lower`.
    with _BUILD_LOCK:  # one build (and one write of the grammar cache) even when threads race
        grammar = grammar_path().read_text(encoding="utf-8")
        options = dict(parser="lalr", lexer="contextual", maybe_placeholders=False,
                       lexer_callbacks={"COMMENT": _comment_sink})
        return Lark(grammar, cache=_grammar_cache_file(grammar), **options)


def _grammar_cache_file(grammar: str) -> str | bool:
    """Lark's analysed grammar, cached per user (not in a shared /tmp: the cache is a pickle).

    Building the LALR tables takes ~0.4 s, more than checking a typical file.
    """
    import hashlib
    import os
    from pathlib import Path

    import lark

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "terrl"
    key = hashlib.sha256(f"{lark.__version__}\n{grammar}".encode()).hexdigest()[:16]
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = base / ".writable"
        probe.touch()
    except OSError:
        return False
    return str(base / f"grammar-{key}.lark-cache")


def read_source(path, display: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read a file as UTF-8; unreadable, binary or oversized files become diagnostics."""
    try:
        # A FIFO or device named `x.terr` would block the read (or never end): only regular files,
        # checked before opening (opening a FIFO waits for a writer), and read no further than the limit.
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None, [diag("E001", f"cannot read `{display}`: not a regular file", None, notes=[f"file: {display}"])]
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_CHARS + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, [diag("E001", f"cannot read `{display}`: {reason.lower()}", None, notes=[f"file: {display}"])]
    if len(data) > MAX_FILE_CHARS:
        src = SourceFile(display, "")
        return None, [diag("E008", f"`{display}` is {max(len(data), info.st_size):,} bytes; terrl reads files up to {MAX_FILE_CHARS:,} bytes",
                           src.span(0, 0), help="split the rules into several files joined by `import`")]
    return decode_source(data, display)


def decode_source(data: bytes, display: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """The bytes of a file (or of standard input) as UTF-8 text; not UTF-8 is E002 at the byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        # the rest of that line with the bad bytes shown as U+FFFD, so the report shows the whole line
        end = data.find(b"\n", exc.start)
        rest = data[exc.start: len(data) if end < 0 else end].decode("utf-8", errors="replace")
        src = SourceFile(display, prefix + rest)
        return None, [diag("E002", f"`{display}` is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded",
                           src.span(len(prefix), len(prefix) + 1), help="save the file as UTF-8")]
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
    diagnostics: list[Diagnostic] = []
    # A parse allocates many small objects and frees almost none: the cyclic collector's passes
    # over them were half the time of a 10,000-territory file (0.65 s instead of 1.4 s without).
    with paused_gc():
        try:
            module = _parse_text(source, diagnostics)
        except UnexpectedInput:
            return None, _collect_syntax_errors(source)
        except _LiteralError as exc:  # a literal the lowering rejected
            return None, [exc.diagnostic]
    if not module.decls and not diagnostics:
        diagnostics.append(diag("E007", "this file holds no declarations", source.span(0, 0),
                                help="a `.terr` file declares a `schema`, `model`s, `segment`s, `set`s, `enum`s or `test`s"))
    return module, diagnostics


def _parse_text(source: SourceFile, diagnostics: list[Diagnostic]):
    """Parse with the fast driver; on any syntax error, again with Lark's parser for its exceptions."""
    try:
        return _fast_parse(_Lower(source, diagnostics), source.text)
    except _Fallback:
        pass
    return _lark_parse(_Lower(source, diagnostics), source.text)


def _lark_parse(lower: "_Lower", text: str):
    """Lark's own LALR loop: the reference the fast driver must agree with, and the error path."""
    comments: list = []
    token = _LARK_COMMENTS.set(comments)
    try:
        tree = _lark().parse(text)
    finally:
        _LARK_COMMENTS.reset(token)
    lower.comments_tokens = comments
    try:
        return lower.transform(tree)
    except VisitError as exc:  # Lark wraps what a rule raised
        raise exc.orig_exc from None


# --- the fast driver: Lark's own tables, a leaner loop ----------------------------------
#
# Lark builds the LALR(1) tables and the contextual lexer's per-state regexes from
# grammar/terr.lark; this loop runs them with cheap tokens and calls the same lowering
# methods, following Lark's tree-building rules (`_rule` inlined, `?rule` with one child
# replaced by it, anonymous tokens filtered out). It gives up on the first thing it does
# not expect (`_Fallback`), and the file is parsed again by Lark itself, so every syntax
# error is Lark's. tests/test_parser_fast.py checks both give the same AST, spans included.

class _Fallback(Exception):
    pass


class _Tok:
    """A token of the fast driver: what the lowering reads from Lark's `Token`, without its cost."""

    __slots__ = ("type", "value", "start_pos", "end_pos")

    def __init__(self, type_: str, value: str, start_pos: int, end_pos: int) -> None:
        self.type = type_
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"_Tok({self.type!r}, {self.value!r})"


_TOKENS = (Token, _Tok)


# Frozen dataclasses set each field through object.__setattr__; setting the slots directly
# builds the same object in half the time (a parse makes one Span per token). Only for
# classes without __post_init__ (tests/test_parser_fast.py checks both ways agree).
def _slot_setters(cls, *names):
    return tuple(getattr(cls, name).__set__ for name in names)


_new = object.__new__
_SPAN_FILE, _SPAN_START, _SPAN_END = _slot_setters(Span, "file", "start", "end")
_STRING_VALUE, _STRING_SPAN = _slot_setters(ast.StringLit, "value", "span")
_MEMBER_NAME, _MEMBER_SPAN = _slot_setters(ast.MemberLit, "name", "span")
_IDENT_NAME, _IDENT_SPAN = _slot_setters(ast.Ident, "name", "span")


def _make_span(source: SourceFile, start: int, end: int) -> Span:
    span = _new(Span)
    _SPAN_FILE(span, source)
    _SPAN_START(span, start)
    _SPAN_END(span, end)
    return span


def _string_lit(value: str, span: Span) -> ast.StringLit:
    lit = _new(ast.StringLit)
    _STRING_VALUE(lit, value)
    _STRING_SPAN(lit, span)
    return lit


def _make_ident(name: str, span: Span) -> ast.Ident:
    ident = _new(ast.Ident)
    _IDENT_NAME(ident, name)
    _IDENT_SPAN(ident, span)
    return ident


def _member_lit(name: str, span: Span) -> ast.MemberLit:
    lit = _new(ast.MemberLit)
    _MEMBER_NAME(lit, name)
    _MEMBER_SPAN(lit, span)
    return lit


_WS_PATTERN = "(?:[ \t\x0c\r\n])+"  # the grammar's ignored WS (lark's common.WS), as Lark writes it
_SET_LITERAL = 2  # a shift action (truthy) on the `{` of a set literal: try `_lower_set_literal` first


class _Tables:
    """Lark's analysed grammar rearranged for `_fast_parse`."""

    def __init__(self, lark: Lark) -> None:
        table = lark.parser.parser.parser.parse_table
        self.start_state = table.start_states["start"]
        self.end_state = table.end_states["start"]
        plans: dict = {}
        self.actions: dict = {}  # state -> terminal -> (True, next state) | (False, reduction)
        self.goto: dict = {}  # state -> rule name -> next state
        for state, row in table.states.items():
            actions, goto = {}, {}
            for symbol, (action, arg) in row.items():
                shift = action.name == "Shift"
                if symbol.isupper() or symbol.startswith("$"):
                    if shift:
                        actions[symbol] = (True, arg)
                    else:
                        plan = plans.get(arg) or plans.setdefault(arg, self._plan(arg))
                        size, origin, include, expand1, _ = plan
                        # `?rule: one_child`: the child stands for the rule; only the state changes
                        actions[symbol] = (None, origin) if size == 1 and include is None and expand1 else (False, plan)
                else:
                    goto[symbol] = arg
            self.actions[state], self.goto[state] = actions, goto
        built: dict[int, tuple] = {}  # Lark shares one lexer among the states that accept the same terminals
        self.lexers = _Lexers({state: built.get(id(lexer)) or built.setdefault(id(lexer), self._lexer(lexer))
                               for state, lexer in lark.parser.lexer.lexers.items()})
        # Words some state's lexer turns from NAME into a keyword; a list holding one is left to the loop.
        self.keywords = frozenset(word for *_, retype in self.lexers.specs.values() for words in retype.values()
                                  for word in words)
        self.after_set_literal = self._mark_set_literals()

    def _mark_set_literals(self) -> dict:
        """Mark the `{` that opens a set literal (action `_SET_LITERAL`) so that the driver can
        lower a list of plain values in one step; the state after its `}` is returned per
        opening state. Only where the tables say what the shortcut assumes: after `}` the one
        thing to do is reduce `set_literal`, with the `set_literal` handler."""
        after: dict = {}
        for state, goto in self.goto.items():
            if "set_literal" not in goto or not self.actions[state].get("LBRACE", (False,))[0]:
                continue
            opened = self.actions[state]["LBRACE"][1]
            close = self.actions[opened].get("RBRACE")
            if close is None or not close[0]:
                continue
            reductions = self.actions[close[1]].values()
            if reductions and all(shift is False and plan[1] == "set_literal" and plan[4] is _Lower.set_literal
                                  for shift, plan in reductions):
                self.actions[state]["LBRACE"] = (_SET_LITERAL, opened)
                after[opened] = close[1]
        return after

    @staticmethod
    def _plan(rule) -> tuple:
        """(size, rule name, which children to keep and which to splice, single-child shortcut, handler)."""
        expansion = rule.expansion
        keep_all = rule.options.keep_all_tokens
        include = tuple((i, not sym.is_term and sym.name.startswith("_")) for i, sym in enumerate(expansion)
                        if keep_all or not (sym.is_term and sym.filter_out))
        needs_filter = len(include) < len(expansion) or any(splice for _, splice in include)
        name = rule.alias or rule.options.template_source or rule.origin.name
        inline = rule.origin.name.startswith("_")
        if inline:
            handler = None
        else:
            # unbound: the driver passes the parse's own `_Lower`
            handler = getattr(_Lower, name, None) or partial(_tree, name)  # as Lark does (`?rule`s)
        expand1 = bool(rule.options.expand1 and not rule.alias)
        return len(expansion), rule.origin.name, include if needs_filter else None, expand1, handler

    @staticmethod
    def _lexer(basic) -> tuple:
        """(match, ignored types, retype) of one state's contextual lexer.

        `match` is Lark's own alternation of the state's terminals, in Lark's order, behind
        an optional run of whitespace: one regex call per token instead of one per token and
        one per blank between. Only whitespace can start with a blank (checked), so taking it
        first changes nothing; the token is the named group that matched.
        """
        scanner = basic.scanner  # builds `basic.callback` too
        retype: dict[str, dict[str, str]] = {}
        for type_, callback in basic.callback.items():
            if type_ == "COMMENT" and callback is _comment_sink:
                continue
            strings = getattr(callback, "scanner", None)
            if strings is None or any(t.pattern.flags or t.pattern.type != "str" for t in strings.terminals):
                raise _Fallback(f"unexpected lexer callback on {type_}")
            retype[type_] = {t.pattern.value: t.name for t in strings.terminals}
        mres = list(scanner._mres)
        if len({m.flags for m in mres}) != 1:
            raise _Fallback("lexer patterns with different flags")
        alternation = "|".join(m.pattern for m in mres)
        ws = [t for t in basic.terminals if t.name == "WS"]
        if ws and "WS" in basic.ignore_types:
            if ws[0].pattern.to_regexp() != _WS_PATTERN:
                raise _Fallback(f"unexpected whitespace terminal {ws[0].pattern.to_regexp()!r}")
            for t in basic.terminals:  # no other terminal may begin with a blank (a sanity check on samples)
                if t.name != "WS" and _starts_with_blank(t.pattern.to_regexp()):
                    raise _Fallback(f"terminal {t.name} can start with a blank")
            alternation = f"(?:{_WS_PATTERN})?(?:{alternation})"
        return alternation, mres[0].flags, basic.ignore_types, retype


class _Lexers(dict):
    """state -> (match, ignored types, retype); each state's regex is compiled when a parse
    first reaches it (compiling all 79 took longer than parsing a typical file)."""

    def __init__(self, specs: dict) -> None:
        super().__init__()
        self.specs = specs

    def __missing__(self, state):
        alternation, flags, ignore, retype = self.specs[state]
        return self.setdefault(state, (_compiled(alternation, flags).match, ignore, retype))


@cache
def _compiled(pattern: str, flags: int) -> re.Pattern:
    return re.compile(pattern, flags)


@cache
def _starts_with_blank(pattern: str) -> bool:
    match = re.compile(pattern).match
    return any(match(blank + tail) for blank in " \t\f\r\n" for tail in ("", "a", "0", '"', "#", " a"))


@cache
def _tables_built() -> tuple[_Tables | None, str | None]:
    """The fast driver's tables, or why this Lark's internals could not be read.

    The driver reads Lark internals (`parse_table`, `scanner._mres`, lexer callbacks); the
    `lark` pin in pyproject.toml is the range it was tested with. A Lark arranged otherwise
    is not parsed wrongly: every parse goes through Lark's own loop (correct, slower), and
    tests/test_parser_fast.py::test_the_fast_driver_is_used fails with this reason.
    """
    try:
        return _Tables(_lark()), None
    except (_Fallback, AttributeError, KeyError, TypeError, ValueError) as exc:
        import lark
        return None, f"lark {lark.__version__}: {type(exc).__name__}: {exc}"


def _tables() -> _Tables | None:
    return _tables_built()[0]


def _tree(name: str, _lower, children: list) -> Tree:
    return Tree(name, children)


def _fast_parse(lower: "_Lower", text: str):
    tables = _tables()
    if tables is None:
        raise _Fallback
    actions, goto, lexers, end_state = tables.actions, tables.goto, tables.lexers, tables.end_state
    after_set_literal, keywords = tables.after_set_literal, tables.keywords
    state_stack = [tables.start_state]
    value_stack: list = []
    pos, n = 0, len(text)
    comments = lower.comments_tokens
    lex_state = None  # after a set literal lowered in one step: the state Lark would lex the next token in
    while True:
        match, ignore, retype = lexers[state_stack[-1] if lex_state is None else lex_state]
        token = None
        while pos < n:
            m = match(text, pos)
            if m is None:
                raise _Fallback
            type_ = m.lastgroup
            end = m.end()
            if type_ in ignore:
                if type_ == "COMMENT":
                    value = m.group(type_)
                    comments.append(_Tok(type_, value, end - len(value), end))
                pos = end
                continue
            value = m.group(type_)
            if type_ in retype:
                type_ = retype[type_].get(value, type_)
            token = _Tok(type_, value, end - len(value), end)
            pos = end
            break
        type_ = "$END" if token is None else token.type
        if lex_state is not None:
            # Lark would reduce `set_literal` on this lookahead only if the state after `}` takes it
            if type_ not in actions[lex_state]:
                raise _Fallback
            lex_state = None
        while True:
            try:
                shift, arg = actions[state_stack[-1]][type_]
            except KeyError:
                raise _Fallback from None
            if shift:
                if token is None:
                    raise _Fallback
                if shift is _SET_LITERAL:
                    lowered = _lower_set_literal(lower, text, token, keywords)
                    if lowered is not None:
                        value, pos = lowered
                        lex_state = after_set_literal[arg]
                        state_stack.append(goto[state_stack[-1]]["set_literal"])
                        value_stack.append(value)
                        break
                state_stack.append(arg)
                value_stack.append(token)
                break
            if shift is None:  # a unit reduction (see _Tables)
                state_stack[-1] = goto[state_stack[-2]][arg]
                if token is None and state_stack[-1] == end_state:
                    return value_stack[-1]
                continue
            size, origin, include, expand1, handler = arg
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            if include is not None:
                kept: list = []
                for i, splice in include:
                    if splice:
                        if kept:
                            kept += children[i]
                        else:
                            kept = children[i]  # left recursion: grow the same list
                    else:
                        kept.append(children[i])
                children = kept
            if handler is None:
                value = children
            elif expand1 and len(children) == 1:
                value = children[0]
            else:
                value = handler(lower, children)
            state_stack.append(goto[state_stack[-1]][origin])
            value_stack.append(value)
            if token is None and state_stack[-1] == end_state:
                return value


# One value of a set literal and what follows it: a plain string (as `_PLAIN_STRING`), a name or
# a number (the STRING, SUBDIVISION, NAME and NUMBER terminals), whitespace (WS), then `,` or `}`.
_LIST_ITEM = re.compile(rf"(?:{_WS_PATTERN})?(?:({_PLAIN_STRING.pattern})|([A-Z]{{2}}-[A-Z0-9]{{1,3}}(?![\w-])|[A-Za-z_][A-Za-z0-9_]*)"
                        rf"|(-?[0-9][0-9_]*(?:\.[0-9][0-9_]*)?[KMB]?))(?:{_WS_PATTERN})?([,}}])")
_LIST_CLOSE = re.compile(rf"(?:{_WS_PATTERN})?}}")


def _lower_set_literal(lower: "_Lower", text: str, lbrace: _Tok, keywords: frozenset) -> tuple | None:
    """The `ast.SetLiteral` that starts at `lbrace` and the offset after its `}`, lowered in one
    step; None (nothing lowered) when the list holds anything else: comments, escapes,
    keywords, syntax errors. ZIP lists of thousands of values took most of a parse token by token.

    Gives exactly what the LALR loop and the `string`, `member`, `number` and `set_literal`
    handlers give (tests/test_parser_fast.py compares it with Lark's own parser).
    """
    items = []
    pos = lbrace.end_pos
    match = _LIST_ITEM.match
    m = match(text, pos)
    while m is not None:  # first read the whole list: nothing is lowered if it does not end well
        name = m.group(2)
        if name is not None and name in keywords:
            return None
        items.append(m)
        pos = m.end()
        if m.group(4) == "}":
            break
        m = match(text, pos)
    else:  # `{}`, or a comma before `}`
        close = _LIST_CLOSE.match(text, pos)
        if close is None:
            return None
        pos = close.end()
    source = lower.source
    values = []
    for m in items:
        string = m.group(1)
        if string is not None:
            start, end = m.span(1)
            values.append(_string_lit(string[1:-1], _make_span(source, start, end)))
        elif m.group(2) is not None:
            start, end = m.span(2)
            values.append(_member_lit(m.group(2), _make_span(source, start, end)))
        else:
            start, end = m.span(3)
            values.append(lower._number(_Tok("NUMBER", m.group(3), start, end)))
    return ast.SetLiteral(tuple(values), _make_span(source, lbrace.start_pos, pos)), pos


_NESTING_TOKENS = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"?|[(){}]')


_STRING_OR_COMMENT = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"?')  # _NESTING_TOKENS without the brackets
_NOT_BRACKET = re.compile(r"[^(){}]+")


def _check_nesting(source: SourceFile) -> Diagnostic | None:
    """Reject absurd nesting before the parser builds a tree as deep as the text."""
    # First the brackets alone, strings and comments cut out by two C-level substitutions
    # (a scan with a Python step per string took 0.15 s on a 157,000-string file); the
    # token by token scan below runs only to place the error.
    depth = 0
    for c in _NOT_BRACKET.sub("", _STRING_OR_COMMENT.sub("", source.text)):
        if c in "({":
            depth += 1
            if depth > MAX_NESTING:
                return _deep_nesting(source)
        else:
            depth = max(0, depth - 1)
    return None


def _deep_nesting(source: SourceFile) -> Diagnostic | None:
    depth = 0
    for m in _NESTING_TOKENS.finditer(source.text):
        c = m.group()
        if c in "({":
            depth += 1
            if depth > MAX_NESTING:
                i = m.start()
                return diag("E005", f"nesting is deeper than {MAX_NESTING} levels", source.span(i, i + 1),
                            help="name parts of the predicate with `segment` declarations to flatten it")
        elif c in ")}":
            depth = max(0, depth - 1)
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
        repaired_up_to = -1  # the last line changed to get past an error
        for _ in range(MAX_ERRORS_PER_DECLARATION):
            try:
                _parse_text(SourceFile(source.path, piece), [])  # only its exception matters
            except _LiteralError:
                break
            except UnexpectedInput as exc:
                pos = _error_position(exc)
                if pos is not None and piece.count("\n", 0, pos) <= repaired_up_to:
                    break  # caused by the repair, not by the text: say nothing
                out.append(_syntax_diagnostic(source, exc, eof=len(text[:b].rstrip())))
                repaired = _repair_line(piece, pos) if pos is not None and pos < len(text[:b].rstrip()) else None
                if repaired is None:
                    break
                piece, repaired_up_to = repaired
            else:
                break
    if not out:  # the pieces parse alone but not together; report the whole-file error
        try:
            _parse_text(source, [])
        except _LiteralError:
            pass
        except UnexpectedInput as exc:
            out.append(_syntax_diagnostic(source, exc))
    return out


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


MAX_ERRORS_PER_DECLARATION = 8
_LINE_BRACES = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"?|[{}]')


# A line ending like this continues on the next one.
_UNFINISHED = re.compile(r"(==|!=|<=?|>=?|[.,:(+\-]|\b(?:and|or|not|in|startswith|is|where|as))$")


def _strip_comment(line: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"|#.*', lambda m: m.group() if m.group().startswith('"') else "", line)


def _error_position(exc: UnexpectedInput) -> int | None:
    if isinstance(exc, UnexpectedCharacters):
        return exc.pos_in_stream
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        return exc.token.start_pos
    return None


# A line that opens a block: its keyword, and what the keyword needs before `{` (a name)
_BLOCK_LINE = re.compile(r"\s*(territory|model|schema|enum|test|account)\b")
# A declaration whose keyword is missing: a name, maybe a title, then `{`
_OPENERS = {"territory": "territory _ {", "model": "model _ {", "schema": "schema _ {", "enum": "enum _ {",
            "test": 'test "" {', "account": "account {"}  # a neutral line that opens each kind of block
_KEYWORDLESS_BLOCK = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:"(?:[^"\\\n]|\\.)*"\s*)?\{')


def _repair_line(piece: str, pos: int) -> tuple[str, int] | None:
    """To find the next syntax error of a declaration: the text with the erring line replaced
    by a neutral one of the same length (offsets stay exact), and the number of the last
    line replaced. Errors at or before that line are then the repair's, not the text's.

    Unfinished lines just before it (ending in `==`, `and`, `,` ...: `where country ==`
    then `owner ...`) are replaced too. A line keeps the brace balance it was meant to have:
    one `{` more becomes `territory _ {` (or its own keyword: `model _ {`), one `}` more
    becomes `}`, and a block line without its `{` (`territory x where ... }`) counts as
    having it. It gives up (None) where going on would report the repair's mistakes: any
    other imbalance, a brace that is itself the mistake, or an error that opens its line
    after a finished line (a `{` or `}` missing somewhere) -- except when that line is a
    block that lost its keyword (`west { ... }`)."""
    start = piece.rfind("\n", 0, pos) + 1
    end = piece.find("\n", pos)
    end = len(piece) if end == -1 else end
    line = piece[start:end]
    # The lines before it that are unfinished (end in an operator; or just the one before,
    # when the error opens its line) belong to the same broken item.
    opens_line = not piece[start:pos].strip()
    if piece[pos:pos + 1] in ("{", "}"):
        # A brace is the mistake: a block line that lost its name (`model {`, `territory "T" {`)
        # or a one-line item that lost its last part (`b: }`) can be blanked; any other brace
        # (an extra `}`) leaves the structure unknown.
        if _net_braces(line) not in (0, 1) or (_net_braces(line) == 1 and not _BLOCK_LINE.match(line)):
            return None
    elif opens_line and not _KEYWORDLESS_BLOCK.match(line):
        before = piece.rfind("\n", 0, max(start - 1, 0)) + 1
        previous = piece[before:max(start - 1, 0)]
        if not _UNFINISHED.search(_strip_comment(previous).rstrip()):
            # The line before looks finished: a `{` or `}` missing there cascades, unless it is
            # plain where: a block line without its `{` (`model M`), a `{` list not closed.
            missing = _missing_brace(previous)
            if missing is not None:
                return _insert_brace(piece, before, start, missing)
            if _ITEM_START.match(line) or _net_braces(line) != 0 or not _strip_comment(previous).rstrip().endswith(("{", "}")):
                return None
            # after a brace, a line that no item starts like (`n > 5`: its `where` lost) is
            # wrong by itself (elsewhere it may be the next value of a list missing a comma)
            opens_line = False
    elif opens_line:  # a block that lost its keyword (`west { ... }`): that line alone
        opens_line = False
    while start > 0:
        before = piece.rfind("\n", 0, start - 1) + 1
        previous = _strip_comment(piece[before:start - 1]).rstrip()
        if not previous or not (_UNFINISHED.search(previous) or opens_line):
            break
        start, opens_line = before, False
    lines = piece[start:end].split("\n")
    # The balance the replaced lines were meant to have: a block line without its `{` meant
    # to open one; other lines with one `{` too many meant to close their list (`{US, CA)`).
    net = sum(_net_braces(line) for line in lines)
    block = next((m for m in map(_BLOCK_LINE.match, lines) if m), None)
    if block and net < 1 and not any("{" in _strip_comment(line) for line in lines):
        net += 1
    elif net == 1 and not block and not _KEYWORDLESS_BLOCK.match(lines[-1]):
        net = 0
    out = [" " * len(line) for line in lines]
    if net == 1:
        # a block that lost its keyword is a model at the top level, else a territory
        kind = block.group(1) if block else "model" if _net_braces(piece[:start]) == 0 else "territory"
        opener = _OPENERS[kind]
        if len(opener) > len(lines[0]):
            opener = opener.replace(" {", "{")
        if len(opener) > len(lines[0]):
            return None
        out[0] = opener.ljust(len(lines[0]))
    elif net == -1:
        if not lines[-1]:
            return None
        out[-1] = "}".ljust(len(lines[-1]))
    elif net != 0:
        return None
    return piece[:start] + "\n".join(out) + piece[end:], piece.count("\n", 0, end)


# The words an item or declaration starts with, and `}`: a line starting so may well be right
# where it is, the mistake being elsewhere (an extra or missing brace above it).
_ITEM_START = re.compile(r"\s*(?:territory|where|else|policy|keep|owner|meta|effective|status|account|expect|model"
                         r"|schema|segment|set|enum|import|test)\b|\s*\}")


def _missing_brace(line: str) -> str | None:
    """The brace the line before an error lacks, where that is plain: `{` for a block line
    without one (`territory west "West"`), `}` for a line that opens a list it never closes
    (`industry: enum { software, finance`); None otherwise."""
    code = _strip_comment(line)
    net = _net_braces(line)
    if _BLOCK_LINE.match(line) and net == 0 and "{" not in code and code.strip():
        return "{"
    if net == 1 and not _BLOCK_LINE.match(line) and not code.rstrip().endswith("{"):
        return "}"
    return None


def _insert_brace(piece: str, before: int, start: int, brace: str) -> tuple[str, int] | None:
    """The piece with `brace` written where a space was: at the end of the line that lacks it
    (from `before`), or in the indentation of the next line (from `start`); the number of the
    line that lacks it. None when there is no space to write it in (offsets must stay exact)."""
    end_of_line = start - 1
    if end_of_line > before and piece[end_of_line - 1] == " ":
        at = end_of_line - 1
    elif piece[start:start + 1] in (" ", "\t"):
        at = start
    else:
        return None
    return piece[:at] + brace + piece[at + 1:], piece.count("\n", 0, before)


def _net_braces(line: str) -> int:
    """`{` minus `}` on a line, outside strings and comments."""
    braces = [m.group() for m in _LINE_BRACES.finditer(line) if m.group() in "{}"]
    return braces.count("{") - braces.count("}")


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


# Something that starts like a number; when the lexer stops inside one that NUMBER does not
# accept (`5Q`, `1.5Q`, `1e5`), the whole thing is the mistake, not its first character or `.`.
_NUMBER_LIKE = re.compile(r"(?<!\w)-?\d(?:\w|\.(?!\.))*")
_VALID_NUMBER = re.compile(r"-?[0-9][0-9_]*(\.[0-9][0-9_]*)?[KMB]?")


def _malformed_number(source: SourceFile, pos: int, number_expected: bool) -> Diagnostic | None:
    line_start = source.text.rfind("\n", 0, pos) + 1
    line_end = source.text.find("\n", pos)
    line = source.text[line_start: len(source.text) if line_end == -1 else line_end]
    for m in _NUMBER_LIKE.finditer(line):
        # Either a number may stand here, or the lexer already took the front of this one.
        inside = m.start() < pos - line_start < m.end() or (number_expected and m.start() == pos - line_start)
        if inside and not _VALID_NUMBER.fullmatch(m.group()):
            return diag("E003", f"`{m.group()}` is not a number terrl reads",
                        source.span(line_start + m.start(), line_start + m.end()),
                        help="write digits with an optional `.` fraction, `_` separators and a suffix "
                             "`K`, `M` or `B`: `1500`, `-12.5`, `1_000`, `500M`")
    return None


def _syntax_diagnostic(source: SourceFile, exc: UnexpectedInput, eof: int | None = None) -> Diagnostic:
    text = source.text
    if isinstance(exc, (UnexpectedCharacters, UnexpectedToken)):
        pos = exc.pos_in_stream if isinstance(exc, UnexpectedCharacters) else exc.token.start_pos
        allowed = exc.allowed if isinstance(exc, UnexpectedCharacters) else exc.expected
        bad_number = _malformed_number(source, pos, "NUMBER" in (allowed or ())) if pos is not None else None
        if bad_number is not None:
            return bad_number
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = text[pos] if pos < len(text) else ""
        if ch == '"':
            return diag("E004", "this string is not closed before the end of the line", source.span(pos, pos + 1),
                        help='close it with `"`; strings cannot span lines')
        shown = f"`{ch}`" if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
        if ch == "'":  # a habit from SQL and spreadsheets
            return diag("E003", "unexpected character `'`", source.span(pos, pos + 1),
                        help='strings take double quotes: write "..."')
        expected = _describe_expected(exc.allowed or ())
        return diag("E003", f"unexpected character {shown}", source.span(pos, pos + 1),
                    help=f"expected {expected}" if expected else None)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        opener = _unclosed_opener(text[:eof] if eof is not None else text)
        end = len(text.rstrip()) if eof is None else eof
        suspect = _misindented_block(text[:eof] if eof is not None else text)
        if opener is not None and suspect is not None:
            # The `}` missing inside a block was taken from an outer one: the block whose next
            # sibling starts at its own indentation is where it is missing.
            block, sibling = suspect
            return diag("E004", "unexpected end of file: a `}` is missing", source.span(end, end),
                        labels=[Label(source.span(block, block + 1), "probably not closed"),
                                Label(source.span(sibling, sibling), "the next declaration starts here, at its indentation")],
                        help="add `}` before the next declaration")
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
    # Habits from SQL: upper-case keywords, `IN ('a', 'b')`.
    if value.lower() in _SQL_KEYWORDS and value != value.lower():
        return diag("E003", message, source.span(start, end), help=f"keywords are lower-case: write `{value.lower()}`")
    if value == "(" and "LBRACE" in expected_set or value == "," and _IN_PAREN.search(text, 0, start):
        return diag("E003", message, source.span(start, end),
                    help="a list of values is written in braces: `field in {a, b}` (`field in lo..hi` for a range)")
    return diag("E003", message, source.span(start, end), help=f"expected {expected}" if expected else None)


_SQL_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})
_IN_PAREN = re.compile(r"\bin\s*\([^(){}\n]*\Z")  # `in (a` just before a comma: SQL's IN list


_DECLARATION_LINE = re.compile(r"^([ \t]*)(?:territory|model|schema|segment|set|enum|test)\b", re.M)


def _misindented_block(text: str) -> tuple[int, int] | None:
    """(a `{` that is open, the declaration after it) when a declaration starts at or left of
    the indentation of the line that opened a still-open block: that block's `}` is missing.
    Strings and comments are skipped; None when indentation says nothing."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def indent_at(pos: int) -> int:
        start = line_starts[bisect.bisect_right(line_starts, pos) - 1]
        line = text[start:pos]
        return len(line) - len(line.lstrip(" \t"))

    declarations = {m.end(1): len(m.group(1)) for m in _DECLARATION_LINE.finditer(text)}
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if i in declarations and stack and text.rfind("\n", 0, stack[-1]) < text.rfind("\n", 0, i):
            opened = indent_at(stack[-1])
            inside = text[text.find("\n", stack[-1]) + 1:text.rfind("\n", 0, i)].splitlines()
            indented = any(len(ln) - len(ln.lstrip(" \t")) > opened for ln in inside if ln.strip())
            if declarations[i] <= opened and indented:  # only where the file indents its blocks
                return stack[-1], i
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
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            stack.pop()
        i += 1
    return None


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


# --- lowering: grammar rules -> terrl.syntax.ast ---------------------------------------------

class _LiteralError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


class _DocBlocks:
    """`##` blocks, each mapped to the offset of the first token after it.

    Fed the comment tokens incrementally (the lexer runs ahead of the reductions that
    need docs), so the work is linear in the number of comments.
    """

    _BLANK = re.compile(r"\s*")

    def __init__(self, text: str) -> None:
        self.text = text
        self.docs: dict[int, str] = {}
        self.block: list[str] = []
        self.last_end = -1
        self.seen = 0

    def feed(self, comments: list[Token]) -> None:
        text = self.text
        for tok in comments[self.seen:]:
            line_start = text.rfind("\n", 0, tok.start_pos) + 1
            own_line = text[line_start:tok.start_pos].strip() == ""
            if not (str(tok).startswith("##") and own_line):
                continue
            if self.block and text[self.last_end:tok.start_pos].count("\n") > 1:
                self.block = []  # a blank line ends a block
            self.block.append(re.sub(r"^## ?", "", str(tok)).rstrip())
            self.last_end = tok.end_pos
            nxt = self._BLANK.match(text, self.last_end).end()
            if nxt < len(text) and text[nxt] != "#":
                self.docs[nxt] = "\n".join(self.block)
                self.block = []
        self.seen = len(comments)


# Tokens kept only so that spans cover whole declarations; rules never look at them.
_STRUCTURAL = frozenset({"IMPORT", "ENUM", "SET", "SEGMENT", "SCHEMA", "MODEL", "TERRITORY", "TEST", "WHERE",
                         "POLICY_KW", "OWNER", "META", "EFFECTIVE", "STATUS_KW", "ACCOUNT", "EXPECT", "LBRACE",
                         "RBRACE", "LPAR", "RPAR", "DIGITS", "DOTDOT"})


class _Seq(tuple):
    """A tuple of nodes that remembers the span of the brackets around it."""

    span: Span | None = None


def _start_of(children) -> int | None:
    for c in children:
        if isinstance(c, _TOKENS):
            return c.start_pos
        inner = getattr(c, "span", None)
        if inner is not None:
            return inner.start
    return None


def _end_of(children) -> int:
    for c in reversed(children):
        if isinstance(c, _TOKENS):
            return c.end_pos
        inner = getattr(c, "span", None)
        if inner is not None:
            return inner.end
    raise AssertionError("a child with a start has an end")  # pragma: no cover


def _rule(method):
    """Give a lowering method the span of everything it matched and its children minus structural tokens."""

    def wrapper(self, children):
        # Runs once per reduction: plain loops, no generators (a third of the parse time before).
        # The first and last children nearly always carry the span's ends: those are tried first.
        span = None
        if children:
            first, last = children[0], children[-1]
            if first.__class__ is _Tok:
                start = first.start_pos
            else:
                start = _start_of(children)
            if start is not None:
                if last.__class__ is _Tok:
                    end = last.end_pos
                else:
                    end = _end_of(children)
                span = _make_span(self.source, start, end)
            for c in children:
                if isinstance(c, _TOKENS) and c.type in _STRUCTURAL:
                    kids = [c for c in children if not (isinstance(c, _TOKENS) and c.type in _STRUCTURAL)]
                    break
            else:
                kids = children
        else:
            kids = []
        return method(self, span, kids, children)

    wrapper.__name__ = method.__name__
    return wrapper


class _Lower(Transformer):
    """The lowering of each rule: called by the fast driver as it reduces, or over Lark's tree.

    One instance per parse: it holds everything that parse accumulates.
    """

    def __init__(self, source: SourceFile, diagnostics: list[Diagnostic]) -> None:
        super().__init__()
        self.source = source
        self.diagnostics = diagnostics
        self.comments_tokens: list = []
        self.doc_blocks = _DocBlocks(source.text)
        # Nesting levels of the expression nodes built so far, by id (the nodes stay in the tree).
        self._levels: dict[int, int] = {}

    def _nested(self, node, level: int, at: Span):
        """Record `node`'s level; more than MAX_NESTING makes every later pass recurse too deep
        (an `and` inside a `not` inside parentheses...), so the parse stops with E005 there."""
        if level > MAX_NESTING:
            raise _LiteralError(diag("E005", f"this expression is nested more than {MAX_NESTING} levels deep", at,
                                     notes=["each `(`, `not` and set `+` or `-` inside another is one level"],
                                     help="drop redundant parentheses and pairs of `not`s; `and` and `or` lists "
                                          "need no parentheses"))
        if level:
            self._levels[id(node)] = level
        return node

    def _level(self, node) -> int:
        return self._levels.get(id(node), 0)

    # helpers
    def _tspan(self, tok: Token) -> Span:
        return _make_span(self.source, tok.start_pos, tok.end_pos)

    def _ident(self, tok: Token, *, declares: bool = False) -> ast.Ident:
        name = str(tok)
        if declares and name in RESERVED:
            self.diagnostics.append(diag("E009", f"`{name}` is a keyword and cannot be used as a name", self._tspan(tok),
                                         help=f"choose another name, e.g. `{name}_`"))
        return _make_ident(name, _make_span(self.source, tok.start_pos, tok.end_pos))

    def _doc(self, span: Span | None) -> str | None:
        if span is None:
            return None
        self.doc_blocks.feed(self.comments_tokens)
        return self.doc_blocks.docs.get(span.start)

    def _string(self, tok: Token) -> ast.StringLit:
        text = str(tok)
        if _PLAIN_STRING.fullmatch(text):  # most strings (ZIP lists of thousands): 4x faster than json.loads
            return _string_lit(text[1:-1], self._tspan(tok))
        try:
            value = json.loads(text)
        except ValueError:
            raise _LiteralError(diag("E006", "this string has an invalid escape sequence", self._tspan(tok),
                                     help=r'escapes are `\"`, `\\`, `\n`, `\t` and `\uXXXX`'))
        if _SURROGATE.search(value):  # `\ud800` alone: no encoder, SQL or JSON writer can take it
            raise _LiteralError(diag("E006", "this string spells half of a UTF-16 surrogate pair, which is not Unicode text",
                                     self._tspan(tok),
                                     help=r"write the character itself, or both halves of the pair (`\ud83d\ude00`)"))
        return ast.StringLit(value, self._tspan(tok))

    def _number(self, tok: Token) -> ast.NumberLit:
        text = str(tok)
        if text.isdigit() and len(text) <= MAX_NUMBER_DIGITS:
            # most numbers: plain digits, read exactly by Decimal (the general path multiplies by 1)
            return ast.NumberLit(Decimal(text), text, self._tspan(tok))
        if "_" in text and _MISPLACED_UNDERSCORE.search(text):
            raise _LiteralError(diag("E006", f"`{text}` has a misplaced `_`", self._tspan(tok),
                                     help="`_` separates digits: `1_000_000`"))
        digits = text.replace("_", "")
        factor = Decimal(1)
        if digits[-1] in _SUFFIX:
            factor = _SUFFIX[digits[-1]]
            digits = digits[:-1]
        count = sum(c.isdigit() for c in digits)
        if count > MAX_NUMBER_DIGITS:  # every later pass and target stays exact and fast (docs/limits.md)
            raise _LiteralError(diag("E006", f"this number has {count:,} digits; terrl reads number literals of up to "
                                     f"{MAX_NUMBER_DIGITS} digits", self._tspan(tok),
                                     help="a bound this large is no bound: leave the range open (`in 0..`)"))
        try:
            with localcontext() as exact:  # the default 28 digits would round a long literal
                exact.prec = 2 * MAX_NUMBER_DIGITS
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
    def start(self, children):
        decls = list(children)
        doc = decls[0].doc if decls and isinstance(decls[0], ast.ImportDecl) else None
        comments = tuple(ast.Comment(str(t), self._tspan(t)) for t in self.comments_tokens)
        return ast.Module(tuple(decls), doc, comments, self.source.span(0, len(self.source.text)))

    @_rule
    def dotted_name(self, span, kids, raw):
        return ast.QualName(tuple(self._ident(t) for t in kids), span)

    @_rule
    def import_decl(self, span, kids, raw):
        module = path = alias = None
        for c in kids:
            if isinstance(c, ast.QualName):
                module = c
            elif c.type == "STRING":
                path = self._string(c)
            elif c.type == "NAME":
                alias = self._ident(c, declares=True)
        return ast.ImportDecl(module, path, alias, span, self._doc(span))

    # enums and sets
    @_rule
    def enum_member(self, span, kids, raw):
        title = self._string(kids[1]) if len(kids) > 1 else None
        return ast.EnumMember(self._ident(kids[0], declares=True), title, span)

    @_rule
    def enum_body(self, span, kids, raw):
        seq = _Seq(kids)
        seq.span = span
        return seq

    @_rule
    def enum_decl(self, span, kids, raw):
        names = [c for c in kids if isinstance(c, _TOKENS) and c.type == "NAME"]
        country = self._ident(names[1]) if len(names) > 1 else None  # `enum NAME of COUNTRY {...}`
        return ast.EnumDecl(self._ident(kids[0], declares=True), tuple(kids[-1]), span, self._doc(span), country)

    @_rule
    def set_decl(self, span, kids, raw):
        name, type_, expr = kids
        return ast.SetDecl(self._ident(name, declares=True), type_, expr, span, self._doc(span))

    @_rule
    def set_expr(self, span, kids, raw):
        result = kids[0]
        for op, right in zip(kids[1::2], kids[2::2]):
            level = max(self._level(result), self._level(right)) + 1
            result = self._nested(ast.SetOp(str(op), result, right, result.span.to(right.span)), level, self._tspan(op))
        return result

    @_rule
    def set_ref(self, span, kids, raw):
        return ast.SetRef(kids[0], span)

    @_rule
    def set_paren(self, span, kids, raw):
        return self._nested(ast.SetParen(kids[0], span), self._level(kids[0]) + 1, self.source.span(span.start, span.start + 1))

    @_rule
    def set_literal(self, span, kids, raw):
        return ast.SetLiteral(tuple(kids), span)

    # values
    @_rule
    def number(self, span, kids, raw):
        return self._number(kids[0])

    @_rule
    def string(self, span, kids, raw):
        return self._string(kids[0])

    @_rule
    def true(self, span, kids, raw):
        return ast.BoolLit(True, span)

    @_rule
    def false(self, span, kids, raw):
        return ast.BoolLit(False, span)

    @_rule
    def null(self, span, kids, raw):
        return ast.NullLit(span)

    @_rule
    def member(self, span, kids, raw):
        return _member_lit(str(kids[0]), span)

    @_rule
    def range(self, span, kids, raw):
        dots = next(c for c in raw if isinstance(c, _TOKENS) and c.type == "DOTDOT")
        lo = next((c for c in kids if c.span.end <= dots.start_pos), None)
        hi = next((c for c in kids if c.span.start >= dots.end_pos), None)
        return ast.RangeExpr(lo, hi, span)

    # types
    @_rule
    def simple_type(self, span, kids, raw):
        return ast.SimpleType(str(kids[0]), span)

    @_rule
    def digits_type(self, span, kids, raw):
        return ast.DigitsType(self._number(kids[0]), span)

    @_rule
    def inline_enum(self, span, kids, raw):
        return ast.InlineEnum(tuple(kids[0]), span)

    @_rule
    def named_type(self, span, kids, raw):
        name: ast.QualName = kids[0]
        if len(name.parts) == 1 and name.parts[0].name in ("bool", "int", "decimal", "string"):
            return ast.SimpleType(name.parts[0].name, span)
        return ast.NamedType(name, span)

    @_rule
    def type_bounds(self, span, kids, raw):
        return kids[0]

    @_rule
    def type_expr(self, span, kids, raw):
        optional = any(isinstance(c, _TOKENS) and c.type == "OPTIONAL" for c in kids)
        bounds = next((c for c in kids if isinstance(c, ast.RangeExpr)), None)
        context = next((c for c in kids if isinstance(c, ast.TypeContext)), None)
        return ast.TypeExpr(kids[0], optional, bounds, span, context)

    @_rule
    def type_context(self, span, kids, raw):
        return ast.TypeContext(self._ident(kids[1]), kids[2] if len(kids) > 2 else None, span)

    @_rule
    def field_decl(self, span, kids, raw):
        key = any(isinstance(c, _TOKENS) and c.type == "KEY" for c in kids)
        return ast.FieldDecl(self._ident(kids[0], declares=True), kids[1], key, span, self._doc(span))

    @_rule
    def schema_decl(self, span, kids, raw):
        return ast.SchemaDecl(self._ident(kids[0], declares=True), tuple(kids[1:]), span, self._doc(span))

    @_rule
    def segment_decl(self, span, kids, raw):
        return ast.SegmentDecl(self._ident(kids[0], declares=True), kids[1], span, self._doc(span))

    # predicates
    @_rule
    def or_pred(self, span, kids, raw):
        return kids[0] if len(kids) == 1 else self._nested(ast.OrPred(tuple(kids), span), max(map(self._level, kids)), span)

    @_rule
    def and_pred(self, span, kids, raw):
        return kids[0] if len(kids) == 1 else self._nested(ast.AndPred(tuple(kids), span), max(map(self._level, kids)), span)

    @_rule
    def not_pred(self, span, kids, raw):
        *nots, result = kids
        if len(nots) > MAX_NESTING:
            raise _LiteralError(diag("E005", f"more than {MAX_NESTING} `not`s in a row", self._tspan(nots[MAX_NESTING]),
                                     help="two `not`s cancel out; remove them in pairs"))
        level = self._level(result)
        for tok in reversed(nots):
            level += 1
            result = self._nested(ast.NotPred(result, self.source.span(tok.start_pos, result.span.end)), level,
                                  self._tspan(tok))
        return result

    @_rule
    def paren(self, span, kids, raw):
        return self._nested(ast.ParenPred(kids[0], span), self._level(kids[0]) + 1, self.source.span(span.start, span.start + 1))

    @_rule
    def comparison(self, span, kids, raw):
        field, op, value = kids
        return ast.Comparison(self._ident(field), str(op), value, span)

    @_rule
    def in_set(self, span, kids, raw):
        negated = any(isinstance(c, _TOKENS) and c.type == "NOT" for c in kids)
        return self._nested(ast.InSetPred(self._ident(kids[0]), negated, kids[-1], span), self._level(kids[-1]), span)

    @_rule
    def in_range(self, span, kids, raw):
        negated = any(isinstance(c, _TOKENS) and c.type == "NOT" for c in kids)
        return ast.InRangePred(self._ident(kids[0]), negated, kids[-1], span)

    @_rule
    def starts_with(self, span, kids, raw):
        return ast.StartsWithPred(self._ident(kids[0]), kids[1], span)

    @_rule
    def is_null(self, span, kids, raw):
        negated = any(isinstance(c, _TOKENS) and c.type == "NOT" for c in kids)
        return ast.NullPred(self._ident(kids[0]), negated, span)

    @_rule
    def bool_pred(self, span, kids, raw):
        return ast.BoolPred(str(kids[0]) == "true", span)

    @_rule
    def segment_ref(self, span, kids, raw):
        return ast.SegmentRef(kids[0], span)

    # models and territories
    @_rule
    def where_item(self, span, kids, raw):
        return ast.WhereItem(kids[0], span)

    @_rule
    def else_item(self, span, kids, raw):
        return ast.ElseItem(span)

    @_rule
    def policy_item(self, span, kids, raw):
        return ast.PolicyItem(str(kids[0]), span)

    @_rule
    def keep_item(self, span, kids, raw):
        return ast.KeepItem(span)

    @_rule
    def owner_item(self, span, kids, raw):
        role = self._ident(kids[1]) if len(kids) > 1 else None
        return ast.OwnerItem(self._string(kids[0]), role, span)

    @_rule
    def meta_entry(self, span, kids, raw):
        key, value = kids
        if isinstance(value, _TOKENS) and value.type == "DATE":
            value = self._date(value)
        return ast.MetaEntry(self._ident(key), value, span)

    @_rule
    def meta_item(self, span, kids, raw):
        return ast.MetaItem(tuple(kids), span)

    @_rule
    def effective_item(self, span, kids, raw):
        return ast.EffectiveItem(self._date(kids[0]), span)

    @_rule
    def status_item(self, span, kids, raw):
        return ast.StatusItem(str(kids[0]), span)

    def _decl_head(self, kids):
        name = self._ident(kids[0], declares=True)
        rest = list(kids[1:])
        title = None
        if rest and isinstance(rest[0], _TOKENS) and rest[0].type == "STRING":
            title = self._string(rest.pop(0))
        return name, title, rest

    @_rule
    def territory_decl(self, span, kids, raw):
        name, title, items = self._decl_head(kids)
        return ast.TerritoryDecl(name, title, tuple(items), span, self._doc(span))

    @_rule
    def model_decl(self, span, kids, raw):
        name, title, items = self._decl_head(kids)
        schema = items.pop(0) if items and isinstance(items[0], ast.QualName) else None
        return ast.ModelDecl(name, title, schema, tuple(items), span, self._doc(span))

    # tests
    @_rule
    def account_entry(self, span, kids, raw):
        return ast.AccountEntry(self._ident(kids[0]), kids[1], span)

    @_rule
    def account_item(self, span, kids, raw):
        return ast.AccountItem(tuple(kids), span)

    @_rule
    def expect_item(self, span, kids, raw):
        model, outcome = kids
        if isinstance(outcome, _TOKENS):
            outcome = str(outcome)
        return ast.ExpectItem(model, outcome, span)

    @_rule
    def test_decl(self, span, kids, raw):
        return ast.TestDecl(self._string(kids[0]), tuple(kids[1:]), span, self._doc(span))

