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

4. The table of issue 16 (`--issue`): `terrl check` as a command (a fresh process: start-up,
   parse, resolve, analysis, lint, rendering), medians of `--repeat` runs, CPU and wall
   seconds, on the ZIP-aligned models (3,000 and 10,000 leaves) and flat DMN tables for
   several seeds, beside a same-run peer: `sweep_peer`, a Python port of the sweep of
   Calvanese et al. (overlapping rules and missing rules, dimension by dimension). Its
   answers are checked against terrl's (overlaps exist / how many pairs, a gap exists).
   `--baseline DIR` also runs the `terrl` package found in DIR (another checkout, e.g.
   `git worktree add /tmp/base main`) in the same run, for before/after figures.

5. Hostile sizes (`--hostile`, with `--baseline DIR`): 50,000 flat siblings and 3,000
   siblings that all overlap (4.5 million pairs), `terrl check` as a command: CPU seconds
   and peak RSS of the child (`os.wait4`), and the overlapping pairs reported.

Run: `python bench/bench_check.py` (add `--quick` for fewer shapes), or
`python bench/bench_check.py --issue [--baseline DIR] [--seeds 0,1,2] [--repeat 3]`.
No test asserts these times.
"""

from __future__ import annotations

import argparse
import random
import statistics
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


def overlapping_siblings_model(territories: int) -> str:
    """N siblings that all overlap one another (`a >= i and b <= M - i`): N(N-1)/2 pairs under `policy unique`."""
    top = 100_000
    lines = ["schema Row {", "  id: string key", f"  a: int in 0..{top}", f"  b: int in 0..{top}", "}", "",
             f'model Overlapping "{territories} overlapping siblings" {{']
    lines += [f"  territory t{i} {{ where a >= {i} and b <= {top - i} }}" for i in range(territories)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_measured(path: Path, package_dir: Path | None) -> tuple[float, int, dict]:
    """`python -m terrl check --format json` in a fresh process: (CPU s, peak RSS MB, report) of that child."""
    import json
    import os
    env = dict(os.environ)
    if package_dir is not None:
        env["PYTHONPATH"] = str(package_dir)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        child = subprocess.Popen([sys.executable, "-m", "terrl", "check", "--format", "json", "--no-config", str(path)],
                                 stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=path.parent)  # see run_check
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0  # reaped here
        out.seek(0)
        try:
            report = json.loads(out.read())
        except ValueError:
            report = {"diagnostics": []}
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, report


def bench_hostile(baseline: Path | None, repeat: int) -> None:
    """Issue 16's hostile sizes, `terrl check` as a command, beside the baseline checkout."""
    trees = [("terrl", None)] + ([("baseline", baseline)] if baseline else [])
    print(f"## Hostile sizes (`terrl check` in a fresh process; medians of {repeat} runs)\n")
    print(f"| input | {' | '.join(f'{name}: CPU s, peak RSS MB' for name, _ in trees)} | findings agree |")
    print("|---|" + "---:|" * len(trees) + "---|")
    inputs = [("50,000 flat siblings (`code == i`)", flat_siblings_model(50_000)),
              ("3,000 mutually overlapping siblings", overlapping_siblings_model(3_000))]
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in inputs:
            path = Path(tmp) / "hostile.terr"
            path.write_text(text, encoding="utf-8")
            cells, answers = [], []
            for _, package in trees:
                runs = [run_measured(path, package) for _ in range(repeat)]
                cells.append(f"{_median([r[0] for r in runs]):.2f} s, {max(r[1] for r in runs)} MB")
                answers.append(_findings(runs[0][2]))
            pairs, gap = answers[0]
            agree = "yes" if all(a == answers[0] for a in answers) else f"NO: {answers}"
            print(f"| {name} | {' | '.join(cells)} | {agree} ({pairs:,} overlapping pairs, {'a gap' if gap else 'no gap'}) |")
            sys.stdout.flush()
    print()


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


# --- issue 16: `terrl check` as a command, beside a same-run sweep --------------------------

