"""The one pipeline: read -> parse -> resolve -> analyze (coverage) and lint.

Every command, the public API (`terrl.load`) and tools built on terrl (a language
server, `terrl diff`) start from a `Compilation`:

    from terrl.pipeline import Compilation

    c = Compilation.from_paths([Path("examples/acme")])  # or Compilation.from_source(text, "m.terr")
    c.files             # the root files, as shown to the user
    c.diagnostics       # reading, syntax, name and type problems, sorted
    c.programs          # shown path -> ir.Program (each root file with its imports)
    c.units             # per root file that parsed: shown path, loaded module (AST), program
    c.understood        # no reading, syntax, name or type error: analysis and lint can run
    c.findings          # the coverage analysis (gaps, overlaps, ...), computed on first use
    c.lint(options)     # the lint rules, computed on first use (per options)
    c.check(config=...) # everything `terrl check` reports, configuration applied
    c.blocking_errors() # what stops `assign`, `compile`, `explain` and `terrl.load`

Reading and parsing (with every import) happen when the compilation is made; resolving
on first use of `diagnostics`, `programs` or `modules`; the analysis and lint only when
asked for, once each. Each stage is a pure function of the one before
(`terrl.semantics.resolve`, `terrl.analysis.coverage`, `terrl.analysis.lint`), so a
`Compilation` is the one place where they are wired together and where the rule lives
that reading, syntax, name and type errors (`terrl.diagnostics.core.not_understood`)
stop the later stages. A compilation is a snapshot of the files when it was made (edit a
file: make a new one); its lazy stages are not locked, so give each thread its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

from terrl.diagnostics.core import Diagnostic, has_errors, not_understood, sort_diagnostics
from terrl.diagnostics.source import display_path
from terrl.gcpause import paused_gc
from terrl.project.config import Config, LintOptions
from terrl.semantics import ir
from terrl.semantics.resolve import LoadedModule, Loader, Lowerer, lower_module
from terrl.syntax import ast

STAGES = ("parse", "resolve", "analyze")

# Analysis findings that describe the rules rather than stop an evaluator: `assign`,
# `compile` and `explain` go on past them (docs/assign.md says how such accounts end).
COVERAGE_FINDINGS = frozenset({"gap", "overlap", "unreachable", "empty"})


class UsageError(Exception):
    """A path on the command line that is not there (exit code 2, not a diagnostic)."""


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and every `*.terr` below each directory (hidden folders skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*.terr")):
                if not any(part.startswith(".") for part in f.relative_to(p).parts[:-1]):
                    out.append(f)
        elif p.exists() or p.is_symlink() or str(p) == "-":
            out.append(p)
        else:
            raise UsageError(f"no such file or directory: `{p}`")
    seen: set[Path] = set()
    unique = []
    for f in out:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def select_files(paths: Iterable[Path], config: Config) -> tuple[list[Path], bool]:
    """The files `check`, `fmt` and `test` work on: PATHS minus the configuration's excludes;
    without PATHS, the configuration's `include` patterns, else the current folder.
    Also whether PATHS named files and the configuration excludes every one (pre-commit
    passes changed files by name: nothing to do is success)."""
    paths = list(paths)
    if paths:
        given = collect_files(paths)
        files = [f for f in given if not config.is_excluded(f)]
        return files, bool(given) and not files
    if config.include:
        return config.included_files(), False
    return [f for f in collect_files([Path(".")]) if not config.is_excluded(f)], False


@dataclass(frozen=True, slots=True)
class Unit:
    """One root file: its displayed path, what the loader made of it, and its program."""

    shown: str
    loaded: LoadedModule
    program: ir.Program
    resolved_cleanly: bool  # no error while resolving this file: its models can be analyzed

    @property
    def module(self) -> ast.Module:
        assert self.loaded.module is not None
        return self.loaded.module


class Compilation:
    """The root files of one run and everything terrl knows about them (see the module docstring)."""

    def __init__(self, loader: Loader, roots: list[LoadedModule | None], shown: list[str]) -> None:
        self._loader = loader
        self._roots = roots
        self.files: list[str] = shown  # every root file given, readable or not, as shown
        self._lint: dict[LintOptions, list[Diagnostic]] = {}

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> Compilation:
        """Read and parse the files given and the `*.terr` files below the folders given.
        Raises UsageError for a path that does not exist."""
        files = collect_files(paths)
        loader = Loader()
        return cls(loader, [loader.load(f) for f in files], [display_path(f) for f in files])

    @classmethod
    def from_source(cls, text: str | bytes, path: str = "<string>", *, base: Path | None = None) -> Compilation:
        """Text as if it were a file shown as `path` (imports resolve relative to `base`, else the
        working folder). Bytes are decoded as a file's would be (UTF-8, a BOM dropped, else E002)."""
        loader = Loader()
        where = (base or Path.cwd()) / (Path(path).name if path != "<string>" else "__string__.terr")
        return cls(loader, [loader.load(where, text=text, display=path)], [path])

    # --- parse ----------------------------------------------------------------------------
    @cached_property
    def parse_diagnostics(self) -> list[Diagnostic]:
        """Reading and syntax problems of the root files and their imports, sorted."""
        return sort_diagnostics(self._loader.diagnostics)

    # --- resolve --------------------------------------------------------------------------
    @cached_property
    @paused_gc()  # resolution frees by reference counting: terrl/gcpause.py
    def _resolved(self) -> tuple[list[Unit], list[Diagnostic]]:
        diagnostics = list(self._loader.diagnostics)
        # Imported modules are checked too, once each; their diagnostics are dropped here
        # because they surface through the root files that use what is wrong.
        for loaded in self._loader.modules.values():
            if loaded.module is None or loaded in self._roots:
                continue
            lower_module(loaded, [], lowerer=Lowerer([]))
        units = []
        for loaded, shown in zip(self._roots, self.files):
            if loaded is None or loaded.module is None:
                continue
            before = len(diagnostics)
            program = lower_module(loaded, diagnostics, lowerer=Lowerer(diagnostics))
            units.append(Unit(shown, loaded, program, not has_errors(diagnostics[before:])))
        return units, sort_diagnostics(diagnostics)

    @property
    def units(self) -> list[Unit]:
        """The root files that parsed, in the order given."""
        return self._resolved[0]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Reading, syntax, name and type problems (and warnings such as unused imports), sorted."""
        return self._resolved[1]

    @property
    def programs(self) -> dict[str, ir.Program]:
        return {u.shown: u.program for u in self.units}

    @property
    def modules(self) -> dict[str, ast.Module]:
        """The syntax tree of each root file, by displayed path."""
        return {u.shown: u.module for u in self.units}

    @property
    def models(self) -> list[ir.Model]:
        return [m for u in self.units for m in u.program.models]

    @property
    def ok(self) -> bool:
        """No error while reading, parsing or resolving."""
        return not has_errors(self.diagnostics)

    @property
    def understood(self) -> bool:
        """No reading, syntax, name or type error: the analysis and lint may run."""
        return not any(not_understood(d) for d in self.diagnostics)

    # --- analyze --------------------------------------------------------------------------
    @cached_property
    @paused_gc()
    def findings(self) -> list[Diagnostic]:
        """The coverage analysis of every model of the files that resolved without errors, sorted."""
        from terrl.analysis import coverage  # the decision diagrams: imported when first needed

        return sort_diagnostics(d for u in self.units if u.resolved_cleanly
                                for model in u.program.models for d in coverage.analyze(model))

    def lint(self, options: LintOptions = LintOptions()) -> list[Diagnostic]:
        """The lint rules (terrl.analysis.lint) over every root file; none unless `understood`."""
        if options not in self._lint:
            from terrl.analysis.lint import lint_program

            self._lint[options] = [d for u in self.units for d in lint_program(u.program, u.module, options)] \
                if self.understood else []
        return self._lint[options]

    def diagnostics_through(self, stage: str = "analyze") -> list[Diagnostic]:
        """Every diagnostic of the stages up to `stage` (one of STAGES), sorted; no lint."""
        if stage == "parse":
            return self.parse_diagnostics
        if stage == "resolve":
            return self.diagnostics
        return sort_diagnostics(self.diagnostics + self.findings)

    def check(self, *, stop_after: str = "analyze", config: Config | None = None) -> list[Diagnostic]:
        """What `terrl check` reports: the stages through `stop_after`, lint after resolve,
        then the configuration's severity overrides, rules off by default and `models` filter."""
        from terrl.analysis.lint import DEFAULT_OFF

        config = config or Config()
        diagnostics = self.diagnostics_through(stop_after)
        if stop_after != "parse":
            diagnostics = diagnostics + self.lint(config.lint)
        return sort_diagnostics(config.apply(diagnostics, default_off=DEFAULT_OFF))

    def blocking_errors(self) -> list[Diagnostic]:
        """Errors that stop building an evaluator from these files: all errors but the
        coverage findings (an analysis that failed, E901, blocks too)."""
        return [d for d in self.diagnostics_through("analyze") if d.is_error and d.name not in COVERAGE_FINDINGS]


