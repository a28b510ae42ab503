"""Matching skeleton vertices by position: ``equivalent`` and ``import_attributes``.

Both ask "which vertex of the other skeleton is at this point?", as osteoid
does with a dict of coordinate tuples. Here every position gets an integer id
shared across the arrays compared (``position_ids``), so the questions become
array operations and stay fast on large skeletons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._skeleton_files import check_attribute_specs

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy.typing as npt

    from ._skeleton import Skeleton

__all__ = ["SkeletonMatching", "position_ids"]


def position_ids(*vertex_arrays: npt.NDArray[Any]) -> list[npt.NDArray[np.int64]]:
    """Return, for each ``(N, 3)`` array, an id per row; equal positions share an id across arrays.

    Ids rank positions in (x, y, z) order. ``-0.0`` and ``0.0`` are one position,
    as they are for osteoid's tuple keys.
    """
    # + 0.0 turns -0.0 into 0.0, which np.unique would otherwise tell apart by its bytes.
    rows = [np.asarray(v, dtype=np.float32).reshape(-1, 3) + np.float32(0) for v in vertex_arrays]
    joined = np.concatenate(rows) if rows else np.zeros((0, 3), dtype=np.float32)
    _, inverse = np.unique(joined, axis=0, return_inverse=True)
    return np.split(np.ravel(inverse).astype(np.int64), np.cumsum([r.shape[0] for r in rows])[:-1])


def _edge_set(ids: npt.NDArray[np.int64], edges: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Each edge once as a sorted pair of position ids (an undirected graph on positions)."""
    pairs: npt.NDArray[np.int64] = np.sort(ids[np.asarray(edges, dtype=np.int64).reshape(-1, 2)], axis=1)
    return np.unique(pairs, axis=0) if pairs.size else pairs


def _rows_by_position(ids: npt.NDArray[np.int64], values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``values`` (one row per vertex) sorted by position, then by value, to compare as multisets."""
    order = np.lexsort((*values.T[::-1], ids))
    return values[order]


class SkeletonMatching:
    """Comparing and copying between skeletons by vertex position; ``Skeleton`` supplies the state."""

    vertices: npt.NDArray[np.float32]
    edges: npt.NDArray[np.uint32]
    extra_attributes: list[dict[str, Any]]

    if TYPE_CHECKING:

        def empty(self) -> bool: ...
        @classmethod
        def _checked_specs(cls, specs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]: ...

    @classmethod
    def equivalent(cls, first: Skeleton, second: Skeleton) -> bool:
        """Return True if two skeletons have the same form, whatever the order of their vertices and edges.

        As osteoid's: two empty skeletons are equivalent; otherwise both need as
        many vertices and edge rows, the same vertex positions (each as many
        times), and the same value of each attribute ``first`` declares at each
        position. Edges are compared as undirected links between positions, so
        ``(0, 1)`` and ``(1, 0)`` are one edge. Positions are compared exactly;
        ids, transforms and spaces are not compared.

        Examples
        --------
        >>> from precomputed_core import Skeleton
        >>> a = Skeleton([[0, 0, 0], [1, 0, 0], [1, 1, 0]], [[0, 1], [1, 2]])
        >>> b = Skeleton([[1, 1, 0], [0, 0, 0], [1, 0, 0]], [[0, 2], [2, 1]])
        >>> Skeleton.equivalent(a, b), a == b
        (True, False)
        """
        if first.empty() and second.empty():
            return True
        n = first.vertices.shape[0]
        if n != second.vertices.shape[0] or first.edges.shape[0] != second.edges.shape[0]:
            return False
        ids1, ids2 = position_ids(first.vertices, second.vertices)
        if not np.array_equal(np.sort(ids1), np.sort(ids2)):
            return False
        if not np.array_equal(_edge_set(ids1, first.edges), _edge_set(ids2, second.edges)):
            return False
        for spec in first.extra_attributes:
            name = spec["id"]
            if name not in second.__dict__:
                return False
            values1 = np.asarray(getattr(first, name)).reshape(n, -1)
            values2 = np.asarray(getattr(second, name)).reshape(n, -1)
            if values1.shape != values2.shape or not np.array_equal(
                _rows_by_position(ids1, values1), _rows_by_position(ids2, values2)
            ):
                return False
        return True

    def import_attributes(self, other: Skeleton) -> None:
        """Copy ``other``'s vertex attributes onto the vertices at the same positions, in place.

        Each attribute ``other`` declares is declared here as ``other`` declares
        it (replacing a declaration of the same id, in its place), with values of
        that data type. Where several vertices of ``other`` share a position, the
        last one's values are taken, as in osteoid. Vertices with no counterpart
        in ``other`` get -1 for ``radius`` and 0 otherwise, as a declared
        attribute without data does (osteoid leaves those arrays shorter than the
        vertices). As in osteoid, nothing changes when no vertex matches.
        """
        if self.vertices.shape[0] == 0 or other.vertices.shape[0] == 0:
            return
        mine, theirs = position_ids(self.vertices, other.vertices)
        last = np.full(int(max(mine.max(), theirs.max())) + 1, -1, dtype=np.int64)
        np.maximum.at(last, theirs, np.arange(theirs.size))
        source = last[mine]
        found = source >= 0
        if not found.any():
            return
        incoming = check_attribute_specs(other.extra_attributes)
        specs = {s["id"]: dict(s) for s in self.extra_attributes}
        specs.update((spec["id"], spec) for spec in incoming)
        self.extra_attributes = self._checked_specs(specs.values())
        for spec in incoming:
            name = spec["id"]
            values = np.asarray(getattr(other, name), dtype=spec["data_type"])
            fill = -1 if name == "radius" else 0
            out = np.full((self.vertices.shape[0], *values.shape[1:]), fill, dtype=values.dtype)
            out[found] = values[source[found]]
            setattr(self, name, out)
