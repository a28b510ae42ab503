"""The local disk cache (``cache=``) on every backend: reads kept, trusted until flushed.

A layer is written without the cache through ``write_url``; a reader opens it through
``read_url`` with the cache on, then storage is changed behind the cache's back: the
reader goes on serving what it cached until ``vol.cache.flush()``. The readers keep
their cache under an explicit base directory (``cache=<dir>``), so that the writer's
own (default, off) cache location is another directory; one test covers the default
location shared by a reader with ``cache=True`` and a plain writer of the same layer.
"""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from precomputed_core import CloudVolume, Skeleton
from precomputed_core.exceptions import EmptyVolumeException, InfoUnavailableError, SegmentNotFoundError
from precomputed_core.testing import random_array
from shapes import sorted_rows, uv_sphere

SIZE = (64, 64, 32)
CHUNK = (32, 32, 32)  # 2 x 2 x 1 chunks
CHUNKS = ["0-32_0-32_0-32", "0-32_32-64_0-32", "32-64_0-32_0-32", "32-64_32-64_0-32"]
KEY = "4_4_40"
SHARDED_SIZE = (128, 64, 32)
SHARDED_CHUNK = (32, 32, 16)  # 4 x 2 x 2 chunks: shards of 2 x 2 x 2 chunks, two shards
IDENTITY = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 2, "hash": "identity",
            "minishard_bits": 1, "shard_bits": 4, "minishard_index_encoding": "gzip",
            "data_encoding": "gzip"}  # fmt: skip
WRITABLE = [pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("local", "s3", "gcs")]


def _info(size=SIZE, chunk=CHUNK, sharding=None):
    info = CloudVolume.create_new_info(1, "image", "uint16", "raw", [4, 4, 40], [0, 0, 0], list(size),
                                       chunk_size=list(chunk))  # fmt: skip
    if sharding is not None:
        info["scales"][0]["sharding"] = dict(sharding)
    return info


def _layer(backend, data, name="layer", **options):
    """The layer written without a cache; returns the (uncached) writer."""
    sharding = options.pop("sharding", None)
    size, chunk = (SHARDED_SIZE, SHARDED_CHUNK) if sharding else (SIZE, CHUNK)
    writer = CloudVolume(
        backend.write_url(name), info=_info(size, chunk, sharding), progress=False, **options
    )
    writer.commit_info()
    writer[:, :, :] = data
    assert not writer.cache.enabled
    return writer


def _voxels(vol):
    return vol[:, :, :][..., 0]


def _raw_chunk(data, name):
    """The bytes of a raw chunk of ``data`` named ``x0-x1_y0-y1_z0-z1``."""
    box = tuple(slice(*map(int, part.split("-"))) for part in name.split("_"))
    return data[box].astype("<u2").tobytes(order="F")


def _cached_file(vol, name):
    return os.path.join(vol.cache.path, KEY, name)


def test_a_second_read_is_served_from_the_cache_until_flushed(backend, tmp_path):
    base = str(tmp_path / "cache")
    data = random_array(SIZE, "uint16", seed=1)
    writer = _layer(backend, data)
    reader = CloudVolume(backend.read_url("layer"), cache=base, progress=False)
    assert reader.cache.enabled
    assert reader.cache.path.startswith(os.path.join(base, backend.read_url("layer").split(":")[0], ""))
    assert reader.cache.path.endswith("/layer")
    assert reader.cache.list() == []
    np.testing.assert_array_equal(_voxels(reader), data)
    assert reader.cache.list() == CHUNKS
    assert reader.cache.num_files() == 4
    assert reader.cache.num_bytes() == 4 * 32**3 * 2
    assert reader.cache.num_files(all_mips=True) == [4]
    assert os.path.isfile(os.path.join(reader.cache.path, "info"))

    changed = random_array(SIZE, "uint16", seed=2)
    CloudVolume(backend.write_url("layer"), progress=False)[:, :, :] = changed  # a second, plain writer
    writer.delete(np.s_[0:32, 0:32, 0:32])
    uncached = CloudVolume(backend.read_url("layer"), progress=False, fill_missing=True)
    expected = changed.copy()
    expected[0:32, 0:32, 0:32] = 0
    np.testing.assert_array_equal(_voxels(uncached), expected)  # storage did change

    np.testing.assert_array_equal(_voxels(reader), data)  # the cache is trusted
    again = CloudVolume(backend.read_url("layer"), cache=base, progress=False)
    assert again.cache.path == reader.cache.path
    np.testing.assert_array_equal(_voxels(again), data)

    reader.cache.flush_region(np.s_[32:64, 32:64, 0:32])  # that chunk only
    assert reader.cache.list() == CHUNKS[:3]
    expected_now = data.copy()
    expected_now[32:, 32:] = changed[32:, 32:]
    np.testing.assert_array_equal(_voxels(reader), expected_now)

    reader.cache.flush()
    assert reader.cache.list() == []
    assert not os.path.exists(os.path.join(reader.cache.path, "info"))
    with pytest.raises(EmptyVolumeException, match="0-32_0-32_0-32"):
        reader[:, :, :]
    reader.fill_missing = True
    np.testing.assert_array_equal(_voxels(reader), expected)
    assert reader.cache.list() == CHUNKS[1:]  # missing objects are not cached


