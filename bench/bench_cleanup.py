"""Issue 17: what the clean-up of account values costs `terrl assign`, in one run.

On the 1M-row account file of `bench_assign_e2e.py` (`generators.write_accounts_csv`, a
ZIP-aligned model of `--leaves` leaves), one child process per run, CPU seconds (user + sys),
medians of `--runs`:

- **clean, --strict**: the file as generated (every value already in the schema's spelling), no clean-up;
- **clean, default**: the same file with the default clean-up rules on (the cost when there is nothing to clean);
- **messy, default**: the same accounts with `--messy` of the rows re-spelt the way CRM exports do
  (` ca`, `Software`, `94105-1234`, `$1,200`, ...), cleaned back (every row gets the same result);
- with `--baseline PATH` (a `terrl` script of another checkout, e.g. main's), that build on the clean file.

Printed: seconds and ratios to **clean, --strict** (issue 17: clean-up on costs at most 15%, and
nothing on clean input).

Run: `python bench/bench_cleanup.py [--rows 1000000] [--leaves 3000] [--runs 3] [--messy 0.2]
[--baseline /work/main/.venv/bin/terrl]`
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_assign_e2e import median_of  # noqa: E402


def messy(cell: str, column: str, rng: random.Random) -> str:
    """`cell` as a CRM export might spell it (the default clean-up rules bring it back)."""
    if not cell:
        return cell
    if column in ("state", "country", "industry"):
        return rng.choice([cell.lower(), f" {cell} ", cell.title()])
    if column == "zip":
        return f"{cell}-{rng.randrange(10000):04d}"
    if column in ("employees", "revenue") and "." not in cell and len(cell) > 3:
        return rng.choice(["$", ""]) + f"{int(cell):,}"
    return f" {cell}"


def write_messy(source: Path, target: Path, share: float, seed: int = 17) -> int:
    rng = random.Random(seed)
    changed = 0
    with open(source, newline="", encoding="utf-8") as f, open(target, "w", newline="", encoding="utf-8") as out:
        rows = csv.reader(f)
        writer = csv.writer(out, lineterminator="\n")
        header = next(rows)
        writer.writerow(header)
        for row in rows:
            if rng.random() < share:
                column = rng.randrange(len(header))
                row[column] = messy(row[column], header[column], rng)
                changed += 1
            writer.writerow(row)
    return changed


def main() -> None:
    from generators import write_accounts_csv, zip_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--leaves", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messy", type=float, default=0.2, help="share of rows with one value re-spelt")
    ap.add_argument("--baseline", help="a `terrl` script of another build to time on the clean file")
    args = ap.parse_args()
    terrl = [sys.executable, "-m", "terrl"] if not Path(sys.executable).with_name("terrl").exists() \
        else [str(Path(sys.executable).with_name("terrl"))]
    with tempfile.TemporaryDirectory() as tmp:
        clean, dirty = Path(tmp) / "clean.csv", Path(tmp) / "messy.csv"
        write_accounts_csv(str(clean), args.rows)
        changed = write_messy(clean, dirty, args.messy)
        model = Path(tmp) / "model.terr"
        model.write_text(zip_model(args.leaves), encoding="utf-8")
        out = str(Path(tmp) / "out.csv")
        runs = [("clean, --strict", terrl, clean, ["--strict"]), ("clean, default", terrl, clean, []),
                ("messy, default", terrl, dirty, [])]
        if args.baseline:
            runs.append((f"clean, baseline {args.baseline}", [args.baseline], clean, []))
        print(f"{args.rows:,} rows, {args.leaves} leaves; messy file: {changed:,} rows re-spelt; medians of {args.runs}")
        base = None
        for label, command, accounts, flags in runs:
            cpu, wall = median_of(args.runs, [*command, "assign", str(model), str(accounts), "-o", out, *flags])
            base = base or cpu
            print(f"{label:<40} {cpu:>7.2f} s CPU  {cpu / base:>5.2f}x  ({wall:.2f} s wall)", flush=True)


if __name__ == "__main__":
    main()
