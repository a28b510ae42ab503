"""Run one workload through one implementation in a fresh process and print JSON.

Peak memory is the operating system's count for this process: the peak resident set
(VmHWM) is reset just before the timed work (``/proc/self/clear_refs``), and the
report is that peak minus the resident size at the start of the timed work.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import numpy as np

from _impls import implementation, make_info, sample


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # older kernels: the peak then includes the set-up, an over-estimate


def _field(path: str, name: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _family(pid: int) -> list[int]:
    """This process and all its descendants (the worker processes of parallel=2)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def _family_memory() -> int:
    """Private heap memory of this process and its workers, plus all shared memory (tmpfs)."""
    anonymous = sum(_field(f"/proc/{pid}/smaps_rollup", "Anonymous") for pid in _family(os.getpid()))
    return anonymous + _field("/proc/meminfo", "Shmem")


def _family_cpu() -> float:
    """CPU seconds (user + system) used so far by this process and its living workers."""
    total = 0
    for pid in _family(os.getpid()):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


class FamilyMemory:
    """Peak of :func:`_family_memory` while the block runs, sampled every 50 ms (reading the
    mappings of every process costs CPU that the work would miss).

    With worker processes the result lives in shared memory that belongs to no single
    process: shared pages are counted once (the machine's Shmem), heaps per process.
    """

    def __init__(self) -> None:
        self.peak = 0
        #: Whether worker processes ran: else the process's own peak is the figure, and
        #: reading every mapping's pages 200 times a second would only slow the work down.
        self.had_workers = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            if len(_family(os.getpid())) > 1:
                self.had_workers = True
                self.peak = max(self.peak, _family_memory())

    def __enter__(self) -> FamilyMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.had_workers:
            self.peak = max(self.peak, _family_memory())
        self._stop.set()
        self._thread.join()


def cutout_boxes(shape: tuple[int, ...], size: tuple[int, ...], count: int) -> list[tuple[slice, ...]]:
    rng = np.random.default_rng(1234)
    boxes = []
    for _ in range(count):
        lo = [int(rng.integers(0, s - c + 1)) for s, c in zip(shape, size)]
        boxes.append(tuple(slice(a, a + c) for a, c in zip(lo, size)))
    return boxes


def _cached_read(impl: Any, path: str, params: dict[str, Any], *, fill: bool) -> tuple[Any, int]:
    """Workload l: a first read fills the disk cache (its own process; its figure is not
    reported); the timed read is a second one, in a fresh process, as a user's next
    session would be. The work, and the bytes it reads."""
    cache = params.get("cache_dir")
    vol = impl.open(path, **({"cache": cache} if cache else {}))
    full = tuple(slice(0, s) for s in params["shape"])
    if not fill:
        impl.read(vol, (slice(0, 64), slice(0, 64), slice(0, 64)))  # warm, from the cache
    return (lambda: impl.read(vol, full)), int(np.prod(params["shape"])) * np.dtype(params["dtype"]).itemsize


