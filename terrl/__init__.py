"""terrl: territory rules as code."""

__version__ = "0.1.0"

# The public API, imported on first use so that `terrl check` starts without the
# evaluator's imports (jinja2, the decision diagrams).
_LAZY = {
    "Assignment": "terrl.targets.evaluate",
    "Compilation": "terrl.pipeline",
    "Evaluator": "terrl.targets.evaluate",
    "ModelError": "terrl.targets.evaluate",
    "compile_model": "terrl.targets.evaluate",
    "load": "terrl.targets.evaluate",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'terrl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
