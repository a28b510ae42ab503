"""Exact block means of integer images that tinybrain's averaging would overflow.

tinybrain keeps exact sums for 8- and 16-bit unsigned images and floats; for 32- and
64-bit integers its sums wrap around (a uint32 block of values near 2**32 averages to
0), and signed 8- and 16-bit images are kept here too so every integer type rounds the
same way. The mean is rounded toward zero, as tinybrain and numpy's ``astype`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

__all__ = ["TINYBRAIN_EXACT", "block_means"]

#: Integer types tinybrain averages exactly (its accumulators are wider than the sums).
TINYBRAIN_EXACT = (np.dtype(np.uint8), np.dtype(np.uint16))


def _block_mean(image: npt.NDArray[Any], block: Sequence[int]) -> npt.NDArray[Any]:
    """The mean of each ``block`` of an (x, y, z, c) integer image whose shape is a multiple
    of it, rounded toward zero, without overflow: each value is split into its quotient and
    remainder by the block's voxel count, which sum without leaving the type."""
    count = int(np.prod(block))
    x, y, z = (s // b for s, b in zip(image.shape[:3], block))
    wide = np.int64 if np.issubdtype(image.dtype, np.signedinteger) else np.uint64
    shaped = image.astype(wide, copy=False).reshape(x, block[0], y, block[1], z, block[2], -1)
    quotient = (shaped // count).sum(axis=(1, 3, 5), dtype=wide)
    remainder = (shaped % count).sum(axis=(1, 3, 5), dtype=wide)  # < count ** 2
    floor = quotient + remainder // count
    # floor and toward zero differ only below zero, when the division leaves a remainder
    floor += ((floor < 0) & (remainder % count != 0)).astype(wide)
    result: npt.NDArray[Any] = floor.astype(image.dtype)
    return result


def block_means(image: npt.NDArray[Any], factor: Sequence[int], levels: int) -> list[npt.NDArray[Any]]:
    """``levels`` mips of an integer image, each the exact mean of the source voxels under it
    (a multiple of ``factor ** levels`` wide; an edge is padded by repeating its last voxel)."""
    steps = np.asarray(factor, dtype=np.int64)
    whole = steps**levels
    shape = np.asarray(image.shape[:3])
    short = (-shape) % whole
    if short.any():
        image = np.pad(image, [(0, int(s)) for s in short] + [(0, 0)] * (image.ndim - 3), mode="edge")
    blocks = [[int(b) for b in steps**level] for level in range(1, levels + 1)]
    return [np.asfortranarray(_block_mean(image, block)) for block in blocks]
