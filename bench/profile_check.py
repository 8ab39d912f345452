"""Per-phase CPU profile of `terrl check FILE` (issue 16), in this process.

Wraps the passes with timers (exclusive times: a nested phase is taken out of its caller)
and runs the CLI once: start-up, imports, grammar tables, parse (root file / imports),
resolve, domain cuts, diagrams, gap and overlap search, each lint rule, rendering.
Prints one JSON line. Run it in a fresh interpreter, several times, and take medians:

    python bench/profile_check.py model.terr
    PYTHONPATH=/path/to/other/checkout python bench/profile_check.py model.terr   # a baseline
"""
import json
import resource
import sys
import time

startup = resource.getrusage(resource.RUSAGE_SELF)
startup = startup.ru_utime + startup.ru_stime  # the interpreter, before this script


clock = time.process_time
acc: dict[str, float] = {}
stack: list[str] = []


def timed(name, fn):
    def wrapper(*a, **k):
        t = clock()
        stack.append(name)
        try:
            return fn(*a, **k)
        finally:
            stack.pop()
            dt = clock() - t
            acc[name] = acc.get(name, 0.0) + dt
            if stack:  # exclusive times: take it out of the enclosing phase
                acc[stack[-1]] = acc.get(stack[-1], 0.0) - dt
    return wrapper


t0 = clock()
import terrl.cli.app  # noqa
import terrl.cli.check  # noqa
import terrl.cli._report, terrl.cli._selection  # noqa
import terrl.diagnostics.render  # noqa
import terrl.analysis.lint as lint  # noqa
import terrl.analysis.coverage as coverage  # noqa
import terrl.pipeline as pipeline  # noqa
import terrl.semantics.resolve as resolve  # noqa
import terrl.syntax.parser as parser  # noqa
acc["imports"] = clock() - t0
t0 = clock()
parser._tables_built()
acc["grammar tables"] = clock() - t0

_parse = resolve.parse
def _parse_by_file(source):
    name = "parse " + ("(root)" if source.path == sys.argv[1] else "(stdlib/imports)")
    return timed(name, _parse)(source)
resolve.parse = _parse_by_file
pipeline.lower_module = timed("resolve", pipeline.lower_module)
coverage.build_model_domains = timed("domain cuts", coverage.build_model_domains)
coverage.ModelSpace.__init__ = timed("diagram (reach)", coverage.ModelSpace.__init__)
if hasattr(coverage.ModelSpace, "_fill"):  # reach built a group at a time (after issue 16)
    coverage.ModelSpace._fill = timed("diagram (reach)", coverage.ModelSpace._fill)
import terrl.analysis.dd as dd
coverage._Analysis.run = timed("gaps/overlaps", coverage._Analysis.run)
for name in ("check_owners", "check_titles", "check_else_missing", "check_inline_lists", "check_bidi_controls"):
    setattr(lint, name, timed("lint " + name.removeprefix("check_"), getattr(lint, name)))
terrl.cli.check.__dict__  # render is imported inside the command
terrl.diagnostics.render.render = timed("render", terrl.diagnostics.render.render)
import terrl.cli._report as rep
rep.write_report = timed("write", rep.write_report)

import io, contextlib
t0 = clock()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        terrl.cli.app.main(["check", "--format", "concise", "--no-config", sys.argv[1]])
    except SystemExit:
        pass
total = clock() - t0
acc["other (cli, sort, config)"] = total - sum(v for k, v in acc.items() if k not in ("imports", "grammar tables"))
acc["start-up (interpreter)"] = startup
acc["total"] = startup + acc["imports"] + acc["grammar tables"] + total
acc["findings"] = out.getvalue().strip().splitlines()[-1]
print(json.dumps(acc))
