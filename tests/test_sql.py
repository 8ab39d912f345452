"""The SQL target: golden SQL per dialect, the SQL run on DuckDB/PostgreSQL for the bundled
examples, `terrl compile --target sql`, `terrl assign --engine duckdb`, and Spark (marked).

Goldens: tests/golden/sql/<example>.<dialect>.sql; regenerate with TERRL_UPDATE_GOLDEN=1
and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot

from terrl.semantics import ir
from terrl.targets import sql
from terrl.targets.evaluate import compile_model, pick_model
from terrl.pipeline import Compilation, check_source

from support import (REPO, check_golden, create_table, expected_rows, insert, postgres_dsn, read_back, run_cli,
                     run_query, run_spark, spark_session, spark_table, worker_schema_name)

GOLDEN = REPO / "tests" / "golden" / "sql"
EXAMPLES = ("acme", "fy28")


def example_model(name: str) -> ir.Model:
    program = Compilation.from_paths([REPO / "examples" / "acme" / f"{name}.terr"]).units[0].program
    return pick_model(program, None)


def acme_accounts(count: int = 400, seed: int = 7) -> list[dict]:
    """CSV-like accounts (text or missing) around the acme models' boundaries, with invalid values."""
    rng = random.Random(seed)
    choices = {
        "id": ["001A000001", "001A000002", "A1", "a%b", "x_y", None],
        "name": ["Acme", "a;b", None],
        "country": ["US", "CA", "FR", "DE", "BR", "JP", "MX", "AU", "XX", None],
        "state": ["CA", "WA", "NY", "TX", "FL", "MA", "IL", "ZZ", None],
        "zip": ["94105", "94000", "93999", "10001", "9410", "94%05", "9_105", "٩٤١٠٥", None],
        "industry": ["software", "healthcare", "finance", "retail", "public_sector", "other", "bank", None],
        "employees": ["0", "999", "1000", "1001", "5000", "-1", "5,000", "10.0", "10.5", " 5", None],
        "revenue": ["0", "499999999.99", "500000000", "500000000.0000001", "499999999.9999999999999", "1E9", "-0.5", None],
    }
    return [{k: rng.choice(v) for k, v in choices.items()} for _ in range(count)]


# --- goldens ---------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", sql.DIALECTS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_golden_sql(example, dialect):
    model = example_model(example)
    text = sql.render_sql(model, f"examples/acme/{example}.terr", dialect=dialect, view="territory_assignment")
    check_golden(GOLDEN / f"{example}.{dialect}.sql", text)  # the SQL holds a literal carriage return (Python's repr of \r)
    # the dialect's own parser reads it back
    statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Create)


def test_no_like_and_no_per_territory_branches():
    """Prefixes are ranges of cells, never LIKE; each territory's path is written once, in its table."""
    model = example_model("fy28")
    text = sql.render_sql(model, "fy28.terr", dialect="duckdb")
    assert " LIKE " not in text.upper()
    for t in model.walk():
        assert text.count(f"'{t.path}'") == 1


# --- the examples on real engines --------------------------------------------------------

