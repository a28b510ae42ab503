"""Regression guards for the raw read path that need no timing: call counts and allocations."""

from __future__ import annotations

import collections
import tracemalloc

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.image._buffers import HUGE_PAGE_MIN_BYTES
from precomputed_drivers.local import LocalStore


@pytest.fixture
def calls(monkeypatch):
    """Count storage reads per key, through every read method of the local store."""
    counts: collections.Counter[str] = collections.Counter()
    real_get, real_ranges, real_stored = LocalStore.get, LocalStore.get_ranges, LocalStore.get_stored_many

    def get(self, key):
        counts[key] += 1
        return real_get(self, key)

    def get_ranges(self, ranges):
        counts.update(r.key for r in ranges)
        return real_ranges(self, ranges)

    def get_stored_many(self, keys):
        keys = list(keys)
        counts.update(keys)
        return real_stored(self, keys)

    monkeypatch.setattr(LocalStore, "get", get)
    monkeypatch.setattr(LocalStore, "get_ranges", get_ranges)
    monkeypatch.setattr(LocalStore, "get_stored_many", get_stored_many)
    return counts


def _layer(make_volume, size=(256, 256, 64)):
    vol = make_volume(size=size, chunk=(64, 64, 32))
    vol[:] = np.arange(np.prod(size), dtype=np.uint32).reshape(size).astype(np.uint8)
    return vol


def test_each_chunk_is_fetched_once_and_the_info_once_per_volume(make_volume, calls):
    written = _layer(make_volume)
    calls.clear()
    vol = CloudVolume(written.cloudpath, progress=False)
    vol[:]
    vol[10:200, 3:77, 5:60]
    vol[0:64, 0:64, 0:32]
    assert calls.pop("info") == 1
    full, partial, single = 4 * 4 * 2, 4 * 2 * 2, 1
    assert sum(calls.values()) == full + partial + single
    assert calls["4_4_40/0-64_0-64_0-32"] == 3  # once per read that touched it
    assert max(calls.values()) == 3


@pytest.mark.parametrize("size", [(256, 256, 48), (512, 512, 64)])
def test_a_read_allocates_one_output_and_no_output_sized_copies(make_volume, size):
    vol = _layer(make_volume, size)
    nbytes = int(np.prod(size))
    chunk_bytes = 64 * 64 * 32
    vol[0:64, 0:64, 0:32]  # warm up: threads, codec and layout are built once
    tracemalloc.start()
    try:
        out = vol[:]
        out_unaligned = vol[3 : size[0] - 5, 1 : size[1] - 2, 2 : size[2] - 1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (*size, 1)
    assert out_unaligned.shape == (size[0] - 8, size[1] - 3, size[2] - 3, 1)
    # Large outputs live in an anonymous mapping that tracemalloc does not see; small ones are
    # numpy arrays it does. Either way nothing else may come near an output's size: at most
    # a few chunk buffers per I/O thread are alive at once.
    outputs = 2 * nbytes if nbytes < HUGE_PAGE_MIN_BYTES else 0
    assert peak <= outputs + 8 * chunk_bytes, (peak, outputs)
