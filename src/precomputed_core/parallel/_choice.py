"""Whether ``parallel`` work that holds the GIL goes to the worker processes, learnt per volume.

Workers pay only where the calling process's GIL is the limit, and only by more than they
cost: the copy through shared memory, and their own CPU on a machine whose cores may be
busy elsewhere (a server, other work). Neither shows before a call has run, so the first
large call of each direction (read, write) runs on threads and is measured:

- CPU time over wall time below ``busy_share`` of one core: the work mostly waits (on a
  server, on the network), the GIL is not the limit, and the work stays on threads.
- At or above it, the most the workers could gain is estimated: the threads' CPU time
  spread over the cores the workers can use (each process as busy as the threads were,
  at most the machine's cores), plus the copy through shared memory. Below
  ``REQUIRED_GAIN`` the work stays on threads: a closer call is not worth a risk of
  losing, and the estimate leaves out what the workers share with the rest of the machine.
- Otherwise the workers start, in the background, and once they are up the next call goes
  to them, measured too (not their first call: each worker may still be opening the layer,
  and with ``busy_share`` 0 that call waits for their start). If they moved fewer bytes per
  second than the threads did, later calls go back to the threads.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MEASURED_SECONDS", "REQUIRED_GAIN", "SHARED_BYTES_PER_SECOND", "Choice"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: A call shorter than this says too little about how busy it kept the process.
MEASURED_SECONDS = 0.05
#: The least estimated gain for which the workers take work from the threads.
REQUIRED_GAIN = 1.3
#: What moving a byte through shared memory costs a parallel call: a write's copy into the
#: segment on as many threads as workers (measured 0.1 s per 256 MiB on 2 cores), or the
#: page faults of a read's new segment.
SHARED_BYTES_PER_SECOND = 2.5e9


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _mbs(rate: float) -> str:
    return f"{rate / 1e6:.0f} MB/s"


@dataclass
class Choice:
    """What the calls of one direction (``work``: read or write) of a volume have shown."""

    work: str
    processes: int
    cores: int = field(default_factory=_usable_cores)
    busy: float | None = None  # CPU over wall time of the last measured call on threads
    threads_rate: float | None = None  # its bytes per second
    processes_rate: float | None = None  # those of the last call in worker processes

    def why_threads(self, busy_share: float) -> str | None:
        """Why this call stays on threads, or None: the workers take it."""
        if busy_share <= 0:
            return None
        busy, threads, tried = self.busy, self.threads_rate, self.processes_rate
        if busy is None or threads is None:  # measured together
            return f"no {self.work} has been measured on threads yet"
        if busy < busy_share:
            return (f"the last {self.work} on threads kept this process {busy:.0%} busy, under the "
                    f"{busy_share:.0%} where its GIL would be the limit")  # fmt: skip
        gain = self.most_gain(busy, threads)
        if gain < REQUIRED_GAIN:
            return (f"worker processes could gain at most {gain:.2f}x, under the {REQUIRED_GAIN}x they "
                    f"must (threads: {_mbs(threads)}, {busy:.0%} busy; {self.cores} cores)")  # fmt: skip
        if tried is not None and tried < threads:
            return f"worker processes were slower: {_mbs(tried)} against {_mbs(threads)} on threads"
        return None

    def most_gain(self, busy: float, threads_rate: float) -> float:
        """The threads' time per byte over the least the workers could take: the same CPU
        time per byte spread over ``processes`` times the cores the threads kept busy (at
        most the machine's), plus the trip through shared memory."""
        per_byte = 1 / threads_rate
        cores = min(self.processes * busy, self.cores)
        return per_byte / (per_byte * busy / cores + 1 / SHARED_BYTES_PER_SECOND)

    def _next(self, busy_share: float) -> str:
        return "on threads" if self.why_threads(busy_share) else "in worker processes"

    def on_threads(self, nbytes: int, run: Callable[[], T], busy_share: float) -> T:
        """``run()`` on this process's threads, measured."""
        cpu, wall = time.process_time(), time.perf_counter()
        result = run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if wall >= MEASURED_SECONDS:
            self.busy, self.threads_rate = cpu / wall, nbytes / wall
            later = self._next(busy_share)
            _log.debug("parallel=%d: a %s on threads kept this process %.0f%% busy for %.2f s (%s): "
                       "later %ss run %s", self.processes, self.work, 100 * self.busy, wall,
                       _mbs(nbytes / wall), self.work, later)  # fmt: skip
        return result

    def in_processes(self, nbytes: int, run: Callable[[], T], busy_share: float, *, measure: bool) -> T:
        """``run()`` in the worker processes, measured unless ``measure`` is False (the pool's
        first call: part of its time may be the workers' start, opening the layer)."""
        wall = time.perf_counter()
        result = run()
        wall = time.perf_counter() - wall
        if not measure:
            _log.debug("parallel=%d: a %s, the worker processes' first, took %.2f s: not measured",
                       self.processes, self.work, wall)  # fmt: skip
        elif wall >= MEASURED_SECONDS:
            self.processes_rate = nbytes / wall
            later = self._next(busy_share)
            _log.debug("parallel=%d: a %s in worker processes took %.2f s (%s): later %ss run %s",
                       self.processes, self.work, wall, _mbs(nbytes / wall), self.work, later)  # fmt: skip
        return result
