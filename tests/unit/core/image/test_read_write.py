"""Reading and writing through CloudVolume on local disk, as the README shows."""

from __future__ import annotations

import os

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume, VolumeCutout
from precomputed_core.exceptions import (
    AlignmentError,
    EmptyVolumeException,
    GeometryError,
    OutOfBoundsError,
)
from precomputed_core.testing import random_array

DTYPES = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_full_roundtrip_every_spec_dtype(make_volume, dtype):
    vol = make_volume(dtype=dtype)
    data = random_array((100, 90, 37), dtype)
    vol[:, :, :] = data
    back = vol[:]
    assert back.dtype == np.dtype(dtype)
    assert back.shape == (100, 90, 37, 1)
    assert back.flags.f_contiguous
    np.testing.assert_array_equal(back[..., 0], data)


def test_multichannel_roundtrip_and_channel_slicing(make_volume):
    vol = make_volume(channels=3, dtype="uint16")
    data = random_array((100, 90, 37, 3), "uint16")
    vol[:, :, :] = data
    np.testing.assert_array_equal(vol[:, :, :], data)
    np.testing.assert_array_equal(vol[10:20, 5:6, 3:9, 1], data[10:20, 5:6, 3:9, 1:2])
    np.testing.assert_array_equal(vol[10:20, 5:6, 3:9, 1:3], data[10:20, 5:6, 3:9, 1:3])
    with pytest.raises(OutOfBoundsError):
        vol[0:1, 0:1, 0:1, 3]


def test_unaligned_cutouts_match_numpy(make_volume):
    vol = make_volume(offset=(13, -7, 5))
    data = random_array((100, 90, 37), "uint8", seed=3)
    vol[13:113, -7:83, 5:42] = data
    rng = np.random.default_rng(5)
    for _ in range(25):
        lo = rng.integers(0, (99, 89, 36))
        hi = lo + rng.integers(1, (100, 90, 37) - lo + 1)
        cut = vol[13 + lo[0] : 13 + hi[0], -7 + lo[1] : -7 + hi[1], 5 + lo[2] : 5 + hi[2]]
        np.testing.assert_array_equal(cut[..., 0], data[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]])
        offset = np.array([13, -7, 5])
        assert cut.bounds == Bbox(lo + offset, hi + offset)


def test_integer_indices_keep_dimensions_like_cloudvolume(make_volume):
    vol = make_volume()
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    cut = vol[5, 3:5, 2]
    assert cut.shape == (1, 2, 1, 1)
    np.testing.assert_array_equal(cut[0, :, 0, 0], data[5, 3:5, 2])
    np.testing.assert_array_equal(vol[np.s_[7, ..., 4, 0]][..., 0], data[7:8, :, 4:5])


def test_positive_steps_return_strided_cutouts(make_volume):
    vol = make_volume()
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    np.testing.assert_array_equal(vol[0:100:3, 1:90:7, ::2][..., 0], data[0:100:3, 1:90:7, ::2])


@pytest.mark.parametrize("index", [np.s_[::-1, :, :], np.s_[:, 10:0:-2, :], np.s_[:, :, ::0]])
def test_negative_or_zero_steps_are_refused(make_volume, index):
    vol = make_volume()
    with pytest.raises(GeometryError, match="step"):
        vol[index]


def test_writes_with_steps_are_refused(make_volume):
    vol = make_volume()
    with pytest.raises(GeometryError, match="contiguous box"):
        vol[0:64:2, 0:32, 0:16] = np.zeros((32, 32, 16), np.uint8)


def test_cutout_attributes(make_volume):
    vol = make_volume(max_mip=1, fill_missing=True)
    vol.mip = 1
    cut = vol[0:8, 0:4, 0:2]
    assert isinstance(cut, VolumeCutout)
    assert (cut.dataset_name, cut.layer, cut.mip, cut.layer_type) == ("ds", "layer", 1, "image")
    assert cut.bounds == Bbox((0, 0, 0), (8, 4, 2))
    assert cut.num_channels == 1
    assert cut.resolution.tolist() == [8, 8, 40]
    assert cut.cloudpath == vol.cloudpath


def test_bbox_indexing_and_physical_units(make_volume):
    vol = make_volume()
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    np.testing.assert_array_equal(vol[Bbox((1, 2, 3), (9, 8, 7))][..., 0], data[1:9, 2:8, 3:7])
    nm = Bbox((4, 8, 120), (36, 32, 280), unit="nm")  # resolution (4, 4, 40)
    np.testing.assert_array_equal(vol[nm][..., 0], data[1:9, 2:8, 3:7])


def test_download_method(make_volume):
    vol = make_volume(max_mip=1)
    data = random_array((50, 45, 37), "uint8")
    vol.mip = 1
    vol[:] = data
    vol.mip = 0
    cut = vol.download(np.s_[3:9, 4:10, 0:5], mip=1)
    np.testing.assert_array_equal(cut[..., 0], data[3:9, 4:10, 0:5])
    assert cut.mip == 1


