"""``vol.to_dask()`` and ``vol.from_dask(array, offset)``: a scale as a lazy ``dask.array``."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import AlignmentError, FeatureUnavailableError, OutOfBoundsError
from ..geometry import Bbox
from ..parallel import open_recipe
from ._blocks import grid_splits

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from ..interfaces import ReadOptions, Volume, WriteOptions
    from ..parallel import Recipe

__all__ = ["from_dask", "to_dask"]


def dask_modules() -> tuple[Any, Any]:
    """``dask`` and ``dask.array``, or a FeatureUnavailableError that says how to install them."""
    try:
        import dask
        import dask.array
    except ImportError as err:
        raise FeatureUnavailableError(f"this needs Dask ({err}): pip install 'precomputed[dask]'") from err
    return dask, dask.array


def on_dask(scheduler: Any) -> bool:
    """Whether work runs as Dask tasks: a scheduler is given, or a distributed client is active."""
    return scheduler is not None or distributed_client() is not None


def distributed_client() -> Any:
    """The active ``dask.distributed`` client, or None."""
    if "distributed" not in sys.modules:
        return None  # no client without the module; importing it costs a fifth of a second
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:
        return None


#: Dask's names for the schedulers that run tasks in this process.
_IN_PROCESS = ("threads", "threading", "sync", "synchronous", "single-threaded")


def runs_in_other_processes(dask: Any, scheduler: Any = None) -> bool:
    """Whether ``dask.compute`` (with ``scheduler``, if given) would run tasks outside this process."""
    if scheduler is not None:
        return not (isinstance(scheduler, str) and scheduler in _IN_PROCESS)
    if distributed_client() is not None:
        return True
    return dask.config.get("scheduler", None) in ("processes", "multiprocessing")


def check_visible_to_workers(volume: Volume, dask: Any, scheduler: Any = None) -> None:
    if not volume.shared_between_processes and runs_in_other_processes(dask, scheduler):
        raise FeatureUnavailableError(
            f"{volume.url} lives in this process's memory, which Dask's worker processes cannot see; "
            "use a file://, gs:// or s3:// layer, or the threaded scheduler"
        )


@contextlib.contextmanager
def progress_for(dask: Any, shown: bool) -> Iterator[None]:
    """Dask's own progress bar on a local scheduler (a distributed cluster has its dashboard)."""
    if not shown or distributed_client() is not None:
        yield
        return
    from dask.diagnostics import ProgressBar  # type: ignore[attr-defined]

    with ProgressBar():  # type: ignore[no-untyped-call]
        yield


def read_block(
    recipe: Recipe, mip: int, box: list[int], channels: tuple[int, int], options: ReadOptions
) -> Any:
    """One block of ``to_dask``: the (x, y, z, c) voxels of ``box`` (its channels ``channels``)."""
    volume = open_recipe(recipe)
    image = volume.read(Bbox(box[:3], box[3:]), mip=mip, options=options)
    if channels != (0, image.shape[3]):
        image = np.asfortranarray(image[..., channels[0] : channels[1]])
    return image


def write_block(block: Any, recipe: Recipe, mip: int, box: list[int], options: WriteOptions) -> None:
    """One block of ``from_dask``: write it at ``box``, whose edges are the volume's work-grid lines
    or the whole region's (checked by the caller), so it is the only writer of its objects."""
    volume = open_recipe(recipe)
    voxels = np.asfortranarray(np.asarray(block).astype(volume.meta.dtype, copy=False))
    volume.write(Bbox(box[:3], box[3:]), voxels, mip=mip, options=options)


def _offsets(lengths: Sequence[int], start: int) -> list[tuple[int, int]]:
    edges = list(itertools.accumulate(lengths, initial=start))
    return list(zip(edges[:-1], edges[1:]))


def _token(recipe: Recipe, mip: int, options: ReadOptions) -> str:
    from dask.base import tokenize

    info = json.dumps(recipe.info, sort_keys=True)
    return str(tokenize(recipe.cloudpath, info, mip, dataclasses.asdict(options)))


