from __future__ import annotations

import threading
import time

import pytest

from precomputed_core.image._executor import INLINE_BYTES, TaskRunner, grouped


def test_every_index_runs_once_on_the_pool():
    runner = TaskRunner(4)
    seen: list[int] = []
    names: set[str] = set()
    lock = threading.Lock()

    def task(indices):
        for i in indices:
            time.sleep(0.0005)
            with lock:
                seen.append(i)
                names.add(threading.current_thread().name)

    runner.run(task, 500, progress=False, desc="t", nbytes=INLINE_BYTES)
    assert sorted(seen) == list(range(500))
    assert len(names) > 1
    assert all(n.startswith("precomputed-io") for n in names)
    runner.close()


def test_small_work_runs_on_the_calling_thread():
    runner = TaskRunner(4)
    names = set()

    def task(indices):
        for _ in indices:
            names.add(threading.current_thread().name)

    runner.run(task, 50, progress=False, desc="t", nbytes=INLINE_BYTES - 1)
    assert names == {threading.current_thread().name}


def test_first_error_is_raised_and_the_rest_stop():
    runner = TaskRunner(2)
    done: list[int] = []

    def task(indices):
        for i in indices:
            if i == 3:
                raise ValueError("chunk 3 is bad")
            time.sleep(0.001)
            done.append(i)

    with pytest.raises(ValueError, match="chunk 3 is bad"):
        runner.run(task, 400, progress=False, desc="t", nbytes=INLINE_BYTES)
    finished = len(done)
    time.sleep(0.05)
    assert len(done) == finished  # nothing runs after the error was raised
    assert finished < 399
    # the runner still works after an error
    again: list[int] = []
    runner.run(lambda idx: again.extend(idx), 10, progress=False, desc="t", nbytes=INLINE_BYTES)
    assert sorted(again) == list(range(10))
    runner.close()


def test_grouped():
    assert list(grouped(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(grouped(iter([]), 3)) == []
