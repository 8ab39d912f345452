"""Running `test` blocks: each account through the compiled evaluator of each model it names.

A test's expectations for one model form one check: `expect M: unassigned` or
`expect M: invalid` want that status; one or more `expect M: path` want the account
assigned to exactly those territories (several paths under `policy all`, or for an
overlap). Test accounts are typed literals; they are coerced like any account, so a
test may give invalid input on purpose and expect `invalid`.

A case table (`terrl test --cases cases.csv`) holds the same checks as rows: the account's
fields in columns, read as `terrl assign` reads an account file, and an `expect` column (a
territory path, several joined with `;`, or `unassigned` / `invalid`); optionally a `model`
column and a `case` column naming the row. Each row is one outcome, located at its line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from terrl.semantics import ir
from terrl.diagnostics.core import Diagnostic, diag
from terrl.diagnostics.source import SourceFile, Span
from terrl.diagnostics.suggest import closest
from terrl.targets.evaluate import Evaluator, compile_model

STATUSES = ("unassigned", "invalid")


@dataclass(frozen=True)
class TestOutcome:
    name: str
    model: str
    passed: bool
    expected: str
    actual: str
    file: str | None  # where the first expectation for this model is
    line: int | None
    source_line: str  # that line's text
    diagnostic: Diagnostic | None = None  # E401 for a failure
    __test__ = False  # not a pytest class

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.file else ""


def _describe(result) -> str:
    if result.status == "assigned":
        text = ", ".join(result.territories)
        return text + (f" ({result.reason})" if result.reason else "")
    return f"{result.status} ({result.reason})" if result.reason else result.status


def _verdict(result, wanted: list[str]) -> tuple[bool, str]:
    """Whether `result` is what the expectations `wanted` (paths, or a status) ask, and their text."""
    statuses = [w for w in wanted if w in STATUSES]
    paths = [w for w in wanted if w not in STATUSES]
    if statuses:
        return result.status == statuses[0] and len(set(wanted)) == 1, " and ".join(dict.fromkeys(wanted))
    return (result.status == "assigned" and sorted(result.territories) == sorted(set(paths)),
            ", ".join(dict.fromkeys(paths)))


def run_tests(program: ir.Program) -> list[TestOutcome]:
    evaluators: dict[str, Evaluator] = {}
    outcomes: list[TestOutcome] = []
    for case in program.tests:
        account = dict(case.account)
        by_model: dict[str, list[ir.Expectation]] = {}
        for e in case.expectations:
            by_model.setdefault(e.model, []).append(e)
        for model_name, expectations in by_model.items():
            if model_name not in evaluators:
                evaluators[model_name] = compile_model(program.tested_model(model_name))
            result = evaluators[model_name].assign(account)
            passed, expected = _verdict(result, [e.outcome for e in expectations])
            actual = _describe(result)
            span = expectations[0].span or case.span
            file, line, line_text = None, None, ""
            if span is not None:
                file = str(span.file.path)
                line, _ = span.file.line_col(span.start)
                line_text = span.file.line_text(line).strip()
            problem = None
            if not passed:
                problem = diag("E401", f"test {json.dumps(case.name, ensure_ascii=False)}: model `{model_name}` expected {expected}, got {actual}", span,
                               help="fix the rules or the test's expectation", model=model_name)
            outcomes.append(TestOutcome(case.name, model_name, passed, expected, actual, file, line, line_text, problem))
    return outcomes


# --- case tables -------------------------------------------------------------------------

EXPECT_COLUMN, MODEL_COLUMN, CASE_COLUMN = "expect", "model", "case"
EXPECT_HELP = ("the `expect` cell holds a territory path (`na.west`), several joined with `;` "
               "(under `policy all`), `unassigned` or `invalid`")


def run_case_table(path: Path, shown: str, models: list[ir.Model], default_model: str | None,
                   evaluators: dict[int, Evaluator] | None = None) -> tuple[list[TestOutcome], list[Diagnostic]]:
    """Every row of a case table checked like a `test` block: the outcomes (one per usable row)
    and the problems with the file (E403) or with rows that cannot be checked (E402)."""
    from terrl.io.accounts import AccountsError, open_accounts

    evaluators = {} if evaluators is None else evaluators
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:  # the reader says why, below
        text = ""
    source = SourceFile(shown, text)

    def at(line: int) -> Span:
        start = source.line_starts[line - 1] if line <= len(source.line_starts) else len(text)
        return source.span(start, start + len(source.line_text(line)))

    def file_problem(message: str, help: str) -> tuple[list[TestOutcome], list[Diagnostic]]:
        return [], [diag("E403", message, at(1), help=help)]

    by_name: dict[str, list[ir.Model]] = {}
    for m in models:
        by_name.setdefault(m.name, []).append(m)
    if not models:
        return file_problem(f"no model to check the cases of `{shown}` against: the `.terr` files given declare none",
                            "give the files that declare the model, e.g. `terrl test --cases cases.csv models/`")
    if default_model is not None and default_model not in by_name:
        hint = did_you_mean(default_model, by_name)
        return file_problem(f"--model `{default_model}`: no such model in the files given" + (f"; {hint}" if hint else ""),
                            "models: " + ", ".join(f"`{n}`" for n in by_name))
    schemas = list({id(m.schema): m.schema for m in models}.values())
    distinct = [s for i, s in enumerate(schemas) if s not in schemas[:i]]
    if default_model is not None:
        schema = by_name[default_model][0].schema
    elif len(distinct) == 1:
        schema = distinct[0]
    else:
        return file_problem(f"the models of the files given follow different schemas, so `{shown}` cannot be read "
                            "without knowing which", "pass `--model NAME`: its schema reads the table")
    field_names = {f.name for f in schema.fields}
    if EXPECT_COLUMN in field_names:
        return file_problem(f"schema `{schema.name}` has a field `{EXPECT_COLUMN}`, the column a case table "
                            "keeps its expectations in", "rename that field, or write the cases as `test` blocks")
    case_columns = tuple(c for c in (EXPECT_COLUMN, MODEL_COLUMN, CASE_COLUMN)
                         if c not in field_names)
    try:
        reader = open_accounts(path, schema, extra_columns=case_columns)
    except AccountsError as exc:
        return file_problem(str(exc), "a case table is an account file (as `terrl assign` reads) with an `expect` column")
    outcomes: list[TestOutcome] = []
    paths_of: dict[int, set[str]] = {}  # id(model) -> its territory paths, walked once
    problems: list[Diagnostic] = []  # (an optional field's column may be left out: its cells are missing values)
    try:
        if reader.format == "csv" and EXPECT_COLUMN not in reader.columns:
            close = closest(EXPECT_COLUMN, [c for c in reader.columns if c.lower().startswith("exp")] or reader.columns,
                            cutoff=0.6)
            return file_problem(f"`{shown}` has no `{EXPECT_COLUMN}` column" + (f" (found `{close}`)" if close else ""),
                                "add a column `expect`: " + EXPECT_HELP)
        for record in reader.records():
            span = at(record.line)

            def row_problem(message: str, help: str | None = None, notes=()) -> None:
                problems.append(diag("E402", f"row {record.row} of `{shown}`: {message}", span, help=help,
                                     notes=list(notes)))

            if record.values is None:
                row_problem(f"cannot be read: {record.problem}")
                continue
            values = record.values
            wanted = _expectations(values.get(EXPECT_COLUMN))
            if not wanted:
                row_problem("`expect` is empty or missing", "write what this account should get: " + EXPECT_HELP)
                continue
            name = values.get(MODEL_COLUMN) if MODEL_COLUMN in case_columns else None
            name = name if isinstance(name, str) and name.strip() else default_model
            if name is None:
                if len(by_name) > 1:
                    row_problem("which model? the files given declare " + ", ".join(f"`{n}`" for n in by_name),
                                "add a `model` column, or pass `--model NAME`")
                    continue
                name = models[0].name
            name = name.strip()
            candidates = by_name.get(name, [])
            if len(candidates) != 1:
                if candidates:
                    row_problem(f"model `{name}` is declared in " + " and ".join(f"`{m.file}`" for m in candidates),
                                "test the files one at a time")
                else:
                    hint = did_you_mean(name, by_name)
                    row_problem(f"unknown model `{name}`", "models: " + ", ".join(f"`{n}`" for n in by_name),
                                [hint] if hint else [])
                continue
            model = candidates[0]
            if model.schema != schema:
                row_problem(f"model `{name}` follows schema `{model.schema.name}`, not the `{schema.name}` "
                            "this table is read with", "put its cases in a table of their own, tested with `--model`")
                continue
            paths = paths_of.get(id(model))
            if paths is None:
                paths = paths_of[id(model)] = {t.path for t in model.walk()}
            unknown = [w for w in wanted if w not in STATUSES and w not in paths]
            if unknown:
                hint = did_you_mean(unknown[0], paths)
                row_problem(f"model `{name}` has no territory `{unknown[0]}`",
                            "write the full path from the model, e.g. `na.west.west_ent`", [hint] if hint else [])
                continue
            if any(w in STATUSES for w in wanted) and len(set(wanted)) > 1:
                row_problem(f"`{';'.join(wanted)}`: `unassigned` and `invalid` stand alone", EXPECT_HELP)
                continue
            if id(model) not in evaluators:
                evaluators[id(model)] = compile_model(model)
            account = {f.name: values[f.name] for f in schema.fields if f.name in values}
            result = evaluators[id(model)].assign(account)
            passed, expected = _verdict(result, wanted)
            actual = _describe(result)
            case = values.get(CASE_COLUMN) if CASE_COLUMN in case_columns else None
            label = str(case) if case not in (None, "") else f"row {record.row}"
            problem = None
            if not passed:
                problem = diag("E401", f"case {json.dumps(label, ensure_ascii=False)}: model `{name}` expected "
                               f"{expected}, got {actual}", span, help="fix the rules or the row's `expect`", model=name)
            outcomes.append(TestOutcome(label, name, passed, expected, actual, shown, record.line,
                                        source.line_text(record.line).strip(), problem))
    except AccountsError as exc:
        problems.append(diag("E403", str(exc), at(1)))
    finally:
        reader.stream.close()
    return outcomes, problems


def did_you_mean(name: str, candidates) -> str | None:
    """The did-you-mean note (`terrl.diagnostics.suggest`; the resolver's twin is a pass of its own)."""
    match = closest(name, list(candidates))
    return f"did you mean `{match}`?" if match else None


def _expectations(cell) -> list[str]:
    """The `expect` cell as a list: `a;b` in CSV, a string or a list of strings in JSON Lines."""
    if isinstance(cell, list):
        return [str(x).strip() for x in cell if str(x).strip()]
    if not isinstance(cell, str):
        return [] if cell is None else [str(cell)]
    return [part.strip() for part in cell.split(";") if part.strip()]

