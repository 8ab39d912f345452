"""Docs of long value lists (issue 18 items 9 and 11): one clause per field, sorted lists with
ranges, every value kept, no "or is missing" where the clause settles it, labels of untitled
territories, owner lines that keep the role."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, strategies as st

from terrl.docs import docsgen, english
from terrl.docs.hierarchy_diagram import SMALL_SIZE, _SANS, _owner_line, text_width
from terrl.semantics import ir

from support import make_project

SCHEMA = """
enum Region { west "The West", east "The East", north, south, mid, far, near, deep }
schema Account {
  id: string key
  region: Region?
  zip: digits(5)?
  code: digits(3)
  name: string
  employees: int in 0..
}
"""


def _site(tmp_path, where: str, name: str = "t"):
    path = make_project(tmp_path, {"model.terr": SCHEMA + f"model M {{ territory {name} {{ where {where} }} }}\n"},
                        config="") / "model.terr"
    loaded = docsgen.load_docs([path], analyse=False)
    assert loaded.ok, [d.message for d in loaded.diagnostics if d.is_error]
    return docsgen.build_site(loaded)


def criteria(tmp_path, where: str) -> str:
    return english.plain(_site(tmp_path, where).models[0].territories[0].own)


PREFIXES_940 = ", ".join(f'"{p}"' for p in ("940", "941", "945", "947"))


@pytest.mark.parametrize("where, text", [
    # a set of prefixes, and the `or` chain it stands for, read the same: one clause, merged ranges
    (f"zip startswith {{{PREFIXES_940}}}", "Accounts whose zip starts with 940–941, 945 or 947"),
    ('zip startswith "940" or zip startswith "941" or zip startswith "945" or zip startswith "947"',
     "Accounts whose zip starts with 940–941, 945 or 947"),
    ('zip startswith {"94", "940"}', "Accounts whose zip starts with 94"),  # 940 is inside 94
    ('zip startswith {"947", "940"}', "Accounts whose zip starts with 947 or 940"),  # short, nothing merged: as written
    ('name startswith {"Ac", "Ab"}', "Accounts whose name starts with “Ac” or “Ab”"),
    ('zip startswith {"940"} and employees > 5', "Accounts whose zip starts with 940 and with more than 5 employees"),
    ('employees > 5 and (zip startswith "1" or zip startswith "2")',
     "Accounts with more than 5 employees and whose zip starts with 1–2"),  # one clause: no parentheses
    # the missing case said once, or not at all where the clause settles it
    ('zip is null or not (zip startswith {"940", "941"})', "Accounts with no zip or whose zip does not start with 940–941"),
    ('zip startswith "9" and zip != "94000"', "Accounts whose zip starts with 9 and whose zip is not 94000"),
    ('zip is not null and zip not in {"94000", "94001"}',
     "Accounts with a zip and whose zip is neither 94000 nor 94001"),
    ('zip != "94000" and not (zip startswith "8") and zip not in {"10000", "10001"} and region != west',
     "Accounts whose zip is none of 94000, 10000 or 10001 and does not start with 8, or is missing, "
     "and whose region is not The West or is missing"),
    ('not (zip startswith {"940", "945"})', "Accounts whose zip does not start with 940 or 945, or is missing"),
    # values of one field in one `or`
    ("region == west or region in {east, north}", "Accounts whose region is The West, The East or north"),
    # long lists: sorted, runs as ranges
    ('zip in {"10009", "10000", "10001", "10002", "10003", "10005", "10007", "10008"}',
     "Accounts whose zip is 10000–10003, 10005 or 10007–10009"),
    ("region in {near, west, far, east, north, south, mid}",
     "Accounts whose region is The West, The East, north, south, mid, far or near"),  # declared order
])
def test_value_lists_in_plain_english(tmp_path, where, text) -> None:
    assert criteria(tmp_path, where) == text


def test_a_long_prefix_list_keeps_every_value_in_markdown_and_behind_details_in_html(tmp_path) -> None:
    rng = random.Random(7)
    prefixes = sorted(f"{p:03d}" for p in rng.sample(range(1000), 300))
    site = _site(tmp_path, "zip startswith {" + ", ".join(f'"{p}"' for p in reversed(prefixes)) + "}")
    files = docsgen.render_site(site)
    items = english.prefix_items(english.FieldInfo("zip", "digits", True), prefixes)
    assert items == sorted(items) and 1 < len(items) < len(prefixes)
    md = files["M.md"]
    criteria_line = next(line for line in md.splitlines() if line.startswith("- **criteria:**"))
    assert criteria_line == "- **criteria:** Accounts whose zip starts with " + english.join_words(items, "or")
    table_row = next(line for line in md.splitlines() if line.startswith("| [t]"))
    assert f"{items[2]} or {len(items) - 3:,} others" in table_row  # the table links to the full list
    assert md.count(" starts with") == 3  # table, criteria, reached by: once each, not once per prefix
    assert f'<details class="more"><summary>{len(items) - 3:,} others</summary>{", ".join(items[3:])}</details>' \
        in files["M.html"]


def _codes(item: str, width: int) -> set[int]:
    """The `width`-digit codes a prefix item stands for: "94", "940–941" or "94050–94199"."""
    lo, _, hi = item.partition("–")
    hi = hi or lo
    free = width - len(lo)
    return set(range(int(lo) * 10 ** free, (int(hi) + 1) * 10 ** free))


@given(st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=1, max_size=40))
def test_prefix_items_stand_for_exactly_the_codes_of_the_prefixes(prefixes) -> None:
    items = english.prefix_items(english.FieldInfo("code", "digits"), prefixes)
    width = 4
    expected = set().union(*(_codes(p, width) for p in prefixes))
    got = [_codes(item, width) for item in items]
    assert set().union(*got) == expected
    assert sum(map(len, got)) == len(expected)  # disjoint: no code said twice
    if len(items) > 1 and len(set(prefixes)) > english.LIST_INLINE_MAX:
        assert [min(g) for g in got] == sorted(min(g) for g in got)


@given(st.lists(st.integers(0, 60), min_size=1, max_size=30))
def test_value_items_keep_every_value_once(numbers) -> None:
    info = english.FieldInfo("code", "digits")
    raw = [f"{n:03d}" for n in numbers]
    items = english.value_items(info, raw)
    if len(raw) <= english.LIST_INLINE_MAX:
        assert items == raw
        return
    expanded = []
    for item in items:
        lo, _, hi = item.partition("–")
        expanded += [f"{n:03d}" for n in range(int(lo), int(hi or lo) + 1)]
    assert expanded == sorted(set(raw))


def test_untitled_territories_are_named_in_words(tmp_path) -> None:
    site = _site(tmp_path, "employees > 5", name="central_ent")
    t = site.models[0].territories[0]
    assert (t.label, t.title) == ("Central ent", None)
    assert english.territory_label(ir.Territory("na", "na", None, None, False, "unique", False)) == "na"


def test_a_long_owner_is_shortened_before_its_role() -> None:
    owners = (ir.Owner("northeast-regional-vice-president@example.com", "RVP"), ir.Owner("x@example.com"))
    room = 184
    line = _owner_line(owners, room)
    assert line.endswith("… (RVP) +1") and text_width(line, SMALL_SIZE, _SANS) <= room
    assert _owner_line((ir.Owner("kim@acme.example", "AE"),), room) == "kim@acme.example (AE)"


def test_check_findings_read_in_plain_english(tmp_path) -> None:
    text = SCHEMA + """
model M {
  keep
  territory bay { where zip startswith {"940", "941", "9450"} }
  territory other { where zip startswith "94" and employees >= 1000 }
}
"""
    path = make_project(tmp_path, {"model.terr": text}, config="") / "model.terr"
    site = docsgen.build_site(docsgen.load_docs([path]))
    (finding,) = site.models[0].findings
    assert english.plain(finding.region_phrase) == (
        "Accounts whose zip starts with 940–941 or 9450 and with 1,000 or more employees")
    files = docsgen.render_site(site)
    assert "all such accounts: Accounts whose zip starts with 940–941 or 9450 and with 1,000 or more employees" \
        in files["M.md"]
    assert "<p>all such accounts: Accounts whose zip starts with 940–941 or 9450" in files["M.html"]
    assert "`zip`" not in files["M.md"].split("## Hierarchy")[0].split("all such accounts")[1]
