"""What N201 (the overlaps `policy first` settles, issue 18 item 1) costs `terrl check`'s analysis.

The seeded models of bench/generators.py with `policy unique` rewritten to `policy first`:
the ZIP-aligned US model (few overlaps: its siblings are exclusive) and flat DMN tables
(about 10% of the rules perturbed: many overlapping pairs, so many notes). Each is analyzed
(`coverage.analyze` on the resolved model, CPU seconds, best of `--repeat`) with N201 and,
as the same-run baseline, with the N201 pass switched off.

Run: `python bench/bench_order_notes.py [--repeat 3]`. No test asserts these times.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generators  # noqa: E402
from terrl.analysis import coverage  # noqa: E402
from terrl.pipeline import check_source  # noqa: E402


def analysis_seconds(model, repeat: int) -> tuple[float, int]:
    """Best CPU time of the analysis, and how many N201 notes it gives."""
    best, notes = float("inf"), 0
    for _ in range(repeat):
        coverage._SPACES.last = None  # no diagram reused from the run before
        start = time.process_time()
        found = coverage.analyze(model)
        best = min(best, time.process_time() - start)
        notes = sum(d.code == "N201" for d in found)
    return best, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shapes = [(f"ZIP model, {n:,} leaves", generators.zip_model(n)) for n in (1000, 3000, 10000)]
    # (1,500 rules x 7 fields: 50 notes, 105 s with and 107 s without on 2026-12-02: the `policy first`
    # analysis of a large flat table is slow with or without N201, so it is left out of the default run)
    shapes += [(f"DMN table, {r:,} rules x {f} fields", generators.dmn_model(r, f)) for r, f in ((500, 7),)]
    print(f"{'model (policy first)':36} {'N201 notes':>10} {'with N201 s':>12} {'without s':>10} {'ratio':>6}")
    real_pass = coverage._Analysis._order_decides
    for name, text in shapes:
        model, = check_source(text.replace("policy unique", "policy first"), "bench.terr",
                              stop_after="resolve").models
        coverage._Analysis._order_decides = real_pass
        with_notes, notes = analysis_seconds(model, args.repeat)
        coverage._Analysis._order_decides = lambda self, parent, plain: None  # the baseline: no N201 pass
        without, _ = analysis_seconds(model, args.repeat)
        coverage._Analysis._order_decides = real_pass
        print(f"{name:36} {notes:>10,} {with_notes:>12.2f} {without:>10.2f} {with_notes / without:>6.2f}")


if __name__ == "__main__":
    main()
