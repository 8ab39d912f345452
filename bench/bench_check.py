"""Benchmark of `terrl check`'s coverage analysis, printed as tables.

Inputs come from bench/generators.py (seeded, shared with the other benches):

1. The ZIP-aligned US model (region > state > real ZIP prefixes > segment, from the
   `zipcodes` package) with 1,000 and 3,000 leaves and 3 planted mistakes. Timed end
   to end (`pipeline.check_source`: parse, resolve, analyze). Target: well under 2 s.
2. Flat DMN-style tables like Calvanese et al. (BPM 2016 / Information Systems 2018):
   500 / 1,000 / 1,500 sibling rules over 3..15 int fields, a random recursive
   partition of the space with ~10% of the rules widened, shrunk or stripped of a
   condition. The analysis (`coverage.analyze` on the resolved
   model) is compared with their published times (1,500 rules: 13 s overlaps / 18 s
   missing rules at 7 fields, 196 s / 705 s at 15 fields; target 10x faster) and with a
   naive baseline run here: every pair of boxes tested for intersection (exact for
   boxes) plus random sampling for gaps (not exact: it may miss a gap).

3. Big flat files (`--memory 20000,50000,190000`): N sibling territories on one int field
   (`flat_siblings_model`, ~40 bytes a territory, so 190,000 fit under the 8 MB file
   limit), each size checked by `python -m terrl check` in a fresh process: seconds and
   peak RSS.

Run: `python bench/bench_check.py` (add `--quick` for fewer shapes). No test asserts
these times.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generators  # noqa: E402  (the team's seeded models: bench/generators.py)
from terrl.analysis import coverage
from terrl.pipeline import check_source  # noqa: E402

# Calvanese et al., Information Systems 2018, 1,500 rules (seconds): overlaps, missing rules.
PUBLISHED = {7: (13.0, 18.0), 15: (196.0, 705.0)}
DOMAIN_LO, DOMAIN_HI = generators.DMN_DOMAIN  # every flat-table field is `int in 0..999`


def naive_baseline(boxes, samples: int, seed: int) -> tuple[int, bool]:
    """Pairwise box intersection (exact for boxes) and random sampling for a gap (may miss)."""
    n = len(boxes)
    overlaps = 0
    for i in range(n):
        a = boxes[i]
        for j in range(i + 1, n):
            b = boxes[j]
            for (alo, ahi), (blo, bhi) in zip(a, b):
                if ahi < blo or bhi < alo:
                    break
            else:
                overlaps += 1
    rng = random.Random(seed)
    fields = len(boxes[0])
    gap = False
    for _ in range(samples):
        point = [rng.randint(DOMAIN_LO, DOMAIN_HI) for _ in range(fields)]
        if not any(all(lo <= x <= hi for x, (lo, hi) in zip(point, box)) for box in boxes):
            gap = True
            break
    return overlaps, gap


# --- running ----------------------------------------------------------------------------

def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def bench_zip(sizes=(1000, 3000)) -> None:
    print("## ZIP-aligned model (bench/generators.py, 3 planted mistakes)\n")
    print("| leaves | territories | lines | check end to end (s) | parse+resolve (s) | analysis (s) | findings |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for leaves in sizes:
        text = generators.zip_model(leaves, seed=0, defects=3)
        result, total = timed(check_source, text, "zip.terr")
        resolved, front = timed(check_source, text, "zip.terr", stop_after="resolve")
        _, analysis = timed(coverage.analyze, resolved.models[0])
        codes: dict[str, int] = {}
        for d in result.diagnostics:
            codes[d.code] = codes.get(d.code, 0) + 1
        model = result.models[0]
        n_leaves = sum(1 for t in model.walk() if t.is_leaf)
        n_all = sum(1 for _ in model.walk())
        print(f"| {n_leaves} | {n_all} | {text.count(chr(10))} | {total:.2f} | {front:.2f} | {analysis:.2f} | "
              f"{', '.join(f'{c}×{n}' for c, n in sorted(codes.items()))} |")
        sys.stdout.flush()
    print()


def bench_flat(shapes, baseline_samples: int) -> None:
    print("## Flat DMN-style tables (policy unique; overlaps and gaps)\n")
    print("| rules | fields | overlapping pairs | gap | analysis (s) | published overlaps / missing (s) "
          "| speed-up vs published | naive baseline (s) | naive / terrl |")
    print("|---:|---:|---:|:-:|---:|---:|---:|---:|---:|")
    for rules, fields in shapes:
        table = generators.dmn_table(rules, fields, seed=0)
        text = generators.render_dmn_model(table)
        model = check_source(text, "table.terr", stop_after="resolve").models[0]
        findings, t = timed(coverage.analyze, model)
        # Listed pairs, plus those past the 50 listed per parent (each listed pair carries the count).
        overlaps = sum(d.code == "E201" for d in findings)
        overlaps += max((d.extra.get("unlisted_overlaps", 0) for d in findings if d.code == "E201"), default=0)
        gap = any(d.code == "E202" for d in findings)
        assert not any(d.code == "E901" for d in findings), findings
        (naive_pairs, naive_gap), tn = timed(naive_baseline, table.rules, baseline_samples, seed=1)
        assert naive_pairs == overlaps, (naive_pairs, overlaps)  # the baseline is exact for overlaps
        pub = PUBLISHED.get(fields) if rules == 1500 else None
        pub_text = f"{pub[0]:.0f} / {pub[1]:.0f}" if pub else "–"
        speed = f"{min(pub) / t:.0f}x" if pub else "–"
        print(f"| {rules} | {fields} | {overlaps} | {'yes' if gap else 'no'} | {t:.2f} | {pub_text} | {speed} "
              f"| {tn:.2f}{'' if naive_gap == gap else ' (missed the gap)'} | {tn / t:.1f}x |")
        sys.stdout.flush()
    print()


def flat_siblings_model(territories: int) -> str:
    """A clean flat model: one territory per value of `code` (no gaps, no overlaps)."""
    lines = ["schema Row {", "  id: string key", f"  code: int in 0..{territories - 1}", "}", "",
             f'model Flat "{territories} siblings" {{', "  policy unique"]
    lines += [f"  territory t{i} {{ where code == {i} }}" for i in range(territories)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def bench_memory(sizes) -> None:
    print("## Big flat files (`terrl check` in a fresh process)\n")
    print("| territories | file (MB) | seconds | peak RSS (MB) | exit | first line of output |")
    print("|---:|---:|---:|---:|---:|---|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "flat.terr"
            path.write_text(flat_siblings_model(n), encoding="utf-8")
            start = time.perf_counter()
            # a wrapper process reports its child's peak RSS (ru_maxrss of RUSAGE_CHILDREN is the max over all)
            run = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True)
            seconds = time.perf_counter() - start
            code, rss, first = run.stdout.split("\t", 2) if run.stdout.count("\t") >= 2 else ("?", "0", run.stderr[-200:])
            print(f"| {n:,} | {path.stat().st_size / 1e6:.1f} | {seconds:.1f} | {int(rss) // 1024} | {code} | "
                  f"{first.strip().splitlines()[0][:90] if first.strip() else ''} |")
            sys.stdout.flush()
    print()


_MEASURE = """
import resource, subprocess, sys
run = subprocess.run([sys.executable, "-m", "terrl", "check", "--format", "concise", "--no-config", sys.argv[1]],
                     capture_output=True, text=True)
out = (run.stdout + run.stderr).strip().splitlines()
print(run.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, out[-1] if out else "", sep="\t")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes")
    parser.add_argument("--samples", type=int, default=2000, help="random points the naive gap search tries")
    parser.add_argument("--memory", metavar="N,N,...", help="only the big flat files, with these territory counts")
    args = parser.parse_args()
    if args.memory:
        bench_memory([int(n) for n in args.memory.split(",")])
        return
    bench_zip()
    if args.quick:
        shapes = [(500, 3), (1500, 7), (1500, 15)]
    else:
        shapes = [(r, f) for r in (500, 1000, 1500) for f in (3, 5, 7, 9, 11, 13, 15)]
    bench_flat(shapes, args.samples)


if __name__ == "__main__":
    main()
