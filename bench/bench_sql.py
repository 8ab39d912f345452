"""Benchmark of the SQL target, printed as tables (no test asserts these times).

1. Territory-count growth: ZIP-aligned models (`generators.zip_model`) of 10 → 10,000
   leaves; the SQL's size and build time, and DuckDB's time over the same accounts
   (read as text, parsed and checked in SQL, assigned, counted inside DuckDB). The cells
   are CASE trees over each field's boundaries (O(log)), the walk one equi-join per
   field: the time per row should barely move with the territory count.
2. Throughput on the 3,000-leaf model: 1,000,000 accounts (10,000,000 with `--full`):
   rows/s through DuckDB (SQL over the CSV, results counted in DuckDB) against the
   in-process Python evaluator (`assign_many` over the same rows as CSV text), in one run.
3. End to end: `terrl assign --engine duckdb` against `--engine python` on the
   1,000,000-row CSV, writing the result CSV (both write the same bytes).

Run: `python bench/bench_sql.py` (`--quick`: smaller inputs, `--full`: add 10,000,000 rows,
`--sections 2`: only some sections). The in-memory Python figure stops at 1,000,000 rows (a
list of 10,000,000 dicts would take ~10 GB); the streamed one reads the CSV as it goes.
Needs the bench extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import duckdb  # noqa: E402
from generators import ACCOUNT_COLUMNS, write_accounts_csv, zip_model  # noqa: E402

from terrl.targets import sql
from terrl.targets.evaluate import compile_model  # noqa: E402
from terrl.pipeline import check_source  # noqa: E402


def load_model(leaves: int):
    result = check_source(zip_model(leaves), f"zip{leaves}.terr", stop_after="resolve", base=ROOT)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert not errors, errors[:3]
    return next(iter(result.programs.values())).models[0]


def text_table(con, csv_path: Path) -> None:
    """`accounts`: the CSV with every column as text (what `--engine duckdb` reads)."""
    con.execute("DROP TABLE IF EXISTS accounts")
    con.execute(f"CREATE TABLE accounts AS SELECT row_number() OVER () AS terrl_row, * "
                f"FROM read_csv('{csv_path}', all_varchar=true, header=true)")


def fixed_seconds(con, model) -> float:
    """DuckDB's cost to parse, bind and plan the query: the same query over an empty table."""
    con.execute("CREATE OR REPLACE TABLE accounts_empty AS SELECT * FROM accounts LIMIT 0")
    query = sql.build_query(model, dialect="duckdb", table="accounts_empty", input_types="text", carry=("terrl_row",))
    start = time.perf_counter()
    con.execute(f"SELECT count(*) FROM ({sql.to_text(query, 'duckdb')}) AS q").fetchone()
    return time.perf_counter() - start


def duckdb_seconds(con, model, repeat: int = 2) -> tuple[float, float, int, int]:
    """(build seconds, best run seconds, SQL characters, assigned rows) for the whole table."""
    start = time.perf_counter()
    query = sql.build_query(model, dialect="duckdb", table="accounts", input_types="text", carry=("terrl_row",))
    text = sql.to_text(query, "duckdb")
    build = time.perf_counter() - start
    counting = f'SELECT count(*), count(*) FILTER (WHERE "status" = \'assigned\') FROM ({text}) AS q'
    best = float("inf")
    assigned = 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows, assigned = con.execute(counting).fetchone()
        best = min(best, time.perf_counter() - start)
    return build, best, len(text), assigned


