"""`terrl explain MODEL_FILE --account JSON`: the path one account takes, decision by decision.

The account is given inline (`--account`) or picked from an account file, the same CSV or
JSON Lines that `terrl assign` reads (`--accounts FILE --key ID`, or `--row N`).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from terrl.cli.errors import EXIT_OK, UserError
from terrl.cli._model import load_checked_program, pick


@click.command()
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--account", "account_json",
              help='The account as a JSON object, e.g. \'{"country": "US", "employees": 5000}\'.')
@click.option("--accounts", "accounts_file", type=click.Path(path_type=Path, dir_okay=False),
              help="An account file (CSV or JSON Lines, as `terrl assign` reads) to take the account from; "
                   "with --key or --row.")
@click.option("--key", "key", help="With --accounts: the row whose key field (the schema's `key`) has this value.")
@click.option("--row", "row", type=click.IntRange(min=1),
              help="With --accounts: the N-th account of the file (1-based, as `terrl assign` numbers rows).")
@click.option("--model", "model_name", help="The model to use when the file has several.")
def explain(model_file: Path, account_json: str | None, accounts_file: Path | None, key: str | None,
            row: int | None, model_name: str | None) -> None:
    """Show how one account is assigned: the walk down the tree, decision by decision, and the result.

    The account is `--account JSON`, or one row of an account file: `--accounts FILE --key ID`
    (the row whose key is ID; the first, if several are) or `--accounts FILE --row N`.
    Each line is a territory tried, indented under its parent in the order the
    evaluator tries them: `taken`, `no`, `matches` (also matches, but an earlier sibling
    came first under `policy first`) or `skipped` (not tried), its `where` as written and
    the account's values of the fields that `where` reads.
    """
    from terrl.targets.evaluate import Assignment
    from terrl.targets.reference import explain as trace

    if accounts_file is None and (key is not None or row is not None):
        raise click.UsageError("--key and --row pick a row of --accounts FILE")
    if (account_json is None) == (accounts_file is None):
        raise click.UsageError("give the account: either --account JSON or --accounts FILE with --key ID or --row N")
    if accounts_file is not None and (key is None) == (row is None):
        raise click.UsageError("with --accounts FILE, say which row: --key ID or --row N")
    account = None
    if account_json is not None:
        try:
            account = json.loads(account_json, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise UserError(f"--account is not valid JSON: {exc.msg} (column {exc.colno})")
        if not isinstance(account, dict):
            raise UserError('--account must be a JSON object, e.g. {"country": "US"}')
    program, shown = load_checked_program(model_file, "explain")
    model = pick(program, model_name)
    heading = None
    if accounts_file is not None:
        record = find_record(model, accounts_file, key, row)
        heading = f"{accounts_file}:{record.line}: row {record.row}"
        if model.schema.key is not None:
            raw = record.key if record.values is None else record.values.get(model.schema.key.name)
            heading += ", no key" if raw is None else f", key {json.dumps(_key_text(raw), ensure_ascii=False)}"
        if record.values is None:  # a row that cannot be read: `assign` reports it invalid, with this reason
            click.echo(heading)
            click.echo(render_explanation(model, Assignment("invalid", (), (), (), record.problem), []))
            sys.exit(EXIT_OK)
        account = dict(record.values)
    # The reference interpreter alone: tracing one account never needs the compiled evaluator
    # (the differential tests hold the two to the same results).
    fields, steps = trace(model, account)
    result = Assignment(*fields)
    if heading is not None:
        click.echo(heading)
    click.echo(render_explanation(model, result, steps, account))
    sys.exit(EXIT_OK)


def find_record(model, path: Path, key: str | None, row: int | None):
    """The record of `path` (read as `terrl assign` reads it) at `row`, or the first whose key is
    `key` (compared as text: a CSV cell, or a JSON value as JSON writes it). Exits on a file that
    cannot be used or an account that is not there."""
    from terrl.io.accounts import AccountsError, open_accounts

    key_field = model.schema.key
    if key is not None and key_field is None:
        raise UserError(f"schema `{model.schema.name}` has no `key` field, so rows have no key; pick one with --row N",
                        help="mark the field that identifies accounts with `key` in the schema, e.g. `id: string key`")
    try:
        reader = open_accounts(path, model.schema)
    except AccountsError as exc:
        raise UserError(str(exc))
    found, seen, also = None, 0, []
    try:
        for record in reader.records():
            seen += 1
            if row is not None:
                if record.row == row:
                    found = record
                    break
                continue
            raw = record.key if record.values is None else record.values.get(key_field.name)
            if raw is not None and _key_text(raw) == key:
                if found is not None:
                    also.append(record.row)
                    break  # one more is enough to warn about; the file may be large
                found = record
    except AccountsError as exc:
        raise UserError(str(exc))
    finally:
        reader.stream.close()
    if found is None and row is not None:
        raise UserError(f"{path} has no row {row}: it holds {seen} account{'s' if seen != 1 else ''}")
    if found is None:
        raise UserError(f"{path}: no account with `{key_field.name}` {json.dumps(key)} among its {seen} "
                        f"account{'s' if seen != 1 else ''}", help="keys are compared as written in the file")
    if also:
        click.echo(f"warning: key {json.dumps(key)} is on rows {found.row} and {also[0]} of {path}; "
                   f"explaining row {found.row} (pick another with --row N)", err=True)
    return found


def _key_text(value: Any) -> str:
    """A key as text: a CSV cell as it is, a JSON value as JSON writes it (`17`, `true`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


VERDICT_WIDTH = len("matches")


def render_explanation(model, result, steps, account=None) -> str:
    """The walk as a tree, depth first: each decision under its parent, in evaluation order.

    At each level: the siblings tried, whether their `where` holds and, beside it, the
    account's values of the fields it reads (the why). Under `policy first` the siblings
    after the one taken are not tried: those that would also match are shown (they are
    what a person expects to win), the rest are named on one line."""
    from terrl.semantics.coerce import coerce_account
    from terrl.semantics.ir import pred_fields

    values = (coerce_account(model.schema, account)[0] if account is not None else None) or {}
    by_path = {t.path: t for t in model.walk()}

    def why(pred) -> str:
        if account is None or pred is None:
            return ""
        read = pred_fields(pred)
        shown = [f"{f.name}: {_value_text(values.get(f.name), f.type.kind)}"
                 for f in model.schema.fields if f.name in read]
        return f"  ({', '.join(shown)})" if shown else ""

    title = f' "{model.title}"' if model.title else ""
    head = [f"model {model.name}{title} (policy {model.policy})"]
    if model.universe is not None and result.status != "invalid":
        inside = not (result.reason or "").startswith("outside the universe")
        where = " ".join(model.where_span.text.split()) if model.where_span is not None else "where ..."
        head.append(f"  {'inside' if inside else 'OUTSIDE'} the model's universe: {where}{why(model.universe)}")

    from terrl.targets.reference import decisions

    verdicts = {id(s): v for s, v in decisions(model, steps)}  # the one rule, shared with `assign --explain`
    siblings: dict[str, list] = {}
    for s in steps:
        siblings.setdefault(s.path.rpartition(".")[0], []).append(s)

    rows: list[tuple[str, int, str, str]] = []  # (verdict, depth, name, detail); name "" spans the line

    def level(parent: str, policy: str, depth: int) -> bool:
        """Rows for the children of `parent`; whether one of them took the account."""
        group = siblings.get(parent, [])
        taken = [s for s in group if s.taken]
        first_at = next((i for i, s in enumerate(group) if s.taken), len(group))
        first = group[first_at] if taken else None
        skipped: list[str] = []
        for i, s in enumerate(group):
            name = s.path.rpartition(".")[2]
            if verdicts[id(s)] == "skipped":
                skipped.append(name)
                continue
            if policy == "first" and i > first_at:  # matches, after the sibling that came first
                rows.append(("matches", depth, name, s.condition + why(by_path[s.path].where)
                             + f"; `{_name(first)}` came first (policy first)"))
                continue
            territory = by_path[s.path]
            if territory.is_else:
                detail = "else" + ("  (no sibling matches)" if s.taken else "  (a sibling matches)")
            else:
                detail = s.condition + why(territory.where)
                if s.matched and not s.taken:
                    detail += f"; `{_name(first)}` came first (policy first)" if first else ""
                elif s.taken and len(taken) > 1:
                    others = [f"`{_name(o)}`" for o in taken if o is not s]
                    verb = "also matches" if len(others) == 1 else "also match"
                    detail += (f"; overlap: {', '.join(others)} {verb} under policy unique" if policy == "unique"
                               else f"; policy all: {', '.join(others)} {verb}")
            rows.append((verdicts[id(s)], depth, name, detail))
            if s.taken and territory.children:
                if not level(s.path, territory.policy, depth + 1):
                    rest = "the account rests there (`keep`)" if territory.keep else "a gap"
                    rows.append(("keep" if territory.keep else "gap", depth + 1, "",
                                 f"no child of `{name}` matches: {rest}"))
        if skipped:
            rows.append(("skipped", depth, "", ", ".join(skipped)
                         + f"  (not tried: `{_name(first)}` came first, policy first)"))
        return bool(taken)

    took = level("", model.policy, 0)
    if steps and not took:
        rows.append(("keep" if model.keep else "gap", 0, "",
                     "no territory matches: " + ("unassigned (the model says `keep`)" if model.keep else "a gap")))
    width = max((2 * d + len(n) for _, d, n, _ in rows if n), default=0)
    lines = head
    for verdict, depth, name, detail in rows:
        label = "  " * depth + name
        text = f"{label.ljust(width)}  {detail}" if name else "  " * depth + detail
        lines.append(f"  {verdict.ljust(VERDICT_WIDTH)}  {text}".rstrip())
    lines.append("")
    lines.append(f"result: {result.status}")
    for path, title_ in zip(result.territories, result.titles):
        lines.append(f"  {path}  \"{title_}\"")
    if result.owners:
        lines.append("  owners: " + ", ".join(result.owners))
    if result.reason:
        lines.append(f"  reason: {result.reason}")
    return "\n".join(lines)


def _name(step) -> str:
    return step.path.rpartition(".")[2]


def _value_text(value, kind: str) -> str:
    """A coerced value as it is written in `.terr`: `US`, `"94105"`, `5000`, `2B`, `null`."""
    import json
    from decimal import Decimal

    from terrl.analysis.domain import format_number

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return format_number(value)
    return value if kind == "enum" else json.dumps(value, ensure_ascii=False)
