"""Write the stdlib's geography modules, `stdlib/geo/us.terr`, `stdlib/geo/world.terr` and `stdlib/geo/subdivisions.terr`.

    pip install -e '.[stdlib-gen]'      # pycountry and us, pinned: the output must not drift
    python stdlib/generate.py            # or: python stdlib/generate.py --out DIR

The generated files are committed; review the diff after regenerating. Neither pycountry nor
`us` is a runtime dependency of terrl. Output is deterministic and already in the layout
`terrl fmt` writes (2-space indent, one member per line, trailing commas).

Sources:
- US states, the District of Columbia and the inhabited territories: the `us` package.
- US census regions and divisions: US Census Bureau, "Census Regions and Divisions of the
  United States" (embedded below; it has not changed since 1984).
- ISO 3166-1 alpha-2 codes and common names: pycountry.
- ISO 3166-2 subdivision codes (`US-CA`, `CA-ON`, `AU-WA`) and names: pycountry. They are a
  module of their own (about 5,000 members) so that `import geo.world` stays small.
- Continents: the UN M49 geoscheme ("Standard country or area codes for statistical use",
  UN Statistics Division), embedded below. The embedded table is used rather than a package
  because the one that ships it (country_converter) needs pandas and fails to load under
  pandas 3 (it reads Namibia's code `NA` as a missing value). The table was cross-checked
  against country_converter 1.3.2's `UNregion` column: they agree on all 249 codes except
  Nauru, which M49 places in Micronesia.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import pycountry
import us

STDLIB = Path(__file__).resolve().parent


# ---- a tiny model of what the generated files hold ---------------------------------------

@dataclass(frozen=True)
class Members:
    """A set literal `{A, B}`; members are kept in enum order when rendered."""
    codes: frozenset[str]


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Union_:
    left: "SetExpr"
    right: "SetExpr"


@dataclass(frozen=True)
class Difference:
    left: "SetExpr"
    right: "SetExpr"


SetExpr = Union[Members, Ref, Union_, Difference]


@dataclass(frozen=True)
class EnumDecl:
    name: str
    doc: tuple[str, ...]
    members: tuple[tuple[str, str], ...]   # (code, title) in declared order
    country: str | None = None   # `enum UsState of US`: the members are subdivisions of this country


@dataclass(frozen=True)
class SetDecl:
    name: str
    doc: tuple[str, ...]
    expr: SetExpr


def union(*parts: SetExpr) -> SetExpr:
    expr = parts[0]
    for part in parts[1:]:
        expr = Union_(expr, part)
    return expr


def members(codes) -> Members:
    return Members(frozenset(codes))


def evaluate(expr: SetExpr, env: dict[str, frozenset[str]]) -> frozenset[str]:
    if isinstance(expr, Members):
        return expr.codes
    if isinstance(expr, Ref):
        return env[expr.name]
    if isinstance(expr, Union_):
        return evaluate(expr.left, env) | evaluate(expr.right, env)
    return evaluate(expr.left, env) - evaluate(expr.right, env)


# ---- rendering ---------------------------------------------------------------------------

def render_doc(doc: tuple[str, ...]) -> str:
    return "".join(f"## {line}\n" for line in doc)


def render_enum(decl: EnumDecl) -> str:
    lines = [f"  {code} {json.dumps(title, ensure_ascii=False)},\n" for code, title in decl.members]
    of = f" of {decl.country}" if decl.country else ""
    return f"{render_doc(decl.doc)}enum {decl.name}{of} {{\n{''.join(lines)}}}\n"


def render_inline(expr: SetExpr, order: dict[str, int]) -> str:
    if isinstance(expr, Members):
        return "{" + ", ".join(sorted(expr.codes, key=order.__getitem__)) + "}"
    if isinstance(expr, Ref):
        return expr.name
    op = "+" if isinstance(expr, Union_) else "-"
    right = render_inline(expr.right, order)
    if isinstance(expr.right, (Union_, Difference)):
        right = f"({right})"   # the operators are left-associative
    return f"{render_inline(expr.left, order)} {op} {right}"


def render_set(decl: SetDecl, enum: EnumDecl) -> str:
    order = {code: i for i, (code, _) in enumerate(enum.members)}
    head = f"{render_doc(decl.doc)}set {decl.name}: {enum.name} = "
    if isinstance(decl.expr, Members):
        one_line = f"set {decl.name}: {enum.name} = {render_inline(decl.expr, order)}"
        if len(one_line) <= 100:  # terrl fmt's layout: short lists on one line
            return f"{render_doc(decl.doc)}{one_line}\n"
        body = "".join(f"  {code},\n" for code in sorted(decl.expr.codes, key=order.__getitem__))
        return f"{head}{{\n{body}}}\n"
    return f"{head}{render_inline(decl.expr, order)}\n"


def render_module(enum: EnumDecl, sets: list[SetDecl]) -> str:
    return "\n".join([render_enum(enum)] + [render_set(s, enum) for s in sets])


def check_sets(enum: EnumDecl, sets: list[SetDecl], expected: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Evaluate every set in order and compare with the membership it was meant to have."""
    known = {code for code, _ in enum.members}
    env: dict[str, frozenset[str]] = {}
    for decl in sets:
        value = evaluate(decl.expr, env)
        assert value <= known, f"{decl.name}: not in {enum.name}: {sorted(value - known)}"
        assert value, f"{decl.name} is empty"
        if decl.name in expected:
            assert value == expected[decl.name], (
                f"{decl.name}: extra {sorted(value - expected[decl.name])}, missing {sorted(expected[decl.name] - value)}")
        env[decl.name] = value
    return env


