"""Issue 14: the combination diagram of targets/outcome_dd.py on Salesforce-like overlays.

Builds the in-process evaluator (`compile_model`) for `generators.salesforce_model` at
growing sizes, each in a child process under an address-space cap (RLIMIT_AS, default
4 GiB) and a time limit, so the blow-up cannot take a shared machine down. Prints, per
size: build seconds, peak RSS and the outcome (ok / MemoryError / timeout), and the ratio
of build time to the smallest size's build in the same run.

Run: `python bench/bench_salesforce.py [--sizes 16,40,100,700] [--zips 200] [--cap-gb 4] [--timeout 120]`
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.path[:0] = [sys.argv[2], sys.argv[2] + "/bench"]
from generators import salesforce_model
from terrl.pipeline import check_source
from terrl.targets.evaluate import compile_model
text = salesforce_model(int(sys.argv[3]), zips_per_leaf=int(sys.argv[4]))
checked = check_source(text, "sf.terr", stop_after="resolve")
assert checked.ok, [d for d in checked.diagnostics if d.severity == "error"][:3]
model = next(iter(checked.programs.values())).models[0]
t = time.perf_counter()
status = "ok"
try:
    compile_model(model)
except MemoryError:
    status = "MemoryError"
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": status, "seconds": seconds, "peak_mb": peak, "bytes": len(text)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="16,40,100,700")
    ap.add_argument("--zips", type=int, default=200)
    ap.add_argument("--cap-gb", type=float, default=4.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    base = None
    print(f"{'territories':>11} {'source KB':>9} {'build s':>8} {'x smallest':>10} {'peak MB':>8}  outcome")
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, "-c", CHILD, str(int(args.cap_gb * 2**30)), str(ROOT), str(size), str(args.zips)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{size:>11} {'':>9} {'>' + str(int(args.timeout)):>8} {'':>10} {'':>8}  timeout")
            continue
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            tail = (out.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{size:>11} {'':>9} {'':>8} {'':>10} {'':>8}  failed: {tail}")
            continue
        r = json.loads(lines[-1])
        base = base or r["seconds"]
        print(f"{size:>11} {r['bytes'] / 1024:>9.0f} {r['seconds']:>8.2f} {r['seconds'] / base:>10.1f} "
              f"{r['peak_mb']:>8.0f}  {r['status']}")


if __name__ == "__main__":
    main()