def test_bounded_false_reads_zeros_outside(make_volume):
    vol = make_volume(bounded=False)
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    cut = vol[-5:5, 85:95, 30:40]
    assert cut.shape == (10, 10, 10, 1)
    np.testing.assert_array_equal(cut[5:, :5, :7, 0], data[:5, 85:, 30:])
    assert not cut[:5].any()
    assert not cut[:, 5:].any()
    assert not cut[:, :, 7:].any()


def test_bounded_true_refuses_outside(make_volume):
    vol = make_volume()
    with pytest.raises(OutOfBoundsError, match=r"axis x range -5:5 is outside the volume bounds 0:100"):
        vol[-5:5, 0:10, 0:10]
    with pytest.raises(OutOfBoundsError):
        vol[0:10, 0:10, 0:38] = np.zeros((10, 10, 38), np.uint8)


def test_autocrop_crops_reads_and_writes(make_volume):
    vol = make_volume(bounded=False, autocrop=True, non_aligned_writes=True)
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    cut = vol[-5:5, 85:95, 30:40]
    assert cut.shape == (5, 5, 7, 1)
    np.testing.assert_array_equal(cut[..., 0], data[:5, 85:, 30:])
    vol[95:105, 0:10, 0:10] = np.full((10, 10, 10), 7, np.uint8)
    np.testing.assert_array_equal(vol[95:100, 0:10, 0:10], 7)
    np.testing.assert_array_equal(vol[90:95, 0:10, 0:10][..., 0], data[90:95, 0:10, 0:10])


def test_unbounded_write_outside_without_autocrop_is_refused(make_volume):
    vol = make_volume(bounded=False)
    with pytest.raises(OutOfBoundsError, match="autocrop=True"):
        vol[96:128, 0:32, 0:16] = np.zeros((32, 32, 16), np.uint8)


def test_non_aligned_write_names_the_aligned_box(make_volume):
    vol = make_volume()
    with pytest.raises(AlignmentError) as err:
        vol[3:40, 0:32, 0:16] = np.zeros((37, 32, 16), np.uint8)
    assert "Bbox([0, 0, 0],[64, 32, 16]" in str(err.value)
    assert "non_aligned_writes=True" in str(err.value)
    assert not os.path.exists(vol.meta.info and f"{vol.layer_cloudpath[7:]}/4_4_40")


def test_aligned_edge_write_at_volume_end_needs_no_flag(make_volume):
    vol = make_volume()
    block = random_array((4, 26, 5), "uint8")
    vol[96:100, 64:90, 32:37] = block  # the last, clipped chunk is whole
    np.testing.assert_array_equal(vol[96:100, 64:90, 32:37][..., 0], block)


def test_non_aligned_write_preserves_neighbours(make_volume):
    vol = make_volume(non_aligned_writes=True)
    data = random_array((100, 90, 37), "uint8", seed=1)
    vol[:] = data
    patch = random_array((37, 20, 9), "uint8", seed=2)
    vol[3:40, 30:50, 10:19] = patch
    expected = data.copy()
    expected[3:40, 30:50, 10:19] = patch
    np.testing.assert_array_equal(vol[:][..., 0], expected)


def test_non_aligned_write_into_missing_chunks_fills_zeros(make_volume):
    vol = make_volume(non_aligned_writes=True, fill_missing=True)
    vol[5:10, 5:10, 5:10] = np.ones((5, 5, 5), np.uint8)
    cut = vol[0:32, 0:32, 0:16][..., 0]
    assert int(cut.sum()) == 125
    assert cut[5:10, 5:10, 5:10].all()


def test_missing_chunks(make_volume):
    vol = make_volume()
    with pytest.raises(
        EmptyVolumeException, match=r"4_4_40/0-32_0-32_0-16 is missing; pass fill_missing=True"
    ):
        vol[0:10, 0:10, 0:10]
    vol.fill_missing = True
    np.testing.assert_array_equal(vol[0:10, 0:10, 0:10], 0)


def test_scalar_and_broadcast_writes(make_volume):
    vol = make_volume(dtype="uint16")
    vol[:] = 7
    assert np.all(vol[:] == 7)
    vol[0:32, 0:32, 0:16] = np.uint16(9)
    assert np.all(vol[0:32, 0:32, 0:16] == 9)
    assert np.all(vol[32:64, 0:32, 0:16] == 7)


def test_4d_and_3d_inputs(make_volume):
    vol = make_volume()
    data = random_array((100, 90, 37, 1), "uint8")
    vol[:] = data
    np.testing.assert_array_equal(vol[:], data)
    multi = make_volume(channels=2, name="two")
    with pytest.raises(AlignmentError, match=r"shape \(100, 90, 37\) does not match .* \(100, 90, 37, 2\)"):
        multi[:] = data[..., 0]