# ---- geo/us.terr -------------------------------------------------------------------------

# US Census Bureau regions and divisions, in the Bureau's order. DC is in South Atlantic.
CENSUS_REGIONS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("northeast", "Northeast", (
        ("new_england", "New England", "CT ME MA NH RI VT"),
        ("mid_atlantic", "Middle Atlantic", "NJ NY PA"),
    )),
    ("midwest", "Midwest", (
        ("east_north_central", "East North Central", "IL IN MI OH WI"),
        ("west_north_central", "West North Central", "IA KS MN MO NE ND SD"),
    )),
    ("south", "South", (
        ("south_atlantic", "South Atlantic", "DE DC FL GA MD NC SC VA WV"),
        ("east_south_central", "East South Central", "AL KY MS TN"),
        ("west_south_central", "West South Central", "AR LA OK TX"),
    )),
    ("west", "West", (
        ("mountain", "Mountain", "AZ CO ID MT NV NM UT WY"),
        ("pacific", "Pacific", "AK CA HI OR WA"),
    )),
)


def english_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def us_module() -> str:
    states = sorted(us.states.STATES, key=lambda s: s.name)
    dc = us.states.DC
    territories = sorted(us.states.TERRITORIES, key=lambda s: s.name)
    enum = EnumDecl(
        "UsState",
        ("The states, district and inhabited territories of the United States (USPS codes).",
         "`of US`: each is the ISO 3166-2 subdivision `US-` + code, so these sets also apply to a",
         "`subdivisions.Subdivision of country` field.",
         "Generated by stdlib/generate.py from the `us` package; do not edit by hand."),
        tuple((s.abbr, s.name) for s in sorted(states + [dc], key=lambda s: s.name) + territories),
        country="US",
    )
    iso_us = {s.code for s in pycountry.subdivisions.get(country_code="US")}
    assert {f"US-{code}" for code, _ in enum.members} <= iso_us, "every UsState member must be an ISO 3166-2 US code"
    state_codes = frozenset(s.abbr for s in states)
    territory_codes = frozenset(s.abbr for s in territories)

    sets: list[SetDecl] = []
    for region, region_title, divisions in CENSUS_REGIONS:
        for name, title, codes in divisions:
            doc = [f"{title} census division ({region_title} region)."]
            if "DC" in codes.split():
                doc.append("Includes the District of Columbia.")
            sets.append(SetDecl(name, tuple(doc), members(codes.split())))
        division_titles = english_list([title for _, title, _ in divisions])
        sets.append(SetDecl(region, (f"{region_title} census region: {division_titles} divisions.",),
                            union(*(Ref(name) for name, _, _ in divisions))))
    territory_names = english_list([("the " if t.abbr in {"MP", "VI"} else "") + t.name for t in territories])
    sets += [
        SetDecl("states", ("The 50 states.",), members(state_codes)),
        SetDecl("states_and_dc", ("The 50 states and the District of Columbia.",), union(Ref("states"), members({"DC"}))),
        SetDecl("contiguous", ("The contiguous United States: the lower 48 states and the District of Columbia.",),
                Difference(Ref("states_and_dc"), members({"AK", "HI"}))),
        SetDecl("territories", ("The inhabited US territories.", f"{territory_names}."), members(territory_codes)),
    ]

    census = [frozenset(codes.split()) for _, _, divisions in CENSUS_REGIONS for _, _, codes in divisions]
    assert sum(len(d) for d in census) == 51 and frozenset().union(*census) == state_codes | {"DC"}, \
        "census divisions must partition the 50 states and DC"
    check_sets(enum, sets, {
        "states": state_codes,
        "states_and_dc": state_codes | {"DC"},
        "contiguous": frozenset(s.abbr for s in us.states.STATES_CONTIGUOUS) | {"DC"},
        "territories": frozenset({"AS", "GU", "MP", "PR", "VI"}),
    })
    return render_module(enum, sets)


