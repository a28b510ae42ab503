"""The chunk grid of one scale: which chunks cover a box, and their keys."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._bbox import Bbox

if TYPE_CHECKING:
    from ._meta import LayerMeta

__all__ = ["ChunkGrid", "ChunkSet"]

_Int3 = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class ChunkSet:
    """Chunks as parallel lists: ``lo[i]``/``hi[i]`` are chunk i's corners, clipped to the volume.

    Plain Python ints: a cutout touches a handful of chunks, and numpy's per-call
    overhead would cost more than the arithmetic.
    """

    key: str
    lo: list[_Int3]
    hi: list[_Int3]

    def __len__(self) -> int:
        return len(self.lo)

    def name(self, i: int) -> str:
        """The storage key of chunk ``i``: ``<scale key>/x0-x1_y0-y1_z0-z1``."""
        (x0, y0, z0), (x1, y1, z1) = self.lo[i], self.hi[i]
        return f"{self.key}/{x0}-{x1}_{y0}-{y1}_{z0}-{z1}"

    def names(self) -> list[str]:
        return [self.name(i) for i in range(len(self))]


@dataclass(frozen=True, slots=True)
class ChunkGrid:
    """Chunk geometry of one scale, in voxels of that scale (x, y, z).

    Examples
    --------
    >>> grid = ChunkGrid("4_4_40", offset=(0, 0, 0), size=(100, 90, 37), chunk=(64, 64, 32))
    >>> grid.cover(Bbox((60, 0, 30), (70, 10, 31))).names()
    ['4_4_40/0-64_0-64_0-32', '4_4_40/64-100_0-64_0-32']
    >>> grid.count(Bbox((60, 0, 30), (70, 10, 40)))
    4
    >>> grid.cover(Bbox((99, 89, 36), (200, 200, 200))).names()
    ['4_4_40/64-100_64-90_32-37']
    """

    key: str
    offset: _Int3
    size: _Int3
    chunk: _Int3

    @classmethod
    def from_meta(cls, meta: LayerMeta, mip: int) -> ChunkGrid:
        def as3(v: Any) -> _Int3:
            x, y, z = (int(c) for c in v)
            return (x, y, z)

        return cls(
            key=meta.key(mip),
            offset=as3(meta.voxel_offset(mip)),
            size=as3(meta.volume_size(mip)),
            chunk=as3(meta.chunk_size(mip)),
        )

    @property
    def bounds(self) -> Bbox:
        lo = np.asarray(self.offset)
        return Bbox(lo, lo + np.asarray(self.size))

    def aligned(self, bbox: Bbox) -> Bbox:
        """``bbox`` grown to chunk boundaries, clipped to the volume."""
        grown = Bbox(bbox.minpt[:3], bbox.maxpt[:3]).expand_to_chunk_size(self.chunk, self.offset)
        return Bbox.clamp(grown, self.bounds)

    def is_aligned(self, bbox: Bbox) -> bool:
        return self.aligned(bbox) == Bbox(bbox.minpt[:3], bbox.maxpt[:3])

    def _axis(self, axis: int, lo: int, hi: int) -> list[tuple[int, int]]:
        offset, chunk, end = self.offset[axis], self.chunk[axis], self.offset[axis] + self.size[axis]
        lo, hi = max(lo, offset), min(hi, end)
        if lo >= hi:
            return []
        first = offset + (lo - offset) // chunk * chunk
        return [(start, min(start + chunk, end)) for start in range(first, hi, chunk)]

    def count(self, bbox: Bbox) -> int:
        """How many chunks :meth:`cover` would list, without listing them."""
        box_lo, box_hi = bbox.minpt[:3].tolist(), bbox.maxpt[:3].tolist()
        counts = [len(self._axis(a, int(box_lo[a]), int(box_hi[a]))) for a in range(3)]
        return counts[0] * counts[1] * counts[2]

    def cover(self, bbox: Bbox) -> ChunkSet:
        """The chunks that hold any voxel of ``bbox`` inside the volume, x varying fastest."""
        box_lo, box_hi = bbox.minpt[:3].tolist(), bbox.maxpt[:3].tolist()
        xs, ys, zs = (self._axis(a, int(box_lo[a]), int(box_hi[a])) for a in range(3))
        lo: list[_Int3] = []
        hi: list[_Int3] = []
        for (z0, z1), (y0, y1), (x0, x1) in itertools.product(zs, ys, xs):
            lo.append((x0, y0, z0))
            hi.append((x1, y1, z1))
        return ChunkSet(self.key, lo, hi)
