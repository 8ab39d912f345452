"""Seeded, realistic inputs for the benchmarks: `.terr` models and account data.

    python bench/generators.py zip-model --leaves 3000 [--defects 3] -o zip.terr
    python bench/generators.py zip-accounts --rows 10000000 -o accounts.csv
    python bench/generators.py salesforce-model --territories 700 -o sf.terr
    python bench/generators.py dmn-model --rules 500 --fields 5 [--noise 0.1] -o dmn.terr
    python bench/generators.py dmn-boxes --rules 500 --fields 5 -o dmn.json

Two families (see bench/README.md):

* ZIP-aligned US model (`zip_model`, `generate_zip_model`, `zip_accounts`,
  `write_accounts_csv`): model -> census region -> state -> ranges of real 3-digit (or
  finer) ZIP prefixes -> customer segments, built from the `zipcodes` package
  (`pip install -e '.[bench]'`). Clean by construction; `defects=N` plants N mistakes
  and reports where `terrl check` must find them.
* Flat DMN-style decision tables (`dmn_table`, `dmn_model`, `dmn_rows`) after Calvanese
  et al., "Semantics, analysis and simplification of DMN decision tables" (Information
  Systems 2018): a random recursive partition of an integer box, then ~10% of the rules
  widened, shrunk or stripped of a condition, as in their benchmark.

Everything is a pure function of its arguments: the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import random
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

# ---------------------------------------------------------------------------
# Shared schema and reference data
# ---------------------------------------------------------------------------

ACCOUNT_SCHEMA = """\
import geo.us
import geo.world
schema Account {
  id:        string key
  country:   world.Country
  state:     us.UsState?
  zip:       digits(5)?
  industry:  enum { software, healthcare, finance, retail, public_sector, other }
  employees: int in 0..
  revenue:   decimal in 0..
}
"""

ACCOUNT_COLUMNS = ("id", "country", "state", "zip", "industry", "employees", "revenue")

# US Census Bureau regions (the stdlib's us.northeast, us.midwest, us.south, us.west);
# DC counts as South. The inhabited territories (PR, GU, ...) belong to no region.
CENSUS_REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "northeast": ("Northeast", ("CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA")),
    "midwest": ("Midwest", ("IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD")),
    "south": ("South", ("DE", "DC", "FL", "GA", "MD", "NC", "SC", "VA", "WV", "AL", "KY", "MS", "TN",
                        "AR", "LA", "OK", "TX")),
    "west": ("West", ("AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR", "WA")),
}
REGION_OF = {state: region for region, (_, states) in CENSUS_REGIONS.items() for state in states}

# Members of stdlib us.UsState that belong to no census region (still valid `state` values).
US_TERRITORIES = ("AS", "GU", "MP", "PR", "VI")

STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}

INDUSTRIES = ("software", "healthcare", "finance", "retail", "public_sector", "other")
INDUSTRY_WEIGHTS = (18, 14, 12, 16, 8, 32)

# Non-US accounts: (ISO country, weight, share of rows that carry a 5-digit postal code).
FOREIGN_COUNTRIES = (
    ("CA", 25, 0.0), ("GB", 15, 0.0), ("DE", 12, 0.6), ("FR", 8, 0.6), ("JP", 6, 0.0),
    ("AU", 5, 0.0), ("IN", 5, 0.0), ("NL", 4, 0.0), ("BR", 4, 0.0), ("MX", 4, 0.5),
    ("SG", 3, 0.0), ("SE", 3, 0.0), ("IE", 3, 0.0), ("ES", 3, 0.6), ("IT", 3, 0.6),
    ("CH", 2, 0.0), ("IL", 2, 0.0), ("KR", 2, 0.0), ("ZA", 1, 0.0), ("NZ", 1, 0.0),
)


@dataclass(frozen=True)
class ZipCode:
    code: str  # five digits
    state: str | None  # USPS code when it is a member of us.UsState (military ZIPs have none)
    weight: float  # how likely an account sits there (street ZIPs over PO boxes)


_TYPE_WEIGHT = {"STANDARD": 1.0, "PO BOX": 0.3, "UNIQUE": 0.2, "MILITARY": 0.05}


@functools.lru_cache(maxsize=1)
def us_zip_codes() -> tuple[ZipCode, ...]:
    """Active US ZIP codes with their real state, sorted by code (from the `zipcodes` package)."""
    try:
        import zipcodes
    except ImportError as error:  # a bench-only dependency
        raise ImportError("bench/generators.py needs the `zipcodes` package: pip install -e '.[bench]'") from error
    known = set(STATE_NAMES) | set(US_TERRITORIES)
    out = []
    for row in zipcodes.list_all():
        if not row["active"] or row["country"] != "US":
            continue
        state = row["state"] if row["state"] in known else None
        out.append(ZipCode(row["zip_code"], state, _TYPE_WEIGHT.get(row["zip_code_type"], 0.2)))
    return tuple(sorted(out, key=lambda z: z.code))


@functools.lru_cache(maxsize=1)
def zips_by_state() -> dict[str, tuple[str, ...]]:
    """State (of the 50 and DC) -> its sorted real ZIP codes."""
    out: dict[str, list[str]] = {s: [] for s in STATE_NAMES}
    for z in us_zip_codes():
        if z.state in out:
            out[z.state].append(z.code)
    return {s: tuple(codes) for s, codes in out.items()}


# ---------------------------------------------------------------------------
# ZIP-aligned US model
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    name: str
    title: str
    where: str


_ENT = "employees >= 1000"
_COM = "employees < 1000"
_MM = Segment("mm", "Mid-Market", "employees < 1000 and revenue >= 10M")
_SMB = Segment("smb", "Small Business", "employees < 1000 and revenue < 10M")
_ENT_TECH = Segment("ent_tech", "Enterprise Tech and Finance", "employees >= 1000 and industry in {software, finance}")

# Segment schemes by number of leaves; each is a partition of all accounts.
SEGMENT_SCHEMES: dict[int, tuple[Segment, ...]] = {
    2: (Segment("ent", "Enterprise", _ENT), Segment("com", "Commercial", _COM)),
    3: (Segment("ent", "Enterprise", _ENT), _MM, _SMB),
    4: (_ENT_TECH, Segment("ent", "Enterprise", "employees >= 1000 and industry not in {software, finance}"), _MM, _SMB),
    5: (_ENT_TECH, Segment("ent", "Enterprise", "employees >= 1000 and industry not in {software, finance}"), _MM,
        Segment("smb", "Small Business", "employees < 1000 and revenue >= 1M and revenue < 10M"),
        Segment("micro", "Micro", "employees < 1000 and revenue < 1M")),
    6: (_ENT_TECH,
        Segment("ent_health", "Enterprise Healthcare and Public", "employees >= 1000 and industry in {healthcare, public_sector}"),
        Segment("ent", "Enterprise", "employees >= 1000 and industry in {retail, other}"), _MM,
        Segment("smb", "Small Business", "employees < 1000 and revenue >= 1M and revenue < 10M"),
        Segment("micro", "Micro", "employees < 1000 and revenue < 1M")),
}
# How often a ZIP group has 1..6 segment leaves (1 = the group is itself a leaf).
SEGMENT_COUNT_WEIGHTS = {1: 4, 2: 20, 3: 45, 4: 22, 5: 6, 6: 3}


@dataclass
class _Node:
    """A territory being generated (mutable while defects are planted; rendered once)."""

    name: str
    title: str | None
    where: str | None  # None with is_else False: no where at all
    is_else: bool = False
    owners: tuple[tuple[str, str], ...] = ()
    doc: str | None = None
    children: list["_Node"] | None = None
    kind: str = ""  # region, state, group, segment, catch-all
    zip_units: tuple[str, ...] = ()  # for groups: the prefixes in the range


@dataclass(frozen=True)
class PlantedDefect:
    """One planted mistake, in the terms `terrl check --format json` reports it."""

    name: str  # diagnostic name: "overlap" or "gap"
    cause: str  # zip-range-overlap, missing-segment, boundary-off-by-one
    territories: tuple[str, ...]  # as in the diagnostic (for a gap: the parent)
    line: int  # 1-based line of the edited text
    description: str


@dataclass(frozen=True)
class GeneratedModel:
    text: str
    model: str  # the model's name
    leaves: int
    territories: int
    defects: tuple[PlantedDefect, ...]


def zip_model(leaves: int, seed: int = 0, defects: int = 0) -> str:
    """`.terr` source of a ZIP-aligned US model with exactly `leaves` leaf territories."""
    return generate_zip_model(leaves, seed=seed, defects=defects).text


def generate_zip_model(leaves: int, seed: int = 0, defects: int = 0) -> GeneratedModel:
    """The model, its size and (with `defects`) where each planted mistake is."""
    if leaves < 4:
        raise ValueError("a ZIP model needs at least 4 leaves (a segment, a state's else, a region's else, the catch-all)")
    rng = random.Random(f"zip-model/{seed}")
    root = _zip_tree(leaves, rng)
    assert _count(root)[1] == leaves, (_count(root), leaves)
    planted = _plant_defects(root, defects, rng) if defects else []
    lines: list[str] = []
    where_lines: dict[tuple[str, ...], int] = {}
    lines.append(f"## ZIP-aligned US territories: {leaves:,} leaves (generated by bench/generators.py, seed {seed}).")
    lines.extend(ACCOUNT_SCHEMA.rstrip("\n").split("\n"))
    lines.append("")
    lines.append(f'model ZipUS "US ZIP alignment, {leaves:,} territories" {{')
    lines.append("  effective 2027-02-01")
    lines.append("  policy unique")
    for child in root:
        _render(child, (), 1, lines, where_lines)
    lines.append("}")
    found = tuple(
        PlantedDefect(d.name, d.cause, d.territories, where_lines[d.edited], d.description) for d in planted
    )
    counts = _count(root)  # a deleted segment is one leaf fewer
    return GeneratedModel("\n".join(lines) + "\n", "ZipUS", counts[1], counts[0], found)


def _count(nodes: list[_Node]) -> tuple[int, int]:
    total = leaves = 0
    for n in nodes:
        total += 1
        if n.children:
            t, l = _count(n.children)
            total, leaves = total + t, leaves + l
        else:
            leaves += 1
    return total, leaves


def _render(node: _Node, parent: tuple[str, ...], depth: int, lines: list[str],
            where_lines: dict[tuple[str, ...], int]) -> None:
    pad = "  " * depth
    path = parent + (node.name,)
    title = f' "{node.title}"' if node.title else ""
    cond = "else" if node.is_else else (f"where {node.where}" if node.where else "")
    owners = "  ".join(f'owner "{who}" as {role}' for who, role in node.owners)
    if node.doc:
        lines.append(f"{pad}## {node.doc}")
    if not node.children:  # leaves on one line: 10,000 of them stay readable
        where_lines[path] = len(lines) + 1
        body = "  ".join(part for part in (cond, owners) if part)
        lines.append(f"{pad}territory {node.name}{title} {{ {body} }}")
        return
    lines.append(f"{pad}territory {node.name}{title} {{")
    where_lines[path] = len(lines) + 1
    if cond:
        lines.append(f"{pad}  {cond}")
    if owners:
        lines.append(f"{pad}  {owners}")
    for child in node.children:
        _render(child, path, depth + 1, lines, where_lines)
    lines.append(f"{pad}}}")


def _zip_tree(leaves: int, rng: random.Random) -> list[_Node]:
    by_state = zips_by_state()
    biggest_first = sorted(by_state, key=lambda s: (-len(by_state[s]), s))
    states_wanted = max(1, min(len(biggest_first), leaves // 40))
    while True:
        chosen = set(biggest_first[:states_wanted])
        partial_regions = sum(
            1 for _, members in CENSUS_REGIONS.values()
            if chosen & set(members) and not set(members) <= chosen)
        budget = leaves - 1 - partial_regions - len(chosen)  # the catch-all, region elses, state elses
        if budget >= len(chosen):
            break
        states_wanted -= 1
    shares = _apportion(budget, [len(by_state[s]) for s in biggest_first[:states_wanted]])
    state_budget = dict(zip(biggest_first[:states_wanted], shares))

    reps = iter(range(1, 10**9))
    regions: list[_Node] = []
    for region, (region_title, members) in CENSUS_REGIONS.items():
        listed = [s for s in members if s in chosen]
        if not listed:
            continue
        state_nodes = [_state_node(s, state_budget[s], rng, reps) for s in listed]
        if len(listed) < len(members):
            state_nodes.append(_Node(f"{region}_other", f"{region_title}, other states", None, is_else=True,
                                     owners=((f"rep{next(reps):04d}@acme.example", "AE"),), kind="catch-all"))
        regions.append(_Node(region, region_title, f"country == US and state in us.{region}",
                             owners=((f"rvp.{region}@acme.example", "RVP"),),
                             doc=f"Census region {region_title}.", children=state_nodes, kind="region"))
    regions.append(_Node("unaligned", "International, US territories and unknown states", None, is_else=True,
                         owners=(("intl.desk@acme.example", "AE"),),
                         doc="Everything the regions leave: other countries, Puerto Rico, Guam, missing state.",
                         kind="catch-all"))
    return regions


def _apportion(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, at least 1 each (largest remainder)."""
    spare = total - len(weights)
    exact = [spare * w / sum(weights) for w in weights]
    out = [1 + math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))
    for i in by_remainder[: total - sum(out)]:
        out[i] += 1
    return out