def sweep_peer(boxes, lo: int = DOMAIN_LO, hi: int = DOMAIN_HI) -> tuple[set[tuple[int, int]], int]:
    """Overlapping pairs and missing-rule regions of a flat table, after Calvanese et al.'s
    sweep (BPM 2016): on each dimension in turn, sweep the rules' interval ends; wherever
    the set of rules covering the sweep line changes, go on with that set to the next
    dimension. On the last one, two or more rules overlap; on any, no rule is a missing
    rule (a gap). A set of rules met again on the same dimension is not swept twice (its
    answer is the same). Boxes are inclusive (lo, hi) per field; returns (pairs, gap regions)."""
    fields = len(boxes[0]) if boxes else 0
    pairs: set[tuple[int, int]] = set()
    gaps = 0
    done: set[tuple[int, frozenset]] = set()

    def sweep(dim: int, rules: list[int]) -> None:
        nonlocal gaps
        events: dict[int, list[tuple[int, int]]] = {lo: [], hi + 1: []}
        for r in rules:
            a, b = boxes[r][dim]
            events.setdefault(a, []).append((1, r))
            events.setdefault(b + 1, []).append((-1, r))
        active: set[int] = set()
        for x in sorted(events):
            if x > hi:
                break
            changes = events[x]
            for sign, r in changes:
                if sign > 0:
                    active.add(r)
                else:
                    active.discard(r)
            if not changes and x != lo:
                continue
            if not active:
                gaps += 1
                continue
            key = (dim, frozenset(active))
            if key in done:
                continue
            done.add(key)
            if dim + 1 < fields:
                sweep(dim + 1, sorted(active))
            elif len(active) > 1:
                ordered = sorted(active)
                for i, a in enumerate(ordered):
                    for b in ordered[i + 1:]:
                        pairs.add((a, b))

    if fields:
        sweep(0, list(range(len(boxes))))
    return pairs, gaps


