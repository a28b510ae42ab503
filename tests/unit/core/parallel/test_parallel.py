"""parallel=N and the shared-memory calls: same bytes as serial, clean failures, nothing left in /dev/shm."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.exceptions import AlignmentError, EmptyVolumeException, ParallelError, SharedMemoryError
from precomputed_core.testing import random_array

SHM = "/dev/shm"
# Local layers: these tests are of the worker processes, which the rule would not start.
pytestmark = pytest.mark.usefixtures("worker_processes")


def _segments() -> set[str]:
    """This process's shared memory segments (ours and the tests' carry its pid): another
    process's, such as a concurrent test run's, are not this test's leak."""
    if not os.path.isdir(SHM):
        return set()
    mark = f"-{os.getpid()}-"
    # Semaphores ("sem.*") are not segments: joblib's loky, when something imported it
    # (cloud-volume does), names its process-lifetime semaphores with the pid too.
    names = (n for n in os.listdir(SHM) if mark in n and not n.startswith("sem."))
    return {n for n in names if os.path.isfile(os.path.join(SHM, n))}


@pytest.fixture
def shm_clean():
    """Fail if a test leaves shared memory segments behind."""
    before = _segments()
    yield
    assert _segments() - before == set()


def _layer(tmp_path, name, encoding="raw", dtype="uint8", channels=1, size=(200, 150, 70), **extra):
    info = CloudVolume.create_new_info(channels, "segmentation" if encoding == "compressed_segmentation" else "image",
                                       dtype, encoding, [4, 4, 40], [3, -5, 0], size, chunk_size=(64, 64, 32),
                                       **extra)  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False)
    vol.commit_info()
    return vol


