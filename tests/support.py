"""What the tests share, in one place.

- paths: `REPO`, the repository root;
- the CLI: `run_cli` (click's CliRunner, exceptions not swallowed) and `make_project`
  (a temporary folder of files, optionally the working directory);
- goldens: `check_golden` / `check_golden_dir`, regenerated with `TERRL_UPDATE_GOLDEN=1`;
- inline-expectation case files (tests/cases/*): `case_chunks`, `assert_expectations`;
- Hypothesis: the one generator of random schemas, predicates, models and raw accounts
  (`models`, `accounts`, ...), used by every differential test;
- the oracle: a deliberately plain reading of a model's meaning (`holds`,
  `brute_force_findings`, `check_witness`) over every account of a small schema;
- SQL: running terrl's SQL on DuckDB, PostgreSQL and Spark beside the evaluator.
"""

from __future__ import annotations

import random

import fnmatch
import itertools
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import pytest
from click.testing import CliRunner
from hypothesis import strategies as st

from terrl.cli.app import cli
from terrl.semantics import ir
from terrl.targets import reference, sql
from terrl.targets.evaluate import compile_model

REPO = Path(__file__).resolve().parent.parent


def repo_files(pattern: str) -> list[Path]:
    """The repository's files matching `pattern`, sorted, outside hidden folders (.git, and .venv,
    where an editable install keeps copies of the stdlib) and build output."""
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("build", "dist", "__pycache__")]
        found += [Path(folder) / f for f in files if fnmatch.fnmatch(f, pattern)]
    return sorted(found)


# --- the CLI and temporary projects -----------------------------------------------------

def run_cli(args: Sequence[str], **kwargs):
    """`terrl ARGS` in-process. An exception propagates: a traceback reaching the user is a bug."""
    kwargs.setdefault("catch_exceptions", False)
    return CliRunner().invoke(cli, list(args), **kwargs)


