"""Names, imports and types: AST modules -> the checked `ir.Program`.

`load_module` reads a file and, recursively, what it imports (stdlib modules such as
`geo.us` and files relative to the importer), reporting cycles and imports that leave
the project root. `lower_program` then resolves every name, checks every literal
against the field it is compared with, expands sets and segments and builds the IR.
All problems become diagnostics; lowering goes on past them so one run reports all.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator, NoReturn

from terrl.syntax import ast
from terrl.semantics import ir
from terrl.diagnostics.core import Diagnostic, Label, diag, has_errors
from terrl.diagnostics.suggest import closest, member_hint
from terrl.syntax.parser import MAX_NESTING, decode_source, parse, read_source
from terrl.resources import stdlib_dir
from terrl.diagnostics.source import Span, display_path, find_project_root

# Segments and sets defined through one another, counted along the longest chain of names
# (`s3 = s2 and ...`, `s2 = s1 ...`). Every later pass (docs, the evaluators, SQL) follows
# such chains recursively; a chain of this length works in every command, a longer one is
# E128 at the reference that goes past it. The expression levels the parser bounds
# (MAX_NESTING: each `(`, `not`, set `+`/`-`) are bounded again through the names.
MAX_CHAIN = 50


def did_you_mean(name: str, candidates) -> str | None:
    candidates = list(candidates)
    for c in candidates:
        if c.lower() == name.lower():
            return f"did you mean `{c}`?"
    match = closest(name, candidates, cutoff=0.6)
    return f"did you mean `{match}`?" if match else None


# --- loading ------------------------------------------------------------------------

@dataclass(eq=False)
class LoadedModule:
    path: Path  # resolved
    display: str
    module: ast.Module | None
    is_stdlib: bool
    imports: dict[str, "LoadedModule"] = field(default_factory=dict)  # qualifier -> module
    import_decls: dict[str, ast.ImportDecl] = field(default_factory=dict)
    scope: "Scope | None" = None
    failed_imports: set[str] = field(default_factory=set)  # qualifiers whose import was reported


class Loader:
    """Loads modules once each; diagnostics for a file are reported once."""

    def __init__(self, project_root: Path | None = None) -> None:
        self.project_root = project_root
        self.modules: dict[Path, LoadedModule] = {}
        self.diagnostics: list[Diagnostic] = []
        self._loading: list[Path] = []

    def load(self, path: Path, *, text: str | bytes | None = None, display: str | None = None) -> LoadedModule | None:
        resolved = path.resolve()
        if resolved in self.modules:
            return self.modules[resolved]
        display = display or display_path(path)
        if text is None:
            source, problems = read_source(path, display)
        elif isinstance(text, bytes):
            source, problems = decode_source(text, display)
        else:
            from terrl.diagnostics.source import SourceFile
            source, problems = SourceFile(display, text), []
        self.diagnostics.extend(problems)
        if source is None:
            return None
        module, problems = parse(source)
        self.diagnostics.extend(problems)
        std = stdlib_dir().resolve()
        loaded = LoadedModule(resolved, display, module, is_stdlib=_is_within(resolved, std))
        self.modules[resolved] = loaded
        if module is None:
            return loaded
        root = self.project_root or find_project_root(resolved.parent)
        self._loading.append(resolved)
        try:
            for decl in module.decls:
                if isinstance(decl, ast.ImportDecl):
                    self._load_import(loaded, decl, root, std)
        finally:
            self._loading.pop()
        return loaded

    def _load_import(self, importer: LoadedModule, decl: ast.ImportDecl, root: Path, std: Path) -> None:
        qualifier = decl.local_name
        importer.failed_imports.add(qualifier)  # until it succeeds: silences "unknown module" cascades
        if qualifier in importer.import_decls:
            first = importer.import_decls[qualifier]
            self.diagnostics.append(diag("E102", f"two imports are both used as `{qualifier}`", decl.span,
                                         labels=[Label(first.span, "first imported here")],
                                         help=f"give one of them another name: `import ... as {qualifier}2`"))
            return
        if decl.module is not None:
            parts = [p.name for p in decl.module.parts]
            target = std.joinpath(*parts).with_suffix(".terr")
            if not target.is_file():
                available = sorted(".".join(p.relative_to(std).with_suffix("").parts) for p in std.rglob("*.terr"))
                hint = did_you_mean(decl.module.text, available)
                self.diagnostics.append(diag("E112", f"there is no stdlib module `{decl.module.text}`", decl.module.span,
                                             notes=[hint] if hint else [],
                                             help="stdlib modules: " + ", ".join(f"`{a}`" for a in available)))
                return
        else:
            assert decl.path is not None
            raw = decl.path.value
            target = (importer.path.parent / raw).resolve()
            allowed = std if importer.is_stdlib else root
            if not (_is_within(target, allowed) or _is_within(target, std)):
                self.diagnostics.append(diag("E111", f"`{raw}` lies outside the project root", decl.path.span,
                                             notes=[f"project root: {display_path(allowed)}"],
                                             help="imports may reach files inside the project (the folder holding terrl.toml, pyproject.toml or .git) and the stdlib"))
                return
            if not target.is_file():
                self.diagnostics.append(diag("E112", f"cannot find `{raw}`", decl.path.span,
                                             notes=[f"looked for {display_path(target)}"],
                                             help="paths are relative to the importing file, e.g. `import \"./segments.terr\"`"))
                return
        target = target.resolve()
        if target in self._loading:
            cycle = self._loading[self._loading.index(target):] + [target]
            shown = " -> ".join(display_path(p) for p in cycle)
            self.diagnostics.append(diag("E110", "this import closes a cycle", decl.span, notes=[f"cycle: {shown}"],
                                         help="move the shared declarations into a file that both import"))
            return
        loaded = self.load(target)
        if loaded is not None:
            importer.imports[qualifier] = loaded
            importer.import_decls[qualifier] = decl
            importer.failed_imports.discard(qualifier)


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


# --- scopes -------------------------------------------------------------------------

KINDS = ("enum", "set", "segment", "schema", "model")


class Scope:
    """The declarations of one module, by kind, plus its imports."""

    def __init__(self, loaded: LoadedModule, diagnostics: list[Diagnostic]) -> None:
        self.loaded = loaded
        self.decls: dict[str, object] = {}
        self.kind_of: dict[str, str] = {}
        module = loaded.module
        for decl in module.decls if module else ():
            kind = {ast.EnumDecl: "enum", ast.SetDecl: "set", ast.SegmentDecl: "segment",
                    ast.SchemaDecl: "schema", ast.ModelDecl: "model"}.get(type(decl))
            if kind is None:
                continue
            name = decl.name.name
            if name in self.decls:
                first = self.decls[name]
                diagnostics.append(diag("E102", f"`{name}` is declared twice", decl.name.span,
                                        labels=[Label(first.name.span, "first declared here")],
                                        help="rename one of them"))
                continue
            self.decls[name] = decl
            self.kind_of[name] = kind

    def names_of(self, kind: str, *, with_imports: bool = True) -> list[str]:
        names = [n for n, k in self.kind_of.items() if k == kind]
        if with_imports:
            for q, mod in self.loaded.imports.items():
                names += [f"{q}.{n}" for n, k in _scope_of(mod).kind_of.items() if k == kind]
        return names


def _scope_of(loaded: LoadedModule, diagnostics: list[Diagnostic] | None = None) -> Scope:
    """The module's scope, built once (duplicate-name diagnostics go to the first caller)."""
    if loaded.scope is None:
        loaded.scope = Scope(loaded, diagnostics if diagnostics is not None else [])
    return loaded.scope


# --- lowering -------------------------------------------------------------------------

