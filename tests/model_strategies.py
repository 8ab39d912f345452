"""Hypothesis strategies: random models (IR built directly) and random raw accounts.

Shared by the evaluator tests. Models: trees of up to three levels and three siblings,
random predicates over every field kind, policies, `keep`, `else`, a universe.
Accounts: text and typed values, nulls, boundary values and invalid values.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from terrl.semantics import ir

ENUM = ("red", "green", "blue", "other")
SCHEMA = ir.Schema("Account", (
    ir.Field("id", ir.FieldType("string"), key=True),
    ir.Field("color", ir.FieldType("enum", members=ENUM)),
    ir.Field("size", ir.FieldType("int", lo=0, hi=100)),
    ir.Field("amount", ir.FieldType("decimal"), optional=True),
    ir.Field("code", ir.FieldType("digits", digits=3), optional=True),
    ir.Field("flag", ir.FieldType("bool"), optional=True),
    ir.Field("label", ir.FieldType("string"), optional=True),
    ir.Field("price", ir.FieldType("decimal", lo=0), optional=True),  # bounded below only: one bisect
))

INTS = (0, 1, 9, 10, 11, 50, 99, 100)
DECIMALS = (Decimal("-1"), Decimal("0"), Decimal("0.5"), Decimal("1"), Decimal("1.5"), Decimal("10"), Decimal("1000000"))
CODES = ("000", "099", "100", "123", "500", "999")
LABELS = ("", "a", "ab", "abc", "b", "zz", "é")
IDS = ("A1", "A2", "B7", "")
PRICES = (Decimal("0"), Decimal("0.5"), Decimal("10"), Decimal("99.99"))


def atoms():
    return st.one_of(
        st.builds(ir.Compare, st.just("color"), st.sampled_from(["==", "<", "<=", ">", ">="]), st.sampled_from(ENUM)),
        st.builds(lambda vs: ir.InSet("color", frozenset(vs)), st.sets(st.sampled_from(ENUM), min_size=1)),
        st.builds(ir.Compare, st.just("size"), st.sampled_from(["==", "<", "<=", ">", ">="]), st.sampled_from(INTS)),
        st.builds(lambda a, b: ir.InRange("size", min(a, b), max(a, b)), st.sampled_from(INTS), st.sampled_from(INTS)),
        st.builds(ir.Compare, st.just("amount"), st.sampled_from(["==", "<", "<=", ">", ">="]), st.sampled_from(DECIMALS)),
        st.builds(lambda a, b: ir.InRange("amount", a, b), st.sampled_from(DECIMALS + (None,)), st.sampled_from(DECIMALS + (None,))),
        st.builds(ir.StartsWith, st.just("code"), st.sampled_from(["", "0", "1", "12", "99", "123"])),
        st.builds(lambda vs: ir.InSet("code", frozenset(vs)), st.sets(st.sampled_from(CODES), min_size=1)),
        st.builds(ir.Compare, st.just("code"), st.sampled_from(["<", ">="]), st.sampled_from(CODES)),
        st.builds(ir.Compare, st.just("flag"), st.just("=="), st.booleans()),
        st.builds(ir.StartsWith, st.just("label"), st.sampled_from(["a", "ab", "b", ""])),
        st.builds(ir.Compare, st.just("label"), st.sampled_from(["==", "<", ">="]), st.sampled_from(LABELS)),
        st.builds(lambda vs: ir.InSet("id", frozenset(vs)), st.sets(st.sampled_from(IDS), min_size=1)),
        st.builds(ir.Compare, st.just("price"), st.sampled_from(["<", ">="]), st.sampled_from(PRICES)),
        st.builds(ir.Compare, st.just("price"), st.sampled_from(["<=", ">", "=="]), st.sampled_from(PRICES)),
        st.builds(ir.IsNull, st.sampled_from(["amount", "code", "flag", "label", "price"])),
        st.builds(ir.Const, st.booleans()),
    )


preds = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.builds(ir.Not, inner),
        st.builds(lambda ps: ir.And(tuple(ps)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda ps: ir.Or(tuple(ps)), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=5,
)
POLICIES = st.sampled_from(["unique", "first", "all"])


@st.composite
def territories(draw, prefix: str = "", depth: int = 0, inherited: str = "unique"):
    count = draw(st.integers(1, 3))
    else_at = draw(st.one_of(st.none(), st.integers(0, count - 1)))
    out = []
    for i in range(count):
        name = f"t{i}"
        path = f"{prefix}{name}"
        is_else = else_at == i
        where = None if is_else else draw(st.one_of(st.none(), preds, preds, preds))
        policy = draw(st.one_of(st.just(inherited), POLICIES))
        children = ()
        if depth < 2 and draw(st.booleans()):
            children = tuple(draw(territories(path + ".", depth + 1, policy)))
        title = draw(st.sampled_from([None, f"T {path}", 'quote " and \\ back', "line\nbreak", "ünïcödé ✓"]))
        owners = tuple(ir.Owner(o) for o in draw(st.lists(st.sampled_from(["a@x", "b@x", "c@x"]), max_size=2)))
        out.append(ir.Territory(name, path, title, where, is_else, policy, draw(st.booleans()) if children else False,
                                owners, children=children))
    return out


@st.composite
def models(draw):
    policy = draw(POLICIES)
    return ir.Model("M", "Random", SCHEMA, draw(st.one_of(st.none(), st.none(), preds)), policy, draw(st.booleans()),
                    tuple(draw(territories("", 0, policy))))


# Wide sibling groups, as in real CRM models (a Salesforce-like model has hundreds of
# territories under `policy all`, each a product of a state-like list, a size band and a
# long ZIP list minus exclusions): where the evaluator's per-group indexes do their work.
ALL_CODES = tuple(f"{i:03d}" for i in range(1000))


def wide_where():
    code_list = st.sets(st.sampled_from(ALL_CODES), min_size=1, max_size=120)
    return st.lists(st.one_of(
        st.builds(lambda vs: ir.InSet("code", frozenset(vs)), code_list),
        st.builds(lambda vs: ir.Not(ir.InSet("code", frozenset(vs))), code_list),
        st.builds(ir.StartsWith, st.just("code"), st.sampled_from(["0", "1", "12", "9", "99"])),
        st.builds(lambda vs: ir.InSet("color", frozenset(vs)), st.sets(st.sampled_from(ENUM), min_size=1)),
        st.builds(lambda a, b: ir.InRange("size", min(a, b), max(a, b)), st.sampled_from(INTS), st.sampled_from(INTS)),
        st.builds(ir.Compare, st.just("amount"), st.sampled_from(["<", ">="]), st.sampled_from(DECIMALS)),
        st.builds(ir.IsNull, st.sampled_from(["code", "label"])),
        preds,  # sometimes a condition over several fields at once (a residual test)
    ), min_size=1, max_size=4).map(lambda ps: ps[0] if len(ps) == 1 else ir.And(tuple(ps)))


@st.composite
def wide_models(draw):
    """Up to 40 siblings with long code lists under each policy, sometimes one level deeper."""
    policy = draw(POLICIES)
    count = draw(st.integers(2, 40))
    kids = []
    for i in range(count):
        children = ()
        if draw(st.integers(0, 9)) == 0:
            inner = draw(POLICIES)
            children = tuple(ir.Territory(f"u{j}", f"t{i}.u{j}", None, draw(wide_where()), False, inner, False, ())
                             for j in range(draw(st.integers(1, 12))))
        where = draw(st.one_of(st.none(), wide_where(), wide_where(), wide_where()))
        kids.append(ir.Territory(f"t{i}", f"t{i}", None, where, False, policy,
                                 draw(st.booleans()) if children else False, (ir.Owner(f"o{i % 3}@x"),),
                                 children=children))
    if draw(st.booleans()):
        kids.append(ir.Territory("rest", "rest", None, None, True, policy, False, ()))
    return ir.Model("W", None, SCHEMA, draw(st.one_of(st.none(), st.none(), preds)), policy, draw(st.booleans()),
                    tuple(kids))


def raw_values(field: str):
    typed = {
        "id": st.sampled_from(IDS + (None, 5)),
        "color": st.sampled_from(ENUM + ("purple", "", None, 3, "RED")),
        "size": st.sampled_from(INTS + (-1, 101, "0", "10", "100", "101", "0100", "0101", "5,000", " 5", "1e2", "10.0",
                                        "10.5", "1_0", "+1", "9" * 5000, True, None,
                                        Decimal("10"), Decimal("10.5"), 10.0, 3.5, "", "٣")),
        "amount": st.sampled_from(DECIMALS + (None, "0.5", "1", "1.50", "-1", "abc", 0.5, 1, True, float("nan"),
                                              Decimal("NaN"), "1,000", "", "1.", ".5", "1.2.3", "-0.5", "0010.00")),
        "price": st.sampled_from(PRICES + (None, Decimal("-0"), Decimal("-0.01"), Decimal("99.990"), Decimal("1E+1"),
                                           Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN"), 0, 10, -1,
                                           "0", "10", "99.99", "99.990", "0.50", "-0.5", "1.", ".5", "1.2.3",
                                           "10.", "", "abc", 0.5, True)),
        "code": st.one_of(st.sampled_from(CODES + (None, "12", "1234", "12a", 123, "١٢٣", "")),
                          st.sampled_from(ALL_CODES)),
        "flag": st.sampled_from((True, False, None, "true", "false", "True", 1, 0, "")),
        "label": st.sampled_from(LABELS + (None, 7, "a" * 100)),
    }
    return typed[field]


accounts = st.fixed_dictionaries({f.name: raw_values(f.name) for f in SCHEMA.fields})


