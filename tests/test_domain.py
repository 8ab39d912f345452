"""Per-field discretization: cells, atoms as cell sets, representatives, descriptions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terrl.semantics import ir
from terrl.analysis.domain import FieldDomain, build_domains, next_prefix, runs

from support import atoms, field_values, holds, small_schemas


def dom(kind: str, atoms=(), optional=False, **type_args) -> FieldDomain:
    return FieldDomain(ir.Field("x", ir.FieldType(kind, **type_args), optional=optional), atoms)


def cells_where(d: FieldDomain, mask: int) -> list[int]:
    return [i for i in range(d.cells) if mask >> i & 1]


def test_next_prefix():
    assert next_prefix("ab") == "ac"
    assert next_prefix("a\U0010ffff") == "b"
    assert next_prefix("\U0010ffff") is None
    assert next_prefix("") is None


def test_runs():
    assert list(runs(0b1110011)) == [(0, 2), (4, 7)]
    assert list(runs(0)) == []


def test_decimal_boundary_is_its_own_cell():
    lt = ir.Compare("x", "<", Decimal(1_000_000))
    gt = ir.Compare("x", ">", Decimal(1_000_000))
    d = dom("decimal", [lt, gt], lo=Decimal(0))
    assert d.value_cells == 3
    left, right = d.atom_cells(lt), d.atom_cells(gt)
    rest = d.all_cells & ~(left | right)
    assert cells_where(d, rest) == [d.cell_of(Decimal(1_000_000))]
    assert d.representative(d.cell_of(Decimal(1_000_000))) == Decimal(1_000_000)
    assert d.describe(rest) == "`x` == 1M"
    assert d.describe(right) == "`x` > 1M"
    assert d.cell_of(Decimal("999999.99")) == d.cell_of(Decimal(0))


def test_int_bounds_and_preferred_value():
    atom = ir.Compare("x", ">=", 1000)
    d = dom("int", [atom], lo=0)
    assert d.value_cells == 2
    assert d.representative(d.preferred_cell) == 0
    assert d.representative(d.cell_of(5000)) == 1000
    assert d.describe(d.atom_cells(atom)) == "`x` >= 1000"
    assert d.describe(d.all_cells & ~d.atom_cells(atom)) == "`x` < 1000"
    # out of bounds: `x < 0` never holds on `int in 0..`
    assert d.atom_cells(ir.Compare("x", "<", 0)) == 0


def test_digits_prefix_is_a_range():
    atom = ir.StartsWith("x", "94")
    d = dom("digits", [atom], optional=True, digits=5)
    mask = d.atom_cells(atom)
    assert cells_where(d, mask) == [d.cell_of("94000")]
    assert d.cell_of("94999") == d.cell_of("94000") != d.cell_of("95000")
    assert d.representative(d.cell_of("94123")) == "94000"
    assert d.describe(mask) == '`x` starts with "94"'
    assert d.describe(1 << d.null_cell) == "`x` missing"
    assert d.representative(d.null_cell) is None


def test_string_startswith_and_equality():
    sw, eq = ir.StartsWith("x", "ab"), ir.Compare("x", "==", "ab")
    d = dom("string", [sw, eq])
    assert d.describe(d.atom_cells(eq)) == '`x` == "ab"'
    assert d.describe(d.atom_cells(sw) & ~d.atom_cells(eq)) == '`x` >= "ab\x00" and `x` < "ac"'
    assert d.cell_of("abz") == d.cell_of("ab\0")
    assert d.representative(0) == "a"


def test_enum_order_and_not_includes_null():
    members = ("AK", "CA", "OR", "WA", "NY")
    west = ir.InSet("x", frozenset({"CA", "OR", "WA"}))
    d = dom("enum", [west], optional=True, members=members)
    mask = d.atom_cells(west)
    assert d.describe(mask) == "`x` in {CA, OR, WA}"
    negated = d.all_cells & ~mask
    assert d.null_cell in cells_where(d, negated)
    assert d.describe(negated) == "(`x` in {AK, NY} or `x` missing)"
    assert d.representative(d.cell_of("OR")) == "OR"


@given(st.data())
def test_atoms_are_exactly_their_cells(data):
    """cell_of + atom_cells agree with direct evaluation on every value of the field."""
    schema = data.draw(small_schemas(min_fields=1, max_fields=1))
    f = schema.fields[0]
    atom_list = data.draw(st.lists(atoms(schema), min_size=1, max_size=5))
    (d,) = build_domains(schema, atom_list)
    for atom in atom_list:
        mask = d.atom_cells(atom)
        for v in field_values(f):
            assert bool(mask >> d.cell_of(v) & 1) == holds(atom, {f.name: v}, schema), (atom, v)
    for cell in range(d.cells):
        assert d.cell_of(d.representative(cell)) == cell


@given(st.data())
def test_to_pred_is_true_exactly_on_its_cells(data):
    """A cell set read back as a predicate (what docs put into words) means exactly those cells."""
    schema = data.draw(small_schemas(min_fields=1, max_fields=1))
    f = schema.fields[0]
    atom_list = data.draw(st.lists(atoms(schema), min_size=1, max_size=5))
    (d,) = build_domains(schema, atom_list)
    mask = data.draw(st.integers(0, d.all_cells))
    pred = d.to_pred(mask)
    if mask == d.all_cells:
        assert pred is None
        return
    for v in field_values(f):
        assert holds(pred, {f.name: v}, schema) == bool(mask >> d.cell_of(v) & 1), (pred, v, d.describe(mask))


def test_cell_of_rejects_null_on_required():
    with pytest.raises(ValueError):
        dom("int").cell_of(None)


def test_enum_cells_spanning_several_members():
    members = ("AK", "CA", "OR", "WA", "NY", "TX")
    west = ir.InSet("x", frozenset({"CA", "OR", "WA"}))
    d = dom("enum", [ir.InRange("x", "CA", "WA")], members=members)
    assert d.value_cells == 3  # {AK}, {CA, OR, WA}, {NY, TX}
    assert d.describe(d.atom_cells(west)) == "`x` in {CA, OR, WA}"
    assert d.describe(d.all_cells & ~d.atom_cells(west)) == "`x` in {AK, NY, TX}"
    assert d.representative(d.cell_of("TX")) == "NY"


@given(st.data())
def test_enum_descriptions_name_exactly_the_members(data):
    members = ("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8")
    schema = ir.Schema("S", (ir.Field("x", ir.FieldType("enum", members=members)),))
    atom_list = data.draw(st.lists(atoms(schema), min_size=1, max_size=3))
    (d,) = build_domains(schema, atom_list)
    if d.cells < 2:
        return
    mask = data.draw(st.integers(1, d.all_cells - 1))
    inside = [m for m in members if mask >> d.cell_of(m) & 1]
    text = d.describe(mask)
    if text.startswith("`x` in {"):
        assert text == "`x` in {" + ", ".join(inside) + "}"
    elif text.startswith("`x` not in {"):
        assert text == "`x` not in {" + ", ".join(m for m in members if m not in inside) + "}"
    elif text.startswith("`x` != "):
        assert [m for m in members if m not in inside] == [text[len("`x` != "):]]
    else:
        assert text == f"`x` == {inside[0]}" and len(inside) == 1


def test_not_equal_with_missing_reads_as_one_condition():
    eq = ir.Compare("x", "==", 5)
    d = dom("int", [eq], optional=True)
    not_five = d.all_cells & ~d.atom_cells(eq)  # `x != 5`: other values and the missing one
    assert d.describe(not_five) == "(`x` != 5 or `x` missing)"
    assert d.describe(not_five & d.value_mask) == "`x` != 5 and present"


@pytest.mark.parametrize("kind, values, type_args", [
    ("digits", ("99", "00", "50", "51", "07"), {"digits": 2}),  # "99": its cut after is the domain's end
    ("string", ("b", "", "a\0", "a", "zz"), {}),
    ("enum", ("c", "a", "b"), {"members": ("a", "b", "c", "d")}),
])
def test_in_lists_take_the_bulk_path_with_the_same_cells(kind, values, type_args):
    """An `in` list's cells come from a table of the cuts (`_point_runs`, for ZIP lists of
    hundreds of values); they must be those of the value-by-value path, for every value."""
    atom = ir.InSet("x", values)
    other = ir.Compare("x", "<", values[1])  # cuts the list does not make
    d = dom(kind, [atom, other], optional=True, **type_args)
    assert d._point_cuts(atom) is not None
    generic = []
    for lo, hi in d._atom_intervals(atom):
        a = 0 if lo is None else d._cell_at_cut(lo)
        b = d.value_cells if hi is None else d._cell_at_cut(hi)
        generic.append((a, b))
    from terrl.analysis.domain import _merge_runs
    assert d.atom_runs(atom) == _merge_runs(sorted(generic))
    assert sorted(d.cell_of(v) for v in values) == sorted({c for a, b in d.atom_runs(atom) for c in range(a, b)})
