"""terrl/targets/sibling_index.py: the flip-list algebra and the per-group indexes, against sets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terrl.targets import sibling_index as si

CELLS = 40


@st.composite
def flip_lists(draw):
    """A set of cells in 0..CELLS-1 as normalised flips (sorted, no empty or touching runs)."""
    cells = draw(st.sets(st.integers(0, CELLS - 1)))
    return _flips(cells), cells


def _flips(cells: set[int]) -> tuple[int, ...]:
    out: list[int] = []
    for c in range(CELLS + 1):
        inside = c in cells
        if inside != (len(out) % 2 == 1):
            out.append(c)
    return tuple(out)


def _cells(flips: tuple[int, ...]) -> set[int]:
    return {c for i in range(0, len(flips), 2) for c in range(flips[i], flips[i + 1])}


@given(flip_lists(), flip_lists())
def test_intersection_is_the_set_intersection(a, b):
    got = si._both(a[0], b[0])
    assert _cells(got) == a[1] & b[1]
    assert got == _flips(a[1] & b[1])  # normalised: equal sets have equal flips


@given(st.lists(flip_lists(), min_size=1, max_size=5))
def test_union_is_the_set_union(operands):
    got = si._union([f for f, _ in operands])
    expected = set().union(*(c for _, c in operands))
    assert got == _flips(expected)


@given(flip_lists())
def test_complement_is_the_set_complement(a):
    assert si._complement(a[0], CELLS) == _flips(set(range(CELLS)) - a[1])


@given(st.dictionaries(st.integers(0, 20), flip_lists(), max_size=8), st.integers(0, 2**21 - 1))
def test_the_sweep_gives_each_cell_exactly_its_candidates(per_bit, possible):
    class Domain:
        cells = CELLS

    index = si._sweep(0, Domain, {bit: f for bit, (f, _) in per_bit.items()}, possible)
    assert list(index.cuts) == sorted(set(index.cuts)) and len(index.masks) == len(index.cuts) + 1
    import bisect
    for cell in range(CELLS):
        expected = 0
        for bit in range(21):
            if not (possible >> bit) & 1:
                continue
            if bit not in per_bit or cell in per_bit[bit][1]:
                expected |= 1 << bit
        assert index.masks[bisect.bisect_right(index.cuts, cell)] == expected, cell
