"""Running terrl's SQL on real engines and the evaluator on the same rows, for the SQL tests.

Rows carry a `row` number so results come back in input order. Text input (CSV-like:
every column VARCHAR, empty cell = missing) runs on DuckDB; typed input runs on DuckDB
and PostgreSQL with the column types of docs/sql.md, and the evaluator is fed the
values as the database gives them back (ints, Decimals, bools, strings).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any, Sequence

from terrl.semantics import ir
from terrl.targets import sql
from terrl.targets.evaluate import compile_model

POSTGRES_DSN_VARIABLE = "TERRL_TEST_POSTGRES_DSN"
DECIMAL_TYPE = "DECIMAL(38, 10)"  # typed DuckDB tables in the tests


def expected_rows(model: ir.Model, accounts: Sequence[dict[str, Any]]) -> list[tuple]:
    """(row, key, status, territories, titles, owners, reason) by the Python evaluator, lists joined with `;`."""
    evaluator = compile_model(model)
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


def as_decimal_text(value: Decimal) -> str:
    return format(value, "f")


# --- Spark (local PySpark; tests marked `spark`) -----------------------------------------

SPARK_DECIMAL_TYPE = "DECIMAL(38, 10)"


def spark_session():
    """A local one-core SparkSession, or a pytest skip saying how to get one."""
    import pytest

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