def _content(encoding, shape, dtype):
    if encoding == "jpeg":
        x, y, z, c = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
        return (100 + 50 * np.sin(x / 7) * np.cos(y / 9) + 20 * np.cos(z / 4 + c)).astype(dtype)
    if encoding == "compressed_segmentation":
        x, y, z, _ = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
        return ((x // 9) + 1000 * (y // 7) + 10**6 * (z // 5)).astype(dtype)
    return random_array(shape, dtype, seed=2)


CODECS = [
    ("raw", "uint16", 1, {}),
    ("raw", "float32", 2, {"compress": "gzip"}),
    ("jpeg", "uint8", 3, {}),
    ("png", "uint16", 2, {}),
    ("compressed_segmentation", "uint64", 1, {}),
]


@pytest.mark.parametrize(
    ("encoding", "dtype", "channels", "options"), CODECS, ids=[c[0] + "-" + c[1] for c in CODECS]
)
def test_parallel_reads_and_writes_give_the_same_bytes(
    tmp_path, shm_clean, encoding, dtype, channels, options
):
    serial = _layer(tmp_path, "serial", encoding, dtype, channels, **({} if encoding != "compressed_segmentation"
                                                                       else {"compressed_segmentation_block_size": (8, 8, 8)}))  # fmt: skip
    parallel_path = f"file://{tmp_path}/parallel"
    CloudVolume(parallel_path, info=serial.info).commit_info()
    data = _content(encoding, (200, 150, 70, channels), dtype)
    serial.compress = options.get("compress")
    serial[:] = data
    par = CloudVolume(parallel_path, parallel=2, progress=False, compress=options.get("compress"))
    par[:] = data
    for chunk in sorted(os.listdir(tmp_path / "serial" / serial.key)):
        assert (tmp_path / "serial" / serial.key / chunk).read_bytes() == (
            tmp_path / "parallel" / serial.key / chunk
        ).read_bytes(), chunk
    whole, cut = par[:], par[20:170, 7:140, 5:66]
    np.testing.assert_array_equal(whole, serial[:])
    np.testing.assert_array_equal(cut, serial[20:170, 7:140, 5:66])
    assert cut.bounds == Bbox((20, 7, 5), (170, 140, 66))
    assert par._dispatch._scheduler is not None  # the workers did it
    par.close()


def test_parallel_non_aligned_write_keeps_neighbours(tmp_path, shm_clean):
    vol = _layer(tmp_path, "layer", size=(256, 256, 96))
    base = random_array((256, 256, 96), "uint8", seed=5)
    vol[:] = base
    par = CloudVolume(vol.cloudpath, parallel=2, non_aligned_writes=True, progress=False)
    patch = random_array((190, 170, 60), "uint8", seed=6)
    # edges inside chunks on every side: the edge chunks are patched, each by one worker
    par[3 + 31 : 3 + 221, -5 + 40 : -5 + 210, 17:77] = patch
    expected = base.copy()
    expected[31:221, 40:210, 17:77] = patch
    np.testing.assert_array_equal(CloudVolume(vol.cloudpath)[:][..., 0], expected)
    par.close()


def test_parallel_true_uses_the_usable_cores(tmp_path):
    vol = _layer(tmp_path, "layer")
    par = CloudVolume(vol.cloudpath, parallel=True)
    assert par.parallel == len(os.sched_getaffinity(0))
    par.parallel = 3
    assert par.parallel == 3


def test_a_failing_worker_fails_the_call_with_the_chunk_named(tmp_path, shm_clean):
    vol = _layer(tmp_path, "layer")
    vol[:] = 1
    os.remove(tmp_path / "layer" / vol.key / "131-195_59-123_32-64")
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    with pytest.raises(EmptyVolumeException, match=r"131-195_59-123_32-64 is missing"):
        par[:]
    par.fill_missing = True
    assert int(par[:].sum()) == 200 * 150 * 70 - 64 * 64 * 32  # the pool still works
    par.close()


def test_a_killed_worker_is_an_error_not_a_hang_or_zeros(tmp_path, shm_clean, plugin_dir):
    plugin_dir("fake")
    info = CloudVolume.create_new_info(1, "image", "uint8", "test_crash", [1, 1, 1], [0, 0, 0], [256, 256, 64],
                                       chunk_size=(64, 64, 64))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/crash", info=info, progress=False)
    vol.commit_info()
    vol[:] = 7
    (tmp_path / "crash" / vol.key / "128-192_192-256_0-64").write_bytes(b"CRASH" + b"\0" * (64**3 - 5))
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    with pytest.raises(ParallelError, match="worker process died"):
        par[:]
    np.testing.assert_array_equal(par[0:64, 0:64, 0:64], 7)  # a new pool serves the next call
    par.close()


def test_a_worker_killed_while_idle_is_an_error_and_the_next_call_gets_a_new_pool(tmp_path, shm_clean):
    import signal
    import time

    vol = _layer(tmp_path, "layer", size=(128, 64, 64))
    vol[:] = 5
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    np.testing.assert_array_equal(par[:, :, :][..., 0], 5)  # the workers are up
    pool = par._dispatch._scheduler._pool
    os.kill(next(iter(pool._processes)), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not pool._broken and time.monotonic() < deadline:  # the pool notices on its own
        time.sleep(0.02)
    # A broken pool refuses new tasks: that is the same error as a death during a call.
    with pytest.raises(ParallelError, match="worker process died"):
        par[:, :, :]
    np.testing.assert_array_equal(par[:, :, :][..., 0], 5)
    par.close()


def test_interrupt_releases_the_segment_and_stops_the_workers(tmp_path, shm_clean, monkeypatch):
    import precomputed_core.parallel._scheduler as scheduler

    vol = _layer(tmp_path, "layer")
    vol[:] = 3
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    assert int(par[3:13, 0:10, 0:10].sum()) == 3000  # workers are up

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(scheduler, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        par[:]
    monkeypatch.undo()
    assert int(par[3:13, 0:10, 0:10].sum()) == 3000
    par.close()


def test_too_little_shared_memory_is_a_clear_error(tmp_path, shm_clean, monkeypatch):
    vol = _layer(tmp_path, "layer")
    vol[:] = 1
    real = os.statvfs

    class Full:
        f_bavail, f_frsize = 10, 4096

    monkeypatch.setattr(os, "statvfs", lambda path: Full() if path == SHM else real(path))
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    with pytest.raises(SharedMemoryError, match=r"needs 2 MiB but /dev/shm has 0 MiB free; .*enlarge it"):
        par[:]


def test_memory_layers_run_parallel_work_on_threads():
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [128, 128, 64])
    vol = CloudVolume("mem://par-test/ds/layer", info=info, parallel=2, progress=False)
    vol.commit_info()
    data = random_array((128, 128, 64), "uint8")
    vol[:] = data
    np.testing.assert_array_equal(vol[:][..., 0], data)
    assert vol._dispatch._scheduler is None  # no process pool was started


@pytest.mark.parametrize("parallel", [1, 2])
def test_download_to_shared_memory_is_visible_to_other_processes(tmp_path, shm_clean, parallel):
    vol = _layer(tmp_path, "layer")
    data = random_array((200, 150, 70), "uint8", seed=3)
    vol[:] = data
    par = CloudVolume(vol.cloudpath, parallel=parallel, progress=False)
    par.shared_memory_id = f"precomputed-test-{os.getpid()}-{parallel}"
    cutout = par.download_to_shared_memory(np.s_[3:103, -5:45, 0:30])
    np.testing.assert_array_equal(cutout[..., 0], data[0:100, 0:50, 0:30])
    assert os.path.exists(f"{SHM}/{par.shared_memory_id}")
    code = (
        "import sys, numpy as np; from multiprocessing import shared_memory as s, resource_tracker as r; "
        f"m = s.SharedMemory({par.shared_memory_id!r}); "
        # a reader must not let its resource tracker unlink the segment at exit (before 3.13)
        "r.unregister(m._name, 'shared_memory'); "
        "a = np.ndarray((100, 50, 30), np.uint8, buffer=m.buf, order='F'); print(int(a.sum())); "
        "del a; m.close()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip().splitlines()[-1]) == int(data[0:100, 0:50, 0:30].sum())
    assert par.unlink_shared_memory() is True
    assert par.unlink_shared_memory() is False
    np.testing.assert_array_equal(cutout[..., 0], data[0:100, 0:50, 0:30])  # the mapping outlives the name
    par.close()


@pytest.mark.parametrize(("parallel", "order"), [(1, "F"), (2, "F"), (2, "C")])
def test_upload_from_shared_memory(tmp_path, shm_clean, parallel, order):
    from multiprocessing import shared_memory

    vol = _layer(tmp_path, "layer", channels=2, dtype="uint16")
    data = random_array((128, 128, 64, 2), "uint16", seed=4)
    name = f"precomputed-upload-{os.getpid()}-{parallel}-{order}"
    segment = shared_memory.SharedMemory(name=name, create=True, size=data.nbytes)
    try:
        np.ndarray(data.shape, data.dtype, buffer=segment.buf, order=order)[...] = data
        par = CloudVolume(vol.cloudpath, parallel=parallel, progress=False)
        par.upload_from_shared_memory(name, Bbox((3, -5, 0), (131, 123, 64)), order=order)
        np.testing.assert_array_equal(vol[3:131, -5:123, 0:64], data)
        par.close()
    finally:
        segment.close()
        segment.unlink()


@pytest.mark.parametrize("parallel", [1, 2])
def test_upload_a_cutout_of_a_shared_memory_array(tmp_path, shm_clean, parallel):
    from multiprocessing import shared_memory

    vol = _layer(tmp_path, "layer", size=(128, 128, 64))  # voxels [3, -5, 0] to [131, 123, 64]
    vol[:, :, :] = np.full((128, 128, 64), 2, np.uint8)
    name = f"precomputed-cutout-{os.getpid()}-{parallel}"
    segment = shared_memory.SharedMemory(name=name, create=True, size=128 * 128 * 64)
    try:
        shared = np.ndarray((128, 128, 64), np.uint8, buffer=segment.buf, order="F")
        shared[:, :, :32] = 3
        par = CloudVolume(vol.cloudpath, parallel=parallel, progress=False)
        par.upload_from_shared_memory(name, vol.bounds, cutout_bbox=Bbox((3, -5, 0), (131, 123, 32)))
        assert (vol[:, :, 0:32] == 3).all()
        assert (vol[:, :, 32:64] == 2).all()
        # the array reaches outside the volume; autocrop writes what lies inside the cutout
        shared[:, :, :] = 4
        par.autocrop = True
        par.upload_from_shared_memory(name, Bbox((-2, -10, -5), (126, 118, 59)),
                                      cutout_bbox=Bbox((-2, -10, -5), (67, 59, 32)))  # fmt: skip
        assert (vol[3:67, -5:59, 0:32] == 4).all()
        assert (vol[67:131, :, 0:32] == 3).all()
        assert (vol[:, :, 32:64] == 2).all()
        par.autocrop = False
        with pytest.raises(AlignmentError, match="is not inside the array's box"):
            par.upload_from_shared_memory(name, Bbox((3, -5, 0), (67, 59, 32)),
                                          cutout_bbox=Bbox((3, -5, 0), (131, 59, 32)))  # fmt: skip
        par.close()
        del shared
    finally:
        segment.close()
        segment.unlink()


def test_fork_start_method_works_too(tmp_path, shm_clean, monkeypatch):
    monkeypatch.setenv("PRECOMPUTED_START_METHOD", "fork")
    vol = _layer(tmp_path, "layer")
    data = random_array((200, 150, 70), "uint8", seed=8)
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking any process with threads (pytest's own watchdog
        # counts); the workers use no lock of the parent.
        warnings.simplefilter("ignore", DeprecationWarning)
        par[:] = data
        np.testing.assert_array_equal(par[:][..., 0], data)
        par.close()


def test_threads_sharing_a_parallel_volume(tmp_path, shm_clean):
    """Calls from several threads share one pool and leave __main__ as they found it."""
    from concurrent.futures import ThreadPoolExecutor

    main = sys.modules["__main__"]
    before = (getattr(main, "__file__", None), getattr(main, "__spec__", None))
    vol = _layer(tmp_path, "layer")
    data = random_array((200, 150, 70), "uint8", seed=9)
    vol[:] = data
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    boxes = [np.s_[0:200, 0:150, 0:70], np.s_[10:190, 20:140, 5:65], np.s_[64:200, 0:64, 32:70]] * 2
    offset = (3, -5, 0)  # the layer's voxel_offset

    def read(box):
        return par[tuple(slice(s.start + o, s.stop + o) for s, o in zip(box, offset))]

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(read, boxes))
    for box, result in zip(boxes, results):
        np.testing.assert_array_equal(result[..., 0], data[box])
    assert (getattr(main, "__file__", None), getattr(main, "__spec__", None)) == before
    pool = par._dispatch._scheduler._pool
    assert len(pool._processes) == 2  # one pool of two workers, not one per thread
    par.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors through /proc")
def test_results_alive_hold_no_file_descriptors(tmp_path, shm_clean):
    vol = _layer(tmp_path, "layer")
    data = random_array((200, 150, 70), "uint8", seed=10)
    vol[:] = data
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False)
    par[3:203, -5:145, 0:70]  # start the pool first: its pipes are descriptors too
    before = _open_fds()
    results = [par[3 + i : 103 + i, -5:95, 0:70] for i in range(100)]  # 2 or more chunks each
    assert _open_fds() - before < 10
    for i in (0, 57, 99):
        np.testing.assert_array_equal(results[i][..., 0], data[i : 100 + i, 0:100, 0:70])
    del results
    par.close()


def test_a_one_chunk_request_runs_in_this_process(tmp_path, shm_clean):
    vol = _layer(tmp_path, "layer")
    data = random_array((200, 150, 70), "uint8", seed=11)
    vol[:] = data
    par = CloudVolume(vol.cloudpath, parallel=2, progress=False, non_aligned_writes=True)
    np.testing.assert_array_equal(par[10:20, 0:10, 5:9][..., 0], data[7:17, 5:15, 5:9])
    par[10:20, 0:10, 5:9] = np.full((10, 10, 4), 3, dtype=np.uint8)
    assert par._dispatch._scheduler is None  # no worker was started
    assert (vol[10:20, 0:10, 5:9] == 3).all()


def test_the_progress_bar_moves_as_groups_finish(monkeypatch):
    import time
    from concurrent.futures import ThreadPoolExecutor

    from precomputed_core.geometry import ChunkGrid
    from precomputed_core.parallel import _scheduler

    updates = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.total = total

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            updates.append((time.monotonic(), n))

    monkeypatch.setattr(_scheduler, "progress_bar", lambda total, **kw: Bar(total, **kw))
    scheduler = _scheduler.ProcessScheduler(2)
    pool = ThreadPoolExecutor(2)  # stands in for the worker processes: the loop is what is tested
    monkeypatch.setattr(scheduler, "_executor", lambda: pool)
    grid = ChunkGrid("k", (0, 0, 0), (64, 64, 64), (32, 32, 32))
    groups = [Bbox((0, 0, 0), (32, 64, 64)), Bbox((32, 0, 0), (64, 64, 64))]
    start = time.monotonic()
    try:
        scheduler._run(time.sleep, [(0.05,), (1.0,)], grid, groups, progress=True, desc="x")
    finally:
        pool.shutdown()
    assert [n for _, n in updates] == [4, 4]  # each group's chunks, once
    # the quick group was counted while the slow one still ran, not at the end
    assert updates[0][0] - start < 0.6
    assert updates[1][0] - start >= 1.0


def test_every_worker_starts_with_the_pool(tmp_path, shm_clean):
    # A spawning pool starts a process only when a task finds none idle: a first call of
    # two groups would start two of three, and the next call's groups would wait for the
    # third to start. All start with the pool.
    vol = _layer(tmp_path, "layer", size=(128, 64, 32))
    vol.parallel = 3
    data = random_array((128, 64, 32), "uint8", seed=4)
    vol[:, :, :] = data  # 2 cells: 2 groups
    pool = vol._dispatch._scheduler._pool
    assert len(pool._processes) == 3
    np.testing.assert_array_equal(
        CloudVolume(f"file://{tmp_path}/layer", progress=False)[:, :, :][..., 0], data
    )
    vol.close()


def test_calls_run_on_threads_until_the_workers_are_up(tmp_path, shm_clean, monkeypatch, caplog):
    import logging
    import time

    from precomputed_core.parallel import Dispatcher

    monkeypatch.setattr(Dispatcher, "busy_share", 0.85)  # the rule, not the fixture's "always"
    vol = _layer(tmp_path, "layer", size=(128, 64, 64))
    vol.parallel = 2
    # As a threaded write that held the GIL at 1 MB/s leaves it: workers could gain ~2x.
    choice = vol._dispatch._choices["write"]
    choice.busy, choice.threads_rate = 1.0, 1e6
    data = [random_array((128, 64, 64), "uint8", seed=s) for s in range(3)]
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        vol[:, :, :] = data[0]  # starts the workers, runs on threads
        scheduler = vol._dispatch._scheduler
        recipe = vol._voxels.recipe()
        deadline = time.monotonic() + 120
        while not scheduler.started(recipe):
            assert time.monotonic() < deadline, "the workers did not start in 2 minutes"
            time.sleep(0.05)
        vol[:, :, :] = data[1]
        vol[:, :, :] = data[2]
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("precomputed_core.parallel")]
    box = "Bbox([3, -5, 0],[131, 59, 64], dtype=np.int64, unit='vx')"  # the layer's offset
    calls = [m for m in messages if m.startswith("parallel=2: write of")]
    assert calls == [
        f"parallel=2: write of {box} on this process's threads: the worker processes are starting",
        f"parallel=2: write of {box} in 2 worker processes (4 cells of the work grid)",
        f"parallel=2: write of {box} in 2 worker processes (4 cells of the work grid)",
    ]
    assert "parallel=2: a write, the worker processes' first, took" in " ".join(messages)
    assert len(scheduler._pool._processes) == 2
    np.testing.assert_array_equal(
        CloudVolume(f"file://{tmp_path}/layer", progress=False)[:, :, :][..., 0], data[2]
    )
    vol.close()


def test_a_workers_first_task_opens_the_layer_it_is_given(tmp_path):
    from precomputed_core.parallel import Recipe, _workers

    vol = _layer(tmp_path, "layer", size=(64, 64, 32))
    recipe = Recipe(vol.cloudpath, vol.info, {})
    _workers._open.cache_clear()
    _workers.ready(recipe)
    assert _workers._open.cache_info().currsize == 1
    assert _workers.open_recipe(recipe).meta.info == vol.info  # the same layer, kept for the tasks
    assert _workers._open.cache_info().hits == 1
    # A layer it cannot open is left to the task that needs it, which reports why.
    _workers.ready(Recipe(f"file://{tmp_path}/missing", {"bad": "info"}, {}))
    assert _workers._open.cache_info().currsize == 1
    _workers.ready()  # no recipe: only the start
