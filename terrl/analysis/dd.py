"""Hash-consed multi-valued decision diagrams over the cells of `terrl.analysis.domain`.

A diagram is a DAG over the fields of a model in a fixed order (the *levels*; see
`domain.field_order`). An inner node tests one level and maps every cell of that
field to a child; the map is stored **piecewise**: `starts` (ascending first cells of
the pieces, the first is 0) and `kids` (one child per piece), with adjacent equal
children merged, so a node over a field with thousands of cells that only splits at
two places has three pieces. Terminals carry an arbitrary hashable value: `False` and
`True` for predicates and sets of accounts, or anything else (the evaluator compiles a
whole model into one diagram whose terminals are assignment outcomes).

Nodes are hash-consed (one id per distinct function), so equality of functions is
`==` on ids, `False` is the node `FALSE` (0) and `True` is `TRUE` (1). A path that skips
a level accepts every cell of it. Nodes are plain ints; they are valid only with the
`Manager` that made them.

API (all methods of `Manager(domains)`; `domains` are `FieldDomain`s in level order):

| method | meaning |
|---|---|
| `FALSE`, `TRUE`, `leaf(value)` | terminals; `value(node)` reads one back, `is_leaf(node)` |
| `node(level, starts, kids)` | an inner node (reduced: merged pieces, one piece = the child) |
| `level(node)`, `pieces(node)` | the tested level (`levels` for a terminal) and `[(first, end, kid)]` |
| `from_mask(level, mask)` | the predicate "the field at `level` is in these cells" |
| `box({level: mask})` | the conjunction of such predicates, built directly |
| `and_`, `or_`, `not_`, `diff(a, b)`, `or_many(nodes)`, `and_many` | boolean algebra (memoized) |
| `apply(fn, a, b)`, `map(fn, a)` | generic over terminal values, memoized per `fn` |
| `intersects(a, b)`, `subset(a, b)` | decided without building the result |
| `compile(pred)` | an `ir.Pred` as a boolean diagram (memoized per predicate object) |
| `is_empty(node)` | `node == FALSE` |
| `pick(node)` | one path to a non-FALSE terminal: `{level: cell}` preferring nice cells |
| `witness(node)` | a full account `{field: value}` (IR values, None = missing) on such a path |
| `regions(node, limit)` | disjoint boxes `[{field name: cell mask}]` covering the node, and their total count |
| `lookup(node, cells)` | walk with one cell per level (a sequence indexed by level); returns the terminal's node |
| `size(node)` | the number of inner nodes reachable from `node` |

The diagram of a predicate is canonical for the chosen order and the domains' cells,
so `compile(p) == compile(q)` iff p and q agree on every valid account.
"""

from __future__ import annotations

import bisect
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

from terrl.semantics import ir
from terrl.analysis.domain import FieldDomain, range_mask, runs

Node = int


class TooLarge(Exception):
    """A diagram outgrew its manager's `max_pieces`."""

    def __init__(self, max_pieces: int) -> None:
        super().__init__(f"the diagram needs more than {max_pieces:,} pieces")
        self.max_pieces = max_pieces