def test_one_lookup_join_per_level_of_the_hierarchy():
    """The walk is as deep as the hierarchy: per level one keys table joined to its lookup tables (cells
    by equality, long runs by range), whatever the number of siblings."""
    model = example_model("fy28")
    plan = sql.plan_model(model)
    accounts = acme_accounts(300, seed=21)
    con = duckdb.connect()
    create_table(con, "duckdb", model.schema, "accounts", text=True)
    insert(con, "duckdb", model.schema, "accounts", accounts)
    text = sql.render_sql(model, "fy28.terr")
    assert plan.depth == max(t.path.count(".") for t in model.walk()) + 1
    assert {int(n) for n in re.findall(r'"terrl_keys_(\d+)" AS', text)} == set(range(plan.depth))
    lookups = re.findall(r'JOIN "terrl_(cells|rules)_(\d+)"', text)
    assert {int(d) for _, d in lookups} == set(range(plan.depth)) and len(lookups) <= 2 * plan.depth
    assert run_query(con, model, "duckdb", "accounts", "text") == expected_rows(model, accounts)


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_on_duckdb_text_and_typed(example):
    model = example_model(example)
    accounts = acme_accounts()
    con = duckdb.connect()
    create_table(con, "duckdb", model.schema, "accounts", text=True)
    insert(con, "duckdb", model.schema, "accounts", accounts)
    expected = expected_rows(model, accounts)
    assert run_query(con, model, "duckdb", "accounts", "text") == expected
    statuses = {row[2] for row in expected}
    assert statuses >= {"assigned", "invalid"}
    # typed: the valid rows, as a warehouse would store them
    valid = [a for a, e in zip(accounts, expected) if e[2] != "invalid"]
    create_table(con, "duckdb", model.schema, "typed", text=False)
    insert(con, "duckdb", model.schema, "typed", valid)
    stored = read_back(con, model.schema, "typed")
    assert run_query(con, model, "duckdb", "typed", "typed") == expected_rows(model, stored)


def test_the_golden_view_runs_on_duckdb():
    model = example_model("fy28")
    con = duckdb.connect()
    create_table(con, "duckdb", model.schema, "accounts", text=False)
    accounts = [{"id": "X1", "country": "US", "state": "CA", "zip": "94105", "industry": "software",
                 "employees": 5000, "revenue": Decimal("2000000000")}]
    insert(con, "duckdb", model.schema, "accounts", accounts)
    con.execute((GOLDEN / "fy28.duckdb.sql").read_bytes().decode("utf-8"))
    rows = con.execute('SELECT * FROM "territory_assignment"').fetchall()
    r = compile_model(model).assign(accounts[0])
    assert rows == [(accounts[0]["id"], r.status, ";".join(r.territories), ";".join(r.titles), ";".join(r.owners), r.reason)]
    assert r.status == "assigned"


@pytest.mark.postgres
def test_the_golden_view_runs_on_postgres():
    dsn = postgres_dsn()
    if dsn is None:
        pytest.skip("no PostgreSQL server: set TERRL_TEST_POSTGRES_DSN (.ci/run starts one on loopback)")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    model = example_model("fy28")
    accounts = [a for a in acme_accounts(300, seed=3)]
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as con:
        cur = con.cursor()
        schema = worker_schema_name("golden")
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cur.execute(f"CREATE SCHEMA {schema}")
        cur.execute(f"SET search_path TO {schema}")
        create_table(cur, "postgres", model.schema, "accounts", text=False)
        typed = []
        for a in accounts:  # what a warehouse table holds: typed values; invalid enum and digits text stays
            b = dict(a)
            for name in ("employees", "revenue"):
                try:
                    b[name] = None if b[name] is None else Decimal(b[name])
                except ArithmeticError:
                    b[name] = None
            b["employees"] = None if b["employees"] is None or b["employees"] != int(b["employees"]) else int(b["employees"])
            typed.append(b)
        insert(cur, "postgres", model.schema, "accounts", typed)
        cur.execute((GOLDEN / "fy28.postgres.sql").read_bytes().decode("utf-8"))
        stored = read_back(cur, model.schema, "accounts")
        expected = expected_rows(model, stored)
        cur.execute('SELECT * FROM "territory_assignment"')
        by_view = [tuple(r) for r in cur.fetchall()]
        assert sorted(by_view, key=repr) == sorted((e[1:] for e in expected), key=repr)  # a view has no row order
        assert run_query(cur, model, "postgres", "accounts", "typed") == expected
        assert {e[2] for e in expected} >= {"assigned", "invalid"}
        cur.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.postgres
