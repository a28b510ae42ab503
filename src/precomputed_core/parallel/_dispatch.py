"""Route a read or write to this process's threads or to the worker processes of ``parallel``."""

from __future__ import annotations

import logging
import math
import threading
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..exceptions import FeatureUnavailableError
from ..image import require_memory_for
from ._choice import Choice

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from ..geometry import Bbox, ChunkGrid
    from ..interfaces import ReadOptions, Volume, WriteOptions
    from ._scheduler import ProcessScheduler

__all__ = ["Dispatcher", "Recipe"]

_log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Recipe:
    """What a worker process needs to open the layer itself: its path, info and driver options."""

    cloudpath: str
    info: dict[str, Any] = field(repr=False)
    options: dict[str, Any] = field(repr=False)  # may hold secrets
    #: One per recipe: a worker keeps the layer it opened for the tasks of this recipe only,
    #: so what it cached (shard indexes) cannot outlive writes made between two computations.
    generation: str = field(default_factory=lambda: uuid.uuid4().hex)


class _Parallel(NamedTuple):
    scheduler: ProcessScheduler
    grid: ChunkGrid
    groups_per_process: int
    choice: Choice
    first: bool  # the pool's first call: its workers may still be opening the layer


class _Threads(NamedTuple):
    """This process does the work; measured by ``choice`` if later calls depend on it."""

    choice: Choice | None


_UNMEASURED = _Threads(None)


def _copy_in_slabs(shared: npt.NDArray[Any], array: npt.NDArray[Any], threads: int) -> None:
    """``shared[...] = array`` by ``threads`` threads, a z slab each: the copy and the page
    faults of the new segment (tmpfs: one per 4 KiB) are the parallel write's serial part,
    measured 0.15 s per 256 MiB on one thread."""
    depth = shared.shape[2]
    if threads < 2 or shared.nbytes < 2**24 or depth < threads:
        shared[...] = array
        return
    from concurrent.futures import ThreadPoolExecutor

    cuts = [depth * i // threads for i in range(threads + 1)]

    def copy(part: int) -> None:
        lo, hi = cuts[part], cuts[part + 1]
        shared[:, :, lo:hi] = array[:, :, lo:hi]

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(copy, range(threads)))


