"""`--target json`: the normalized model, for tools in other languages.

Schema, territories and every predicate with its atoms normalized to *interval sets*:
`field == v`, `in {..}`, `in LO..HI`, `<`, `startswith` all become one form, "the
field's value lies in one of these intervals (or is missing, when `null` is true)".
Each atom also lists the field's *cells* it covers (the model's own discretization,
`terrl.analysis.domain`), for consumers that build decision tables. The format is documented
in docs/normalized-model.md; `FORMAT_VERSION` changes whenever it does.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from terrl import __version__
from terrl.diagnostics.json_values import json_value
from terrl.semantics import ir
from terrl.analysis.domain import FieldDomain, build_model_domains, runs

FORMAT = "terrl-normalized-model"
FORMAT_VERSION = 1


def _bound(kind: str, value: Any) -> Any:
    """A bound in the format: decimals as exact strings, ints as numbers."""
    if value is None:
        return None
    return json_value(Decimal(value) if kind == "decimal" else int(value), "string")


def _field(f: ir.Field, d: FieldDomain) -> dict[str, Any]:
    t = f.type
    out: dict[str, Any] = {"name": f.name, "type": t.kind, "optional": f.optional, "key": f.key}
    if t.kind in ("int", "decimal"):
        out["min"] = _bound(t.kind, t.lo)
        out["max"] = _bound(t.kind, t.hi)
    if t.kind == "digits":
        out["digits"] = t.digits
    if t.kind == "enum":
        out["members"] = list(t.members)
        out["enum"] = t.enum_name
    if f.context is not None:
        out["context"] = f.context
        out["read_for"] = None if f.read_for is None else sorted(f.read_for)
    out["cells"] = [_cell_interval(d, c) for c in range(d.value_cells)] + ([{"null": True}] if d.null_cell is not None else [])
    return out


def _cell_interval(d: FieldDomain, first: int, end: int | None = None) -> dict[str, Any]:
    """The values of cells first .. end - 1 (contiguous value cells) as one interval."""
    end = first + 1 if end is None else end
    lo, hi = d.interval(first).lo, d.interval(end - 1).hi
    k = d.kind
    if k == "enum":
        return {"values": list(d.type.members[lo:hi])}
    if k == "bool":
        return {"values": [bool(v) for v in range(lo, hi)]}
    if k == "int":
        return {"min": lo, "min_inclusive": lo is not None, "max": None if hi is None else hi - 1,
                "max_inclusive": hi is not None}
    if k == "digits":
        n = d.type.digits or 0
        return {"min": str(lo).zfill(n), "min_inclusive": True, "max": str(hi - 1).zfill(n), "max_inclusive": True}
    if k == "string":
        return {"min": lo, "min_inclusive": True, "max": hi, "max_inclusive": False}  # lo is never open: "" is the least
    # decimal cuts: (v, 0) is just before v, (v, 1) just after v
    return {"min": None if lo is None else json_value(lo[0], "string"), "min_inclusive": lo is not None and lo[1] == 0,
            "max": None if hi is None else json_value(hi[0], "string"), "max_inclusive": hi is not None and hi[1] == 1}


def _pred(p: ir.Pred | None, domains: dict[str, FieldDomain]) -> Any:
    if p is None:
        return None
    if isinstance(p, ir.Const):
        return {"const": p.value}
    if isinstance(p, ir.Not):
        return {"not": _pred(p.operand, domains)}
    if isinstance(p, ir.And):
        return {"and": [_pred(q, domains) for q in p.operands]}
    if isinstance(p, ir.Or):
        return {"or": [_pred(q, domains) for q in p.operands]}
    d = domains[p.field]
    mask = d.atom_cells(p)
    values = mask & d.value_mask
    intervals = [_cell_interval(d, a, b) for a, b in runs(values)]
    if d.kind in ("enum", "bool"):  # one list of members is clearer than several intervals
        intervals = [{"values": [v for i in intervals for v in i["values"]]}] if intervals else []
    cells = [i for a, b in runs(mask) for i in range(a, b)]
    return {"field": p.field, "in": intervals, "null": bool(d.null_cell is not None and mask >> d.null_cell & 1),
            "cells": cells}


def _territory(t: ir.Territory, domains: dict[str, FieldDomain]) -> dict[str, Any]:
    return {
        "name": t.name, "path": t.path, "title": t.title, "doc": t.doc,
        "else": t.is_else, "where": _pred(t.where, domains),
        "policy": t.policy, "keep": t.keep,
        "owners": [{"id": o.id, "role": o.role} for o in t.owners],
        "meta": {k: json_value(v, "string") for k, v in t.meta},
        "children": [_territory(c, domains) for c in t.children],
    }


def normalized_model(model: ir.Model, source_file: str) -> dict[str, Any]:
    domains = {d.name: d for d in build_model_domains(model)}
    schema = model.schema
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "terrl_version": __version__,
        "source": source_file,
        "model": {"name": model.name, "title": model.title, "doc": model.doc,
                  "effective": json_value(model.effective),
                  "status": model.status, "policy": model.policy, "keep": model.keep,
                  "where": _pred(model.universe, domains)},
        "schema": {"name": schema.name, "key": schema.key.name if schema.key else None,
                   "fields": [_field(f, domains[f.name]) for f in schema.fields]},
        "territories": [_territory(t, domains) for t in model.territories],
    }


def render_normalized_model(model: ir.Model, source_file: str) -> str:
    return json.dumps(normalized_model(model, source_file), indent=2, ensure_ascii=False) + "\n"
