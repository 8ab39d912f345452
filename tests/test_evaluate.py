"""The evaluator's API, coercion rules and documented decisions (gaps, overlaps, keep, universe)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings

import terrl
from terrl.analysis import coverage
from terrl.semantics.coerce import InvalidValue, coerce_account, coerce_value
from terrl.targets.evaluate import compile_model
from terrl.pipeline import check_source
from terrl.targets.reference import assign_reference

from support import models

SCHEMA = """
schema Account {
  id:        string key
  country:   enum { US, CA, DE, FR }
  state:     enum { CA, WA, NY, TX }?
  zip:       digits(5)?
  employees: int in 0..
  revenue:   decimal in 0..
  flag:      bool?
}
segment enterprise = employees >= 1000 or revenue >= 500M
"""

ACME_LIKE = SCHEMA + """
model FY "Fiscal" {
  policy first
  territory named "Named" { where id in {"S1", "S2"} owner "kim@x" as AE }
  territory na "North America" {
    where country in {US, CA}
    policy unique
    owner "dana@x" as RVP
    territory west "West" {
      where state in {CA, WA} or country == CA
      territory west_ent "West Enterprise" { where enterprise owner "eli@x" as AE }
      territory west_com "West Commercial" { where not enterprise owner "fay@x" as AE owner "gus@x" as SE }
    }
    territory bay "Bay Area" { where zip startswith "94" and not enterprise owner "hal@x" as AE }
    territory east "East" { where state == NY
      territory east_big { where employees > 100 }
    }
    territory central "Central" { else }
  }
  territory intl "International" {
    where country not in {US, CA}
    keep
    territory de "Germany" { where country == DE }
  }
}
"""


def program_of(text: str, tmp_path: Path | None = None):
    result = check_source(text, "model.terr", stop_after="resolve")
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    return next(iter(result.programs.values()))


@pytest.fixture(scope="module")
def acme():
    return compile_model(program_of(ACME_LIKE).models[0])


def account(**fields):
    base = {"id": "A1", "country": "US", "employees": "10", "revenue": "5"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


# --- results ------------------------------------------------------------------------------

def test_a_leaf_with_titles_and_owners(acme):
    r = acme.assign(account(state="WA", employees=5000))
    assert r.status == "assigned"
    assert r.territories == ("na.west.west_ent",)
    assert r.titles == ("West Enterprise",)
    assert r.owners == ("eli@x",)
    assert r.reason is None
    assert isinstance(r, terrl.Assignment)
    assert acme.assign(account(id="A2", state="WA", employees=6000)) is r  # accounts that end alike share it
    assert r.as_dict()["territories"] == ["na.west.west_ent"]


def test_several_owners_and_untitled_territory_uses_its_name(acme):
    r = acme.assign(account(state="WA"))
    assert r.owners == ("fay@x", "gus@x")
    r = acme.assign(account(state="NY", employees=500))
    assert r.titles == ("east_big",)


def test_policy_first_named_account_wins(acme):
    assert acme.assign(account(id="S2", country="DE")).territories == ("named",)


def test_overlap_under_unique_assigns_to_every_match_and_says_conflict(acme):
    r = acme.assign(account(state="CA", zip="94105"))
    assert r.status == "assigned"
    assert r.territories == ("na.west.west_com", "na.bay")
    assert r.owners == ("fay@x", "gus@x", "hal@x")
    assert "conflict" in r.reason and "`na.west` and `na.bay`" in r.reason


def test_gap_below_a_parent_is_unassigned_naming_the_parent(acme):
    r = acme.assign(account(state="NY", employees=50))
    assert r.status == "unassigned" and r.territories == ()
    assert r.reason == "gap: the account reaches `na.east` but none of its children takes it"


def test_keep_parent_holds_the_account(acme):
    r = acme.assign(account(country="FR"))
    assert (r.status, r.territories, r.titles) == ("assigned", ("intl",), ("International",))


def test_else_takes_what_siblings_leave(acme):
    assert acme.assign(account(state="TX")).territories == ("na.central",)
    assert acme.assign(account()).territories == ("na.central",)  # missing state


def test_model_keep_and_root_gap_and_universe():
    text = SCHEMA + """
