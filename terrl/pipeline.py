"""The ordered pipeline: read -> parse -> resolve -> analyze.

Each stage is a function of the previous one's result; `check_paths` runs them all
for the files given on the command line and returns every diagnostic, sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from terrl.semantics import ir
from terrl.diagnostics.core import Diagnostic, diag, has_errors, sort_diagnostics
from terrl.semantics.resolve import Loader, LoadedModule, Lowerer, lower_module
from terrl.diagnostics.source import display_path

STAGES = ("parse", "resolve", "analyze")


@dataclass
class CheckResult:
    programs: dict[str, ir.Program] = field(default_factory=dict)  # by displayed path of each root file
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    modules: dict = field(default_factory=dict)  # displayed path -> ast.Module of each root file (for terrl.analysis.lint)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def models(self) -> list[ir.Model]:
        return [m for p in self.programs.values() for m in p.models]


class UsageError(Exception):
    """A path on the command line that is not there (exit code 2, not a diagnostic)."""


def collect_files(paths: list[Path]) -> list[Path]:
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


def check_paths(paths: list[Path], *, stop_after: str = "analyze") -> CheckResult:
    files = collect_files(paths)
    loader = Loader()
    roots: list[LoadedModule | None] = [loader.load(f) for f in files]
    return _finish(loader, roots, [display_path(f) for f in files], stop_after)


def check_source(text: str | bytes, path: str = "<string>", *, stop_after: str = "analyze",
                 base: Path | None = None) -> CheckResult:
    """Check text as if it were a file at `path` (imports resolve relative to `base` or cwd).
    Bytes are decoded as a file's would be (UTF-8, a BOM dropped, else E002)."""
    loader = Loader()
    where = (base or Path.cwd()) / (Path(path).name if path != "<string>" else "__string__.terr")
    root = loader.load(where, text=text, display=path)
    return _finish(loader, [root], [path], stop_after)


def _finish(loader: Loader, roots, shown: list[str], stop_after: str) -> CheckResult:
    result = CheckResult(files=shown)
    diagnostics = list(loader.diagnostics)
    if stop_after != "parse":
        lowerer = Lowerer(diagnostics)
        # Imported modules are checked too (their errors would surface anyway), once each.
        for loaded in loader.modules.values():
            if loaded.module is None or loaded in roots:
                continue
            lower_module(loaded, [], lowerer=Lowerer([]))
        for loaded, name in zip(roots, shown):
            if loaded is None or loaded.module is None:
                continue
            before = len(diagnostics)
            program = lower_module(loaded, diagnostics, lowerer=Lowerer(diagnostics))
            result.programs[name] = program
            result.modules[name] = loaded.module
            if stop_after == "analyze" and not has_errors(diagnostics[before:]):
                diagnostics.extend(analyze_program(program))
    result.diagnostics = sort_diagnostics(diagnostics)
    return result


def analyze_program(program: ir.Program) -> list[Diagnostic]:
    """Coverage findings for every model (terrl.analysis.coverage)."""
    from terrl.analysis import coverage
    out: list[Diagnostic] = []
    for model in program.models:
        out.extend(coverage.analyze(model))
    return out


def load_program(path: Path) -> tuple[ir.Program | None, list[Diagnostic]]:
    """One file, checked without coverage analysis: what `assign`, `compile` and `docs` start from."""
    result = check_paths([path], stop_after="resolve")
    program = next(iter(result.programs.values()), None)
    if has_errors(result.diagnostics):
        return None, result.diagnostics
    return program, result.diagnostics
