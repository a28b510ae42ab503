"""A third party's ``kind="volume"`` driver, found through an entry point and used through CloudVolume.

The fake ``blocks://`` service (tests/plugins/fake) stores 16x16x8 blocks packed 2x2x2
to a file, and its info has no ``chunk_sizes`` or ``encoding``: nothing in core may
look for them. Its packs are its work grid, so ``parallel`` must never split a pack.
"""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume, plugins
from precomputed_core.exceptions import FeatureUnavailableError, OutOfBoundsError

SIZE = (64, 48, 40)


@pytest.fixture
def blocks(plugin_dir, tmp_path):
    """A new, committed blocks:// layer (uint16, offset (3, -4, 5)) and the data written to it."""
    plugin_dir("fake")
    from precomputed_fake.volume import blocks_info

    info = blocks_info("uint16", SIZE, offset=(3, -4, 5))
    vol = CloudVolume(f"blocks://{tmp_path}/ds/layer", info=info, progress=False)
    vol.commit_info()
    data = np.random.default_rng(5).integers(0, 60000, size=SIZE, dtype=np.uint16)
    vol[:, :, :] = data
    yield vol, data
    vol.close()


def _packs_per_call(root):
    with open(root / "writes.log") as log:
        return [line.split()[1:] for line in log]


def test_the_driver_is_a_volume_plugin_of_the_third_party(blocks):
    entry = {e.key: e for e in plugins.driver_entries()}["blocks"]
    assert (entry.kind, entry.owner) == ("volume", "precomputed-fake")


def test_properties_come_from_the_volume_not_precomputed_keys(blocks):
    vol, _ = blocks
    assert "chunk_sizes" not in vol.scale
    assert "encoding" not in vol.scale
    assert vol.chunk_size.tolist() == [16, 16, 8]
    assert vol.underlying.tolist() == [16, 16, 8]
    assert vol.mip_chunk_size(0).tolist() == [16, 16, 8]
    assert vol.encoding == "npy"
    assert vol.shape == (*SIZE, 1)
    assert vol.bounds == Bbox((3, -4, 5), (67, 44, 45))
    assert vol.voxel_offset.tolist() == [3, -4, 5]
    assert vol.resolution.tolist() == [8, 8, 8]
    assert (vol.dtype, vol.num_channels, vol.layer_type) == (np.dtype("uint16"), 1, "image")
    assert list(vol.available_mips) == [0]
    assert vol.key == "s0"


def test_precomputed_only_edits_are_refused_clearly(blocks):
    vol, _ = blocks
    with pytest.raises(FeatureUnavailableError, match="add_scale builds a Precomputed scale; BlocksVolume"):
        vol.add_scale((2, 2, 1))
    assert len(vol.info["scales"]) == 1


def test_reopened_from_its_own_info(blocks):
    vol, data = blocks
    again = CloudVolume(vol.cloudpath, progress=False)
    assert again.info == vol.info
    np.testing.assert_array_equal(again[:, :, :][..., 0], data)


def test_slicing_follows_the_readme(blocks):
    vol, data = blocks
    np.testing.assert_array_equal(vol[10:30, -4:7, 20][..., 0], data[7:27, 0:11, 15:16])
    np.testing.assert_array_equal(vol[3:67:5, ::3, 40:45:2][..., 0], data[::5, ::3, 35:40:2])
    np.testing.assert_array_equal(vol[Bbox((4, 0, 6), (9, 5, 7))][..., 0], data[1:6, 4:9, 1:2])
    with pytest.raises(OutOfBoundsError):
        vol[0:10, 0:10, 5:10]
    vol.bounded, vol.fill_missing = False, True
    outside = vol[60:70, 40:48, 40:45][..., 0]
    np.testing.assert_array_equal(outside[:7, :4], data[57:64, 44:48, 35:40])
    assert not outside[7:].any()
    assert not outside[:, 4:].any()


def test_exists_and_delete_by_block(blocks):
    vol, data = blocks
    found = vol.exists(np.s_[3:19, -4:12, 5:13])
    assert found == {"s0/3-19_-4-12_5-13": True}
    vol.delete(np.s_[3:19, -4:12, 5:13])
    assert vol.exists(np.s_[3:35, -4:12, 5:13]) == {"s0/3-19_-4-12_5-13": False, "s0/19-35_-4-12_5-13": True}
    vol.fill_missing = True
    assert not vol[3:19, -4:12, 5:13].any()
    np.testing.assert_array_equal(vol[19:35, -4:12, 5:13][..., 0], data[16:32, 0:16, 0:8])


def test_parallel_work_is_cut_on_the_volumes_packs(blocks, tmp_path, worker_processes):
    vol, _ = blocks
    vol.parallel = 2
    fresh = np.random.default_rng(6).integers(0, 60000, size=SIZE, dtype=np.uint16)
    (tmp_path / "ds" / "layer" / "writes.log").unlink()
    vol[:, :, :] = fresh
    calls = _packs_per_call(tmp_path / "ds" / "layer")
    packs = [pack for call in calls for pack in call]
    assert len(calls) > 2  # the write was split into several groups...
    assert len(packs) == len(set(packs)) == 2 * 2 * 3  # ...and each pack was written by one of them
    np.testing.assert_array_equal(vol[:, :, :][..., 0], fresh)
    vol.parallel = 1
    np.testing.assert_array_equal(vol[:, :, :][..., 0], fresh)


def test_parallel_is_refused_for_a_volume_that_cannot_be_split(blocks, monkeypatch):
    vol, _ = blocks
    from precomputed_fake.volume import BlocksVolume

    monkeypatch.setattr(BlocksVolume, "work_grid", lambda self, mip: None)
    vol.parallel = 2
    with pytest.raises(FeatureUnavailableError, match=r"parallel=2: .*BlocksVolume.*use parallel=1"):
        vol[:, :, :]
    assert vol._dispatch._scheduler is None  # refused before any worker started


def test_the_cli_summarises_a_volume_without_chunk_sizes(blocks, capsys):
    from precomputed_core.cli import main

    vol, _ = blocks
    assert main(["info", vol.cloudpath]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("0 "))
    assert row.split() == ["0", "s0", "64", "x", "48", "x", "40", "3", "x", "-4", "x", "5", "16", "x", "16", "x",
                           "8", "8", "x", "8", "x", "8", "npy", "no", str(4 * 3 * 5)]  # fmt: skip


def test_the_disk_cache_refuses_an_array_service_clearly(blocks):
    vol, data = blocks
    with pytest.raises(FeatureUnavailableError, match=r"array service.*cache=False"):
        CloudVolume(vol.cloudpath, cache=True)
    assert vol.cache.enabled is False
    with pytest.raises(FeatureUnavailableError, match="array service"):
        vol.cache.enabled = True
    np.testing.assert_array_equal(vol[vol.bounds][..., 0], data)  # nothing changed
