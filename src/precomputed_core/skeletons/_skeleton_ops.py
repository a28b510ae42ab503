"""Graph operations of ``Skeleton``: consolidate, crop, components, paths, downsample and smoothing.

Split from ``_skeleton.py`` to keep each module readable, as ``Bbox`` keeps its
operators apart. Every operation returns a new skeleton with the same id,
transform, space and vertex attributes; vertex attributes follow their vertices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import GeometryError
from ..geometry import Bbox
from ._skeleton_graph import Adjacency, component_labels, interjoint_paths, simple_edges, tree_paths

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._skeleton import Skeleton

__all__ = ["SkeletonGraphOps"]

_NO_EDGES = np.zeros((0, 2), dtype=np.int64)


class SkeletonGraphOps:
    """The operations on a skeleton's graph; ``Skeleton`` supplies the state and ``_subset``."""

    vertices: npt.NDArray[np.float32]
    edges: npt.NDArray[np.uint32]
    radius: npt.NDArray[Any]

    if TYPE_CHECKING:

        def _subset(self, vertex_idx: npt.ArrayLike, edges: npt.ArrayLike) -> Skeleton: ...
        def clone(self) -> Skeleton: ...
        def empty(self) -> bool: ...

    def terminals(self) -> npt.NDArray[Any]:
        """Return the indices of vertices on exactly one edge."""
        nodes, counts = np.unique(self.edges, return_counts=True)
        found: npt.NDArray[Any] = nodes[counts == 1]
        return found

    def branches(self) -> npt.NDArray[Any]:
        """Return the indices of vertices on three or more edges."""
        nodes, counts = np.unique(self.edges, return_counts=True)
        found: npt.NDArray[Any] = nodes[counts >= 3]
        return found

    def consolidate(self, remove_disconnected_vertices: bool = True) -> Skeleton:
        """Return a copy with duplicate vertices merged and duplicate and self-loop edges removed.

        As osteoid: vertices come out sorted by (x, y, z), each keeping the
        attributes of its first occurrence; edges are ``(low, high)`` rows in
        sorted order. Vertices on no edge are dropped when
        ``remove_disconnected_vertices``, except that a skeleton of one vertex
        keeps it.
        """
        if self.vertices.shape[0] == 1:
            return self._subset([0], _NO_EDGES)
        return self._consolidate(remove_disconnected_vertices)

    def _consolidate(self, remove_disconnected_vertices: bool) -> Skeleton:
        if self.empty():
            return self._subset([], _NO_EDGES)
        _, first, inverse = np.unique(self.vertices, axis=0, return_index=True, return_inverse=True)
        edges = simple_edges(np.ravel(inverse)[self.edges])
        skel = self._subset(first, edges)
        return skel.remove_disconnected_vertices() if remove_disconnected_vertices else skel

    def remove_disconnected_vertices(self) -> Skeleton:
        """Return a copy without the vertices that are on no edge (others keep their order)."""
        if self.empty():
            return self._subset([], _NO_EDGES)
        used = np.unique(self.edges)
        if used.size == self.vertices.shape[0]:
            return self.clone()
        remap = np.full(self.vertices.shape[0], -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        return self._subset(used, remap[self.edges])

    def crop(self, bbox: Any) -> Skeleton:
        """Return the part inside ``bbox`` (its faces count as inside), consolidated.

        ``bbox`` is anything ``Bbox.create`` takes, in the skeleton's own
        coordinates. Edges leaving the box are dropped with their outside vertex.
        """
        box = Bbox.create(bbox)
        if self.empty():
            return self.clone()
        lo = np.asarray(box.minpt, dtype=np.float64)
        hi = np.asarray(box.maxpt, dtype=np.float64)
        inside = np.all((self.vertices >= lo) & (self.vertices <= hi), axis=1)
        keep = np.flatnonzero(inside)
        remap = np.full(self.vertices.shape[0], -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        edges = remap[self.edges]
        return self._subset(keep, edges[np.all(edges >= 0, axis=1)])._consolidate(True)

    def components(self) -> list[Skeleton]:
        """Return one skeleton per connected component, in the order their first edges appear.

        Within a component vertices keep their relative order. Vertices on no
        edge belong to no component.
        """
        if self.edges.shape[0] == 0:
            return []
        e = self.edges.astype(np.int64)
        labels = component_labels(e, self.vertices.shape[0])
        verts = np.unique(e)
        vert_order = verts[np.argsort(labels[verts], kind="stable")]
        _, vert_starts = np.unique(labels[vert_order], return_index=True)
        edge_order = np.argsort(labels[e[:, 0]], kind="stable")
        _, edge_starts = np.unique(labels[e[edge_order, 0]], return_index=True)
        remap = np.zeros(self.vertices.shape[0], dtype=np.int64)
        out = []
        for members, rows in zip(
            np.split(vert_order, vert_starts[1:]), np.split(e[edge_order], edge_starts[1:])
        ):
            remap[members] = np.arange(members.size)
            out.append(self._subset(members, remap[rows]))
        # Groups are sorted by label; osteoid lists components by their first edge.
        return [out[i] for i in np.argsort(edge_order[edge_starts], kind="stable")]

    def interjoint_paths(self, return_indices: bool = False) -> list[npt.NDArray[Any]]:
        """Return the paths between adjacent critical points (terminals and branch points).

        Each is an ``(L, 3)`` array of vertices, or of vertex indices when
        ``return_indices``. Paths run away from the lowest-index terminal of
        their component.
        """
        paths = interjoint_paths(self.edges, self.vertices.shape[0])
        if return_indices:
            return [np.asarray(p, dtype=np.int64) for p in paths]
        return [self.vertices[p] for p in paths]

    def paths(self, return_indices: bool = False) -> list[npt.NDArray[Any]]:
        """Return, per component, every leaf-to-root path, rooted at a far end of the component.

        As osteoid: a component's root is the vertex the most hops from its
        lowest vertex in (x, y, z) order; each path runs from a leaf to that root.
        With ``return_indices`` the paths are indices into ``vertices``.
        """
        e = simple_edges(self.edges)
        if e.shape[0] == 0:
            return []
        n = self.vertices.shape[0]
        labels = component_labels(e, n)
        # osteoid walks each component consolidated, i.e. with vertices in (x, y, z) order.
        v = self.vertices
        by_position = np.lexsort((v[:, 2], v[:, 1], v[:, 0]))
        rank = np.empty(n, dtype=np.int64)
        rank[by_position] = np.arange(n)
        by_position = by_position[np.isin(by_position, e)]
        _, first = np.unique(labels[by_position], return_index=True)
        adj = Adjacency(e, n, rank)
        out: list[npt.NDArray[Any]] = []
        for start in by_position[first].tolist():
            for path in tree_paths(adj, start):
                out.append(np.asarray(path, dtype=np.int64) if return_indices else self.vertices[path])
        return out

    def downsample(self, factor: int) -> Skeleton:
        """Return a copy keeping every ``factor``-th vertex along each interjoint path.

        Terminals and branch points are always kept, so the topology is
        unchanged; the result is consolidated. ``factor=1`` returns a copy.

        Raises
        ------
        ValueError
            ``factor`` is not a whole number >= 1.
        """
        if isinstance(factor, bool) or int(factor) != factor or factor < 1:
            raise ValueError(f"downsample factor must be a whole number >= 1, got {factor!r}")
        step = int(factor)
        if step == 1:
            return self.clone()
        kept: list[int] = []
        edges: list[tuple[int, int]] = []
        for path in interjoint_paths(self.edges, self.vertices.shape[0]):
            stride = path[::step]
            if stride[-1] != path[-1]:
                stride.append(path[-1])
            base = len(kept)
            edges.extend((base + i, base + i + 1) for i in range(len(stride) - 1))
            kept.extend(stride)
        return self._subset(kept, np.asarray(edges, dtype=np.int64).reshape(-1, 2))._consolidate(True)

    def average_smoothing(self, n: int, check_boundary: bool = True, shrink_radii: bool = False) -> Skeleton:
        """Return a copy with each interjoint path smoothed by an ``n``-vertex moving average.

        As osteoid: the window runs forwards and then backwards along each path
        (so the smoothing does not lag), the path's ends (terminals and branch
        points) stay where they are, and the result is consolidated. ``n <= 1``
        returns a copy. Vertices on no edge are dropped.

        Parameters
        ----------
        n : int
            The window, in vertices.
        check_boundary : bool
            Refuse to move a vertex farther than its ``radius`` (so the skeleton
            stays inside the object); skipped when there is no ``radius``. An
            unknown radius (-1) allows no move at all, as in osteoid.
        shrink_radii : bool
            Reduce each radius by how far its vertex moved.

        Raises
        ------
        GeometryError
            ``check_boundary`` and a vertex would move farther than its radius.
        """
        if n <= 1:
            return self.clone()
        has_radius = "radius" in self.__dict__
        kept: list[npt.NDArray[np.int64]] = []
        points: list[npt.NDArray[np.float64]] = []
        distances: list[npt.NDArray[np.float64]] = []
        edges: list[npt.NDArray[np.int64]] = []
        start = 0
        for path in interjoint_paths(self.edges, self.vertices.shape[0]):
            idx = np.asarray(path, dtype=np.int64)
            original = self.vertices[idx].astype(np.float64)
            smooth = _moving_average(_moving_average(original, n)[::-1], n)[::-1]
            smooth[0], smooth[-1] = original[0], original[-1]
            distance = np.linalg.norm(original - smooth, axis=1)
            if check_boundary and has_radius:
                _check_inside(idx, original, smooth, distance, np.ravel(self.radius)[idx])
            # Each path is its own chain here; consolidation joins the chains at their shared ends.
            step = np.arange(start, start + idx.size - 1)
            edges.append(np.stack([step, step + 1], axis=1))
            start += idx.size
            kept.append(idx)
            points.append(smooth)
            distances.append(distance)
        if not kept:
            return self._subset([], _NO_EDGES)
        skel = self._subset(np.concatenate(kept), np.concatenate(edges))
        skel.vertices = np.concatenate(points).astype(np.float32)
        if shrink_radii and has_radius:
            shrunk = np.ravel(skel.radius).astype(np.float64) - np.concatenate(distances)
            skel.radius = shrunk.astype(skel.radius.dtype).reshape(skel.radius.shape)
        return skel._consolidate(True)


def _moving_average(points: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    """The mean of each point and the ``n - 1`` before it, mirroring the start (osteoid's filter)."""
    padded = np.pad(points, [(n, n), (0, 0)], mode="symmetric")
    total = np.cumsum(padded, axis=0, dtype=np.float64)
    out: npt.NDArray[np.float64] = (total[n:] - total[:-n])[:-n] / float(n)
    return out


def _check_inside(
    idx: npt.NDArray[np.int64],
    original: npt.NDArray[np.float64],
    smooth: npt.NDArray[np.float64],
    distance: npt.NDArray[np.float64],
    radius: npt.NDArray[Any],
) -> None:
    outside = np.flatnonzero(distance > radius)
    if not outside.size:
        return
    i = int(outside[0])
    if radius[i] < 0:
        raise GeometryError(
            f"smoothing cannot check vertex {int(idx[i])} stays inside the object: its radius is "
            f"unknown ({float(radius[i])}); set the radii or pass check_boundary=False"
        )
    raise GeometryError(
        f"smoothing would move vertex {int(idx[i])} from {original[i].tolist()} to "
        f"{smooth[i].tolist()}, {distance[i]:.3f} away, more than its radius {float(radius[i]):.3f}, "
        "so outside the object; use a smaller window or check_boundary=False"
    )
