"""The dispatcher cuts parallel work on the grid the volume gives it (its chunk I/O's work grid)."""

from __future__ import annotations

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

    def __init__(self):
        self.calls = []

    def write(self, recipe, grid, box, **kwargs):
        self.calls.append(("write", grid, box))

    def read(self, recipe, grid, box, *, channels, dtype, **kwargs):
        self.calls.append(("read", grid, box))
        return np.zeros((*box.size3().tolist(), channels), dtype=dtype, order="F")

    def close(self):
        pass


@pytest.fixture
def packed(tmp_path, monkeypatch):
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
