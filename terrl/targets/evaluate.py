"""The in-process evaluator: compile a model once, then assign accounts.

    import terrl
    evaluator = terrl.load("examples/acme/fy28.terr")          # or compile_model(ir_model)
    result = evaluator.assign({"id": "A1", "country": "US", ...})
    result.status, result.territories, result.titles, result.owners, result.reason
    for row, result in zip(rows, evaluator.assign_many(rows)): ...

`compile_model` builds the model's plan (`terrl.targets.sibling_index`), renders the same
source as `terrl compile --target python` and executes it: the in-process evaluator and
the generated module are one code path, so their results are identical and equally fast.
Per account the work is: read and validate each field, find its cell (a dict hit or a
bisect), then one dict lookup when an account alike (same cells) was seen before, else a
walk down the hierarchy with one bisect per (sibling group reached, field it tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

from terrl.io.accounts import Batch, row_values
from terrl.semantics import ir
from terrl.semantics.cleanup import DEFAULT_RULES
from terrl.targets.codegen_python import render_module
from terrl.diagnostics.core import Diagnostic
from terrl.gcpause import paused_gc
from terrl.targets.outcome import ASSIGNED, INVALID, UNASSIGNED
from terrl.targets.sibling_index import Plan, build_plan

__all__ = ["Assignment", "Evaluator", "ModelError", "assign_records", "compile_model", "load", "ASSIGNED", "UNASSIGNED", "INVALID"]


class Assignment(NamedTuple):
    """One account's result. A named tuple (not a dataclass): immutable and cheap. Accounts
    that end alike share one `Assignment` (only invalid accounts get their own, for the
    reason), so results carry no account data: pair them with accounts by position."""

    status: str  # "assigned", "unassigned" or "invalid"
    territories: tuple[str, ...]  # paths below the model, e.g. ("na.west.west_ent",)
    titles: tuple[str, ...]  # each territory's title (its name when it has none)
    owners: tuple[str, ...]  # owner ids of those territories, in order, without repeats
    reason: str | None  # why unassigned or invalid; conflicts and gaps of assigned accounts
    # (field, raw, cleaned, rules) for each value the clean-up rewrote (terrl.semantics.cleanup)
    cleaned: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "territories": list(self.territories), "titles": list(self.titles),
                "owners": list(self.owners), "reason": self.reason}


class ModelError(Exception):
    """`load` could not produce an evaluator; `diagnostics` says why."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


@dataclass
class Evaluator:
    model: ir.Model
    source: str  # the generated module's text
    plan: Plan = field(repr=False)
    assign: Callable[[Mapping[str, Any]], Assignment] = field(repr=False)
    assign_many: Callable[[Iterable[Mapping[str, Any]]], Iterator[Assignment]] = field(repr=False)
    assign_columns: Callable[[list[list]], list[Assignment | None]] = field(repr=False)
    cleanup: tuple[str, ...] = DEFAULT_RULES  # the clean-up rules its text values go through

    @property
    def plan_size(self) -> int:
        """Integers in the plan's tables: linear in the size of the rules."""
        return self.plan.size()

    def explain(self, account: Mapping[str, Any]):
        """(result tuple, steps) by the reference interpreter: which `where` matched at each level."""
        from terrl.targets.reference import explain
        return explain(self.model, account, self.cleanup)


def assign_records(evaluator: Evaluator, records: Iterable, *, explain: bool = False) -> Iterator[tuple]:
    """The Python engine's stream over an account file's records (`terrl.io.accounts`):
    `(row, key, Assignment, steps)` per record, in order, the same shape as the DuckDB
    engine's (`sql_engine.DuckdbRun.results`, with no steps). A record that could not be read
    is `invalid` with its problem; `steps` is the reference interpreter's trace when `explain`."""
    key_name = evaluator.model.schema.key.name if evaluator.model.schema.key else None
    current: list = [None]  # the record whose result assign_many yields next (it pulls one at a time)

    def values():
        for record in records:
            current[0] = record
            yield record.values if record.problem is None else _UNREADABLE

    for result in evaluator.assign_many(values()):
        record = current[0]
        if record.problem is not None:
            yield record.row, record.key, Assignment(INVALID, (), (), (), record.problem), None
            continue
        steps = evaluator.explain(record.values)[1] if explain else None
        yield record.row, record.values.get(key_name) if key_name else None, result, steps


