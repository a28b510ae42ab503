"""The chunk grid of one scale: which chunks cover a box, and their keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._bbox import Bbox

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from ._meta import LayerMeta

__all__ = ["ChunkGrid", "ChunkSet"]

_Int3 = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class ChunkSet:
    """Chunks as parallel arrays: ``lo[i]``/``hi[i]`` are chunk i's clipped corners."""

    key: str
    lo: npt.NDArray[np.int64]
    hi: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.lo.shape[0])

    def name(self, i: int) -> str:
        """The storage key of chunk ``i``: ``<scale key>/x0-x1_y0-y1_z0-z1``."""
        (x0, y0, z0), (x1, y1, z1) = self.lo[i].tolist(), self.hi[i].tolist()
        return f"{self.key}/{x0}-{x1}_{y0}-{y1}_{z0}-{z1}"

    def names(self) -> list[str]:
        return [self.name(i) for i in range(len(self))]

    def __iter__(self) -> Iterator[tuple[str, Any, Any]]:
        for i in range(len(self)):
            yield self.name(i), self.lo[i], self.hi[i]


@dataclass(frozen=True, slots=True)
class ChunkGrid:
    """Chunk geometry of one scale, in voxels of that scale (x, y, z)."""

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

    def cover(self, bbox: Bbox) -> ChunkSet:
        """The chunks that hold any voxel of ``bbox`` inside the volume."""
        bounds = self.bounds
        lo3 = np.maximum(np.asarray(bbox.minpt[:3], np.int64), bounds.minpt)
        hi3 = np.minimum(np.asarray(bbox.maxpt[:3], np.int64), bounds.maxpt)
        empty = np.zeros((0, 3), np.int64)
        if np.any(lo3 >= hi3):
            return ChunkSet(self.key, empty, empty)
        offset, chunk = np.asarray(self.offset), np.asarray(self.chunk)
        g0 = (lo3 - offset) // chunk
        g1 = -((offset - hi3) // chunk)
        gz, gy, gx = np.meshgrid(*(np.arange(g0[d], g1[d]) for d in (2, 1, 0)), indexing="ij")
        grid = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1).astype(np.int64)
        lo = offset + grid * chunk
        hi = np.minimum(lo + chunk, bounds.maxpt)
        return ChunkSet(self.key, lo, hi)
