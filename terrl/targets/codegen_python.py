"""`--target python`: a stand-alone Python module that assigns accounts like terrl does.

The model is compiled to its plan (`terrl.targets.sibling_index`: each tested field's cells, one
candidate index per sibling group); this module flattens it into a view-model of Python
literals and renders `templates/module.py.j2`, whose walk follows the plan. The in-process evaluator
(`terrl.targets.evaluate`) executes exactly this source, so the two cannot disagree.

Safety: every value from the source reaches the output through `py_literal` (built on
`repr`) or `comment` (one escaped line); user text is never spliced into code.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from terrl import __version__
from terrl.semantics import cleanup, ir
from terrl.targets.outcome import REASONS
from terrl.targets.sibling_index import Plan, build_plan

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                          autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def py_literal(value: Any) -> str:
    """Python source for a constant: str, int, bool, None, Decimal, and tuples/lists/dicts of them."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, Decimal):
        return f"_D({str(value)!r})"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, frozenset):
        return "frozenset((" + "".join(py_literal(v) + ", " for v in sorted(value)) + "))"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def comment(text: str) -> str:
    """Text safe inside a `#` comment or a docstring line: one line, escapes shown."""
    return repr(text)[1:-1].replace('"""', '\\"\\"\\"')


# Embedded in every generated module, as they are: the clean-up rules and the hint engine.
EMBEDDED_MODULES = (Path(cleanup.__file__), Path(__file__).resolve().parent.parent / "diagnostics" / "suggest.py")


@functools.cache  # read once per run: case tables and the DuckDB fallback compile several modules
def embedded_source() -> str:
    """The source of `EMBEDDED_MODULES`, less their `from __future__` lines (the generated module
    is one file: their names must differ from the template's, which tests/test_cleanup.py checks)."""
    parts = []
    for path in EMBEDDED_MODULES:
        text = path.read_text(encoding="utf-8")
        parts.append("\n".join(line for line in text.splitlines() if not line.startswith("from __future__")))
    return "\n\n".join(parts)


def view_model(model: ir.Model, plan: Plan, source_file: str,
               rules: tuple[str, ...] = cleanup.DEFAULT_RULES, hints: bool = True) -> dict[str, Any]:
    rules = tuple(r for r in cleanup.ALL_RULES if r in rules)
    schema_index = {f.name: i for i, f in enumerate(model.schema.fields)}
    slot_of = {name: slot for slot, name in enumerate(plan.fields)}
    fields = []
    for f in model.schema.fields:
        slot = slot_of.get(f.name)
        if slot is None:
            fields.append(_field_view(schema_index[f.name], f, None, None, rules))
        else:
            d = plan.domains[slot]
            fields.append(_field_view(schema_index[f.name], f, d, list(range(d.cells)), rules))
    by_path = {t.path: t for t in model.walk()}
    territories = [by_path[p] for p in plan.paths]
    owners = []
    for t in territories:
        ids: list[str] = []
        for owner in t.owners:
            if owner.id not in ids:
                ids.append(owner.id)
        owners.append(tuple(ids))
    groups = [(g.policy, g.kids, g.possible, tuple((f.slot, f.cuts, f.masks) for f in g.fields), g.residuals,
               g.else_kid) for g in plan.groups]
    fast_locals = ["new", "bisect_right", "bisect_left", "D", "MEMO_LIMIT", "MAX_NUMBER", "TOO_LONG",
                   "TOO_LONG_NEG", "too_long_number", "WALKED", "walk_cells"]
    for v in fields:
        fast_locals.append(f"cell_{v['index']}")
        for prefix in ("DICT", "MEMO", "CUTS", "CUTS_AFTER", "CLASS", "MEMBERS"):
            if v["globals"].get(prefix):
                fast_locals.append(f"{prefix}_{v['index']}")
        fast_locals += [name for name, _ in v["constants"]]
    slot_fields = [schema_index[name] for name in plan.fields]
    contexts = [{"index": schema_index[f.name], "name": py_literal(f.name), "country": py_literal(f.context),
                 "read_for": py_literal(f.read_for if f.read_for is not None
                                        else frozenset(model.schema.field(f.context).type.members))}
                for f in model.schema.fields if f.context is not None]
    return {
        "contexts": contexts,
        "terrl_version": comment(__version__),
        "terrl_version_lit": py_literal(__version__),
        "source_file": py_literal(source_file),
        "source_file_comment": comment(source_file),
        "model_name": py_literal(model.name),
        "model_title": py_literal(model.title),
        "model_name_comment": comment(model.name + (f" ({model.title})" if model.title else "")),
        "field_names": py_literal(tuple(f.name for f in model.schema.fields)),
        "fields": fields,
        "slot_fields": slot_fields,
        "slot_names": comment(", ".join(plan.fields) or "none"),
        "paths": json_table([t.path for t in territories]),
        "titles": json_table([t.title or t.name for t in territories]),
        "owners": json_table(owners),
        "below": json_table(plan.below, per_line=False),
        "keep": json_table(plan.keep, per_line=False),
        "top_keep": py_literal(plan.top_keep),
        "groups": json_table(groups),
        "universe": "None" if plan.universe is None else json_table(plan.universe, per_line=False),
        "reasons": {name: py_literal(text.replace("{model}", model.name)) for name, text in REASONS.items()},
        "fast_locals": fast_locals,
        "rules": py_literal(frozenset(rules)),
        "hints": py_literal(hints),
        "rules_comment": comment(", ".join(rules) or "none (strict)"),
        "embedded": embedded_source(),
    }