def assign_batches(evaluator: Evaluator, items: Iterable, index: Mapping[str, int]) -> Iterator[tuple]:
    """`assign_records` for a CSV file read in batches (`AccountReader.batches`): the same
    results, computed a column at a time by the module's `assign_columns` (a row it leaves,
    None, is assigned by `assign` on the row's values exactly as `assign_records` would), and
    yielded as one `ResultBatch` per batch; a row that could not be read is one tuple, as there."""
    schema = evaluator.model.schema
    positions = [index.get(f.name) for f in schema.fields]
    items_ = tuple(index.items())
    key_at = index.get(schema.key.name) if schema.key else None
    assign = evaluator.assign
    for item in items:
        if type(item) is not Batch:  # a row that could not be read
            yield item.row, item.key, Assignment(INVALID, (), (), (), item.problem), None
            continue
        results = evaluator.assign_columns(item.columns(positions))
        if None in results:
            for i, result in enumerate(results):
                if result is None:
                    results[i] = assign(row_values(item.cells[i], items_))
        keys = item.column(key_at)
        if "" in keys:
            keys = [key or None for key in keys]
        yield ResultBatch(item.rows, keys, results)


class ResultBatch(NamedTuple):
    """Results of consecutive rows, in the stream of `assign_batches` (instead of one tuple each)."""

    rows: Sequence[int]
    keys: list  # each row's key as given (None: none)
    results: list[Assignment]


_UNREADABLE: dict = {}  # stands in for a row that could not be read (its result is replaced)


@paused_gc()  # the plan's tables are freed by reference counting: terrl/gcpause.py
def compile_model(model: ir.Model, source_file: str | None = None, cleanup: Iterable[str] = DEFAULT_RULES,
                  hints: bool = True) -> Evaluator:
    """The evaluator of a model; text values are cleaned by the `cleanup` rules (`()`: strict);
    `hints=False`: invalid reasons without did-you-mean, as the SQL target words them."""
    plan = build_plan(model)
    source = render_module(model, source_file or model.file or "<model>", plan, tuple(cleanup), hints)
    namespace: dict[str, Any] = {"__name__": f"terrl_model_{model.name}", "Assignment": Assignment}
    exec(compile(source, f"<terrl model {model.name}>", "exec"), namespace)
    return Evaluator(model, source, plan, namespace["assign"], namespace["assign_many"], namespace["assign_columns"],
                     tuple(cleanup))


def pick_model(program: ir.Program, name: str | None) -> ir.Model:
    """The model called `name`, or the only one; raises ModelError otherwise."""
    names = [m.name for m in program.models]
    if name is not None:
        if name not in names:
            raise ModelError(f"no model `{name}`; the file has " + (", ".join(f"`{n}`" for n in names) or "none"))
        return program.model(name)
    if len(names) == 1:
        return program.models[0]
    if not names:
        raise ModelError("the file declares no model")
    raise ModelError("the file has several models (" + ", ".join(f"`{n}`" for n in names) + "); pick one with `model=`")


@paused_gc()
def load(path: str | Path, model: str | None = None, cleanup: Iterable[str] = DEFAULT_RULES) -> Evaluator:
    """Read, check and compile one model of a `.terr` file.

    `cleanup`: the clean-up rules for text values (`terrl.semantics.cleanup`; `()` is strict).

    Raises ModelError (with the diagnostics) when the file has parse or type errors.
    Coverage findings (gaps, overlaps) do not stop it: the evaluator reports such
    accounts as documented in docs/assign.md.
    """
    from terrl.pipeline import Compilation

    compilation = Compilation.from_paths([Path(path)])
    if not compilation.units or not compilation.ok:
        errors = [d for d in compilation.diagnostics if d.severity == "error"]
        first = errors[0].message if errors else "it cannot be read"
        raise ModelError(f"{path} has {len(errors)} error(s); the first: {first}", compilation.diagnostics)
    return compile_model(pick_model(compilation.units[0].program, model), cleanup=cleanup)