def _state_node(state: str, budget: int, rng: random.Random, reps: Iterator[int]) -> _Node:
    name = STATE_NAMES[state]
    counts = _segment_counts(budget, rng)
    units = _zip_units(zips_by_state()[state], len(counts))
    while len(units) < len(counts):  # more groups than real ZIPs (tiny state, huge model): fatter groups
        counts = _merge_smallest(counts)
    cuts = sorted(rng.sample(range(1, len(units)), len(counts) - 1))
    chunks = [units[a:b] for a, b in zip([0, *cuts], [*cuts, len(units)])]
    groups = [_group_node(state, chunk, k, rng, reps) for chunk, k in zip(chunks, counts)]
    groups.append(_Node(f"{_slug(name)}_other", f"{name}, other ZIPs", None, is_else=True,
                        owners=((f"rep{next(reps):04d}@acme.example", "AE"),), kind="catch-all"))
    return _Node(_slug(name), name, f"state == {state}", owners=((f"rd.{state.lower()}@acme.example", "RD"),),
                 doc=f"{name}: {len(chunks)} ZIP groups.", children=groups, kind="state")


def _slug(title: str) -> str:
    return title.lower().replace(" ", "_")


def _segment_counts(budget: int, rng: random.Random) -> list[int]:
    sizes, weights = zip(*SEGMENT_COUNT_WEIGHTS.items())
    counts = []
    while budget > 0:
        k = min(rng.choices(sizes, weights)[0], budget)
        counts.append(k)
        budget -= k
    return counts


