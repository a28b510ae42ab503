"""The dispatcher cuts parallel work on the grid the volume gives it (its chunk I/O's work grid)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.format import UnshardedChunkIO
from precomputed_core.parallel._scheduler import GROUPS_PER_PROCESS, split


class PackedChunkIO(UnshardedChunkIO):
    """A layout whose storage unit is 2x2x2 chunks (as a shard of 8 chunks would be)."""

    @property
    def work_grid(self):
        return self.grid.coarsened((2, 2, 2))


class RecordingScheduler:
    """Stands where the process pool would: records the grid and box of each call."""

    processes = 2
    fresh = False  # as a pool that has run before: every call in it is measured

    def __init__(self):
        self.calls = []

    def started(self, recipe):
        return True

    def write(self, recipe, grid, box, **kwargs):
        self.calls.append(("write", grid, box))

    def read(self, recipe, grid, box, *, channels, dtype, **kwargs):
        self.calls.append(("read", grid, box))
        return np.zeros((*box.size3().tolist(), channels), dtype=dtype, order="F")

    def close(self):
        pass


@pytest.fixture
def packed(tmp_path, monkeypatch, worker_processes):
    import precomputed_core.image._precomputed_volume as layout

    monkeypatch.setattr(layout, "chunk_io_for", lambda store, meta, mip: PackedChunkIO(store, meta.grid(mip)))
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [128, 128, 64],
                                       chunk_size=(16, 16, 8))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/layer", info=info, progress=False, parallel=2,
                      non_aligned_writes=True)  # fmt: skip
    vol.commit_info()
    recorder = RecordingScheduler()
    vol._dispatch._scheduler = recorder
    return vol, recorder


def _on_lines(values, lines, box_edges):
    return all(v in box_edges or v in lines for v in values)


def test_the_volume_gives_its_chunk_ios_work_grid(packed):
    vol, _ = packed
    volume = vol._volume
    assert volume.work_grid(0) == volume.chunk_io(0).work_grid
    assert volume.work_grid(0).chunk == (32, 32, 16)
    assert volume.chunk_grid(0).chunk == (16, 16, 8)


def test_parallel_groups_never_share_a_storage_unit(packed):
    vol, recorder = packed
    vol[5:120, 3:100, 1:63] = np.ones((115, 97, 62), np.uint8)
    vol[:, :, :]
    assert [kind for kind, _, _ in recorder.calls] == ["write", "read"]
    for _, grid, box in recorder.calls:
        assert grid.chunk == (32, 32, 16)
        groups = split(grid, box, recorder.processes * GROUPS_PER_PROCESS)
        assert len(groups) > 2
        for axis in range(3):
            lines = set(range(0, 129, grid.chunk[axis]))
            edges = {int(box.minpt[axis]), int(box.maxpt[axis])}
            for group in groups:
                assert _on_lines([int(group.minpt[axis]), int(group.maxpt[axis])], lines, edges)
        # the groups tile the box exactly
        assert sum(int(g.volume()) for g in groups) == int(box.volume())
        assert Bbox.expand(*groups) == box


def _recorded(tmp_path, name, encoding="raw", dtype="uint8"):
    """A local layer whose process pool is replaced by a recorder (nothing is started)."""
    info = CloudVolume.create_new_info(1, "segmentation" if dtype == "uint64" else "image", dtype, encoding,
                                       [4, 4, 40], [0, 0, 0], [128, 128, 64], chunk_size=(32, 32, 32))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False, parallel=2, fill_missing=True)
    vol.commit_info()
    recorder = RecordingScheduler()
    vol._dispatch._scheduler = recorder
    return vol, recorder


@pytest.mark.parametrize(("encoding", "dtype"), [("raw", "uint8"), ("jpeg", "uint8"),
                                                 ("compressed_segmentation", "uint64")])  # fmt: skip
def test_gil_free_local_work_stays_on_the_callers_threads(tmp_path, caplog, encoding, dtype):
    vol, recorder = _recorded(tmp_path, "layer", encoding, dtype)
    data = np.full((128, 128, 64), 7, dtype)
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        vol[:] = data
        np.testing.assert_array_equal(vol[:][..., 0], data)
    assert recorder.calls == []
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("precomputed_core.parallel")]
    assert len(messages) == 2
    assert messages[0].startswith("parallel=2: write of ")
    assert messages[1].startswith("parallel=2: read of ")
    for message, coding in zip(messages, ("encoding", "decoding")):
        assert message.endswith(
            f"on this process's threads: file:// requests and {encoding} {coding} release the GIL"
        )


class Clock:
    """Stands for ``time`` in the choice: measured call k lasts ``walls[k]`` s; threaded call k
    uses ``cpus[k]`` s of CPU."""

    def __init__(self, walls, cpus):
        self.walls, self.cpus = walls, cpus
        self.wall_calls = self.cpu_calls = 0

    def perf_counter(self):
        self.wall_calls += 1
        return sum(self.walls[: self.wall_calls // 2])

    def process_time(self):
        self.cpu_calls += 1
        return sum(self.cpus[: self.cpu_calls // 2])


def _messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name.startswith("precomputed_core.parallel")]


@pytest.fixture
def choices(monkeypatch, worker_processes):
    """The default rule (which ``worker_processes`` turns off), on a clock the test sets."""
    from precomputed_core.parallel import Dispatcher, _choice

    monkeypatch.setattr(Dispatcher, "busy_share", 0.85)
    monkeypatch.setattr(_choice, "_usable_cores", lambda: 2)  # the estimate of the gain counts them

    def clock(walls, cpus=()):
        monkeypatch.setattr(_choice, "time", Clock(walls, cpus))

    return clock


def test_work_that_holds_the_gil_goes_to_processes_once_a_threaded_call_shows_the_gil_is_the_limit(
    tmp_path, caplog, choices
):
    choices(walls=[1.0, 0.5], cpus=[0.95])
    vol, recorder = _recorded(tmp_path, "layer")  # 1 MiB
    data = np.random.default_rng(1).integers(0, 255, (128, 128, 64), np.uint8)
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        vol[:] = data  # on threads, measured
        vol[:] = data  # in the (recorded) worker processes, measured
        vol[:] = data
    assert [kind for kind, _, _ in recorder.calls] == ["write", "write"]
    assert _messages(caplog) == [
        "parallel=2: write of Bbox([0, 0, 0],[128, 128, 64], dtype=np.int64, unit='vx') on this process's "
        "threads: no write has been measured on threads yet",
        "parallel=2: a write on threads kept this process 95% busy for 1.00 s (1 MB/s): later writes run in "
        "worker processes",
        "parallel=2: write of Bbox([0, 0, 0],[128, 128, 64], dtype=np.int64, unit='vx') in 2 worker "
        "processes (32 cells of the work grid)",
        "parallel=2: a write in worker processes took 0.50 s (2 MB/s): later writes run in worker processes",
        "parallel=2: write of Bbox([0, 0, 0],[128, 128, 64], dtype=np.int64, unit='vx') in 2 worker "
        "processes (32 cells of the work grid)",
    ]


class StartingScheduler(RecordingScheduler):
    """A pool whose workers are up from the ``up_after``-th question on; new, so fresh."""

    def __init__(self, up_after):
        super().__init__()
        self.asked, self.up_after, self.fresh = [], up_after, True

    def started(self, recipe):
        self.asked.append(recipe.cloudpath)
        return len(self.asked) >= self.up_after

    def write(self, recipe, grid, box, **kwargs):
        super().write(recipe, grid, box, **kwargs)
        self.fresh = False


def test_calls_run_on_threads_while_the_workers_start_and_their_first_call_is_not_measured(
    tmp_path, caplog, choices, monkeypatch
):
    from precomputed_core.parallel import _scheduler

    made = []
    monkeypatch.setattr(_scheduler, "ProcessScheduler", lambda processes: made.append(processes) or starting)
    starting = StartingScheduler(up_after=3)
    # Measured calls only: threads 0.5 s; the pool's first call 3 s (not held against it); then 1 s.
    choices(walls=[0.5, 3.0, 1.0, 0.5], cpus=[0.5, 0.5])
    vol, _ = _recorded(tmp_path, "layer")
    vol._dispatch._scheduler = None
    data = np.random.default_rng(1).integers(0, 255, (128, 128, 64), np.uint8)
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        for _ in range(6):
            vol[:] = data
    assert made == [2]  # one pool, started once
    assert starting.asked == [vol.cloudpath] * 4  # by every call bound for the workers, none after
    assert [kind for kind, _, _ in starting.calls] == ["write"] * 2  # the fourth and fifth calls
    box = "Bbox([0, 0, 0],[128, 128, 64], dtype=np.int64, unit='vx')"
    assert _messages(caplog)[1:9] == [
        "parallel=2: a write on threads kept this process 100% busy for 0.50 s (2 MB/s): later writes run in "
        "worker processes",
        f"parallel=2: write of {box} on this process's threads: the worker processes are starting",
        f"parallel=2: write of {box} on this process's threads: the worker processes are starting",
        f"parallel=2: write of {box} in 2 worker processes (32 cells of the work grid)",
        "parallel=2: a write, the worker processes' first, took 3.00 s: not measured",
        f"parallel=2: write of {box} in 2 worker processes (32 cells of the work grid)",
        "parallel=2: a write in worker processes took 1.00 s (1 MB/s): later writes run on threads",
        f"parallel=2: write of {box} on this process's threads: worker processes were slower: 1 MB/s against "
        "2 MB/s on threads",
    ]
    np.testing.assert_array_equal(vol[:][..., 0], data)  # the threads wrote every call's voxels


def test_work_goes_back_to_threads_where_the_processes_were_slower(tmp_path, caplog, choices):
    choices(walls=[0.5, 1.0, 0.5], cpus=[0.5, 0.5])
    vol, recorder = _recorded(tmp_path, "layer")
    data = np.random.default_rng(1).integers(0, 255, (128, 128, 64), np.uint8)
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        for _ in range(3):
            vol[:] = data
    assert [kind for kind, _, _ in recorder.calls] == ["write"]  # the second call only
    messages = _messages(caplog)
    assert messages[3] == (
        "parallel=2: a write in worker processes took 1.00 s (1 MB/s): later writes run on threads"
    )
    assert messages[4].endswith(
        "on this process's threads: worker processes were slower: 1 MB/s against 2 MB/s on threads"
    )
    assert len(messages) == 6  # the third call measured on threads again


def test_work_that_holds_the_gil_stays_on_threads_while_the_process_has_cpu_to_spare(
    tmp_path, caplog, choices
):
    choices(walls=[1.0] * 4, cpus=[0.4] * 4)  # requests that mostly wait
    vol, recorder = _recorded(tmp_path, "layer")
    data = np.random.default_rng(1).integers(0, 255, (128, 128, 64), np.uint8)
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        for _ in range(2):
            vol[:] = data
            np.testing.assert_array_equal(vol[:][..., 0], data)
    assert recorder.calls == []
    messages = _messages(caplog)
    assert messages[1] == (
        "parallel=2: a write on threads kept this process 40% busy for 1.00 s (1 MB/s): later writes run on "
        "threads"
    )
    for message, work in zip(messages[4::2], ("write", "read")):
        assert message.endswith(f"on this process's threads: the last {work} on threads kept this process 40% "
                                "busy, under the 85% where its GIL would be the limit")  # fmt: skip


def test_work_stays_on_threads_where_the_workers_could_not_gain_enough():
    from precomputed_core.parallel._choice import REQUIRED_GAIN, Choice

    # As the compresso encoder measured: 726 MB/s on threads, 110% of a core busy, so two
    # workers could take at most 2 cores' worth less the copy through shared memory.
    choice = Choice("write", processes=2, cores=2, busy=1.1, threads_rate=726e6)
    assert 1.1 < choice.most_gain(1.1, 726e6) < REQUIRED_GAIN
    assert choice.why_threads(0.85) == (
        "worker processes could gain at most 1.19x, under the 1.3x they must (threads: 726 MB/s, 110% busy; "
        "2 cores)"
    )
    # A codec in Python: one core, 50 MB/s. Two workers could nearly double it.
    python_codec = Choice("write", processes=2, cores=2, busy=1.0, threads_rate=50e6)
    assert python_codec.most_gain(1.0, 50e6) == pytest.approx(1.92, abs=0.01)
    assert python_codec.why_threads(0.85) is None
    # One core: nowhere for a second process to run.
    assert Choice("write", processes=2, cores=1, busy=1.0, threads_rate=50e6).most_gain(1.0, 50e6) < 1
    assert python_codec.why_threads(0) is None  # busy_share 0: the workers from the first call


def test_a_call_too_short_to_tell_decides_nothing(tmp_path, caplog, choices):
    from precomputed_core.parallel import _choice

    choices(walls=[_choice.MEASURED_SECONDS / 2] * 2, cpus=[0.02] * 2)
    vol, recorder = _recorded(tmp_path, "layer")
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        vol[:] = np.ones((128, 128, 64), np.uint8)
        vol[:] = np.ones((128, 128, 64), np.uint8)
    assert recorder.calls == []
    messages = _messages(caplog)
    assert len(messages) == 2
    assert all(m.endswith("no write has been measured on threads yet") for m in messages)


def test_the_compresso_encoder_is_measured_before_processes_are_used(tmp_path, caplog):
    pytest.importorskip("compresso")
    vol, recorder = _recorded(tmp_path, "layer", "compresso", "uint64")  # its encoder keeps the GIL
    data = np.arange(128 * 128 * 64, dtype=np.uint64).reshape((128, 128, 64)) // 1000
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        vol[:] = data
        np.testing.assert_array_equal(vol[:][..., 0], data)
    assert recorder.calls == []
    messages = _messages(caplog)
    assert messages[0].endswith("on this process's threads: no write has been measured on threads yet")
    assert messages[-1].endswith(
        "on this process's threads: file:// requests and compresso decoding release the GIL"
    )


def test_a_store_whose_requests_hold_the_gil_goes_to_the_worker_processes(tmp_path, worker_processes):
    vol, recorder = _recorded(tmp_path, "layer")
    vol[:] = np.ones((128, 128, 64), np.uint8)
    vol[0:64, 0:64, 0:64]
    vol[0:10, 0:10, 0:10]  # one cell: no process can share it
    assert [(kind, box) for kind, _, box in recorder.calls] == [
        ("write", Bbox((0, 0, 0), (128, 128, 64))), ("read", Bbox((0, 0, 0), (64, 64, 64))),
    ]  # fmt: skip


def test_the_codecs_say_whether_they_release_the_gil():
    from precomputed_core.plugins import get_codec

    for encoding in ("raw", "jpeg", "png", "crackle"):
        assert get_codec(encoding).encode_releases_gil, encoding
        assert get_codec(encoding).decode_releases_gil, encoding
    cseg = get_codec("compressed_segmentation")  # the package's C++ coder through ctypes
    assert cseg.encode_releases_gil
    assert cseg.decode_releases_gil


def test_a_store_with_requests_in_flight_gives_each_worker_one_share(tmp_path, worker_processes, monkeypatch):
    from precomputed_core.parallel._scheduler import GROUPS_PER_PROCESS
    from precomputed_drivers.local import LocalStore

    shares = []

    class Shares(RecordingScheduler):
        def read(self, recipe, grid, box, *, groups_per_process, **kwargs):
            shares.append(groups_per_process)
            return super().read(recipe, grid, box, **kwargs)

    vol, _ = _recorded(tmp_path, "layer")
    vol._dispatch._scheduler = Shares()
    vol[:]
    monkeypatch.setattr(LocalStore, "batch_size", 32)  # as a remote store batches its requests
    vol = CloudVolume(vol.cloudpath, parallel=2, progress=False, fill_missing=True)
    vol._dispatch._scheduler = Shares()
    vol[:]
    assert shares == [GROUPS_PER_PROCESS, 1]
