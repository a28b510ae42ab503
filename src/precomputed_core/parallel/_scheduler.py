"""``parallel=N``: worker processes read and write spatially compact groups of chunks.

Each worker opens the layer itself from its cloud path and info (no sockets or file
handles cross processes) and decodes straight into one shared-memory segment that the
parent then hands back as the result, without a copy. Groups are cut on the lines of
the volume's work grid (its chunks, or the shards that hold them), so an object that a
non-aligned write only partly covers belongs to exactly one worker: no two processes
read-modify-write the same object (cloud-volume's issue 87).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from ..exceptions import ParallelError
from ..geometry import Bbox
from ..image import progress_bar
from . import _shm
from ._workers import read_group, ready, write_group

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy as np
    import numpy.typing as npt

    from ..geometry import ChunkGrid
    from ..interfaces import ReadOptions, WriteOptions
    from ._dispatch import Recipe

__all__ = ["GROUPS_PER_PROCESS", "ProcessScheduler", "split"]

_log = logging.getLogger(__name__)

#: Groups per worker: enough to even out uneven groups, few enough to stay compact.
GROUPS_PER_PROCESS = 3
START_METHOD_ENV = "PRECOMPUTED_START_METHOD"


def _cuts(lo: int, hi: int, offset: int, chunk: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` cut into up to ``parts`` pieces on chunk boundaries."""
    first, last = (lo - offset) // chunk, -((offset - hi) // chunk)
    edges = sorted({first + (last - first) * i // parts for i in range(parts + 1)})
    points = [max(lo, min(hi, offset + e * chunk)) for e in edges]
    return [(a, b) for a, b in zip(points[:-1], points[1:]) if a < b]


def split(grid: ChunkGrid, bbox: Bbox, groups: int) -> list[Bbox]:
    """Cut ``bbox`` into about ``groups`` boxes on ``grid``'s cell lines, slowest axis (z) first.

    Examples
    --------
    >>> from precomputed_core import ChunkGrid
    >>> grid = ChunkGrid("k", (0, 0, 0), (100, 100, 100), (32, 32, 32))
    >>> [b.to_list() for b in split(grid, Bbox((5, 5, 5), (90, 40, 70)), 3)]
    [[5, 5, 5, 90, 40, 32], [5, 5, 32, 90, 40, 64], [5, 5, 64, 90, 40, 70]]
    """
    lo, hi = bbox.minpt[:3].tolist(), bbox.maxpt[:3].tolist()
    counts = [-((o - h) // c) - (lw - o) // c for lw, h, o, c in zip(lo, hi, grid.offset, grid.chunk)]
    parts, left = [1, 1, 1], groups
    for axis in (2, 1, 0):
        parts[axis] = max(1, min(left, counts[axis]))
        left = max(1, math.ceil(left / parts[axis]))
    axes = [_cuts(lo[a], hi[a], grid.offset[a], grid.chunk[a], parts[a]) for a in range(3)]
    return [
        Bbox((x0, y0, z0), (x1, y1, z1))
        for (z0, z1) in axes[2]
        for (y0, y1) in axes[1]
        for (x0, x1) in axes[0]
    ]


#: Serialises ``_main_not_reimported``: two threads hiding and restoring the same
#: attributes at once could leave them hidden for good.
_MAIN_HIDDEN = threading.Lock()


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start workers without re-running the user's script in them.

    A spawned child imports the parent's ``__main__`` from its file unless it has none.
    Our workers need nothing from it, and a script without an ``if __name__ ==
    "__main__":`` guard would start the read again in each worker; so the file is
    hidden while workers start.
    """
    with _MAIN_HIDDEN:
        main = sys.modules.get("__main__")
        saved = {name: getattr(main, name) for name in ("__file__", "__spec__") if hasattr(main, name)}
        try:
            for name in saved:
                setattr(main, name, None)
            yield
        finally:
            for name, value in saved.items():
                setattr(main, name, value)


def _context() -> Any:
    import multiprocessing

    # spawn by default: it works everywhere, and forking a process that runs I/O threads
    # can copy a held lock into the child.
    return multiprocessing.get_context(os.environ.get(START_METHOD_ENV, "spawn"))


class ProcessScheduler:
    """A lazily started pool of ``processes`` workers, replaced if one of them dies."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._starting: list[Future[None]] = []
        #: Whether no call has run in the current pool yet (its first waits for the workers).
        self.fresh = True

    def _executor(self, recipe: Recipe | None = None) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = _context()
                _log.debug("starting %d worker processes (%s)", self.processes, context.get_start_method())
                self._pool, self.fresh = ProcessPoolExecutor(self.processes, mp_context=context), True
                # A spawning pool starts a process only when a task finds none idle, so a call
                # with fewer groups than processes would start only some, and the next call's
                # groups would wait out the others' start (imports, about 0.3 s) while a few
                # workers did all the work. A task each starts them all, together.
                with _main_not_reimported():
                    self._starting = [self._pool.submit(ready, recipe) for _ in range(self.processes)]
            return self._pool

    def started(self, recipe: Recipe) -> bool:
        """Whether the workers are up, having opened ``recipe``'s layer; starts them if not.

        Starting takes about half a second of imports, and more for a layer whose driver
        opens a client: calls that do not wait for it can run on the caller's threads meanwhile.
        """
        self._executor(recipe)
        return all(future.done() for future in self._starting)

    def _discard(self, *, kill: bool) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        _log.debug("stopping the %d worker processes%s", self.processes, " (killed)" if kill else "")
        if kill:  # stop workers that are still writing into memory we are about to release
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=kill, cancel_futures=True)

    def close(self) -> None:
        self._discard(kill=False)

    def _run(
        self,
        work: Callable[..., None],
        calls: list[tuple[Any, ...]],
        grid: ChunkGrid,
        groups: list[Bbox],
        *,
        progress: bool,
        desc: str,
    ) -> None:
        """``work(*args)`` in the workers, one call per group; the bar counts work-grid cells.

        Groups are cut on the grid's lines, so their cell counts add up to the box's.
        """
        pool = self._executor()
        self.fresh = False
        futures: dict[Future[None], int] = {}
        cells = [grid.count(group) for group in groups]
        with progress_bar(sum(cells), desc=desc, enabled=progress) as bar:
            try:
                with _main_not_reimported():  # workers start (spawn) while the tasks are submitted
                    for args, count in zip(calls, cells):  # a pool whose worker died refuses them
                        futures[pool.submit(work, *args)] = count
                pending = set(futures)
                while pending:
                    # Each group as it finishes: the bar moves while the workers run, and the
                    # first failure is raised at once.
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
                        bar.update(futures[future])
            except BrokenProcessPool as err:
                self._discard(kill=True)
                raise ParallelError(
                    "a worker process died (killed, or out of memory) before finishing its chunks; "
                    "nothing was returned. Retry, or use parallel=1"
                ) from err
            except BaseException:
                for future in futures:
                    future.cancel()
                self._discard(kill=True)
                raise

    def read(
        self,
        recipe: Recipe,
        grid: ChunkGrid,
        bbox: Bbox,
        *,
        mip: int,
        dtype: np.dtype[Any],
        channels: int,
        options: ReadOptions,
        location: str | None = None,
        groups_per_process: int = GROUPS_PER_PROCESS,
    ) -> npt.NDArray[Any]:
        """The voxels of ``bbox`` in shared memory; ``location`` names a segment that persists."""
        shape = (*(int(s) for s in bbox.size3()), channels)
        nbytes = math.prod(shape) * dtype.itemsize
        segment = _shm.create(location, nbytes, track=location is None)
        try:
            groups = split(grid, bbox, self.processes * groups_per_process)
            origin = bbox.minpt[:3].tolist()
            calls = [
                (recipe, mip, g.to_list(), origin, segment.name, shape, dtype.str, options) for g in groups
            ]
            self._run(read_group, calls, grid, groups, progress=options.progress, desc="Downloading")
            return _shm.array_of(segment, shape, dtype)
        except BaseException:
            if location is not None:
                _shm.unlink(location)
            raise
        finally:
            if location is None:
                segment.unlink()  # the result keeps the mapping; the name is not needed

    def write(
        self,
        recipe: Recipe,
        grid: ChunkGrid,
        bbox: Bbox,
        *,
        mip: int,
        location: str,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        order: str,
        options: WriteOptions,
        origin: list[int] | None = None,
        groups_per_process: int = GROUPS_PER_PROCESS,
    ) -> None:
        """Write the array in segment ``location`` (``shape``, ``order``) to ``bbox``; the array
        starts at ``origin`` (default: ``bbox``'s corner), so it may cover more than ``bbox``."""
        groups = split(grid, bbox, self.processes * groups_per_process)
        origin = bbox.minpt[:3].tolist() if origin is None else origin
        calls = [
            (recipe, mip, g.to_list(), origin, location, shape, dtype.str, order, options) for g in groups
        ]
        self._run(write_group, calls, grid, groups, progress=options.progress, desc="Uploading")
