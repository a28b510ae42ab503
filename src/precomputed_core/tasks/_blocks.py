"""How a region is cut into Dask blocks: on the storage grid, sized for a task."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..geometry import Bbox

if TYPE_CHECKING:
    from ..geometry import ChunkGrid

__all__ = ["aligned_splits", "cell_blocks", "default_block_shape", "grid_blocks", "grid_splits"]

#: About how many bytes one default block holds: big enough that a task's overhead
#: (a few ms) is small next to its I/O, small enough that many fit in a worker.
BLOCK_BYTES = 64 * 2**20


def default_block_shape(
    chunk: tuple[int, int, int], shape: tuple[int, ...], itemsize: int, budget: int = BLOCK_BYTES
) -> tuple[int, int, int]:
    """Whole multiples of the chunk size (x first, then y, then z) up to about ``budget``
    bytes, no larger than the region."""
    block = [int(c) for c in chunk]
    voxel_bytes = itemsize * (shape[3] if len(shape) > 3 else 1)
    grew = True
    while grew:
        grew = False
        for axis in range(3):
            bigger = block.copy()
            bigger[axis] *= 2
            if block[axis] < shape[axis] and int(np.prod(bigger)) * voxel_bytes <= budget:
                block, grew = bigger, True
    return (min(block[0], shape[0]), min(block[1], shape[1]), min(block[2], shape[2]))


def aligned_splits(start: int, stop: int, origin: int, step: int) -> tuple[int, ...]:
    """The lengths of [start, stop) cut at the grid lines origin + k * step."""
    first = origin + ((start - origin) // step + 1) * step
    cuts = [start, *range(first, stop, step), stop]
    return tuple(int(b - a) for a, b in zip(cuts[:-1], cuts[1:]) if b > a)


def grid_splits(
    box: Bbox, grid: ChunkGrid, channels: int, itemsize: int, budget: int = BLOCK_BYTES
) -> list[tuple[int, ...]]:
    """Per axis, the lengths that cut ``box`` into blocks of whole ``grid`` cells (chunks, or
    shards) of about ``budget`` bytes for voxels of ``itemsize`` bytes: no two blocks share
    a cell. A Dask chunks spec for the box's (x, y, z)."""
    shape = (*(int(s) for s in box.size3()), channels)
    block = default_block_shape(tuple(grid.chunk), shape, itemsize, budget)  # type: ignore[arg-type]
    # A block clipped to the box still spans whole cells: round its length up, not down.
    step = [max(int(c), -(-b // int(c)) * int(c)) for b, c in zip(block, grid.chunk)]
    return [
        aligned_splits(int(box.minpt[axis]), int(box.maxpt[axis]), int(grid.offset[axis]), step[axis])
        for axis in range(3)
    ]


def grid_blocks(
    box: Bbox, grid: ChunkGrid, channels: int, itemsize: int, budget: int = BLOCK_BYTES
) -> list[Bbox]:
    """The blocks of ``grid_splits`` as boxes, x fastest."""
    spans = []
    for axis, lengths in enumerate(grid_splits(box, grid, channels, itemsize, budget)):
        edges = np.cumsum([int(box.minpt[axis]), *lengths]).tolist()
        spans.append(list(zip(edges[:-1], edges[1:])))
    return [
        Bbox((x0, y0, z0), (x1, y1, z1)) for z0, z1 in spans[2] for y0, y1 in spans[1] for x0, x1 in spans[0]
    ]


def cell_blocks(box: Bbox, grid: ChunkGrid, cells: int) -> list[Bbox]:
    """``box`` cut on ``grid`` into blocks of at most ``cells`` whole cells (x grows first)."""
    return grid_blocks(box, grid, 1, 1, budget=max(1, cells) * int(np.prod(grid.chunk)))