class Manager:
    FALSE: Node = 0
    TRUE: Node = 1

    def __init__(self, domains: Sequence[FieldDomain], max_pieces: int | None = None) -> None:
        self.domains = list(domains)
        # A bound on the pieces of all nodes (memory grows with them): building past it raises
        # TooLarge instead of running a shared machine out of memory (None: no bound).
        self.max_pieces = max_pieces
        self.pieces_made = 0
        self.levels = len(self.domains)
        self.level_of = {d.name: i for i, d in enumerate(self.domains)}
        terminal = self.levels
        self._level: list[int] = [terminal, terminal]
        self._starts: list[tuple[int, ...]] = [(), ()]
        self._kids: list[tuple[Node, ...]] = [(), ()]
        self._value: list[Any] = [False, True]
        self._unique: dict[tuple, Node] = {}
        # keyed by (type, value): True == 1 and False == 0 must not share a leaf
        self._leaves: dict[tuple, Node] = {(bool, False): 0, (bool, True): 1}
        self._and: dict[tuple[Node, Node], Node] = {}
        self._or: dict[tuple[Node, Node], Node] = {}
        self._diff: dict[tuple[Node, Node], Node] = {}
        self._not: dict[Node, Node] = {}
        self._meets: dict[tuple[Node, Node], bool] = {}
        self._within: dict[tuple[Node, Node], bool] = {}
        self._apply: dict[Hashable, dict] = {}
        self._compiled: dict[int, tuple[ir.Pred, Node]] = {}

    # --- construction ------------------------------------------------------------------

    def leaf(self, value: Hashable) -> Node:
        key = (value.__class__, value)
        node = self._leaves.get(key)
        if node is None:
            node = len(self._level)
            self._level.append(self.levels)
            self._starts.append(())
            self._kids.append(())
            self._value.append(value)
            self._leaves[key] = node
        return node

    def node(self, level: int, starts: Sequence[int], kids: Sequence[Node]) -> Node:
        """The reduced node with these pieces (adjacent equal kids are merged here)."""
        s: list[int] = []
        k: list[Node] = []
        for first, kid in zip(starts, kids):
            if k and k[-1] == kid:
                continue
            s.append(first)
            k.append(kid)
        return self._make(level, s, k)

    def _make(self, level: int, starts: list[int], kids: list[Node]) -> Node:
        """Like `node`, for pieces already merged."""
        if len(kids) == 1:
            return kids[0]
        key = (level, tuple(starts), tuple(kids))
        node = self._unique.get(key)
        if node is None:
            self.pieces_made += len(kids)
            if self.max_pieces is not None and self.pieces_made > self.max_pieces:
                raise TooLarge(self.max_pieces)
            node = len(self._level)
            self._level.append(level)
            self._starts.append(key[1])
            self._kids.append(key[2])
            self._value.append(None)
            self._unique[key] = node
        return node

    def from_mask(self, level: int, mask: int) -> Node:
        """True exactly on the cells of `mask` at `level`."""
        cells = self.domains[level].cells
        mask &= (1 << cells) - 1
        if mask == 0:
            return self.FALSE
        if mask == (1 << cells) - 1:
            return self.TRUE
        starts: list[int] = []
        kids: list[Node] = []
        pos = 0
        for a, b in runs(mask):
            if a > pos:
                starts.append(pos)
                kids.append(self.FALSE)
            starts.append(a)
            kids.append(self.TRUE)
            pos = b
        if pos < cells:
            starts.append(pos)
            kids.append(self.FALSE)
        return self._make(level, starts, kids)

    def box(self, masks: dict[int, int]) -> Node:
        """True exactly when the field at every given level is in its cells (a conjunction)."""
        node = self.TRUE
        for level in sorted(masks, reverse=True):
            cells = self.domains[level].cells
            mask = masks[level] & ((1 << cells) - 1)
            if mask == 0:
                return self.FALSE
            if node == self.FALSE or mask == (1 << cells) - 1:
                continue
            starts: list[int] = []
            kids: list[Node] = []
            pos = 0
            for a, b in runs(mask):
                if a > pos:
                    starts.append(pos)
                    kids.append(self.FALSE)
                starts.append(a)
                kids.append(node)
                pos = b
            if pos < cells:
                starts.append(pos)
                kids.append(self.FALSE)
            node = self._make(level, starts, kids)
        return node

    # --- inspection --------------------------------------------------------------------

    def level(self, node: Node) -> int:
        return self._level[node]

    def is_leaf(self, node: Node) -> bool:
        return self._level[node] == self.levels

    def value(self, node: Node) -> Any:
        return self._value[node]

    def pieces(self, node: Node) -> list[tuple[int, int, Node]]:
        """[(first cell, end cell, kid)] of an inner node."""
        starts = self._starts[node]
        kids = self._kids[node]
        cells = self.domains[self._level[node]].cells
        ends = starts[1:] + (cells,)
        return list(zip(starts, ends, kids))

    def is_empty(self, node: Node) -> bool:
        return node == self.FALSE

    def size(self, node: Node) -> int:
        seen: set[Node] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if n in seen or self._level[n] == self.levels:
                continue
            seen.add(n)
            stack.extend(self._kids[n])
        return len(seen)

    # --- the shared cofactor walk ------------------------------------------------------

    def _combine(self, a: Node, b: Node, op: Callable[[Node, Node], Node]) -> Node:
        """op applied below the top level of a and b, piece by piece."""
        la = self._level[a]
        lb = self._level[b]
        if la < lb:
            return self.node(la, self._starts[a], [op(k, b) for k in self._kids[a]])
        if lb < la:
            return self.node(lb, self._starts[b], [op(a, k) for k in self._kids[b]])
        sa, ka = self._starts[a], self._kids[a]
        sb, kb = self._starts[b], self._kids[b]
        na, nb = len(sa), len(sb)
        i = j = 0
        pos = 0
        starts: list[int] = []
        kids: list[Node] = []
        while True:
            r = op(ka[i], kb[j])
            if not kids or kids[-1] != r:
                starts.append(pos)
                kids.append(r)
            next_a = sa[i + 1] if i + 1 < na else None
            next_b = sb[j + 1] if j + 1 < nb else None
            if next_a is None and next_b is None:
                break
            if next_b is None or (next_a is not None and next_a < next_b):
                pos = next_a
                i += 1
            elif next_a is None or next_b < next_a:
                pos = next_b
                j += 1
            else:
                pos = next_a
                i += 1
                j += 1
        return self._make(la, starts, kids)

    # --- boolean algebra ---------------------------------------------------------------

    def and_(self, a: Node, b: Node) -> Node:
        if a == 0 or b == 0:
            return 0
        if a == 1 or a == b:
            return b
        if b == 1:
            return a
        if a > b:
            a, b = b, a
        key = (a, b)
        r = self._and.get(key)
        if r is None:
            r = self._combine(a, b, self.and_)
            self._and[key] = r
        return r

    def or_(self, a: Node, b: Node) -> Node:
        if a == 1 or b == 1:
            return 1
        if a == 0 or a == b:
            return b
        if b == 0:
            return a
        if a > b:
            a, b = b, a
        key = (a, b)
        r = self._or.get(key)
        if r is None:
            r = self._combine(a, b, self.or_)
            self._or[key] = r
        return r

    def not_(self, a: Node) -> Node:
        if a <= 1:
            return 1 - a
        r = self._not.get(a)
        if r is None:
            if self._level[a] == self.levels:
                raise TypeError("not_ applies to boolean diagrams only")
            r = self._make(self._level[a], list(self._starts[a]), [self.not_(k) for k in self._kids[a]])
            self._not[a] = r
        return r

    def diff(self, a: Node, b: Node) -> Node:
        """a and not b."""
        if a == 0 or b == 1 or a == b:
            return 0
        if b == 0:
            return a
        if a == 1:
            return self.not_(b)
        key = (a, b)
        r = self._diff.get(key)
        if r is None:
            r = self._combine(a, b, self.diff)
            self._diff[key] = r
        return r

    def or_many(self, nodes: Iterable[Node]) -> Node:
        """The union of many diagrams, combined as a balanced tree (cheaper than a fold)."""
        items = [n for n in nodes if n != 0]
        if any(n == 1 for n in items):
            return 1
        if not items:
            return 0
        while len(items) > 1:
            nxt = [self.or_(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
            if len(items) % 2:
                nxt.append(items[-1])
            items = nxt
        return items[0]

    def and_many(self, nodes: Iterable[Node]) -> Node:
        out = 1
        for n in nodes:
            out = self.and_(out, n)
            if out == 0:
                break
        return out

    def intersects(self, a: Node, b: Node) -> bool:
        """Whether a and b share an account (no new nodes are built)."""
        if a == 0 or b == 0:
            return False
        if a == 1 or b == 1 or a == b:
            return True
        if a > b:
            a, b = b, a
        key = (a, b)
        r = self._meets.get(key)
        if r is None:
            r = any(self.intersects(x, y) for x, y in self._pairs(a, b))
            self._meets[key] = r
        return r

    def subset(self, a: Node, b: Node) -> bool:
        """Whether every account of a is in b (no new nodes are built)."""
        if a == 0 or b == 1 or a == b:
            return True
        if b == 0 or a == 1:
            return False
        key = (a, b)
        r = self._within.get(key)
        if r is None:
            r = all(self.subset(x, y) for x, y in self._pairs(a, b))
            self._within[key] = r
        return r

    def _pairs(self, a: Node, b: Node):
        """The pairs of cofactors of a and b below their top level, lazily."""
        la = self._level[a]
        lb = self._level[b]
        if la < lb:
            for k in self._kids[a]:
                yield k, b
            return
        if lb < la:
            for k in self._kids[b]:
                yield a, k
            return
        sa, ka = self._starts[a], self._kids[a]
        sb, kb = self._starts[b], self._kids[b]
        i = j = 0
        na, nb = len(sa), len(sb)
        while True:
            yield ka[i], kb[j]
            next_a = sa[i + 1] if i + 1 < na else None
            next_b = sb[j + 1] if j + 1 < nb else None
            if next_a is None and next_b is None:
                return
            if next_b is None or (next_a is not None and next_a < next_b):
                i += 1
            elif next_a is None or next_b < next_a:
                j += 1
            else:
                i += 1
                j += 1

    # --- generic terminals -------------------------------------------------------------

    def apply(self, fn: Callable[[Any, Any], Hashable], a: Node, b: Node) -> Node:
        """The diagram whose terminal on every account is fn(value of a, value of b)."""
        memo = self._apply.setdefault(("apply", fn), {})
        terminal = self.levels
        level = self._level

        def go(x: Node, y: Node) -> Node:
            key = (x, y)
            r = memo.get(key)
            if r is None:
                if level[x] == terminal and level[y] == terminal:
                    r = self.leaf(fn(self._value[x], self._value[y]))
                else:
                    r = self._combine(x, y, go)
                memo[key] = r
            return r

        return go(a, b)

    def map(self, fn: Callable[[Any], Hashable], a: Node) -> Node:
        """The diagram whose terminal on every account is fn(value of a)."""
        memo = self._apply.setdefault(("map", fn), {})
        terminal = self.levels

        def go(x: Node) -> Node:
            r = memo.get(x)
            if r is None:
                if self._level[x] == terminal:
                    r = self.leaf(fn(self._value[x]))
                else:
                    r = self.node(self._level[x], self._starts[x], [go(k) for k in self._kids[x]])
                memo[x] = r
            return r

        return go(a)

    # --- predicates --------------------------------------------------------------------

    def compile(self, pred: ir.Pred | None) -> Node:
        """A predicate as a boolean diagram (None, a missing `where`, is TRUE)."""
        if pred is None:
            return self.TRUE
        hit = self._compiled.get(id(pred))
        if hit is not None and hit[0] is pred:
            return hit[1]
        if isinstance(pred, ir.Const):
            r = self.TRUE if pred.value else self.FALSE
        elif isinstance(pred, ir.ATOMS):
            level = self.level_of[pred.field]
            r = self.from_mask(level, self.domains[level].atom_cells(pred))
        elif isinstance(pred, ir.Not):
            r = self.not_(self.compile(pred.operand))
        elif isinstance(pred, ir.And):
            # atoms are intersected per field and built as one chain; the rest is combined
            masks: dict[int, int] = {}
            rest = []
            for p in pred.operands:
                if isinstance(p, ir.ATOMS):
                    level = self.level_of[p.field]
                    masks[level] = masks.get(level, -1) & self.domains[level].atom_cells(p)
                else:
                    rest.append(p)
            r = self.and_many([self.box(masks), *(self.compile(p) for p in rest)])
        elif isinstance(pred, ir.Or):
            r = self.or_many(self.compile(p) for p in pred.operands)
        else:
            raise TypeError(f"not a predicate: {pred!r}")
        self._compiled[id(pred)] = (pred, r)  # the pred is kept alive, so its id stays unique
        return r

    # --- reading results ---------------------------------------------------------------

    def _best_cell(self, level: int, first: int, end: int) -> tuple[int, int]:
        """(rank, cell): missing where the piece allows it, else the cell nearest the preferred one.

        An optional field the finding does not depend on is shown missing, so a witness
        names only the values that matter (not `state: AK` for a Canadian account).
        """
        d = self.domains[level]
        null = d.null_cell
        if null is not None and end > null:
            return (-1, null)  # the null cell is the last one: this piece includes it
        want = d.preferred_cell
        cell = want if first <= want < end else (first if want < first else end - 1)
        return (abs(cell - want), cell)

    def pick(self, node: Node) -> dict[int, int]:
        """One path from node to a non-FALSE terminal, as {level: cell}, preferring nice cells."""
        if node == self.FALSE:
            raise ValueError("pick from an empty diagram")
        path: dict[int, int] = {}
        terminal = self.levels
        while self._level[node] != terminal:
            level = self._level[node]
            best = None
            for first, end, kid in self.pieces(node):
                if kid == self.FALSE:
                    continue
                rank, cell = self._best_cell(level, first, end)
                if best is None or rank < best[0]:
                    best = (rank, cell, kid)
            path[level] = best[1]
            node = best[2]
        return path

    def witness(self, node: Node) -> dict[str, Any]:
        """A full account (every field, in schema-domain order) on a path of node."""
        path = self.pick(node)
        out: dict[str, Any] = {}
        for level, d in enumerate(self.domains):
            unconstrained = d.preferred_cell if d.null_cell is None else d.null_cell
            cell = path.get(level, unconstrained)
            out[d.name] = d.representative(cell)
        self._fit_contexts(out)
        return out

    # --- fields read in the context of a country field ---------------------------------
    # `state: subdivisions.Subdivision? of country`: a valid account's state is a subdivision of
    # its country (or missing). That ties two fields, so the cells alone do not say it: the
    # universe is cut down by `valid_contexts` (per state cell, the country cells it fits), and
    # a witness's state and country, chosen each in its own cell, are then made to fit.

    def _context_levels(self) -> Iterator[tuple[FieldDomain, FieldDomain]]:
        for d in self.domains:
            if d.field.context is not None and d.field.context in self.level_of:
                yield d, self.domains[self.level_of[d.field.context]]

    def valid_contexts(self) -> Node:
        """The accounts whose fields read `of` a country hold a subdivision of that country (or
        nothing): TRUE when the schema has no such field."""
        node = self.TRUE
        for d, cd in self._context_levels():
            countries = {m: cd.cell_of(m) for m in cd.type.members}
            fits: dict[int, int] = {}  # state cell -> mask of the country cells its codes belong to
            for member in d.type.members:
                cell = countries.get(member[:2])
                if cell is not None:
                    state_cell = d.cell_of(member)
                    fits[state_cell] = fits.get(state_cell, 0) | 1 << cell
            by_countries: dict[int, int] = {}  # country mask -> state cells
            for state_cell, mask in fits.items():
                by_countries[mask] = by_countries.get(mask, 0) | 1 << state_cell
            level, country_level = self.level_of[d.name], self.level_of[cd.name]
            parts = [self.box({level: cells, country_level: mask}) for mask, cells in by_countries.items()]
            if d.null_cell is not None:
                parts.append(self.box({level: 1 << d.null_cell}))
            node = self.and_(node, self.or_many(parts))
        return node

    def _fit_contexts(self, out: dict[str, Any]) -> None:
        """Make each subdivision in a witness one of its country's, keeping both fields in their
        cells (so every rule reads the account alike); `valid_contexts` says such a pair exists."""
        for d, cd in self._context_levels():
            code, country = out[d.name], out[cd.name]
            if code is None or code[:2] == country:
                continue
            country_cell = cd.cell_of(country)
            known = set(cd.type.members)
            span = d.interval(d.cell_of(code))
            for member in d.type.members[span.lo:span.hi]:
                if member[:2] in known and cd.cell_of(member[:2]) == country_cell:
                    out[d.name], out[cd.name] = member, member[:2]
                    break

    def cells_of(self, account: dict[str, Any]) -> list[int]:
        """The cell of every level for an account of valid IR values (missing keys: None)."""
        return [d.cell_of(account.get(d.name)) for d in self.domains]

    def lookup(self, node: Node, cells: Sequence[int]) -> Node:
        """The terminal reached with one cell per level."""
        terminal = self.levels
        level = self._level
        while level[node] != terminal:
            starts = self._starts[node]
            node = self._kids[node][bisect.bisect_right(starts, cells[level[node]]) - 1]
        return node

    def count_regions(self, node: Node) -> int:
        """How many disjoint boxes `regions` would list in all."""
        memo: dict[Node, int] = {}
        terminal = self.levels

        def go(n: Node) -> int:
            if n == self.FALSE:
                return 0
            if self._level[n] == terminal:
                return 1
            r = memo.get(n)
            if r is None:
                r = sum(go(k) for k in set(self._kids[n]))
                memo[n] = r
            return r

        return go(node)

    def regions(self, node: Node, limit: int = 50) -> tuple[list[dict[str, int]], int]:
        """Up to `limit` disjoint boxes {field name: cell mask} whose union is node's non-FALSE
        part (unconstrained fields are left out), and the total number of boxes."""
        boxes: list[dict[str, int]] = []
        terminal = self.levels

        def go(n: Node, box: dict[str, int]) -> None:
            if len(boxes) >= limit or n == self.FALSE:
                return
            if self._level[n] == terminal:
                boxes.append(dict(box))
                return
            d = self.domains[self._level[n]]
            grouped: dict[Node, int] = {}
            for first, end, kid in self.pieces(n):
                if kid != self.FALSE:
                    grouped[kid] = grouped.get(kid, 0) | range_mask(first, end)
            for kid, mask in grouped.items():
                box[d.name] = mask
                go(kid, box)
                del box[d.name]

        go(node, {})
        return boxes, self.count_regions(node)
