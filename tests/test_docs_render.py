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

from terrl import docsgen

from test_docs import GOLDEN, HOSTILE, REPO, check_mermaid_structure, generate, large_model_text, mermaid_blocks, write_terr

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


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_html_renders_in_headless_chromium(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    site = tmp_path / "site"
    docsgen.write_site(generate([GOLDEN / "sales" / "input.terr"], ("html",)), site)
    shot = screenshot(site / "FY30.html", tmp_path / "shot.png", tmp_path / "profile")
    width, height, bpp, rows = png_pixels(shot)
    assert (width, height) == (1200, 1600)
    dark = sum(1 for row in rows[::4] for i in range(0, len(row), bpp * 4) if sum(row[i:i + 3]) < 3 * 128)
    colours = {row[i:i + 3] for row in rows[::8] for i in range(0, len(row), bpp * 8)}
    sampled = (height // 4) * (width // 4)
    assert dark > sampled * 0.005, "the page looks blank: almost no dark (text) pixels"
    assert len(colours) > 20, "the page looks blank: hardly any colours"