class _Failed(Exception):
    """Lowering of one predicate or declaration stopped; its diagnostic is recorded."""


@dataclass
class Usage:
    used: set[tuple[int, str]] = field(default_factory=set)  # (id(module), name)
    used_imports: set[tuple[int, str]] = field(default_factory=set)


class Lowerer:
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diags = diagnostics
        self.usage = Usage()
        self._enum_types: dict[int, ir.FieldType] = {}
        self._member_sets: dict[int, tuple[ir.FieldType, frozenset[str]]] = {}  # id -> (type kept alive, members)
        self._sets: dict[int, ir.NamedSet | None] = {}
        self._sets_in_progress: set[int] = set()
        self.set_symbols: list[ir.NamedSet] = []  # every set evaluated, in order: Program.sets
        self._schemas: dict[int, ir.Schema | None] = {}
        self._segments_in_progress: list[int] = []
        self._segment_names: list[str] = []
        self._segment_cache: dict[tuple[int, int], ir.Pred | None] = {}  # the body, marked with its segment
        # Depth through names: the segments and sets being expanded (kind, name, reference),
        # the expression level (as the parser counts it) and the deepest point reached, and
        # for each expanded name the levels and the chain below it, reused with its cached value.
        self._chain: list[tuple[str, str, Span]] = []
        self._level = 0
        self._peak_level = 0
        self._peak_chain: tuple[tuple[str, str, Span], ...] = ()
        self._extents: dict[tuple, tuple[int, tuple[tuple[str, str, Span], ...]]] = {}
        self._depth_reported: set[tuple[str, str]] = set()
        # Fields whose type failed to check: kept in the schema so that uses of them
        # do not cascade into "no such field" errors, but every use stops quietly.
        self._poisoned: set[tuple[int, str]] = set()

    def error(self, *args, **kwargs) -> None:
        self.diags.append(diag(*args, **kwargs))

    # --- lookup
    def lookup(self, scope: Scope, name: ast.QualName, kind: str, *, expect: str | None = None):
        """Find a declaration of `kind`; returns (decl, scope it lives in) or reports and raises _Failed."""
        parts = [p.name for p in name.parts]
        expect = expect or kind
        if len(parts) == 1:
            target_scope, local = scope, parts[0]
        elif len(parts) == 2 and parts[0] in scope.loaded.imports:
            target_scope, local = _scope_of(scope.loaded.imports[parts[0]]), parts[1]
            self.usage.used_imports.add((id(scope.loaded), parts[0]))
        else:
            qualifier = parts[0]
            if qualifier in scope.loaded.failed_imports:
                raise _Failed
            if qualifier in scope.loaded.imports:
                self.error("E101", f"`{name.text}` is not a name: write `{qualifier}.NAME`", name.span)
            else:
                hint = did_you_mean(qualifier, scope.loaded.imports)
                self.error("E101", f"unknown module `{qualifier}`", name.parts[0].span, notes=[hint] if hint else [],
                           help=f"import it first, e.g. `import geo.{qualifier}`" if not hint else None)
            raise _Failed
        decl = target_scope.decls.get(local)
        found_kind = target_scope.kind_of.get(local)
        if decl is None or found_kind != kind:
            if decl is not None:
                self.error("E124", f"`{name.text}` is a {found_kind}, not a {expect}", name.span,
                           help=_wrong_kind_help(name.text, found_kind, expect))
            else:
                hint = did_you_mean(name.text, scope.names_of(kind))
                self.error("E101", f"unknown {expect} `{name.text}`", name.span, notes=[hint] if hint else [])
            raise _Failed
        self.usage.used.add((id(target_scope.loaded), local))
        return decl, target_scope

    # --- types
    def field_type(self, scope: Scope, texpr: ast.TypeExpr) -> ir.FieldType:
        base = texpr.base
        if isinstance(base, ast.SimpleType):
            ftype = ir.FieldType(base.kind)
        elif isinstance(base, ast.DigitsType):
            n = base.length.value
            if not base.length.is_integral or not 1 <= n <= 64:
                self.error("E117", f"`digits({base.length.text})` needs a whole length from 1 to 64", base.span)
                raise _Failed
            ftype = ir.FieldType("digits", digits=int(n))
        elif isinstance(base, ast.InlineEnum):
            members = self._members(base.members)
            ftype = ir.FieldType("enum", members=tuple(members),
                                 titles=tuple(m.title.value if m.title else None for m in members.values()),
                                 subdivisions=bool(members) and all(_SUBDIVISION_CODE.fullmatch(m) for m in members))
        else:
            decl, where = self.lookup(scope, base.name, "enum", expect="type")
            ftype = self.enum_type(decl, where, base.name.text)
        # Wrong bounds are reported and dropped: the field keeps its base type, so the rules
        # that use it are still checked (a poisoned field would hide their mistakes).
        if texpr.bounds is not None:
            if ftype.kind not in ("int", "decimal"):
                self.error("E117", f"bounds apply to `int` and `decimal`, not to `{ftype.describe()}`", texpr.bounds.span)
                return ftype
            try:
                lo = self._bound(ftype, texpr.bounds.lo)
                hi = self._bound(ftype, texpr.bounds.hi)
            except _Failed:
                return ftype
            if lo is not None and hi is not None and lo > hi:
                self.error("E106", f"the lower bound {lo} is above the upper bound {hi}", texpr.bounds.span,
                           help=f"write `{hi}..{lo}`")
                return ftype
            ftype = ir.FieldType(ftype.kind, lo=lo, hi=hi)
        return ftype

    def _bound(self, ftype: ir.FieldType, lit):
        if lit is None:
            return None
        if not isinstance(lit, ast.NumberLit):
            self.error("E103", f"a bound of `{ftype.kind}` must be a number", lit.span)
            raise _Failed
        if ftype.kind == "int":
            if not lit.is_integral:
                self.error("E103", f"`{lit.text}` is not a whole number", lit.span)
                raise _Failed
            return int(lit.value)
        return lit.value

    def _members(self, members) -> dict[str, ast.EnumMember]:
        seen: dict[str, ast.EnumMember] = {}
        for m in members:
            if m.name.name in seen:
                self.error("E102", f"member `{m.name.name}` is listed twice", m.name.span,
                           labels=[Label(seen[m.name.name].name.span, "first listed here")])
                continue
            seen[m.name.name] = m
        if not seen:
            self.error("E117", "an enum needs at least one member", members[0].span if members else None)
        return seen

    def enum_type(self, decl: ast.EnumDecl, scope: Scope, shown_name: str) -> ir.FieldType:
        cached = self._enum_types.get(id(decl))
        if cached is None:
            members = self._members(decl.members)
            country = decl.country.name if decl.country is not None else None
            if country is not None and not _COUNTRY_CODE.fullmatch(country):
                self.error("E129", f"`{country}` is not a country code: `enum {decl.name.name} of CC` names the country "
                           "of its subdivisions by its ISO 3166-1 alpha-2 code", decl.country.span,
                           help="write two capital letters, e.g. `of US`")
                country = None
            coded = bool(members) and all(_SUBDIVISION_CODE.fullmatch(m) for m in members)
            for m in members.values():
                if not coded and _SUBDIVISION_CODE.fullmatch(m.name.name):
                    self.error("E129", f"`{m.name.name}` is an ISO 3166-2 code, but `{decl.name.name}` has members that are not",
                               m.name.span, help="an enum of subdivision codes holds codes only (`US-CA`, `CA-ON`, ...)")
                    break
            cached = ir.FieldType("enum", members=tuple(members), enum_name=_enum_display(scope, decl),
                                  titles=tuple(m.title.value if m.title else None for m in members.values()),
                                  doc=decl.doc, country=country, subdivisions=coded)
            self._enum_types[id(decl)] = cached
        return cached

    def schema(self, decl: ast.SchemaDecl, scope: Scope) -> ir.Schema | None:
        if id(decl) in self._schemas:
            return self._schemas[id(decl)]
        fields: list[ir.Field] = []
        seen: dict[str, ast.FieldDecl] = {}
        key: ast.FieldDecl | None = None
        poisoned: list[str] = []
        for f in decl.fields:
            if f.name.name in seen:
                self.error("E102", f"field `{f.name.name}` is declared twice", f.name.span,
                           labels=[Label(seen[f.name.name].name.span, "first declared here")])
                continue
            seen[f.name.name] = f
            if f.key:
                if key is not None:
                    self.error("E116", "only one field may be the `key`", f.span,
                               labels=[Label(key.span, "already the key")])
                key = key or f
            try:
                ftype = self.field_type(scope, f.type)
            except _Failed:
                ftype = ir.FieldType("string")
                poisoned.append(f.name.name)
            fields.append(ir.Field(f.name.name, ftype, optional=f.type.optional, key=f.key and key is f, span=f.span,
                                   doc=f.doc))
        for i, f in enumerate(decl.fields):
            if f.type.context is not None and i < len(fields) and fields[i].name == f.name.name \
                    and f.name.name not in poisoned:
                try:
                    fields[i] = self.context_field(fields[i], f.type.context, fields, scope)
                except _Failed:
                    poisoned.append(f.name.name)
        result = ir.Schema(decl.name.name, tuple(fields), decl.span, decl.doc,
                           file=scope.loaded.display, stdlib=scope.loaded.is_stdlib)
        self._poisoned.update((id(result), name) for name in poisoned)
        self._schemas[id(decl)] = result
        return result

    def context_field(self, field: ir.Field, context: ast.TypeContext, fields: list[ir.Field],
                      scope: Scope) -> ir.Field:
        """`state: subdivisions.Subdivision? of country [in {US, CA}]`: the field with its context
        (and, with a list, its members narrowed to those countries' subdivisions)."""
        name, ftype = field.name, field.type
        if not ftype.subdivisions:
            self.error("E129", f"`{name} ... of {context.field.name}` needs a type of ISO 3166-2 codes, not `{ftype.describe()}`",
                       context.span, help="import geo.subdivisions and write `subdivisions.Subdivision? of "
                       f"{context.field.name}`")
            raise _Failed
        country = next((f for f in fields if f.name == context.field.name), None)
        if country is None:
            hint = did_you_mean(context.field.name, [f.name for f in fields if f.name != name])
            self.error("E101", f"the schema has no field `{context.field.name}`", context.field.span,
                       notes=[hint] if hint else [])
            raise _Failed
        if country.name == name or country.type.kind != "enum" or country.context is not None \
                or not all(_COUNTRY_CODE.fullmatch(m) for m in country.type.members):
            self.error("E129", f"`{name}` is read in the context of a country field; `{country.name}` is "
                       f"`{country.type.describe()}`", context.field.span,
                       help="name a field of ISO 3166-1 alpha-2 country codes, e.g. `country: world.Country`")
            raise _Failed
        shared = next((f for f in fields if f.context == country.name), None)
        if shared is not None:
            # two codes tied to one country would need the analysis to pick both at once
            self.error("E129", f"`{shared.name}` is already read in the context of `{country.name}`", context.field.span,
                       help="read each subdivision field in the context of its own country field "
                            "(`billing_state ... of billing_country`)")
            raise _Failed
        read_for = None
        members, titles = ftype.members, ftype.titles
        enum_name = ftype.describe()
        if context.countries is not None:
            values, _ = self.set_values(context.countries, country.type, country.name, scope)
            read_for = frozenset(values)
            keep = [i for i, m in enumerate(members) if m[:2] in read_for]
            members = tuple(members[i] for i in keep)
            titles = tuple(titles[i] for i in keep) if titles else ()
            enum_name += " in {" + ", ".join(m for m in country.type.members if m in read_for) + "}"
            if not members:
                self.error("E129", f"no subdivision of `{ftype.describe()}` belongs to these countries", context.countries.span)
                raise _Failed
        if not field.optional and (read_for is not None or country.optional):
            why = "is read only for the listed countries" if read_for is not None else f"`{country.name}` may be missing"
            self.error("E129", f"`{name}` {why}, so it may be missing: declare it optional", context.span,
                       help=f"write `{ftype.describe()}?`")
            raise _Failed
        if read_for is not None:
            ftype = ir.FieldType("enum", members=members, enum_name=enum_name, titles=titles, doc=ftype.doc,
                                 subdivisions=True)
        return ir.Field(name, ftype, optional=field.optional, key=field.key, span=field.span, doc=field.doc,
                        context=country.name, read_for=read_for)

    def member_set(self, ftype: ir.FieldType) -> frozenset[str]:
        """An enum's members as a set: ISO 3166-2 has 5,000 of them, too many to scan per literal."""
        members = self._member_sets.get(id(ftype))
        if members is None or members[0] is not ftype:
            members = self._member_sets[id(ftype)] = (ftype, frozenset(ftype.members))
        return members[1]

    # --- literals
    def convert(self, lit, ftype: ir.FieldType, field_name: str):
        """A literal as a value of the field's type, or a diagnostic and _Failed."""
        kind = ftype.kind
        if isinstance(lit, ast.NullLit):
            self.error("E103", "`null` is not a value to compare with", lit.span,
                       help=f"write `{field_name} is null` or `{field_name} is not null`")
            raise _Failed
        if kind == "bool":
            if isinstance(lit, ast.BoolLit):
                return lit.value
        elif kind in ("int", "decimal"):
            if isinstance(lit, ast.NumberLit):
                if kind == "int" and not lit.is_integral:
                    self.error("E103", f"`{field_name}` is an int; `{lit.text}` is not a whole number", lit.span)
                    raise _Failed
                value = int(lit.value) if kind == "int" else lit.value
                if (ftype.lo is not None and value < ftype.lo) or (ftype.hi is not None and value > ftype.hi):
                    self.error("E122", f"`{lit.text}` is outside the bounds of `{field_name}` ({ftype.describe()})", lit.span,
                               help="no valid account has this value; check the number or the schema's bounds")
                    raise _Failed
                return value
        elif kind == "string":
            if isinstance(lit, ast.StringLit):
                if not lit.value or lit.value.isspace():
                    self.error("E130", f"a blank text is a missing value, never a value of `{field_name}`", lit.span,
                               help=f"to match accounts without `{field_name}`, write `{field_name} is null`")
                    raise _Failed
                return lit.value
        elif kind == "digits":
            if isinstance(lit, ast.StringLit):
                if len(lit.value) == ftype.digits and lit.value.isascii() and lit.value.isdigit():
                    return lit.value
                self.error("E103", f"`{field_name}` holds exactly {ftype.digits} digits; {_show(lit)} does not fit", lit.span,
                           help=f"write {ftype.digits} digits in quotes, e.g. \"{'0' * ftype.digits}\"")
                raise _Failed
            if isinstance(lit, ast.NumberLit):
                self.error("E103", f"`{field_name}` is `digits({ftype.digits})`: write its values in quotes", lit.span,
                           help=f'write "{lit.text}"')
                raise _Failed
        elif kind == "enum":
            if isinstance(lit, ast.MemberLit):
                if lit.name in self.member_set(ftype):
                    return lit.name
                hint = _member_hint(lit.name, ftype)
                big = len(ftype.members) > 12  # a long list helps less than the hint
                self.error("E104", f"`{lit.name}` is not a member of `{ftype.describe()}`", lit.span,
                           notes=[hint] if hint else [], help=None if hint and big else _members_help(ftype))
                raise _Failed
            if isinstance(lit, ast.StringLit) and lit.value in self.member_set(ftype):
                self.error("E103", f"enum members are written without quotes", lit.span, help=f"write `{lit.value}`")
                raise _Failed
        if isinstance(lit, ast.MemberLit) and kind != "enum":
            self.error("E103", f"`{field_name}` is `{ftype.describe()}`; `{lit.name}` is not a value of it", lit.span,
                       help=_literal_help(ftype))
            raise _Failed
        self.error("E103", f"`{field_name}` is `{ftype.describe()}`; {_show(lit)} does not fit", lit.span,
                   help=_literal_help(ftype))
        raise _Failed

    # --- sets
    def named_set(self, decl: ast.SetDecl, scope: Scope, ref: Span | None = None) -> ir.NamedSet:
        """The set as evaluated; `ref` is the reference being followed (None at its declaration)."""
        key = ("set", id(decl))
        link = ("set", decl.name.name, ref or decl.name.span)
        if id(decl) in self._sets:
            result = self._sets[id(decl)]
            if result is None:
                raise _Failed
            self._reuse(key, link)
            return result
        if id(decl) in self._sets_in_progress:
            self.error("E126", f"set `{decl.name.name}` refers to itself", decl.name.span)
            raise _Failed
        self._sets_in_progress.add(id(decl))
        try:
            ftype = self.field_type(scope, decl.type)
            if decl.type.context is not None:
                self.error("E129", "`of FIELD` belongs on a schema field; a set holds plain values", decl.type.context.span,
                           help=f"write `set {decl.name.name}: {ftype.describe()} = ...`")
            values, source = self._expand(key, link, lambda: self.set_values(decl.expr, ftype, decl.name.name, scope))
        except _Failed:
            self._sets[id(decl)] = None
            raise
        finally:
            self._sets_in_progress.discard(id(decl))
        result = ir.NamedSet(decl.name.name, scope.loaded.display, ftype, values, decl.doc, decl.span,
                             module=scope.loaded.path.stem, expr=source)
        self._sets[id(decl)] = result
        self.set_symbols.append(result)
        return result

    def set_values(self, expr: ast.SetExpr, ftype: ir.FieldType, field_name: str,
                   scope: Scope) -> tuple[frozenset, ir.SetExpr]:
        """The set's values, and the expression as written (names resolved) for docs."""
        if isinstance(expr, ast.SetLiteral):
            out = []
            failed = False
            for v in expr.values:
                try:
                    out.append(self.convert(v, ftype, field_name))
                except _Failed:
                    failed = True
            if failed:
                raise _Failed
            return frozenset(out), ir.SetLiteral(tuple(out), tuple(_written(v) for v in expr.values))
        if isinstance(expr, ast.SetParen):
            self._deeper()
            try:
                return self.set_values(expr.inner, ftype, field_name, scope)
            finally:
                self._level -= 1
        if isinstance(expr, ast.SetOp):
            self._deeper()
            try:
                left, left_source = self.set_values(expr.left, ftype, field_name, scope)
                right, right_source = self.set_values(expr.right, ftype, field_name, scope)
            finally:
                self._level -= 1
            values = left | right if expr.op == "+" else left - right
            return values, ir.SetOp(expr.op, left_source, right_source)
        decl, where = self.lookup(scope, expr.name, "set")
        named = self.named_set(decl, where, expr.span)
        if ftype.subdivisions and (named.type.country is not None or named.type.subdivisions):
            return self._subdivision_set(named, expr, decl, ftype, field_name)
        if not _compatible(named.type, ftype):
            self.error("E107", f"set `{expr.name.text}` holds `{named.type.describe()}` values, but `{field_name}` is `{ftype.describe()}`",
                       expr.span, labels=[Label(decl.name.span, "declared here")] if decl.name.span else [])
            raise _Failed
        return named.values, ir.SetRef(named)

    def _subdivision_set(self, named: ir.NamedSet, expr: ast.SetRef, decl, ftype: ir.FieldType,
                         field_name: str) -> tuple[frozenset, ir.SetExpr]:
        """A set on a field of ISO 3166-2 codes: a set of codes, or of an `enum ... of US`, whose
        members stand for `US-` + member (`us.west` on `state`: the western US states)."""
        country = named.type.country
        values = frozenset(named.values if country is None else (f"{country}-{m}" for m in named.values))
        outside = sorted(values - self.member_set(ftype))
        if outside:
            shown = ", ".join(f"`{v}`" for v in outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
            self.error("E107", f"set `{expr.name.text}` holds {shown}, which `{field_name}` (`{ftype.describe()}`) never holds",
                       expr.span, labels=[Label(decl.name.span, "declared here")] if decl.name.span else [],
                       help="use a set of the countries the field is read for")
            raise _Failed
        return values, ir.SetRef(named)

    # --- predicates
    def pred(self, p: ast.Pred, schema: ir.Schema, scope: Scope) -> ir.Pred:
        span = p.span
        if isinstance(p, (ast.ParenPred, ast.NotPred)):
            self._deeper()
            try:
                if isinstance(p, ast.ParenPred):
                    return self.pred(p.inner, schema, scope)
                return ir.Not(self.pred(p.operand, schema, scope), span, written="not")
            finally:
                self._level -= 1
        if isinstance(p, (ast.AndPred, ast.OrPred)):
            parts, failed = [], False
            for q in p.operands:
                try:
                    parts.append(self.pred(q, schema, scope))
                except _Failed:
                    failed = True
            if failed:
                raise _Failed
            return (ir.And if isinstance(p, ast.AndPred) else ir.Or)(tuple(parts), span)
        if isinstance(p, ast.BoolPred):
            return ir.Const(p.value, span)
        if isinstance(p, ast.SegmentRef):
            return self.segment(p, schema, scope)
        f = self.schema_field(schema, p.field)
        ftype = f.type
        if isinstance(p, ast.Comparison):
            if p.op not in ("==", "!=") and ftype.kind not in ir.ORDERED_KINDS:
                self.error("E105", f"`{p.op}` does not apply to `{f.name}` ({ftype.describe()}): it has no order", p.span,
                           help=f"compare with `==` or `!=`")
                raise _Failed
            value = self.convert(p.value, ftype, f.name)
            if p.op == "!=":
                return ir.Not(ir.Compare(f.name, "==", value, span, text=_written(p.value)), span, written="!=")
            return ir.Compare(f.name, p.op, value, span, text=_written(p.value))
        if isinstance(p, ast.InSetPred):
            if isinstance(p.target, ast.SetLiteral):
                self._check_mixed(p.target)
            values, source = self.set_values(p.target, ftype, f.name, scope)
            atom = ir.InSet(f.name, values, span, source=source)
            return ir.Not(atom, span, written="not in") if p.negated else atom
        if isinstance(p, ast.InRangePred):
            if ftype.kind not in ("int", "decimal", "string", "digits"):
                self.error("E105", f"a range does not apply to `{f.name}` ({ftype.describe()})", p.span,
                           help="list the members in a set: `{a, b}`")
                raise _Failed
            lo = self._range_end(p.range.lo, ftype, f.name)
            hi = self._range_end(p.range.hi, ftype, f.name)
            if lo is not None and hi is not None and lo > hi:
                self.error("E106", f"this range is empty: {_show(p.range.lo)} is above {_show(p.range.hi)}", p.range.span,
                           help="write the lower bound first")
                raise _Failed
            atom = ir.InRange(f.name, lo, hi, span, lo_text=_written(p.range.lo), hi_text=_written(p.range.hi))
            return ir.Not(atom, span, written="not in") if p.negated else atom
        if isinstance(p, ast.StartsWithPred):
            if ftype.kind not in ("string", "digits"):
                self.error("E105", f"`startswith` applies to `string` and `digits(N)` fields; `{f.name}` is `{ftype.describe()}`", p.span,
                           help=_literal_help(ftype))
                raise _Failed
            if not isinstance(p.prefix, ast.SetLiteral):
                return ir.StartsWith(f.name, self._prefix(p.prefix, f), span, text=_written(p.prefix))
            # A set of prefixes is the disjunction of one `startswith` per prefix, so that the
            # analysis and every evaluator need nothing new; `written` keeps the form for docs.
            if not p.prefix.values:
                self.error("E103", "`startswith {}` lists no prefix, so it matches nothing", p.prefix.span,
                           help=f'list at least one prefix, e.g. `{f.name} startswith {{"9"}}`')
                raise _Failed
            atoms, failed = [], False
            for lit in p.prefix.values:
                try:
                    atoms.append(ir.StartsWith(f.name, self._prefix(lit, f), lit.span, text=_written(lit)))
                except _Failed:
                    failed = True
            if failed:
                raise _Failed
            return ir.Or(tuple(atoms), span, written="startswith")
        if isinstance(p, ast.NullPred):
            if not f.optional:
                state = "true" if p.negated else "false"
                self.error("W102", f"`{f.name}` is never missing, so this is always {state}", p.span,
                           help=f"declare the field as `{ftype.describe()}?` if it may be missing")
            atom = ir.IsNull(f.name, span)
            return ir.Not(atom, span, written="is not null") if p.negated else atom
        raise AssertionError(f"unhandled predicate {type(p).__name__}")  # pragma: no cover

    def _prefix(self, lit, f: ir.Field) -> str:
        """The prefix a `startswith` literal stands for, checked against the field."""
        if not isinstance(lit, ast.StringLit):
            shown = lit.text if isinstance(lit, ast.NumberLit) else _show(lit).strip("`")
            self.error("E103", "`startswith` takes a quoted prefix", lit.span, help=f'write "{shown}"')
            raise _Failed
        digits = f.type.digits
        if f.type.kind == "digits" and (not (lit.value.isascii() and lit.value.isdigit()) or len(lit.value) > digits):
            self.error("E103", f"`{f.name}` holds {digits} digits; a prefix of it is 1 to {digits} digits, not {_show(lit)}",
                       lit.span, help=f'write 1 to {digits} digits in quotes, e.g. `{f.name} startswith "9"`')
            raise _Failed
        return lit.value

    def _range_end(self, lit, ftype: ir.FieldType, field_name: str):
        if lit is None:
            return None
        if ftype.kind in ("int", "decimal") and isinstance(lit, ast.NumberLit):
            if ftype.kind == "int" and not lit.is_integral:
                self.error("E103", f"`{field_name}` is an int; `{lit.text}` is not a whole number", lit.span)
                raise _Failed
            return int(lit.value) if ftype.kind == "int" else lit.value
        return self.convert(lit, ftype, field_name)

    def _check_mixed(self, lit: ast.SetLiteral) -> None:
        kinds = {type(v) for v in lit.values}
        if len(kinds) > 1:
            self.error("E107", "this set mixes values of different types", lit.span,
                       help="a set holds values of one type only")
            raise _Failed

    def schema_field(self, schema: ir.Schema, name: ast.Ident) -> ir.Field:
        for f in schema.fields:
            if f.name == name.name:
                if (id(schema), f.name) in self._poisoned:
                    raise _Failed
                return f
        hint = did_you_mean(name.name, [f.name for f in schema.fields])
        self.error("E101", f"`{schema.name}` has no field `{name.name}`", name.span, notes=[hint] if hint else [],
                   help="fields: " + ", ".join(f"`{f.name}`" for f in schema.fields))
        raise _Failed

    def segment(self, ref: ast.SegmentRef, schema: ir.Schema, scope: Scope) -> ir.Pred:
        try:
            decl, where = self.lookup(scope, ref.name, "segment")
        except _Failed:
            if len(ref.name.parts) == 1 and any(f.name == ref.name.text for f in schema.fields):
                self.diags.pop()
                f = schema.field(ref.name.text)
                self.error("E124", f"`{f.name}` is a field, not a segment", ref.span,
                           help=f"write a comparison, e.g. `{f.name} == true`" if f.type.kind == "bool" else
                           f"write a comparison, e.g. `{f.name} is not null`")
            raise
        if id(decl) in self._segments_in_progress:
            cycle = self._segment_names[self._segments_in_progress.index(id(decl)):] + [decl.name.name]
            shown = " -> ".join(f"`{n}`" for n in cycle)
            self.error("E121", f"segment `{decl.name.name}` refers to itself: {shown}", ref.span,
                       labels=[Label(decl.name.span, "declared here")],
                       help="a segment may use other segments, but never itself, directly or through others")
            raise _Failed
        key = (id(decl), id(schema))
        link = ("segment", decl.name.name, ref.span)
        if key in self._segment_cache:
            cached = self._segment_cache[key]
            if cached is None:
                raise _Failed
            self._reuse(key, link)
            return cached
        self._segments_in_progress.append(id(decl))
        self._segment_names.append(decl.name.name)
        try:
            body = self._expand(key, link, lambda: self.pred(decl.pred, schema, where))
        except _Failed:
            self._segment_cache[key] = None
            raise
        finally:
            self._segments_in_progress.pop()
            self._segment_names.pop()
        # The body as its own segment lowered it (for the segment's definition in docs), marked as
        # coming from this segment where it is used; the mark takes no part in equality.
        symbol = ir.NamedSegment(decl.name.name, where.loaded.display, where.loaded.path.stem, body, decl.doc, decl.span)
        marked = dataclasses.replace(body, segment=symbol)
        self._segment_cache[key] = marked
        return marked

    # --- depth through names (MAX_CHAIN, MAX_NESTING)
    def _deeper(self) -> None:
        """One expression level down (a `(`, `not`, set `+`/`-`), counted through names."""
        self._level += 1
        if self._level > self._peak_level:
            self._peak_level = self._level
        if self._level > MAX_NESTING:  # never without a name on the chain: the parser bounds one expression
            self._level -= 1
            self._too_deep(self._chain, self._chain[-1])

    def _expand(self, key, link: tuple[str, str, Span], compute: Callable):
        """`compute()` (a name's definition) with the name on the chain; records how deep it went."""
        if len(self._chain) >= MAX_CHAIN:
            self._chain_too_long([*self._chain, link], link[2], exact=False)
        outer_level, outer_chain = self._peak_level, self._peak_chain
        base = len(self._chain)
        self._chain.append(link)
        self._peak_level, self._peak_chain = self._level, tuple(self._chain)
        try:
            result = compute()
            self._extents[key] = (self._peak_level - self._level, self._peak_chain[base:])
            return result
        finally:
            self._chain.pop()
            self._peak_level = max(outer_level, self._peak_level)
            if len(outer_chain) >= len(self._peak_chain):
                self._peak_chain = outer_chain

    def _reuse(self, key, link: tuple[str, str, Span]) -> None:
        """A name whose definition is cached still counts its levels and chain where it is used again."""
        levels, below = self._extents.get(key, (0, (link,)))
        chain = (*self._chain, link, *below[1:])
        if len(chain) > MAX_CHAIN:
            self._chain_too_long(list(chain), link[2], exact=True)
        if self._level + levels > MAX_NESTING:
            self._too_deep(chain, link)
        self._peak_level = max(self._peak_level, self._level + levels)
        if len(chain) > len(self._peak_chain):
            self._peak_chain = chain

    def _chain_too_long(self, chain: list[tuple[str, str, Span]], at: Span, *, exact: bool) -> NoReturn:
        self._report_depth(chain, at, lambda kind, name: (
            f"{kind} `{name}` is defined through {len(chain) if exact else f'more than {MAX_CHAIN}'} "
            f"{'segments and sets' if len({k for k, _, _ in chain}) > 1 else kind + 's'}; the limit is {MAX_CHAIN}"),
            notes=[], help="define it with fewer names in between: repeat a short predicate or set instead of "
                           "naming every step")

    def _too_deep(self, chain, link: tuple[str, str, Span]) -> NoReturn:
        self._report_depth(chain, link[2], lambda kind, name: (
            f"through {link[0]} `{link[1]}`, {kind} `{name}` is nested more than {MAX_NESTING} levels deep; "
            f"the limit is {MAX_NESTING}"),
            notes=["each `(`, `not` and set `+` or `-` is one level, counted through the segments and sets a "
                   "definition uses"],
            help="drop redundant parentheses and pairs of `not`s in these definitions")

    def _report_depth(self, chain, at: Span, message: Callable, *, notes: list[str], help: str) -> NoReturn:
        # One report per chain: the names above and below it fail with it, quietly.
        names = {(k, n) for k, n, _ in chain}
        if not names & self._depth_reported:
            self._depth_reported |= names
            kind, name, _ = chain[0]
            self.error("E128", message(kind, name), at, notes=[f"chain: {_chain_text(chain)}", *notes], help=help)
        raise _Failed


def _written(lit) -> str | None:
    """A literal as written in the source (provenance for docs)."""
    return lit.span.text if lit is not None and lit.span is not None else None


def _chain_text(chain) -> str:
    names = [f"`{name}`" for _, name, _ in chain]
    if len(names) > 6:
        names = [*names[:3], "...", *names[-2:]]
    return " -> ".join(names)


def _enum_display(scope: Scope, decl: ast.EnumDecl) -> str:
    """`us.UsState` for a stdlib enum, the bare name for a local one."""
    loaded = scope.loaded
    if loaded.is_stdlib:
        return f"{loaded.path.stem}.{decl.name.name}"
    return decl.name.name


_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_SUBDIVISION_CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")  # the grammar's SUBDIVISION terminal


def _compatible(a: ir.FieldType, b: ir.FieldType) -> bool:
    if a.kind != b.kind:
        return a.kind in ("int", "decimal") and b.kind == "decimal"
    if a.kind == "enum":
        return a.members == b.members
    if a.kind == "digits":
        return a.digits == b.digits
    return True


def _show(lit) -> str:
    if isinstance(lit, ast.StringLit):
        return '"' + lit.value.replace('"', '\\"') + '"'
    if isinstance(lit, ast.NumberLit):
        return f"`{lit.text}`"
    if isinstance(lit, ast.BoolLit):
        return f"`{'true' if lit.value else 'false'}`"
    if isinstance(lit, ast.MemberLit):
        return f"`{lit.name}`"
    return "`null`"


def _member_hint(name: str, ftype: ir.FieldType) -> str | None:
    """The "did you mean ...?" note for a name that is not a member (terrl.diagnostics.suggest
    .member_hint); on a field of ISO 3166-2 codes, a bare code (`CA`) is answered with the full
    codes that end so, with their countries."""
    members, titles = ftype.members, ftype.titles or (None,) * len(ftype.members)
    if ftype.subdivisions and "-" not in name and not any(m.casefold() == name.casefold() for m in members):
        coded = [i for i, m in enumerate(members) if m.endswith("-" + name.upper())]
        if coded:
            shown = [f"`{members[i]}`" + (f" ({titles[i]})" if titles[i] else "") for i in coded[:6]]
            more = f" and {len(coded) - 6} more" if len(coded) > 6 else ""
            return "write the full ISO 3166-2 code, with its country: " + ", ".join(shown) + more
    return member_hint(name, ftype.members, ftype.titles)


def _members_help(ftype: ir.FieldType) -> str:
    shown = ", ".join(f"`{m}`" for m in ftype.members[:12])
    more = f" and {len(ftype.members) - 12} more" if len(ftype.members) > 12 else ""
    return f"members: {shown}{more}"


def _literal_help(ftype: ir.FieldType) -> str:
    return {
        "bool": "write `true` or `false`",
        "int": "write a whole number such as `1000` or `5K`",
        "decimal": "write a number such as `12.5` or `500M`",
        "string": 'write a quoted string such as "text"',
        "digits": f"write {ftype.digits} digits in quotes",
        "enum": _members_help(ftype),
    }[ftype.kind]


def _wrong_kind_help(name: str, found: str | None, expected: str) -> str | None:
    if found == "set" and expected == "segment":
        return f"to test membership write `FIELD in {name}`"
    if found == "segment" and expected == "set":
        return f"a segment is a predicate: use `{name}` on its own in a `where`"
    return None


# --- models, territories, tests ---------------------------------------------------------

def lower_module(loaded: LoadedModule, diagnostics: list[Diagnostic], lowerer: Lowerer | None = None) -> ir.Program:
    """Resolve and type-check one root module (its imports included) into a Program."""
    lw = lowerer or Lowerer(diagnostics)
    scope = _scope_of(loaded, diagnostics)
    module = loaded.module
    if module is None:
        return ir.Program(models=(), file=loaded.display)
    schemas: list[ir.Schema] = []
    models: list[ir.Model] = []
    tests: list[ir.TestCase] = []
    # Everything declared is checked, even if unused.
    for decl in module.decls:
        try:
            if isinstance(decl, ast.SchemaDecl):
                s = lw.schema(decl, scope)
                if s is not None:
                    schemas.append(s)
            elif isinstance(decl, ast.SetDecl):
                lw.named_set(decl, scope)
            elif isinstance(decl, ast.EnumDecl):
                lw.enum_type(decl, scope, decl.name.name)
        except _Failed:
            pass
    for decl in module.decls:
        if isinstance(decl, ast.ModelDecl):
            model = _lower_model(lw, decl, scope, loaded)
            if model is not None:
                models.append(model)
    # segments are checked against the schema(s) of the models that use them; an
    # unused segment is still checked against the file's only schema, if there is one.
    for decl in module.decls:
        if isinstance(decl, ast.SegmentDecl):
            if (id(loaded), decl.name.name) not in lw.usage.used:
                candidates = _schemas_in_scope(lw, scope)
                if len(candidates) == 1:
                    try:
                        lw.pred(decl.pred, candidates[0][1], scope)
                    except _Failed:
                        pass
    tested: dict[str, ir.Model | None] = {}
    for decl in module.decls:
        if isinstance(decl, ast.TestDecl):
            test = _lower_test(lw, decl, scope, models, tested)
            if test is not None:
                tests.append(test)
    if any(isinstance(d, ast.ModelDecl) for d in module.decls) and not any(d.is_error for d in diagnostics):
        _report_unused(lw, loaded, scope)
    imported_models = tuple((name, m) for name, m in tested.items() if m is not None and "." in name)
    return ir.Program(models=tuple(models), tests=tuple(tests), schemas=tuple(schemas), sets=tuple(lw.set_symbols),
                      file=loaded.display, doc=module.doc, tested_models=imported_models)


def _report_unused(lw: Lowerer, loaded: LoadedModule, scope: Scope) -> None:
    for name, decl in scope.decls.items():
        kind = scope.kind_of[name]
        if (id(loaded), name) in lw.usage.used:
            continue
        if kind == "segment":
            lw.error("W203", f"segment `{name}` is never used", decl.name.span,
                     help="use it in a `where`, or delete it")
        elif kind == "set":
            lw.error("W204", f"set `{name}` is never used", decl.name.span, help="use it in a `where`, or delete it")
    for qualifier, decl in loaded.import_decls.items():
        if (id(loaded), qualifier) not in lw.usage.used_imports:
            lw.error("W101", f"`{qualifier}` is imported but never used", decl.span, help="delete the import")


def _schemas_in_scope(lw: Lowerer, scope: Scope) -> list[tuple[str, ir.Schema]]:
    out = []
    for name, decl in scope.decls.items():
        if scope.kind_of[name] == "schema":
            s = lw.schema(decl, scope)
            if s is not None:
                out.append((name, s))
    for q, mod in scope.loaded.imports.items():
        sub = _scope_of(mod)
        for name, decl in sub.decls.items():
            if sub.kind_of[name] == "schema":
                s = lw.schema(decl, sub)
                if s is not None:
                    out.append((f"{q}.{name}", s))
    return out


def _lower_model(lw: Lowerer, decl: ast.ModelDecl, scope: Scope, loaded: LoadedModule) -> ir.Model | None:
    if decl.schema is not None:
        try:
            sdecl, where = lw.lookup(scope, decl.schema, "schema")
        except _Failed:
            return None
        schema = lw.schema(sdecl, where)
        if schema is None:
            return None
    else:
        candidates = _schemas_in_scope(lw, scope)
        if not candidates:
            lw.error("E115", f"model `{decl.name.name}` has no schema to check against", decl.name.span,
                     help="declare `schema Account { ... }` in this file or import one")
            return None
        if len(candidates) > 1:
            names = ", ".join(f"`{n}`" for n, _ in candidates)
            lw.error("E114", f"several schemas are in scope ({names}); say which one model `{decl.name.name}` uses",
                     decl.name.span, help=f"write `model {decl.name.name} for {candidates[0][0]} {{ ... }}`")
            return None
        qualified, schema = candidates[0]
        if "." in qualified:  # the schema comes from an import: that import is used
            lw.usage.used_imports.add((id(scope.loaded), qualified.split(".", 1)[0]))
    items = _body(lw, decl.items, schema, scope, at_model=True)
    ok = items.pop("ok")
    territories = _lower_children(lw, decl.items, schema, scope, "", items["policy"] or "unique")
    if not ok or territories is None:
        return None
    return ir.Model(
        name=decl.name.name, title=decl.title.value if decl.title else None, schema=schema,
        universe=items["where"], policy=items["policy"] or "unique", keep=items["keep"],
        territories=territories, effective=items["effective"], status=items["status"], doc=decl.doc,
        file=loaded.display, span=decl.span, name_span=decl.name.span, where_span=items["where_span"],
        policy_span=items["policy_span"])


def _body(lw: Lowerer, items, schema: ir.Schema, scope: Scope, *, at_model: bool) -> dict:
    out = {"where": None, "where_span": None, "is_else": False, "policy": None, "policy_span": None, "keep": False,
           "owners": [],
           "meta": [], "effective": None, "status": None, "ok": True}
    seen: dict[type, object] = {}
    for item in items:
        if isinstance(item, ast.TerritoryDecl):
            continue
        once = isinstance(item, (ast.WhereItem, ast.PolicyItem, ast.EffectiveItem, ast.StatusItem, ast.ElseItem, ast.KeepItem))
        if once and type(item) in seen:
            word = _item_word(item)
            lw.error("E118", f"`{word}` appears twice", item.span, labels=[Label(seen[type(item)].span, "first here")],
                     help=f"keep one `{word}`" + (" and join the predicates with `and`" if word == "where" else ""))
            continue
        seen[type(item)] = item
        if isinstance(item, ast.WhereItem):
            try:
                out["where"] = lw.pred(item.pred, schema, scope)
                out["where_span"] = item.span
            except _Failed:
                out["ok"] = False
        elif isinstance(item, ast.ElseItem):
            if at_model:
                lw.error("E123", "a model cannot say `else`", item.span,
                         help="use `keep` to leave what no territory takes unassigned")
                out["ok"] = False
            else:
                out["is_else"] = True
                out["where_span"] = item.span
        elif isinstance(item, ast.PolicyItem):
            out["policy"] = item.policy
            out["policy_span"] = item.span
        elif isinstance(item, ast.KeepItem):
            out["keep"] = True
        elif isinstance(item, ast.OwnerItem):
            if at_model:
                lw.error("E125", "a model has no owner; put `owner` in its territories", item.span)
            else:
                out["owners"].append(ir.Owner(item.owner.value, item.role.name if item.role else None, item.span))
        elif isinstance(item, ast.MetaItem):
            keys: dict[str, ast.MetaEntry] = {}
            for entry in item.entries:
                if entry.key.name in keys:
                    lw.error("E102", f"meta key `{entry.key.name}` is given twice", entry.key.span,
                             labels=[Label(keys[entry.key.name].key.span, "first here")])
                    continue
                keys[entry.key.name] = entry
                out["meta"].append((entry.key.name, _meta_value(entry.value)))
        elif isinstance(item, ast.EffectiveItem):
            if not at_model:
                lw.error("E125", "`effective` belongs to a model, not to a territory", item.span)
            out["effective"] = item.date.value
        elif isinstance(item, ast.StatusItem):
            if not at_model:
                lw.error("E125", "`status` belongs to a model, not to a territory", item.span)
            out["status"] = item.status
    if out["is_else"] and ast.WhereItem in seen:
        lw.error("E108", "a territory cannot have both `else` and `where`", seen[ast.ElseItem].span,
                 labels=[Label(seen[ast.WhereItem].span, "this `where`")],
                 help="`else` takes what the siblings leave; drop one of the two")
        out["ok"] = False
    return out


def _item_word(item) -> str:
    return {ast.WhereItem: "where", ast.PolicyItem: "policy", ast.EffectiveItem: "effective",
            ast.StatusItem: "status", ast.ElseItem: "else", ast.KeepItem: "keep"}[type(item)]


def _meta_value(value):
    if isinstance(value, ast.NumberLit):
        return int(value.value) if value.is_integral else value.value
    if isinstance(value, (ast.StringLit, ast.BoolLit)):
        return value.value
    if isinstance(value, ast.MemberLit):
        return value.name
    if isinstance(value, ast.DateLit):
        return value.value.isoformat()
    return None


def _lower_children(lw: Lowerer, items, schema: ir.Schema, scope: Scope, prefix: str, policy: str):
    children: list[ir.Territory] = []
    seen: dict[str, ast.TerritoryDecl] = {}
    else_decl: ast.TerritoryDecl | None = None
    ok = True
    for item in items:
        if not isinstance(item, ast.TerritoryDecl):
            continue
        name = item.name.name
        if name in seen:
            lw.error("E102", f"`{prefix}{name}` is declared twice among its siblings", item.name.span,
                     labels=[Label(seen[name].name.span, "first declared here")], help="rename one of them")
            ok = False
            _lower_territory(lw, item, schema, scope, prefix, policy)  # for the errors in its body, then dropped
            continue
        seen[name] = item
        t = _lower_territory(lw, item, schema, scope, prefix, policy)
        if t is None:
            ok = False
            continue
        if t.is_else:
            if else_decl is not None:
                lw.error("E109", "only one sibling may say `else`", t.where_span,
                         labels=[Label(else_decl.name.span, "`else` already here")],
                         help="merge the two territories, or give one of them a `where`")
                ok = False
            else_decl = item
        children.append(t)
    return tuple(children) if ok else None


def _lower_territory(lw: Lowerer, decl: ast.TerritoryDecl, schema: ir.Schema, scope: Scope, prefix: str,
                     inherited_policy: str) -> ir.Territory | None:
    items = _body(lw, decl.items, schema, scope, at_model=False)
    path = prefix + decl.name.name
    policy = items["policy"] or inherited_policy
    children = _lower_children(lw, decl.items, schema, scope, path + ".", policy)
    if not items["ok"] or children is None:
        return None
    return ir.Territory(
        name=decl.name.name, path=path, title=decl.title.value if decl.title else None,
        where=items["where"], is_else=items["is_else"], policy=policy, keep=items["keep"],
        owners=tuple(items["owners"]), meta=tuple(items["meta"]), doc=decl.doc, children=children,
        span=decl.span, name_span=decl.name.span, where_span=items["where_span"], policy_span=items["policy_span"])


def _literal_value(lit):
    if isinstance(lit, ast.NumberLit):
        return int(lit.value) if lit.is_integral and "." not in lit.text else lit.value
    if isinstance(lit, (ast.StringLit, ast.BoolLit)):
        return lit.value
    if isinstance(lit, ast.MemberLit):
        return lit.name
    return None


def _test_account_fits(lw: Lowerer, model: ir.Model, name: str, account: ast.AccountItem, expect: ast.ExpectItem) -> bool:
    """A test that expects a territory (or `unassigned`) needs an account the schema accepts:
    a value that does not fit would make it `invalid` and the test fail for the wrong reason.
    (Tests about invalid input say `expect MODEL: invalid`; their values are not checked.)"""
    from terrl.semantics.coerce import InvalidValue, coerce_value, read_in_context

    given = {entry.field.name: entry for entry in account.entries}
    help = f"fix the value, or write `expect {name}: invalid` if the test is about invalid input"
    fits = True
    countries = {}  # the country fields' values, for the fields read in their context
    for f in model.schema.fields:
        entry = given.get(f.name)
        if f.context is None and entry is not None:
            try:
                countries[f.name] = coerce_value(f, _literal_value(entry.value))
            except InvalidValue:
                pass
    for f in model.schema.fields:
        entry = given.get(f.name)
        if entry is None:
            if not f.optional:
                lw.error("E120", f"the test account has no `{f.name}`, which `{model.schema.name}` requires",
                         account.span, labels=[Label(expect.span, "so the account is invalid, not as expected here")],
                         help=f"add `{f.name}: ...` to the account, or write `expect {name}: invalid`")
                fits = False
            continue
        try:
            raw = _literal_value(entry.value)
            if f.context is not None:
                raw = read_in_context(f, raw, countries.get(f.context))
            coerce_value(f, raw)
        except InvalidValue as exc:
            lw.error("E120", f"this value does not fit the schema: {exc}", entry.value.span,
                     labels=[Label(expect.span, "so the account is invalid, not as expected here")], help=help)
            fits = False
    return fits


def _declared_paths(items, prefix: str = "") -> Iterator[str]:
    """Territory paths as written, for a model whose rules have errors (it has no IR)."""
    for item in items:
        if isinstance(item, ast.TerritoryDecl):
            path = prefix + item.name.name
            yield path
            yield from _declared_paths(item.items, path + ".")


def _lower_test(lw: Lowerer, decl: ast.TestDecl, scope: Scope, models: list[ir.Model],
                tested: dict[str, ir.Model | None]) -> ir.TestCase | None:
    """One `test` block. Every expectation is checked on its own and every problem is
    reported (an unknown path does not hide an unknown field). `tested` caches the models
    the file's tests name, by name as written (`FY26`, `fy26.FY26`); None for a model
    whose rules have errors."""
    accounts = [i for i in decl.items if isinstance(i, ast.AccountItem)]
    expects = [i for i in decl.items if isinstance(i, ast.ExpectItem)]
    if len(accounts) != 1 or not expects:
        what = "an `account { ... }`" if not accounts else "one `account`" if len(accounts) > 1 else "an `expect MODEL: PATH`"
        lw.error("E127", f"test {json.dumps(decl.name.value, ensure_ascii=False)} needs {what}", decl.name.span,
                 help="write one `account { ... }` and at least one `expect MODEL: path`")
        return None
    ok = True
    out_expect = []
    fields_checked: set[str] = set()
    for e in expects:
        found = _tested_model(lw, e.model, scope, models, tested)
        if found is None:
            ok = False
            continue
        name, mdecl, model = found
        if model is None:
            # The model has errors (reported already), so this test cannot run; its path
            # is still checked against the territories as written.
            ok = False
            if isinstance(e.outcome, ast.QualName):
                _check_test_path(lw, name, e.outcome, list(_declared_paths(mdecl.items)))
            continue
        outcome = e.outcome
        if isinstance(e.outcome, ast.QualName):
            outcome = e.outcome.text
            if not _check_test_path(lw, name, e.outcome, [t.path for t in model.walk()]):
                ok = False
        fields = {f.name for f in model.schema.fields}
        unknown = [entry for entry in accounts[0].entries if entry.field.name not in fields]
        if name not in fields_checked:  # once per model: several expectations share the account
            fields_checked.add(name)
            for entry in unknown:
                hint = did_you_mean(entry.field.name, fields)
                lw.error("E119", f"`{model.schema.name}` has no field `{entry.field.name}`", entry.field.span,
                         notes=[hint] if hint else [])
        ok = ok and not unknown
        # (with a misspelt field name, "a required field is missing" would only repeat E119)
        if outcome != "invalid" and not unknown and not _test_account_fits(lw, model, name, accounts[0], e):
            ok = False
        out_expect.append(ir.Expectation(name, outcome, e.span))
    seen: set[str] = set()
    for entry in accounts[0].entries:
        if entry.field.name in seen:
            lw.error("E102", f"field `{entry.field.name}` is given twice", entry.field.span)
            ok = False
        seen.add(entry.field.name)
    if not ok:
        return None
    account = tuple((entry.field.name, _literal_value(entry.value)) for entry in accounts[0].entries)
    return ir.TestCase(decl.name.value, account, tuple(out_expect), decl.span)


def _check_test_path(lw: Lowerer, model_name: str, path: ast.QualName, paths: list[str]) -> bool:
    if path.text in paths:
        return True
    hint = did_you_mean(path.text, paths)
    lw.error("E113", f"model `{model_name}` has no territory `{path.text}`", path.span,
             notes=[hint] if hint else [], help="write the full path from the model, e.g. `na.west.west_ent`")
    return False


def _tested_model(lw: Lowerer, name: ast.QualName, scope: Scope, models: list[ir.Model],
                  tested: dict[str, ir.Model | None]) -> tuple[str, ast.ModelDecl, ir.Model | None] | None:
    """The model an `expect` names: declared in this file (`FY26`) or in a file it imports
    (`fy26.FY26`). Returns (name as written, its declaration, its IR or None when its rules
    have errors); reports and returns None when there is no such model."""
    imported = [f"{q}.{n}" for q, mod in scope.loaded.imports.items()
                for n, k in _scope_of(mod).kind_of.items() if k == "model"]
    if len(name.parts) == 1 and name.text not in scope.decls:
        same = [q for q in imported if q.rpartition(".")[2] == name.text]
        if same:  # the model lives in an imported file: it is named through the import
            lw.error("E101", f"unknown model `{name.text}`", name.span, notes=[f"did you mean `{same[0]}`?"],
                     help=f"a model of an imported file is named through its import: `expect {same[0]}: ...`")
            return None
    try:
        decl, where = lw.lookup(scope, name, "model")
    except _Failed:
        return None
    written = name.text
    if written not in tested:
        if where is scope:
            tested[written] = next((m for m in models if m.name == written), None)
        else:
            # A private lowerer: the imported file's own warnings belong to checking that file;
            # its errors are reported here, because they are why this test cannot run.
            private: list[Diagnostic] = []
            model = _lower_model(Lowerer(private), decl, where, where.loaded)
            lw.diags.extend(d for d in private if d.is_error)
            tested[written] = None if model is None or has_errors(private) else model
    return written, decl, tested[written]
