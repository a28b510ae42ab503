"""How a region is cut into Dask blocks: on the storage grid, sized for a task."""

from __future__ import annotations

import numpy as np

__all__ = ["aligned_splits", "default_block_shape"]

#: About how many bytes one default block holds: big enough that a task's overhead
#: (a few ms) is small next to its I/O, small enough that many fit in a worker.
BLOCK_BYTES = 64 * 2**20


def default_block_shape(
    chunk: tuple[int, int, int], shape: tuple[int, ...], itemsize: int
) -> tuple[int, int, int]:
    """Whole multiples of the chunk size (x first, then y, then z) up to about
    :data:`BLOCK_BYTES`, no larger than the region."""
    block = [int(c) for c in chunk]
    voxel_bytes = itemsize * (shape[3] if len(shape) > 3 else 1)
    grew = True
    while grew:
        grew = False
        for axis in range(3):
            bigger = block.copy()
            bigger[axis] *= 2
            if block[axis] < shape[axis] and int(np.prod(bigger)) * voxel_bytes <= BLOCK_BYTES:
                block, grew = bigger, True
    return (min(block[0], shape[0]), min(block[1], shape[1]), min(block[2], shape[2]))


def aligned_splits(start: int, stop: int, origin: int, step: int) -> tuple[int, ...]:
    """The lengths of [start, stop) cut at the grid lines origin + k * step."""
    first = origin + ((start - origin) // step + 1) * step
    cuts = [start, *range(first, stop, step), stop]
    return tuple(int(b - a) for a, b in zip(cuts[:-1], cuts[1:]) if b > a)