class Dispatcher:
    """Runs reads and writes with ``processes`` workers when the storage allows it.

    The work is cut on the volume's own ``work_grid``
    (a scale's chunks, or its shards), so no two workers rewrite one stored object.
    A layer that lives in this process's memory (``mem://``) cannot be seen by other
    processes: there ``parallel`` work runs on this process's threads instead.

    Processes are used per request, only where they can pay:

    - the work must span at least two cells of the grid;
    - it must hold the GIL somewhere (a store whose requests run in Python, such as the
      S3, GCS and HTTP clients, or a codec that holds it). Local files with compiled
      codecs already keep every core busy on this process's threads, and workers would
      only add a copy through shared memory (measured 2-2.5x slower);
    - and the GIL must be seen to be the limit, by more than the workers cost
      (``_choice``): the first large call of each direction runs on threads and is
      measured; if it kept the process at least ``busy_share`` of one core busy (CPU time
      over wall time), the next goes to the workers, and is measured too; later calls go
      where more bytes per second moved.

    Once work is to go to the workers, they start in the background (imports, and the
    layer's driver and client): calls keep running on threads until every worker is up,
    so no call waits for them. With ``busy_share`` 0 the first call starts them and waits.

    Each choice is logged at DEBUG on ``precomputed_core.parallel``.
    """

    #: Processes take work that holds the GIL once a threaded call of its kind kept the
    #: process this busy (CPU seconds per wall second: 1.0 is one core, all a GIL allows);
    #: 0 uses them from the first call.
    busy_share: float = 0.85

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._scheduler: ProcessScheduler | None = None
        self._choices = self._fresh_choices()
        self._lock = threading.Lock()  # threads sharing one volume must share one pool

    def set_processes(self, processes: int) -> None:
        if processes != self.processes:
            self.close()
            self.processes = processes
            self._choices = self._fresh_choices()

    def _fresh_choices(self) -> dict[str, Choice]:
        return {work: Choice(work, self.processes) for work in ("read", "write")}

    def _scheduler_for(
        self, volume: Volume, recipe: Recipe, box: Bbox, mip: int, work: str
    ) -> _Parallel | _Threads:
        """The pool and the grid to cut the work on, or how this process does the work."""
        if self.processes <= 1:
            return _UNMEASURED  # the common case: no grid to build
        if not volume.shared_between_processes:
            return self._on_threads(work, box, f"{volume.url} lives in this process's memory")
        grid = volume.work_grid(mip)
        if grid is None:
            raise FeatureUnavailableError(
                f"parallel={self.processes}: {volume.url} is served by {type(volume).__name__}, which "
                "does not say how its work can be split between processes (its work_grid is None); "
                "use parallel=1"
            )
        cells = grid.count(box)
        if cells < 2:  # one cell is one worker's work: no gain, and a segment per call
            return self._on_threads(work, box, "it lies in one cell of the work grid")
        reason = volume.threads_suffice(mip, work)
        if reason is not None:
            return self._on_threads(work, box, reason)
        choice = self._choices[work]
        reason = choice.why_threads(self.busy_share)
        if reason is not None:
            return self._on_threads(work, box, reason, choice)
        with self._lock:
            scheduler = self._scheduler
            if scheduler is None:
                # Imported here: multiprocessing is not needed until the first parallel call.
                from ._scheduler import ProcessScheduler

                scheduler = self._scheduler = ProcessScheduler(self.processes)
        # Not measured: the workers' start takes CPU from the threads.
        if self.busy_share > 0 and not scheduler.started(recipe):
            return self._on_threads(work, box, "the worker processes are starting")
        _log.debug("parallel=%d: %s of %s in %d worker processes (%d cells of the work grid)",
                   self.processes, work, box, self.processes, cells)  # fmt: skip
        # A volume that keeps many requests in flight gives each worker one large share:
        # shares taken one after another would each wait out their own round trips
        # (measured with 25 ms per request: 15% slower than threads with three shares).
        from ._scheduler import GROUPS_PER_PROCESS

        groups = 1 if volume.overlaps_requests else GROUPS_PER_PROCESS
        return _Parallel(scheduler, grid, groups, choice, scheduler.fresh)

    def _on_threads(self, work: str, box: Bbox, reason: str, choice: Choice | None = None) -> _Threads:
        _log.debug("parallel=%d: %s of %s on this process's threads: %s", self.processes, work, box, reason)
        return _Threads(choice)

    def _run(self, where: _Threads | _Parallel, volume: Volume, box: Bbox, run: Callable[[], T]) -> T:
        """``run()`` (the work on ``box``) where it was sent; measured if the choice of later
        calls needs it."""
        if where.choice is None:
            return run()
        meta = volume.meta
        nbytes = math.prod(int(s) for s in box.size3()) * meta.num_channels * meta.dtype.itemsize
        if isinstance(where, _Threads):
            return where.choice.on_threads(nbytes, run, self.busy_share)
        return where.choice.in_processes(nbytes, run, self.busy_share, measure=not where.first)

    def read(
        self,
        volume: Volume,
        recipe: Recipe,
        box: Bbox,
        *,
        mip: int,
        options: ReadOptions,
        location: str | None = None,
    ) -> npt.NDArray[Any]:
        """The voxels of ``box``; in a shared segment named ``location`` if one is given."""
        meta = volume.meta
        parallel = self._scheduler_for(volume, recipe, box, mip, "read")
        if isinstance(parallel, _Parallel):
            if location is None:  # the workers fill a segment this process then holds
                require_memory_for((*(int(s) for s in box.size3()), meta.num_channels), meta.dtype)
            read = partial(parallel.scheduler.read, recipe, parallel.grid, box, mip=mip, dtype=meta.dtype,
                           channels=meta.num_channels, options=options, location=location,
                           groups_per_process=parallel.groups_per_process)  # fmt: skip
            return self._run(parallel, volume, box, read)
        if location is None:
            read = partial(volume.read, box, mip=mip, options=options)
            return self._run(parallel, volume, box, read)
        from . import _shm

        shape = (*(int(s) for s in box.size3()), meta.num_channels)
        segment = _shm.create(location, math.prod(shape) * meta.dtype.itemsize, track=False)
        try:
            out = _shm.array_of(segment, shape, meta.dtype)
            read = partial(volume.read, box, mip=mip, options=options, out=out, zeroed=True)
            return self._run(parallel, volume, box, read)
        except BaseException:
            _shm.unlink(location)
            raise

    def write(
        self,
        volume: Volume,
        recipe: Recipe,
        box: Bbox,
        array: npt.NDArray[Any],
        *,
        mip: int,
        options: WriteOptions,
    ) -> None:
        parallel = self._scheduler_for(volume, recipe, box, mip, "write")
        if isinstance(parallel, _Threads):
            write = partial(volume.write, box, array, mip=mip, options=options)
            self._run(parallel, volume, box, write)
            return
        volume.check_write(box, mip=mip, options=options)
        from . import _shm

        segment = _shm.create(None, array.size * array.dtype.itemsize)
        try:

            def copy_and_write() -> None:
                shared = _shm.array_of(segment, array.shape, array.dtype)
                _copy_in_slabs(shared, array, self.processes)  # the workers see the voxels only there
                del shared
                groups = parallel.groups_per_process
                parallel.scheduler.write(recipe, parallel.grid, box, mip=mip, location=segment.name,
                                         shape=tuple(array.shape), dtype=array.dtype, order="F",
                                         options=options, groups_per_process=groups)  # fmt: skip

            self._run(parallel, volume, box, copy_and_write)
        finally:
            segment.close()
            segment.unlink()
            volume.written_elsewhere(box, mip=mip)

    def write_from(
        self,
        volume: Volume,
        recipe: Recipe,
        box: Bbox,
        location: str,
        *,
        shape: tuple[int, ...],
        order: str,
        mip: int,
        options: WriteOptions,
        part: Bbox | None = None,
    ) -> None:
        """Write the (x, y, z, c) array that the shared segment ``location`` holds, which
        covers ``box``; only its ``part`` (a box inside ``box``) if given."""
        part = box if part is None else part
        parallel = self._scheduler_for(volume, recipe, part, mip, "write")
        dtype = volume.meta.dtype
        if isinstance(parallel, _Parallel):
            volume.check_write(part, mip=mip, options=options)
            write = partial(parallel.scheduler.write, recipe, parallel.grid, part, mip=mip,
                            location=location, shape=tuple(shape), dtype=dtype, order=order,
                            options=options, origin=box.minpt[:3].tolist(),
                            groups_per_process=parallel.groups_per_process)  # fmt: skip
            try:
                self._run(parallel, volume, part, write)
            finally:
                volume.written_elsewhere(part, mip=mip)
            return
        from . import _shm

        segment = _shm.attach(location)
        try:
            array = _shm.array_of(segment, shape, dtype, order=order)
            lo, hi = (part.minpt[:3] - box.minpt[:3]).tolist(), (part.maxpt[:3] - box.minpt[:3]).tolist()
            write = partial(volume.write, part, array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], mip=mip,
                            options=options)  # fmt: skip
            self._run(parallel, volume, part, write)
            del array, write
        finally:
            segment.close()

    def close(self) -> None:
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.close()
