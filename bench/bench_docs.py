"""Time `terrl docs` on a 3,000-territory model; the target is under 10 s in all.

    python bench/bench_docs.py [LEAVES]

Prints one row per stage, with parsing + type checking alone as the baseline in the
same run. The model is `bench/generators.zip_model` (ZIP-prefix territories; needs the
bench extra: `pip install -e '.[bench]'`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from terrl.docs import docsgen
from terrl.pipeline import Compilation  # noqa: E402


def model_text(leaves: int) -> str:
    from generators import zip_model  # the shared ZIP-aligned model (bench/generators.py)
    return zip_model(leaves)


def timed(label: str, rows: list, fn):
    start = time.perf_counter()
    result = fn()
    rows.append((label, time.perf_counter() - start))
    return result


def main() -> None:
    leaves = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.terr"
        src.write_text(model_text(leaves))
        (Path(tmp) / "terrl.toml").write_text("")
        rows: list[tuple[str, float]] = []
        timed("baseline: parse + type check", rows, lambda: Compilation.from_paths([src]).diagnostics)
        results = {}
        for analyse in (False, True):
            if analyse and not docsgen.coverage_available():
                continue
            tag = "with analysis" if analyse else "--no-check"
            start = time.perf_counter()
            loaded = timed(f"{tag}: load" + (" + analyze" if analyse else ""), rows,
                           lambda: docsgen.load_docs([src], analyse=analyse))
            site = timed(f"{tag}: view-model", rows, lambda: docsgen.build_site(loaded))
            files = timed(f"{tag}: render Markdown + HTML", rows, lambda: docsgen.render_site(site))
            timed(f"{tag}: write", rows, lambda: docsgen.write_site(files, Path(tmp) / "out"))
            rows.append((f"{tag}: TOTAL", time.perf_counter() - start))
            results[tag] = (site, files)
        site, files = next(iter(results.values()))
    model = site.models[0]
    print(f"model: {len(model.territories):,} territories, {model.leaf_count:,} leaves, "
          f"{len(model.diagrams)} diagrams; output {sum(len(t) for t in files.values()) / 1e6:.1f} MB")
    print(f"{'stage':<44} {'seconds':>8}")
    for label, seconds in rows:
        print(f"{label:<44} {seconds:>8.2f}")
    worst = max(s for label, s in rows if label.endswith("TOTAL"))
    print(f"target: under 10 s in all -> {'ok' if worst < 10 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