model Kept { keep territory us { where country == US } }
model Gappy { territory us { where country == US } }
model Scoped { where country != FR territory all_ { where true } }
"""
    program = program_of(text)
    kept, gappy, scoped = (compile_model(program.model(n)) for n in ("Kept", "Gappy", "Scoped"))
    r = kept.assign(account(country="DE"))
    assert r.status == "unassigned" and "says `keep`" in r.reason
    r = gappy.assign(account(country="DE"))
    assert r.reason == "gap: no top-level territory of model `Gappy` takes the account"
    r = scoped.assign(account(country="FR"))
    assert r.status == "unassigned" and r.reason.startswith("outside the universe of model `Scoped`")
    assert scoped.assign(account(country="DE")).territories == ("all_",)


def test_policy_all_lands_on_every_match_and_reports_a_partial_gap():
    program = program_of(SCHEMA + """
model Overlay {
  policy all
  territory geo { where country == US
    territory big { where employees >= 100 } }
  territory vertical { where revenue > 0 }
}
""")
    ev = compile_model(program.models[0])
    r = ev.assign(account(employees=500))
    assert r.territories == ("geo.big", "vertical") and r.reason is None
    r = ev.assign(account(employees=5))
    assert r.status == "assigned" and r.territories == ("vertical",)
    assert r.reason == "gap: the account reaches `geo` but none of its children takes it"


# --- invalid input -------------------------------------------------------------------------

@pytest.mark.parametrize("fields, reason", [
    ({"employees": "5,00"}, "`employees`: '5,00' is not a number (write digits with `.` as the decimal point)"),
    ({"employees": "5 000"}, "`employees`: '5 000' is not a number"),
    ({"employees": "1e3"}, "`employees`: '1e3' is not a number"),
    ({"employees": "10.5"}, "`employees`: '10.5' is not a whole number"),
    ({"employees": "-1"}, "`employees`: -1 is below the lower bound 0"),
    ({"employees": True}, "`employees`: expected a number, got true"),
    ({"employees": [1]}, "`employees`: expected a number, got a list"),
    ({"revenue": "NaN"}, "`revenue`: 'NaN' is not a number"),
    ({"revenue": float("inf")}, "`revenue`: inf is not a finite number"),
    ({"country": "ZZ"}, "`country`: 'ZZ' is not a member of enum {US, CA, DE, FR}"),
    ({"country": "u s a"}, "`country`: 'u s a' is not a member of enum {US, CA, DE, FR}"),
    ({"country": 1}, "`country`: expected a member of enum {US, CA, DE, FR}, got number 1"),
    ({"country": None}, "missing required field `country`"),
    ({"zip": "9410"}, "`zip`: expected exactly 5 digits, got '9410'"),
    ({"zip": 94105}, "`zip`: expected a string of 5 digits, got number 94105"),
    ({"flag": "yes"}, "`flag`: expected true or false, got 'yes'"),
    ({"flag": "TRUE!"}, "`flag`: expected true or false, got 'TRUE!'"),
    ({"flag": 1}, "`flag`: expected true or false, got 1"),
    ({"id": 7}, "`id`: expected a string, got number 7"),
    ({"employees": "x" * 1000}, "`employees`: '" + "x" * 40 + "...' is not a number"),
    ({"employees": -(10 ** 5000)}, "`employees`: a number of 5001 digits is too long for a number"),
])
def test_invalid_values_name_the_field(acme, fields, reason):
    r = acme.assign(account(**fields))
    assert r.status == "invalid" and r.territories == ()
    assert r.reason.startswith(reason)
    assert assign_reference(acme.model, account(**fields))[4] == r.reason


@pytest.mark.parametrize("fields, reason", [
    ({"employees": "5,000"}, "`employees`: '5,000' is not a number (write digits with `.` as the decimal point); "
                             "clean-up `number-format` would read it as '5000'"),
    ({"employees": " 5000"}, "`employees`: ' 5000' is not a number (write digits with `.` as the decimal point); "
                             "clean-up `trim` would read it as '5000'"),
    ({"country": "us"}, "`country`: 'us' is not a member of enum {US, CA, DE, FR}; clean-up `case` would read it as 'US'"),
    ({"flag": "TRUE"}, "`flag`: expected true or false, got 'TRUE'; clean-up `case` would read it as 'true'"),
    ({"country": ""}, "missing required field `country`"),
    ({"country": " \t"}, "missing required field `country`"),
])
def test_strict_takes_values_as_written_and_says_which_rule_would_clean_them(fields, reason):
    strict = compile_model(program_of(ACME_LIKE).models[0], cleanup=())
    r = strict.assign(account(**fields))
    assert (r.status, r.reason, r.cleaned) == ("invalid", reason, ())
    assert assign_reference(strict.model, account(**fields), cleanup=())[4] == reason


def test_every_invalid_field_is_named_in_schema_order(acme):
    r = acme.assign({"country": "ZZ", "employees": "-5", "revenue": "x"})
    assert r.reason == ("missing required field `id`; `country`: 'ZZ' is not a member of enum {US, CA, DE, FR}; "
                        "`employees`: -5 is below the lower bound 0; `revenue`: 'x' is not a number "
                        "(write digits with `.` as the decimal point)")


@pytest.mark.parametrize("raw, value", [
    ("5000", 5000), (5000, 5000), ("5000.0", 5000), (Decimal("5000"), 5000), (5000.0, 5000), ("-0", 0),
    ("1" * 1000, "as text"),  # the longest number text (terrl.semantics.coerce.MAX_NUMBER_CHARS)
])
def test_int_coercion(raw, value):
    if value == "as text":
        value = int(Decimal(raw))
    f = program_of(SCHEMA + "model M { territory t { } }").models[0].schema.field("employees")
    assert coerce_value(f, raw) == value and type(coerce_value(f, raw)) is int


@pytest.mark.parametrize("raw, value", [
    ("0.1", Decimal("0.1")), (0.1, Decimal("0.1")), ("500000000", Decimal(500000000)), (7, Decimal(7)),
    (Decimal("1.50"), Decimal("1.5")),
])
def test_decimal_coercion_is_exact(raw, value):
    f = program_of(SCHEMA + "model M { territory t { } }").models[0].schema.field("revenue")
    coerced = coerce_value(f, raw)
    assert coerced == value and isinstance(coerced, Decimal)


def test_decimals_are_exact_at_a_boundary():
    program = program_of(SCHEMA + """
