"""Graph algorithms on a skeleton's edge list: pure functions of ``(edges, num_vertices)``.

Vertices are the indices ``0..n-1``; edges an ``(E, 2)`` integer array, read as
undirected. Connected components are found with numpy (hooking and pointer
jumping) so they stay fast on million-vertex skeletons; walks that must visit
vertices in order (paths, DFS for SWC) are plain Python over an adjacency list,
as in osteoid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "Adjacency",
    "component_labels",
    "dfs_rows",
    "interjoint_paths",
    "simple_edges",
    "tree_paths",
]


def simple_edges(edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Return each undirected edge once as a sorted ``(low, high)`` row, self-loops dropped."""
    rows: npt.NDArray[np.int64] = np.sort(np.asarray(edges, dtype=np.int64).reshape(-1, 2), axis=1)
    rows = rows[rows[:, 0] != rows[:, 1]]
    if rows.shape[0] == 0:
        return rows
    unique: npt.NDArray[np.int64] = np.unique(rows, axis=0)
    return unique


def component_labels(edges: npt.NDArray[Any], n: int) -> npt.NDArray[np.int64]:
    """Label each vertex with the smallest vertex index of its connected component."""
    parent = np.arange(n, dtype=np.int64)
    if edges.shape[0] == 0:
        return parent
    a = edges[:, 0].astype(np.int64)
    b = edges[:, 1].astype(np.int64)
    while True:
        pa, pb = parent[a], parent[b]
        if np.array_equal(pa, pb):
            return parent
        # Hook each root onto the smallest root it touches: always downwards, so no cycles.
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


class Adjacency:
    """Neighbours of every vertex (CSR), with the index of the edge reaching each.

    Each vertex's neighbours are listed by ascending ``rank`` (default: index),
    which fixes the order walks visit them in.
    """

    def __init__(self, edges: npt.NDArray[Any], n: int, rank: npt.NDArray[Any] | None = None) -> None:
        e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        src = np.concatenate([e[:, 0], e[:, 1]])
        dst = np.concatenate([e[:, 1], e[:, 0]])
        order = np.lexsort((dst if rank is None else rank[dst], src))
        counts = np.bincount(src, minlength=n)
        self.degree: npt.NDArray[np.int64] = counts
        self.start: list[int] = np.concatenate([[0], np.cumsum(counts)]).tolist()
        self.neighbour: list[int] = dst[order].tolist()
        self.edge: list[int] = np.tile(np.arange(e.shape[0]), 2)[order].tolist()

    def around(self, v: int) -> range:
        return range(self.start[v], self.start[v + 1])


def interjoint_paths(edges: npt.NDArray[Any], n: int) -> list[list[int]]:
    """Return the vertex paths between adjacent critical points (terminals and branches).

    Each component is entered at its lowest-index terminal (its lowest vertex
    if it is a cycle), and every path runs away from that root, as osteoid's
    do; so striding along a path keeps the same vertices. Every edge lies on
    exactly one path, cycles included.
    """
    e = simple_edges(edges)
    if e.shape[0] == 0:
        return []
    adj = Adjacency(e, n)
    labels = component_labels(e, n)
    critical = (adj.degree != 2).tolist()
    used = [False] * e.shape[0]
    visited = [False] * n
    paths: list[list[int]] = []
    for root in _roots(labels, adj.degree):
        critical[root] = visited[root] = True
        stack = [root]
        while stack:
            start = stack.pop()
            for k in adj.around(start):
                if used[adj.edge[k]]:
                    continue
                used[adj.edge[k]] = True
                path = _walk(adj, [start, adj.neighbour[k]], critical, used, visited)
                paths.append(path)
                end = path[-1]
                if critical[end] and not visited[end]:
                    visited[end] = True
                    stack.append(end)
    return paths


def _roots(labels: npt.NDArray[np.int64], degree: npt.NDArray[np.int64]) -> list[int]:
    """One root per component with edges: its lowest-index terminal, else its lowest vertex."""
    comps = np.unique(labels[degree > 0])
    roots = dict.fromkeys(comps.tolist())
    terminals = np.flatnonzero(degree == 1)
    found, first = np.unique(labels[terminals], return_index=True)
    roots.update(zip(found.tolist(), terminals[first].tolist()))
    return [root if root is not None else label for label, root in roots.items()]


def _walk(
    adj: Adjacency, path: list[int], critical: list[bool], used: list[bool], visited: list[bool]
) -> list[int]:
    """Extend ``path`` through degree-2 vertices until a critical or already visited one."""
    cur = path[-1]
    while not critical[cur] and not visited[cur]:
        visited[cur] = True
        for k in adj.around(cur):
            if not used[adj.edge[k]]:
                used[adj.edge[k]] = True
                cur = adj.neighbour[k]
                path.append(cur)
                break
        else:
            break
    return path


def _bfs(adj: Adjacency, root: int) -> tuple[list[int], dict[int, int]]:
    """Breadth-first order from ``root`` and each reached vertex's parent (root: -1)."""
    parent = {root: -1}
    order = [root]
    for v in order:
        for k in adj.around(v):
            u = adj.neighbour[k]
            if u not in parent:
                parent[u] = v
                order.append(u)
    return order, parent


def tree_paths(adj: Adjacency, start: int) -> list[list[int]]:
    """Return leaf-to-root paths of ``start``'s component, rooted at a vertex farthest from it.

    As osteoid's ``paths``: the root is the vertex the most hops from ``start``
    (on ties, the first reached breadth-first, so ``adj``'s neighbour order
    matters), and there is one path per other leaf of the breadth-first tree.
    """
    order, parent = _bfs(adj, start)
    depth = {start: 0}
    for v in order[1:]:
        depth[v] = depth[parent[v]] + 1
    root = max(order, key=depth.__getitem__)
    order, parent = _bfs(adj, root)
    has_child = {p for p in parent.values() if p >= 0}
    paths = []
    for leaf in order[1:]:
        if leaf in has_child:
            continue
        path = [leaf]
        while parent[path[-1]] >= 0:
            path.append(parent[path[-1]])
        paths.append(path)
    return paths


def dfs_rows(edges: npt.NDArray[Any], n: int, roots: list[int]) -> list[tuple[int, int]]:
    """Return ``(vertex, parent)`` in depth-first preorder from each root, then unreached vertices.

    A root's parent is -1; roots already reached from an earlier root are
    skipped. Vertices no root reaches (isolated ones) come last, each a root.
    """
    adj = Adjacency(simple_edges(edges), n)
    seen = [False] * n
    rows: list[tuple[int, int]] = []
    for root in [*roots, *range(n)]:
        stack = [(root, -1)]
        while stack:
            v, p = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            rows.append((v, p))
            stack.extend((adj.neighbour[k], v) for k in reversed(adj.around(v)) if not seen[adj.neighbour[k]])
    return rows