def run_check(path: Path, package_dir: Path | None) -> tuple[float, float, int, dict]:
    """`python -m terrl check --format json` in a fresh process: (CPU s, wall s, exit, report)."""
    import json
    import os
    import resource

    env = dict(os.environ)
    if package_dir is not None:
        env["PYTHONPATH"] = str(package_dir)  # ahead of the installed terrl
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # in the file's folder: `python -m` puts the working folder first on sys.path, ahead of PYTHONPATH,
    # so run from a checkout it would import that checkout's terrl as the "baseline" too
    run = subprocess.run([sys.executable, "-m", "terrl", "check", "--format", "json", "--no-config", str(path)],
                         capture_output=True, text=True, env=env, cwd=path.parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        report = {"diagnostics": [], "error": run.stderr[-500:]}
    return cpu, wall, run.returncode, report


def _median(values):
    return statistics.median(values)


def _findings(report: dict) -> tuple[int, bool]:
    """(overlapping pairs, gap?) from a JSON report: listed E201 pairs plus the unlisted count."""
    diags = report.get("diagnostics", [])
    overlaps = [d for d in diags if d.get("code") == "E201"]
    unlisted = max((d.get("unlisted_overlaps", 0) or d.get("extra", {}).get("unlisted_overlaps", 0)
                    for d in overlaps), default=0)
    return len(overlaps) + unlisted, any(d.get("code") == "E202" for d in diags)


def run_peer(rules: int, fields: int, seed: int, timeout: float) -> dict | None:
    """The sweep in a child process (CPU seconds, answers), or None past `timeout` seconds."""
    import json
    try:
        run = subprocess.run([sys.executable, __file__, "--peer", f"{rules},{fields},{seed}"],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(run.stdout)


def peer_main(spec: str) -> None:
    import json
    rules, fields, seed = (int(x) for x in spec.split(","))
    table = generators.dmn_table(rules, fields, seed=seed)
    start = time.process_time()
    pairs, gaps = sweep_peer(table.rules)
    print(json.dumps({"pairs": len(pairs), "gap": gaps > 0, "seconds": time.process_time() - start}))


def bench_issue(seeds: list[int], repeat: int, baseline: Path | None, dmn_shapes, zip_sizes,
                peer_timeout: float) -> None:
    trees = [("terrl", None)] + ([("baseline", baseline)] if baseline else [])
    names = " | ".join(f"{name} CPU / wall (s)" for name, _ in trees)
    print("## Issue 16: `terrl check` end to end (a fresh process; medians of "
          f"{repeat} runs; CPU = user + sys of the child)\n")
    print(f"| model | seed | {names} | sweep peer, same run (CPU s) | answers agree |")
    print("|---|---:|" + "---:|" * len(trees) + "---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for leaves in zip_sizes:
            path = Path(tmp) / f"zip{leaves}.terr"
            path.write_text(generators.zip_model(leaves, seed=0), encoding="utf-8")
            cells = []
            for _, package in trees:
                runs = [run_check(path, package) for _ in range(repeat)]
                assert all(code == 0 for _, _, code, _ in runs), runs[0][3]  # clean by construction
                cells.append(f"{_median([r[0] for r in runs]):.2f} / {_median([r[1] for r in runs]):.2f}")
            print(f"| {leaves:,}-leaf ZIP-aligned model | 0 | {' | '.join(cells)} | – | clean (no errors) |")
            sys.stdout.flush()
        for rules, fields in dmn_shapes:
            for seed in seeds:
                table = generators.dmn_table(rules, fields, seed=seed)
                path = Path(tmp) / f"dmn{rules}x{fields}s{seed}.terr"
                path.write_text(generators.render_dmn_model(table), encoding="utf-8")
                cells, answers = [], []
                for _, package in trees:
                    runs = [run_check(path, package) for _ in range(repeat)]
                    cells.append(f"{_median([r[0] for r in runs]):.2f} / {_median([r[1] for r in runs]):.2f}")
                    answers.append(_findings(runs[0][3]))
                peer = run_peer(rules, fields, seed, peer_timeout)
                if peer is None:
                    print(f"| flat DMN table {rules} × {fields} | {seed} | {' | '.join(cells)} | > {peer_timeout:.0f} "
                          f"(stopped) | – ({answers[0][0]} pairs, {'a gap' if answers[0][1] else 'no gap'}) |")
                    continue
                expected, seconds = (peer["pairs"], peer["gap"]), peer["seconds"]
                agree = all(a == expected for a in answers)
                print(f"| flat DMN table {rules} × {fields} | {seed} | {' | '.join(cells)} | {seconds:.2f} | "
                      f"{'yes' if agree else 'NO: ' + repr((answers, expected))} ({expected[0]} pairs, "
                      f"{'a gap' if expected[1] else 'no gap'}) |")
                sys.stdout.flush()
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes")
    parser.add_argument("--samples", type=int, default=2000, help="random points the naive gap search tries")
    parser.add_argument("--memory", metavar="N,N,...", help="only the big flat files, with these territory counts")
    parser.add_argument("--issue", action="store_true", help="the table of issue 16 (terrl check as a command, sweep peer)")
    parser.add_argument("--baseline", type=Path, help="with --issue: also run the terrl package in this checkout")
    parser.add_argument("--seeds", default="0,1,2", help="with --issue: seeds of the flat tables")
    parser.add_argument("--repeat", type=int, default=3, help="with --issue: runs per cell (medians)")
    parser.add_argument("--zip", default="3000,10000", help="with --issue: leaves of the ZIP-aligned models")
    parser.add_argument("--dmn", default="500x7,1500x7,1500x10,1500x15", help="with --issue: flat table shapes")
    parser.add_argument("--peer-timeout", type=float, default=120, help="with --issue: seconds the sweep may take")
    parser.add_argument("--hostile", action="store_true", help="issue 16's hostile sizes (with --baseline, --repeat)")
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # rules,fields,seed: one sweep, for --issue
    args = parser.parse_args()
    if args.peer:
        peer_main(args.peer)
        return
    if args.hostile:
        bench_hostile(args.baseline, args.repeat)
        return
    if args.issue:
        shapes = [tuple(int(x) for x in shape.split("x")) for shape in args.dmn.split(",") if shape]
        bench_issue([int(s) for s in args.seeds.split(",")], args.repeat, args.baseline, shapes,
                    [int(n) for n in args.zip.split(",") if n], args.peer_timeout)
        return
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