def test_mip_switching_by_index_and_resolution(make_volume):
    vol = make_volume(max_mip=2)
    assert list(vol.available_mips) == [0, 1, 2]
    small = random_array((25, 23, 37), "uint8")
    vol.mip = [16, 16, 40]
    assert vol.mip == 2
    vol[:] = small
    reopened = CloudVolume(vol.cloudpath, mip=2, progress=False)
    np.testing.assert_array_equal(reopened[:][..., 0], small)
    reopened.mip = 0
    with pytest.raises(EmptyVolumeException):
        reopened[0:1, 0:1, 0:1]


def test_exists_and_delete(make_volume):
    vol = make_volume()
    vol[0:64, 0:32, 0:16] = 1
    assert vol.exists(np.s_[0:64, 0:64, 0:16]) == {
        "4_4_40/0-32_0-32_0-16": True,
        "4_4_40/32-64_0-32_0-16": True,
        "4_4_40/0-32_32-64_0-16": False,
        "4_4_40/32-64_32-64_0-16": False,
    }
    # exists expands a partial box to the chunks that hold it
    assert vol.exists(np.s_[1:2, 1:2, 1:2]) == {"4_4_40/0-32_0-32_0-16": True}
    with pytest.raises(AlignmentError, match="delete box"):
        vol.delete(np.s_[0:10, 0:32, 0:16])
    vol.delete(np.s_[0:32, 0:32, 0:16])
    assert vol.exists(Bbox((0, 0, 0), (64, 32, 16))) == {
        "4_4_40/0-32_0-32_0-16": False,
        "4_4_40/32-64_0-32_0-16": True,
    }


def test_gzip_writes_read_back_and_are_gz_files(make_volume, tmp_path):
    vol = make_volume(compress="gzip")
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    names = os.listdir(tmp_path / "ds" / "layer" / "4_4_40")
    assert len(names) == 4 * 3 * 3
    assert all(n.endswith(".gz") for n in names)
    np.testing.assert_array_equal(CloudVolume(vol.cloudpath, progress=False)[:][..., 0], data)
    vol.compress = None
    vol[0:32, 0:32, 0:16] = 5
    assert "0-32_0-32_0-16" in os.listdir(tmp_path / "ds" / "layer" / "4_4_40")
    assert "0-32_0-32_0-16.gz" not in os.listdir(tmp_path / "ds" / "layer" / "4_4_40")
    assert np.all(vol[0:32, 0:32, 0:16] == 5)


def test_progress_bar_on_multichunk_work(make_volume, capsys):
    vol = make_volume(progress=True)
    vol[:] = 3
    vol[:]
    err = capsys.readouterr().err
    assert "Uploading" in err
    assert "Downloading" in err
    assert "0/36" in err  # one bar per call, counting the 36 chunks


def test_progress_default_is_off_outside_an_interactive_interpreter(tmp_path):
    from precomputed_core import INTERACTIVE

    assert INTERACTIVE is False
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [8, 8, 8])
    assert CloudVolume(f"file://{tmp_path}/x", info=info).progress is False


def test_memory_protocol_roundtrip():
    info = CloudVolume.create_new_info(2, "image", "float32", "raw", [1, 1, 1], [0, 0, 0], [20, 20, 20],
                                       chunk_size=(8, 8, 8))  # fmt: skip
    vol = CloudVolume("mem://test-bucket/ds/float", info=info, progress=False)
    vol.commit_info()
    data = random_array((20, 20, 20, 2), "float32")
    vol[:] = data
    np.testing.assert_array_equal(CloudVolume("mem://test-bucket/ds/float")[:], data)


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_partial_chunk_reads_use_byte_ranges_only_for_bare_chunks(make_volume, compress, monkeypatch):
    from precomputed_drivers.local import LocalStore

    vol = make_volume(compress=compress, channels=2, dtype="uint16")
    data = random_array((100, 90, 37, 2), "uint16", seed=9)
    vol[:] = data
    calls = {"range": 0, "whole": 0}
    real_range, real_get = LocalStore.get_ranges, LocalStore.get_stored_many

    def counting_range(self, ranges):
        calls["range"] += len(ranges)
        return real_range(self, ranges)

    def counting_get(self, keys):
        keys = list(keys)
        calls["whole"] += len(keys)
        return real_get(self, keys)

    monkeypatch.setattr(LocalStore, "get_ranges", counting_range)
    monkeypatch.setattr(LocalStore, "get_stored_many", counting_get)
    np.testing.assert_array_equal(vol[5:40, 3:35, 10:20], data[5:40, 3:35, 10:20])
    # the box touches 2 x 2 x 2 chunks, none of them whole
    assert calls["range"] == 8
    assert calls["whole"] == (8 if compress else 0)
