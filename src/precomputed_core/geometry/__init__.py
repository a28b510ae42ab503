"""Geometry: ``Vec``, ``Bbox``, slicing, physical units and the chunk grid.

Pure arithmetic on voxel coordinates (x, y, z, int64): no I/O, no info files.
The lowest layer of ``precomputed_core``: it may import only ``exceptions``.
"""

from __future__ import annotations

from ._bbox import Bbox
from ._grid import Chunk, ChunkGrid, ChunkSet, chunk_name
from ._slicing import reify_slices
from ._units import UNIT_SCALES, rescale
from ._vec import Vec

__all__ = [
    "UNIT_SCALES",
    "Bbox",
    "Chunk",
    "ChunkGrid",
    "ChunkSet",
    "Vec",
    "chunk_name",
    "reify_slices",
    "rescale",
]