def test_the_default_location_is_not_invalidated_by_a_plain_writer(backend):
    """``cache=True`` (the default location) and a writer of the same layer opened without
    the cache: as in cloud-volume, where a volume with the cache off never touches the cache
    directory, the writer's changes reach storage only, and the reader serves its old values."""
    data = random_array(SIZE, "uint16", seed=3)
    _layer(backend, data)
    reader = CloudVolume(backend.read_url("layer"), cache=True, progress=False)
    assert reader.cache.path.startswith(os.path.join(os.environ["CLOUD_VOLUME_DIR"], "cache", ""))
    np.testing.assert_array_equal(_voxels(reader), data)
    assert reader.cache.list() == CHUNKS
    plain = CloudVolume(backend.write_url("layer"), progress=False)
    plain[:, :, :] = random_array(SIZE, "uint16", seed=4)
    plain.delete(np.s_[0:32, 0:32, 0:32])
    assert reader.cache.list() == CHUNKS
    np.testing.assert_array_equal(_voxels(reader), data)
    np.testing.assert_array_equal(
        _voxels(CloudVolume(backend.read_url("layer"), cache=True, progress=False)), data
    )


def test_gzip_chunks_are_kept_as_fetched_or_stored_plainly(backend, tmp_path):
    data = random_array(SIZE, "uint16", seed=5)
    _layer(backend, data, compress="gzip")
    kept = CloudVolume(backend.read_url("layer"), cache=str(tmp_path / "kept"), progress=False)
    assert kept.cache.compress is None
    np.testing.assert_array_equal(_voxels(kept), data)
    assert kept.cache.list() == CHUNKS
    assert sorted(os.listdir(os.path.join(kept.cache.path, KEY))) == [f"{n}.gz" for n in CHUNKS]
    for name in CHUNKS:
        with open(_cached_file(kept, name + ".gz"), "rb") as file:
            stored = file.read()
        assert stored[:2] == b"\x1f\x8b"
        assert gzip.decompress(stored) == _raw_chunk(data, name)
    np.testing.assert_array_equal(_voxels(kept), data)  # read back from the .gz files

    plain = CloudVolume(backend.read_url("layer"), cache=str(tmp_path / "plain"), compress_cache=False,
                        progress=False)  # fmt: skip
    assert plain.cache.compress is False
    np.testing.assert_array_equal(_voxels(plain), data)
    assert sorted(os.listdir(os.path.join(plain.cache.path, KEY))) == CHUNKS
    for name in CHUNKS:
        with open(_cached_file(plain, name), "rb") as file:
            assert file.read() == _raw_chunk(data, name)
    np.testing.assert_array_equal(_voxels(plain), data)


def test_a_raw_layer_is_gzipped_in_the_cache_with_compress_cache(backend, tmp_path):
    data = random_array(SIZE, "uint16", seed=6)
    _layer(backend, data)
    reader = CloudVolume(backend.read_url("layer"), cache=str(tmp_path / "c"), compress_cache=True,
                         progress=False)  # fmt: skip
    np.testing.assert_array_equal(_voxels(reader), data)
    assert sorted(os.listdir(os.path.join(reader.cache.path, KEY))) == [f"{n}.gz" for n in CHUNKS]
    with open(_cached_file(reader, CHUNKS[2] + ".gz"), "rb") as file:
        assert gzip.decompress(file.read()) == _raw_chunk(data, CHUNKS[2])
    np.testing.assert_array_equal(_voxels(reader), data)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "one-byte"])
