"""Whether ``parallel`` work that holds the GIL goes to the worker processes, learnt per volume.

Workers pay only where the calling process's GIL is the limit, and only by more than they
cost: the copy through shared memory, and their own CPU on a machine whose cores may be
busy elsewhere (a server, other work). Neither shows before a call has run, so the first
large call of each direction (read, write) runs on threads and is measured:

- CPU time over wall time below ``busy_share`` of one core: the work mostly waits (on a
  server, on the network), the GIL is not the limit, and the work stays on threads.
- At or above it, the next call goes to the workers, and is measured too (the first call
  that starts them is not: it waits for their imports). If they moved fewer bytes per
  second than the threads did, later calls go back to the threads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MEASURED_SECONDS", "Choice"]

_log = logging.getLogger("precomputed_core.parallel._dispatch")  # where every choice is logged

T = TypeVar("T")

#: A call shorter than this says too little about how busy it kept the process.
MEASURED_SECONDS = 0.05


def _mbs(rate: float) -> str:
    return f"{rate / 1e6:.0f} MB/s"


@dataclass
class Choice:
    """What the calls of one direction (``work``: read or write) of a volume have shown."""

    work: str
    processes: int
    busy: float | None = None  # CPU over wall time of the last measured call on threads
    threads_rate: float | None = None  # its bytes per second
    processes_rate: float | None = None  # those of the last call in worker processes

    def why_threads(self, busy_share: float) -> str | None:
        """Why this call stays on threads, or None: the workers take it."""
        if busy_share <= 0:
            return None
        if self.busy is None:
            return f"no {self.work} has been measured on threads yet"
        if self.busy < busy_share:
            return (f"the last {self.work} on threads kept this process {self.busy:.0%} busy, under the "
                    f"{busy_share:.0%} where its GIL would be the limit")  # fmt: skip
        tried, threads = self.processes_rate, self.threads_rate
        if tried is not None and threads is not None and tried < threads:
            return f"worker processes were slower: {_mbs(tried)} against {_mbs(threads)} on threads"
        return None

    def on_threads(self, nbytes: int, run: Callable[[], T], busy_share: float) -> T:
        """``run()`` on this process's threads, measured."""
        cpu, wall = time.process_time(), time.perf_counter()
        result = run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if wall >= MEASURED_SECONDS:
            self.busy, self.threads_rate = cpu / wall, nbytes / wall
            later = "on threads" if self.why_threads(busy_share) else "in worker processes"
            _log.debug("parallel=%d: a %s on threads kept this process %.0f%% busy for %.2f s (%s): "
                       "later %ss run %s", self.processes, self.work, 100 * self.busy, wall,
                       _mbs(nbytes / wall), self.work, later)  # fmt: skip
        return result

    def in_processes(self, nbytes: int, run: Callable[[], T], busy_share: float, *, measure: bool) -> T:
        """``run()`` in the worker processes, measured unless ``measure`` is False (a call that
        starts them: its time is mostly theirs to start, about half a second)."""
        wall = time.perf_counter()
        result = run()
        wall = time.perf_counter() - wall
        if not measure:
            _log.debug("parallel=%d: a %s in worker processes that started them took %.2f s: not "
                       "measured", self.processes, self.work, wall)  # fmt: skip
        elif wall >= MEASURED_SECONDS:
            self.processes_rate = nbytes / wall
            later = "on threads" if self.why_threads(busy_share) else "in worker processes"
            _log.debug("parallel=%d: a %s in worker processes took %.2f s (%s): later %ss run %s",
                       self.processes, self.work, wall, _mbs(nbytes / wall), self.work, later)  # fmt: skip
        return result
