"""Sharded scales on every backend: read, write, exists and delete, and nothing lost.

The same tests run on local disk, S3 (moto), GCS (fake-gcs-server) and HTTP (written
to the served directory, read over HTTP with ranged requests).
"""

from __future__ import annotations

import gzip
import threading

import numpy as np
import pytest

from precomputed_core import CloudVolume, ObjectMetadata
from precomputed_core.exceptions import EmptyVolumeException, ShardError
from precomputed_core.testing import random_array

SIZE = (150, 100, 40)
OFFSET = (13, -7, 5)
CHUNK = (32, 32, 16)  # a 5 x 4 x 3 grid: 3 + 2 + 2 bits of chunk id
IDENTITY = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 2, "hash": "identity",
            "minishard_bits": 1, "shard_bits": 4, "minishard_index_encoding": "gzip",
            "data_encoding": "gzip"}  # fmt: skip  # shards of 2 x 2 x 2 chunks
MURMUR = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 1, "hash": "murmurhash3_x86_128",
          "minishard_bits": 2, "shard_bits": 2, "minishard_index_encoding": "raw",
          "data_encoding": "raw"}  # fmt: skip


def _info(sharding, dtype="uint16", encoding="raw"):
    layer = "segmentation" if encoding == "compressed_segmentation" else "image"
    info = CloudVolume.create_new_info(1, layer, dtype, encoding, [4, 4, 40], list(OFFSET), list(SIZE),
                                       chunk_size=CHUNK)  # fmt: skip
    info["scales"][0]["sharding"] = dict(sharding)
    return info


def _box(lo, hi):
    return tuple(slice(o + a, o + b) for o, a, b in zip(OFFSET, lo, hi))


def _layer(backend, data, sharding=IDENTITY, name="layer", **options):
    vol = CloudVolume(
        backend.write_url(name), info=_info(sharding, data.dtype.name), progress=False, **options
    )
    vol.commit_info()
    vol[_box((0, 0, 0), SIZE)] = data
    return vol


def _shard_keys(vol):
    return sorted(k for k in vol._volume.store.list(vol.key + "/"))


@pytest.mark.parametrize("sharding", [IDENTITY, MURMUR], ids=["identity", "murmurhash"])
def test_a_sharded_layer_reads_back_exactly(backend, sharding):
    data = random_array(SIZE, "uint16", seed=1)
    writer = _layer(backend, data, sharding, compress="gzip")  # compress does not apply inside shards
    keys = _shard_keys(writer)
    assert keys
    assert all(k.startswith("4_4_40/") and k.endswith(".shard") for k in keys)
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    np.testing.assert_array_equal(reader[_box((0, 0, 0), SIZE)][..., 0], data)
    np.testing.assert_array_equal(reader[_box((30, 20, 3), (101, 77, 33))][..., 0], data[30:101, 20:77, 3:33])
    np.testing.assert_array_equal(reader[_box((149, 99, 39), (150, 100, 40))][..., 0], data[149:, 99:, 39:])


def test_partial_writes_keep_every_other_voxel_of_the_shards(backend):
    data = random_array(SIZE, "uint16", seed=2)
    writer = _layer(backend, data, non_aligned_writes=True)
    patch = random_array((70, 41, 17), "uint16", seed=3)
    writer[_box((21, 30, 9), (91, 71, 26))] = patch  # inside several shards, aligned to nothing
    data[21:91, 30:71, 9:26] = patch
    whole = random_array((64, 64, 32), "uint16", seed=4)
    writer[_box((64, 0, 0), (128, 64, 32))] = whole  # exactly one shard's box
    data[64:128, 0:64, 0:32] = whole
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    np.testing.assert_array_equal(reader[_box((0, 0, 0), SIZE)][..., 0], data)


def test_exists_delete_and_fill_missing_inside_shards(backend):
    data = random_array(SIZE, "uint16", seed=5)
    writer = _layer(backend, data)
    before = _shard_keys(writer)
    first = _box((0, 0, 0), (32, 32, 16))
    assert list(writer.exists(first)) == ["4_4_40/13-45_-7-25_5-21"]
    assert all(writer.exists(_box((0, 0, 0), SIZE)).values())
    writer.delete(first)
    found = writer.exists(_box((0, 0, 0), (64, 64, 32)))
    assert found == {name: name != "4_4_40/13-45_-7-25_5-21" for name in found}
    assert _shard_keys(writer) == before  # the shard keeps its 7 other chunks
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    with pytest.raises(EmptyVolumeException, match="13-45_-7-25_5-21"):
        reader[first]
    filled = CloudVolume(backend.read_url("layer"), progress=False, fill_missing=True)
    block = filled[_box((0, 0, 0), (64, 64, 32))][..., 0]
    assert not block[:32, :32, :16].any()
    np.testing.assert_array_equal(block[32:], data[32:64, :64, :32])
    writer.delete(_box((0, 0, 0), (64, 64, 32)))  # the rest of that shard: its file goes
    assert len(_shard_keys(writer)) == len(before) - 1
    assert not any(writer.exists(_box((0, 0, 0), (64, 64, 32))).values())


