"""Differential: terrl's SQL on real engines == the Python evaluator, row by row.

Random models (tests/support.py: every field kind, nulls, `startswith`,
policies, `keep`, `else`, universes) and random accounts with boundary values,
invalid values and text that trips `LIKE` (`%`, `_`), run through:

- DuckDB, text input (CSV-like: every column VARCHAR, parsed in SQL), full and compact projections;
- DuckDB, typed input (BIGINT, DECIMAL, BOOLEAN, VARCHAR columns);
- PostgreSQL, typed input (TEXT, NUMERIC, ...), when `TERRL_TEST_POSTGRES_DSN` names a server
  (.ci/run starts one); skipped with that reason otherwise;
- Spark (local PySpark), typed input (STRING, BIGINT, DECIMAL(38, 10), BOOLEAN): marked `spark`,
  deselected by default (`pip install pyspark && python -m pytest -m spark tests/test_sql*.py`).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import (ALL_CODES, CODES, ENUM, LABELS, SCHEMA, create_table, expected_rows, insert, models, postgres_dsn,
                     read_back, run_query, run_spark, spark_session, spark_table, wide_models, worker_schema_name)

TEXT_VALUES = {
    "id": ("A1", "A2", "B7", "", None, "a%b", "x_y", "it's", 'say "hi"', "both ' and \"", "back\\slash"),
    "color": ENUM + ("purple", "RED", "", None, "re%", "r_d"),
    "size": ("0", "1", "9", "10", "11", "50", "99", "100", "101", "-1", "5,000", " 5", "1e2", "10.0", "10.5",
             "-0", "007", "", None, "٣", "-0.0", "100.000", "1" * 45, "-" + "9" * 50, "0.0000000001"),
    "amount": ("-1", "0", "0.5", "1", "1.5", "10", "1000000", "1.50", "1.0000000000000000000001", "0.99999999999999999999999",
               "-1.0000000000001", "-0.9999999999999999999", "abc", "1,000", "", None, "-0", "-0.0", "007.50",
               "1000000.0", "999999.9999999999999999", "1" * 60, "-" + "1" * 60 + ".5", ".5", "5."),
    "code": CODES + ("12", "1234", "12a", "١٢٣", "", None, "1%3", "1_3", "0%", "9_9"),
    "flag": ("true", "false", "True", "1", "", None),
    "label": LABELS + (None, "a" * 100, "a%", "a_", "_", "%", "ab\n", "it's", "\\", "a\tb"),
    "price": ("0", "0.5", "10", "99.99", "99.990", "-0", "-0.01", "0010.", "1.", ".5", "", None, "abc", "1e1"),
}
text_accounts = st.fixed_dictionaries({f.name: st.sampled_from(TEXT_VALUES[f.name]) for f in SCHEMA.fields})

TYPED_VALUES = {
    "id": ("A1", "A2", "B7", "", None, "a%b", "x_y"),
    "color": ENUM + ("purple", "", "RED", None),
    "size": (0, 1, 9, 10, 11, 50, 99, 100, 101, -1, -(2**62), 2**62),
    "amount": tuple(Decimal(v) for v in ("-1", "0", "0.5", "1", "1.5", "10", "1000000", "0.9999999999", "1.0000000001",
                                         "-0.0000000001", "999999.9999999999")) + (None,),
    "code": CODES + ("12", "1234", "12a", "١٢٣", "", None, "1%3", "1_3"),
    "flag": (True, False, None),
    "label": LABELS + (None, "a" * 100, "a%", "a_", "%", "it's"),
    "price": tuple(Decimal(v) for v in ("0", "0.5", "10", "99.99", "99.990", "-0.01", "1000000")) + (None,),
}
typed_accounts = st.fixed_dictionaries({f.name: st.sampled_from(TYPED_VALUES[f.name]) for f in SCHEMA.fields})

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def csv_view(account: dict) -> dict:
    """What the CSV reader hands the evaluator: an empty cell is a missing value."""
    return {k: (v or None) for k, v in account.items()}


def assert_same(got: list[tuple], expected: list[tuple], accounts: list[dict]) -> None:
    assert len(got) == len(expected)
    for g, e, a in zip(got, expected, accounts):
        assert g == e, f"account {a}"


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    yield con
    con.close()


@pytest.mark.slow
@SETTINGS
@given(model=models(), batch=st.lists(text_accounts, min_size=1, max_size=30))
def test_duckdb_text_input_equals_the_evaluator(duck, model, batch):
    create_table(duck, "duckdb", model.schema, "accounts", text=True)
    insert(duck, "duckdb", model.schema, "accounts", batch)
    expected = expected_rows(model, [csv_view(a) for a in batch])
    assert_same(run_query(duck, model, "duckdb", "accounts", "text"), expected, batch)
    # the projection `terrl assign --engine duckdb` reads: a coded result (or NULL) and the invalid reason
    from terrl.targets.sql import plan_model

    plan = plan_model(model)
    compact = run_query(duck, model, "duckdb", "accounts", "text", compact=True)
    for (row, key, result, reason), e in zip(compact, expected):
        if result is None:
            got = (row, key, "invalid", "", "", "", reason)
        else:
            status, territories, titles, owners, why = plan.result_of(result)
            got = (row, key, status, ";".join(territories), ";".join(titles), ";".join(owners), why)
        assert got == e


# Wide models (tests/support.py): up to 40 siblings under each policy (large `policy all` overlays),
# code lists of up to hundreds of values, `else`, `keep`, a nested level; accounts that meet the lists.
wide_text_accounts = st.fixed_dictionaries({
    f.name: st.one_of(st.sampled_from(TEXT_VALUES[f.name]), st.sampled_from(ALL_CODES)) if f.name == "code"
    else st.sampled_from(TEXT_VALUES[f.name]) for f in SCHEMA.fields})


@pytest.mark.slow
@SETTINGS
@given(model=wide_models(), batch=st.lists(wide_text_accounts, min_size=1, max_size=40))
def test_duckdb_equals_the_evaluator_on_wide_overlays_and_long_lists(duck, model, batch):
    """Full and compact projections; the lookup tables inline, written row by row by `to_text`
    (`LONG_TABLE`), or created as tables (`external`, as `--engine duckdb` does)."""
    from terrl.targets import sql
    from terrl.targets.sql_engine import _create_lookup_tables

    create_table(duck, "duckdb", model.schema, "wide_accounts", text=True)
    insert(duck, "duckdb", model.schema, "wide_accounts", batch)
    expected = expected_rows(model, [csv_view(a) for a in batch])
    assert_same(run_query(duck, model, "duckdb", "wide_accounts", "text"), expected, batch)
    saved, sql.LONG_TABLE = sql.LONG_TABLE, 3  # every lookup table long
    try:
        assert_same(run_query(duck, model, "duckdb", "wide_accounts", "text"), expected, batch)
        plan = sql.plan_model(model)
        lookups: dict = {}
        query = sql.build_query(model, dialect="duckdb", table="wide_accounts", input_types="text", carry=("row",),
                                compact=True, plan=plan, external=lookups)
    finally:
        sql.LONG_TABLE = saved
    try:
        _create_lookup_tables(duck, lookups)
        got = duck.execute(sql.to_text(query, "duckdb") + ' ORDER BY "row"').fetchall()
    finally:
        for name in lookups:
            duck.execute(f'DROP TABLE IF EXISTS "{name}"')
    assert len(got) == len(expected)
    for (row, key, result, reason), e in zip(got, expected):
        status, territories, titles, owners, why = ("invalid", (), (), (), reason) if result is None \
            else plan.result_of(result)
        assert (row, key, status, ";".join(territories), ";".join(titles), ";".join(owners), why) == e


@pytest.mark.slow
@SETTINGS
@given(model=models(), batch=st.lists(typed_accounts, min_size=1, max_size=30))
def test_duckdb_typed_input_equals_the_evaluator(duck, model, batch):
    create_table(duck, "duckdb", model.schema, "typed_accounts", text=False)
    insert(duck, "duckdb", model.schema, "typed_accounts", batch)
    stored = read_back(duck, model.schema, "typed_accounts")
    assert_same(run_query(duck, model, "duckdb", "typed_accounts", "typed"), expected_rows(model, stored), stored)


@pytest.fixture(scope="module")
def pg():
    dsn = postgres_dsn()
    if dsn is None:
        pytest.skip("no PostgreSQL server: set TERRL_TEST_POSTGRES_DSN (.ci/run starts one on loopback)")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    try:
        con = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at TERRL_TEST_POSTGRES_DSN is not reachable: {exc}")
    cursor = con.cursor()
    schema = worker_schema_name("differential")  # the table names below are fixed; the schema is this process's
    cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    cursor.execute(f"CREATE SCHEMA {schema}")
    cursor.execute(f"SET search_path TO {schema}")
    yield cursor
    cursor.execute(f"DROP SCHEMA {schema} CASCADE")
    con.close()


@pytest.mark.postgres
@SETTINGS
@given(model=models(), batch=st.lists(typed_accounts, min_size=1, max_size=30))
def test_postgres_typed_input_equals_the_evaluator(pg, model, batch):
    create_table(pg, "postgres", model.schema, "terrl_test_accounts", text=False)
    insert(pg, "postgres", model.schema, "terrl_test_accounts", batch)
    stored = read_back(pg, model.schema, "terrl_test_accounts")
    assert_same(run_query(pg, model, "postgres", "terrl_test_accounts", "typed"), expected_rows(model, stored), stored)


@pytest.fixture(scope="module")
def spark():
    session = spark_session()  # skips, saying how, without pyspark
    yield session
    session.stop()


@pytest.mark.spark
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=models(), batch=st.lists(typed_accounts, min_size=1, max_size=40))
def test_spark_typed_input_equals_the_evaluator(spark, model, batch):
    stored = spark_table(spark, model.schema, "terrl_test_accounts", batch)
    assert_same(run_spark(spark, model, "terrl_test_accounts"), expected_rows(model, stored), stored)