def json_table(items, per_line: bool = True) -> str:
    """Python source that loads a table of texts, ints, bools and nested lists of them from JSON.

    The territory tables of a large model (paths, titles, owners, indexes) are megabytes: as
    Python literals, `compile()` alone took a second for 13,000 territories; a JSON text is one
    string constant, parsed at import by the C decoder. It is written as a raw string, one item
    per line (readable diffs): with `ensure_ascii`, JSON text has no line break, no non-ASCII
    character and no three quotes in a row, and never ends in a backslash, so the raw string
    holds it verbatim."""
    if per_line and items:
        body = "[\n" + ",\n".join(json.dumps(item, ensure_ascii=True) for item in items) + "\n]"
    else:
        body = json.dumps(items, ensure_ascii=True)
    return f'_json.loads(r"""{body}""")'


INLINE_CUTS = 4  # up to this many cuts, the typed fast path compares inline instead of calling bisect


def _number_literal(value, name: str, constants: list) -> str:
    """An int literal when the number is whole (fast to compare with ints and Decimals), else a
    module constant (a Decimal built once)."""
    if value == int(value):
        return py_literal(int(value))
    constants.append((name, py_literal(Decimal(value))))
    return "{p}" + name


def _field_view(index: int, f: ir.Field, d, of_cell: list[int] | None,
                rules: tuple[str, ...] = cleanup.DEFAULT_RULES) -> dict[str, Any]:
    """How the generated code validates a field and finds its class, fast and slow.

    Modes: `unused` (no rule reads the field: validate only), `dict` (enum and bool,
    and strings compared only for equality: one dict lookup), `ordered` (int, decimal,
    digits, string ranges: a typed fast path for numbers, a memo of texts, then bisect).
    Fast paths may raise KeyError / TypeError / ArithmeticError on unusual values; the
    generated `assign` then takes the careful path (`_walk`), which never does.
    """
    t = f.type
    kind = t.kind
    n = index
    constants: list[tuple[str, str]] = []
    view: dict[str, Any] = {
        "index": n, "name": py_literal(f.name), "kind": kind, "optional": f.optional, "context": f.context is not None,
        "comment": comment(f"{f.name}: {t.describe()}{'?' if f.optional else ''} "
                           + (f"({d.cells} cells)" if d is not None else "(no rule reads it)")),
        "lo": py_literal(t.lo if kind != "decimal" or t.lo is None else Decimal(t.lo)),
        "hi": py_literal(t.hi if kind != "decimal" or t.hi is None else Decimal(t.hi)),
        "digits": t.digits, "described": py_literal(t.describe()),
        "members": py_literal(frozenset(t.members)) if kind == "enum" else None,
        "dict": None, "dict_guard": None, "dict_subscript": False, "rest": None, "cuts": None, "cuts_after": None,
        "classes": None, "memo": None, "null_class": None, "cell_expr": "0", "fast_valid": "False",
        "fast_cell": "0", "constants": constants, "branches": [], "text_after_memo": None,
        "column": None, "column_bounds": "True", "column_after": False,
    }
    view.update(_cleanup_view(n, f, rules, constants))
    bounds = []
    column_bounds = []  # `assign_columns`: the bounds over a column of plain-digit numbers
    if t.lo is not None:
        lo = _number_literal(t.lo, f"LO_{n}", constants)
        bounds.append("raw >= " + lo)
        if t.lo > 0:  # plain digits are never negative
            column_bounds.append("min(numbers) >= " + lo)
    if t.hi is not None:
        hi = _number_literal(t.hi, f"HI_{n}", constants)
        bounds.append("raw <= " + hi)
        column_bounds.append("max(numbers) <= " + hi)
    view["column_bounds"] = " and ".join(column_bounds) or "True"
    # `type(raw) is X`, not `raw.__class__ is X`: CPython specializes the call to `type`.
    # Numbers longer than coerce.MAX_NUMBER_CHARS leave the fast paths for the careful one (its reason).
    numeric = {"int": "type(raw) is int and {p}TOO_LONG_NEG < raw < {p}TOO_LONG",
               "decimal": "(type(raw) is int and {p}TOO_LONG_NEG < raw < {p}TOO_LONG"
                          " or type(raw) is {p}D and raw.is_finite() and not {p}too_long_number(raw))"}
    valid = {
        "string": "type(raw) is str and raw and raw.strip() is raw",  # else: blank (missing), or to trim
        "digits": f"type(raw) is str and len(raw) == {t.digits} and raw.isdigit() and raw.isascii()",
        "enum": f"raw in {{p}}MEMBERS_{n}",
        "bool": "type(raw) is bool",
    }
    if kind in numeric:
        valid[kind] = " and ".join([numeric[kind], *bounds])
    if of_cell is None:
        view["mode"] = "unused"
        view["column"] = "unused_text" if kind == "string" else "unused"
        view["null_class"] = 0 if f.optional else None
        test = valid[kind]
        view["fast_valid"] = f"raw is None or {test}" if f.optional and " or " not in test else \
            f"raw is None or ({test})" if f.optional else test
        view["globals"] = {"MEMBERS": kind == "enum"}
        return view
    classes = tuple(of_cell)
    if f.optional:
        view["null_class"] = classes[d.null_cell]
    if kind in ("enum", "bool"):
        values = list(t.members) if kind == "enum" else [False, True]
        table = {v: classes[d.cell_of(v)] for v in values}
        if kind == "bool":  # 1 == True in a dict: only bools and texts may look it up
            table.update({"false": table[False], "true": table[True]})
            view["dict_guard"] = "type(raw) is bool or type(raw) is str or raw is None"
        else:
            view["dict_subscript"] = True  # members are str: any other value misses (KeyError)
        if f.optional:
            table[None] = classes[d.null_cell]
        view.update(mode="dict", column="dict", dict=py_literal(table), cell_expr=f"_DICT_{n}[value]")
        view["globals"] = {"DICT": True, "MEMBERS": kind == "enum"}
        return view
    if kind == "string" and _points_only(d, classes):
        rest = next(classes[c] for c in range(d.value_cells) if not _is_point(d, c))
        # Values no input can be (blank: missing; surrounding whitespace under `trim`) stay out of
        # the dict: the fast path must not take such a text as it is.
        table = {d.interval(c).lo: classes[c] for c in range(d.value_cells) if _is_point(d, c) and classes[c] != rest
                 and not cleanup.is_blank(d.interval(c).lo)
                 and ("trim" not in rules or d.interval(c).lo.strip() == d.interval(c).lo)}
        if f.optional:
            table[None] = classes[d.null_cell]
        view.update(mode="dict", column="dict_rest", dict=py_literal(table), rest=rest,
                    cell_expr=f"_DICT_{n}.get(value, {rest})")
        view["globals"] = {"DICT": True}
        return view

    view["mode"] = "ordered"
    view["column"] = "number" if kind in ("int", "decimal") else "memo"
    # The memo maps texts (and None) to classes; no other value can equal a key.
    view["memo"] = py_literal({None: classes[d.null_cell]} if f.optional else {})
    identity = classes == tuple(range(len(classes)))
    view["classes"] = None if identity else py_literal(classes)
    wrap = (lambda e: e) if identity else (lambda e: f"_CLASS_{n}[{e}]")
    if kind == "decimal":
        before = [c[0] for c in d.cuts if c[1] == 0]
        after = [c[0] for c in d.cuts if c[1] == 1]
        view["cuts"] = py_literal(tuple(int(v) if v == int(v) else v for v in before))
        view["cuts_after"] = py_literal(tuple(int(v) if v == int(v) else v for v in after))
        view["column_after"] = bool(after)
        count = "_bisect_right(_CUTS_{n}, value)".format(n=n) + (f" + _bisect_left(_CUTS_AFTER_{n}, value)" if after else "")
        view["cell_expr"] = wrap(count)
        cuts_ge, cuts_gt = before, after
    else:
        view["cuts"] = py_literal(tuple(d.cuts))
        key = {"digits": "int(value)"}.get(kind, "value")
        view["cell_expr"] = wrap(f"_bisect_right(_CUTS_{n}, {key})")
        cuts_ge, cuts_gt = list(d.cuts), []
    if kind in numeric:
        view["branches"], view["text_after_memo"] = _number_branches(n, t, kind, cuts_ge, cuts_gt, classes,
                                                                     constants)
    view["globals"] = {"MEMO": True, "CUTS": True, "CUTS_AFTER": kind == "decimal", "CLASS": not identity}
    return view