def python_seconds(model, csv_path: Path, limit: int) -> tuple[float, int]:
    """The in-process evaluator over the CSV's rows as text (as `terrl assign` hands them over), in memory."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = []
        for cells in reader:
            rows.append({name: (cell or None) for name, cell in zip(header, cells)})
            if len(rows) == limit:
                break
    evaluator = compile_model(model)
    start = time.perf_counter()
    assigned = sum(1 for r in evaluator.assign_many(rows) if r.status == "assigned")
    return time.perf_counter() - start, assigned


def python_streamed_seconds(model, csv_path: Path) -> tuple[float, int]:
    """The in-process evaluator reading the CSV as it goes (memory flat; comparable to DuckDB's read + assign)."""
    evaluator = compile_model(model)
    start = time.perf_counter()
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = ({name: (cell or None) for name, cell in zip(header, cells)} for cells in reader)
        assigned = sum(1 for r in evaluator.assign_many(rows) if r.status == "assigned")
    return time.perf_counter() - start, assigned


def growth(tmp: Path, rows: int) -> None:
    print(f"\n1. Territory-count growth: DuckDB over {rows:,} CSV accounts (text, checked in SQL)")
    csv_path = tmp / "growth.csv"
    write_accounts_csv(csv_path, rows, seed=1)
    con = duckdb.connect()
    text_table(con, csv_path)
    print("(fixed: DuckDB parsing and planning the query, measured on an empty table; per row: the rest)")
    print(f"{'leaves':>8} {'SQL chars':>11} {'build s':>8} {'run s':>7} {'fixed s':>8} {'us/row':>7} {'vs 10':>6}")
    base = None
    for leaves in (10, 100, 1000, 10000):
        model = load_model(leaves)
        build, run, size, _ = duckdb_seconds(con, model)
        fixed = fixed_seconds(con, model)
        per_row = max(run - fixed, 0.0) / rows * 1e6
        base = base or per_row
        print(f"{leaves:>8,} {size:>11,} {build:>8.2f} {run:>7.2f} {fixed:>8.2f} {per_row:>7.2f} {per_row / base:>5.2f}x")


def throughput(tmp: Path, sizes: list[int], python_rows: int) -> None:
    print("\n2. Throughput on the 3,000-leaf ZIP model: DuckDB (SQL over the CSV) vs in-process Python")
    model = load_model(3000)
    print(f"{'accounts':>11} {'engine':>8} {'seconds':>8} {'rows/s':>11} {'assigned':>10}")
    for n in sizes:
        csv_path = tmp / f"accounts_{n}.csv"
        write_accounts_csv(csv_path, n, seed=2)
        con = duckdb.connect()
        start = time.perf_counter()
        text_table(con, csv_path)
        load = time.perf_counter() - start
        _, run, _, assigned = duckdb_seconds(con, model, repeat=1)
        con.close()
        print(f"{n:>11,} {'duckdb':>8} {load + run:>8.2f} {n / (load + run):>11,.0f} {assigned:>10,}"
              f"   (read CSV {load:.2f} s + assign {run:.2f} s)")
        seconds, py_assigned = python_streamed_seconds(model, csv_path)
        print(f"{n:>11,} {'python':>8} {seconds:>8.2f} {n / seconds:>11,.0f} {py_assigned:>10,}"
              f"   (read CSV + assign_many, streamed)")
        m = min(n, python_rows)
        seconds, py_assigned = python_seconds(model, csv_path, m)
        print(f"{m:>11,} {'python':>8} {seconds:>8.2f} {m / seconds:>11,.0f} {py_assigned:>10,}"
              f"   (assign_many only, rows already in memory)")
        csv_path.unlink()


def end_to_end(tmp: Path, n: int) -> None:
    print(f"\n3. `terrl assign` end to end, {n:,}-row CSV -> result CSV, 3,000-leaf model")
    model_path = tmp / "zip3000.terr"
    model_path.write_text(zip_model(3000), encoding="utf-8")
    csv_path = tmp / f"e2e_{n}.csv"
    write_accounts_csv(csv_path, n, seed=3)
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp / f"out_{engine}.csv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "terrl", "assign", str(model_path), str(csv_path), "-o", str(out),
                        "--engine", engine, "--no-progress"], check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        outputs[engine] = out.read_bytes()
        print(f"{engine:>8} {seconds:>7.2f} s {n / seconds:>11,.0f} rows/s")
    print("identical output files:", outputs["python"] == outputs["duckdb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--full", action="store_true", help="add 10,000,000 accounts")
    parser.add_argument("--sections", default="123", help="which sections to run (default 123)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"DuckDB {duckdb.__version__}, {duckdb.connect().execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]} threads; columns {', '.join(ACCOUNT_COLUMNS)}")
        rows = 100_000 if args.quick else 1_000_000
        if "1" in args.sections:
            growth(tmp, rows)
        if "2" in args.sections:
            throughput(tmp, [2 * rows if args.quick else rows] + ([10_000_000] if args.full else []), 2 * rows if args.quick else rows)
        if "3" in args.sections:
            end_to_end(tmp, rows)


if __name__ == "__main__":
    main()