def _merge_smallest(counts: list[int]) -> list[int]:
    """One group fewer, same leaves (segments up to 6 per group)."""
    counts = sorted(counts)
    a, b = counts[0], counts[1]
    if a + b <= max(SEGMENT_SCHEMES):
        return [a + b, *counts[2:]]
    raise ValueError("too many leaves for the real ZIP codes of a state")


def _zip_units(codes: tuple[str, ...], groups: int) -> list[str]:
    """The coarsest real ZIP prefixes (3, 4 or 5 digits) of a state that give at least `groups` units."""
    for width in (3, 4, 5):
        units = sorted({c[:width] for c in codes})
        if len(units) >= groups:
            return units
    return units


def _group_node(state: str, units: list[str], segments: int, rng: random.Random, reps: Iterator[int]) -> _Node:
    first, last = units[0], units[-1]
    width = len(first)
    label = first if first == last else f"{first}-{last}"
    if first == last:
        where = f'zip == "{first}"' if width == 5 else f'zip startswith "{first}"'
    else:
        where = f'zip in "{first}{"0" * (5 - width)}".."{last}{"9" * (5 - width)}"'
    name = f"z{label.replace('-', '_')}"
    title = f"{STATE_NAMES[state]} {label}"
    if segments == 1:
        return _Node(name, title, where, owners=((f"rep{next(reps):04d}@acme.example", "AE"),),
                     kind="group", zip_units=tuple(units))
    scheme = SEGMENT_SCHEMES[segments]
    children = [_Node(s.name, f"{title} {s.title}", s.where, owners=((f"rep{next(reps):04d}@acme.example", "AE"),),
                      kind="segment") for s in scheme]
    if rng.random() < 0.15:  # some managers write the last segment as "everything else"
        children[-1].where, children[-1].is_else = None, True
    return _Node(name, title, where, children=children, kind="group", zip_units=tuple(units))


