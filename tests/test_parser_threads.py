"""The parser is re-entrant: parses running on several threads at once give exactly what
one thread gives alone (ASTs, spans with their file, doc comments, diagnostics).

The parser once kept its per-parse state (source, comments, diagnostics) in module globals;
two files parsed on 4 threads got spans pointing at `<none>` and other files' docs.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from terrl.diagnostics.source import SourceFile, Span
from terrl.syntax import parser

from support import REPO


def _shape(node):
    """Everything about a node: spans with the file they point into (AST equality ignores spans)."""
    if isinstance(node, Span):
        return ("span", node.file.path, node.start, node.end)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(_shape(getattr(node, f.name)) for f in dataclasses.fields(node))
    if isinstance(node, (tuple, list)):
        return tuple(_shape(x) for x in node)
    return node


def _inputs() -> list[tuple[str, str]]:
    files = [p for d in ("stdlib", "examples") for p in sorted((REPO / d).glob("**/*.terr"))]
    assert len(files) >= 5
    out = [(str(p.relative_to(REPO)), p.read_text(encoding="utf-8")) for p in files]
    # generated: many declarations with doc comments, keywords used as names (E009)
    gen = ["schema Acc {\n  region: text\n  size: int\n}\n"]
    for i in range(60):
        gen.append(f"## territory {i}\n## second line {i}\nsegment s{i} = region == \"r{i}\" and size > {i}  # c{i}\n")
    out.append(("generated.terr", "".join(gen)))
    out.append(("keywords.terr", "schema model { region: text }\n"))
    # syntax errors, several per file, and a literal error
    out.append(("broken.terr", "schema A {\n  region: text\n\nsegment x = region == \nsegment y = (region\n"))
    out.append(("escape.terr", 'schema A { region: text }\nsegment x = region == "a\\q"\n'))
    out.append(("number.terr", "schema A { size: int }\nsegment x = size > 1__0\n"))
    for name, text in list(out[:len(files)]):  # every real file cut short: errors at varied places
        out.append((name + ".cut", text[: len(text) * 2 // 3]))
    return out


def _parse(item: tuple[str, str]):
    name, text = item
    module, diagnostics = parser.parse(SourceFile(name, text))
    return _shape(module), [(d.code, d.message, _shape(d.span)) for d in diagnostics]


@pytest.mark.slow
def test_parsing_on_8_threads_gives_what_one_thread_gives() -> None:
    items = _inputs()
    expected = [_parse(item) for item in items]
    assert any(diags for _, diags in expected), "some inputs must have diagnostics"
    assert any(module is not None and not diags for module, diags in expected)
    jobs = items * 6
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            got = list(pool.map(_parse, jobs))
            for i, result in enumerate(got):
                assert result == expected[i % len(items)], jobs[i][0]
