"""Shared helpers for the domain, diagram and coverage tests: random small schemas,
predicates and models (hypothesis), every account of a small schema, and a
deliberately plain interpreter of the meaning of a model used as the oracle.

The interpreter is written here, independently of `terrl.targets.reference` (the evaluator's),
so that the analysis is checked against a second, simple reading of the brief.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from terrl.semantics import ir

INT_LITERALS = list(range(-3, 7))
DECIMAL_LITERALS = [Decimal(x) for x in ("-1", "0", "0.5", "1", "1.5", "2.5", "1000000")]
STRING_LITERALS = ["", "a", "b", "ab"]
ENUM_MEMBERS = ("red", "green", "blue", "grey")


# --- schemas ----------------------------------------------------------------------

@st.composite
def field_types(draw, name: str) -> ir.Field:
    kind = draw(st.sampled_from(["int", "int", "decimal", "enum", "enum", "bool", "digits", "string"]))
    optional = draw(st.booleans())
    if kind == "int":
        lo = draw(st.sampled_from([None, -2, 0]))
        hi = draw(st.sampled_from([None, 3, 5]))
        t = ir.FieldType("int", lo=lo, hi=hi)
    elif kind == "decimal":
        lo = draw(st.sampled_from([None, Decimal(0)]))
        hi = draw(st.sampled_from([None, Decimal("2.5")]))
        t = ir.FieldType("decimal", lo=lo, hi=hi)
    elif kind == "enum":
        n = draw(st.integers(2, 4))
        t = ir.FieldType("enum", members=ENUM_MEMBERS[:n])
    elif kind == "digits":
        t = ir.FieldType("digits", digits=2)
    else:
        t = ir.FieldType(kind)
    return ir.Field(name, t, optional=optional)


@st.composite
def schemas(draw, min_fields: int = 2, max_fields: int = 4) -> ir.Schema:
    n = draw(st.integers(min_fields, max_fields))
    fields = tuple(draw(field_types(f"f{i}")) for i in range(n))
    return ir.Schema("S", fields)


def field_values(f: ir.Field) -> list[Any]:
    """Enough values of a field to meet every cell any literal of this module can make."""
    t = f.type
    if t.kind == "int":
        cands = {v + d for v in INT_LITERALS for d in (-1, 0, 1)} | {0}
        vals = sorted(v for v in cands if (t.lo is None or v >= t.lo) and (t.hi is None or v <= t.hi))
    elif t.kind == "decimal":
        q = Decimal("0.25")
        cands = {v + d for v in DECIMAL_LITERALS for d in (-q, 0, q)} | {Decimal(0)}
        vals = sorted(v for v in cands if (t.lo is None or v >= t.lo) and (t.hi is None or v <= t.hi))
    elif t.kind == "enum":
        vals = list(t.members)
    elif t.kind == "bool":
        vals = [False, True]
    elif t.kind == "digits":
        vals = [f"{i:02d}" for i in range(100)]
    else:  # strings over an alphabet that reaches between every pair of cuts
        alphabet = ["\0", "a", "b", "c"]
        vals = [""] + ["".join(p) for n in (1, 2, 3) for p in itertools.product(alphabet, repeat=n)]
    return vals + ([None] if f.optional else [])


def all_accounts(schema: ir.Schema) -> list[dict[str, Any]]:
    names = [f.name for f in schema.fields]
    return [dict(zip(names, combo)) for combo in itertools.product(*(field_values(f) for f in schema.fields))]


def account_count(schema: ir.Schema) -> int:
    n = 1
    for f in schema.fields:
        n *= len(field_values(f))
    return n


# --- predicates -------------------------------------------------------------------

def literal(t: ir.FieldType):
    if t.kind == "int":
        return st.sampled_from(INT_LITERALS)
    if t.kind == "decimal":
        return st.sampled_from(DECIMAL_LITERALS)
    if t.kind == "enum":
        return st.sampled_from(t.members)
    if t.kind == "bool":
        return st.booleans()
    if t.kind == "digits":
        return st.integers(0, 99).map(lambda i: f"{i:02d}")
    return st.sampled_from(STRING_LITERALS)


@st.composite
def atoms(draw, schema: ir.Schema) -> ir.Pred:
    f = draw(st.sampled_from(schema.fields))
    t = f.type
    options = ["==", "in", "null"]
    if t.kind != "bool":
        options += ["<", "<=", ">", ">=", "range"]
    if t.kind in ("digits", "string"):
        options += ["startswith", "startswith"]
    op = draw(st.sampled_from(options))
    if op == "null":
        return ir.IsNull(f.name)
    if op == "in":
        return ir.InSet(f.name, frozenset(draw(st.lists(literal(t), min_size=1, max_size=3))))
    if op == "range":
        lo, hi = draw(st.one_of(st.none(), literal(t))), draw(st.one_of(st.none(), literal(t)))
        if lo is not None and hi is not None:
            if t.kind == "enum":
                lo, hi = sorted((lo, hi), key=t.members.index)
            else:
                lo, hi = sorted((lo, hi))
        return ir.InRange(f.name, lo, hi)
    if op == "startswith":
        if t.kind == "digits":
            return ir.StartsWith(f.name, draw(st.sampled_from(["", "1", "9", "42", "0"])))
        return ir.StartsWith(f.name, draw(st.sampled_from(["", "a", "b", "ab"])))
    return ir.Compare(f.name, op, draw(literal(t)))


def predicates(schema: ir.Schema, max_leaves: int = 6):
    return st.recursive(
        atoms(schema),
        lambda inner: st.one_of(
            inner.map(ir.Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda ps: ir.And(tuple(ps))),
            st.lists(inner, min_size=2, max_size=3).map(lambda ps: ir.Or(tuple(ps))),
        ),
        max_leaves=max_leaves,
    )


# --- models -----------------------------------------------------------------------

POLICIES = ["unique", "first", "all"]


@st.composite
def territory_lists(draw, schema: ir.Schema, prefix: str, depth: int) -> tuple[ir.Territory, ...]:
    n = draw(st.integers(1, 3))
    out = []
    has_else = False
    for i in range(n):
        name = f"t{i}"
        path = f"{prefix}.{name}" if prefix else name
        kind = draw(st.sampled_from(["where", "where", "where", "none", "else", "true"]))
        is_else = kind == "else" and not has_else
        has_else |= is_else
        where = None
        if kind in ("where",) or (kind == "else" and not is_else):
            where = draw(predicates(schema, max_leaves=3))
        elif kind == "true":
            where = ir.TRUE
        children: tuple[ir.Territory, ...] = ()
        if depth > 1 and draw(st.integers(0, 2)) == 0:
            children = draw(territory_lists(schema, path, depth - 1))
        out.append(ir.Territory(name=name, path=path, title=None, where=where, is_else=is_else,
                                policy=draw(st.sampled_from(POLICIES)), keep=draw(st.booleans()),
                                children=children))
    return tuple(out)


@st.composite
def models(draw, max_accounts: int = 2500) -> ir.Model:
    schema = draw(schemas().filter(lambda s: account_count(s) <= max_accounts))
    universe = draw(st.one_of(st.none(), predicates(schema, max_leaves=2)))
    territories = draw(territory_lists(schema, "", 3))
    return ir.Model(name="M", title=None, schema=schema, universe=universe,
                    policy=draw(st.sampled_from(POLICIES)), keep=draw(st.booleans()), territories=territories)


# --- the oracle -------------------------------------------------------------------

def holds(pred: ir.Pred | None, account: dict[str, Any], schema: ir.Schema) -> bool:
    """Two-valued truth, written out plainly."""
    if pred is None:
        return True
    if isinstance(pred, ir.Const):
        return pred.value
    if isinstance(pred, ir.Not):
        return not holds(pred.operand, account, schema)
    if isinstance(pred, ir.And):
        return all(holds(p, account, schema) for p in pred.operands)
    if isinstance(pred, ir.Or):
        return any(holds(p, account, schema) for p in pred.operands)
    v = account[pred.field]
    if isinstance(pred, ir.IsNull):
        return v is None
    if v is None:
        return False
    t = schema.field(pred.field).type
    key = (lambda x: t.members.index(x)) if t.kind == "enum" else (lambda x: x)
    if isinstance(pred, ir.StartsWith):
        return v.startswith(pred.prefix)
    if isinstance(pred, ir.InSet):
        return v in pred.values
    if isinstance(pred, ir.InRange):
        return (pred.lo is None or key(pred.lo) <= key(v)) and (pred.hi is None or key(v) <= key(pred.hi))
    a, b = key(v), key(pred.value)
    return {"==": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[pred.op]


def child_matches(children, account, schema) -> list[bool]:
    """Which siblings' `where` match (an `else` matches when no other does)."""
    plain = [holds(c.where, account, schema) if not c.is_else else False for c in children]
    return [(not any(plain)) if c.is_else else m for c, m in zip(children, plain)]