# A text `_cell_N` need not clean: every rule would leave it as it is.
_CLEAN_ALREADY = {
    "string": "raw.strip() is raw",
    "digits": "len(raw) == {n_digits} and raw.isdigit() and raw.isascii()",
    "enum": "raw in _MEMBERS_{n}",
    "bool": 'raw == "true" or raw == "false"',
    "int": "_PLAIN_NUMBER.fullmatch(raw)",
    "decimal": "_PLAIN_NUMBER.fullmatch(raw)",
}


def _cleanup_view(n: int, f: ir.Field, rules: tuple[str, ...], constants: list) -> dict[str, Any]:
    """What `_cell_N` needs to clean a text and hint at a fix, as `coerce.coerce_value` does."""
    t = f.type
    spellings = "None"
    hint_members = ""
    if t.kind == "enum":
        constants.append((f"SPELL_{n}", py_literal(cleanup.field_spellings(t.members, t.titles))))
        constants.append((f"MEMBER_LIST_{n}", py_literal(tuple(t.members))))
        constants.append((f"TITLE_LIST_{n}", py_literal(tuple(t.titles or (None,) * len(t.members)))))
        spellings = f"_SPELL_{n}"
        hint_members = f", _MEMBER_LIST_{n}, _TITLE_LIST_{n}"
    return {"clean": bool(rules), "clean_skip": _CLEAN_ALREADY[t.kind].format(n=n, n_digits=t.digits),
            "kind_lit": py_literal(t.kind), "digits_lit": py_literal(t.digits), "spellings": spellings,
            "hint_members": hint_members, "hinted": t.kind != "string"}


