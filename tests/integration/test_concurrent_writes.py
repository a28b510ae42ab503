"""Two writers patching different voxels of one chunk never lose each other's (issue: no lost updates).

Within a process, read-modify-writes of one object are serialised; across processes, local
disk takes a file lock and S3/GCS make each write conditional on the version read
(``If-Match``/``If-None-Match``, ``ifGenerationMatch``), reading again on a conflict.
Every test runs on local disk, moto (S3) and fake-gcs-server (GCS).
"""

from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest

import writers
from precomputed_core import CloudVolume, StoredObject

WRITABLE = [pytest.param(name, marks=getattr(pytest.mark, name)) for name in ("local", "s3", "gcs")]


def _new_layer(request, tmp_path, info):
    if request.param == "local":
        url = f"file://{tmp_path}/layer"
    elif request.param == "s3":
        url = f"s3://{request.getfixturevalue('s3_bucket')}/layer"
    else:
        url = f"gs://{request.getfixturevalue('gcs_bucket')}/layer"
    CloudVolume(url, info=info, progress=False).commit_info()
    return url


@pytest.fixture(params=WRITABLE)
def layer(request, tmp_path):
    """A new one-chunk layer on each writable backend; its URL."""
    return _new_layer(request, tmp_path, writers.info())


@pytest.fixture(params=WRITABLE)
def sharded_layer(request, tmp_path):
    """A new layer of one shard of eight chunks on each writable backend; its URL."""
    return _new_layer(request, tmp_path, writers.info(sharded=True))


def _race_threads(vols, round_):
    threads = [
        threading.Thread(target=writers.write_half, args=(vol, round_, w)) for w, vol in enumerate(vols)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("shared", [True, False], ids=["one-volume", "two-volumes"])
def test_threads_lose_no_voxels(layer, shared):
    first = CloudVolume(layer, non_aligned_writes=True, fill_missing=True, progress=False)
    second = (
        first if shared else CloudVolume(layer, non_aligned_writes=True, fill_missing=True, progress=False)
    )
    lost = []
    for round_ in range(30):
        _race_threads((first, second), round_)
        lost += [(round_, w) for w in writers.lost_halves(first, round_)]
    assert lost == []


def test_threads_lose_no_voxels_in_memory():
    """mem:// keeps no file and has no versions: the process-wide lock per object is all it
    needs, and every store that does not override ``update_many`` gets it."""
    url = "mem://race/threads/layer"
    CloudVolume(url, info=writers.info(), progress=False).commit_info()
    first = CloudVolume(url, non_aligned_writes=True, fill_missing=True, progress=False)
    second = CloudVolume(url, non_aligned_writes=True, fill_missing=True, progress=False)
    lost = []
    for round_ in range(30):
        _race_threads((first, second), round_)
        lost += [(round_, w) for w in writers.lost_halves(first, round_)]
    assert lost == []


def _referee(processes, barrier, reader, rounds):
    """Run the rounds of writer processes; the (round, writer) pairs whose voxels were lost."""
    lost = []
    try:
        for round_ in range(rounds):
            barrier.wait()  # both writers start the round
            barrier.wait()  # both have written
            lost += [(round_, w) for w in writers.lost_halves(reader, round_)]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():  # a hung writer must not outlive the test
                process.kill()
                process.join()
    assert [p.exitcode for p in processes] == [0, 0]
    return lost


def test_processes_lose_no_voxels(layer):
    rounds = 20
    context = multiprocessing.get_context("spawn")  # no fork of this process's event loop threads
    barrier = context.Barrier(3, timeout=120)
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "STORAGE_EMULATOR"))}
    processes = [
        context.Process(target=writers.writer_process, args=(layer, w, rounds, barrier, env)) for w in (0, 1)
    ]
    for process in processes:
        process.start()
    assert _referee(processes, barrier, CloudVolume(layer, progress=False), rounds) == []


