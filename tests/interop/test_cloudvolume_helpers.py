"""from_numpy, unique, scattered_points and download_point agree with cloud-volume 12's."""

from __future__ import annotations

import cloudvolume
import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import ReadOnlyException

pytestmark = pytest.mark.interop

CV = cloudvolume.CloudVolume


def _labels():
    rng = np.random.default_rng(4)
    return rng.integers(0, 200, size=(90, 70, 30), dtype=np.uint32)


@pytest.fixture
def pair(tmp_path):
    """The same array made into a layer by each library's from_numpy."""
    data = _labels()
    options = {"resolution": (8, 8, 40), "voxel_offset": (3, 4, 5), "chunk_size": (32, 32, 16)}
    theirs = CV.from_numpy(data, vol_path=f"file://{tmp_path}/theirs", **options)
    ours = CloudVolume.from_numpy(data, vol_path=f"file://{tmp_path}/ours", **options)
    return theirs, ours, data


def test_from_numpy_makes_the_same_layer(pair, tmp_path):
    theirs, ours, data = pair
    for key in ("type", "data_type", "num_channels"):
        assert ours.info[key] == theirs.info[key]
    for field in ("key", "size", "voxel_offset", "resolution", "chunk_sizes", "encoding"):
        assert ours.info["scales"][0][field] == theirs.info["scales"][0][field]
    # each reads the other's layer
    np.testing.assert_array_equal(CloudVolume(f"file://{tmp_path}/theirs")[:, :, :][..., 0], data)
    np.testing.assert_array_equal(CV(f"file://{tmp_path}/ours")[:, :, :][..., 0], data)


def test_unique_agrees(pair):
    theirs, ours, _ = pair
    for box in (np.s_[3:93, 4:74, 5:35], np.s_[10:50, 40:74, 6:9]):
        assert ours.unique(box) == {int(v) for v in theirs.unique(box)}


def test_scattered_points_agree(pair):
    theirs, ours, _ = pair
    points = [(3, 4, 5), (50, 60, 20), (92, 73, 34), (51, 61, 20)]
    expected = {tuple(int(c) for c in k): int(v) for k, v in theirs.scattered_points(points).items()}
    assert {k: int(v) for k, v in ours.scattered_points(points).items()} == expected


def test_download_point_agrees(pair):
    theirs, ours, _ = pair
    for size in (16, (20, 10, 1), (9, 9, 9)):
        a, b = theirs.download_point((50, 40, 20), size=size), ours.download_point((50, 40, 20), size=size)
        assert list(b.bounds.minpt) == list(a.bounds.minpt)
        assert list(b.bounds.maxpt) == list(a.bounds.maxpt)
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))


@pytest.mark.parametrize("library", [CV, CloudVolume], ids=["cloudvolume", "precomputed"])
def test_delete_black_uploads_and_overwrite_partial_chunks_store_the_same_files(tmp_path, library):
    info = CloudVolume.create_new_info(1, "segmentation", "uint16", "raw", [4, 4, 40], [0, 0, 0],
                                       [64, 64, 32], chunk_size=(32, 32, 16))  # fmt: skip
    url = f"file://{tmp_path}/layer"
    vol = library(url, info=info, progress=False, delete_black_uploads=True, background_color=9,
                  non_aligned_writes=True, overwrite_partial_chunks=True, compress=False)  # fmt: skip
    vol.commit_info()
    data = np.full((64, 64, 32), 9, np.uint16)
    data[40:50, 0:10, 20:30] = 1
    vol[:, :, :] = data
    vol[0:8, 0:8, 0:8] = np.ones((8, 8, 8), np.uint16)  # a shell of background around 1s
    files = sorted(p.name for p in (tmp_path / "layer" / "4_4_40").iterdir())
    assert files == ["0-32_0-32_0-16", "32-64_0-32_16-32"]
    expected = data.copy()
    expected[0:32, 0:32, 0:16] = 9
    expected[0:8, 0:8, 0:8] = 1
    for reader in (CV(url, fill_missing=True), CloudVolume(url, fill_missing=True, background_color=9)):
        image = np.asarray(reader[:, :, :])[..., 0]
        if not isinstance(reader, CloudVolume):  # cloud-volume reads missing chunks as zeros here
            image = np.where(image == 0, 9, image)
        np.testing.assert_array_equal(image, expected)


def test_download_files_agree(pair):
    theirs, ours, _ = pair
    box = np.s_[3:60, 4:40, 5:25]
    assert ours.download_files(box) == theirs.download_files(box)


def test_download_to_file_and_upload_from_file_agree(pair, tmp_path):
    theirs, ours, _ = pair
    a = theirs.download_to_file(str(tmp_path / "a.raw"), np.s_[10:50, 20:60, 5:20])
    b = ours.download_to_file(str(tmp_path / "b.raw"), np.s_[10:50, 20:60, 5:20])
    np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
    assert (tmp_path / "a.raw").read_bytes()[: b.nbytes] == (tmp_path / "b.raw").read_bytes()
    new = np.random.default_rng(6).integers(0, 9, size=(32, 32, 16, 1), dtype=np.uint32)
    (tmp_path / "new.raw").write_bytes(new.tobytes(order="F"))
    box = cloudvolume.Bbox((3, 4, 5), (35, 36, 21))
    theirs.upload_from_file(str(tmp_path / "new.raw"), box)
    ours.upload_from_file(str(tmp_path / "new.raw"), box)
    np.testing.assert_array_equal(np.asarray(ours[3:35, 4:36, 5:21]), np.asarray(theirs[3:35, 4:36, 5:21]))


def test_mip_locks_are_cloudvolumes(tmp_path):
    from oracles import tensorstore_open

    info = CloudVolume.create_new_info(1, "segmentation", "uint32", "raw", [4, 4, 40], [0, 0, 0], [32, 32, 8])
    ours = CloudVolume(f"file://{tmp_path}/l", info=info, progress=False)
    ours.commit_info()
    ours[:, :, :] = np.full((32, 32, 8), 5, np.uint32)
    ours.meta.lock_mips(0)
    theirs = CV(f"file://{tmp_path}/l", progress=False)
    assert theirs.meta.locked_mips() == {0}
    with pytest.raises(cloudvolume.exceptions.ReadOnlyException):
        theirs[:, :, :] = np.ones((32, 32, 8), np.uint32)
    assert int(tensorstore_open(tmp_path / "l").read().result().max()) == 5  # tensorstore ignores it
    theirs.meta.unlock_mips(0)
    ours.refresh_info()
    assert ours.meta.locked_mips() == set()
    ours[:, :, :] = np.ones((32, 32, 8), np.uint32)
    theirs.meta.lock_mips([0])
    with pytest.raises(ReadOnlyException):
        CloudVolume(f"file://{tmp_path}/l")[:, :, :] = np.zeros((32, 32, 8), np.uint32)
