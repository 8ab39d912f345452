"""Issue 14, end to end: `terrl assign` on a 1M-row CSV against the bare field-read loop, in one run.

For each ZIP-aligned model size (`generators.zip_model`, 10 → 10,000 leaves), one child
process per run, CPU (user + sys) and wall seconds, medians of `--runs`:

- **floor**: a bare `csv.DictReader` loop reading the same seven fields (what any Python
  tool must at least pay to read the file);
- **terrl --engine python**: `terrl assign MODEL ACCOUNTS -o OUT` (read, validate, assign,
  write the result CSV);
- **terrl --engine duckdb**: the same through the SQL target on embedded DuckDB (byte-identical
  output; compared once per size);
- **hand-written DuckDB query**: what an analyst would write for this model: read the CSV with
  DuckDB, range-join a table of the model's ZIP ranges (`zip in "A".."B"`, `startswith`),
  and write `id,territory` with `COPY ... TO` (no validation, no segments: a lower bound).

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


HAND = r"""
import re, sys, duckdb
model, accounts, out = sys.argv[1:4]
ranges, stack = [], []
for line in open(model, encoding="utf-8"):
    m = re.match(r'( *)territory (\w+)', line)
    if m:
        depth = len(m.group(1)) // 2
        del stack[depth - 1:]
        stack.append(m.group(2))
    m = re.search(r'where zip in "(\d{5})".."(\d{5})"', line) or re.search(r'where zip startswith "(\d+)"()', line)
    if m:
        lo, hi = m.group(1), m.group(2) or (m.group(1) + "9" * 5)[:5]
        ranges.append((lo.ljust(5, "0"), hi, ".".join(stack)))
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE zip_ranges (lo VARCHAR, hi VARCHAR, territory VARCHAR)")
con.executemany("INSERT INTO zip_ranges VALUES (?, ?, ?)", ranges)
con.execute(f"COPY (SELECT a.id, z.territory FROM read_csv('{accounts}', all_varchar = true, header = true) AS a "
            f"LEFT JOIN zip_ranges AS z ON a.zip BETWEEN z.lo AND z.hi) TO '{out}' (HEADER, DELIMITER ',')")
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
    ap.add_argument("--no-python", action="store_true", help="skip the Python engine (and its floor comparison)")
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
              f"{'duckdb CPU s':>12} {'x floor':>7} {'wall s':>7}  same bytes | {'hand CPU s':>10} {'wall s':>7} "
              f"{'duckdb/hand CPU':>15}")
        first = None
        for leaves in (int(s) for s in args.sizes.split(",")):
            model = Path(tmp) / f"zip{leaves}.terr"
            model.write_text(zip_model(leaves), encoding="utf-8")
            out_py, out_db = Path(tmp) / "py.csv", Path(tmp) / "db.csv"
            py_cpu, py_wall = median_of(1 if args.no_python else args.runs,
                                        [*terrl, "assign", str(model), str(accounts), "-o", str(out_py)])
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
                    line += f"{db_cpu:>12.2f} {db_cpu / floor_cpu:>7.2f} {db_wall:>7.2f}  {same:>10}"
                    hand_cpu, hand_wall = median_of(args.runs, [sys.executable, "-c", HAND, str(model), str(accounts),
                                                                str(Path(tmp) / "hand.csv")])
                    line += f" | {hand_cpu:>10.2f} {hand_wall:>7.2f} {db_cpu / hand_cpu:>15.2f}"
                except subprocess.CalledProcessError:
                    line += f"{'failed':>12}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
