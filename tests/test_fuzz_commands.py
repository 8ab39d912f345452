"""Issue 15: every command on mutated programs and account files, in-process.

Whatever the input, a command ends with exit 0, 1 or 2 and a message: never exit 3 (an
internal error), a traceback, or a run that takes more than a few seconds. The seeds are in
tests/fuzz_corpus/ (a program using every field kind, a CSV and a JSON Lines file);
mutations cut, repeat and insert pieces of text that have broken terrl before (escapes,
long numbers, comments in odd places, line ends). The default budget is ~20 s
(TERRL_FUZZ_EXAMPLES raises it for a longer run).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from terrl.cli.errors import EXIT_INTERNAL

from support import REPO, run_cli

CORPUS = REPO / "tests" / "fuzz_corpus"
PROGRAMS = sorted(p.read_text(encoding="utf-8") for p in CORPUS.glob("*.terr"))
CSVS = sorted(p.read_bytes() for p in CORPUS.glob("*.csv"))
JSONLS = sorted(p.read_bytes() for p in CORPUS.glob("*.jsonl"))
SLOW_SECONDS = 10.0  # a command running longer than this is a stall (typical runs take well under 1 s)
EXAMPLES = int(os.environ.get("TERRL_FUZZ_EXAMPLES", "120"))

PROGRAM_PIECES = [
    "\n", " ", "{", "}", "(", ")", ",", "..", "# c\n", "## doc\n", '"', '""', r'"\u00e9"', r'"\ud83d\ude00"',
    r'"\ud7ff"', '"x"', "9" * 40, "1_000", "-12.5", "1.5M", "2B", "0", "and ", "or ", "not ", " in ", " startswith ",
    " is null", " is not null", "==", "!=", "<=", ">", "else ", "keep ", "policy first ", "policy all ",
    "policy unique ", "territory t ", "where ", "owner \"a@b.example\" as AE ", "segment s = large\n",
    "set s2: int = {1, 2}\n", "large", "small", "big_zips", "employees", "revenue", "zip", "country", "name",
    "US", "ZZ", "true", "int in 0..5?", "digits(3)", "enum { a, b }", "\r\n", "\r", "\t", "é", "\u00a0",
]
CELL_PIECES = [",", "\n", "\r\n", "\r", '"', '""', "=1+1", "+", "-", "@x", "\t", "9" * 1200, "1e999999999",
               "0.1", "-0", "true", "US", "94105", "é", "\u00a0", "\u200b", "{", "}", ":", "null", "[1]",
               r'"\ud800"', "\ufeff", " ", ""]


@st.composite
def mutated(draw, seeds, pieces):
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "repeat"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(pieces)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
        else:
            end = min(len(text), at + draw(st.integers(1, 40)))
            text = text[:end] + text[at:end] * draw(st.integers(1, 3)) + text[end:]
    return text


def as_text(seeds: list[bytes]) -> list[str]:
    return [s.decode("utf-8") for s in seeds]


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    start = time.perf_counter()
    result = run_cli(args, catch_exceptions=True)  # to report any exception with its command
    elapsed = time.perf_counter() - start
    shown = f"terrl {' '.join(args)}\n{result.output[-2000:]}"
    assert elapsed < SLOW_SECONDS, f"took {elapsed:.1f} s: {shown}"
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"raised {result.exception!r}: {shown}"
    assert result.exit_code != EXIT_INTERNAL, f"internal error: {shown}"
    assert "Traceback" not in result.output, shown
    return result.exit_code, result.output


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=mutated(PROGRAMS, PROGRAM_PIECES), csv_text=mutated(as_text(CSVS), CELL_PIECES),
       jsonl_text=mutated(as_text(JSONLS), CELL_PIECES))
def test_no_command_crashes_or_stalls_on_mutated_input(program, csv_text, jsonl_text):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = root / "m.terr"
        model.write_bytes(program.encode("utf-8", "surrogatepass"))
        csv_path, jsonl_path = root / "a.csv", root / "a.jsonl"
        csv_path.write_bytes(csv_text.encode("utf-8", "surrogatepass"))
        jsonl_path.write_bytes(jsonl_text.encode("utf-8", "surrogatepass"))
        m = str(model)
        code, _ = run(["check", m], root)
        run(["fmt", "--diff", m], root)
        run(["test", m], root)
        run(["docs", m, "-o", str(root / "docs")], root)
        for target in ("json", "python", "sql"):
            run(["compile", "--target", target, m], root)
        if code == 1 and "error" in run(["check", "--format", "concise", m], root)[1]:
            event("the program has errors")
            return  # a model with errors: the commands below refuse it (exit 1), checked above for check
        event("the program is accepted: assign and explain run")
        for accounts in (csv_path, jsonl_path):
            for engine in ("python", "duckdb"):
                run(["assign", m, str(accounts), "--engine", engine, "-o", str(root / f"out-{engine}.csv")], root)
        first = next((line for line in jsonl_text.splitlines() if line.strip()), "{}")
        run(["explain", m, "--account", first], root)


def test_the_seeds_are_accepted_and_assigned():
    """The corpus must reach every command: a seed that check rejects would fuzz only the error paths."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, program in enumerate(PROGRAMS):
            model = root / f"m{i}.terr"
            model.write_text(program, encoding="utf-8")
            assert run(["check", str(model)], root)[0] == 0
            assert run(["test", str(model)], root)[0] == 0
            for name, data in [("a.csv", CSVS[0]), ("a.jsonl", JSONLS[0])]:
                (root / name).write_bytes(data)
                code, output = run(["assign", str(model), str(root / name)], root)
                assert code == 0 and "invalid" in output, output
