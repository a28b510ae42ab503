"""What a worker process of the scheduler runs: one group of chunks, in shared memory."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from ..geometry import Bbox
from ..image import open_volume
from ..meta import parse_cloudpath
from . import _shm

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from ..interfaces import ReadOptions, Volume, WriteOptions
    from ._dispatch import Recipe

__all__ = ["open_recipe", "read_group", "ready", "write_group"]


@functools.lru_cache(maxsize=8)
def _open(cloudpath: str, info_json: str, options_json: str, generation: str) -> Volume:
    """The layer, opened once per worker and recipe, and reused by that recipe's later groups."""
    volume = open_volume(parse_cloudpath(cloudpath), info=json.loads(info_json), **json.loads(options_json))
    # The processes already use the cores: one I/O thread each avoids oversubscribing them.
    volume.set_threads(1)
    return volume


def open_recipe(recipe: Recipe) -> Volume:
    """The layer a recipe names, opened once per process (threads share it) and kept."""
    info, options = json.dumps(recipe.info, sort_keys=True), json.dumps(recipe.options, sort_keys=True)
    return _open(recipe.cloudpath, info, options, recipe.generation)


def ready(recipe: Recipe | None = None) -> None:
    """A worker's first task: it makes the pool start the worker (which imports this module)
    and, given a recipe, opens its layer (driver, codec, client) for the tasks to come.

    Only a head start: a layer that cannot be opened here fails again, with its error, in
    the first task that needs it.
    """
    if recipe is not None:
        with contextlib.suppress(Exception):
            open_recipe(recipe)


def _window(group: list[int], origin: list[int]) -> tuple[slice, slice, slice]:
    lo, hi = group[:3], group[3:]
    return (
        slice(lo[0] - origin[0], hi[0] - origin[0]),
        slice(lo[1] - origin[1], hi[1] - origin[1]),
        slice(lo[2] - origin[2], hi[2] - origin[2]),
    )


@contextlib.contextmanager
def _shared(
    location: str, shape: tuple[int, ...], dtype: str, group: list[int], origin: list[int], order: str = "F"
) -> Iterator[tuple[npt.NDArray[Any], tuple[slice, slice, slice]]]:
    """The shared array and ``group``'s window in it; the mapping is released afterwards."""
    segment = _shm.attach(location)
    try:
        yield _shm.array_of(segment, shape, np.dtype(dtype), order=order), _window(group, origin)
    finally:
        segment.close()


def read_group(
    recipe: Recipe,
    mip: int,
    group: list[int],
    origin: list[int],
    location: str,
    shape: tuple[int, ...],
    dtype: str,
    options: ReadOptions,
) -> None:
    """Read ``group`` (x0, y0, z0, x1, y1, z1) into its window of the shared output."""
    volume, box = open_recipe(recipe), Bbox(group[:3], group[3:])
    with _shared(location, shape, dtype, group, origin) as (out, window):
        _shm.populate(out, window)
        # The scheduler's segments are new, so zero-filled: no second pass to clear the window.
        volume.read(box, mip=mip, options=dataclasses.replace(options, progress=False), out=out[window],
                    zeroed=True)  # fmt: skip


def write_group(
    recipe: Recipe,
    mip: int,
    group: list[int],
    origin: list[int],
    location: str,
    shape: tuple[int, ...],
    dtype: str,
    order: str,
    options: WriteOptions,
) -> None:
    """Write ``group`` from its window of the shared input array."""
    volume, box = open_recipe(recipe), Bbox(group[:3], group[3:])
    # The parent checked the whole box (check_write); a group's edges are work-grid lines
    # or the box's own, so each partly covered object is patched by exactly this worker.
    settings = dataclasses.replace(options, progress=False, non_aligned_writes=True)
    with _shared(location, shape, dtype, group, origin, order) as (array, window):
        volume.write(box, array[window], mip=mip, options=settings)