@dataclass(frozen=True)
class _Planted:
    name: str
    cause: str
    territories: tuple[str, ...]
    edited: tuple[str, ...]  # path of the territory whose text changed
    description: str


def _plant_defects(regions: list[_Node], count: int, rng: random.Random) -> list[_Planted]:
    """Edit `count` distinct ZIP groups; cycles through the three kinds of mistake."""
    groups: list[tuple[tuple[str, ...], _Node, _Node]] = []  # (path, group, state)
    for region in regions:
        for state in region.children or ():
            for group in state.children or ():
                if group.kind == "group":
                    groups.append(((region.name, state.name, group.name), group, state))
    order = list(range(len(groups)))
    rng.shuffle(order)
    touched: set[int] = set()
    planted: list[_Planted] = []
    kinds = ("zip-range-overlap", "missing-segment", "boundary-off-by-one")
    for want in range(count):
        cause = kinds[want % len(kinds)]
        for i in order:
            if i in touched:
                continue
            path, group, state = groups[i]
            if cause == "zip-range-overlap":
                nxt = i + 1
                if nxt >= len(groups) or nxt in touched or groups[nxt][2] is not state:
                    continue
                other_path, other, _ = groups[nxt]
                width = len(group.zip_units[0])
                hi = other.zip_units[0]
                group.where = f'zip in "{group.zip_units[0]}{"0" * (5 - width)}".."{hi}{"9" * (5 - width)}"'
                touched.update((i, nxt))
                planted.append(_Planted("overlap", cause, (".".join(path), ".".join(other_path)), path,
                                        f"`{'.'.join(path)}` widened to {hi}, which `{'.'.join(other_path)}` also covers"))
                break
            segments = group.children or []
            if len(segments) < 2 or any(s.is_else for s in segments):
                continue
            if cause == "missing-segment":
                gone = segments.pop(rng.randrange(len(segments)))
                touched.add(i)
                planted.append(_Planted("gap", cause, (".".join(path),), path,
                                        f"segment `{gone.name}` ({gone.where}) deleted from `{'.'.join(path)}`"))
                break
            candidates = [s for s in segments if ">= 1000" in s.where or ">= 10M" in s.where]
            seg = rng.choice(candidates)
            bound = ">= 1000" if ">= 1000" in seg.where else ">= 10M"
            seg.where = seg.where.replace(bound, bound.replace(">=", ">"), 1)
            touched.add(i)
            planted.append(_Planted("gap", cause, (".".join(path),), path + (seg.name,),
                                    f"`{'.'.join(path + (seg.name,))}` says `{bound.replace('>=', '>')}`: "
                                    f"the boundary value itself has no owner"))
            break
        else:
            raise ValueError(f"cannot plant {count} defects in a model this small")
    return planted


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------