def test_a_damaged_cached_chunk_is_fetched_again(backend, tmp_path, damage):
    data = random_array(SIZE, "uint16", seed=7)
    _layer(backend, data)
    reader = CloudVolume(backend.read_url("layer"), cache=str(tmp_path / "c"), progress=False)
    np.testing.assert_array_equal(_voxels(reader), data)
    name = CHUNKS[1]
    path = _cached_file(reader, name)
    good = _raw_chunk(data, name)
    with open(path, "rb") as file:
        assert file.read() == good
    bad = {"truncated": good[:-100], "garbage": os.urandom(len(good)), "empty": b"",
           "one-byte": good[:5000] + bytes([good[5000] ^ 0xFF]) + good[5001:]}[damage]  # fmt: skip
    with open(path, "wb") as file:
        file.write(bad)
    np.testing.assert_array_equal(_voxels(reader), data)
    with open(path, "rb") as file:
        assert file.read() == good  # rewritten from storage
    assert reader.cache.list() == CHUNKS
    fresh = CloudVolume(backend.read_url("layer"), cache=str(tmp_path / "c"), progress=False)
    np.testing.assert_array_equal(_voxels(fresh), data)


def test_sharded_reads_are_served_from_cached_ranges(backend, tmp_path):
    base = str(tmp_path / "cache")
    data = random_array(SHARDED_SIZE, "uint16", seed=8)
    writer = _layer(backend, data, sharding=IDENTITY)
    shards = sorted(k.rsplit("/", 1)[1] for k in writer._volume.store.list(KEY + "/"))
    assert shards == ["0.shard", "1.shard"]
    reader = CloudVolume(backend.read_url("layer"), cache=base, progress=False)
    np.testing.assert_array_equal(reader[0:64, 0:64, 0:32][..., 0], data[:64])  # the first shard
    assert reader.cache.list() == ["0.shard"]
    np.testing.assert_array_equal(_voxels(reader), data)
    assert reader.cache.list() == shards
    assert reader.cache.num_files() == 2
    assert reader.cache.num_bytes() > 0
    ranges = os.path.join(reader.cache.path, ".precomputed-cache", "ranges", KEY)
    assert sorted(os.listdir(ranges)) == shards  # byte ranges of the shards, not whole files
    assert not os.path.exists(os.path.join(reader.cache.path, KEY, "0.shard"))

    writer.delete(np.s_[:, :, :])  # every chunk, so the shard files go
    assert list(writer._volume.store.list(KEY + "/")) == []
    np.testing.assert_array_equal(_voxels(reader), data)
    np.testing.assert_array_equal(reader[20:100, 10:50, 5:30][..., 0], data[20:100, 10:50, 5:30])
    again = CloudVolume(backend.read_url("layer"), cache=base, progress=False)
    np.testing.assert_array_equal(_voxels(again), data)

    reader.cache.flush(preserve=np.s_[0:64, 0:64, 0:32])  # keeps the first shard only
    assert reader.cache.list() == ["0.shard"]
    np.testing.assert_array_equal(reader[0:64, 0:64, 0:32][..., 0], data[:64])
    reader.cache.flush()
    assert reader.cache.list() == []
    with pytest.raises(EmptyVolumeException):
        reader[:, :, :]


def test_a_cached_info_is_served_until_refresh_info(backend, tmp_path):
    base = str(tmp_path / "cache")
    writer = _layer(backend, random_array(SIZE, "uint16", seed=9))
    reader = CloudVolume(backend.read_url("layer"), cache=base, progress=False)
    assert len(reader.info["scales"]) == 1
    writer.add_scale((2, 2, 1))
    writer.commit_info()
    assert len(CloudVolume(backend.read_url("layer")).info["scales"]) == 2  # storage has two
    cached = CloudVolume(backend.read_url("layer"), cache=base, progress=False)
    assert len(cached.info["scales"]) == 1  # opened from the cached info
    assert cached.cache.num_files(all_mips=True) == [0]

    info = reader.refresh_info()
    assert [s["key"] for s in info["scales"]] == [KEY, "8_8_40"]
    assert [s["key"] for s in reader.info["scales"]] == [KEY, "8_8_40"]
    assert len(CloudVolume(backend.read_url("layer"), cache=base).info["scales"]) == 2  # cache updated

    writer._volume.store.inner.delete("info")  # behind the cache's back: opening needs no storage
    assert len(CloudVolume(backend.read_url("layer"), cache=base).info["scales"]) == 2
    reader.cache.flush_info()
    assert not os.path.exists(os.path.join(reader.cache.path, "info"))
    with pytest.raises(InfoUnavailableError, match="no info file"):
        CloudVolume(backend.read_url("layer"), cache=base)