@pytest.mark.parametrize("damage", ["truncated", "index-past-end", "garbled-gzip"])
def test_a_damaged_shard_raises_naming_it_even_with_fill_missing(backend, damage):
    writer = _layer(backend, random_array(SIZE, "uint16", seed=6))
    store = writer._volume.store
    key = _shard_keys(writer)[0]
    data = bytearray(store.get(key))
    if damage == "truncated":
        data = data[:-40]
    elif damage == "index-past-end":
        data[8:16] = (len(data) * 4).to_bytes(8, "little")  # minishard 0 ends far past the file
    else:
        start = int.from_bytes(data[0:8], "little") + 32  # minishard 0's index (gzip) after the header
        data[start + 12 : start + 20] = b"\x00\xff" * 4
    store.put(key, bytes(data))
    reader = CloudVolume(backend.read_url("layer"), progress=False, fill_missing=True)
    with pytest.raises(ShardError, match=key.replace(".", r"\.")):
        reader[_box((0, 0, 0), SIZE)]


def test_shards_written_with_transfer_compression_by_other_tools_are_read(backend):
    data = random_array(SIZE, "uint16", seed=7)
    writer = _layer(backend, data)
    store = writer._volume.store
    for key in _shard_keys(writer)[:3]:  # a .shard.gz file, or Content-Encoding: gzip
        store.put(key, gzip.compress(store.get(key)), metadata=ObjectMetadata(content_encoding="gzip"))
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    np.testing.assert_array_equal(reader[_box((0, 0, 0), SIZE)][..., 0], data)
    # A write into them keeps their other chunks, and stores them plainly again.
    writer.non_aligned_writes = True
    writer[_box((5, 5, 5), (40, 40, 20))] = 9
    data[5:40, 5:40, 5:20] = 9
    np.testing.assert_array_equal(reader[_box((0, 0, 0), SIZE)][..., 0], data)
    rewritten, *untouched = _shard_keys(writer)[:3]
    assert rewritten == "4_4_40/0.shard"  # the shard of the written box
    assert store.get_stored(rewritten).metadata.content_encoding is None
    assert [store.get_stored(k).metadata.content_encoding for k in untouched] == ["gzip", "gzip"]


@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("local", "s3", "gcs")], indirect=True
)
def test_writers_of_different_chunks_of_one_shard_keep_each_others(backend):
    """Eight threads, each with its own volume, each writing one whole chunk of the same shard
    at once: every shard write is a read-modify-write, so all eight chunks survive."""
    info = _info(IDENTITY)
    CloudVolume(backend.write_url("race"), info=info, progress=False).commit_info()
    barrier = threading.Barrier(8)
    errors = []

    def write(i):
        vol = CloudVolume(backend.write_url("race"), progress=False)
        x, y, z = i & 1, (i >> 1) & 1, i >> 2
        try:
            barrier.wait()
            vol[_box((32 * x, 32 * y, 16 * z), (32 * x + 32, 32 * y + 32, 16 * z + 16))] = i + 1
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    block = CloudVolume(backend.write_url("race"), progress=False)[_box((0, 0, 0), (64, 64, 32))][..., 0]
    for i in range(8):
        x, y, z = i & 1, (i >> 1) & 1, i >> 2
        assert (block[32 * x : 32 * x + 32, 32 * y : 32 * y + 32, 16 * z : 16 * z + 16] == i + 1).all(), i


@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("local", "s3", "gcs")], indirect=True
)
def test_parallel_workers_split_on_shards(backend):
    data = random_array(SIZE, "uint16", seed=8)
    vol = CloudVolume(backend.write_url("par"), info=_info(IDENTITY), progress=False, parallel=2)
    vol.commit_info()
    assert vol._volume.work_grid(0).chunk == (64, 64, 32)  # one shard per cell
    assert len(list(vol.shard_boxes())) == 3 * 2 * 2
    vol[_box((0, 0, 0), SIZE)] = data
    np.testing.assert_array_equal(vol[_box((0, 0, 0), SIZE)][..., 0], data)
    vol.close()
