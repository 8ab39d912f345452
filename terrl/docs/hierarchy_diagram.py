"""Hierarchy diagrams for `terrl docs`: one collapsed tree, drawn as Mermaid and as inline SVG.

`collapse` chooses what a diagram shows (breadth first, at most `DIAGRAM_MAX_NODES`
territories, "… N more" stand-ins for siblings cut off, a "+N below" count on territories
whose children are not drawn). `mermaid_text` (Markdown, which GitHub draws) and
`svg_layout` (HTML, drawn by the browser with no script and no request) draw that same
tree, so both formats show the same territories.

The SVG layout is a left-to-right indented tree: one column per depth, every drawn leaf
on its own row, each parent level with its first child (edges run right, then down to
the others). It stays readable for wide trees (a parent with 40 children is 40 rows, not
40 columns), the root and the branch names are always in the top-left corner of the
frame (a parent centred on 40 children would sit 20 rows down, scrolled out of sight),
and it is integer arithmetic only, so the output is byte-identical from run to run. Text is measured by an estimate
(per-character widths) and shortened with "…" to fit its box; the full text is in the
box's tooltip. The layout holds plain data: the Jinja2 template writes the markup, with
autoescape, so nothing from a `.terr` file can become markup.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass

from terrl.docs.english import territory_label
from terrl.semantics import ir

DIAGRAM_MAX_NODES = 40  # territories per diagram; larger trees are collapsed and split per top-level territory

# --- what a diagram shows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiagramNode:
    number: int  # breadth-first: 0 is the root (the model, or a top-level territory in a split diagram)
    label: str  # title, or the name as words when untitled; "… N more" for a stand-in
    path: str  # "na.west"; the model's name for a model root; "" for a stand-in
    anchor: str  # where the node links to on the page: "#t-na.west", "#top"
    owners: tuple[ir.Owner, ...]
    below: int  # territories under this one that are not drawn
    more: int  # > 0: this node stands for that many territories among its siblings, not drawn
    children: tuple["DiagramNode", ...]

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def territory_anchor(t: ir.Territory) -> str:
    return "t-" + t.path


def _size(t: ir.Territory) -> int:
    return sum(1 for _ in t.walk())


def collapse(root_label: str, root_path: str, root_anchor: str, root_owners: tuple[ir.Owner, ...],
             tops: tuple[ir.Territory, ...], max_nodes: int = DIAGRAM_MAX_NODES) -> tuple[DiagramNode, bool]:
    """The tree to draw below a root: at most `max_nodes` territories, breadth first; (tree, collapsed?)."""
    spec: list[tuple[str, str, str, tuple[ir.Owner, ...], int]] = [
        (root_label, root_path, root_anchor, root_owners, 0)]  # number -> (label, path, anchor, owners, more)
    kids: dict[int, list[int]] = {}
    below: dict[int, int] = {}
    queue: deque = deque([(0, tops)])
    budget = max_nodes
    collapsed = False
    while queue:
        parent, children = queue.popleft()
        if not children:
            continue
        if budget <= 0:
            below[parent] = sum(_size(k) for k in children)
            collapsed = True
            continue
        take = children if len(children) <= budget else children[:budget - 1]  # one place left for "… more"
        budget -= len(take) + (len(take) < len(children))
        for k in take:
            spec.append((territory_label(k), k.path, "#" + territory_anchor(k), k.owners, 0))
            kids.setdefault(parent, []).append(len(spec) - 1)
            queue.append((len(spec) - 1, k.children))
        if len(take) < len(children):
            hidden = sum(_size(k) for k in children[len(take):])
            # The stand-in links to its parent, whose details list every child.
            spec.append((f"… {hidden:,} more", "", spec[parent][2], (), hidden))
            kids.setdefault(parent, []).append(len(spec) - 1)
            collapsed = True

    def build(number: int) -> DiagramNode:
        label, path, anchor, owners, more = spec[number]
        return DiagramNode(number, label, path, anchor, owners, below.get(number, 0), more,
                           tuple(build(c) for c in kids.get(number, ())))

    return build(0), collapsed


# --- Mermaid -------------------------------------------------------------------------------

_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,_@/:-]")


def mermaid_label(text: str) -> str:
    """A quoted Mermaid label: everything but plain letters, digits and a few marks becomes `#NNN;`."""
    out = []
    for ch in text:
        if ch in "\r\n\t" or ord(ch) < 32:
            out.append(" ")
        elif _MERMAID_SAFE.fullmatch(ch) or (ch.isalnum() and ord(ch) > 127):
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return '"' + "".join(out) + '"'


def mermaid_text(root: DiagramNode) -> str:
    """A `flowchart LR`: generated ids `n0`, `n1`, … in breadth-first order, every label quoted and escaped."""
    parent_of: dict[int, int] = {}
    nodes: dict[int, DiagramNode] = {}
    for node in root.walk():
        nodes[node.number] = node
        for child in node.children:
            parent_of[child.number] = node.number
    lines = ["flowchart LR"]
    for number in sorted(nodes):
        node = nodes[number]
        label = f"{node.label} (+{node.below:,} below)" if node.below else node.label
        lines.append(f"  n{number}[{mermaid_label(label)}]")
    for number in sorted(parent_of):
        arrow = "-.->" if nodes[number].more else "-->"
        lines.append(f"  n{parent_of[number]} {arrow} n{number}")
    return "\n".join(lines) + "\n"


# --- SVG -----------------------------------------------------------------------------------

BOX_WIDTH = 200
BOX_HEIGHT = 46
ROW_PITCH = 54  # vertical distance between two drawn leaves
COLUMN_GAP = 56  # room for the elbow edges between two depths
MARGIN = 12
PADDING = 8  # inside a box, left and right of its text
BELOW_STUB = 18  # length of the dashed stub that leads to "+N below"
TITLE_SIZE, SMALL_SIZE = 13, 11
# Average advance per character as a share of the font size: generous, so estimated text rarely overflows.
_BOLD_SANS, _SANS, _MONO = 0.6, 0.56, 0.61


@dataclass(frozen=True, slots=True)
class SvgText:
    x: int
    y: int  # baseline
    text: str
    role: str  # CSS class: "label", "path", "owner", "below"


@dataclass(frozen=True, slots=True)
class SvgBox:
    x: int
    y: int
    width: int
    height: int
    kind: str  # "root", "territory" or "more"
    anchor: str
    tooltip: str  # the full, unshortened text
    texts: tuple[SvgText, ...]


@dataclass(frozen=True, slots=True)
class SvgEdge:
    d: str  # path data
    dashed: bool


@dataclass(frozen=True, slots=True)
class SvgDiagram:
    width: int
    height: int
    title: str  # the accessible name
    description: str
    edges: tuple[SvgEdge, ...]
    boxes: tuple[SvgBox, ...]
    notes: tuple[SvgText, ...]  # "+N below" beside collapsed territories


def text_width(text: str, size: int, share: float) -> float:
    """Estimated drawn width: wide (CJK) characters count as a full em, combining marks as nothing."""
    width = 0.0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += size if unicodedata.east_asian_width(ch) in ("W", "F") else size * share
    return width


def fit(text: str, size: int, share: float, room: float, keep_end: bool = False) -> str:
    """`text`, shortened with "…" until its estimated width fits `room` (from the end when `keep_end`)."""
    text = " ".join(text.split())  # one line: a newline in a title must not break the box
    if text_width(text, size, share) <= room:
        return text
    lo, hi = 0, len(text)  # the longest kept part that fits, by bisection (the width grows with the length)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        part = text[len(text) - mid:] if keep_end else text[:mid]
        if text_width(part + "…", size, share) <= room:
            lo = mid
        else:
            hi = mid - 1
    if keep_end:
        return "…" + text[len(text) - lo:].lstrip()
    return text[:lo].rstrip() + "…"


def _owner_line(owners: tuple[ir.Owner, ...], room: float) -> str:
    """The first owner with role, and "+N" others, fitted to `room`: a long id is shortened so
    that the role and the count stay (they say more in a box than an e-mail's domain)."""
    if not owners:
        return ""
    suffix = (f" ({owners[0].role})" if owners[0].role else "") + (f" +{len(owners) - 1}" if len(owners) > 1 else "")
    whole = owners[0].id + suffix
    left = room - text_width(suffix, SMALL_SIZE, _SANS)
    if text_width(whole, SMALL_SIZE, _SANS) <= room or left < text_width("ab…", SMALL_SIZE, _SANS):
        return fit(whole, SMALL_SIZE, _SANS, room)
    return fit(owners[0].id, SMALL_SIZE, _SANS, left) + suffix


def _tooltip(node: DiagramNode) -> str:
    if node.more:
        return f"{node.more:,} more territories, not drawn: see the parent's details"
    parts = [node.label]
    if node.path and node.path != node.label:
        parts.append(node.path)
    parts += [o.id + (f" ({o.role})" if o.role else "") for o in node.owners]
    if node.below:
        parts.append(f"{node.below:,} territories below, not drawn")
    return " ".join(" — ".join(parts).split())


def svg_layout(root: DiagramNode, title: str, collapsed: bool) -> SvgDiagram:
    """Place every node of a collapsed tree: left to right by depth, leaves on their own rows."""
    centre_y: dict[int, int] = {}
    depth_of: dict[int, int] = {}
    row = 0

    def place(node: DiagramNode, depth: int) -> int:
        nonlocal row
        depth_of[node.number] = depth
        if node.children:
            ys = [place(child, depth + 1) for child in node.children]
            y = ys[0]  # level with its first child: the top-left corner always shows the root and the branches
        else:
            y = MARGIN + BOX_HEIGHT // 2 + row * ROW_PITCH
            row += 1
        centre_y[node.number] = y
        return y

    place(root, 0)
    room = BOX_WIDTH - 2 * PADDING
    boxes: list[SvgBox] = []
    edges: list[SvgEdge] = []
    notes: list[SvgText] = []
    right = 0
    for node in root.walk():
        x = MARGIN + depth_of[node.number] * (BOX_WIDTH + COLUMN_GAP)
        cy = centre_y[node.number]
        top = cy - BOX_HEIGHT // 2
        mid = x + BOX_WIDTH // 2
        kind = "root" if node.number == 0 else "more" if node.more else "territory"
        if node.more:
            texts = (SvgText(mid, cy + 4, fit(node.label, SMALL_SIZE, _SANS, room), "label"),)
        else:
            lines = [(fit(node.label, TITLE_SIZE, _BOLD_SANS, room), "label"),
                     (fit(node.path, SMALL_SIZE, _MONO, room, keep_end=True), "path")]
            owner = _owner_line(node.owners, room)
            if owner:
                lines.append((owner, "owner"))
            baselines = (top + 16, top + 29, top + 41) if owner else (top + 19, top + 34)
            texts = tuple(SvgText(mid, base, text, role) for (text, role), base in zip(lines, baselines))
        boxes.append(SvgBox(x, top, BOX_WIDTH, BOX_HEIGHT, kind, node.anchor, _tooltip(node), texts))
        right = max(right, x + BOX_WIDTH)
        for child in node.children:
            start, elbow = x + BOX_WIDTH, x + BOX_WIDTH + COLUMN_GAP // 2
            end = start + COLUMN_GAP
            edges.append(SvgEdge(f"M{start} {cy}H{elbow}V{centre_y[child.number]}H{end}", bool(child.more)))
        if node.below:
            start = x + BOX_WIDTH
            edges.append(SvgEdge(f"M{start} {cy}H{start + BELOW_STUB}", True))
            text = f"+{node.below:,} below"
            notes.append(SvgText(start + BELOW_STUB + 4, cy + 4, text, "below"))
            right = max(right, start + BELOW_STUB + 4 + int(text_width(text, SMALL_SIZE, _SANS)) + 1)
    count = sum(1 for n in root.walk() if n.number and not n.more)
    description = (f"{count:,} territor{'y' if count == 1 else 'ies'} drawn as a tree from left to right"
                   + ("; large branches are collapsed" if collapsed else "")
                   + ". Every territory is in the list after the diagram.")
    return SvgDiagram(right + MARGIN, MARGIN * 2 + max(row, 1) * ROW_PITCH - (ROW_PITCH - BOX_HEIGHT),
                      title, description, tuple(edges), tuple(boxes), tuple(notes))
