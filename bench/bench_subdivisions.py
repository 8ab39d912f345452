"""What a state column read as ISO 3166-2 subdivisions costs (issue 17, item 1), printed as a table.

The ZIP-aligned US model of bench/generators.py is checked twice in fresh processes
(`python -m terrl check`, CPU = user + sys of the child, the least of `--repeat` runs, the two
variants interleaved): as generated (`state: us.UsState?`) and with the same rules over
`state: subdivisions.Subdivision? of country` (`state == CA` written `state == US-CA`; sets such as
`us.west` unchanged). The difference is what the 5,000-member stdlib enum and the subdivision
constraint of the analysis cost. Then the in-process evaluator assigns the same accounts under
both schemas (CPU of `assign_many`, least of 3): what reading a code in its country's context costs
per account.

Run: `python bench/bench_subdivisions.py [--leaves 3000,10000] [--repeat 5] [--accounts 200000]`.
No test asserts these times.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generators import zip_accounts, zip_model  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def subdivision_variant(text: str) -> str:
    """The same rules with `state` read as an ISO 3166-2 subdivision of `country`."""
    text = text.replace("import geo.world\n", "import geo.world\nimport geo.subdivisions\n", 1)
    text = text.replace("state:     us.UsState?", "state:     subdivisions.Subdivision? of country", 1)
    return re.sub(r"state == ([A-Z]{2})\b", r"state == US-\1", text)


def check_cpu(path: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "terrl", "check", str(path)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def assign_cpu(path: Path, accounts: list[dict]) -> float:
    import terrl
    evaluator = terrl.load(path)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in evaluator.assign_many(accounts):
            pass
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", default="3000,10000", help="sizes of the ZIP-aligned model")
    parser.add_argument("--repeat", type=int, default=5, help="fresh `terrl check` runs per variant (least CPU)")
    parser.add_argument("--accounts", type=int, default=200_000, help="accounts assigned in process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("| model | `state: us.UsState?` check CPU (s) | `state: subdivisions.Subdivision? of country` check CPU (s) | difference |")
        print("|---|---:|---:|---:|")
        files = {}
        for leaves in (int(n) for n in args.leaves.split(",")):
            plain = zip_model(leaves)
            paths = (Path(tmp, f"plain_{leaves}.terr"), Path(tmp, f"sub_{leaves}.terr"))
            paths[0].write_text(plain, encoding="utf-8")
            paths[1].write_text(subdivision_variant(plain), encoding="utf-8")
            files[leaves] = paths
            best = [float("inf"), float("inf")]
            for _ in range(args.repeat):
                for i, path in enumerate(paths):
                    best[i] = min(best[i], check_cpu(path))
            print(f"| ZIP-aligned, {leaves:,} leaves | {best[0]:.2f} | {best[1]:.2f} | {best[1] - best[0]:+.2f} |")
        leaves = min(files)
        accounts = list(zip_accounts(args.accounts))
        plain_cpu, sub_cpu = (assign_cpu(path, accounts) for path in files[leaves])
        print()
        print(f"| evaluator, {args.accounts:,} accounts, {leaves:,}-leaf model | `us.UsState?` | `Subdivision? of country` |")
        print("|---|---:|---:|")
        print(f"| `assign_many` CPU (s) | {plain_cpu:.2f} | {sub_cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
