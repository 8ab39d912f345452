"""Issue 14, end to end: `terrl assign` on a 1M-row CSV against the bare field-read loop, in one run.

For each ZIP-aligned model size (`generators.zip_model`, 10 → 10,000 leaves), one child
process per run, CPU (user + sys) and wall seconds, medians of `--runs`:

- **floor**: a bare `csv.DictReader` loop reading the same seven fields (what any Python
  tool must at least pay to read the file);
- **terrl --engine python**: `terrl assign MODEL ACCOUNTS -o OUT` (read, validate, assign,
  write the result CSV);
- **terrl --engine duckdb**: the same through the SQL target on embedded DuckDB (byte-identical
  output; compared once per size).

Printed: seconds, each engine's ratio to the floor, and the per-row cost growth from the
smallest size (issue 14's goals: Python engine within 2x of the floor, growth <= 1.2x).

Run: `python bench/bench_assign_e2e.py [--sizes 10,3000,10000] [--rows 1000000] [--runs 3]`
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

FLOOR = r"""
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        row["id"]; row["country"]; row["state"]; row["zip"]; row["industry"]; row["employees"]; row["revenue"]
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds)."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system), wall


def median_of(runs: int, cmd: list[str]) -> tuple[float, float]:
    samples = [timed(cmd) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    from generators import write_accounts_csv, zip_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,3000,10000")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-duckdb", action="store_true")
    args = ap.parse_args()
    terrl = [sys.executable, "-m", "terrl"] if not Path(sys.executable).with_name("terrl").exists() \
        else [str(Path(sys.executable).with_name("terrl"))]
    with tempfile.TemporaryDirectory() as tmp:
        accounts = Path(tmp) / "accounts.csv"
        write_accounts_csv(str(accounts), args.rows)
        floor_cpu, floor_wall = median_of(args.runs, [sys.executable, "-c", FLOOR, str(accounts)])
        print(f"{args.rows:,} rows; floor (bare csv.DictReader loop): {floor_cpu:.2f} s CPU, {floor_wall:.2f} s wall "
              f"(medians of {args.runs})")
        print(f"{'leaves':>7} | {'python CPU s':>12} {'x floor':>7} {'wall s':>7} {'growth':>6} | "
              f"{'duckdb CPU s':>12} {'x floor':>7} {'wall s':>7}  same bytes")
        first = None
        for leaves in (int(s) for s in args.sizes.split(",")):
            model = Path(tmp) / f"zip{leaves}.terr"
            model.write_text(zip_model(leaves), encoding="utf-8")
            out_py, out_db = Path(tmp) / "py.csv", Path(tmp) / "db.csv"
            py_cpu, py_wall = median_of(args.runs, [*terrl, "assign", str(model), str(accounts), "-o", str(out_py)])
            first = first or py_cpu
            line = (f"{leaves:>7} | {py_cpu:>12.2f} {py_cpu / floor_cpu:>7.2f} {py_wall:>7.2f} "
                    f"{py_cpu / first:>6.2f} | ")
            if args.no_duckdb:
                line += f"{'-':>12} {'':>7} {'':>7}"
            else:
                try:
                    db_cpu, db_wall = median_of(args.runs, [*terrl, "assign", str(model), str(accounts), "-o",
                                                            str(out_db), "--engine", "duckdb"])
                    same = "yes" if filecmp.cmp(out_py, out_db, shallow=False) else "NO"
                    line += f"{db_cpu:>12.2f} {db_cpu / floor_cpu:>7.2f} {db_wall:>7.2f}  {same}"
                except subprocess.CalledProcessError:
                    line += f"{'failed':>12}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
