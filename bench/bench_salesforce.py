"""Issue 14: the evaluator on Salesforce-like overlays (700–2,000 territories under `policy all`).

For each size, in child processes under an address-space cap (RLIMIT_AS) and a time limit so
that a blow-up cannot take a shared machine down:

- **terrl**: from a cold interpreter, `terrl.load(file)` (parse, check, build the plan,
  render and execute the module) then one `assign`; the seconds from launch to the first
  result, the generated module's size (KB, and KB per 1,000 territories), peak RSS;
- **SQL target, same run**: `terrl compile --target sql` for the same model under the same cap
  (`terrl.targets.sql.render_sql`, lookup tables linear in the rules): seconds, the SQL's KB
  and peak RSS. (Until issue 14 the SQL walked one combination diagram of the model, which
  ran out of memory from 400 territories: bench/README.md.)

Goals (issue 14): module < 2 MB per 1,000 territories, first assignment < 3 s from launch,
peak < 500 MB.

Run: `python bench/bench_salesforce.py [--sizes 40,200,700,1000,2000] [--zips 200] [--cap-gb 3] [--timeout 120]`
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TERRL = r"""
import json, resource, sys, time
start = time.perf_counter()
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
import terrl
evaluator = terrl.load(sys.argv[2])
result = evaluator.assign({"id": "A1", "country": "US", "state": "NY", "zip": "10001", "industry": "software",
                           "employees": "150", "revenue": "1000000"})
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "module_bytes": len(evaluator.source.encode()),
                  "territories": len(result.territories)}))
"""

SQL = r"""
import json, resource, sys, time
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from terrl.pipeline import Compilation
from terrl.targets.sql import render_sql
from pathlib import Path
model = Compilation.from_paths([Path(sys.argv[2])]).models[0]
start = time.perf_counter()
status = "ok"
try:
    size = len(render_sql(model, sys.argv[2]).encode())
except MemoryError:
    status, size = "MemoryError", 0
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": status, "seconds": seconds, "peak_mb": peak, "sql_bytes": size}))
"""


def run_child(code: str, cap: int, path: Path, timeout: float) -> dict:
    cmd = [sys.executable, "-c", code, str(cap), str(path)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout >{timeout:.0f} s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:60]}
    return {"status": "ok", **json.loads(lines[-1])}


def main() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from generators import salesforce_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="40,200,700,1000,2000")
    ap.add_argument("--zips", type=int, default=200)
    ap.add_argument("--cap-gb", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    cap = int(args.cap_gb * 2**30)
    print(f"{'territories':>11} {'source KB':>9} | {'terrl: launch->1st s':>20} {'module KB':>9} {'KB/1k terr':>10} "
          f"{'peak MB':>7} | {'SQL build s':>11} {'SQL KB':>7} {'peak MB':>7}  outcome")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"sf{size}.terr"
            text = salesforce_model(size, zips_per_leaf=args.zips)
            path.write_text(text, encoding="utf-8")
            territories = text.count("territory ")
            new = run_child(TERRL, cap, path, args.timeout)
            old = run_child(SQL, cap, path, args.timeout)
            if new["status"] == "ok":
                kb = new["module_bytes"] / 1024
                mine = f"{new['seconds']:>20.2f} {kb:>9.0f} {kb * 1000 / territories:>10.0f} {new['peak_mb']:>7.0f}"
            else:
                mine = f"{new['status']:>50}"
            if old["status"] == "ok" and "seconds" in old:
                theirs = (f"{old['seconds']:>11.2f} {old['sql_bytes'] / 1024:>7.0f} {old['peak_mb']:>7.0f}  "
                          f"{old['status']}")
            else:
                theirs = f"{'':>11} {'':>7} {'':>7}  {old['status']}"
            print(f"{territories:>11} {len(text) / 1024:>9.0f} | {mine} | {theirs}", flush=True)


if __name__ == "__main__":
    main()
