"""One chunk of a caller's array, in the Fortran order every codec writes.

A C-ordered array (what ``np.zeros``, ``np.load`` and tifffile give) must be turned
around voxel by voxel, and numpy's own transposing copy of a chunk window does that at
about 0.4 GB/s for uint8. Two things make it slow, and each step here avoids one:

- The window's x stride is a power of two (a 1024x1024x128 array's is 128 KiB), so
  the 64 rows the copy reads at once all fall in one set of the L1 cache and evict
  each other. The chunk is first staged with a row pitch that is one cache line past a
  multiple of 4 KiB, after which the 2-D transpose runs about 10x faster.
- A new staging buffer would be faulted in page by page on every chunk, costing as
  much as the copy itself; each write thread keeps its own (``_scratch``).

Measured per core on a 64^3 uint8 chunk of a C-ordered 1024x1024x128 array: 1.85 GB/s
against numpy's 0.38 (see docs/performance.md).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._scratch import scratch

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["fortran_chunk"]

_CACHE_LINE = 64
_PAGE = 4096


def _pitch(row_bytes: int) -> int:
    """A row pitch of at least ``row_bytes`` that is one cache line past a multiple of a page."""
    return row_bytes + (_CACHE_LINE - row_bytes) % _PAGE


def fortran_chunk(voxels: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``voxels`` (x, y, z, c) as they are if x already runs contiguously, else a Fortran copy.

    Any strides are accepted: C order, strided, reversed and transposed views.
    """
    if voxels.ndim < 2 or voxels.strides[0] == voxels.itemsize or voxels.size == 0:
        return voxels
    dtype, width, rest = voxels.dtype, voxels.shape[0], voxels.shape[1:]
    row = math.prod(rest)
    pitch = _pitch(row * dtype.itemsize)
    # (x, rest) rows with the padded pitch: the gather from the caller's strides runs along
    # their contiguous axes.
    staged = np.ndarray((width, row), dtype, scratch("staged", width * pitch), 0, (pitch, dtype.itemsize))
    np.copyto(staged.reshape(voxels.shape), voxels)
    turned = np.ndarray((row, width), dtype, scratch("turned", row * width * dtype.itemsize))
    np.copyto(turned, staged.T)
    # turned is (rest..., x) in C order; the chunk wants (c, z, y, x) in C order.
    out = np.empty(voxels.shape, dtype, order="F")
    np.copyto(out, np.moveaxis(turned.reshape((*rest, width)), -1, 0))
    return out
