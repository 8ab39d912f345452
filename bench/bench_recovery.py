"""Issue 18: how many planted mistakes does one `terrl check` report, and how many reports are spurious?

Each case is a `.terr` file of this repo that reads without errors (examples, stdlib, the
valid test cases, plus small generated models) with **three tokens deleted** (seeded, one in
each third of the file, on three different lines): a forgotten `}`, `,`, `==`, name, value...
The case is read as `terrl check` reads it (`Compilation.from_source`: parse and resolve) and
its errors are matched to the deletions:

- an error is **attributed** to the nearest deletion at or before its line (the last "not
  closed" error, E004, which a missing `}` anywhere causes, to the nearest deletion no other
  error is attributed to); a deletion with at least one attributed error is **found**;
- an error before the first deletion, or a second error on another line attributed to the same
  deletion, is **spurious** (a cascade: the repair's mistake or a re-report, not the text's);
- a deletion that leaves the file without any error of its own is **silent** (deleting a title,
  a `not`, a list value: still a valid file that means something else).

Printed: cases, deletions, found, silent-when-alone (each deletion applied alone and nothing
reported: no reader could find it), spurious. `--baseline DIR` runs the `terrl` package of
another checkout (e.g. `git worktree add /tmp/base <rev>`) on the same cases in the same run.

Run: `python bench/bench_recovery.py [--cases 263] [--seed 0] [--baseline DIR]`
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# terrl's tokens, enough to delete one whole token (strings never span lines)
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|-?[0-9][0-9_]*(?:\.[0-9][0-9_]*)?[KMB]?'
                    r"|\.\.|==|!=|<=|>=|\S")

# Runs in a child with the terrl package under test first on sys.path: the errors of each case.
_READER = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from terrl.pipeline import Compilation
out = []
for text in json.load(sys.stdin):
    c = Compilation.from_source(text, "case.terr", base=Path(sys.argv[2]))
    out.append([[d.code, d.span.start_line_col[0]] for d in c.diagnostics
                if d.severity == "error" and d.span is not None and d.span.file.path == "case.terr"])
print(json.dumps(out))
"""


def corpus() -> list[str]:
    """The repo's `.terr` files (and cases of the multi-case test files) that read cleanly, and a
    few generated models."""
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from generators import dmn_model, salesforce_model, zip_model
    from terrl.pipeline import Compilation

    texts = []
    for path in sorted(ROOT.glob("**/*.terr")):
        if ".venv" in path.parts or "fuzz_corpus" in path.parts or path.stat().st_size > 200_000:
            continue
        # the case files hold several cases apart by `---` lines
        for text in re.split(r"(?m)^---\n", path.read_text(encoding="utf-8")):
            c = Compilation.from_source(text, "case.terr", base=path.parent)
            if text.strip() and not any(d.severity == "error" for d in c.diagnostics):
                texts.append(text)
    texts += [zip_model(12, seed=1), salesforce_model(12, zips_per_leaf=4, excluded=2), dmn_model(8, 3)]
    return texts


def plant(text: str, rng: random.Random) -> tuple[str, list[int], list[str]] | None:
    """`text` with three tokens deleted, one in each third, on different lines; their line numbers;
    the text with each deletion alone."""
    tokens = [m for m in _TOKEN.finditer(text) if not m.group().startswith("#")]
    if len(tokens) < 9:
        return None
    third = len(tokens) // 3
    chosen, lines = [], set()
    for k in range(3):
        for _ in range(20):
            m = tokens[rng.randrange(k * third, (k + 1) * third)]
            line = text.count("\n", 0, m.start()) + 1
            if line not in lines:
                chosen.append(m)
                lines.add(line)
                break
        else:
            return None
    return _without(text, chosen), sorted(lines), [_without(text, [m]) for m in sorted(chosen, key=lambda m: m.start())]


def _without(text: str, tokens: list[re.Match]) -> str:
    for m in sorted(tokens, key=lambda m: m.start(), reverse=True):
        text = text[:m.start()] + text[m.end():]
    return text


def score(cases: list[tuple], errors: list[list[tuple[str, int]]], alone: list[list[tuple[str, int]]]) -> dict[str, int]:
    found = spurious = 0
    silent = sum(1 for errs in alone if not errs)
    for (_, planted, _), errs in zip(cases, errors):
        by_deletion: dict[int, set[int]] = {}
        unclosed = [line for code, line in errs if code == "E004"]
        for code, line in errs:
            owner = max((p for p in planted if p <= line), default=None)
            if code == "E004" and line == max(unclosed):
                # an unclosed block is found at the end of the file (or of the block the
                # indentation points to): it stands for the nearest deletion nothing else found
                found_elsewhere = {max((p for p in planted if p <= ln), default=None)
                                   for c, ln in errs if (c, ln) != (code, line)}
                owner = min((p for p in planted if p not in found_elsewhere), key=lambda p: abs(p - line),
                            default=owner)
            if owner is None:
                spurious += 1
                continue
            by_deletion.setdefault(owner, set()).add(line)
        found += len(by_deletion)
        spurious += sum(len(lines) - 1 for lines in by_deletion.values())
    return {"found": found, "spurious": spurious, "silent": silent}


def read_all(package_root: Path, texts: list[str]) -> list[list[tuple[str, int]]]:
    out = subprocess.run([sys.executable, "-c", _READER, str(package_root), str(ROOT)], input=json.dumps(texts),
                         capture_output=True, text=True, check=True)
    return [[(code, line) for code, line in case] for case in json.loads(out.stdout)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=263)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline", type=Path, help="another checkout whose terrl package is compared in the same run")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    texts = corpus()
    cases: list[tuple[str, list[int], list[str]]] = []
    while len(cases) < args.cases:
        planted = plant(texts[len(cases) % len(texts)], rng)
        if planted is not None:
            cases.append(planted)
    deletions = 3 * len(cases)
    print(f"{len(cases)} cases from {len(texts)} files, {deletions} deletions (seed {args.seed})")
    print(f"{'terrl':<28} {'found':>6} {'of':>5} {'found %':>8} {'silent alone':>12} {'found % of the rest':>19} {'spurious':>9}")
    runs = [("this checkout", ROOT)] + ([("baseline " + str(args.baseline), args.baseline)] if args.baseline else [])
    for label, root in runs:
        s = score(cases, read_all(root, [t for t, _, _ in cases]), read_all(root, [a for _, _, each in cases for a in each]))
        detectable = deletions - s["silent"]
        print(f"{label[:28]:<28} {s['found']:>6} {deletions:>5} {100 * s['found'] / deletions:>7.1f}% {s['silent']:>12} "
              f"{100 * s['found'] / detectable:>18.1f}% {s['spurious']:>9}")


if __name__ == "__main__":
    main()