def write_file(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_project(root: Path, files: dict[str, str] | None = None, *, monkeypatch=None,
                 config: str | None = None) -> Path:
    """`files` written under `root`; `config` as its terrl.toml (the project root, so imports stay
    inside); with `monkeypatch`, `root` becomes the working directory for the test."""
    if config is not None:
        write_file(root, "terrl.toml", config)
    for name, text in (files or {}).items():
        write_file(root, name, text)
    if monkeypatch is not None:
        monkeypatch.chdir(root)
    return root


# --- goldens ------------------------------------------------------------------------------

# One truth test for every golden: exactly "1" regenerates (review the diff before committing).
UPDATE_GOLDEN = os.environ.get("TERRL_UPDATE_GOLDEN") == "1"


def check_golden(path: Path, text: str) -> None:
    """`text` is byte for byte the golden file at `path` (written instead when regenerating)."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))  # bytes: no newline translation, a `\r` stays one
    assert path.is_file(), f"missing golden {path.relative_to(REPO)} (TERRL_UPDATE_GOLDEN=1 to create)"
    assert text == path.read_bytes().decode("utf-8"), f"{path.relative_to(REPO)} differs (TERRL_UPDATE_GOLDEN=1 to accept)"


def check_golden_dir(folder: Path, files: dict[str, str]) -> None:
    """The files of `folder` are exactly `files` (name -> text), byte for byte."""
    if UPDATE_GOLDEN:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, text in files.items():
            (folder / name).write_bytes(text.encode("utf-8"))
    expected = {p.name: p.read_bytes().decode("utf-8") for p in folder.iterdir()} if folder.is_dir() else {}
    assert sorted(files) == sorted(expected), \
        f"set of files in {folder.relative_to(REPO)} changed (TERRL_UPDATE_GOLDEN=1 to accept)"
    for name, text in files.items():
        assert text == expected[name], f"{(folder / name).relative_to(REPO)} differs (TERRL_UPDATE_GOLDEN=1 to accept)"


# --- inline-expectation case files (tests/cases/*) ---------------------------------------
#
# A case file is chunks separated by `---` lines; `### CODE: text` on a line says a
# diagnostic with that code starts there and mentions `text` (in its message, notes or
# help). Every expected diagnostic must be reported and every reported one expected.

EXPECT = re.compile(r"###\s*([EWN]\d{3})(?::\s*(.*?))?\s*(?=###|$)")


def case_chunks(folder: Path):
    """One pytest param per chunk of every `.terr` file in `folder`, named `file-N`."""
    for path in sorted(folder.glob("*.terr")):
        text = path.read_text(encoding="utf-8")
        for i, chunk in enumerate(re.split(r"^---$\n?", text, flags=re.M)):
            yield pytest.param(chunk, id=f"{path.stem}-{i}")


def assert_expectations(chunk: str, diagnostics, *, match_region: bool = False) -> None:
    """The diagnostics are exactly those the chunk's `###` comments expect."""
    expected = [(lineno, m.group(1), (m.group(2) or "").strip())
                for lineno, line in enumerate(chunk.splitlines(), start=1) for m in EXPECT.finditer(line)]
    actual = [(d.span.start_line_col[0] if d.span else 0, d.code, d) for d in diagnostics]
    unmatched = list(actual)
    missing = []
    for line, code, text in expected:
        for item in unmatched:
            d = item[2]
            blob = " ".join([d.message, *d.notes, d.help or "", (d.extra.get("region") or "") if match_region else ""])
            if item[0] == line and item[1] == code and text in blob:
                unmatched.remove(item)
                break
        else:
            missing.append((line, code, text))
    report = "\n".join(f"  line {l}: {c} {d.message} | notes={d.notes} help={d.help}" for l, c, d in actual)
    assert not missing, f"expected but not reported: {missing}\nreported:\n{report}"
    assert not unmatched, "reported but not expected:\n" + "\n".join(
        f"  line {l}: {c} {d.message}" for l, c, d in unmatched)


# --- Hypothesis: schemas, predicates, models, accounts -----------------------------------
#
# One generator for every differential test. A model is drawn over a schema:
# - `SCHEMA`, fixed: every field kind, with bounds, a key and optional fields, for the
#   evaluators, the generated module and SQL, fed raw accounts (`accounts`: text and typed
#   values, boundaries, invalid values);
# - `small_schemas()`, random: 1 to 4 fields of random kinds, bounds and optionality, small
#   enough that the oracle below enumerates every account (the analysis tests).
# Predicates on a field take their literals from its pool: `SCHEMA_LITERALS` for the fixed
# schema's fields (the boundaries its accounts probe), `kind_literals` for the others.

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
LABELS = ("a", "ab", "abc", "b", "zz", "é")  # no "": a blank text is missing
IDS = ("A1", "A2", "B7")
PRICES = (Decimal("0"), Decimal("0.5"), Decimal("10"), Decimal("99.99"))
SCHEMA_LITERALS = {"id": IDS, "color": ENUM, "size": INTS, "amount": DECIMALS, "code": CODES, "label": LABELS,
                   "price": PRICES}
SCHEMA_PREFIXES = {"code": ("", "0", "1", "12", "99", "123"), "label": ("a", "ab", "b", ""), "id": ("", "A", "B7")}

# random schemas: fields are named f0, f1, ... (never a name of SCHEMA)
INT_LITERALS = tuple(range(-3, 7))
DECIMAL_LITERALS = tuple(Decimal(x) for x in ("-1", "0", "0.5", "1", "1.5", "2.5", "1000000"))
STRING_LITERALS = ("a", "b", "ab", "c")
STRING_PREFIXES = ("", "a", "b", "ab")
DIGITS_PREFIXES = ("", "1", "9", "42", "0")
ENUM_MEMBERS = ("red", "green", "blue", "grey")
POLICIES = ("unique", "first", "all")
# What a territory has instead of or as its `where`. Hypothesis leans towards the first entries of
# a choice: the evaluator tests drew no `where` first (about a third of their territories had one),
# the analysis tests a predicate; each keeps its proportions, and so its cost.
NO_WHERE_FIRST = ("none", "none", "where", "where", "else", "true")
WHERE_FIRST = ("where", "where", "where", "none", "else", "true")
TITLES = (None, "T {path}", 'quote " and \\ back', "line\nbreak", "ünïcödé ✓")
OWNERS = ("a@x", "b@x", "c@x")


@st.composite
def field_types(draw, name: str) -> ir.Field:
    kind = draw(st.sampled_from(["int", "int", "decimal", "enum", "enum", "bool", "digits", "string"]))
    optional = draw(st.booleans())
    if kind == "int":
        t = ir.FieldType("int", lo=draw(st.sampled_from([None, -2, 0])), hi=draw(st.sampled_from([None, 3, 5])))
    elif kind == "decimal":
        t = ir.FieldType("decimal", lo=draw(st.sampled_from([None, Decimal(0)])),
                         hi=draw(st.sampled_from([None, Decimal("2.5")])))
    elif kind == "enum":
        t = ir.FieldType("enum", members=ENUM_MEMBERS[:draw(st.integers(2, 4))])
    elif kind == "digits":
        t = ir.FieldType("digits", digits=2)
    else:
        t = ir.FieldType(kind)
    return ir.Field(name, t, optional=optional)


def small_schemas(min_fields: int = 2, max_fields: int = 4, max_accounts: int | None = None):
    """Random schemas whose every account `all_accounts` can list (at most `max_accounts` of them)."""
    schemas = st.integers(min_fields, max_fields).flatmap(
        lambda n: st.tuples(*(field_types(f"f{i}") for i in range(n)))).map(lambda fs: ir.Schema("S", fs))
    if max_accounts is not None:
        schemas = schemas.filter(lambda s: account_count(s) <= max_accounts)
    return schemas


def kind_literals(t: ir.FieldType) -> tuple:
    """The literal pool of a field of a random schema, by its type."""
    if t.kind == "int":
        return INT_LITERALS
    if t.kind == "decimal":
        return DECIMAL_LITERALS
    if t.kind == "enum":
        return t.members
    if t.kind == "bool":
        return (False, True)
    if t.kind == "digits":
        return tuple(f"{i:0{t.digits}d}" for i in range(10 ** t.digits))
    return STRING_LITERALS


def literal_pool(f: ir.Field) -> tuple:
    return SCHEMA_LITERALS.get(f.name) or kind_literals(f.type)


def prefix_pool(f: ir.Field) -> tuple:
    return SCHEMA_PREFIXES.get(f.name) or (DIGITS_PREFIXES if f.type.kind == "digits" else STRING_PREFIXES)


def field_values(f: ir.Field) -> list[Any]:
    """Enough values of a field to meet every cell its literals can make (and None if optional)."""
    t = f.type
    if t.kind in ("int", "decimal"):
        step = 1 if t.kind == "int" else Decimal("0.25")
        cands = {v + d for v in literal_pool(f) for d in (-step, 0, step)} | {0}
        vals = sorted(v for v in cands if (t.lo is None or v >= t.lo) and (t.hi is None or v <= t.hi))
    elif t.kind == "enum":
        vals = list(t.members)
    elif t.kind == "bool":
        vals = [False, True]
    elif t.kind == "digits":
        vals = [f"{i:0{t.digits}d}" for i in range(10 ** t.digits)]
    else:  # strings over an alphabet that reaches between every pair of cuts
        alphabet = ["\0", "a", "b", "c"]
        vals = ["".join(p) for n in (1, 2, 3) for p in itertools.product(alphabet, repeat=n)]  # "" is missing
    return vals + ([None] if f.optional else [])


def all_accounts(schema: ir.Schema) -> list[dict[str, Any]]:
    names = [f.name for f in schema.fields]
    return [dict(zip(names, combo)) for combo in itertools.product(*(field_values(f) for f in schema.fields))]


def account_count(schema: ir.Schema) -> int:
    n = 1
    for f in schema.fields:
        n *= len(field_values(f))
    return n


@st.composite
def atoms(draw, schema: ir.Schema) -> ir.Pred:
    """One comparison on one field: every operator its kind takes, literals from its pool."""
    f = draw(st.sampled_from(schema.fields))
    t = f.type
    literal = st.sampled_from(literal_pool(f))
    options = ["==", "in", "null"]
    if t.kind != "bool":
        options += ["<", "<=", ">", ">=", "range"]
    if t.kind in ("digits", "string"):
        options += ["startswith", "startswith"]
    op = draw(st.sampled_from(options))
    if op == "null":
        return ir.IsNull(f.name)
    if op == "in":
        return ir.InSet(f.name, frozenset(draw(st.lists(literal, min_size=1, max_size=3))))
    if op == "range":
        lo, hi = draw(st.one_of(st.none(), literal)), draw(st.one_of(st.none(), literal))
        # mostly ordered; sometimes empty (LO above HI), which source rejects (E106) but the IR can hold
        if lo is not None and hi is not None and draw(st.integers(0, 3)):
            lo, hi = sorted((lo, hi), key=t.members.index if t.kind == "enum" else None)
        return ir.InRange(f.name, lo, hi)
    if op == "startswith":
        return ir.StartsWith(f.name, draw(st.sampled_from(prefix_pool(f))))
    return ir.Compare(f.name, op, draw(literal))


@st.composite
def leaves(draw, schema: ir.Schema) -> ir.Pred:
    """An atom, now and then `true` / `false`, or `field startswith {..}` (what the resolver
    lowers a set of prefixes to: an `or` of one `startswith` per prefix)."""
    roll = draw(st.integers(0, 9))
    if roll == 0:
        return ir.Const(draw(st.booleans()))
    prefixed = [f for f in schema.fields if f.type.kind in ("digits", "string")]
    if roll == 1 and prefixed:
        f = draw(st.sampled_from(prefixed))
        prefixes = draw(st.lists(st.sampled_from(prefix_pool(f)), min_size=1, max_size=4))
        return ir.Or(tuple(ir.StartsWith(f.name, p) for p in prefixes), written="startswith")
    return draw(atoms(schema))


def predicates(schema: ir.Schema, max_leaves: int = 6):
    return st.recursive(
        leaves(schema),
        lambda inner: st.one_of(
            inner.map(ir.Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda ps: ir.And(tuple(ps))),
            st.lists(inner, min_size=2, max_size=3).map(lambda ps: ir.Or(tuple(ps))),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def territories(draw, schema: ir.Schema, prefix: str = "", depth: int = 3, inherited: str = "unique", *,
                where_leaves: int = 5, nest_one_in: int = 2, kinds: tuple[str, ...] = NO_WHERE_FIRST
                ) -> tuple[ir.Territory, ...]:
    """1 to 3 siblings, `depth` levels at most (one in `nest_one_in` has children): `where`, no
    `where`, `where true`, one `else`; a policy inherited or set; `keep`; titles and owners that
    need quoting."""
    out = []
    has_else = False
    for i in range(draw(st.integers(1, 3))):
        name = f"t{i}"
        path = f"{prefix}.{name}" if prefix else name
        kind = draw(st.one_of(*(st.just(k) for k in kinds)))  # one_of, not sampled_from: as both old generators drew
        is_else = kind == "else" and not has_else
        has_else |= is_else
        where = None
        if kind == "where" or (kind == "else" and not is_else):
            where = draw(predicates(schema, max_leaves=where_leaves))
        elif kind == "true":
            where = ir.TRUE
        policy = draw(st.one_of(st.just(inherited), st.sampled_from(POLICIES)))
        children: tuple[ir.Territory, ...] = ()
        if depth > 1 and draw(st.integers(1, nest_one_in)) == 1:
            children = draw(territories(schema, path, depth - 1, policy, where_leaves=where_leaves,
                                        nest_one_in=nest_one_in, kinds=kinds))
        title = draw(st.sampled_from(TITLES))
        owners = tuple(ir.Owner(o) for o in draw(st.lists(st.sampled_from(OWNERS), max_size=2)))
        out.append(ir.Territory(name=name, path=path, title=title and title.format(path=path), where=where,
                                is_else=is_else, policy=policy, keep=draw(st.booleans()), owners=owners,
                                children=children))
    return tuple(out)


@st.composite
def models(draw, schema: ir.Schema | st.SearchStrategy = SCHEMA, *, where_leaves: int = 5, universe_leaves: int = 5,
           nest_one_in: int = 2, kinds: tuple[str, ...] = NO_WHERE_FIRST) -> ir.Model:
    """A random model over `schema` (a schema, or a strategy such as `small_schemas()`); the sizes
    bound the predicates of `where`s and of the model's own `where`, and how often a territory nests."""
    if not isinstance(schema, ir.Schema):
        schema = draw(schema)
    policy = draw(st.sampled_from(POLICIES))
    universe = draw(st.one_of(st.none(), st.none(), predicates(schema, max_leaves=universe_leaves)))
    return ir.Model(name="M", title=draw(st.sampled_from([None, "Random"])), schema=schema, universe=universe,
                    policy=policy, keep=draw(st.booleans()),
                    territories=draw(territories(schema, "", 3, policy, where_leaves=where_leaves, nest_one_in=nest_one_in,
                                                 kinds=kinds)))


def small_models(max_accounts: int = 2500):
    """Models whose every account the oracle can list. Predicates stay as small as the analysis
    tests always drew them (where: 3 leaves, the model's where: 2), for the brute force's sake;
    territories nest as often as in the evaluator tests (one in 2; it was one in 3)."""
    return models(small_schemas(max_accounts=max_accounts), where_leaves=3, universe_leaves=2, nest_one_in=2,
                  kinds=WHERE_FIRST)


# Wide sibling groups over SCHEMA, as in real CRM models (a Salesforce-like model has hundreds
# of territories under `policy all`, each a product of a state-like list, a size band and a
# long ZIP list minus exclusions): where the evaluator's per-group indexes do their work.
# Built from the same predicates as `models`, with long `code` lists on top.
ALL_CODES = tuple(f"{i:03d}" for i in range(1000))


def wide_where():
    # Long lists from a drawn seed and length (drawing 120 elements one by one made these
    # models a third of the suite's time); they shrink less well, but stay random.
    code_list = st.builds(lambda seed, n: frozenset(random.Random(seed).sample(ALL_CODES, n)),
                          st.integers(0, 2**16), st.integers(1, 120))
    code_prefixes = st.builds(lambda seed, n: sorted({c[:random.Random(seed + i).randint(1, 3)]
                                                      for i, c in enumerate(random.Random(seed).sample(ALL_CODES, n))}),
                              st.integers(0, 2**16), st.integers(1, 60))
    return st.lists(st.one_of(
        st.builds(lambda vs: ir.InSet("code", vs), code_list),
        st.builds(lambda vs: ir.Not(ir.InSet("code", vs)), code_list),
        st.builds(ir.StartsWith, st.just("code"), st.sampled_from(["0", "1", "12", "9", "99"])),
        st.builds(lambda prefixes: ir.Or(tuple(ir.StartsWith("code", p) for p in prefixes), written="startswith"),
                  code_prefixes),  # a long `code startswith {..}` (ZIP-prefix lists of real models)
        st.builds(lambda vs: ir.InSet("color", frozenset(vs)), st.sets(st.sampled_from(ENUM), min_size=1)),
        st.builds(lambda a, b: ir.InRange("size", min(a, b), max(a, b)), st.sampled_from(INTS), st.sampled_from(INTS)),
        st.builds(ir.Compare, st.just("amount"), st.sampled_from(["<", ">="]), st.sampled_from(DECIMALS)),
        st.builds(ir.IsNull, st.sampled_from(["code", "label"])),
        predicates(SCHEMA, max_leaves=5),  # sometimes a condition over several fields at once (a residual test)
    ), min_size=1, max_size=4).map(lambda ps: ps[0] if len(ps) == 1 else ir.And(tuple(ps)))


WIDE_WHERE = wide_where()  # built once: building the strategy (a recursive one inside) per draw was most of the cost
WIDE_UNIVERSE = st.one_of(st.none(), st.none(), predicates(SCHEMA, max_leaves=5))


@st.composite
def wide_models(draw):
    """Up to 40 siblings with long code lists under each policy, sometimes one level deeper."""
    policy = draw(st.sampled_from(POLICIES))
    count = draw(st.integers(2, 40))
    kids = []
    for i in range(count):
        children = ()
        if draw(st.integers(0, 9)) == 0:
            inner = draw(st.sampled_from(POLICIES))
            children = tuple(ir.Territory(f"u{j}", f"t{i}.u{j}", None, draw(WIDE_WHERE), False, inner, False, ())
                             for j in range(draw(st.integers(1, 12))))
        where = draw(st.one_of(st.none(), WIDE_WHERE, WIDE_WHERE, WIDE_WHERE))
        kids.append(ir.Territory(f"t{i}", f"t{i}", None, where, False, policy,
                                 draw(st.booleans()) if children else False, (ir.Owner(f"o{i % 3}@x"),),
                                 children=children))
    if draw(st.booleans()):
        kids.append(ir.Territory("rest", "rest", None, None, True, policy, False, ()))
    return ir.Model("W", None, SCHEMA, draw(WIDE_UNIVERSE), policy,
                    draw(st.booleans()), tuple(kids))


# Raw values of SCHEMA's fields as readers and callers hand them over: valid, boundary,
# of the wrong type, invalid text.
RAW_VALUES = {
    "id": IDS + (None, 5),
    "color": ENUM + ("purple", "", None, 3, "RED"),
    "size": INTS + (-1, 101, "0", "10", "100", "101", "0100", "0101", "5,000", " 5", "1e2", "10.0", "10.5", "1_0",
                    "+1", "9" * 5000, True, None, Decimal("10"), Decimal("10.5"), 10.0, 3.5, "", "٣"),
    "amount": DECIMALS + (None, "0.5", "1", "1.50", "-1", "abc", 0.5, 1, True, float("nan"), Decimal("NaN"), "1,000",
                          "", "1.", ".5", "1.2.3", "-0.5", "0010.00"),
    "price": PRICES + (None, Decimal("-0"), Decimal("-0.01"), Decimal("99.990"), Decimal("1E+1"), Decimal("Infinity"),
                       Decimal("-Infinity"), Decimal("NaN"), 0, 10, -1, "0", "10", "99.99", "99.990", "0.50", "-0.5",
                       "1.", ".5", "1.2.3", "10.", "", "abc", 0.5, True),
    "code": CODES + (None, "12", "1234", "12a", 123, "١٢٣", ""),
    "flag": (True, False, None, "true", "false", "True", 1, 0, ""),
    "label": LABELS + (None, 7, "a" * 100),
}


def raw_values(field: str):
    values = st.sampled_from(RAW_VALUES[field])
    if field == "code":  # and any code, to meet the wide models' long lists
        values = st.one_of(values, st.sampled_from(ALL_CODES))
    return values


accounts = st.fixed_dictionaries({f.name: raw_values(f.name) for f in SCHEMA.fields})


# --- the oracle: the meaning of a model, written out plainly ------------------------------
#
# Independent of `terrl.targets.reference` (the evaluator's), so that the analysis is
# checked against a second, simple reading of the brief.

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

    Keys: gap -> parent paths ("" = root), overlap -> (path, path) pairs, ordered ->
    (winner, later sibling) pairs under `policy first` whose `where` clauses both match an
    account reaching the winner (the later one neither unreachable nor matching every
    account reaching the parent), unreachable, empty,
    redundant, dead_else -> territory paths. Territories under one whose reach is
    empty are not examined (the analysis reports the topmost only); an unreachable
    territory is not also reported as redundant, nor is an only child.
    """
    schema = model.schema
    found: dict[str, set] = {k: set() for k in ("gap", "overlap", "ordered", "unreachable", "empty", "redundant",
                                                "dead_else")}
    universe = [a for a in accounts if holds(model.universe, a, schema)]

    def visit(parent_path: str, children, policy: str, keep: bool, reaching: list[dict]) -> None:
        if not children:
            return
        has_else = any(c.is_else for c in children)
        reach_lists: list[list[dict]] = [[] for _ in children]
        match_any = [False] * len(children)
        ordered: set[tuple[str, int]] = set()  # (winner, index of a later sibling that also matches)
        for a in reaching:
            plain = [holds(c.where, a, schema) if not c.is_else else False for c in children]
            if not keep and not has_else and not any(plain):
                found["gap"].add(parent_path)
            if policy == "unique":
                hit = [c.path for c, x in zip(children, plain) if x]
                for i in range(len(hit)):
                    for j in range(i + 1, len(hit)):
                        found["overlap"].add((hit[i], hit[j]))
            elif policy == "first" and any(plain):
                winner = plain.index(True)
                ordered.update((children[winner].path, j) for j in range(winner + 1, len(children)) if plain[j])
            for i, x in enumerate(plain):
                match_any[i] |= x
            for i, x in enumerate(child_reaches(children, policy, a, schema)):
                if x:
                    reach_lists[i].append(a)
        for i, c in enumerate(children):
            if (reach_lists[i] and not c.is_else and c.where is not None and len(children) > 1
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
        catch_all = {j for j, c in enumerate(children) if not c.is_else and all(holds(c.where, a, schema) for a in reaching)}
        found["ordered"].update((winner, children[j].path) for winner, j in ordered
                                if reach_lists[j] and j not in catch_all)

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


KIND = {"E202": "gap", "E201": "overlap", "N201": "ordered", "E203": "unreachable", "E204": "empty", "W201": "redundant",
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
    """The witness account of an analysis finding exhibits that finding."""
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
    elif kind == "ordered":  # the evaluator gives it to the earlier, which the later also matches
        assert reaches(model, paths[0], w), (d.message, w)
        assert holds(model.territory(paths[1]).where, w, schema)
        trace: list = []
        reference.walk(model, w, trace)  # what `terrl explain` shows for it
        steps = {s.path: s for s in trace}
        assert steps[paths[0]].taken and steps[paths[1]].matched and not steps[paths[1]].taken, (d.message, w)
    elif kind in ("unreachable", "redundant"):
        assert holds(t.where, w, schema)
    elif kind == "empty":
        assert not holds(t.where, w, schema)
    elif kind == "dead_else":
        assert any(holds(c.where, w, schema) for c in siblings if not c.is_else)


# --- SQL on real engines ------------------------------------------------------------------
#
# Rows carry a `row` number so results come back in input order. Text input (CSV-like:
# every column VARCHAR, empty cell = missing) runs on DuckDB; typed input runs on DuckDB
# and PostgreSQL with the column types of docs/sql.md, and the evaluator is fed the values
# as the database gives them back (ints, Decimals, bools, strings).

POSTGRES_DSN_VARIABLE = "TERRL_TEST_POSTGRES_DSN"
DECIMAL_TYPE = "DECIMAL(38, 10)"  # typed DuckDB tables in the tests


def expected_rows(model: ir.Model, accounts: Sequence[dict[str, Any]]) -> list[tuple]:
    """(row, key, status, territories, titles, owners, reason) by the Python evaluator, lists joined with `;`:
    strict and without hints, as the SQL target (which does no clean-up) words reasons."""
    evaluator = compile_model(model, cleanup=(), hints=False)
    key = model.schema.key
    out = []
    for row, account in enumerate(accounts):
        r = evaluator.assign(account)
        out.append((row, account.get(key.name) if key else None, r.status, ";".join(r.territories), ";".join(r.titles), ";".join(r.owners), r.reason))
    return out


def sql_type(f: ir.Field, dialect: str) -> str:
    kind = f.type.kind
    if kind == "bool":
        return "BOOLEAN"
    if kind == "int":
        return "BIGINT"
    if kind == "decimal":
        return "NUMERIC" if dialect == "postgres" else DECIMAL_TYPE
    return "TEXT" if dialect == "postgres" else "VARCHAR"


def create_table(cursor, dialect: str, schema: ir.Schema, name: str, text: bool) -> None:
    columns = ", ".join(f'"{f.name}" {"VARCHAR" if text else sql_type(f, dialect)}' for f in schema.fields)
    cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
    cursor.execute(f'CREATE TABLE "{name}" ("row" INTEGER, {columns})')


def insert(cursor, dialect: str, schema: ir.Schema, name: str, accounts: Sequence[dict[str, Any]]) -> None:
    mark = "%s" if dialect == "postgres" else "?"
    holes = ", ".join([mark] * (len(schema.fields) + 1))
    cursor.executemany(f'INSERT INTO "{name}" VALUES ({holes})',
                       [[row] + [a.get(f.name) for f in schema.fields] for row, a in enumerate(accounts)])


def run_query(cursor, model: ir.Model, dialect: str, table: str, input_types: str, compact: bool = False) -> list[tuple]:
    query = sql.build_query(model, dialect=dialect, table=table, input_types=input_types, carry=("row",), compact=compact)
    cursor.execute(sql.to_text(query, dialect) + ' ORDER BY "row"')
    return [tuple(r) for r in cursor.fetchall()]


def read_back(cursor, schema: ir.Schema, table: str) -> list[dict[str, Any]]:
    """The stored rows as the database returns them, as accounts for the evaluator."""
    names = [f.name for f in schema.fields]
    cursor.execute("SELECT " + ", ".join(f'"{n}"' for n in names) + f' FROM "{table}" ORDER BY "row"')
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def postgres_dsn() -> str | None:
    return os.environ.get(POSTGRES_DSN_VARIABLE) or None


def worker_schema_name(purpose: str) -> str:
    """A PostgreSQL schema name no other test process uses at the same time: pytest-xdist
    workers (and separate runs) share one server, so fixed table names would collide."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"terrl_{purpose}_{worker}_{os.getpid()}"


def as_decimal_text(value: Decimal) -> str:
    return format(value, "f")


SPARK_DECIMAL_TYPE = "DECIMAL(38, 10)"


def spark_session():
    """A local one-core SparkSession, or a pytest skip saying how to get one."""
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is not installed: pip install pyspark, "
                                                            "then python -m pytest -m spark tests/test_sql*.py")
    return (pyspark_sql.SparkSession.builder.master("local[1]").appName("terrl-tests")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate())


def spark_type(f: ir.Field) -> str:
    kind = f.type.kind
    return {"bool": "BOOLEAN", "int": "BIGINT", "decimal": SPARK_DECIMAL_TYPE}.get(kind, "STRING")


def spark_table(spark, schema: ir.Schema, name: str, accounts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A temp view `name` (row, typed schema fields) holding `accounts`; returns the rows as Spark stores them."""
    columns = ", ".join(f"`{f.name.replace('`', '``')}` {spark_type(f)}" for f in schema.fields)
    rows = [[row] + [a.get(f.name) for f in schema.fields] for row, a in enumerate(accounts)]
    frame = spark.createDataFrame(rows, f"row INT, {columns}")
    frame.createOrReplaceTempView(name)
    names = [f.name for f in schema.fields]
    return [dict(zip(names, r[1:])) for r in sorted((tuple(r) for r in frame.collect()), key=lambda r: r[0])]


def run_spark(spark, model: ir.Model, table: str) -> list[tuple]:
    query = sql.build_query(model, dialect="spark", table=table, carry=("row",))
    return [tuple(r) for r in spark.sql(sql.to_text(query, "spark") + " ORDER BY `row`").collect()]