def test_processes_writing_whole_chunks_of_one_shard_lose_none(sharded_layer):
    """Chunk-aligned writes need no lock in an unsharded scale; in a sharded one the chunks
    share a shard file, and each write is a read-modify-write of it that loses nothing."""
    rounds = 10
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3, timeout=120)
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "STORAGE_EMULATOR"))}
    processes = [
        context.Process(target=writers.writer_process, args=(sharded_layer, w, rounds, barrier, env))
        for w in (0, 1)
    ]
    for process in processes:
        process.start()
    assert _referee(processes, barrier, CloudVolume(sharded_layer, progress=False), rounds) == []


def test_forked_writers_use_the_volume_their_parent_opened(layer):
    """multiprocessing's fork, as many scripts use it: children write through the parent's
    CloudVolume (a remote store opens its own connections in each child)."""
    import warnings

    rounds = 10
    vol = CloudVolume(layer, non_aligned_writes=True, fill_missing=True, progress=False)
    writers.lost_halves(vol, 0)  # the parent has used it: connections and event loop exist
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3, timeout=120)
    processes = [context.Process(target=writers.write_rounds, args=(vol, w, rounds, barrier)) for w in (0, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        for process in processes:
            process.start()
    assert _referee(processes, barrier, vol, rounds) == []


def test_an_update_starts_again_when_the_object_changed_under_it(layer):
    """A whole-object write that lands between an update's read and its write is not lost:
    the store sees the object changed (a newer version or file) and runs the update again."""
    store = CloudVolume(layer, progress=False)._volume.store
    store.put("obj", b"v1")
    seen = []

    def update(current):
        seen.append(current.data)
        if len(seen) == 1:  # another writer replaces the object meanwhile (no lock: a whole write)
            store.put("obj", b"v2")
        return StoredObject(current.data + b"+patch")

    store.update_many({"obj": update})
    assert seen == [b"v1", b"v2"]
    assert store.get("obj") == b"v2+patch"


def test_an_update_of_a_missing_object_does_not_overwrite_one_created_meanwhile(layer):
    store = CloudVolume(layer, progress=False)._volume.store
    seen = []

    def update(current):
        seen.append(None if current is None else current.data)
        if len(seen) == 1:
            store.put("new", b"theirs")
        return StoredObject((b"" if current is None else current.data) + b"+ours")

    store.update_many({"new": update})
    assert seen == [None, b"theirs"]
    assert store.get("new") == b"theirs+ours"


def test_aligned_writes_take_no_lock(tmp_path, monkeypatch):
    """Whole-chunk writes to an unsharded scale go straight to storage: no lock, no read."""
    from precomputed_drivers import local

    url = f"file://{tmp_path}/layer"
    vol = CloudVolume(url, info=writers.info(), progress=False, non_aligned_writes=True, fill_missing=True)
    vol.commit_info()

    def refuse(*args, **kwargs):
        raise AssertionError("an aligned write took the file lock")

    monkeypatch.setattr(local, "file_lock", refuse)
    vol[:, :, :] = np.ones(writers.SIZE, np.uint32)
    assert int(vol[:, :, :].sum()) == np.prod(writers.SIZE)
    with pytest.raises(AssertionError, match="took the file lock"):
        writers.write_half(vol, 0, 0)  # a non-aligned write does take it


def test_no_lock_file_is_left_behind(tmp_path):
    url = f"file://{tmp_path}/layer"
    vol = CloudVolume(url, info=writers.info(), progress=False, non_aligned_writes=True, fill_missing=True)
    vol.commit_info()
    writers.write_half(vol, 0, 0)
    writers.write_half(vol, 0, 1)
    assert sorted(p.name for p in (tmp_path / "layer" / "1_1_1").iterdir()) == ["0-32_0-32_0-32"]
    assert writers.lost_halves(vol, 0) == []


def test_a_killed_writer_leaves_the_old_chunk_and_no_lock_held(tmp_path):
    """A writer killed inside its read-modify-write: the chunk is the old one, whole; the kernel
    released its lock, so the next update goes ahead, and removes the stale lock file."""
    url = f"file://{tmp_path}/layer"
    vol = CloudVolume(url, info=writers.info(), progress=False, non_aligned_writes=True, fill_missing=True)
    vol.commit_info()
    writers.write_half(vol, 0, 0)
    writers.write_half(vol, 0, 1)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    victim = context.Process(target=writers.hold_the_lock_then_die, args=(url, ready))
    victim.start()
    assert ready.wait(60)
    directory = tmp_path / "layer" / "1_1_1"
    assert (directory / ".0-32_0-32_0-32.lock").exists()  # it holds the lock
    victim.kill()
    victim.join(10)
    assert writers.lost_halves(vol, 0) == []  # the old chunk, whole
    writers.write_half(vol, 1, 0)  # not blocked: the kernel dropped the dead writer's lock
    writers.write_half(vol, 1, 1)
    assert writers.lost_halves(vol, 1) == []
    assert sorted(p.name for p in directory.iterdir()) == ["0-32_0-32_0-32"]
    assert sorted(CloudVolume(url, progress=False)._volume.store.list("1_1_1/")) == ["1_1_1/0-32_0-32_0-32"]


def test_a_child_forked_during_an_update_does_not_keep_its_lock(tmp_path):
    """A fork while an update holds a chunk's file lock: the child shares the open lock file,
    and would hold the lock until it exits, unless it lets go at fork (it does)."""
    import signal
    import subprocess
    import sys
    import time
    import warnings

    url = f"file://{tmp_path}/layer"
    store = CloudVolume(url, info=writers.info(), progress=False)._volume.store
    inside, release = threading.Event(), threading.Event()

    def update(current):
        inside.set()
        release.wait(30)
        return StoredObject(b"one")

    writer = threading.Thread(target=store.update_many, args=({"1_1_1/k": update},))
    writer.start()
    assert inside.wait(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    try:
        script = (
            "from precomputed_drivers._file_lock import file_lock\n"
            f"with file_lock({str(tmp_path / 'layer' / '1_1_1' / 'k')!r}):\n    print('locked')"
        )
        # A writer of another process waits on the lock file the update holds...
        waiter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiter.poll() is None
        release.set()  # ...and gets it when the update ends, though the child still lives
        writer.join(30)
        out, _ = waiter.communicate(timeout=10)
        assert out.strip() == "locked"
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    assert store.get("1_1_1/k") == b"one"


@pytest.mark.s3
def test_a_service_without_conditional_writes_says_so(s3_endpoint, s3_bucket, monkeypatch):
    """An S3-compatible service that answers 501 to If-Match: a clear error, not "overloaded"."""
    from precomputed_core.exceptions import StorageError
    from precomputed_drivers._retry import RetryPolicy
    from precomputed_drivers.s3 import S3Store
    from stand_ins import Fault, fault_proxy

    monkeypatch.setattr(S3Store, "policy", RetryPolicy(attempts=2, base=0.01, cap=0.02))
    url = f"s3://{s3_bucket}/layer"
    CloudVolume(url, info=writers.info(), progress=False).commit_info()
    with fault_proxy(s3_endpoint) as proxy:
        proxy.faults = [Fault(lambda method, path: method == "PUT" and "1_1_1" in path, 501, times=100)]
        vol = CloudVolume(url, endpoint_url=proxy.endpoint, non_aligned_writes=True, fill_missing=True,
                          progress=False)  # fmt: skip
        with pytest.raises(
            StorageError, match="1_1_1/0-32_0-32_0-32: the service does not support conditional"
        ):
            writers.write_half(vol, 0, 0)


@pytest.mark.gcs
def test_an_update_in_a_bucket_that_does_not_exist_says_so(gcs_endpoint, monkeypatch):
    from precomputed_core.exceptions import StorageError
    from precomputed_drivers.gcs import GCSStore

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    store = GCSStore("no-such-bucket-here", "layer")
    with pytest.raises(StorageError, match=r"no-such-bucket-here/layer/k: .*the bucket does not exist"):
        store.update_many({"k": lambda current: StoredObject(b"new")})
