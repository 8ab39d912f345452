"""`terrl compile MODEL_FILE --target python|json -o FILE`: emit an evaluator or the normalized model.

Targets are dispatched through `TARGETS`: a name -> "module:function" entry whose
function takes `(model, source_file, **options)` and returns the text to write. A new
target (e.g. `sql` with `--dialect`) adds an entry here and, if it needs one, an
option below whose value reaches the function through `options`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from terrl.cli.errors import EXIT_OK, EXIT_USAGE
from terrl.cli._model import load_checked_program, pick
from terrl.semantics.cleanup import ALL_RULES, rules_for

TARGETS: dict[str, str] = {
    "python": "terrl.targets.codegen_python:render_module",
    "json": "terrl.targets.codegen_json:render_normalized_model",
    "sql": "terrl.targets.sql:render_sql_target",
}
SQL_DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")  # terrl.sql.DIALECTS (not imported: lazy)


@click.command()
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--target", required=True, type=click.Choice(sorted(TARGETS)), help="What to emit.")
@click.option("-o", "--output", default="-", show_default=True, help="The file to write (`-` is standard output).")
@click.option("--model", "model_name", help="The model to compile when the file has several.")
@click.option("--dialect", type=click.Choice(SQL_DIALECTS), help="`--target sql`: the SQL dialect (default duckdb).")
@click.option("--table", help="`--target sql`: the account table to read (default `accounts`; may be `schema.table`).")
@click.option("--view", help="`--target sql`: emit `CREATE OR REPLACE VIEW` with this name instead of a SELECT.")
@click.option("--input", "input", type=click.Choice(["typed", "text"]),
              help="`--target sql`: the table's columns are typed (default), or all text as loaded from a CSV "
                   "(parsed and checked in SQL, like `terrl assign`; DuckDB only).")
@click.option("--strict", is_flag=True, default=None,
              help="`--target python`: the module takes values exactly as written (no clean-up; docs/assign.md).")
@click.option("--clean", "clean", multiple=True, type=click.Choice(ALL_RULES),
              help="`--target python`: turn on a clean-up rule that is off by default (leading-zeros, suffix). Repeatable.")
def compile(model_file: Path, target: str, output: str, model_name: str | None, **options) -> None:
    """Compile one model: `python` is a stand-alone module exposing `assign(account)` and
    `assign_many(accounts)` (standard library only); `json` is the normalized model
    (schema, territories, predicates as interval sets), format in docs/normalized-model.md;
    `sql` is a SELECT (or a view) assigning every row of a table, docs/sql.md."""
    if target != "sql" and any(options.get(o) is not None for o in ("dialect", "table", "view", "input")):
        raise click.UsageError("--dialect, --table, --view and --input apply to `--target sql` only")
    strict, clean = options.pop("strict"), options.pop("clean")
    if (strict or clean) and target != "python":
        raise click.UsageError("--strict and --clean apply to `--target python` only (the SQL target does no clean-up)")
    if target == "python":
        options["rules"] = rules_for(strict, clean)
    program, shown = load_checked_program(model_file, "compile")
    model = pick(program, model_name)
    module, function = TARGETS[target].split(":")
    emit = getattr(importlib.import_module(module), function)
    try:
        text = emit(model, shown, **{k: v for k, v in options.items() if v is not None})
    except ValueError as exc:  # a target that cannot express this model (e.g. sql.SqlUnsupported)
        raise click.UsageError(str(exc)) from None
    if output == "-":
        click.echo(text, nl=not text.endswith("\n"))
    else:
        try:
            Path(output).parent.mkdir(parents=True, exist_ok=True)  # like `terrl docs -o DIR`
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"terrl compile: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"wrote {output} ({target}, model {model.name})", err=True)
    sys.exit(EXIT_OK)
