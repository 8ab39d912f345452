"""Documentation for people who sell: checked models -> one view-model -> Markdown and HTML.

`docs_input` takes the checked programs and the findings from a `terrl.pipeline.Compilation`
(`load_docs` makes one from paths), `build_site` turns the checked programs into plain
frozen dataclasses, and `render_site` feeds those to the Jinja2 templates in
`terrl/docs/templates/`. Everything comes from the IR: the names, docs and definitions
of sets and segments, enum member titles and the files' headers are its provenance
(see `terrl.semantics.ir`); docs never read the AST or resolve a name again. The
hierarchy diagrams (Mermaid for Markdown, inline SVG for HTML) come from
`hierarchy_diagram`. Output is deterministic: no timestamps, every list in source or
declared order.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from terrl import __version__
from terrl.semantics import ir
from terrl.diagnostics.core import Diagnostic, has_errors
from terrl.docs.english import (FieldInfo, Link, NamedRef, Phrase, Text, Values, clause, doc_label, format_number, plain,
                      sentence, set_description, territory_label, value_items, values, visible)
from terrl.docs.hierarchy_diagram import DIAGRAM_MAX_NODES  # noqa: F401  (part of this module's API: the diagram size)
from terrl.docs.hierarchy_diagram import SvgDiagram, collapse, mermaid_text, svg_layout, territory_anchor
from terrl.pipeline import Compilation

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCOPE_MAX_SIBLING_LINKS = 5


# --- loading --------------------------------------------------------------------------

@dataclass
class LoadedDocs:
    roots: list[tuple[str, ir.Program]] = field(default_factory=list)  # (shown path, program) per file given
    diagnostics: list[Diagnostic] = field(default_factory=list)  # parse and type errors and warnings
    findings: list[Diagnostic] = field(default_factory=list)  # coverage analysis
    analysed: bool = False  # False when this terrl has no coverage analysis

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def coverage_available() -> bool:
    return importlib.util.find_spec("terrl.analysis.coverage") is not None


def load_docs(paths: list[Path], *, analyse: bool = True) -> LoadedDocs:
    """Parse and resolve like `terrl check`; unless told not to, analyze (its findings are documented, not fatal)."""
    return docs_input(Compilation.from_paths(paths), analyse=analyse)


def docs_input(compilation: Compilation, *, analyse: bool = True) -> LoadedDocs:
    """What the docs need of a compilation; the analysis runs only when every file is free of errors."""
    out = LoadedDocs(analysed=analyse and coverage_available())
    out.roots = list(compilation.programs.items())
    out.diagnostics = compilation.diagnostics
    if out.ok and out.analysed:
        out.findings = compilation.findings
    return out


# --- the view-model -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OwnerView:
    id: str
    role: str | None


@dataclass(frozen=True, slots=True)
class MetaView:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ScopeStep:
    source: Link | None  # the territory (or model) this condition comes from
    phrase: Phrase


@dataclass(frozen=True, slots=True)
class TerritoryView:
    path: str
    name: str
    label: str  # title, or name when untitled
    title: str | None
    anchor: str  # "t-na.west"
    depth: int  # 0 for top-level
    doc: tuple[str, ...]  # paragraphs
    owners: tuple[OwnerView, ...]
    meta: tuple[MetaView, ...]
    own: Phrase  # its own `where`
    scope: tuple[ScopeStep, ...]  # everything an account must satisfy to reach it
    parent: Link
    children: tuple[Link, ...]
    is_leaf: bool
    keep: bool
    is_else: bool
    policy: str  # among its children
    search_text: str


@dataclass(frozen=True, slots=True)
class TreeNode:
    anchor: str
    label: str
    path: str
    children: tuple["TreeNode", ...]


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    kind: str  # "segment" or "set"
    name: str  # canonical: "us.west", "accounts.enterprise"
    label: str
    anchor: str
    doc: tuple[str, ...]
    definition: Phrase
    values: Values | None  # a set's members, in full behind the summary


@dataclass(frozen=True, slots=True)
class WitnessValue:
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class FindingView:
    code: str
    name: str
    severity: str
    message: str
    location: str  # "examples/acme/acme.terr:37"
    territories: tuple[Link, ...]
    witness: tuple[WitnessValue, ...]
    region: str  # in rule syntax, as `terrl check` prints it (the fallback)
    region_phrase: Phrase  # the same accounts in plain English, when the analysis gave them as a predicate


@dataclass(frozen=True, slots=True)
class Diagram:
    caption: str
    mermaid: str  # for Markdown
    svg: SvgDiagram  # for HTML: the same territories
    collapsed: bool  # some territories are not drawn


@dataclass(frozen=True, slots=True)
class FieldView:
    name: str
    type: str
    optional: bool
    key: bool
    doc: tuple[str, ...]  # the field's `##` doc
    type_doc: str | None  # first line of its named enum's `##` doc


@dataclass(frozen=True, slots=True)
class SchemaView:
    name: str
    file: str | None  # where it is declared (None for the standard library)
    doc: tuple[str, ...]
    fields: tuple[FieldView, ...]


@dataclass(frozen=True, slots=True)
class SourceView:
    path: str  # as given on the command line
    doc: tuple[str, ...]  # the file's `##` header (before its first import)


@dataclass(frozen=True, slots=True)
class ModelView:
    name: str
    slug: str  # file stem of its pages
    title: str
    file: str
    doc: tuple[str, ...]
    file_doc: tuple[str, ...]  # the `##` header of the file the model is in
    effective: str | None
    status: str | None
    policy: str
    policy_text: str
    keep: bool
    universe: Phrase
    schema: SchemaView
    territories: tuple[TerritoryView, ...]  # depth first, source order
    tree: tuple[TreeNode, ...]
    leaf_count: int
    diagrams: tuple[Diagram, ...]
    glossary: tuple[GlossaryEntry, ...]
    analysed: bool
    findings: tuple[FindingView, ...]

    @property
    def error_count(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def findings_summary(self) -> str:
        """"2 errors and 31 warnings", "33 warnings": what `check` found, by severity (a page that
        says "33 problems" when all are warnings alarms its readers for nothing)."""
        counts = []
        for severity in ("error", "warning"):  # notes are left out of the docs
            n = sum(f.severity == severity for f in self.findings)
            if n:
                counts.append(f"{n:,} {severity}{'s' if n != 1 else ''}")
        return " and ".join([", ".join(counts[:-1]), counts[-1]] if len(counts) > 1 else counts)


@dataclass(frozen=True, slots=True)
class SiteView:
    version: str
    sources: tuple[SourceView, ...]
    models: tuple[ModelView, ...]


POLICY_TEXT = {
    "unique": "unique: sibling territories must never both match an account",
    "first": "first: sibling territories are tried in order and the first match wins",
    "all": "all: an account goes to every sibling territory that matches",
}


def paragraphs(doc: str | None) -> tuple[str, ...]:
    """A `##` doc block as paragraphs: lines joined, blank lines separate."""
    if not doc:
        return ()
    out, current = [], []
    for line in doc.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return tuple(out)


def build_site(docs: LoadedDocs) -> SiteView:
    models: list[ModelView] = []
    slugs: set[str] = set()
    for shown, program in docs.roots:
        for model in program.models:
            slug = _unique_slug(model.name, slugs)
            # Notes (N201: what `policy first` decides) are for rule authors running `check`; the
            # pages already say that the first match wins.
            findings = [d for d in docs.findings if d.extra.get("model") == model.name and d.severity != "note"
                        and d.span is not None and d.span.file.path == model.file]
            models.append(_ModelBuilder(model, program, slug, docs.analysed, findings).build())
    sources = tuple(SourceView(shown, paragraphs(program.doc)) for shown, program in docs.roots)
    return SiteView(__version__, sources, tuple(models))


def _unique_slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "model"
    slug, n = base, 2
    while slug.lower() in taken or slug.lower() in ("index", "readme"):
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug.lower())
    return slug


# --- names -----------------------------------------------------------------------------

def _member_titles(ftype: ir.FieldType) -> dict[str, str]:
    """An enum field's titled members: member -> title."""
    return {m: t for m, t in zip(ftype.members, ftype.titles) if t is not None}


