"""`--target python`: a stand-alone Python module that assigns accounts like terrl does.

The model is compiled to one outcome diagram (`terrl.outcome_dd`); this module flattens
it into a view-model of Python literals (each field's cuts, the diagram's nodes, the
results table) and renders `templates/python/module.py.j2`. The in-process evaluator
(`terrl.evaluate`) executes exactly this source, so the two cannot disagree.

Safety: every value from the source reaches the output through `py_literal` (built on
`repr`) or `comment` (one escaped line); user text is never spliced into code.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from . import __version__, ir
from .outcome import Outcome, result_fields
from .outcome_dd import OutcomeDiagram, build_outcome_diagram

TEMPLATES = Path(__file__).resolve().parent / "templates" / "python"
DENSE_LIMIT = 2_000_000  # kid slots: below this, nodes index kids by cell directly (faster walk)

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
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def comment(text: str) -> str:
    """Text safe inside a `#` comment or a docstring line: one line, escapes shown."""
    return repr(text)[1:-1].replace('"""', '\\"\\"\\"')


def view_model(model: ir.Model, diagram: OutcomeDiagram, source_file: str) -> dict[str, Any]:
    mgr = diagram.manager
    level_of = {d.name: i for i, d in enumerate(diagram.domains)}
    schema_index = {f.name: i for i, f in enumerate(model.schema.fields)}
    fields = []
    for i, f in enumerate(model.schema.fields):
        d = diagram.domains[level_of[f.name]]
        fields.append(_field_view(i, f, d))

    # Terminals become indexes into the results table; inner nodes are listed
    # children first, each kid written as ~position (inner) or a result index.
    results: list[tuple] = []
    result_index: dict[int, int] = {}
    order: list[int] = []
    seen: set[int] = set()
    stack: list[tuple[int, bool]] = [(diagram.root, False)]
    while stack:
        node, expanded = stack.pop()
        if mgr.is_leaf(node):
            if node not in result_index:
                outcome = mgr.value(node)
                assert isinstance(outcome, Outcome)
                result_index[node] = len(results)
                results.append(result_fields(model, outcome))
            continue
        if expanded:
            if node not in seen:
                seen.add(node)
                order.append(node)
            continue
        if node in seen:
            continue
        stack.append((node, True))
        for _, _, kid in reversed(mgr.pieces(node)):
            if kid not in seen:
                stack.append((kid, False))
    position = {node: k for k, node in enumerate(order)}

    def ref(kid: int) -> int:
        return result_index[kid] if mgr.is_leaf(kid) else ~position[kid]

    dense_slots = sum(diagram.domains[mgr.level(n)].cells for n in order)
    dense = dense_slots < DENSE_LIMIT
    table = []
    for node in order:
        level = mgr.level(node)
        pieces = mgr.pieces(node)
        if dense:
            kids = [ref(kid) for first, end, kid in pieces for _ in range(first, end)]
            table.append((level, tuple(kids)))
        else:
            table.append((level, tuple(p[0] for p in pieces), tuple(ref(p[2]) for p in pieces)))
    key = model.schema.key
    return {
        "terrl_version": comment(__version__),
        "terrl_version_lit": py_literal(__version__),
        "source_file": py_literal(source_file),
        "source_file_comment": comment(source_file),
        "model_name": py_literal(model.name),
        "model_title": py_literal(model.title),
        "model_name_comment": comment(model.name + (f" ({model.title})" if model.title else "")),
        "field_names": py_literal(tuple(f.name for f in model.schema.fields)),
        "fields": fields,
        "level_names": comment(", ".join(d.name for d in diagram.domains)),
        "level_fields": [schema_index[d.name] for d in diagram.domains],
        "results": _lines(results),
        "table": _lines(table),
        "dense": dense,
        "root": py_literal(result_index[diagram.root]) if mgr.is_leaf(diagram.root) else "None",
        "key_get": f"get({py_literal(key.name)})" if key else "None",
    }


def _lines(items: list) -> str:
    """A tuple literal with one item per line (readable diffs of generated code)."""
    if not items:
        return "()"
    return "(\n" + "".join(f"    {py_literal(item)},\n" for item in items) + ")"


def _field_view(index: int, f: ir.Field, d) -> dict[str, Any]:
    t = f.type
    kind = t.kind
    view: dict[str, Any] = {
        "index": index, "name": py_literal(f.name), "kind": kind,
        "comment": comment(f"{f.name}: {t.describe()}{'?' if f.optional else ''} ({d.cells} cells)"),
        "null_cell": d.null_cell, "cuts": None, "cut_flags": None, "memo": "{}",
        "lo": py_literal(t.lo if kind != "decimal" or t.lo is None else Decimal(t.lo)),
        "hi": py_literal(t.hi if kind != "decimal" or t.hi is None else Decimal(t.hi)),
        "digits": t.digits, "described": py_literal(t.describe()),
    }
    if kind in ("int", "string", "digits"):
        view["cuts"] = py_literal(tuple(d.cuts))
    elif kind == "decimal":
        view["cuts"] = py_literal(tuple(c[0] for c in d.cuts))
        view["cut_flags"] = py_literal(tuple(c[1] for c in d.cuts))
    elif kind == "enum":
        view["memo"] = py_literal({m: d.cell_of(m) for m in t.members})
    else:  # bool
        view["memo"] = py_literal({"false": d.cell_of(False), "true": d.cell_of(True),
                                   False: d.cell_of(False), True: d.cell_of(True)})
    fast = {"int": ("str", "int"), "decimal": ("str", "int", "_D"), "bool": ("str", "bool")}.get(kind, ("str",))
    view["fast_test"] = " or ".join(f"raw.__class__ is {c}" for c in fast)
    if len(fast) > 1:
        view["fast_test"] = f"({view['fast_test']})"
    return view


def render_module(model: ir.Model, source_file: str, diagram: OutcomeDiagram | None = None) -> str:
    """The generated module's source for one model."""
    diagram = diagram or build_outcome_diagram(model)
    return _env.get_template("module.py.j2").render(**view_model(model, diagram, source_file))