model M {
  territory small { where revenue < 1M }
  territory large { where revenue > 1M }
}
""")
    ev = compile_model(program.models[0])
    assert ev.assign(account(revenue="999999.999999999999999")).territories == ("small",)
    assert ev.assign(account(revenue="1000000.000000000000001")).territories == ("large",)
    r = ev.assign(account(revenue="1000000.00"))
    assert r.status == "unassigned" and r.reason.startswith("gap:")
    assert ev.assign(account(revenue=1000000.5)).territories == ("large",)


def test_coerce_account_ignores_unknown_fields():
    schema = program_of(SCHEMA + "model M { territory t { } }").models[0].schema
    values, reason = coerce_account(schema, account(extra="whatever", state="CA"))
    assert reason is None and values["state"] == "CA" and "extra" not in values
    with pytest.raises(InvalidValue):
        coerce_value(schema.field("state"), "ZZ")


# --- witnesses of the coverage analysis reproduce -----------------------------------------

def check_witnesses(model) -> int:
    evaluator = compile_model(model)
    findings = [d for d in coverage.analyze(model) if d.name in ("gap", "overlap", "unreachable", "empty")]
    for d in findings:
        if d.extra["witness"] is None:  # only when the model's `where` admits no account at all
            assert d.name == "empty" and "matches no account" in d.message
            continue
        witness = json.loads(json.dumps(d.extra["witness"]), parse_float=Decimal)  # as a JSON consumer reads it
        r = evaluator.assign(witness)
        paths = d.extra["territories"]
        assert r.status != "invalid", (d.message, witness, r)
        if d.name == "overlap":
            assert "conflict" in r.reason and all(f"`{p}`" in r.reason for p in paths), (d.message, r)
            for p in paths:  # each lands the account, or passes it down into a gap of its own
                assert (any(t == p or t.startswith(p + ".") for t in r.territories)
                        or f"reaches `{p}" in r.reason), (d.message, r)
        elif d.name == "gap":
            parent = paths[0] if paths else ""
            expected = (f"gap: the account reaches `{parent}`" if parent
                        else f"gap: no top-level territory of model `{model.name}`")
            assert expected in (r.reason or ""), (d.message, witness, r)
        else:  # unreachable, empty: the territory at fault never gets the account
            fault = paths[0]
            assert not any(t == fault or t.startswith(fault + ".") for t in r.territories), (d.message, r)
    return len(findings)


def test_acme_like_witnesses_reproduce():
    assert check_witnesses(program_of(ACME_LIKE).models[0]) >= 3


def test_gap_unreachable_and_empty_witnesses_reproduce():
    program = program_of(SCHEMA + """