def _first_doc_line(doc: str | None) -> str | None:
    """The first line of a named enum's `##` doc (as for sets: later lines are often notes)."""
    lines = [line.strip() for line in (doc or "").splitlines() if line.strip()]
    return lines[0] if lines else None


# --- one model ---------------------------------------------------------------------------

class _ModelBuilder:
    """One model's page. Also the english.Lookup for its predicates: naming a set or segment there
    registers its glossary entry."""

    def __init__(self, model: ir.Model, program: ir.Program, slug: str, analysed: bool,
                 findings: list[Diagnostic]) -> None:
        self.model = model
        self.program = program
        self.slug = slug
        self.analysed = analysed
        self.findings = findings
        self.fields = self._field_infos()
        # By (kind, declaring file, name): two files may declare sets or segments of the same name.
        self.glossary: dict[tuple[str, str, str], GlossaryEntry | None] = {}
        self.glossary_order: list[tuple[str, str, str]] = []
        self.refs: dict[tuple[str, str, str], NamedRef] = {}
        self.anchors: set[str] = set()

    def _field_infos(self) -> dict[str, FieldInfo]:
        return {f.name: FieldInfo(f.name, f.type.kind, f.optional, _member_titles(f.type), f.type.members)
                for f in self.model.schema.fields}

    def _schema_view(self) -> SchemaView:
        """The schema with its own doc and each field's, as the IR carries them."""
        schema = self.model.schema
        fields = tuple(FieldView(f.name, f.type_text(), f.optional, f.key, paragraphs(f.doc),
                                 _first_doc_line(f.type.doc) if f.type.enum_name else None)
                       for f in schema.fields)
        return SchemaView(schema.name, None if schema.stdlib else schema.file, paragraphs(schema.doc), fields)

    # english.Lookup ---------------------------------------------------------------------
    def field(self, name: str) -> FieldInfo:
        return self.fields[name]

    def named_set(self, named: ir.NamedSet) -> NamedRef:
        return self.register("set", named)

    def segment(self, named: ir.NamedSegment) -> NamedRef:
        return self.register("segment", named)

    # glossary -------------------------------------------------------------------------
    def _canonical(self, named: ir.NamedSet | ir.NamedSegment) -> str:
        """The bare name for the model's own file, `us.west` for an imported or stdlib module's."""
        return named.name if named.file == self.model.file else f"{named.module}.{named.name}"

    def register(self, kind: str, named: ir.NamedSet | ir.NamedSegment) -> NamedRef:
        key = (kind, named.file, named.name)
        if key in self.refs:
            return self.refs[key]
        name = self._canonical(named)
        anchor = ("set-" if kind == "set" else "seg-") + name
        label = doc_label(named.doc, name) if isinstance(named, ir.NamedSet) else named.name
        if anchor in self.anchors:
            # The same name from another file (two `regions.terr` in different folders): its own anchor,
            # and the file in its heading.
            n = 2
            while f"{anchor}-{n}" in self.anchors:
                n += 1
            name, anchor = f"{name} ({named.file})", f"{anchor}-{n}"
        self.anchors.add(anchor)
        if isinstance(named, ir.NamedSet):
            stype, titles = named.type.kind, _member_titles(named.type)
            ordered = ([m for m in named.type.members if m in named.values] if stype == "enum"
                       else sorted(named.values))
            ref = NamedRef(label, "#" + anchor, tuple(ordered))
        else:
            ref = NamedRef(label, "#" + anchor)
        self.refs[key] = ref
        self.glossary_order.append(key)
        self.glossary[key] = None
        # The entry's own definition may register further names; build it after the ref exists.
        if isinstance(named, ir.NamedSet):
            info = FieldInfo(name, stype, False, titles, named.type.members)
            # A literal set is its values; only a set built from others gets a definition line.
            literal = isinstance(named.expr, ir.SetLiteral)
            definition = () if literal else set_description(named.expr, info, self)
            shown = values(value_items(info, ref.values), "and")
            entry = GlossaryEntry("set", name, ref.label, anchor, paragraphs(named.doc), definition, shown)
        else:
            definition = sentence(named.pred, self)
            entry = GlossaryEntry("segment", name, ref.label, anchor, paragraphs(named.doc), definition, None)
        self.glossary[key] = entry
        return ref

    # territories ----------------------------------------------------------------------
    def _link(self, t: ir.Territory) -> Link:
        return Link(territory_label(t), "#" + _anchor(t))

    def build(self) -> ModelView:
        model = self.model
        model_link = Link(model.title or model.name, "#top")
        views: list[TerritoryView] = []

        def visit(t: ir.Territory, siblings: tuple[ir.Territory, ...], parent_policy: str, parent: Link,
                  inherited: tuple[ScopeStep, ...], depth: int) -> None:
            where = t.where
            index = siblings.index(t)
            steps = list(inherited)
            if t.is_else:
                others = [s for s in siblings if s is not t]
                own = _merge(Text("Accounts that reach "), parent, Text(" and that no sibling takes"))
                steps.append(ScopeStep(self._link(t), self._not_taken("not taken by ", others, parent, "siblings")))
            elif where is None:
                own = _merge(Text("All accounts that reach "), parent)
            else:
                own = sentence(where, self)
                steps.append(ScopeStep(self._link(t), _step(where, self)))
            if parent_policy == "first" and index > 0 and not t.is_else:
                steps.append(ScopeStep(self._link(t), self._not_taken(
                    "not taken by an earlier sibling (first match wins): ", list(siblings[:index]), parent,
                    "earlier siblings")))
            owners = tuple(OwnerView(o.id, o.role) for o in t.owners)
            meta = tuple(MetaView(k, _show_meta(v)) for k, v in t.meta)
            search = " ".join([t.path, t.title or "", *(o.id for o in t.owners), *(o.role or "" for o in t.owners)])
            views.append(TerritoryView(
                path=t.path, name=t.name, label=territory_label(t), title=t.title, anchor=_anchor(t), depth=depth,
                doc=paragraphs(t.doc), owners=owners, meta=meta, own=own, scope=tuple(steps), parent=parent,
                children=tuple(self._link(c) for c in t.children), is_leaf=t.is_leaf, keep=t.keep,
                is_else=t.is_else, policy=t.policy, search_text=search.lower()))
            for child in t.children:
                visit(child, t.children, t.policy, self._link(t), tuple(steps), depth + 1)

        universe_steps: tuple[ScopeStep, ...] = ()
        model_where = model.universe
        universe = sentence(model_where, self)
        if model_where is not None:
            universe_steps = (ScopeStep(model_link, _step(model_where, self)),)
        for t in model.territories:
            visit(t, model.territories, model.policy, model_link, universe_steps, 0)

        glossary = tuple(self.glossary[k] for k in self.glossary_order)
        return ModelView(
            name=model.name, slug=self.slug, title=model.title or model.name, file=model.file,
            doc=paragraphs(model.doc), file_doc=paragraphs(self.program.doc),
            effective=model.effective.isoformat() if model.effective else None,
            status=model.status, policy=model.policy, policy_text=POLICY_TEXT[model.policy], keep=model.keep,
            universe=universe, schema=self._schema_view(),
            territories=tuple(views), tree=tuple(_tree(t) for t in model.territories),
            leaf_count=sum(1 for t in model.walk() if t.is_leaf), diagrams=self._diagrams(),
            glossary=glossary, analysed=self.analysed, findings=tuple(self._finding(d) for d in self.findings))

    def _not_taken(self, head: str, others: list[ir.Territory], parent: Link, what: str) -> Phrase:
        if len(others) <= SCOPE_MAX_SIBLING_LINKS:
            parts: list = [Text(head)]
            for i, o in enumerate(others):
                if i:
                    parts.append(Text(", " if i < len(others) - 1 else " or "))
                parts.append(self._link(o))
            return _merge(*parts)
        return _merge(Text(f"{head}any of the {len(others):,} {what} (see "), parent, Text(")"))

    # check results ----------------------------------------------------------------------
    def _finding(self, d: Diagnostic) -> FindingView:
        paths = list(d.extra.get("territories") or [])
        links = []
        for path in paths:
            try:
                links.append(self._link(self.model.territory(path)))
            except KeyError:
                links.append(Link(path, "#top"))
        witness = []
        raw = d.extra.get("witness") or {}
        for f in self.model.schema.fields:
            if f.name in raw:
                witness.append(WitnessValue(f.name, _show_witness(self.fields[f.name], raw[f.name])))
        location = ""
        if d.span is not None:
            line, _ = d.span.file.line_col(d.span.start)
            location = f"{d.span.file.path}:{line}"
        return FindingView(d.code, d.name, d.severity, d.message, location, tuple(links), tuple(witness),
                           str(d.extra.get("region") or ""), self._region_phrase(d.facts))

    def _region_phrase(self, facts: dict) -> Phrase:
        """"Accounts whose zip starts with 940 and …, or …; and 3 more regions": the region in words."""
        pred = facts.get("region_pred")
        if pred is None:
            return ()
        phrase = sentence(pred, self)
        more = facts.get("more_regions", 0)
        if more:
            at_least = "" if facts.get("complete", True) else "at least "
            phrase = _merge(*phrase, Text(f"; and {at_least}{more:,} more region{'s' if more != 1 else ''}"))
        return phrase

    # diagrams ---------------------------------------------------------------------------
    def _diagrams(self) -> tuple[Diagram, ...]:
        """One diagram of the whole model; when that is collapsed, one more per top-level territory."""
        model = self.model
        title = model.title or model.name
        overview, collapsed = collapse(title, model.name, "#top", (), model.territories)
        caption = "All territories" if not collapsed else "Overview (large branches collapsed)"
        out = [Diagram(caption, mermaid_text(overview), svg_layout(overview, f"Hierarchy of {title}", collapsed),
                       collapsed)]
        if collapsed:
            for t in model.territories:
                if t.children:
                    tree, more = collapse(territory_label(t), t.path, "#" + _anchor(t), t.owners, t.children)
                    caption = f"{territory_label(t)} ({t.path})"
                    out.append(Diagram(caption, mermaid_text(tree), svg_layout(tree, f"Hierarchy of {caption}", more),
                                       more))
        return tuple(out)


