"""Provenance carried by the IR for docs: checked against the AST it came from, and kept out of equality."""

from __future__ import annotations

import ast as pyast
import dataclasses
from pathlib import Path

import pytest

from terrl.syntax import ast
from terrl.semantics import ir
from terrl.semantics.resolve import Loader, Lowerer, lower_module

from support import REPO

SOURCES = [p for d in ("examples", "stdlib", "tests/golden/docs") for p in sorted((REPO / d).rglob("*.terr"))]
DOCS_PACKAGE = REPO / "terrl" / "docs"
# Docs read meaning from the IR only; these modules would let them re-derive it from the AST.
FORBIDDEN_IN_DOCS = ("terrl.syntax.ast", "terrl.semantics.resolve")
# Docs modules that still read the AST (issue 13, part 3, not finished). This list may only shrink:
# the test below fails if a module leaves it without being removed, and if any other module joins.
STILL_READING_AST = {"docsgen.py", "english.py"}


def _lowered(path: Path):
    loader = Loader()
    loaded = loader.load(path)
    assert loaded is not None and loaded.module is not None
    diagnostics: list = []
    program = lower_module(loaded, diagnostics, lowerer=Lowerer(diagnostics))
    return loader, program


def _schema_decl(loader: Loader, schema: ir.Schema):
    """The reference: the declaration found by name and span among every loaded module (what docs used to do)."""
    for loaded in loader.modules.values():
        for decl in loaded.module.decls if loaded.module else ():
            if (isinstance(decl, ast.SchemaDecl) and decl.name.name == schema.name
                    and decl.span.start == schema.span.start and decl.span.file.path == schema.span.file.path):
                return decl, loaded
    raise AssertionError(f"no declaration for schema {schema.name}")


def _enum_decl(loader: Loader, loaded, name: ast.QualName) -> ast.EnumDecl:
    parts = [p.name for p in name.parts]
    target = loaded if len(parts) == 1 else loaded.imports[parts[0]]
    return next(d for d in target.module.decls if isinstance(d, ast.EnumDecl) and d.name.name == parts[-1])


def _check_schemas(path: Path) -> tuple[int, int]:
    """Assert every schema's provenance equals its declaration's; (named enum fields, documented fields) seen."""
    loader, program = _lowered(path)
    schemas = {id(s): s for s in program.schemas} | {id(m.schema): m.schema for m in program.models}
    checked_enums = 0
    for schema in schemas.values():
        decl, loaded = _schema_decl(loader, schema)
        assert (schema.file, schema.stdlib, schema.doc) == (loaded.display, loaded.is_stdlib, decl.doc)
        assert [f.name for f in schema.fields] == [f.name.name for f in decl.fields]
        for field, fdecl in zip(schema.fields, decl.fields):
            assert field.doc == fdecl.doc
            base = fdecl.type.base
            if isinstance(base, ast.InlineEnum):
                members = base.members
                assert field.type.doc is None
            elif isinstance(base, ast.NamedType):
                enum = _enum_decl(loader, loaded, base.name)
                members = enum.members
                assert field.type.doc == enum.doc
                checked_enums += 1
            else:
                continue
            assert dict(zip(field.type.members, field.type.titles)) == {
                m.name.name: (m.title.value if m.title else None) for m in members}
    return checked_enums, sum(f.doc is not None for s in schemas.values() for f in s.fields)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_schema_provenance_matches_the_declarations(path):
    _check_schemas(path)


def test_the_sources_exercise_named_enums_and_field_docs():
    counts = [_check_schemas(p) for p in SOURCES]
    assert sum(c[0] for c in counts) > 0 and sum(c[1] for c in counts) > 0


def test_provenance_takes_no_part_in_equality():
    ftype = ir.FieldType("enum", members=("a", "b"), enum_name="E")
    field = ir.Field("f", ftype)
    schema = ir.Schema("S", (field,))
    other_type = dataclasses.replace(ftype, titles=("A", None), doc="## doc")
    other_field = dataclasses.replace(field, type=other_type, doc="field doc")
    other = dataclasses.replace(schema, fields=(other_field,), file="x.terr", stdlib=True)
    assert other == schema and hash(other) == hash(schema)
    assert dataclasses.replace(schema, doc="a schema doc") != schema  # the schema's own doc always took part


def _imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, pyast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, pyast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_docs_modules_do_not_import_the_ast_or_the_resolver():
    reading = {p.name for p in sorted(DOCS_PACKAGE.glob("*.py"))
               if _imported_modules(p) & set(FORBIDDEN_IN_DOCS)}
    assert reading == STILL_READING_AST, (
        "terrl/docs must read the IR only; if a module stopped importing the AST, drop it from STILL_READING_AST")


def test_the_import_scan_sees_both_import_forms(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from terrl.syntax import ast\nimport terrl.semantics.resolve\n", encoding="utf-8")
    assert set(FORBIDDEN_IN_DOCS) <= _imported_modules(probe)


# --- named sets ----------------------------------------------------------------------

SET_SOURCES = SOURCES + [REPO / "tests" / "data" / "ir_provenance_sets.terr"]  # int, decimal, digits sets


def _reference_values(loader: Loader, loaded, expr) -> set:
    """Set algebra on the AST, from the literals as written (the reference for Program.sets)."""
    if isinstance(expr, ast.SetParen):
        return _reference_values(loader, loaded, expr.inner)
    if isinstance(expr, ast.SetLiteral):
        return {v.name if isinstance(v, ast.MemberLit) else v.value for v in expr.values}
    if isinstance(expr, ast.SetOp):
        left, right = _reference_values(loader, loaded, expr.left), _reference_values(loader, loaded, expr.right)
        return left | right if expr.op == "+" else left - right
    parts = [p.name for p in expr.name.parts]
    target = loaded if len(parts) == 1 else loaded.imports[parts[0]]
    decl = next(d for d in target.module.decls if isinstance(d, ast.SetDecl) and d.name.name == parts[-1])
    return _reference_values(loader, target, decl.expr)


@pytest.mark.parametrize("path", SET_SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_program_sets_match_the_declarations(path):
    loader, program = _lowered(path)
    declared = {(loaded.display, d.name.name): (d, loaded) for loaded in loader.modules.values()
                for d in (loaded.module.decls if loaded.module else ()) if isinstance(d, ast.SetDecl)}
    assert len({(s.file, s.name) for s in program.sets}) == len(program.sets)  # each set once
    for named in program.sets:
        decl, loaded = declared[(named.file, named.name)]
        assert named.doc == decl.doc and program.named_set(named.file, named.name) is named
        # Decimal(5) == 5 and hashes alike, so the written literals compare with the typed values.
        assert named.values == _reference_values(loader, loaded, decl.expr)
    # every set the root file declares was evaluated (the checker checks unused ones too)
    root = loader.modules[path.resolve()]
    own = {d.name.name for d in root.module.decls if isinstance(d, ast.SetDecl)}
    assert own <= {s.name for s in program.sets if s.file == root.display}


def test_program_sets_take_no_part_in_equality():
    program = ir.Program(models=())
    named = ir.NamedSet("s", "f.terr", ir.FieldType("int"), frozenset({1}))
    assert dataclasses.replace(program, sets=(named,)) == program
    with pytest.raises(KeyError):
        program.named_set("f.terr", "s")
