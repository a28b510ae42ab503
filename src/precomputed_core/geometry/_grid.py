"""The chunk grid of one scale: which chunks cover a box, and their names."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from ._bbox import Bbox

__all__ = ["Chunk", "ChunkGrid", "ChunkSet", "chunk_name"]

_Int3 = tuple[int, int, int]


class _HasGrids(Protocol):
    def grid(self, mip: int) -> ChunkGrid: ...


def chunk_name(scale_key: str, lo: _Int3, hi: _Int3) -> str:
    """The name of the chunk ``[lo, hi)``: ``<scale key>/x0-x1_y0-y1_z0-z1``.

    The only place a chunk's name is spelled. In an unsharded scale it is the
    chunk's storage key; in a sharded one it names the chunk in messages and in
    ``exists``.

    >>> chunk_name("4_4_40", (0, 64, 0), (64, 128, 32))
    '4_4_40/0-64_64-128_0-32'
    """
    return f"{scale_key}/{lo[0]}-{hi[0]}_{lo[1]}-{hi[1]}_{lo[2]}-{hi[2]}"


class Chunk(NamedTuple):
    """One chunk of a scale: its name and its voxels ``[lo, hi)`` (clipped to the volume).

    A named tuple, not a dataclass: a read makes one per chunk it touches, and small
    cutouts touch many (a frozen dataclass costs twice as much to build).
    """

    name: str
    lo: _Int3
    hi: _Int3


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
        """The name of chunk ``i`` (``chunk_name``)."""
        return chunk_name(self.key, self.lo[i], self.hi[i])

    def names(self) -> list[str]:
        return [self.name(i) for i in range(len(self))]

    def chunks(self) -> list[Chunk]:
        return [Chunk(chunk_name(self.key, lo, hi), lo, hi) for lo, hi in zip(self.lo, self.hi)]


@dataclass(frozen=True, slots=True)
class ChunkGrid:
    """A regular grid of cells over one scale, in voxels of that scale (x, y, z).

    The cells are a scale's chunks, or larger units that several chunks share (a
    shard, a pack of chunks): the grid work is cut on so that no two workers ever
    rewrite the same stored object.

    Examples
    --------
    >>> grid = ChunkGrid("4_4_40", offset=(0, 0, 0), size=(100, 90, 37), chunk=(64, 64, 32))
    >>> grid.cover(Bbox((60, 0, 30), (70, 10, 31))).names()
    ['4_4_40/0-64_0-64_0-32', '4_4_40/64-100_0-64_0-32']
    >>> grid.count(Bbox((60, 0, 30), (70, 10, 40)))
    4
    >>> grid.cover(Bbox((99, 89, 36), (200, 200, 200))).names()
    ['4_4_40/64-100_64-90_32-37']
    >>> grid.coarsened((2, 2, 1)).chunk
    (128, 128, 32)
    """

    key: str
    offset: _Int3
    size: _Int3
    chunk: _Int3

    @classmethod
    def from_meta(cls, meta: _HasGrids, mip: int) -> ChunkGrid:
        """The chunk grid of a Precomputed scale: ``meta.grid(mip)`` (kept for 0.1.0 callers)."""
        return meta.grid(mip)

    @property
    def bounds(self) -> Bbox:
        lo = np.asarray(self.offset)
        return Bbox(lo, lo + np.asarray(self.size))

    def coarsened(self, factor: tuple[int, int, int]) -> ChunkGrid:
        """The grid whose cells are ``factor`` (x, y, z) cells of this one."""
        x, y, z = (c * f for c, f in zip(self.chunk, factor))
        return ChunkGrid(self.key, self.offset, self.size, (x, y, z))

    def aligned(self, bbox: Bbox) -> Bbox:
        """``bbox`` grown to cell boundaries, clipped to the volume."""
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
        """How many cells ``cover`` would list, without listing them."""
        box_lo, box_hi = bbox.minpt[:3].tolist(), bbox.maxpt[:3].tolist()
        counts = [len(self._axis(a, int(box_lo[a]), int(box_hi[a]))) for a in range(3)]
        return counts[0] * counts[1] * counts[2]

    def cover(self, bbox: Bbox) -> ChunkSet:
        """The cells that hold any voxel of ``bbox`` inside the volume, x varying fastest."""
        box_lo, box_hi = bbox.minpt[:3].tolist(), bbox.maxpt[:3].tolist()
        xs, ys, zs = (self._axis(a, int(box_lo[a]), int(box_hi[a])) for a in range(3))
        lo: list[_Int3] = []
        hi: list[_Int3] = []
        for (z0, z1), (y0, y1), (x0, x1) in itertools.product(zs, ys, xs):
            lo.append((x0, y0, z0))
            hi.append((x1, y1, z1))
        return ChunkSet(self.key, lo, hi)
