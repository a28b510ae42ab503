"""Mip generation: each new scale computed from the one below, in chunk-aligned tasks.

The kernels are tinybrain's (seung-lab's, what igneous and cloud-volume's users run):
averaging for images, the mode of each 2x2 / 2x2x2 block for segmentation (its
COUNTLESS algorithms, fast and exact), several mips from one read. A task covers a
block of the top new mip's chunk grid; it reads the source voxels under it once and
writes every new mip's part of it. A task's read grows by the factor's volume with
each mip it makes, so the mips are made in passes: as many mips per pass as keep one
task's read within a memory target, each pass reading the last mip the one before
wrote (as igneous plans its tasks). Voxels of a new mip map onto the source as
``v * factor`` (the scale's ``voxel_offset // factor``), so a block reads from a
multiple of the factor and its edges stay whole voxels at every mip; voxels outside
the source volume count as its background.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import FeatureUnavailableError
from ..geometry import Bbox
from ..parallel import open_recipe
from ._arrays import check_visible_to_workers, dask_modules, on_dask
from ._averaging import TINYBRAIN_EXACT, block_means
from ._blocks import BLOCK_BYTES, grid_blocks
from ._running import run_calls

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from ..interfaces import ReadOptions, Volume, WriteOptions
    from ..parallel import Recipe

__all__ = ["MEMORY_TARGET", "downsample_scales", "plan_passes", "pyramid"]

#: The most source bytes one task reads by default: with the pyramid it makes and the
#: padded copy at the edges, a task then stays within a few times this.
MEMORY_TARGET = 512 * 2**20


def _tinybrain() -> Any:
    try:
        import tinybrain
    except ImportError as err:
        raise FeatureUnavailableError(
            f"downsampling needs tinybrain ({err}): pip install 'precomputed[downsample]'"
        ) from err
    return tinybrain


def pyramid(
    image: npt.NDArray[Any], factor: Sequence[int], levels: int, *, segmentation: bool, sparse: bool
) -> list[npt.NDArray[Any]]:
    """``levels`` successive downsamplings of an (x, y, z, c) image by ``factor``: the mode of
    each block for segmentation (``sparse``: zero does not win a block with labels in it),
    the mean (rounded toward zero for integers) for images."""
    tinybrain = _tinybrain()
    steps = tuple(int(f) for f in factor)
    if segmentation:
        return list(tinybrain.downsample_segmentation(image, steps, sparse=sparse, num_mips=levels))
    if np.issubdtype(image.dtype, np.integer) and image.dtype not in TINYBRAIN_EXACT:
        return block_means(image, steps, levels)
    return list(tinybrain.downsample_with_averaging(image, steps, num_mips=levels))


def downsample_block(
    volume: Volume,
    source_mip: int,
    mips: Sequence[int],
    factor: Sequence[int],
    top_box: Bbox,
    *,
    sparse: bool,
    read: ReadOptions,
    write: WriteOptions,
) -> int:
    """Compute and write the new mips' voxels under ``top_box`` (voxels of ``mips[-1]``);
    returns how many mip levels were written (0 when the source holds nothing there)."""
    levels = len(mips)
    scale = np.asarray(factor, dtype=np.int64) ** levels
    source_box = Bbox(top_box.minpt * scale, top_box.maxpt * scale)
    stored = _stored_chunks(volume, source_mip, source_box)
    if not stored:
        return 0
    image = _edge_padded(volume, source_mip, source_box, read)
    segmentation = volume.meta.layer_type == "segmentation"
    outputs = pyramid(image, factor, levels, segmentation=segmentation, sparse=sparse)
    for level, (mip, output) in enumerate(zip(mips, outputs), start=1):
        step = np.asarray(factor, dtype=np.int64) ** level
        box = Bbox(source_box.minpt // step, source_box.maxpt // step)
        for part in _parts_with_data(volume, mip, box, step, stored):
            lo, hi = (part.minpt - box.minpt).tolist(), (part.maxpt - box.minpt).tolist()
            piece = np.asfortranarray(output[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]])
            volume.write(part, piece.astype(volume.meta.dtype, copy=False), mip=mip, options=write)
    return levels


def _edge_padded(volume: Volume, mip: int, box: Bbox, read: ReadOptions) -> npt.NDArray[Any]:
    """The voxels of ``box``; where it reaches outside the volume, the nearest voxel inside is
    repeated (as tinybrain does at odd edges), so an edge voxel of a new mip is the mean or
    mode of the voxels inside, not darkened by, or voted for, background."""
    inside = Bbox.intersection(box, volume.meta.bounds(mip))
    image = volume.read(inside, mip=mip, options=read)
    before = (inside.minpt - box.minpt).tolist()
    after = (box.maxpt - inside.maxpt).tolist()
    if not any(before) and not any(after):
        return image
    padding = [(before[a], after[a]) for a in range(3)] + [(0, 0)]
    return np.asfortranarray(np.pad(image, padding, mode="edge"))


def _stored_chunks(volume: Volume, mip: int, box: Bbox) -> list[Bbox]:
    """The boxes of the stored chunks of ``mip`` inside ``box`` (clipped to the volume)."""
    inside = Bbox.intersection(box, volume.meta.bounds(mip))
    if inside.subvoxel():
        return []
    chunk_io = volume.chunk_io(mip)  # type: ignore[attr-defined]
    chunks = chunk_io.grid.cover(inside).chunks()
    present = chunk_io.exists_many(chunks)
    return [Bbox(c.lo, c.hi) for c in chunks if present[c.name]]


def _parts_with_data(
    volume: Volume, mip: int, box: Bbox, step: npt.NDArray[Any], stored: list[Bbox]
) -> list[Bbox]:
    """``box`` (voxels of a new ``mip``, clipped to it) whole if every source chunk under it is
    stored, else only its chunks that lie over stored source chunks: a missing region of
    the source stays missing, rather than becoming chunks of background."""
    part = Bbox.intersection(box, volume.meta.bounds(mip))
    if part.subvoxel():
        return []
    chunks = volume.chunk_io(mip).grid.cover(part).chunks()  # type: ignore[attr-defined]
    # Clipped to the block: a chunk the block shares with a neighbour is patched by both.
    over = [Bbox.intersection(Bbox(c.lo, c.hi), part) for c in chunks]
    kept = [b for b in over if any(Bbox.intersects(Bbox(b.minpt * step, b.maxpt * step), s) for s in stored)]
    return [part] if len(kept) == len(over) else kept


def _task(
    recipe: Recipe,
    source_mip: int,
    mips: list[int],
    factor: list[int],
    box: list[int],
    sparse: bool,
    read: ReadOptions,
    write: WriteOptions,
) -> int:
    return downsample_block(open_recipe(recipe), source_mip, mips, factor, Bbox(box[:3], box[3:]),
                            sparse=sparse, read=read, write=write)  # fmt: skip


def _top_blocks(
    volume: Volume, top_mip: int, factor: Sequence[int], levels: int, memory_target: int
) -> list[Bbox]:
    """The top mip's bounds cut on its work grid, in blocks whose source reads are about 64 MiB
    (or ``memory_target``, if less), at least one cell each."""
    grid = volume.work_grid(top_mip)
    assert grid is not None  # a PrecomputedVolume always has one
    meta = volume.meta
    expand = int(np.prod(np.asarray(factor, dtype=np.int64) ** levels))
    return grid_blocks(meta.bounds(top_mip), grid, meta.num_channels, meta.dtype.itemsize * expand,
                       budget=min(BLOCK_BYTES, memory_target))  # fmt: skip


def _task_bytes(volume: Volume, source_mip: int, top_mip: int, factor: Sequence[int], levels: int) -> int:
    """The bytes a task reads to make ``levels`` mips up to ``top_mip``: one cell of the top
    mip's work grid, ``factor ** levels`` source voxels each, no more than the source holds."""
    grid = volume.work_grid(top_mip)
    assert grid is not None  # a PrecomputedVolume always has one
    meta = volume.meta
    scale = np.asarray(factor, dtype=np.int64) ** levels
    extent = np.minimum(np.asarray(grid.chunk, dtype=np.int64) * scale,
                        np.asarray(meta.volume_size(source_mip), dtype=np.int64) + scale)  # fmt: skip
    return int(np.prod(extent)) * meta.num_channels * meta.dtype.itemsize


