"""Reads too big for memory say so at once, before allocating (issue: bounded memory)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import OutOfMemoryError
from precomputed_core.image import _memory, available_memory


def _info(size, chunk=(256, 256, 64)):
    return CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], list(size),
                                       chunk_size=chunk)  # fmt: skip


def test_available_memory_is_at_most_memavailable():
    room, source = available_memory()
    with open("/proc/meminfo") as file:
        line = next(line for line in file if line.startswith("MemAvailable:"))
    assert 0 < room <= int(line.split()[1]) * 1024 * 1.05  # MemAvailable moves a little meanwhile
    assert source


def test_a_read_of_a_huge_volume_raises_memory_error_at_once(tmp_path):
    vol = CloudVolume(f"file://{tmp_path}/huge", info=_info((100_000, 100_000, 100_000)), fill_missing=True,
                      progress=False)  # fmt: skip
    vol.commit_info()
    start = time.monotonic()
    with pytest.raises(MemoryError) as caught:
        vol[:]
    assert time.monotonic() - start < 5
    assert isinstance(caught.value, OutOfMemoryError)
    message = str(caught.value)
    assert "needs 909.5 TiB (1000000000000000 bytes)" in message
    assert "smaller box" in message
    assert "download_to_shared_memory" in message


def test_the_address_space_limit_counts(tmp_path):
    """Under ``ulimit -v`` of 1 GiB, an in-bounds 2 GiB read is refused, not a bare mmap ENOMEM."""
    vol = CloudVolume(f"file://{tmp_path}/big", info=_info((2048, 1024, 1024)), progress=False)
    vol.commit_info()
    script = textwrap.dedent(f"""
        import resource
        from precomputed_core import CloudVolume
        from precomputed_core.exceptions import OutOfMemoryError
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
        vol = CloudVolume("file://{tmp_path}/big", fill_missing=True, progress=False)
        try:
            vol[0:2048, 0:1024, 0:1024]
        except OutOfMemoryError as err:
            print("refused:", err)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "refused: reading (2048, 1024, 1024, 1) voxels of uint8" in result.stdout
    assert "(2147483648 bytes)" in result.stdout
    assert "ulimit -v" in result.stdout


def test_parallel_reads_check_too(tmp_path, monkeypatch, worker_processes):
    vol = CloudVolume(f"file://{tmp_path}/p", info=_info((512, 512, 64)), parallel=2, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.ones((512, 512, 64), np.uint8)
    monkeypatch.setattr(_memory, "available_memory", lambda: (2**20, "a test limit"))
    monkeypatch.setattr(_memory, "CHECKED_FROM_BYTES", 0)
    with pytest.raises(
        OutOfMemoryError, match=r"needs 16.0 MiB .* 1.0 MiB this process may still use \(a test"
    ):
        vol[:, :, :]
    monkeypatch.undo()
    assert int(vol[:, :, :].sum()) == 512 * 512 * 64


def test_small_reads_do_not_read_the_limits(tmp_path, monkeypatch):
    """Cutouts under 64 MiB skip the check: reading /proc and the cgroup files per call would
    cost small cutouts more than it could ever catch."""
    vol = CloudVolume(f"file://{tmp_path}/s", info=_info((256, 256, 64)), progress=False)
    vol.commit_info()
    vol[:, :, :] = np.ones((256, 256, 64), np.uint8)

    def unreadable():
        raise AssertionError("the limits were read")

    monkeypatch.setattr(_memory, "available_memory", unreadable)
    assert int(vol[0:100, 0:100, 0:50].sum()) == 100 * 100 * 50
    monkeypatch.setattr(_memory, "CHECKED_FROM_BYTES", 0)
    with pytest.raises(AssertionError, match="the limits were read"):
        vol[0:100, 0:100, 0:50]