def test_the_3000_leaf_zip_model_runs_on_postgres(capsys):
    """The 3,000-leaf ZIP model's SQL on PostgreSQL == the Python evaluator, and the size of its plan
    (EXPLAIN nodes; printed: `pytest -s -k 3000_leaf -m postgres`)."""
    dsn = postgres_dsn()
    if dsn is None:
        pytest.skip("no PostgreSQL server: set TERRL_TEST_POSTGRES_DSN (.ci/run starts one on loopback)")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    pytest.importorskip("zipcodes", reason="the ZIP model needs the bench extra (pip install -e '.[bench]')")
    from test_bench_generators import gen

    result = check_source(gen.zip_model(3000), "zip3000.terr", stop_after="resolve", base=REPO)
    model = next(iter(result.programs.values())).models[0]
    accounts = list(gen.zip_accounts(2000, seed=4))
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as con:
        cur = con.cursor()
        schema = worker_schema_name("zip3000")
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cur.execute(f"CREATE SCHEMA {schema}")
        cur.execute(f"SET search_path TO {schema}")
        create_table(cur, "postgres", model.schema, "accounts", text=False)
        insert(cur, "postgres", model.schema, "accounts", accounts)
        stored = read_back(cur, model.schema, "accounts")
        assert run_query(cur, model, "postgres", "accounts", "typed") == expected_rows(model, stored)
        text = sql.to_text(sql.build_query(model, dialect="postgres", table="accounts"), "postgres")
        cur.execute("EXPLAIN (FORMAT JSON) " + text)
        plan = cur.fetchone()[0][0]["Plan"]
        nodes, stack = 0, [plan]
        while stack:
            node = stack.pop()
            nodes += 1
            stack.extend(node.get("Plans", ()))
        cur.execute(f"DROP SCHEMA {schema} CASCADE")
    with capsys.disabled():
        print(f"\n3,000-leaf ZIP model on PostgreSQL: {len(text):,} characters of SQL, {nodes} plan nodes")
    assert nodes < 2000  # the plan follows the query's CTEs (depth of the hierarchy), not the territories


# --- terrl compile --target sql -----------------------------------------------------------