_ROUND_EMPLOYEES = (10, 50, 100, 250, 500, 999, 1000, 1000, 5000, 10000)
_ROUND_REVENUE = (1_000_000, 1_000_000, 5_000_000, 10_000_000, 10_000_000, 50_000_000, 100_000_000, 500_000_000,
                  1_000_000_000)


def _account_rows(n: int, seed: int) -> Iterator[tuple]:
    """Rows in ACCOUNT_COLUMNS order; None for a missing value; revenue as a whole-dollar int."""
    rng = random.Random(f"zip-accounts/{seed}")
    zips = us_zip_codes()
    zip_cum = list(_cumulative([z.weight for z in zips]))
    foreign = [c for c, _, _ in FOREIGN_COUNTRIES]
    foreign_cum = list(_cumulative([w for _, w, _ in FOREIGN_COUNTRIES]))
    postal_share = {c: p for c, _, p in FOREIGN_COUNTRIES}
    industry_cum = list(_cumulative(INDUSTRY_WEIGHTS))
    random_ = rng.random
    gauss = rng.gauss
    choices = rng.choices
    batch = 4096
    for start in range(0, n, batch):
        size = min(batch, n - start)
        picked_zips = choices(zips, cum_weights=zip_cum, k=size)
        industries = choices(INDUSTRIES, cum_weights=industry_cum, k=size)
        for j in range(size):
            if random_() < 0.04:  # a few percent abroad
                country = choices(foreign, cum_weights=foreign_cum)[0]
                state = None
                zip_code = f"{rng.randrange(100000):05d}" if random_() < postal_share[country] else None
            else:
                z = picked_zips[j]
                country, state, zip_code = "US", z.state, z.code
                roll = random_()
                if roll < 0.015:
                    state = None  # CRM rows with a ZIP but no state
                elif roll < 0.035:
                    zip_code = None  # and rows with a state but no ZIP
            if random_() < 0.03:  # people type round numbers, right on the segment boundaries
                employees = _ROUND_EMPLOYEES[int(random_() * len(_ROUND_EMPLOYEES))]
            else:
                employees = min(2_000_000, int(math.exp(gauss(3.2, 2.0))))
            if random_() < 0.03:
                revenue = _ROUND_REVENUE[int(random_() * len(_ROUND_REVENUE))]
            elif random_() < 0.01:
                revenue = 0  # pre-revenue
            else:
                revenue = int(max(1, employees) * math.exp(gauss(11.9, 0.8)))  # ~150K per head
            yield (f"A{start + j:09d}", country, state, zip_code, industries[j], employees, revenue)


