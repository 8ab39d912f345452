"""Benchmark of `terrl check`'s coverage analysis, printed as tables.

1. A realistic hierarchical model: US territories aligned by real ZIP prefixes (the
   `zipcodes` package, a bench-only dependency), 4 levels (region > state > ZIP3 >
   segment), about 3,000 leaves, one planted overlap. Timed end to end
   (`pipeline.check_source`: parse, resolve, analyze). Target: well under 2 s.
2. Flat DMN-style tables like Calvanese et al. (BPM 2016 / Information Systems 2018):
   500 / 1,000 / 1,500 sibling rules over 3..15 int fields, generated as a random k-d
   partition of the space (complete and disjoint) with ~10% noisy rules (a bound
   widened: overlaps; narrowed: gaps). The analysis (`coverage.analyze` on the resolved
   model) is compared with their published times (1,500 rules: 13 s overlaps / 18 s
   missing rules at 7 fields, 196 s / 705 s at 15 fields; target 10x faster) and with a
   naive baseline run here: every pair of boxes tested for intersection (exact for
   boxes) plus random sampling for gaps (not exact: it may miss a gap).

Run: `python bench/bench_check.py` (add `--quick` for fewer shapes). No test asserts
these times.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from terrl import coverage  # noqa: E402
from terrl.pipeline import check_source  # noqa: E402

# Calvanese et al., Information Systems 2018, 1,500 rules (seconds): overlaps, missing rules.
PUBLISHED = {7: (13.0, 18.0), 15: (196.0, 705.0)}
DOMAIN_HI = 999  # every flat-table field is `int in 0..999`


# --- the ZIP-aligned model --------------------------------------------------------------

def us_regions() -> dict[str, list[str]]:
    """The census regions of the stdlib (`us.west`, ...), read through the checker itself."""
    from terrl import ir

    names = ("west", "south", "midwest", "northeast")
    text = "import geo.us\nschema A { id: string key  state: us.UsState }\nmodel M {\n" + "".join(
        f"  territory {n} {{ where state in us.{n} }}\n" for n in names) + "}\n"
    model = check_source(text, "regions.terr", stop_after="resolve").models[0]
    out = {}
    for t in model.territories:
        assert isinstance(t.where, ir.InSet)
        members = model.schema.field("state").type.members
        out[t.name] = [m for m in members if m in t.where.values]
    return out


def zip_model(leaves: int = 3000) -> str:
    """Region > state > ZIP3 prefix > segment, from real ZIP codes; one planted overlap."""
    import zipcodes  # bench-only dependency

    by_state: dict[str, set[str]] = {}
    for row in zipcodes.list_all():
        by_state.setdefault(row["state"], set()).add(row["zip_code"][:3])
    tiers = [("small", "employees < 100"), ("mid", "employees >= 100 and employees < 1000"),
             ("large", "employees >= 1000 and revenue < 1B"), ("strategic", "employees >= 1000 and revenue >= 1B")]
    regions = us_regions()
    zip3_total = sum(len(by_state.get(s, ())) for states in regions.values() for s in states)
    four_tier = max(0, leaves - 3 * zip3_total)  # this many ZIP3 territories get four tiers, the rest three
    out = ["import geo.us", "", "schema Account {", "  id: string key", "  country: enum { US, CA, MX }",
           "  state: us.UsState?", "  zip: digits(5)?", "  employees: int in 0..", "  revenue: decimal in 0..", "}",
           "", 'model US "United States" {', "  where country == US", "  policy unique"]
    for region, states in regions.items():
        out += [f"  territory {region} {{", f"    where state in us.{region}"]
        for state in states:
            out += [f"    territory {state} {{", f"      where state == {state}"]
            for z3 in sorted(by_state.get(state, ())):
                out += [f"      territory z{z3} {{", f'        where zip startswith "{z3}"']
                use = tiers if four_tier > 0 else tiers[:2] + [("big", "employees >= 1000")]
                four_tier -= 1
                out += [f"        territory {name} {{ where {pred} }}" for name, pred in use]
                out.append("      }")
            out += ["      territory rest { else }", "    }"]
        out.append("  }")
    out += ["  territory unknown_state { where state is null }",
            "  territory other_states { where state is not null and not (state in us.west + us.south + us.midwest"
            " + us.northeast) }",
            '  territory planted { where zip startswith "94" and employees < 50 }', "}"]
    return "\n".join(out) + "\n"


# --- flat tables ------------------------------------------------------------------------

def flat_table(rules: int, fields: int, seed: int, noise: float = 0.10) -> tuple[str, list[list[tuple[int, int]]]]:
    """A random k-d partition of [0, 999]^fields into `rules` boxes, ~10% perturbed."""
    rng = random.Random(seed)
    boxes = [[(0, DOMAIN_HI)] * fields]
    while len(boxes) < rules:
        i = max(range(len(boxes)), key=lambda k: rng.random() * _volume_log(boxes[k]))
        box = boxes[i]
        f = rng.randrange(fields)
        lo, hi = box[f]
        if hi - lo < 2:
            continue
        cut = rng.randint(lo + 1, hi)
        left, right = list(box), list(box)
        left[f], right[f] = (lo, cut - 1), (cut, hi)
        boxes[i] = left
        boxes.append(right)
    for box in rng.sample(boxes, int(noise * rules)):
        f = rng.randrange(fields)
        lo, hi = box[f]
        delta = rng.randint(1, 20)
        if rng.random() < 0.5:  # widen: overlaps a neighbour
            box[f] = (max(0, lo - delta), min(DOMAIN_HI, hi + delta))
        else:  # narrow: leaves a gap
            box[f] = (min(hi, lo + delta), hi) if rng.random() < 0.5 else (lo, max(lo, hi - delta))
    lines = ["schema Row {", "  id: string key"] + [f"  f{i}: int in 0..{DOMAIN_HI}" for i in range(fields)] + ["}", "",
             "model Table {", "  policy unique"]
    for r, box in enumerate(boxes):
        parts = [f"f{i} in {lo}..{hi}" for i, (lo, hi) in enumerate(box) if (lo, hi) != (0, DOMAIN_HI)]
        lines.append(f"  territory r{r} {{ where {' and '.join(parts) or 'true'} }}")
    lines.append("}")
    return "\n".join(lines) + "\n", boxes


def _volume_log(box) -> float:
    v = 1.0
    for lo, hi in box:
        v *= (hi - lo + 1) / (DOMAIN_HI + 1)
    return v


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
        point = [rng.randint(0, DOMAIN_HI) for _ in range(fields)]
        if not any(all(lo <= x <= hi for x, (lo, hi) in zip(point, box)) for box in boxes):
            gap = True
            break
    return overlaps, gap


# --- running ----------------------------------------------------------------------------

def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def bench_zip() -> None:
    text = zip_model()
    result, total = timed(check_source, text, "zip.terr")
    _, front = timed(check_source, text, "zip.terr", stop_after="resolve")
    codes: dict[str, int] = {}
    for d in result.diagnostics:
        codes[d.code] = codes.get(d.code, 0) + 1
    model = result.models[0]
    n_leaves = sum(1 for t in model.walk() if t.is_leaf)
    n_all = sum(1 for _ in model.walk())
    print("## ZIP-aligned model (real ZIP3 prefixes from `zipcodes`)\n")
    print("| territories | leaves | lines | check end to end (s) | parse+resolve (s) | analysis (s) | findings |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {n_all} | {n_leaves} | {text.count(chr(10))} | {total:.2f} | {front:.2f} | {total - front:.2f} | "
          f"{', '.join(f'{c}×{n}' for c, n in sorted(codes.items()))} |")
    print()


def bench_flat(shapes, baseline_samples: int) -> None:
    print("## Flat DMN-style tables (policy unique; overlaps and gaps)\n")
    print("| rules | fields | overlapping pairs | gap | analysis (s) | published overlaps / missing (s) "
          "| speed-up vs published | naive baseline (s) | naive / terrl |")
    print("|---:|---:|---:|:-:|---:|---:|---:|---:|---:|")
    for rules, fields in shapes:
        text, boxes = flat_table(rules, fields, seed=rules * 100 + fields)
        result = check_source(text, "table.terr", stop_after="resolve")
        model = result.models[0]
        findings, t = timed(coverage.analyze, model)
        overlaps = 0
        for d in findings:
            if d.code == "E201":
                overlaps += 1
                for note in d.notes:
                    if note.endswith("are not listed"):
                        overlaps += int(note.split()[0])
        gap = any(d.code == "E202" for d in findings)
        assert not any(d.code == "E901" for d in findings), findings
        (naive_pairs, naive_gap), tn = timed(naive_baseline, boxes, baseline_samples, seed=1)
        assert naive_pairs == overlaps, (naive_pairs, overlaps)  # the baseline is exact for overlaps
        pub = PUBLISHED.get(fields) if rules == 1500 else None
        pub_text = f"{pub[0]:.0f} / {pub[1]:.0f}" if pub else "–"
        speed = f"{min(pub) / t:.0f}x" if pub else "–"
        print(f"| {rules} | {fields} | {overlaps} | {'yes' if gap else 'no'} | {t:.2f} | {pub_text} | {speed} "
              f"| {tn:.2f}{'' if naive_gap == gap else ' (missed the gap)'} | {tn / t:.1f}x |")
        sys.stdout.flush()
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes")
    parser.add_argument("--samples", type=int, default=2000, help="random points the naive gap search tries")
    args = parser.parse_args()
    bench_zip()
    if args.quick:
        shapes = [(500, 3), (1500, 7), (1500, 15)]
    else:
        shapes = [(r, f) for r in (500, 1000, 1500) for f in (3, 5, 7, 9, 11, 13, 15)]
    bench_flat(shapes, args.samples)


if __name__ == "__main__":
    main()
