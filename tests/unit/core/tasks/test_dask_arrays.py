"""vol.to_dask and vol.from_dask: on the threaded scheduler and on a real LocalCluster."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.exceptions import (
    AlignmentError,
    FeatureUnavailableError,
    OutOfBoundsError,
    UnsupportedDataTypeError,
)
from precomputed_core.tasks import aligned_splits, default_block_shape

da = pytest.importorskip("dask.array", reason="the dask extra (in .[test])")
import dask  # noqa: E402

SIZE = (150, 100, 40)
OFFSET = (10, -20, 3)


def _layer(tmp_path, name="l", dtype="uint16", channels=1, chunk=(32, 32, 16), sharding=None, **options):
    info = CloudVolume.create_new_info(channels, "segmentation" if channels == 1 else "image", dtype, "raw",
                                       [4, 4, 40], OFFSET, SIZE, chunk_size=chunk)  # fmt: skip
    if sharding:
        info["scales"][0]["sharding"] = sharding
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False, **options)
    vol.commit_info()
    return vol


def _smooth(shape, dtype="uint16", seed=0):
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 1000, size=tuple(-(-s // 8) for s in shape))
    big = coarse.repeat(8, 0).repeat(8, 1).repeat(8, 2)[: shape[0], : shape[1], : shape[2]]
    return np.asfortranarray(big.astype(dtype))


def test_block_helpers():
    assert aligned_splits(10, 150, 10, 32) == (32, 32, 32, 32, 12)
    assert aligned_splits(5, 70, 0, 32) == (27, 32, 6)
    assert aligned_splits(0, 10, 0, 32) == (10,)
    block = default_block_shape((64, 64, 64), (4096, 4096, 4096, 1), 1)
    assert all(b % 64 == 0 for b in block)
    assert np.prod(block) <= 64 * 2**20
    assert default_block_shape((64, 64, 64), (30, 20, 10, 1), 8) == (30, 20, 10)


def test_to_dask_covers_the_scale_from_its_voxel_offset(tmp_path):
    vol = _layer(tmp_path)
    data = _smooth(SIZE)
    vol[:, :, :] = data
    arr = vol.to_dask()
    assert arr.shape == (*SIZE, 1)
    assert arr.dtype == np.uint16
    # blocks lie on the chunk grid (which starts at the voxel offset)
    for axis, chunk in enumerate((32, 32, 16)):
        assert all(b % chunk == 0 for b in arr.chunks[axis][:-1])
    np.testing.assert_array_equal(arr.compute(scheduler="threads")[..., 0], data)
    # index 0 is voxel_offset: arr[i] is voxel OFFSET + i
    np.testing.assert_array_equal(
        arr[5:9, 7, 2].compute()[..., 0], np.asarray(vol[15:19, -13, 5])[:, 0, 0, 0]
    )
    # tasks are small: a path, an info and options, never a store or an array
    for task in arr.dask.values():
        assert len(pickle.dumps(task)) < 10_000


def test_to_dask_with_chunks_name_mip_and_fill_missing(tmp_path):
    vol = _layer(tmp_path, fill_missing=True)
    vol.add_scale((2, 2, 1), chunk_size=(16, 16, 16))
    vol.commit_info()
    data = _smooth(SIZE)
    vol[0 + 10 : 64 + 10, -20:44, 3:19] = data[:64, :64, :16]
    arr = vol.to_dask(chunks=(50, 50, 20), name="mine")
    assert arr.name == "mine"
    assert arr.chunks[:3] == ((50, 50, 50), (50, 50), (20, 20))
    whole = arr.compute()[..., 0]
    np.testing.assert_array_equal(whole[:64, :64, :16], data[:64, :64, :16])
    assert not whole[64:, :, :].any()  # missing chunks read as zeros with fill_missing
    small = vol.to_dask(mip=1)
    assert small.shape == (75, 50, 40, 1)
    assert not small.compute().any()
    strict = CloudVolume(vol.cloudpath, progress=False)
    with pytest.raises(Exception, match="is missing"):
        strict.to_dask().compute()


def test_from_dask_writes_at_an_offset_on_the_grid(tmp_path):
    vol = _layer(tmp_path, non_aligned_writes=True, fill_missing=True)
    data = _smooth((100, 70, 30), seed=3)
    arr = da.from_array(data, chunks=(17, 23, 11))  # chunks that match nothing
    vol.from_dask(arr, offset=(30, 0, 10))
    np.testing.assert_array_equal(vol[30:130, 0:70, 10:40][..., 0], data)
    assert not np.asarray(vol[10:30, -20:0, 3:10]).any()  # the partly covered chunks kept zeros
    # a 4-d array, and a dtype that casts safely
    four = da.from_array(np.full((32, 32, 16, 1), 7, np.uint8), chunks=8)
    vol.from_dask(four, (10, -20, 3))
    assert (vol[10:42, -20:12, 3:19] == 7).all()


def test_from_dask_refuses_what_vol_setitem_refuses(tmp_path):
    vol = _layer(tmp_path)
    with pytest.raises(AlignmentError, match="not chunk-aligned"):
        vol.from_dask(da.zeros((10, 10, 10), dtype=np.uint16), (10, -20, 3))
    with pytest.raises(OutOfBoundsError, match="reaches outside the volume bounds"):
        vol.from_dask(da.zeros((32, 32, 16), dtype=np.uint16), (150, -20, 3))
    with pytest.raises(UnsupportedDataTypeError, match="an array of int64"):
        vol.from_dask(da.zeros((32, 32, 16), dtype=np.int64), (10, -20, 3))
    with pytest.raises(AlignmentError, match="takes an"):
        vol.from_dask(da.zeros((32, 32, 16, 2), dtype=np.uint16), (10, -20, 3))


def test_from_dask_on_a_sharded_scale_writes_whole_shards(tmp_path):
    sharding = {"@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 3,
                "minishard_bits": 0, "shard_bits": 3, "minishard_index_encoding": "gzip",
                "data_encoding": "gzip"}  # fmt: skip
    vol = _layer(tmp_path, sharding=sharding)
    data = _smooth(SIZE, seed=5)
    vol.from_dask(da.from_array(data, chunks=(40, 40, 40)), OFFSET)
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
    np.testing.assert_array_equal(vol.to_dask().compute()[..., 0], data)


def test_a_round_trip_writes_in_place_by_default(tmp_path):
    vol = _layer(tmp_path)
    data = _smooth(SIZE, seed=11)
    vol[:, :, :] = data
    vol.from_dask(vol.to_dask() + 1)  # index 0 is the voxel offset, both ways
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data + 1)


def test_from_dask_drops_stale_lru_copies(tmp_path):
    vol = _layer(tmp_path, lru_bytes=10**7)
    vol[:, :, :] = _smooth(SIZE)
    vol[:, :, :]
    assert len(vol.lru) > 0
    vol.from_dask(da.full(SIZE, 9, dtype=np.uint16, chunks=64), OFFSET)
    assert (vol[:, :, :] == 9).all()


def test_an_in_memory_layer_is_refused_on_worker_processes(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [64, 64, 16])
    vol = CloudVolume("mem://dask-test/layer", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.ones((64, 64, 16), np.uint8)
    assert (vol.to_dask().compute(scheduler="threads") == 1).all()  # threads see it
    with dask.config.set(scheduler="processes"), pytest.raises(FeatureUnavailableError, match="memory"):
        vol.to_dask()


@pytest.mark.timeout(300)
def test_on_a_local_cluster_of_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    vol = _layer(tmp_path, dtype="uint8", channels=2, chunk=(64, 64, 16))
    data = np.stack([_smooth(SIZE, "uint8", seed=7), _smooth(SIZE, "uint8", seed=8)], axis=-1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster):  # fmt: skip
        vol.from_dask(da.from_array(data, chunks=(50, 50, 20, 2)), OFFSET)
        arr = vol.to_dask(chunks=(64, 64, 16, 1))
        np.testing.assert_array_equal(arr.compute(), data)
        assert float(arr[..., 1].mean().compute()) == pytest.approx(float(data[..., 1].mean()))
    np.testing.assert_array_equal(vol[:, :, :], data)


def test_dask_missing_says_how_to_install(tmp_path, monkeypatch):
    import builtins

    vol = _layer(tmp_path)
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith("dask."):
            raise ImportError("No module named 'dask'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(FeatureUnavailableError, match=r"pip install 'precomputed\[dask\]'"):
        vol.to_dask()
    assert Bbox((0, 0, 0), (1, 1, 1)).volume() == 1


def test_a_sharded_scale_read_before_a_from_dask_write_sees_it(tmp_path):
    sharding = {"@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 3,
                "minishard_bits": 0, "shard_bits": 3, "minishard_index_encoding": "gzip",
                "data_encoding": "gzip"}  # fmt: skip
    vol = _layer(tmp_path, sharding=sharding, fill_missing=True)
    assert not vol[:, :, :].any()  # the shard indexes are read (and found empty)
    data = _smooth(SIZE, seed=13) + 1
    vol.from_dask(da.from_array(data, chunks=64))
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