def _merge(*parts) -> Phrase:
    from terrl.docs.english import _merge as merge
    return merge(parts)


def _step(where: ir.Pred, lookup: "_ModelBuilder") -> Phrase:
    """A condition in a scope list: the criteria without the leading "Accounts "."""
    return sentence(where, lookup) if isinstance(where, ir.Const) and where.segment is None else clause(where, lookup)


def _anchor(t: ir.Territory) -> str:
    return territory_anchor(t)


def _tree(t: ir.Territory) -> TreeNode:
    return TreeNode(_anchor(t), territory_label(t), t.path, tuple(_tree(c) for c in t.children))


def _show_meta(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return format_number(value)
    return str(value)


def _show_witness(info: FieldInfo, value: Any) -> str:
    if value is None:
        return "missing"
    if info.kind in ("int", "decimal") and isinstance(value, (int, float, str, Decimal)) and not isinstance(value, bool):
        try:
            return format_number(Decimal(str(value)))
        except ArithmeticError:
            return str(value)
    if info.kind == "enum" and value in info.titles:
        return f"{info.titles[value]} ({value})"
    return info.show(value)


# --- rendering ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def md_escape(text: Any) -> str:
    """Text from a `.terr` file as literal Markdown text on one line (GitHub flavour)."""
    text = visible(re.sub(r"\s+", " ", str(text)))  # one line: newlines would end a table row or a list item
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_link_target(anchor: str) -> str:
    return anchor.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             autoescape=autoescape, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True, finalize=_finalize)
    env.filters["md"] = md_escape
    env.filters["md_target"] = md_link_target
    env.filters["plain"] = plain
    env.filters["thousands"] = lambda n: f"{n:,}"
    # Inside <!-- ... --> a `--` (as in a file named `a-->b.terr`) would end the comment early.
    env.filters["in_comment"] = lambda text: str(text).replace("--", "-\u2010")
    return env