def _cumulative(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


def zip_accounts(n: int, seed: int = 0) -> Iterator[dict]:
    """`n` account dicts fitting ACCOUNT_SCHEMA: real ZIPs with their real state, some nulls, ~4% abroad.

    `revenue` is a Decimal (the schema's exact decimal); missing values are None.
    """
    for row in _account_rows(n, seed):
        account = dict(zip(ACCOUNT_COLUMNS, row))
        account["revenue"] = Decimal(row[6])
        yield account


def write_accounts_csv(path: str | Path, n: int, seed: int = 0) -> int:
    """Stream `n` accounts to a CSV file (header ACCOUNT_COLUMNS, empty cell = missing); returns n."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ACCOUNT_COLUMNS)
        block: list[tuple] = []
        for row in _account_rows(n, seed):
            block.append(row)
            if len(block) == 8192:
                writer.writerows(block)
                block.clear()
        writer.writerows(block)
    return n


# ---------------------------------------------------------------------------
# DMN-style flat tables
# ---------------------------------------------------------------------------

DMN_DOMAIN = (0, 999)  # every field is `int in 0..999`

Box = tuple[tuple[int, int], ...]  # one inclusive (lo, hi) per field f1..fN; the whole domain = no condition


@dataclass(frozen=True)
class Perturbation:
    rule: int  # 0-based index into DmnTable.rules
    kind: str  # widen, shrink, drop
    field: int  # 0-based: f1 is 0


@dataclass(frozen=True)
class DmnTable:
    fields: int
    clean: tuple[Box, ...]  # a tiling of the domain: no gaps, no overlaps
    rules: tuple[Box, ...]  # after perturbation (what the model says)
    perturbations: tuple[Perturbation, ...]
    seed: int
    noise: float

    @property
    def domain(self) -> Box:
        return (DMN_DOMAIN,) * self.fields


def dmn_table(rules: int, fields: int, noise: float = 0.10, seed: int = 0) -> DmnTable:
    """A random recursive partition of 0..999^fields into `rules` boxes, then ~noise of them perturbed."""
    if rules < 1 or fields < 1:
        raise ValueError("a table needs at least one rule and one field")
    rng = random.Random(f"dmn/{rules}/{fields}/{seed}")
    lo, hi = DMN_DOMAIN
    boxes: list[list[tuple[int, int]]] = [[(lo, hi)] * fields]
    while len(boxes) < rules:
        i = rng.randrange(len(boxes))
        box = boxes[i]
        splittable = [f for f, (a, b) in enumerate(box) if b > a]
        if not splittable:
            continue
        f = rng.choice(splittable)
        a, b = box[f]
        cut = rng.randint(a + 1, b)  # [a, cut-1] and [cut, b]
        left, right = list(box), list(box)
        left[f], right[f] = (a, cut - 1), (cut, b)
        boxes[i] = left
        boxes.append(right)
    rng.shuffle(boxes)  # rule order says nothing about the split history
    clean = tuple(tuple(b) for b in boxes)

    perturbed = [list(b) for b in clean]
    chosen = rng.sample(range(rules), round(noise * rules))
    done: list[Perturbation] = []
    for r in sorted(chosen):
        box = perturbed[r]
        restricted = [f for f, iv in enumerate(box) if iv != DMN_DOMAIN]
        roll = rng.random()
        kind = "shrink" if not restricted else "widen" if roll < 0.4 else "shrink" if roll < 0.8 else "drop"
        if kind == "shrink":
            wide = [f for f, (a, b) in enumerate(box) if b > a]
            if not wide:
                kind = "widen"
        if kind == "widen":
            f = rng.choice(restricted)
            a, b = box[f]
            delta = rng.randint(1, max(1, (b - a + 1) // 2))
            grow_down = a > lo and (b == hi or rng.random() < 0.5)
            box[f] = (max(lo, a - delta), b) if grow_down else (a, min(hi, b + delta))
        elif kind == "shrink":
            f = rng.choice(wide)
            a, b = box[f]
            delta = rng.randint(1, max(1, (b - a) // 2))
            box[f] = (a + delta, b) if rng.random() < 0.5 else (a, b - delta)
        else:
            f = rng.choice(restricted)
            box[f] = DMN_DOMAIN
        done.append(Perturbation(r, kind, f))
    return DmnTable(fields, clean, tuple(tuple(b) for b in perturbed), tuple(done), seed, noise)


def dmn_model(rules: int, fields: int, noise: float = 0.10, seed: int = 0) -> str:
    """`.terr` source of `dmn_table(...)`: one `policy unique` model, one territory per rule."""
    return render_dmn_model(dmn_table(rules, fields, noise, seed))


def render_dmn_model(table: DmnTable) -> str:
    rng = random.Random(f"dmn-text/{table.seed}")
    n = len(table.rules)
    lines = [f"## DMN-style decision table: {n} rules over {table.fields} fields, "
             f"{len(table.perturbations)} rules perturbed (generated by bench/generators.py, seed {table.seed}).",
             "schema Row {", "  id: string key"]
    lines += [f"  f{f + 1}: int in {DMN_DOMAIN[0]}..{DMN_DOMAIN[1]}" for f in range(table.fields)]
    lines += ["}", "", f'model Table "{n} rules x {table.fields} fields" {{', "  policy unique"]
    for r, box in enumerate(table.rules):
        conditions = [_interval_text(f"f{f + 1}", a, b, rng) for f, (a, b) in enumerate(box) if (a, b) != DMN_DOMAIN]
        lines.append(f"  territory r{r + 1} {{ where {' and '.join(conditions) or 'true'} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _interval_text(field: str, a: int, b: int, rng: random.Random) -> str:
    lo, hi = DMN_DOMAIN
    style = rng.random() < 0.5  # both spellings appear, as in hand-written tables
    if a == b:
        return f"{field} == {a}"
    if a == lo:
        return f"{field} < {b + 1}" if style else f"{field} <= {b}"
    if b == hi:
        return f"{field} >= {a}" if style else f"{field} > {a - 1}"
    return f"{field} in {a}..{b}" if style else f"{field} >= {a} and {field} < {b + 1}"


def dmn_rows(n: int, fields: int, seed: int = 0) -> Iterator[dict]:
    """`n` input rows for a DMN table: uniform values in the domain."""
    rng = random.Random(f"dmn-rows/{seed}")
    lo, hi = DMN_DOMAIN
    for i in range(n):
        row = {"id": f"R{i:08d}"}
        for f in range(fields):
            row[f"f{f + 1}"] = rng.randint(lo, hi)
        yield row


# ---------------------------------------------------------------------------
# Salesforce-like overlays (issue 14): `policy all`, long ZIP lists, `not in`
# ---------------------------------------------------------------------------

SF_SEGMENTS = (("smb", 0, 199), ("mid", 200, 1999), ("ent", 2000, None))
SF_PRODUCTS = (("apps", ("software", "finance")), ("health", ("healthcare",)),
               ("commerce", ("retail", "other")), ("gov", ("public_sector",)))


ZIP_FORMS = ("in", "startswith-or", "startswith-set")


def salesforce_model(territories: int, seed: int = 0, zips_per_leaf: int = 200, excluded: int = 20,
                     zip_form: str = "in") -> str:
    """`.terr` source of a Salesforce-like model with about `territories` territories.

    The model and every group say `policy all` and `keep`: an account lands on every leaf
    whose `where` holds. Top-level groups are census regions; under each, leaves alternate
    between segment overlays (`employees` band) and product overlays (`industry in {..}`),
    each `state in {..} and <band or industry> and zip in {~zips_per_leaf codes} and
    zip not in {~excluded codes}`, so one account typically matches several leaves.
    ZIP codes are synthetic 5-digit strings (no `zipcodes` dependency), drawn from a
    per-region pool so that leaves of one region overlap heavily. Pure function of the
    arguments. This is the shape that blows up the combination diagram of
    targets/outcome_dd.py (see bench/README.md).

    `zip_form` "startswith-or" and "startswith-set" write each leaf's ZIP list as 3-digit
    prefixes instead (drawn from 000-999, about `zips_per_leaf` of them, many contiguous), as
    the public Salesforce model converted for issue 18 does: an `or` chain of `zip startswith`
    (all that could be written before `startswith` took a set), or one `zip startswith {..}`.
    The exclusions stay `zip not in {..}`. The "in" form draws exactly what it always drew.
    """
    if zip_form not in ZIP_FORMS:
        raise ValueError(f"zip_form is one of {', '.join(ZIP_FORMS)}")
    if territories < 8:
        raise ValueError("a Salesforce-like model needs at least 8 territories")
    rng = random.Random(f"salesforce-model/{seed}")
    regions = list(CENSUS_REGIONS.items())
    per_region = max(1, (territories - len(regions)) // len(regions))
    lines = [f"## Salesforce-like overlays: ~{territories:,} territories, policy all "
             f"(generated by bench/generators.py, seed {seed}).", *ACCOUNT_SCHEMA.rstrip("\n").split("\n"), "",
             f'model SalesforceLike "Salesforce-like overlays, ~{territories:,} territories" {{',
             "  effective 2027-02-01", "  policy all", "  keep"]
    total = 0
    for r_index, (region, (title, states)) in enumerate(regions):
        pool = sorted({f"{r_index * 2 + rng.randrange(2)}{rng.randrange(10000):04d}"
                       for _ in range(max(4 * zips_per_leaf, 50))})
        state_set = ", ".join(states)
        lines.append(f'  territory {region} "{title}" {{')
        lines.append(f"    where state in {{{state_set}}}")
        lines.append("    keep")
        lines.append(f'    owner "{region}-rvp@example.com" as rvp')
        total += 1
        for i in range(per_region):
            seg, lo, hi = SF_SEGMENTS[(i // 2) % len(SF_SEGMENTS)]
            prod, industries = SF_PRODUCTS[(i // 2) % len(SF_PRODUCTS)]
            picked = sorted(rng.sample(pool, min(zips_per_leaf, len(pool))))
            rest = [z for z in pool if z not in set(picked)]
            banned = sorted(rng.sample(rest, min(excluded, len(rest))) + rng.sample(picked, min(excluded // 4, len(picked))))
            band = f"employees >= {lo}" if hi is None else f"employees in {lo}..{hi}"
            sub = rng.sample(states, max(1, len(states) // 2))
            zips = ", ".join(f'"{z}"' for z in picked)
            zip_test = f"zip in {{{zips}}}"
            if zip_form != "in":
                prefixes = sorted(f"{p:03d}" for p in random.Random(f"{seed}/{region}/{i}").sample(
                    range(1000), min(zips_per_leaf, 1000)))
                zip_test = (f"zip startswith {{{', '.join(f'{chr(34)}{p}{chr(34)}' for p in prefixes)}}}"
                            if zip_form == "startswith-set" else
                            "(" + " or ".join(f'zip startswith "{p}"' for p in prefixes) + ")")
            nots = ", ".join(f'"{z}"' for z in banned)
            # even leaves are segment overlays, odd leaves product overlays: an account matches both kinds
            kind, test = ((seg, band) if i % 2 == 0 else (prod, f"industry in {{{', '.join(industries)}}}"))
            where = (f"state in {{{', '.join(sorted(sub))}}} and {test} and {zip_test}"
                     + (f" and zip not in {{{nots}}}" if banned else ""))
            lines.append(f"    territory {region}_{kind}_{i} {{ where {where} }}")
            total += 1
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _cli():
    import click

    def write(text: str, output: str | None) -> None:
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)

    @click.group(help=__doc__.split("\n\n")[0])
    def cli() -> None:
        pass

    @cli.command("zip-model", help="A ZIP-aligned US model; planted defects go to stderr as JSON.")
    @click.option("--leaves", type=click.IntRange(4), default=3000, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--defects", type=click.IntRange(0), default=0, show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False))
    def zip_model_cmd(leaves: int, seed: int, defects: int, output: str | None) -> None:
        generated = generate_zip_model(leaves, seed=seed, defects=defects)
        write(generated.text, output)
        if defects:
            click.echo(json.dumps([d.__dict__ | {"territories": list(d.territories)} for d in generated.defects],
                                  indent=2), err=True)

    @cli.command("salesforce-model", help="A Salesforce-like `policy all` overlay model (issue 14).")
    @click.option("--territories", type=click.IntRange(8), default=700, show_default=True)
    @click.option("--zips", type=click.IntRange(1), default=200, show_default=True)
    @click.option("--excluded", type=click.IntRange(0), default=20, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--zip-form", type=click.Choice(ZIP_FORMS), default="in", show_default=True,
                  help="ZIP codes in a set, or 3-digit prefixes as an `or` chain of `startswith` or one `startswith {..}`.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False))
    def salesforce_model_cmd(territories: int, zips: int, excluded: int, seed: int, zip_form: str,
                             output: str | None) -> None:
        write(salesforce_model(territories, seed, zips, excluded, zip_form), output)

    @cli.command("zip-accounts", help="Accounts for the ZIP model as CSV (streamed).")
    @click.option("--rows", type=click.IntRange(0), default=100_000, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
    def zip_accounts_cmd(rows: int, seed: int, output: str) -> None:
        write_accounts_csv(output, rows, seed)

    @cli.command("dmn-model", help="A flat DMN-style decision table as a .terr model.")
    @click.option("--rules", type=click.IntRange(1), default=500, show_default=True)
    @click.option("--fields", type=click.IntRange(1), default=5, show_default=True)
    @click.option("--noise", type=click.FloatRange(0, 1), default=0.10, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False))
    def dmn_model_cmd(rules: int, fields: int, noise: float, seed: int, output: str | None) -> None:
        write(dmn_model(rules, fields, noise, seed), output)

    @cli.command("dmn-boxes", help="The same table as JSON: clean and perturbed boxes, perturbations.")
    @click.option("--rules", type=click.IntRange(1), default=500, show_default=True)
    @click.option("--fields", type=click.IntRange(1), default=5, show_default=True)
    @click.option("--noise", type=click.FloatRange(0, 1), default=0.10, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False))
    def dmn_boxes_cmd(rules: int, fields: int, noise: float, seed: int, output: str | None) -> None:
        table = dmn_table(rules, fields, noise, seed)
        write(json.dumps({"fields": fields, "domain": list(DMN_DOMAIN), "clean": table.clean, "rules": table.rules,
                          "perturbations": [p.__dict__ for p in table.perturbations]}) + "\n", output)

    return cli


if __name__ == "__main__":
    _cli()()
