"""cloud-volume's ``vol.image`` and ``vol.config``, its ``download`` arguments, and the LRU's controls."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.exceptions import (
    FeatureUnavailableError,
    GeometryError,
    ScaleUnavailableError,
    UnsupportedDataTypeError,
)


def _layer(tmp_path, name="seg", dtype="uint16", **options):
    info = CloudVolume.create_new_info(1, "segmentation", dtype, "raw", [4, 4, 40], [0, 0, 0],
                                       [64, 64, 32], chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False, **options)
    vol.commit_info()
    return vol


def _labels():
    rng = np.random.default_rng(11)
    return rng.choice(np.array([0, 7, 300, 4000], np.uint16), size=(64, 64, 32))


def test_the_lru_is_resized_through_vol_image(tmp_path):
    vol = _layer(tmp_path)
    vol[:, :, :] = _labels()
    chunk = 32 * 32 * 16 * 2
    assert vol.image.lru is vol.lru
    assert vol.lru.active is False
    vol[:, :, :]
    assert len(vol.lru) == 0  # off: nothing kept
    vol.image.lru.resize(1e6)  # cloud-volume's scripts give sizes as floats
    assert vol.lru.max_bytes == 1_000_000
    np.testing.assert_array_equal(vol[:, :, :][..., 0], _labels())
    assert len(vol.lru) == 8
    vol.image.lru.resize(3 * chunk)  # shrinking drops the least recently used
    assert len(vol.lru) == 3
    assert vol.lru.nbytes <= 3 * chunk
    vol.image.lru_encoding = "raw"  # another form: what was kept goes
    assert (len(vol.lru), vol.lru.encoding, vol.image._lru_encoding) == (0, "raw", "raw")
    np.testing.assert_array_equal(vol[0:32, 0:32, 0:16][..., 0], _labels()[0:32, 0:32, 0:16])
    form, kept = vol.lru.get("4_4_40/0-32_0-32_0-16")
    assert form == "raw"
    np.testing.assert_array_equal(kept[..., 0], _labels()[0:32, 0:32, 0:16])
    with pytest.raises(ValueError, match="lru_bytes must be a whole number"):
        vol.image.lru.resize(-5)
    with pytest.raises(ValueError, match=r"lru_encoding .zfp9. is not supported"):
        vol.image.lru_encoding = "zfp9"
    vol.image.lru.resize(0)
    assert (len(vol.lru), vol.lru.active) == (0, False)


def test_a_parallel_write_drops_the_parents_lru_copies(tmp_path):
    vol = _layer(tmp_path, lru_bytes=10**6)
    vol[:, :, :] = _labels()
    assert (vol[:, :, :][..., 0] == _labels()).all()
    assert len(vol.lru) == 8
    vol.config.parallel = 2  # the write runs in worker processes, which cannot touch this LRU
    vol[:, :, :] = 17
    vol.parallel = 1
    assert len(vol.lru) == 0
    assert (vol[:, :, :] == 17).all()
    assert vol[5, 6, 7] == 17


def test_image_and_config_views_act_on_the_volume(tmp_path):
    vol = _layer(tmp_path)
    vol.image.fill_missing = True
    assert vol.fill_missing is True
    vol.image.background_color = 3
    assert vol.background_color == 3
    assert (vol[0:2, 0:2, 0:2] == 3).all()  # nothing stored yet: background
    vol.config.progress = False
    vol.config.compress = "gzip"
    assert (vol.compress, vol.config.compress) == ("gzip", "gzip")
    vol.config.mip = 0
    assert vol.config.secrets is None
    with pytest.warns(RuntimeWarning, match="green_threads"):
        vol.config.green = True
    assert vol.green_threads is True
    vol.green_threads = False
    assert vol.config.green is False


def test_has_data_exists_and_delete_at_a_mip(tmp_path):
    vol = _layer(tmp_path)
    vol.add_scale((2, 2, 1), chunk_size=(16, 16, 16))
    vol.commit_info()
    assert vol.image.has_data(0) is False
    vol[:, :, :] = _labels()
    assert vol.has_data(0) is True
    assert vol.image.has_data([4, 4, 40]) is True
    assert vol.image.has_data(1) is False
    with pytest.raises(ScaleUnavailableError):
        vol.image.has_data(2)
    vol.mip = 1
    vol[:, :, :] = np.ones((32, 32, 32), np.uint16)
    vol.mip = 0
    assert vol.has_data(1) is True
    assert set(vol.exists(Bbox((0, 0, 0), (32, 32, 32)), mip=1).values()) == {True}
    vol.image.delete(Bbox((0, 0, 0), (32, 32, 16)), mip=1)
    assert vol.exists(Bbox((0, 0, 0), (32, 32, 32)), mip=1) == {
        "8_8_40/0-16_0-16_0-16": False, "8_8_40/16-32_0-16_0-16": False,
        "8_8_40/0-16_16-32_0-16": False, "8_8_40/16-32_16-32_0-16": False,
        "8_8_40/0-16_0-16_16-32": True, "8_8_40/16-32_0-16_16-32": True,
        "8_8_40/0-16_16-32_16-32": True, "8_8_40/16-32_16-32_16-32": True,
    }  # fmt: skip
    assert vol.has_data(0) is True  # mip 0 untouched
    points = vol.image.download_points([(1, 2, 3), (40, 50, 20)], mip=0)
    assert points == {(1, 2, 3): _labels()[1, 2, 3], (40, 50, 20): _labels()[40, 50, 20]}


def test_download_label_segids_and_renumber(tmp_path):
    vol = _layer(tmp_path)
    data = _labels()
    vol[:, :, :] = data
    box = Bbox((0, 0, 0), (64, 64, 32, 1))  # an image's shape: the channel is dropped

    binary = vol.download(box, label=300)
    assert binary.dtype == bool
    assert binary.shape == (64, 64, 32, 1)
    np.testing.assert_array_equal(binary[..., 0], data == 300)
    assert binary.bounds == Bbox((0, 0, 0), (64, 64, 32))

    masked = vol.download(box, segids=[7, 4000])
    np.testing.assert_array_equal(masked[..., 0], np.where(np.isin(data, [7, 4000]), data, 0))
    kept = vol.download(box, segids=[7], preserve_zeros=True)
    expected = np.where(data == 7, 7, np.where(data == 0, 0, np.iinfo(np.uint16).max))
    np.testing.assert_array_equal(kept[..., 0], expected)

    image, remap = vol.download(box, renumber=True)
    assert remap == {0: 0, 7: 1, 300: 2, 4000: 3}
    assert image.dtype == np.uint16
    np.testing.assert_array_equal(image[..., 0], np.searchsorted([0, 7, 300, 4000], data))
    assert image.bounds == box

    # coord_resolution: the box is given in 2 nm x 2 nm x 20 nm coordinates
    half = vol.download(Bbox((0, 0, 0), (20, 20, 20)), coord_resolution=(2, 2, 20))
    np.testing.assert_array_equal(half[..., 0], data[0:10, 0:10, 0:10])
    with pytest.raises(FeatureUnavailableError, match="graphene"):
        vol.download(box, agglomerate=True)


def test_renumber_and_segids_need_labels(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "float32", "raw", [4, 4, 40], [0, 0, 0], [8, 8, 8])
    vol = CloudVolume(f"file://{tmp_path}/f", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.ones((8, 8, 8), np.float32)
    with pytest.raises(UnsupportedDataTypeError, match="renumber needs integer labels"):
        vol.download(vol.bounds, renumber=True)
    with pytest.raises(UnsupportedDataTypeError, match="segids needs integer labels"):
        vol.download(vol.bounds, segids=[1])


def test_renumber_keeps_a_nonzero_background_apart(tmp_path):
    from precomputed_core.frontend._labels import renumbered

    image = np.array([[2, 9], [5, 2]], np.uint64)
    out, remap = renumbered(image, background=2)
    assert remap == {2: 2, 5: 1, 9: 3}  # 2 is the background's own number
    np.testing.assert_array_equal(out, [[2, 3], [1, 2]])
    big = np.arange(70_000, dtype=np.uint32) + 5
    out, remap = renumbered(big)
    assert out.dtype == np.uint32
    assert out.max() == 70_000


@pytest.mark.parametrize("encoding", ["crackle", "compresso", "compressed_segmentation"])
def test_the_lru_can_keep_chunks_re_encoded(tmp_path, encoding):
    vol = _layer(tmp_path, dtype="uint32", lru_bytes=10**6, lru_encoding=encoding)
    data = _labels().astype(np.uint32)
    vol[:, :, :] = data
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
    assert len(vol.lru) == 8
    form, kept = vol.lru.get("4_4_40/0-32_0-32_0-16")
    assert form == encoding
    assert isinstance(kept, bytes)
    assert len(kept) < 32 * 32 * 16 * 4  # smaller than the voxels
    # served from memory: the stored chunks can go
    import shutil

    shutil.rmtree(tmp_path / "seg" / "4_4_40")
    np.testing.assert_array_equal(vol[3:40, 30:35, 2:30][..., 0], data[3:40, 30:35, 2:30])


def test_an_lru_encoding_that_cannot_hold_the_layer_is_refused(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "float32", "raw", [4, 4, 40], [0, 0, 0], [8, 8, 8])
    CloudVolume(f"file://{tmp_path}/f", info=info).commit_info()
    with pytest.raises(UnsupportedDataTypeError, match="crackle holds one channel"):
        CloudVolume(f"file://{tmp_path}/f", lru_bytes=1000, lru_encoding="crackle")
    vol = CloudVolume(f"file://{tmp_path}/f", lru_bytes=1000)
    with pytest.raises(UnsupportedDataTypeError, match="compresso holds one channel"):
        vol.image.lru_encoding = "compresso"
    assert vol.lru.encoding == "same"
    with pytest.raises(ValueError, match="lru_encoding 'nope' is not supported"):
        vol.image.lru_encoding = "nope"


def test_locked_mips_refuse_writes_and_deletes(tmp_path):
    from precomputed_core.exceptions import ReadOnlyException

    vol = _layer(tmp_path)
    vol.add_scale((2, 2, 1), chunk_size=(16, 16, 16))
    vol.commit_info()
    vol[:, :, :] = _labels()
    vol.meta.lock_mips(0)
    vol.meta.lock_mips([0])
    assert vol.meta.locked_mips() == {0}
    stored = CloudVolume(vol.cloudpath)  # the lock is in the stored info, for every writer
    assert stored.info["scales"][0]["locked"] is True
    for target in (vol, stored):
        with pytest.raises(ReadOnlyException, match=r"mip 0 is write-locked.*unlock_mips\(0\)"):
            target[:, :, :] = 1
        with pytest.raises(ReadOnlyException, match="mip 0 is write-locked"):
            target.delete(target.bounds)
    vol.parallel = 2
    with pytest.raises(ReadOnlyException):
        vol[:, :, :] = 1
    vol.parallel = 1
    assert (vol[:, :, :][..., 0] == _labels()).all()  # reads are fine
    vol.mip = 1
    vol[:, :, :] = np.ones((32, 32, 32), np.uint16)  # mip 1 is not locked
    vol.meta.unlock_mips(0)
    vol.mip = 0
    vol[:, :, :] = 3
    assert (vol[:, :, :] == 3).all()
    with pytest.raises(ValueError, match=r"cannot lock mips \[2\]: the mips are 0 to 1"):
        vol.meta.lock_mips(2)
    with pytest.raises(ValueError, match="cannot unlock mips"):
        vol.meta.unlock_mips([0, 5])
    # an uncommitted edit is replaced by the stored info, as cloud-volume re-reads it first
    vol.info["scales"][1]["resolution"] = [9, 9, 9]
    vol.meta.lock_mips([0, 1])
    assert vol.meta.locked_mips() == {0, 1}
    assert vol.info["scales"][1]["resolution"] == [8, 8, 40]


def test_coordinate_indexing_reads_points(tmp_path):
    vol = _layer(tmp_path)
    data = _labels()
    vol[:, :, :] = data
    xs, ys, zs = np.array([0, 63, 5, 40]), [0, 63, 17, 2], (0, 31, 9, 30)
    values = vol[xs, ys, zs]
    assert values.dtype == np.uint16
    assert values.tolist() == [int(data[x, y, z]) for x, y, z in zip(xs, ys, zs)]
    assert vol[[1], [2], [3]].tolist() == [int(data[1, 2, 3])]
    assert vol.coordinate_indexing(([1, 4], [2, 4], [3, 4])).tolist() == [
        int(data[1, 2, 3]),
        int(data[4, 4, 4]),
    ]
    with pytest.raises(GeometryError, match="lists of one length"):
        vol[[1, 2], [2], [3]]
    vol.add_scale((2, 2, 1), chunk_size=(16, 16, 16))
    vol.commit_info()
    vol.mip = 1
    vol[:, :, :] = data[::2, ::2, :]
    assert vol[[3, 31], [4, 0], [5, 31]].tolist() == [
        int(data[6, 8, 5]),
        int(data[62, 0, 31]),
    ]  # mip 1 coordinates


def test_a_lossy_lru_encoding_is_refused(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [8, 8, 8])
    CloudVolume(f"file://{tmp_path}/i", info=info).commit_info()
    with pytest.raises(ValueError, match="lru_encoding 'jpeg' is lossy"):
        CloudVolume(f"file://{tmp_path}/i", lru_bytes=1000, lru_encoding="jpeg")


def test_download_as_a_crackle_array_and_label_pairs(tmp_path):
    import crackle

    vol = _layer(tmp_path)
    data = _labels()
    vol[:, :, :] = data
    arr = vol.download(vol.bounds, crackle=True)
    assert isinstance(arr, crackle.CrackleArray)
    np.testing.assert_array_equal(arr[:, :, :], data)
    binary = vol.download(Bbox((0, 0, 0), (10, 10, 10)), label=300, crackle=True)
    np.testing.assert_array_equal(binary[:, :, :], (data[:10, :10, :10] == 300).astype(np.uint8))
    image, remap = vol.download(Bbox((1, 1, 1), (2, 2, 2)), label=int(data[1, 1, 1]), renumber=True)
    assert image.dtype == bool
    assert bool(image[0, 0, 0, 0]) is True
    assert remap == {0: 0, 1: 1}
    with pytest.raises(FeatureUnavailableError, match="crackle=True or renumber=True"):
        vol.download(vol.bounds, crackle=True, renumber=True)


@pytest.mark.parametrize("sharded", [False, True])
def test_memory_cutout_is_a_disposable_copy(tmp_path, sharded):
    import gc

    vol = _layer(tmp_path)
    if sharded:
        vol.info["scales"][0]["sharding"] = {
            "@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 3,
            "minishard_bits": 0, "shard_bits": 0, "minishard_index_encoding": "raw", "data_encoding": "raw",
        }  # fmt: skip
        vol.commit_info()
        vol = CloudVolume(vol.cloudpath, progress=False)
    data = _labels().astype(np.uint16)
    vol[:, :, :] = data
    copy = vol.memory_cutout(Bbox((5, 5, 5), (40, 20, 10)))
    assert copy.cloudpath.startswith("mem://")
    assert "sharding" not in copy.info["scales"][0]
    np.testing.assert_array_equal(copy[0:64, 0:32, 0:16][..., 0], data[0:64, 0:32, 0:16])  # whole chunks
    assert copy.exists(Bbox((0, 0, 16), (32, 32, 32))) == {"4_4_40/0-32_0-32_16-32": False}
    store = copy._store()
    assert len(list(store.list(""))) == 1 + 2  # the info and the two chunks
    del copy
    gc.collect()
    assert list(store.list("")) == []  # gone with the volume


def test_memory_cutout_in_another_encoding(tmp_path):
    vol = _layer(tmp_path, dtype="uint32")
    data = _labels().astype(np.uint32)
    vol[:, :, :] = data
    copy = vol.memory_cutout(np.s_[0:32, 0:32, 0:16], encoding="compressed_segmentation", compress="gzip")
    assert copy.info["scales"][0]["encoding"] == "compressed_segmentation"
    assert copy.info["scales"][0]["compressed_segmentation_block_size"] == [8, 8, 8]
    np.testing.assert_array_equal(copy[0:32, 0:32, 0:16][..., 0], data[0:32, 0:32, 0:16])
    with pytest.raises(FeatureUnavailableError, match="graphene"):
        vol.memory_cutout(np.s_[0:32, 0:32, 0:16], agglomerate=True)


def test_a_misspelt_keyword_is_a_type_error(tmp_path):
    vol = _layer(tmp_path)
    vol[:, :, :] = _labels()
    with pytest.raises(TypeError, match="memory_cutout\\(\\) got unexpected keyword arguments: encodng"):
        vol.memory_cutout(vol.bounds, encodng="raw")
    with pytest.raises(TypeError, match="download_point\\(\\) got unexpected keyword arguments: sise"):
        vol.download_point((5, 5, 5), sise=4)
    with pytest.raises(FeatureUnavailableError, match="stop_layer"):
        vol.download_point((5, 5, 5), stop_layer=2)