def run(impl_name: str, workload: str, path: str, params: dict[str, Any]) -> dict[str, float]:
    impl, shape = implementation(impl_name), tuple(params["shape"])
    if workload == "write":
        data = sample(params)
        if params.get("order") == "C":  # as np.zeros, np.load and tifffile give arrays
            data = np.ascontiguousarray(data)
        vol = impl.open(path, make_info(params))
        # Warm, as reads are: imports, threads, and with parallel=2 the worker pool (the
        # first parallel call of a session starts it). Two chunks, written again below.
        cx, cy, cz = params["chunk"]
        impl.write_part(vol, data[: 2 * cx, :cy, :cz])
        work = lambda: impl.write(vol, data)  # noqa: E731
        nbytes = data.nbytes
    elif workload in ("transfer", "downsample"):
        from _scale_out import cluster_for, prepare

        work, nbytes, cleanup = prepare(impl, workload, path, params)
        with cluster_for(impl_name):
            return _timed(impl_name, workload, work, nbytes, cleanup, path=path)
    elif workload in ("cache-fill", "cached"):
        work, nbytes = _cached_read(impl, path, params, fill=workload == "cache-fill")
    elif workload == "meshes":
        from _meshes import segment_ids

        vol = impl.open(path)
        _ = vol.mesh.meta.info  # warm: imports and the mesh info, nothing of the segments
        ids = segment_ids(params)
        multires = params["format"] != "legacy"
        holder: dict[str, Any] = {}

        def work() -> None:
            holder["mesh"] = impl.meshes(vol, ids, multires)

        nbytes = -1  # filled in from the merged mesh after the timed work
    else:
        vol = impl.open(path)
        # Warm: imports, info, threads, and worker processes (two chunks: the first parallel
        # call of a session starts the pool, once).
        impl.read(vol, (slice(0, 128), slice(0, 64), slice(0, 64)))
        if workload == "patch":
            boxes = cutout_boxes(shape, tuple(params["cutout"]), params["count"])
            rng = np.random.default_rng(99)
            patches = [rng.integers(0, 255, [b.stop - b.start for b in box], np.uint8, endpoint=True)
                       for box in boxes]  # fmt: skip

            def work() -> None:
                for box, patch in zip(boxes, patches):
                    impl.patch(vol, box, np.asfortranarray(patch))

            nbytes = sum(patch.nbytes for patch in patches)
        elif workload == "random":
            boxes = cutout_boxes(shape, tuple(params["cutout"]), params["count"])

            def work() -> None:
                for box in boxes:
                    impl.read(vol, box)

            item = np.dtype(params["dtype"]).itemsize
            nbytes = sum(int(np.prod([b.stop - b.start for b in box])) * item for box in boxes)
        else:
            full = tuple(slice(0, s) for s in shape)
            work = lambda: impl.read(vol, full)  # noqa: E731
            nbytes = int(np.prod(shape)) * np.dtype(params["dtype"]).itemsize
    if impl_name.endswith(", second call"):
        # Untimed, in full: the session's first large call, after which parallel=N knows
        # whether the GIL limits this work (docs/parallel.md); then one that runs where that
        # sent it (starting the worker pool if there), as the timed one will.
        work()
        work()
    meshes = holder if workload == "meshes" else None
    return _timed(impl_name, workload, work, nbytes, None, meshes, path=path)


def _tmpfs_bytes(path: str) -> int:
    """The bytes of the files under ``path`` if it is on /dev/shm (counted as Shmem), else 0."""
    if not os.path.realpath(path).startswith("/dev/shm/"):
        return 0
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.stat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue
    return total


def _timed(impl_name: str, workload: str, work: Any, nbytes: int, cleanup: Any,
           holder: dict[str, Any] | None = None, path: str = "") -> dict[str, float]:  # fmt: skip
    family, family_before, before = FamilyMemory(), _family_memory(), _status("VmRSS")
    files_before = _tmpfs_bytes(path)
    _reset_peak()
    with family:
        cpu, start = _family_cpu(), time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        cpu = _family_cpu() - cpu
    peak = _status("VmHWM")
    if holder is not None:  # the merged mesh, as vertices and triangles
        nbytes = holder["mesh"].vertices.nbytes + holder["mesh"].faces.nbytes
    del result
    if cleanup is not None:
        cleanup()
    # One process: its own peak resident size. With worker processes, whose result lives in
    # shared memory: heaps of all of them plus shared memory, above the same just before.
    many = family.had_workers
    # Chunk files written to a RAM-backed directory are shared memory too: not the process's.
    files = _tmpfs_bytes(path) - files_before if many else 0
    above = family.peak - family_before - files if many else peak - before
    return {"seconds": seconds, "bytes": nbytes, "peak_above_start": max(0, above), "cpu": cpu}


def main() -> None:
    impl_name, workload, path, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    print(json.dumps(run(impl_name, workload, path, params)))


if __name__ == "__main__":
    main()