def child_reaches(children, policy, account, schema) -> list[bool]:
    """Which siblings an account reaching their parent reaches."""
    m = child_matches(children, account, schema)
    if policy == "first":
        out, taken = [], False
        for c, x in zip(children, m):
            out.append(x and not taken and not c.is_else or (c.is_else and x))
            taken |= x and not c.is_else
        return out
    return m


def brute_force_findings(model: ir.Model, accounts: list[dict[str, Any]]) -> dict[str, set]:
    """Every finding the meaning of the model implies, by enumeration.

    Keys: gap -> parent paths ("" = root), overlap -> (path, path) pairs, unreachable,
    empty, redundant, dead_else -> territory paths. Territories under one whose reach is
    empty are not examined (the analysis reports the topmost only); an unreachable
    territory is not also reported as redundant.
    """
    schema = model.schema
    found: dict[str, set] = {k: set() for k in ("gap", "overlap", "unreachable", "empty", "redundant", "dead_else")}
    universe = [a for a in accounts if holds(model.universe, a, schema)]

    def visit(parent_path: str, children, policy: str, keep: bool, reaching: list[dict]) -> None:
        if not children:
            return
        has_else = any(c.is_else for c in children)
        reach_lists: list[list[dict]] = [[] for _ in children]
        match_any = [False] * len(children)
        for a in reaching:
            plain = [holds(c.where, a, schema) if not c.is_else else False for c in children]
            if not keep and not has_else and not any(plain):
                found["gap"].add(parent_path)
            if policy == "unique":
                hit = [c.path for c, x in zip(children, plain) if x]
                for i in range(len(hit)):
                    for j in range(i + 1, len(hit)):
                        found["overlap"].add((hit[i], hit[j]))
            for i, x in enumerate(plain):
                match_any[i] |= x
            for i, x in enumerate(child_reaches(children, policy, a, schema)):
                if x:
                    reach_lists[i].append(a)
        for i, c in enumerate(children):
            if (reach_lists[i] and not c.is_else and c.where is not None
                    and all(holds(c.where, a, schema) for a in reaching)):
                found["redundant"].add(c.path)
            if not reach_lists[i]:
                if c.is_else:
                    if reaching:
                        found["dead_else"].add(c.path)
                elif not match_any[i]:
                    found["empty"].add(c.path)
                else:
                    found["unreachable"].add(c.path)
                continue
            visit(c.path, c.children, c.policy, c.keep, reach_lists[i])

    visit("", model.territories, model.policy, model.keep, universe)
    return found


