"""download_files, download_to_file and upload_from_file, as cloud-volume 12 has them."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.exceptions import AlignmentError, FeatureUnavailableError

SHARDING = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 0, "hash": "identity",
            "minishard_bits": 0, "shard_bits": 3, "minishard_index_encoding": "raw", "data_encoding": "gzip"}  # fmt: skip


def _layer(tmp_path, name="l", sharding=None, **options):
    info = CloudVolume.create_new_info(1, "segmentation", "uint16", "raw", [4, 4, 40], [0, 0, 0],
                                       [64, 64, 32], chunk_size=(32, 32, 16))  # fmt: skip
    if sharding:
        info["scales"][0]["sharding"] = dict(sharding)
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False, **options)
    vol.commit_info()
    data = np.random.default_rng(2).integers(0, 6, size=(64, 64, 32), dtype=np.uint16)
    vol[0:64, 0:32, 0:32] = data[:, :32]
    return vol, data


def _raw(data, lo, hi):
    return data[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].tobytes(order="F")


def test_download_files_returns_the_stored_chunks(tmp_path):
    vol, data = _layer(tmp_path, compress="gzip")
    files = vol.download_files(np.s_[0:40, 20:40, 0:10])
    assert files == {
        "4_4_40/0-32_0-32_0-16": _raw(data, (0, 0, 0), (32, 32, 16)),
        "4_4_40/32-64_0-32_0-16": _raw(data, (32, 0, 0), (64, 32, 16)),
        "4_4_40/0-32_32-64_0-16": None,  # never written
        "4_4_40/32-64_32-64_0-16": None,
    }
    packed = vol.download_files(np.s_[0:32, 0:32, 0:16], decompress=False)
    assert gzip.decompress(packed["4_4_40/0-32_0-32_0-16"]) == _raw(data, (0, 0, 0), (32, 32, 16))
    assert vol.download_files(np.s_[0:32, 0:32, 0:16], cache_only=True) == {}


def test_download_files_of_a_sharded_scale_are_keyed_by_morton_code(tmp_path):
    vol, data = _layer(tmp_path, sharding=SHARDING)
    files = vol.download_files(Bbox((0, 0, 16), (64, 32, 32)))
    assert files == {4: _raw(data, (0, 0, 16), (32, 32, 32)), 5: _raw(data, (32, 0, 16), (64, 32, 32))}
    with pytest.raises(FeatureUnavailableError, match="decompress=False"):
        vol.download_files(Bbox((0, 0, 16), (64, 32, 32)), decompress=False)


def test_download_files_can_keep_only_some_labels(tmp_path):
    vol, data = _layer(tmp_path)
    (chunk,) = vol.download_files(np.s_[0:32, 0:32, 0:16], segids=[1, 3]).values()
    expected = data[0:32, 0:32, 0:16].copy()
    expected[~np.isin(expected, [1, 3])] = 0
    assert chunk == expected.tobytes(order="F")


def test_download_to_file_maps_the_cutout_onto_a_file(tmp_path):
    vol, data = _layer(tmp_path)
    path = tmp_path / "cutout.raw"
    image = vol.download_to_file(str(path), np.s_[10:50, 5:30, 2:20])
    np.testing.assert_array_equal(image[..., 0], data[10:50, 5:30, 2:20])
    assert isinstance(image.base, np.memmap) or isinstance(np.asarray(image).base, np.memmap)
    assert image.bounds == Bbox((10, 5, 2), (50, 30, 20))
    on_disk = np.fromfile(path, dtype=np.uint16).reshape((40, 25, 18, 1), order="F")
    np.testing.assert_array_equal(on_disk[..., 0], data[10:50, 5:30, 2:20])
    stepped = vol.download_to_file(str(tmp_path / "s.raw"), np.s_[0:64:2, 0:32, 0:32:4])
    np.testing.assert_array_equal(stepped[..., 0], data[0:64:2, 0:32, 0:32:4])


@pytest.mark.parametrize("order", ["F", "C"])
def test_upload_from_file_writes_a_mapped_array(tmp_path, order):
    vol, _ = _layer(tmp_path, non_aligned_writes=True)
    array = np.random.default_rng(8).integers(0, 100, size=(64, 32, 32, 1), dtype=np.uint16)
    path = tmp_path / "array.raw"
    path.write_bytes(array.tobytes(order=order))
    vol.upload_from_file(str(path), Bbox((0, 32, 0), (64, 64, 32)), order=order)
    np.testing.assert_array_equal(vol[0:64, 32:64, 0:32], array)
    vol[0:64, 32:64, 0:32] = np.zeros((64, 32, 32, 1), np.uint16)
    vol.upload_from_file(str(path), Bbox((0, 32, 0), (64, 64, 32)), order=order,
                         cutout_bbox=Bbox((5, 40, 3), (20, 50, 9)))  # fmt: skip
    expected = np.zeros_like(array)
    expected[5:20, 8:18, 3:9] = array[5:20, 8:18, 3:9]
    np.testing.assert_array_equal(vol[0:64, 32:64, 0:32], expected)
    with pytest.raises(AlignmentError, match="not inside"):
        vol.upload_from_file(
            str(path), Bbox((0, 32, 0), (64, 64, 32)), cutout_bbox=Bbox((0, 0, 0), (8, 8, 8))
        )