def _mesh_layer(backend):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], [0, 0, 0],
                                       [256, 256, 32], mesh="mesh", skeletons="skeletons")  # fmt: skip
    writer = CloudVolume(backend.write_url("seg"), info=info, progress=False)
    writer.commit_info()
    return writer


def test_meshes_are_served_from_the_cache_after_deletion(backend, tmp_path):
    writer = _mesh_layer(backend)
    one, two = uv_sphere(7), uv_sphere(9, center=(900.0, 300.0, 200.0), seed=1)
    writer.mesh.put([one, two], compress="gzip")
    reader = CloudVolume(backend.read_url("seg"), cache=str(tmp_path / "cache"), progress=False)
    assert reader.cache.list_meshes() == []
    got = reader.mesh.get(7)
    np.testing.assert_array_equal(sorted_rows(got.vertices), sorted_rows(one.vertices))
    assert reader.cache.list_meshes() == ["7:0", "7:0:1"]
    writer.mesh.delete([7, 9])
    with pytest.raises(SegmentNotFoundError, match="segment 7"):
        CloudVolume(backend.read_url("seg"), progress=False).mesh.get(7)
    again = reader.mesh.get(7)
    np.testing.assert_array_equal(again.vertices, got.vertices)
    np.testing.assert_array_equal(again.faces, got.faces)
    with pytest.raises(SegmentNotFoundError, match="segment 9"):
        reader.mesh.get(9)  # never cached, and gone
    assert reader.cache.list_meshes() == ["7:0", "7:0:1"]
    reader.cache.flush()
    assert reader.cache.list_meshes() == []
    with pytest.raises(SegmentNotFoundError, match="segment 7"):
        reader.mesh.get(7)


def _skeleton(segid, n=30, seed=0):
    rng = np.random.default_rng(seed)
    vertices = np.cumsum(rng.normal(0, 5, (n, 3)), axis=0).astype(np.float32) + 100
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    return Skeleton(vertices, edges, rng.random(n) * 4, rng.integers(0, 5, n), segid=segid)


@pytest.mark.parametrize("sharded", [False, True], ids=["unsharded", "sharded"])
def test_skeletons_are_served_from_the_cache_after_deletion(backend, tmp_path, sharded):
    writer = _mesh_layer(backend)
    if sharded:
        writer.skeleton.meta.to_sharded(1000)
        writer.skeleton.meta.commit_info()
    one, two = _skeleton(3), _skeleton(4, n=12, seed=1)
    writer.skeleton.upload([one, two])
    reader = CloudVolume(backend.read_url("seg"), cache=str(tmp_path / "cache"), progress=False)
    got = reader.skeleton.get(3)
    np.testing.assert_array_equal(got.vertices, one.vertices)
    np.testing.assert_array_equal(got.edges, one.edges)
    listed = reader.cache.list_skeletons()
    assert listed == (["0.shard", "info"] if sharded else ["3"])  # the sharded layer's skeletons/info too
    writer.skeleton.delete([3, 4])
    with pytest.raises(SegmentNotFoundError, match="segment 3"):
        CloudVolume(backend.read_url("seg"), progress=False).skeleton.get(3)
    again = reader.skeleton.get(3)
    np.testing.assert_array_equal(again.vertices, one.vertices)
    np.testing.assert_array_equal(again.radius, one.radius)
    assert reader.cache.list_skeletons() == listed
    reader.cache.flush()
    with pytest.raises(SegmentNotFoundError, match="segment 3"):
        reader.skeleton.get(3)


@pytest.mark.parametrize("backend", WRITABLE, indirect=True)
def test_parallel_workers_fill_the_cache(backend, tmp_path):
    base = str(tmp_path / "cache")
    data = random_array(SIZE, "uint16", seed=10)
    writer = _layer(backend, data)
    reader = CloudVolume(backend.read_url("layer"), cache=base, progress=False, parallel=2)
    try:
        np.testing.assert_array_equal(_voxels(reader), data)
        assert reader.cache.num_files() == len(CHUNKS)
        assert reader.cache.list() == CHUNKS
        for name in CHUNKS:
            with open(_cached_file(reader, name), "rb") as file:
                assert file.read() == _raw_chunk(data, name)
        writer.delete(np.s_[:, :, :])
        assert not any(writer.exists(np.s_[:, :, :]).values())
        np.testing.assert_array_equal(_voxels(reader), data)
        reader.cache.flush()
        reader.fill_missing = True
        assert not _voxels(reader).any()
    finally:
        reader.close()