# ---- geo/world.terr ----------------------------------------------------------------------

# UN M49 sub-regions (and, inside Latin America and the Caribbean and Sub-Saharan Africa,
# intermediate regions), grouped by continent. Taiwan (TW) is not listed by M49 (it is in
# "China"); it is placed in Eastern Asia as most references do. The generator asserts that
# this covers every ISO 3166-1 code in pycountry exactly once.
UN_M49: dict[str, dict[str, str]] = {
    "africa": {
        "Northern Africa": "DZ EG LY MA SD TN EH",
        "Eastern Africa": "IO BI KM DJ ER ET TF KE MG MW MU YT MZ RE RW SC SO SS UG TZ ZM ZW",
        "Middle Africa": "AO CM CF TD CG CD GQ GA ST",
        "Southern Africa": "BW SZ LS NA ZA",
        "Western Africa": "BJ BF CV CI GM GH GN GW LR ML MR NE NG SH SN SL TG",
    },
    "antarctica": {
        "Antarctica": "AQ",
    },
    "asia": {
        "Central Asia": "KZ KG TJ TM UZ",
        "Eastern Asia": "CN HK MO KP JP MN KR TW",
        "South-eastern Asia": "BN KH ID LA MY MM PH SG TH TL VN",
        "Southern Asia": "AF BD BT IN IR MV NP PK LK",
        "Western Asia": "AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE",
    },
    "europe": {
        "Eastern Europe": "BY BG CZ HU PL MD RO RU SK UA",
        "Northern Europe": "AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB",
        "Southern Europe": "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES",
        "Western Europe": "AT BE FR DE LI LU MC NL CH",
    },
    # M49's "North America" (003) is Northern America, Central America and the Caribbean.
    "north_america": {
        "Northern America": "BM CA GL PM US",
        "Central America": "BZ CR SV GT HN MX NI PA",
        "Caribbean": "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI",
    },
    "oceania": {
        "Australia and New Zealand": "AU CX CC HM NZ NF",
        "Melanesia": "FJ NC PG SB VU",
        "Micronesia": "GU KI MH FM NR MP PW UM",
        "Polynesia": "AS CK PF NU PN WS TK TO TV WF",
    },
    "south_america": {
        "South America": "AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE",
    },
}

CONTINENT_DOCS: dict[str, tuple[str, ...]] = {
    "africa": ("Africa (UN M49 region 002).",
               "Includes the British Indian Ocean Territory and the French Southern Territories."),
    "antarctica": ("Antarctica (UN M49 010).",),
    "asia": ("Asia (UN M49 142), including Western Asia: Cyprus, Türkiye and the Arabian Peninsula.",),
    "europe": ("Europe (UN M49 150), including Russia.",),
    "north_america": ("North America (UN M49 003): Northern America, Central America and the Caribbean.",
                      "Includes Greenland and Bermuda."),
    "oceania": ("Oceania (UN M49 009): Australia and New Zealand, Melanesia, Micronesia and Polynesia.",
                "Includes Guam, American Samoa and the US Minor Outlying Islands."),
    "south_america": ("South America (UN M49 005).",
                      "Includes the Falkland Islands, South Georgia and Bouvet Island."),
}

# The Middle East as sales organisations draw it: Western Asia without the South Caucasus,
# plus Egypt and Iran.
SOUTH_CAUCASUS = frozenset({"AM", "AZ", "GE"})
MIDDLE_EAST_OUTSIDE_WESTERN_ASIA = frozenset({"EG", "IR"})

# pycountry's common names that put the noun first ("Congo, The Democratic Republic of the").
TITLE_OVERRIDES = {
    "CD": "Democratic Republic of the Congo",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
}


def country_title(country) -> str:
    return TITLE_OVERRIDES.get(country.alpha_2) or getattr(country, "common_name", None) or country.name


