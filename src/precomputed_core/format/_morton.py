"""Compressed Morton codes: the uint64 ids of a sharded scale's chunks (``volume.md``).

A Morton code interleaves the bits of a chunk's grid coordinates (x, y, z, then the
next bit of each); the compressed variant skips an axis once its coordinates have no
bits left, so that a grid of any shape fits in as few bits as it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["cell_shape", "compressed_morton"]


def compressed_morton(coords: npt.ArrayLike, bits: tuple[int, int, int]) -> npt.NDArray[np.uint64]:
    """The compressed Morton code of each (x, y, z) grid coordinate (an N x 3 array).

    >>> compressed_morton([[1, 0, 0], [0, 1, 0], [3, 2, 0]], (2, 2, 0)).tolist()
    [1, 2, 13]
    """
    grid = np.asarray(coords, dtype=np.uint64).reshape(-1, 3)
    if sum(bits) > 64:
        raise ValueError(f"a grid needing {sum(bits)} bits has no 64-bit compressed Morton code")
    code = np.zeros(len(grid), dtype=np.uint64)
    out = 0
    one = np.uint64(1)
    for bit in range(max(bits)):
        for axis in range(3):
            if bit < bits[axis]:
                code |= ((grid[:, axis] >> np.uint64(bit)) & one) << np.uint64(out)
                out += 1
    return code


def cell_shape(bits: tuple[int, int, int], low_bits: int) -> tuple[int, int, int]:
    """The shape, in chunks, of the cells whose chunks share all but the ``low_bits`` lowest bits.

    The lowest bits of a compressed Morton code go to the axes in turn (x, y, z, x, ...,
    skipping axes that have run out), so fixing the rest of the code fixes a box of
    ``2**k`` chunks along each axis. Cells at the grid's far edges are cut short.

    >>> cell_shape((3, 1, 2), 4)
    (4, 2, 2)
    """
    used = [0, 0, 0]
    left = low_bits
    for bit in range(max(bits, default=0)):
        for axis in range(3):
            if left and bit < bits[axis]:
                used[axis] += 1
                left -= 1
    x, y, z = (1 << n for n in used)
    return x, y, z
