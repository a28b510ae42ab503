"""Attaching to shared memory never involves the resource tracker, for this thread or any other."""

from __future__ import annotations

import threading
from multiprocessing import resource_tracker

import numpy as np
import pytest

from precomputed_core.exceptions import SharedMemoryError
from precomputed_core.parallel import _shm


def test_attach_never_touches_the_resource_tracker(monkeypatch):
    segment = _shm.create(None, 4096)
    try:
        view = _shm.array_of(segment, (1024,), np.uint32)
        view[:] = np.arange(1024)

        def refuse(*args, **kwargs):
            raise AssertionError("attach called the resource tracker")

        monkeypatch.setattr(resource_tracker, "register", refuse)
        monkeypatch.setattr(resource_tracker, "unregister", refuse)
        attached = _shm.attach(segment.name)
        try:
            assert attached.size >= 4096
            np.testing.assert_array_equal(_shm.array_of(attached, (1024,), np.uint32), np.arange(1024))
        finally:
            attached.close()
        attached.close()  # closing twice is harmless
        with pytest.raises(SharedMemoryError, match="closed"):
            attached.fileno()
        monkeypatch.undo()
    finally:
        segment.close()
        segment.unlink()


def test_other_threads_segments_stay_registered_while_this_one_attaches(monkeypatch):
    """The old attach swapped ``resource_tracker.register`` for the whole process; no longer."""
    registered: list[str] = []
    real_register = resource_tracker.register

    def recording(name, rtype):
        registered.append(name)
        return real_register(name, rtype)

    monkeypatch.setattr(resource_tracker, "register", recording)
    target = _shm.create(None, 4096)
    stop = threading.Event()

    def attach_forever():
        while not stop.is_set():
            _shm.attach(target.name).close()

    attacher = threading.Thread(target=attach_forever)
    attacher.start()
    created = []
    try:
        for _ in range(200):
            created.append(_shm.create(None, 4096))
    finally:
        stop.set()
        attacher.join()
        for segment in [*created, target]:
            segment.close()
            segment.unlink()
    assert {s._name for s in created} <= set(registered)


def test_attach_and_unlink_by_name():
    assert _shm.unlink("precomputed-test-no-such-segment") is False
    with pytest.raises(SharedMemoryError, match="no shared memory named"):
        _shm.attach("precomputed-test-no-such-segment")
    segment = _shm.create("precomputed-test-by-name", 64, track=False)
    segment.close()
    assert _shm.unlink("precomputed-test-by-name") is True
    assert _shm.unlink("precomputed-test-by-name") is False