def test_compile_target_sql_cli(tmp_path):
    model_file = str(REPO / "examples" / "acme" / "fy28.terr")
    out = tmp_path / "fy28.sql"
    result = run_cli(["compile", model_file, "--target", "sql", "--dialect", "snowflake",
                                 "--table", "crm.public.accounts", "--view", "sales.assignment", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert 'CREATE OR REPLACE VIEW "sales"."assignment" AS' in text
    assert 'FROM "crm"."public"."accounts"' in text
    result = run_cli(["compile", model_file, "--target", "sql"])
    assert result.exit_code == 0 and "dialect duckdb" in result.output and "CREATE" not in result.output
    result = run_cli(["compile", model_file, "--target", "python", "--dialect", "postgres"])
    assert result.exit_code == 2 and "apply to `--target sql` only" in result.output
    result = run_cli(["compile", model_file, "--target", "sql", "--table", "a..b"])
    assert result.exit_code == 2 and "is not a table name" in result.output


def test_identifiers_and_strings_are_quoted(tmp_path):
    """Field names that are SQL keywords or hold quotes, titles with quotes: quoted, never spliced."""
    schema = ir.Schema("A", (ir.Field("select", ir.FieldType("string"), key=True),
                             ir.Field('we"ird', ir.FieldType("enum", members=("a", "b'c"))),))
    t1 = ir.Territory("t1", "t1", "it's \"odd\"; DROP TABLE x; --", ir.Compare('we"ird', "==", "b'c"), False, "unique", False)
    t2 = ir.Territory("t2", "t2", None, None, True, "unique", False)
    model = ir.Model("M", None, schema, None, "unique", False, (t1, t2))
    con = duckdb.connect()
    con.execute('CREATE TABLE "order" ("row" INTEGER, "select" VARCHAR, "we""ird" VARCHAR)')
    accounts = [{"select": "k1", 'we"ird': "b'c"}, {"select": "k2", 'we"ird': "a"}, {"select": "k3", 'we"ird': "z"}]
    insert(con, "duckdb", schema, "order", accounts)
    assert run_query(con, model, "duckdb", "order", "typed") == expected_rows(model, accounts)
    for dialect in sql.DIALECTS:
        sqlglot.parse(sql.render_sql(model, "x.terr", dialect=dialect, table="order"), read=dialect)


# --- terrl assign --engine duckdb ---------------------------------------------------------

def write_csv(path: Path, accounts: list[dict], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for a in accounts:
            writer.writerow(["" if a.get(c) is None else a[c] for c in columns])


@pytest.mark.parametrize("out_name", ["out.csv", "out.jsonl"])
def test_assign_engine_duckdb_writes_what_the_python_engine_writes(tmp_path, out_name):
    model_file = str(REPO / "examples" / "acme" / "fy28.terr")
    columns = ["id", "name", "country", "state", "zip", "industry", "employees", "revenue", "extra"]
    source = tmp_path / "accounts.csv"
    write_csv(source, acme_accounts(2000, seed=11), columns)
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}-{out_name}"
        result = run_cli(["assign", model_file, str(source), "-o", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs[engine] = (out.read_bytes(), result.output.splitlines()[-1].split(" -> ")[0])
    assert outputs["duckdb"] == outputs["python"]
    assert b"invalid" in outputs["python"][0] and b"assigned" in outputs["python"][0]


def tricky_accounts(count: int, seed: int) -> list[dict]:
    """acme accounts plus text that CSV must quote (commas, quotes, line breaks) and keys that trip LIKE."""
    rng = random.Random(seed)
    names = ["Acme, Inc.", 'say "hi"', "two\nlines", "crlf\r\ninside", "a;b", "", None, "trailing,", "é ✓"]
    accounts = acme_accounts(count, seed)
    for a in accounts:
        a["name"] = rng.choice(names)
        if rng.random() < 0.05:
            a["id"] = rng.choice(["id, with comma", 'q"uote', "line\nbreak", "001A000001"])
    return accounts


def run_both_engines(tmp_path: Path, model_file: str, source: Path, out_name: str) -> dict[str, tuple[bytes, str]]:
    """(output file bytes, stderr) per engine; both must exit 0."""
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}-{out_name}"
        result = run_cli(["assign", model_file, str(source), "-o", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs[engine] = (out.read_bytes(), result.output.replace(str(out), "OUT"))
    return outputs


@pytest.mark.parametrize("out_name", ["out.csv", "out.jsonl"])
def test_assign_engine_duckdb_keeps_every_row_of_a_tricky_csv(tmp_path, out_name):
    """BOM, CRLF, blank lines, quoted commas/quotes/line breaks, invalid numbers, missing optional
    values: every data row gives one result, numbered in order, and both engines write the same bytes."""
    model_file = str(REPO / "examples" / "acme" / "fy28.terr")
    columns = ["id", "name", "country", "state", "zip", "industry", "employees", "revenue"]
    accounts = tricky_accounts(3000, seed=17)
    rng = random.Random(4)
    lines = [",".join(columns)]
    blank = 0
    for a in accounts:
        cells = []
        for c in columns:
            v = a.get(c)
            if v is None:
                cells.append(rng.choice(["", '""']))  # both spell a missing value
            elif any(ch in v for ch in ',"\r\n') or rng.random() < 0.1:
                cells.append('"' + v.replace('"', '""') + '"')
            else:
                cells.append(v)
        lines.append(",".join(cells))
        if rng.random() < 0.02:
            lines.append("")
            blank += 1
    source = tmp_path / "accounts.csv"
    source.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    outputs = run_both_engines(tmp_path, model_file, source, out_name)
    assert outputs["duckdb"] == outputs["python"]
    data, summary = outputs["duckdb"]
    results = data.decode("utf-8")
    if out_name.endswith(".jsonl"):
        rows = [json.loads(line)["row"] for line in results.splitlines()]
    else:
        rows = [int(r[0]) for r in list(csv.reader(io.StringIO(results, newline="")))[1:]]
    assert rows == list(range(1, len(accounts) + 1))  # rows in = rows out, in input order
    assert f"{len(accounts)} accounts:" in summary and f"; {blank} blank lines skipped" in summary and blank > 10
    statuses = {json.loads(line)["status"] for line in results.splitlines()} if out_name.endswith(".jsonl") else \
        {r[2] for r in list(csv.reader(io.StringIO(results, newline="")))[1:]}
    assert statuses >= {"assigned", "invalid"}


def json_typed(account: dict, rng: random.Random) -> dict:
    """An account as a JSON exporter might write it: numbers as numbers or text, missing keys, nulls."""
    out = {}
    for name, value in account.items():
        if value is None and rng.random() < 0.5:
            continue  # a missing key is a missing value too
        if name in ("employees", "revenue") and value is not None and rng.random() < 0.6:
            try:
                value = int(value) if name == "employees" else Decimal(value)
            except (ValueError, ArithmeticError):
                pass
        out[name] = value
    return out


@pytest.mark.parametrize("out_name", ["out.jsonl", "out.csv"])
def test_assign_engine_duckdb_on_json_lines_writes_what_the_python_engine_writes(tmp_path, out_name):
    model_file = str(REPO / "examples" / "acme" / "fy28.terr")
    rng = random.Random(8)
    accounts = tricky_accounts(2500, seed=23)
    lines = []
    for a in accounts:
        obj = json_typed(a, rng)
        ascii_only = rng.random() < 0.5
        lines.append("{" + ", ".join(f"{json.dumps(k)}: {v if isinstance(v, Decimal) else json.dumps(v, ensure_ascii=ascii_only)}"
                                     for k, v in obj.items()) + "}")  # Decimals as JSON numbers, digits kept
        if rng.random() < 0.02:
            lines.append(rng.choice(["", "   "]))
    # typed values the rules treat apart from text: exact decimals, "" (missing, as everywhere), booleans, lists, bad lines
    lines += ['{"id": "", "country": "US", "state": "CA", "zip": "94105", "industry": "software", "employees": 999,'
              ' "revenue": 499999999.99999999999999999}',
              '{"id": "D1", "country": "US", "state": "CA", "zip": "94105", "industry": "software", "employees": 1e3,'
              ' "revenue": 5E8}',
              '{"id": 7, "country": "US", "industry": "software", "employees": true, "revenue": [1]}',
              '{"id": "D2", "name": "\\ud800", "country": "CA", "industry": "retail", "employees": 10.0, "revenue": 0}',
              "not json", "[1, 2]", '"text"']
    source = tmp_path / "accounts.jsonl"
    source.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))
    outputs = run_both_engines(tmp_path, model_file, source, out_name)
    assert outputs["duckdb"] == outputs["python"]
    data = outputs["duckdb"][0].decode("utf-8")
    count = sum(1 for line in lines if line.strip())
    if out_name.endswith(".jsonl"):
        results = [json.loads(line) for line in data.splitlines()]
        assert [r["row"] for r in results] == list(range(1, count + 1))
        assert results[-7]["status"] == "invalid" and results[-7]["key"] == ""  # "" is missing: `id` is required
        assert results[-7]["reason"] == "missing required field `id`"
        assert results[-6]["territories"] == ["na.west.west_ent"]  # 1e3 employees: enterprise
    else:
        assert len(list(csv.reader(io.StringIO(data, newline="")))) == count + 1


def test_assign_engine_duckdb_reads_parquet_as_text(tmp_path):
    model_file = str(REPO / "examples" / "acme" / "fy28.terr")
    accounts = acme_accounts(300, seed=5)
    source = tmp_path / "accounts.csv"
    write_csv(source, accounts, ["id", "country", "state", "zip", "industry", "employees", "revenue"])
    parquet = tmp_path / "accounts.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{source}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)")
    by_csv = run_cli(["assign", model_file, str(source), "--engine", "python"])
    by_parquet = run_cli(["assign", model_file, str(parquet), "--engine", "duckdb"])
    assert by_parquet.exit_code == 0, by_parquet.output
    # CliRunner mixes stderr in: the warning (naming the file) and the summary agree too
    assert by_parquet.output.replace("accounts.parquet", "accounts.csv") == by_csv.output


def test_assign_engine_duckdb_errors(tmp_path):
    model_file = str(REPO / "examples" / "acme" / "fy28.terr")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,country,industry,employees,revenue\nA,US,software,1,1\nB,US,software\n", encoding="utf-8")
    result = run_cli(["assign", model_file, str(ragged), "--engine", "duckdb"])
    assert result.exit_code == 0 and "ragged row: 3 cells where the header has 5" in result.output  # tests/test_sql_engine.py
    missing = tmp_path / "missing.csv"
    missing.write_text("id,country\nA,US\n", encoding="utf-8")
    result = run_cli(["assign", model_file, str(missing), "--engine", "duckdb"])
    assert result.exit_code == 2 and "missing required column(s)" in result.output
    result = run_cli(["assign", model_file, "-", "--engine", "duckdb"], input="id,country\nA,US\n")
    assert result.exit_code == 2 and "not standard input" in result.output
    result = run_cli(["assign", model_file, str(missing), "--engine", "duckdb", "--explain"])
    assert result.exit_code == 2 and "--engine python" in result.output


# --- Spark (pip install pyspark && python -m pytest -m spark tests/test_sql*.py) ---------------

@pytest.fixture(scope="module")
def spark():
    session = spark_session()  # skips, saying how, without pyspark
    yield session
    session.stop()


def warehouse_typed(account: dict) -> dict:
    """An acme account as a warehouse table holds it: numbers that parse (10 fractional digits), else NULL."""
    typed = dict(account)
    try:
        typed["employees"] = None if account["employees"] is None else int(account["employees"])
    except ValueError:
        typed["employees"] = None
    try:
        typed["revenue"] = None if account["revenue"] is None else Decimal(account["revenue"]).quantize(Decimal("1E-10"))
    except ArithmeticError:
        typed["revenue"] = None
    return typed


@pytest.mark.spark
@pytest.mark.parametrize("example", EXAMPLES)
def test_spark_dialect_on_local_pyspark(spark, example):
    """The examples (policy first/unique, else, keep, named accounts) on Spark == the evaluator, row by row."""
    model = example_model(example)
    boundaries = [{"id": "B1", "country": "US", "state": "CA", "zip": "94105", "industry": "software",
                   "employees": e, "revenue": r, "name": None}
                  for e in ("999", "1000") for r in ("499999999.9999999999", "500000000", "500000000.0000000001")]
    accounts = [warehouse_typed(a) for a in acme_accounts(300, seed=9) + boundaries]
    stored = spark_table(spark, model.schema, "accounts", accounts)
    expected = expected_rows(model, stored)
    assert run_spark(spark, model, "accounts") == expected
    assert {e[2] for e in expected} >= {"assigned", "invalid"}
    assert any(e[6] and "is below the lower bound" in e[6] for e in expected)  # -1 employees


@pytest.mark.spark
def test_spark_quotes_identifiers_and_strings(spark):
    """Backticks in field names, quotes and backslashes in strings: quoted by the spark dialect, never spliced."""
    schema = ir.Schema("A", (ir.Field("select", ir.FieldType("string"), key=True),
                             ir.Field('we"ird', ir.FieldType("enum", members=("a", "b'c", "d\\e"))),
                             ir.Field("back`tick", ir.FieldType("string"), optional=True)))
    t1 = ir.Territory("t1", "t1", "it's \"odd\"; back\\slash --", ir.Compare('we"ird', "==", "b'c"), False, "all", False)
    t2 = ir.Territory("t2", "t2", None, ir.StartsWith("back`tick", "a%"), False, "all", False, (ir.Owner("o@x"),))
    model = ir.Model("M", None, schema, None, "all", True, (t1, t2))
    accounts = [{"select": "k1", 'we"ird': "b'c", "back`tick": "a%b"}, {"select": "k2", 'we"ird': "a", "back`tick": "ab"},
                {"select": "k3", 'we"ird': "z"}, {"select": "k4", 'we"ird': "d\\e", "back`tick": None},
                {"select": None, 'we"ird': "b'c", "back`tick": "a%"}]
    stored = spark_table(spark, schema, "odd", accounts)
    got = run_spark(spark, model, "odd")
    assert got == expected_rows(model, stored)
    assert [g[2] for g in got] == ["assigned", "unassigned", "invalid", "unassigned", "invalid"]
    assert got[0][3] == "t1;t2"  # policy all: both territories, joined as in the CSV result


# --- `terrl compile --target sql --input text` (issue 17, item 7) ------------------------------

MESSY_ROWS = [
    ("A1", "Acme", "US", "CA", "94105", "software", "5000", "2000000000"),
    ("A2", "", "US", "", "", "retail", "12", "1000.50"),
    ("A3", "Beta", "DE", "", "10115", "finance", "1,200", "10"),  # not a number
    ("A4", "Gamma", "USA", "CA", "94105", "software", "10", "10"),  # not a member
    ("A5", "Delta", "CA", "", "", "healthcare", "", "5"),  # employees missing
    ("A6", "Eps", "US", "NY", "1000", "software", "999", "999999999.99"),  # 4-digit zip
    ("A7", "Zeta", "US", "WA", "98101", "other", "1000", "abc"),
]


def test_text_input_sql_assigns_like_the_python_engine(tmp_path):
    """A table of text columns, as a CSV loads, assigned by the compiled SQL (`--input text`)
    gives the strict Python engine's results row for row: statuses, territories and reasons
    (the SQL target does no clean-up and gives no did-you-mean: `compile_model(cleanup=(), hints=False)`)."""
    header = ("id", "name", "country", "state", "zip", "industry", "employees", "revenue")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("\n".join(",".join(f'"{c}"' for c in row) for row in [header, *MESSY_ROWS]) + "\n")
    model = str(REPO / "examples" / "acme" / "fy28.terr")
    result = run_cli(["compile", model, "--target", "sql", "--input", "text", "-o", str(tmp_path / "q.sql")])
    assert result.exit_code == 0, result.output
    evaluator = compile_model(pick_model(Compilation.from_paths([Path(model)]).units[0].program, None), cleanup=(), hints=False)
    with open(accounts, newline="", encoding="utf-8") as f:
        rows = [{k: v or None for k, v in r.items()} for r in csv.DictReader(f)]
    expected = [(r["id"], a.status, ";".join(a.territories), a.reason) for r, a in zip(rows, map(evaluator.assign, rows))]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE accounts AS SELECT * FROM read_csv('{accounts}', all_varchar = true, header = true)")
    got = [(key, status, territories or "", reason) for key, status, territories, _, _, reason
           in con.execute((tmp_path / "q.sql").read_text()).fetchall()]
    assert sorted(got) == sorted(expected)
    assert {status for _, status, _, _ in got} == {"assigned", "invalid"}


def test_text_input_is_refused_for_dialects_without_the_parsing_functions():
    model = str(REPO / "examples" / "acme" / "fy28.terr")
    result = run_cli(["compile", model, "--target", "sql", "--input", "text", "--dialect", "postgres"])
    assert result.exit_code == 2 and "use `--dialect duckdb`" in result.output
    result = run_cli(["compile", model, "--target", "python", "--input", "text"])
    assert result.exit_code == 2 and "apply to `--target sql` only" in result.output


def test_the_header_names_the_least_scale_of_decimal_columns():
    from terrl.pipeline import check_source

    checked = check_source("""
schema A { id: string key  amount: decimal in 0..  n: int }
model M { territory t { where amount < 12.255 } }
""", stop_after="resolve")
    model = next(iter(checked.programs.values())).models[0]
    types = dict(sql.column_types(model, "duckdb"))
    assert types["amount"].startswith("DECIMAL(38, s), s = the data's fraction digits, at least 3")
    assert dict(sql.column_types(model, "postgres"))["amount"].startswith("NUMERIC")
