"""Provenance carried by the IR for docs: checked against the AST it came from, and kept out of equality."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from terrl.syntax import ast
from terrl.semantics import ir
from terrl.semantics.resolve import Loader, Lowerer, lower_module

from support import REPO

SOURCES = [p for d in ("examples", "stdlib", "tests/golden/docs") for p in sorted((REPO / d).rglob("*.terr"))]
# That docs read only the IR is an import-linter contract (pyproject.toml; tests/test_layers.py).


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
            if field.read_for is not None:  # `of country in {US, CA}`: those countries' subdivisions only
                members = [m for m in members if m.name.name[:2] in field.read_for]
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


# --- predicates: where each part came from ------------------------------------------------

PRED_SCHEMA = """## The file's header.

import geo.us
enum Region { west "The West", east, north }
## Regions on the Pacific coast.
set coast: Region = {west, north}
set wider: Region = coast + {east} - {north}
schema Account {
  id: string key
  region: Region?
  state: us.UsState?
  zip: digits(5)?
  employees: int
  revenue: decimal
}
## Big accounts.
segment big = employees >= 1K
segment alias = big
segment not_west = region != west
"""


def _where(tmp_path: Path, where: str, *, imports: str = "") -> tuple[ir.Program, ir.Pred]:
    (tmp_path / "terrl.toml").write_text("")
    path = tmp_path / "model.terr"
    source = PRED_SCHEMA.replace("import geo.us\n", "import geo.us\n" + imports)
    path.write_text(source + f"model M {{ territory t {{ where {where} }} }}\n", encoding="utf-8")
    _, program = _lowered(path)
    assert program.models, "the model did not lower"
    return program, program.models[0].territories[0].where


@pytest.mark.parametrize("where, written", [
    ("region != west", "!="),
    ("region not in {west}", "not in"),
    ("region not in coast", "not in"),
    ("employees not in 1..5", "not in"),
    ("region is not null", "is not null"),
    ("not (region == west)", "not"),
    ("not big", "not"),
])
def test_a_not_says_how_it_was_written(tmp_path, where, written):
    _, pred = _where(tmp_path, where)
    assert isinstance(pred, ir.Not) and pred.written == written
    assert pred.negates_atom == (written != "not")


def test_not_not_keeps_both_negations_apart(tmp_path):
    _, pred = _where(tmp_path, "not (region != west)")
    assert isinstance(pred, ir.Not) and pred.written == "not"
    assert isinstance(pred.operand, ir.Not) and pred.operand.written == "!="
    assert pred.operand.operand == ir.Compare("region", "==", "west")


def test_an_in_set_keeps_its_named_set(tmp_path):
    program, pred = _where(tmp_path, "region in coast")
    assert isinstance(pred, ir.InSet) and pred.values == frozenset({"west", "north"})
    assert isinstance(pred.source, ir.SetRef)
    named = pred.source.set
    assert program.named_set(named.file, "coast") is named  # the same symbol as in the program's table
    assert (named.name, named.module, named.doc) == ("coast", "model", "Regions on the Pacific coast.")
    assert named.expr == ir.SetLiteral(("west", "north"), ("west", "north"))


def test_an_in_set_keeps_the_set_expression_as_written(tmp_path):
    program, pred = _where(tmp_path, "region in (wider - {west}) + {east, east}")
    source = pred.source
    # parentheses are not kept; the operators, the names and the literals in written order are
    assert isinstance(source, ir.SetOp) and source.op == "+"
    assert source.right == ir.SetLiteral(("east", "east"), ("east", "east"))
    assert isinstance(source.left, ir.SetOp) and source.left.op == "-"
    assert source.left.right == ir.SetLiteral(("west",), ("west",))
    wider = source.left.left.set
    assert wider.name == "wider" and wider.values == frozenset({"west", "east"})
    # a named set's own definition refers to the sets it is built from, resolved
    assert isinstance(wider.expr, ir.SetOp) and wider.expr.op == "-"
    assert wider.expr.left.left.set.name == "coast"
    assert {s.name for s in program.sets} >= {"coast", "wider"}


def test_a_stdlib_set_keeps_its_module(tmp_path):
    _, pred = _where(tmp_path, "state in us.west")
    named = pred.source.set
    assert (named.name, named.module) == ("west", "us") and named.file.endswith("us.terr")


def test_literals_keep_their_text(tmp_path):
    _, pred = _where(tmp_path, 'employees >= 5K and revenue in 1.50..2M and zip startswith "94" and region == west')
    compare, rng, starts, member = pred.operands
    assert (compare.value, compare.text) == (5000, "5K")
    assert (rng.lo, rng.lo_text, rng.hi, rng.hi_text) == (Decimal("1.50"), "1.50", Decimal(2000000), "2M")
    assert (starts.prefix, starts.text) == ("94", '"94"')
    assert (member.value, member.text) == ("west", "west")
    _, open_range = _where(tmp_path, "employees in ..5")
    assert (open_range.lo, open_range.lo_text, open_range.hi_text) == (None, None, "5")


def test_a_segment_reference_is_marked_with_its_segment(tmp_path):
    _, pred = _where(tmp_path, "big")
    assert pred == ir.Compare("employees", ">=", 1000)
    segment = pred.segment
    assert (segment.name, segment.module, segment.doc) == ("big", "model", "Big accounts.")
    assert segment.file.endswith("model.terr") and segment.span.text.startswith("segment big")
    assert segment.pred == pred and segment.pred.segment is None  # its body, unmarked
    _, negated = _where(tmp_path, "not big")
    assert isinstance(negated, ir.Not) and negated.segment is None and negated.operand.segment.name == "big"


def test_a_segment_through_another_keeps_both(tmp_path):
    _, pred = _where(tmp_path, "alias and not_west")
    alias, not_west = pred.operands
    assert alias.segment.name == "alias" and alias.segment.pred.segment.name == "big"
    assert alias.segment.pred.segment.pred.segment is None
    assert not_west.segment.name == "not_west" and not_west.written == "!="


def test_the_program_keeps_its_file_and_header(tmp_path):
    program, _ = _where(tmp_path, "true")
    assert program.file.endswith("model.terr") and program.doc == "The file's header."


def test_same_names_in_two_imported_files_stay_apart(tmp_path):
    for folder, n in (("a", 5000), ("b", 7000)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "lib.terr").write_text(
            f"enum R {{ west, east, north }}\n## Set {folder}.\nset west: R = {{west}}\n## Segment {folder}.\n"
            f"segment bigco = employees >= {n}\n", encoding="utf-8")
    imports = 'import "./a/lib.terr" as la\nimport "./b/lib.terr" as lb\n'
    program, pred = _where(tmp_path, "la.bigco and lb.bigco and region in la.west and region in lb.west",
                           imports=imports)
    seg_a, seg_b, set_a, set_b = pred.operands
    assert (seg_a.segment.name, seg_b.segment.name) == ("bigco", "bigco")
    assert seg_a.segment.file != seg_b.segment.file and seg_a.segment.module == seg_b.segment.module == "lib"
    assert (seg_a.segment.doc, seg_b.segment.doc) == ("Segment a.", "Segment b.")
    assert set_a.source.set.file != set_b.source.set.file
    assert program.named_set(set_a.source.set.file, "west").doc == "Set a."
    assert program.named_set(set_b.source.set.file, "west").doc == "Set b."


# --- provenance never takes part in equality ------------------------------------------

def _without_provenance(pred: ir.Pred) -> ir.Pred:
    """The same predicate rebuilt from its meaning and span only (what the IR held before provenance)."""
    span = pred.span
    if isinstance(pred, ir.Not):
        return ir.Not(_without_provenance(pred.operand), span)
    if isinstance(pred, (ir.And, ir.Or)):
        return type(pred)(tuple(_without_provenance(p) for p in pred.operands), span)
    if isinstance(pred, ir.Compare):
        return ir.Compare(pred.field, pred.op, pred.value, span)
    if isinstance(pred, ir.InSet):
        return ir.InSet(pred.field, pred.values, span)
    if isinstance(pred, ir.InRange):
        return ir.InRange(pred.field, pred.lo, pred.hi, span)
    if isinstance(pred, ir.StartsWith):
        return ir.StartsWith(pred.field, pred.prefix, span)
    if isinstance(pred, ir.IsNull):
        return ir.IsNull(pred.field, span)
    return ir.Const(pred.value, span)


def _carries_provenance(pred: ir.Pred) -> bool:
    own = (pred.segment is not None or getattr(pred, "text", None) is not None or getattr(pred, "source", None)
           is not None or getattr(pred, "lo_text", None) is not None or getattr(pred, "written", "not") != "not")
    children = pred.operands if isinstance(pred, (ir.And, ir.Or)) else (pred.operand,) if isinstance(pred, ir.Not) else ()
    return own or any(_carries_provenance(c) for c in children)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_provenance_changes_no_predicate_equality(path):
    _, program = _lowered(path)
    for model in program.models:
        preds = [model.universe] + [t.where for t in model.walk()]
        for pred in (p for p in preds if p is not None):
            bare = _without_provenance(pred)
            assert bare == pred and hash(bare) == hash(pred) and repr(bare) == repr(pred)


def test_the_sources_carry_provenance_to_compare():
    carrying = 0
    for path in SOURCES:
        _, program = _lowered(path)
        carrying += sum(_carries_provenance(t.where) for m in program.models for t in m.walk() if t.where is not None)
    assert carrying > 0


def test_nodes_differing_only_in_provenance_are_equal():
    segment = ir.NamedSegment("s", "f.terr", "f", ir.Const(True), "doc")
    compare = ir.Compare("x", "==", 5, text="5")
    assert dataclasses.replace(compare, text="5.0", segment=segment) == compare
    inset = ir.InSet("x", frozenset({1}), source=ir.SetLiteral((1,), ("1",)))
    assert inset == ir.InSet("x", frozenset({1})) and hash(inset) == hash(ir.InSet("x", frozenset({1})))
    negated = ir.Not(compare, written="!=")
    assert negated == ir.Not(compare, written="not") and hash(negated) == hash(ir.Not(compare))
    assert ir.Program(models=(), file="a.terr", doc="x") == ir.Program(models=())