def plan_passes(
    volume: Volume, source_mip: int, mips: Sequence[int], factor: Sequence[int], memory_target: int
) -> list[tuple[int, list[int]]]:
    """``mips`` split into passes of (source mip, mips it makes): each pass as many mips as
    keep a task's read within ``memory_target`` bytes (at least one), made from the last
    mip of the pass before."""
    passes: list[tuple[int, list[int]]] = []
    start, remaining = source_mip, list(mips)
    while remaining:
        levels = 1
        while levels < len(remaining) and (
            _task_bytes(volume, start, remaining[levels], factor, levels + 1) <= memory_target
        ):
            levels += 1
        passes.append((start, remaining[:levels]))
        start, remaining = remaining[levels - 1], remaining[levels:]
    return passes


def downsample_scales(
    volume: Volume,
    recipe: Recipe,
    source_mip: int,
    mips: Sequence[int],
    factor: Sequence[int],
    *,
    sparse: bool,
    read: ReadOptions,
    write: WriteOptions,
    scheduler: Any = None,
    threads: int = 2,
    progress: bool = False,
    memory_target: int = MEMORY_TARGET,
) -> int:
    """Fill the scales ``mips`` (each ``factor`` coarser than the one before, the first than
    ``source_mip``; already in the committed info) from ``source_mip``, in the passes of
    ``plan_passes``; returns how many blocks of the last pass had data."""
    _tinybrain()  # fail before any work if the kernel is missing
    if on_dask(scheduler):
        check_visible_to_workers(volume, dask_modules()[0], scheduler)
    block_read = dataclasses.replace(read, progress=False, fill_missing=True)
    # Blocks may share a chunk of a finer mip where the grids do not nest: patch, under the
    # store's per-object lock, rather than overwrite.
    block_write = dataclasses.replace(write, progress=False, non_aligned_writes=True, fill_missing=True,
                                      overwrite_partial=False)  # fmt: skip
    done = 0
    for start, made in plan_passes(volume, source_mip, mips, factor, memory_target):
        # A fresh generation for each pass: workers must not read the last pass's mip through
        # shard indexes they cached while it was being written.
        fresh = dataclasses.replace(recipe, generation=uuid.uuid4().hex)
        done = _run_pass(volume, fresh, start, made, factor, sparse=sparse, read=block_read,
                         write=block_write, scheduler=scheduler, threads=threads, progress=progress,
                         memory_target=memory_target)  # fmt: skip
    if on_dask(scheduler):
        for mip in mips:  # written by other processes: drop this process's copies
            volume.written_elsewhere(volume.meta.bounds(mip), mip=mip)
    return done


def _run_pass(
    volume: Volume,
    recipe: Recipe,
    source_mip: int,
    mips: Sequence[int],
    factor: Sequence[int],
    *,
    sparse: bool,
    read: ReadOptions,
    write: WriteOptions,
    scheduler: Any,
    threads: int,
    progress: bool,
    memory_target: int,
) -> int:
    """One pass: the blocks of ``mips[-1]``, each made from ``source_mip`` in one task."""
    blocks = _top_blocks(volume, mips[-1], factor, len(mips), memory_target)
    steps = [int(f) for f in factor]
    arguments = [(recipe, source_mip, list(mips), steps, b.to_list(), sparse, read, write) for b in blocks]
    calls: list[tuple[Callable[..., int], tuple[Any, ...]]] = [(_task, args) for args in arguments]

    def local(args: tuple[Any, ...]) -> int:
        box = Bbox(args[4][:3], args[4][3:])
        return downsample_block(volume, source_mip, mips, factor, box, sparse=sparse, read=read, write=write)

    done = run_calls(
        calls, local, scheduler=scheduler, threads=threads, progress=progress, desc="Downsampling"
    )
    return done // max(1, len(mips))