def reaches(model: ir.Model, path: str, account: dict[str, Any]) -> bool:
    """Whether an account reaches the territory at `path` ("" = the model root)."""
    schema = model.schema
    if not holds(model.universe, account, schema):
        return False
    children, policy = model.territories, model.policy
    if path == "":
        return True
    parts = path.split(".")
    for depth in range(len(parts)):
        here = ".".join(parts[: depth + 1])
        flags = child_reaches(children, policy, account, schema)
        idx = next(i for i, c in enumerate(children) if c.path == here)
        if not flags[idx]:
            return False
        children, policy = children[idx].children, children[idx].policy
    return True


# --- witnesses ----------------------------------------------------------------------

KIND = {"E202": "gap", "E201": "overlap", "E203": "unreachable", "E204": "empty", "W201": "redundant",
        "W202": "dead_else"}


def from_json(model: ir.Model, witness: dict) -> dict:
    out = {}
    for f in model.schema.fields:
        v = witness[f.name]
        out[f.name] = Decimal(str(v)) if f.type.kind == "decimal" and v is not None else v
    return out


def parent_of(model: ir.Model, path: str):
    """(parent path, siblings) of a territory."""
    if "." not in path:
        return "", model.territories
    parent = path.rsplit(".", 1)[0]
    return parent, model.territory(parent).children


def check_witness(model: ir.Model, d) -> None:
    schema = model.schema
    if d.extra["witness"] is None:  # only for a model `where` that matches nothing
        assert d.code == "E204" and not any(holds(model.universe, a, schema) for a in all_accounts(schema))
        return
    w = from_json(model, d.extra["witness"])
    for f in schema.fields:  # valid under the schema
        assert w[f.name] is not None or f.optional
    kind = KIND[d.code]
    paths = d.extra["territories"]
    if kind == "gap":
        parent = paths[0] if paths else ""
        children = model.territory(parent).children if parent else model.territories
        assert reaches(model, parent, w)
        assert not any(holds(c.where, w, schema) for c in children if not c.is_else)
        return
    parent, siblings = parent_of(model, paths[0])
    assert reaches(model, parent, w), (d.message, w)
    t = model.territory(paths[0])
    if kind == "overlap":
        assert holds(t.where, w, schema) and holds(model.territory(paths[1]).where, w, schema)
    elif kind in ("unreachable", "redundant"):
        assert holds(t.where, w, schema)
    elif kind == "empty":
        assert not holds(t.where, w, schema)
    elif kind == "dead_else":
        assert any(holds(c.where, w, schema) for c in siblings if not c.is_else)