def to_dask(
    volume: Volume,
    recipe: Recipe,
    mip: int,
    *,
    chunks: Any = None,
    name: str | None = None,
    options: ReadOptions,
) -> Any:
    """The scale ``mip`` as a lazy (x, y, z, c) ``dask.array``; index 0 is its voxel_offset.

    Default blocks are whole multiples of the storage chunk (on its grid) of about
    64 MiB; ``chunks`` is any Dask chunks spec for the 4-d shape (a 3-d one keeps all
    channels in each block).
    """
    dask, da = dask_modules()
    meta = volume.meta
    bounds = meta.bounds(mip)
    shape = (*(int(s) for s in bounds.size3()), meta.num_channels)
    if chunks is None:
        splits = grid_splits(bounds, meta.grid(mip), meta.num_channels, meta.dtype.itemsize)
        chunks = (*splits, (shape[3],))
    elif isinstance(chunks, tuple | list) and len(chunks) == 3:
        chunks = (*chunks, shape[3])
    normalized = da.core.normalize_chunks(chunks, shape, dtype=meta.dtype)
    check_visible_to_workers(volume, dask)
    name = name or f"precomputed-{_token(recipe, mip, options)}"
    origin = [int(v) for v in bounds.minpt[:3]]
    spans = [_offsets(normalized[a], origin[a] if a < 3 else 0) for a in range(4)]
    graph: dict[tuple[Any, ...], Any] = {}
    for index in itertools.product(*(range(len(s)) for s in spans)):
        (x0, x1), (y0, y1), (z0, z1), channels = (spans[a][index[a]] for a in range(4))
        key = (name, *index)
        graph[key] = (read_block, recipe, mip, [x0, y0, z0, x1, y1, z1], channels, options)
    return da.Array(graph, name, normalized, dtype=meta.dtype)


def _write_region(volume: Volume, array: Any, offset: Sequence[int], mip: int) -> Bbox:
    meta = volume.meta
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[3] != meta.num_channels):
        raise AlignmentError(
            f"from_dask takes an (x, y, z) or (x, y, z, {meta.num_channels}) array, got shape {array.shape}"
        )
    if len(offset) != 3:
        raise AlignmentError(f"offset is a voxel (x, y, z), got {list(offset)}")
    lo = [int(v) for v in offset]
    box = Bbox(lo, [a + int(s) for a, s in zip(lo, array.shape[:3])])
    if not meta.bounds(mip).contains_bbox(box):
        raise OutOfBoundsError(
            f"the array covers {box}, which reaches outside the volume bounds {meta.bounds(mip)}; "
            "slice the array or give another offset"
        )
    return box


def from_dask(
    volume: Volume,
    recipe: Recipe,
    array: Any,
    offset: Sequence[int],
    mip: int,
    *,
    options: WriteOptions,
) -> Bbox:
    """Write an (x, y, z[, c]) dask array with its corner at voxel ``offset`` of ``mip``; returns
    the box written. The array is rechunked on the volume's work grid (chunks, or shards)
    so no two tasks write one stored object; it computes on Dask's current scheduler."""
    dask, da = dask_modules()
    array = da.asarray(array)
    box = _write_region(volume, array, offset, mip)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    volume.check_write(box, mip=mip, options=options)
    check_visible_to_workers(volume, dask)
    grid = volume.work_grid(mip)
    if grid is None:
        raise FeatureUnavailableError(
            f"{volume.url} is served by {type(volume).__name__}, which does not say how its work can be "
            "split (its work_grid is None); write it with vol[...] = array.compute()"
        )
    channels = int(array.shape[3])
    splits = grid_splits(box, grid, channels, np.dtype(array.dtype).itemsize)
    array = array.rechunk((*splits, channels))
    # The parent checked the whole box; the blocks' inner edges are grid lines.
    block_options = dataclasses.replace(options, progress=False, non_aligned_writes=True)
    spans = [_offsets(splits[a], int(box.minpt[a])) for a in range(3)]
    blocks = array.to_delayed()
    writes = []
    for index in itertools.product(*(range(len(s)) for s in spans)):
        (x0, x1), (y0, y1), (z0, z1) = (spans[a][index[a]] for a in range(3))
        task = dask.delayed(write_block, pure=False)
        block_key = (*index, 0)
        writes.append(task(blocks[block_key], recipe, mip, [x0, y0, z0, x1, y1, z1], block_options))
    with progress_for(dask, options.progress):
        dask.compute(*writes)
    return box