# --- one call, for tests, benches and scripts ---------------------------------------------

@dataclass
class CheckResult:
    """A compilation through one stage: its diagnostics (lint not included) and programs."""

    compilation: Compilation
    stop_after: str
    diagnostics: list[Diagnostic]  # computed when the result is made: benches time it

    @property
    def files(self) -> list[str]:
        return self.compilation.files

    @property
    def programs(self) -> dict[str, ir.Program]:
        return {} if self.stop_after == "parse" else self.compilation.programs

    @property
    def modules(self) -> dict[str, ast.Module]:
        return {} if self.stop_after == "parse" else self.compilation.modules

    @property
    def models(self) -> list[ir.Model]:
        return [m for p in self.programs.values() for m in p.models]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def check_paths(paths: list[Path], *, stop_after: str = "analyze") -> CheckResult:
    """`Compilation.from_paths(paths)` through `stop_after` (for tests, benches and scripts)."""
    compilation = Compilation.from_paths(paths)
    return CheckResult(compilation, stop_after, compilation.diagnostics_through(stop_after))


def check_source(text: str | bytes, path: str = "<string>", *, stop_after: str = "analyze",
                 base: Path | None = None) -> CheckResult:
    """`Compilation.from_source(text, path, base=base)` through `stop_after` (for tests, benches and scripts)."""
    compilation = Compilation.from_source(text, path, base=base)
    return CheckResult(compilation, stop_after, compilation.diagnostics_through(stop_after))