def world_module() -> str:
    countries = sorted(pycountry.countries, key=lambda c: c.alpha_2)
    enum = EnumDecl(
        "Country",
        ("Countries and areas with an ISO 3166-1 alpha-2 code, titled with their common names.",
         "Generated by stdlib/generate.py from pycountry and the UN M49 geoscheme; do not edit by hand."),
        tuple((c.alpha_2, country_title(c)) for c in countries),
    )
    all_codes = frozenset(code for code, _ in enum.members)

    continent: dict[str, frozenset[str]] = {}
    placed: dict[str, str] = {}
    for name, regions in UN_M49.items():
        codes: set[str] = set()
        for region, listed in regions.items():
            for code in listed.split():
                assert code not in placed, f"{code} is in both {placed[code]} and {region}"
                placed[code] = region
                codes.add(code)
        continent[name] = frozenset(codes)
    assert set(placed) == all_codes, (
        f"UN M49 table vs pycountry: unplaced {sorted(all_codes - set(placed))}, unknown {sorted(set(placed) - all_codes)}")

    western_asia = frozenset(UN_M49["asia"]["Western Asia"].split())
    assert SOUTH_CAUCASUS <= western_asia
    middle_east = (western_asia - SOUTH_CAUCASUS) | MIDDLE_EAST_OUTSIDE_WESTERN_ASIA
    northern_america = frozenset(UN_M49["north_america"]["Northern America"].split())
    latin_america = (continent["north_america"] - northern_america) | continent["south_america"]

    sets = [SetDecl(name, CONTINENT_DOCS[name], members(continent[name])) for name in UN_M49]
    sets += [
        SetDecl("middle_east", ("The Middle East: Western Asia without the South Caucasus, plus Egypt and Iran.",),
                members(middle_east)),
        SetDecl("south_caucasus", ("The South Caucasus: Armenia, Azerbaijan and Georgia.",
                                   "UN M49 puts them in Western Asia; sales regions count them in EMEA."),
                members(SOUTH_CAUCASUS)),
        SetDecl("emea", ("EMEA: Europe, the Middle East and Africa, with the South Caucasus.",
                         "emea, apac and amer hold every code exactly once between them, except Antarctica (AQ),",
                         "which is in none of them."),
                union(Ref("europe"), Ref("middle_east"), Ref("africa"), Ref("south_caucasus"))),
        SetDecl("apac", ("APAC: Asia-Pacific, that is Asia without the Middle East, plus Oceania.",
                         "Includes Central Asia, Afghanistan and Pakistan."),
                union(Difference(Difference(Ref("asia"), Ref("middle_east")), Ref("south_caucasus")), Ref("oceania"))),
        SetDecl("amer", ("AMER: the Americas, North and South, with Central America and the Caribbean.",),
                union(Ref("north_america"), Ref("south_america"))),
        SetDecl("latam", ("Latin America and the Caribbean (UN M49 419): Mexico, Central and South America, the Caribbean.",),
                Difference(Ref("amer"), members(northern_america))),
    ]
    env = check_sets(enum, sets, {"latam": latin_america, "middle_east": middle_east})

    sales = [env["emea"], env["apac"], env["amer"]]
    assert all(not (a & b) for i, a in enumerate(sales) for b in sales[i + 1:]), "emea, apac and amer overlap"
    assert frozenset().union(*sales) == all_codes - {"AQ"}, "emea, apac and amer must cover every code but AQ"
    return render_module(enum, sets)


# ---- geo/subdivisions.terr ---------------------------------------------------------------

SUBDIVISION_CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")  # the grammar's SUBDIVISION terminal


def subdivisions_module() -> str:
    subdivisions = sorted(pycountry.subdivisions, key=lambda s: s.code)
    assert all(SUBDIVISION_CODE.fullmatch(s.code) for s in subdivisions), "an ISO 3166-2 code the grammar cannot read"
    enum = EnumDecl(
        "Subdivision",
        ("ISO 3166-2 subdivision codes of every country (`US-CA`, `CA-ON`, `AU-WA`), titled with their names.",
         "A field `state: subdivisions.Subdivision? of country` reads `CA` in the context of the account's",
         "country (`US-CA` for a US account); sets of an `enum ... of US` such as `us.west` apply to it.",
         "Generated by stdlib/generate.py from pycountry; do not edit by hand."),
        tuple((s.code, s.name) for s in subdivisions),
    )
    return render_enum(enum)


# ---- entry point -------------------------------------------------------------------------

def generate() -> dict[str, str]:
    """Relative path under the stdlib → file text."""
    return {"geo/us.terr": us_module(), "geo/world.terr": world_module(),
            "geo/subdivisions.terr": subdivisions_module()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=STDLIB, help="folder to write geo/*.terr into (default: stdlib/)")
    args = parser.parse_args(argv)
    for relative, text in generate().items():
        target = args.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))   # bytes: no platform newline translation
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