def _finalize(value: Any) -> Any:
    # Every printed string: control characters shown as symbols (our own Markup assets pass through).
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return visible(value)
    return value


def render_site(site: SiteView, formats: tuple[str, ...] = ("markdown", "html")) -> dict[str, str]:
    """File name -> text for every page."""
    files: dict[str, str] = {}
    if "markdown" in formats:
        env = _environment(autoescape=False)
        files["README.md"] = env.get_template("index.md.j2").render(site=site)
        page = env.get_template("model.md.j2")
        for m in site.models:
            files[f"{m.slug}.md"] = page.render(site=site, model=m)
    if "html" in formats:
        env = _environment(autoescape=True)
        # Our own assets, inlined so the site makes no requests; they are not user input.
        env.globals["style"] = markupsafe.Markup((TEMPLATES / "style.css").read_text(encoding="utf-8"))
        env.globals["script"] = markupsafe.Markup((TEMPLATES / "search.js").read_text(encoding="utf-8"))
        files["index.html"] = env.get_template("index.html.j2").render(site=site)
        page = env.get_template("model.html.j2")
        for m in site.models:
            files[f"{m.slug}.html"] = page.render(site=site, model=m)
    return files


def write_site(files: dict[str, str], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(files):
        (out_dir / name).write_text(files[name], encoding="utf-8", newline="\n")