model M {
  policy first
  territory us { where country == US }
  territory us_again { where country == US and employees > 5 }
  territory nothing { where employees < 0 }
  territory ca { where country == CA
    territory ca_big { where employees > 100 } }
}
""")
    assert check_witnesses(program.models[0]) >= 4


@pytest.mark.slow
@settings(max_examples=40)
@given(model=models())
def test_random_model_witnesses_reproduce(model):
    check_witnesses(model)


# --- load() ---------------------------------------------------------------------------------

def test_load_picks_the_model_and_reports_errors(tmp_path):
    path = tmp_path / "two.terr"
    path.write_text(SCHEMA + "model A { territory t { } }\nmodel B { territory u { } }\n", encoding="utf-8")
    with pytest.raises(terrl.ModelError, match="several models"):
        terrl.load(path)
    assert terrl.load(path, model="B").assign(account()).territories == ("u",)
    with pytest.raises(terrl.ModelError, match="no model `C`"):
        terrl.load(path, model="C")
    bad = tmp_path / "bad.terr"
    bad.write_text(SCHEMA + "model A { territory t { where employes > 1 } }\n", encoding="utf-8")
    with pytest.raises(terrl.ModelError) as info:
        terrl.load(bad)
    assert any(d.code == "E101" for d in info.value.diagnostics)


def test_assign_many_is_lazy_and_in_order(acme):
    rows = [account(id=str(i), country="DE" if i % 3 else "FR") for i in range(1000)]
    taken = []

    def source():
        for row in rows:
            taken.append(row)
            yield row

    results = acme.assign_many(source())
    assert next(results).territories == ("intl",) and len(taken) == 1
    rest = list(results)
    assert [r.territories for r in rest] == [("intl",) if i % 3 == 0 else ("intl.de",) for i in range(1, 1000)]


REVENUE_TIERS = SCHEMA + """
model Tiers {
  territory big { where revenue >= 10M }
  territory mid { where revenue >= 1M and revenue < 10M }
  territory small { where revenue < 1M }
}
"""


@pytest.mark.parametrize("revenue, expected", [
    (Decimal("0"), "small"), (Decimal("-0"), "small"), (Decimal("999999.99"), "small"), (Decimal("1E+6"), "mid"),
    (Decimal("10000000.000"), "big"), ("10000000", "big"), ("9999999.99", "mid"), ("0010000000.00", "big"),
    (10**30, "big"), ("9" * 40, "big"),
    (Decimal("-0.01"), "invalid"), (Decimal("Infinity"), "invalid"), (Decimal("-Infinity"), "invalid"),
    (Decimal("NaN"), "invalid"), (Decimal("sNaN"), "invalid"), ("1.", "invalid"), (".5", "invalid"),
    ("1.2.3", "invalid"), ("-0.5", "invalid"), ("1e7", "invalid"), ("١٠", "invalid"), (1.5, "small"),
])
def test_a_decimal_bounded_below_is_validated_and_tiered_by_its_fast_path(revenue, expected):
    """`revenue: decimal in 0..` with only `>=`/`<` cuts takes one bisect (typed Decimal) or a
    digits / digits-with-point text path; each value gives what the reference gives."""
    model = program_of(REVENUE_TIERS).models[0]
    evaluator = compile_model(model)
    assert "SPAN_" in evaluator.source  # the one-bisect path is the one under test
    r = evaluator.assign(account(revenue=revenue))
    assert (r.status if r.status == "invalid" else r.territories[0]) == expected
    assert tuple(r[:5]) == assign_reference(model, account(revenue=revenue))
    assert list(evaluator.assign_many([account(revenue=revenue)] * 2)) == [r, r]
