"""The one did-you-mean helper agrees with difflib's first close match at every cutoff."""

import difflib

import pytest

from terrl.diagnostics.suggest import closest

NAMES = ["region", "segment", "country", "industry", "Enterprise Accounts", "Mid-Market", ""]


@pytest.mark.parametrize("cutoff", [0.0, 0.6, 0.7, 0.75, 1.0])
@pytest.mark.parametrize("name", ["regoin", "segmnt", "contry", "xyz", "Enterprise Acounts", "region", ""])
def test_closest_matches_difflib(name, cutoff):
    expected = difflib.get_close_matches(name, NAMES, n=1, cutoff=cutoff)
    assert closest(name, iter(NAMES), cutoff=cutoff) == (expected[0] if expected else None)


def test_cutoff_separates_near_and_far():
    assert closest("regoin", ["region"], cutoff=0.6) == "region"
    assert closest("xyz", ["region"], cutoff=0.6) is None
    assert closest("anything", [], cutoff=0.0) is None
