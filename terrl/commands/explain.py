"""`terrl explain MODEL_FILE --account JSON`: the path one account takes, decision by decision."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import click

from ..cli import EXIT_OK
from ._model import load_checked_program, pick


@click.command()
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--account", "account_json", required=True,
              help='The account as a JSON object, e.g. \'{"country": "US", "employees": 5000}\'.')
@click.option("--model", "model_name", help="The model to use when the file has several.")
def explain(model_file: Path, account_json: str, model_name: str | None) -> None:
    """Show how one account is assigned: every `where` tried at each level and the result."""
    from ..evaluate import compile_model

    try:
        account = json.loads(account_json, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"--account is not valid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(account, dict):
        raise click.UsageError('--account must be a JSON object, e.g. {"country": "US"}')
    program, shown = load_checked_program(model_file, "explain")
    model = pick(program, model_name)
    evaluator = compile_model(model, shown)
    result = evaluator.assign(account)
    _, steps = evaluator.explain(account)
    click.echo(render_explanation(model, result, steps))
    sys.exit(EXIT_OK)


def render_explanation(model, result, steps) -> str:
    title = f' "{model.title}"' if model.title else ""
    lines = [f"model {model.name}{title} (policy {model.policy})"]
    if model.universe is not None and result.status != "invalid":
        inside = not (result.reason or "").startswith("outside the universe")
        where = " ".join(model.where_span.text.split()) if model.where_span is not None else "where ..."
        lines.append(f"  {'inside' if inside else 'OUTSIDE'} the model's universe: {where}")
    width = max((2 * s.depth + len(s.path.rsplit('.', 1)[-1]) for s in steps), default=0)
    for s in steps:
        name = s.path.rsplit(".", 1)[-1]
        mark = "taken  " if s.taken else "matches" if s.matched else "no     "
        label = "  " * s.depth + name
        note = f"  ({s.note})" if s.note else ""
        lines.append(f"  {mark}  {label.ljust(width)}  {s.condition}{note}")
    lines.append("")
    lines.append(f"result: {result.status}")
    for path, title_ in zip(result.territories, result.titles):
        lines.append(f"  {path}  \"{title_}\"")
    if result.owners:
        lines.append("  owners: " + ", ".join(result.owners))
    if result.reason:
        lines.append(f"  reason: {result.reason}")
    return "\n".join(lines)
