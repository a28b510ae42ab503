"""Exact block means of integer images that tinybrain's averaging would overflow.

tinybrain keeps exact sums for 8- and 16-bit unsigned images and floats; for 32- and
64-bit integers its sums wrap around (a uint32 block of values near 2**32 averages to
0), and signed 8- and 16-bit images are kept here too so every integer type rounds the
same way. The mean is rounded toward zero, as tinybrain and numpy's ``astype`` do.

Blocks are summed through a Fortran-order view of the image, a slab at a time (no widened
copy of it): types up to 32 bits in int32 or int64 sums, each level from the sums of the level below with its
odd edge repeated, as tinybrain repeats it; 64-bit types, whose sums would not fit,
from each value's quotient and remainder by the block's voxel count.
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


def _padded(image: npt.NDArray[Any], multiple: Sequence[int]) -> npt.NDArray[Any]:
    """``image`` with its far edges repeated up to a multiple of ``multiple`` (x, y, z)."""
    short = [(-s) % m for s, m in zip(image.shape[:3], multiple)]
    if not any(short):
        return image
    widths = [(0, int(s)) for s in short] + [(0, 0)] * (image.ndim - 3)
    return np.asfortranarray(np.pad(image, widths, mode="edge"))


def _blocks(image: npt.NDArray[Any], block: Sequence[int]) -> npt.NDArray[Any]:
    """A (bx, x, by, y, bz, z, c) view of a Fortran-ordered (x, y, z, c) image whose shape is a
    multiple of ``block``: axes 0, 2 and 4 run within a block."""
    image = np.asfortranarray(image)
    x, y, z = (s // b for s, b in zip(image.shape[:3], block))
    shape = (block[0], x, block[1], y, block[2], z, *image.shape[3:])
    return image.reshape(shape, order="F")


def _toward_zero(sums: npt.NDArray[Any], count: int) -> npt.NDArray[Any]:
    quotient = np.abs(sums) // count
    result: npt.NDArray[Any] = np.where(sums < 0, -quotient, quotient)
    return result


#: How many voxels one reduction step reads at most: numpy casts its input to the
#: accumulator's type as it sums, so the temporary stays about this size.
_STEP_VOXELS = 2**22


def _block_sums(image: npt.NDArray[Any], block: Sequence[int], dtype: Any) -> npt.NDArray[Any]:
    """The sum of each ``block`` of ``image`` in ``dtype``, a slab of z at a time."""
    view = _blocks(image, block)
    sums = np.empty(view.shape[1:7:2] + view.shape[6:], dtype=dtype, order="F")
    plane = int(np.prod(image.shape)) // max(1, image.shape[2])
    slab = max(1, _STEP_VOXELS // max(1, plane * int(block[2])))
    for z in range(0, sums.shape[2], slab):
        sums[:, :, z : z + slab] = view[:, :, :, :, :, z : z + slab].sum(axis=(0, 2, 4), dtype=dtype)
    return sums


def _means_from_sums(image: npt.NDArray[Any], factor: Sequence[int], levels: int) -> list[npt.NDArray[Any]]:
    """Types up to 32 bits: sums in int32 while they fit, else int64, each level summed from
    the one below."""
    limits = np.iinfo(image.dtype)
    largest = max(abs(int(limits.min)), int(limits.max))
    sums = image
    count = 1
    out = []
    for _ in range(levels):
        count *= int(np.prod(factor))
        dtype = np.int32 if largest * count < 2**31 else np.int64
        sums = _block_sums(_padded(sums, factor), factor, dtype)
        out.append(np.asfortranarray(_toward_zero(sums, count).astype(image.dtype)))
    return out


def _mean_of_wide(image: npt.NDArray[Any], block: Sequence[int]) -> npt.NDArray[Any]:
    """64-bit types: quotients and remainders by the voxel count sum without leaving the type."""
    count = int(np.prod(block))
    view = _blocks(image, block)
    quotient = (view // count).sum(axis=(0, 2, 4), dtype=image.dtype)
    remainder = (view % count).sum(axis=(0, 2, 4), dtype=image.dtype)  # < count ** 2
    floor = quotient + remainder // count
    if np.issubdtype(image.dtype, np.signedinteger):
        # floor and toward zero differ only below zero, when the division leaves a remainder
        floor += ((floor < 0) & (remainder % count != 0)).astype(image.dtype)
    result: npt.NDArray[Any] = np.asfortranarray(floor)
    return result


def block_means(image: npt.NDArray[Any], factor: Sequence[int], levels: int) -> list[npt.NDArray[Any]]:
    """``levels`` mips of an integer (x, y, z, c) image, each the mean of the source voxels
    under it, rounded toward zero; a level's odd far edge is repeated to fill its blocks."""
    steps = [int(f) for f in factor]
    if image.dtype.itemsize <= 4:
        return _means_from_sums(image, steps, levels)
    whole = [f**levels for f in steps]
    padded = _padded(image, whole)
    out = []
    for level in range(1, levels + 1):
        step = [f**level for f in steps]
        mean = _mean_of_wide(padded, step)
        # A 64-bit image is padded once, to whole top-level blocks: keep each level's own extent.
        keep = [-(-s // b) for s, b in zip(image.shape[:3], step)]
        out.append(np.asfortranarray(mean[: keep[0], : keep[1], : keep[2]]))
    return out
