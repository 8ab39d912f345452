"""`terrl docs` output checked by real renderers: Mermaid's own parser (node + jsdom) and headless Chromium.

Both skip with a reason where the tool is missing. The Mermaid parser is installed once
from the npm registry into a cache folder (pinned in tests/mermaid/package.json); set
TERRL_MERMAID_DIR to reuse an installed copy.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from terrl.docs import docsgen

from support import REPO
from test_docs import GOLDEN, HOSTILE, check_mermaid_structure, generate, large_model_text, mermaid_blocks, write_terr

MERMAID_SPEC = REPO / "tests" / "mermaid"


@pytest.fixture(scope="module")
def mermaid_parser() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: Mermaid blocks are checked structurally only (test_docs.py)")
    folder = Path(os.environ.get("TERRL_MERMAID_DIR") or Path.home() / ".cache" / "terrl" / "mermaid-parser")
    spec = (MERMAID_SPEC / "package.json").read_text()
    ready = (folder / "node_modules" / "mermaid").is_dir() and (folder / "package.json").is_file() \
        and (folder / "package.json").read_text() == spec
    if not ready:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(spec)
        try:
            done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder,
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip("installing mermaid from the npm registry took over 5 minutes")
        if done.returncode != 0:
            pytest.skip(f"cannot install mermaid from the npm registry: {done.stderr.strip()[-300:]}")
    shutil.copy(MERMAID_SPEC / "parse.mjs", folder / "parse.mjs")
    return folder


def parse_with_mermaid(folder: Path, blocks: list[str]) -> list[dict]:
    done = subprocess.run(["node", "parse.mjs"], cwd=folder, input=json.dumps(blocks), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_mermaid_parser_rejects_what_it_should(mermaid_parser) -> None:
    """The checker itself can fail: an unquoted bracket in a label is a parse error."""
    results = parse_with_mermaid(mermaid_parser, ['flowchart LR\n  n0[a[b]]\n', 'flowchart LR\n  n0["ok"]\n'])
    assert [r["ok"] for r in results] == [False, True]


@pytest.mark.slow
def test_mermaid_blocks_parse(mermaid_parser, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    blocks = []
    for md in (GOLDEN / "sales" / "expected").glob("*.md"):
        blocks += mermaid_blocks(md.read_text())
    blocks += mermaid_blocks(generate([write_terr(tmp_path, HOSTILE)], ("markdown",))["M.md"])
    big = tmp_path / "big"
    big.mkdir()
    blocks += mermaid_blocks(generate([write_terr(big, large_model_text(3, 60))], ("markdown",))["Big.md"])
    assert len(blocks) >= 6
    for block in blocks:
        check_mermaid_structure(block)
    results = parse_with_mermaid(mermaid_parser, blocks)
    bad = [(b, r["error"]) for b, r in zip(blocks, results) if not r["ok"]]
    assert not bad, bad[0]
    assert {r["diagramType"] for r in results} == {"flowchart-v2"}


# --- headless Chromium ---------------------------------------------------------------------

def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def screenshot(page: Path, out: Path, profile: Path, size=(1200, 1600)) -> bytes:
    browser = chromium()
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--no-first-run", f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
                           f"--screenshot={out}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert out.is_file(), done.stderr[-500:]
    return out.read_bytes()


NODE_FILL = bytes((0xE6, 0xEF, 0xFA))  # style.css: svg.tree-diagram .node
ROOT_FILL = bytes((0x17, 0x4A, 0x8B))  # style.css: svg.tree-diagram .node.root


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_html_renders_in_headless_chromium(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    site = tmp_path / "site"
    source = GOLDEN / "sales" / "input.terr"
    docsgen.write_site(generate([source], ("html",)), site)
    shot = screenshot(site / "FY30.html", tmp_path / "shot.png", tmp_path / "profile", size=(1200, 2400))
    width, height, bpp, rows = png_pixels(shot)
    assert (width, height) == (1200, 2400)
    dark = sum(1 for row in rows[::4] for i in range(0, len(row), bpp * 4) if sum(row[i:i + 3]) < 3 * 128)
    colours = {row[i:i + 3] for row in rows[::8] for i in range(0, len(row), bpp * 8)}
    sampled = (height // 4) * (width // 4)
    assert dark > sampled * 0.005, "the page looks blank: almost no dark (text) pixels"
    assert len(colours) > 20, "the page looks blank: hardly any colours"

    # The SVG diagram is drawn where its layout says: find the root box, then check every box.
    def pixel(x: int, y: int) -> bytes:
        return rows[y][x * bpp:x * bpp + 3]

    layout = docsgen.build_site(docsgen.load_docs([source])).models[0].diagrams[0].svg
    root = layout.boxes[0]
    solid = (ROOT_FILL + b"\xff"[:bpp - 3]) * (root.width - 20)  # a row through the root box, inside its corners
    found = [(rows[y].find(solid), y) for y in range(height)]
    found = [(i // bpp, y) for i, y in found if i >= 0 and i % bpp == 0]
    assert len(found) > root.height // 2, "the diagram's root box is not drawn"
    # where the SVG's origin landed on the page (to a pixel: the box's 1px border is anti-aliased)
    left = min(x for x, _ in found) - 1 - root.x
    top = min(y for _, y in found) - 1 - root.y
    assert top + layout.height < height, "the diagram does not fit the screenshot"
    for box in layout.boxes[1:]:
        x0, y0 = left + box.x, top + box.y
        # the box's fill on both sides of its text, its text in the middle (dark, anti-aliased)
        assert pixel(x0 + 4, y0 + box.height // 2) == NODE_FILL, f"box {box.anchor} is not drawn"
        assert pixel(x0 + box.width - 5, y0 + box.height // 2) == NODE_FILL, f"box {box.anchor} is not drawn"
        text = sum(1 for y in range(y0 + 4, y0 + box.height - 4) for x in range(x0 + 8, x0 + box.width - 8)
                   if sum(pixel(x, y)) < 3 * 110)
        assert text > 40, f"box {box.anchor} has no text"
    # the edges: grey lines in the gaps between the columns
    gap_x = left + layout.boxes[0].x + layout.boxes[0].width + 10
    column = [pixel(gap_x, y) for y in range(top, top + layout.height)]
    assert sum(1 for p in column if p != bytes((255, 255, 255))) >= 1, "no edge leaves the root"
