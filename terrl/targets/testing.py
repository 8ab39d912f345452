"""Running `test` blocks: each account through the compiled evaluator of each model it names.

A test's expectations for one model form one check: `expect M: unassigned` or
`expect M: invalid` want that status; one or more `expect M: path` want the account
assigned to exactly those territories (several paths under `policy all`, or for an
overlap). Test accounts are typed literals; they are coerced like any account, so a
test may give invalid input on purpose and expect `invalid`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from terrl.semantics import ir
from terrl.diagnostics.core import Diagnostic, diag
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
            wanted = [e.outcome for e in expectations]
            statuses = [w for w in wanted if w in STATUSES]
            paths = [w for w in wanted if w not in STATUSES]
            if statuses:
                passed = result.status == statuses[0] and len(set(wanted)) == 1
                expected = " and ".join(dict.fromkeys(wanted))
            else:
                passed = result.status == "assigned" and sorted(result.territories) == sorted(set(paths))
                expected = ", ".join(dict.fromkeys(paths))
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
