"""cloud-volume's helpers beyond the README: from_numpy, unique, download_point, scattered_points."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.exceptions import (
    FeatureUnavailableError,
    GeometryError,
    OutOfBoundsError,
    ReadOnlyError,
    ReadOnlyException,
)
from precomputed_core.frontend import _queries


def _labels(shape=(100, 90, 37), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 50, size=shape, dtype=np.uint32)


@pytest.mark.parametrize(
    ("dtype", "layer_type"),
    [("uint8", "image"), ("uint16", "segmentation"), ("uint32", "segmentation"), ("uint64", "segmentation"),
     ("int16", "image"), ("float32", "image"), ("bool", "segmentation")],
)  # fmt: skip
def test_from_numpy_guesses_the_layer_type_as_cloud_volume_does(tmp_path, dtype, layer_type):
    arr = (np.arange(40 * 30 * 20).reshape(40, 30, 20) % 2).astype(dtype)
    vol = CloudVolume.from_numpy(arr, vol_path=f"file://{tmp_path}/layer", chunk_size=(16, 16, 8))
    assert vol.layer_type == layer_type
    assert vol.shape == (40, 30, 20, 1)
    assert vol.dtype == (np.dtype("uint8") if dtype == "bool" else np.dtype(dtype))
    np.testing.assert_array_equal(
        CloudVolume(f"file://{tmp_path}/layer")[:, :, :][..., 0], arr.astype(vol.dtype)
    )
    assert [p["method"] for p in CloudVolume(f"file://{tmp_path}/layer").provenance.processing] == [
        "from_numpy"
    ]


def test_from_numpy_takes_cloud_volumes_options(tmp_path):
    arr = np.random.default_rng(1).integers(0, 255, size=(64, 48, 20, 3), dtype=np.uint8)
    vol = CloudVolume.from_numpy(arr, f"file://{tmp_path}/rgb", (8, 8, 30), (10, 20, 30), (32, 32, 16),
                                 "image", 1, "raw", "gzip", False)  # fmt: skip
    assert vol.bounds == Bbox((10, 20, 30), (74, 68, 50))
    assert tuple(vol.resolution) == (8, 8, 30)
    assert list(vol.available_mips) == [0, 1]
    assert vol.num_channels == 3
    assert tuple(vol.chunk_size) == (32, 32, 16)
    assert (tmp_path / "rgb" / "8_8_30" / "10-42_20-52_30-46.gz").exists()
    np.testing.assert_array_equal(vol[10:74, 20:68, 30:50], arr)


def test_from_numpy_defaults_to_a_new_temporary_layer():
    arr = np.ones((4, 4, 4), np.uint8)
    first, second = CloudVolume.from_numpy(arr), CloudVolume.from_numpy(arr)
    assert first.cloudpath != second.cloudpath
    assert first.cloudpath.startswith("file:///")
    assert "/image/" in first.cloudpath
    assert tuple(first.resolution) == (4, 4, 40)
    np.testing.assert_array_equal(first[:, :, :][..., 0], arr)


def test_from_numpy_refuses_other_shapes_and_types(tmp_path):
    with pytest.raises(GeometryError, match="3-d"):
        CloudVolume.from_numpy(np.zeros((4, 4)), vol_path=f"file://{tmp_path}/a")
    with pytest.raises(TypeError, match="cannot become a layer"):
        CloudVolume.from_numpy(np.zeros((4, 4, 4), complex), vol_path=f"file://{tmp_path}/b")


@pytest.fixture
def labels(tmp_path):
    data = _labels()
    vol = CloudVolume.from_numpy(data, vol_path=f"file://{tmp_path}/seg", chunk_size=(32, 32, 16),
                                 voxel_offset=(5, 6, 7))  # fmt: skip
    return vol, data


def test_unique_gives_the_labels_of_a_region(labels):
    vol, data = labels
    assert vol.unique(np.s_[5:105, 6:96, 7:44]) == set(np.unique(data).tolist())
    assert vol.unique(Bbox((20, 30, 10), (60, 33, 12))) == set(np.unique(data[15:55, 24:27, 3:5]).tolist())
    assert all(isinstance(label, int) for label in vol.unique(np.s_[5:10, 6:10, 7:9]))


def test_unique_reads_a_large_region_in_bounded_pieces(labels, monkeypatch):
    vol, data = labels
    monkeypatch.setattr(_queries, "UNIQUE_PIECE_VOXELS", 32 * 32 * 16)
    sizes = []
    real = vol._voxels.download

    def counting(box, mip, settings):
        sizes.append(int(box.volume()))
        return real(box, mip, settings)

    monkeypatch.setattr(vol._voxels, "download", counting)
    assert vol.unique(np.s_[5:105, 6:96, 7:44]) == set(np.unique(data).tolist())
    assert len(sizes) > 1
    assert max(sizes) <= 32 * 32 * 16
    assert sum(sizes) == 100 * 90 * 37


def test_pieces_are_chunk_aligned_and_cover_the_box():
    box = Bbox((3, 0, 5), (200, 70, 40))
    parts = list(_queries.pieces(box, (1, 0, 5), (32, 32, 16), 40000))
    assert sum(p.volume() for p in parts) == box.volume()
    for part in parts:
        assert part.volume() <= 40000 or np.all(part.size3() <= np.array((32, 32, 16)))
        for axis, (offset, chunk) in enumerate(zip((1, 0, 5), (32, 32, 16))):
            for edge in (int(part.minpt[axis]), int(part.maxpt[axis])):
                assert edge in (int(box.minpt[axis]), int(box.maxpt[axis])) or (edge - offset) % chunk == 0


def test_unique_refuses_graphene_options(labels):
    vol, _ = labels
    with pytest.raises(FeatureUnavailableError, match=r"agglomerate.*graphene"):
        vol.unique(np.s_[5:10, 6:10, 7:9], agglomerate=True)


def test_unique_in_another_resolutions_coordinates(tmp_path):
    data = _labels((64, 64, 32))
    vol = CloudVolume.from_numpy(data, vol_path=f"file://{tmp_path}/seg", resolution=(8, 8, 40),
                                 chunk_size=(32, 32, 16))  # fmt: skip
    # (16, 16, 40) nm coordinates: twice the voxel coordinates in x and y
    assert vol.unique(Bbox((5, 5, 2), (10, 10, 4)), coord_resolution=(16, 16, 40)) == set(
        np.unique(data[10:20, 10:20, 2:4]).tolist()
    )


def test_download_point_is_cloud_volumes_box_around_a_point(labels):
    vol, data = labels
    cutout = vol.download_point((50, 50, 20), size=(20, 10, 1))
    assert cutout.bounds == Bbox((40, 45, 20), (60, 55, 21))
    np.testing.assert_array_equal(cutout[..., 0], data[35:55, 39:49, 13:14])
    with pytest.raises(OutOfBoundsError):
        vol.download_point((6, 7, 8), size=32)
    vol.bounded = False
    vol.fill_missing = True
    cutout = vol.download_point((6, 7, 8), size=8)
    assert cutout.shape == (8, 8, 8, 1)
    np.testing.assert_array_equal(cutout[3:, 3:, 3:, 0], data[0:5, 0:5, 0:5])
    assert (cutout[:3] == 0).all()


def test_download_point_at_a_coarser_mip(tmp_path):
    data = _labels((64, 64, 16))
    vol = CloudVolume.from_numpy(data, vol_path=f"file://{tmp_path}/seg", chunk_size=(16, 16, 16), max_mip=1)
    vol.mip = 1
    vol[0:32, 0:32, 0:16] = data[::2, ::2, :]
    cutout = vol.download_point((40, 40, 8), size=(8, 8, 4), mip=1)
    assert cutout.bounds == Bbox((16, 16, 6), (24, 24, 10))
    np.testing.assert_array_equal(cutout[..., 0], data[::2, ::2, :][16:24, 16:24, 6:10])


def test_scattered_points_read_only_the_chunks_that_hold_them(labels, monkeypatch):
    vol, data = labels
    boxes = []
    real = vol._voxels.download

    def counting(box, mip, settings):
        boxes.append(box)
        return real(box, mip, settings)

    monkeypatch.setattr(vol._voxels, "download", counting)
    points = [(5, 6, 7), (10, 20, 8), (104, 95, 43), (60, 60, 30)]
    found = vol.scattered_points(points)
    assert found == {p: data[p[0] - 5, p[1] - 6, p[2] - 7] for p in points}
    assert len(boxes) == 3  # the first two share a chunk
    assert all(b.volume() <= 32 * 32 * 16 for b in boxes)
    assert vol.scattered_points((10, 20, 8)) == {(10, 20, 8): data[5, 14, 1]}
    with pytest.raises(OutOfBoundsError):
        vol.scattered_points([(5, 6, 7), (105, 6, 7)])
    with pytest.raises(GeometryError, match="three coordinates"):
        vol.scattered_points([(1, 2)])


def test_read_only_exception_is_cloud_volumes_name():
    assert ReadOnlyException is ReadOnlyError


def test_block_size_and_ndim_per_mip(tmp_path):
    info = CloudVolume.create_new_info(1, "segmentation", "uint32", "compressed_segmentation", [4, 4, 40],
                                       [0, 0, 0], [64, 64, 32], chunk_size=(32, 32, 16),
                                       compressed_segmentation_block_size=(4, 4, 2), max_mip=1)  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/cs", info=info)
    assert vol.compressed_segmentation_block_size == [4, 4, 2]
    assert vol.mip_compressed_segmentation_block_size(1) == [4, 4, 2]
    assert vol.mip_ndim(1) == 4
    raw = CloudVolume.from_numpy(np.zeros((8, 8, 8), np.uint8), vol_path=f"file://{tmp_path}/raw")
    assert raw.compressed_segmentation_block_size is None