def _number_branches(n: int, t: ir.FieldType, kind: str, cuts_ge: list, cuts_gt: list, classes: tuple,
                     constants: list) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """The fast path of a number field: (test, class expression) pairs tried in order
    before the memo, and the (test, class expression) of plain-digit texts when the memo
    comes first for them.

    The tests see `raw` and `kind = type(raw)`. A typed Decimal compares with Decimal
    constants, an int with int literals (mixed comparisons are three times slower). A
    CSV text of plain digits becomes an int; of an int field, it is looked up in the memo
    first, because counts repeat (employees, seats) where amounts of money rarely do, and
    a dict hit is cheaper than `int()`. Digits are never negative, so a lower bound of 0
    or less is not tested on them. A class of None (outside the bounds) makes the walk
    raise TypeError, which sends the account down the careful path for its reason.
    `{p}` stands for the prefix of module names (`_` in `assign`, none in `assign_many`).
    """
    identity = classes == tuple(range(len(classes)))

    def literal(value, name: str, as_decimal: bool) -> str:
        if as_decimal or value != int(value):
            if all(name != known for known, _ in constants):  # typed Decimals and dotted texts share them
                constants.append((name, py_literal(Decimal(value))))
            return "{p}" + name
        return py_literal(int(value))

    def tests(var: str, as_decimal: bool, tag: str, unsigned: bool = False) -> tuple[list[str], str]:
        bounds = []
        if t.lo is not None and not (unsigned and t.lo <= 0):
            bounds.append(f"{var} >= " + literal(t.lo, f"LO_{tag}{n}", as_decimal))
        if t.hi is not None:
            bounds.append(f"{var} <= " + literal(t.hi, f"HI_{tag}{n}", as_decimal))
        if len(cuts_ge) + len(cuts_gt) <= INLINE_CUTS:
            # A few cuts: `2 if v >= B else 1 if v >= A else 0`, highest first (an int, not a
            # sum of bools: CPython's specialized compare-and-jump and int subscripts apply).
            checks = [(v, 0, f"{var} >= {literal(v, f'CUT_{tag}{n}_{i}', as_decimal)}") for i, v in enumerate(cuts_ge)]
            checks += [(v, 1, f"{var} > {literal(v, f'CUT_AFTER_{tag}{n}_{i}', as_decimal)}")
                       for i, v in enumerate(cuts_gt)]
            count = "0"
            for j, (_, _, test) in enumerate(sorted(checks, key=lambda c: c[:2]), 1):
                count = f"{j} if {test} else {count}"
        else:
            count = f"{{p}}bisect_right({{p}}CUTS_{n}, {var})" + \
                (f" + {{p}}bisect_left({{p}}CUTS_AFTER_{n}, {var})" if cuts_gt else "")
        return bounds, count if identity else f"{{p}}CLASS_{n}[{count}]"

    branches = []
    digits = "kind is str and len(raw) <= {p}MAX_NUMBER and raw.isascii() and raw.isdigit()"
    if kind == "decimal":
        if t.lo is not None and t.hi is None and not cuts_gt:
            # One bisect over [lower bound, cuts..., Infinity] both validates and classifies:
            # below the bound, Infinity and NaN land on a None (or raise InvalidOperation).
            constants.append((f"BOUNDS_{n}", py_literal((Decimal(t.lo), *map(Decimal, cuts_ge), Decimal("Infinity")))))
            spans = classes[:len(cuts_ge) + 1]  # the value cells, from the lower bound up (not the null cell)
            constants.append((f"SPAN_{n}", py_literal((None, *spans, None))))
            branches.append(("kind is {p}D and not {p}too_long_number(raw)",
                             f"{{p}}SPAN_{n}[{{p}}bisect_right({{p}}BOUNDS_{n}, raw)]"))
        else:
            bounds, cell = tests("raw", True, "D")
            branches.append((" and ".join(["kind is {p}D", "raw.is_finite()", "not {p}too_long_number(raw)", *bounds]), cell))
    bounds, cell = tests("raw", False, "")
    branches.append((" and ".join(["kind is int", "{p}TOO_LONG_NEG < raw < {p}TOO_LONG", *bounds]), cell))
    bounds, cell = tests("number", False, "", unsigned=True)
    text = " and ".join([digits, "((number := int(raw)) or True)", *bounds])
    if kind == "int":
        return branches, (text, cell)
    branches.append((text, cell))
    # Amounts with a decimal point ("1234.50"): digits, one inner point, then Decimal.
    bounds, cell = tests("number", True, "D", unsigned=True)
    dotted = ["kind is str", "len(raw) <= {p}MAX_NUMBER", "raw.isascii()", 'raw.replace(".", "", 1).isdigit()', 'raw[0] != "." != raw[-1]',
              "((number := {p}D(raw)) or True)", *bounds]
    branches.append((" and ".join(dotted), cell))
    return branches, None


def _is_point(d, cell: int) -> bool:
    """A string cell holding exactly one value: [v, v + NUL)."""
    iv = d.interval(cell)
    return iv.hi is not None and iv.lo is not None and iv.hi == iv.lo + "\0"


def _points_only(d, classes: tuple[int, ...]) -> bool:
    """Whether every value cell that is not a single point falls in one class (plain equality tests)."""
    rest = {classes[c] for c in range(d.value_cells) if not _is_point(d, c)}
    return len(rest) == 1


def render_module(model: ir.Model, source_file: str, plan: Plan | None = None,
                  rules: tuple[str, ...] = cleanup.DEFAULT_RULES, hints: bool = True) -> str:
    """The generated module's source for one model, cleaning text values by `rules` (none: strict);
    `hints=False`: invalid reasons without did-you-mean (as the SQL target words them)."""
    plan = plan or build_plan(model)
    return _env.get_template("module.py.j2").render(**view_model(model, plan, source_file, rules, hints))
