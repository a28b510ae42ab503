"""The sharded format's pieces: Morton ids, hashing, shard files, and the shard reader.

Byte-level agreement with other implementations is in tests/interop/test_sharded_interop.py;
these tests check each piece against the spec's own definitions, written out slowly here.
"""

from __future__ import annotations

import gzip
import struct

import mmh3
import numpy as np
import pytest

from precomputed_core import ChunkGrid, ObjectMetadata, ShardingSpec, StoredObject
from precomputed_core.exceptions import ShardError, StorageError
from precomputed_core.format import (
    ShardedChunkIO,
    ShardReader,
    build_shard,
    cell_shape,
    compressed_morton,
    shard_shape,
    split_shard,
)
from precomputed_core.meta import chunk_id_bits
from precomputed_drivers.memory import MemoryStore

RNG = np.random.default_rng(12)


def spec(**changes):
    fields = {"preshift_bits": 2, "hash": "identity", "minishard_bits": 2, "shard_bits": 2,
              "minishard_index_encoding": "raw", "data_encoding": "raw"}  # fmt: skip
    fields.update(changes)
    return ShardingSpec.from_json({"@type": "neuroglancer_uint64_sharded_v1", **fields})


def slow_morton(coord, bits):
    """volume.md's definition, bit by bit: x, y, z in turn, skipping axes out of bits."""
    code, out = 0, 0
    for bit in range(max(bits)):
        for axis in range(3):
            if bit < bits[axis]:
                code |= ((coord[axis] >> bit) & 1) << out
                out += 1
    return code


# --- ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", [(1, 1, 1), (5, 3, 1), (17, 2, 9), (1024, 1024, 64), (3, 1, 300)])
def test_compressed_morton_matches_the_definition(grid):
    bits = axis_bits(grid)
    coords = np.stack([RNG.integers(0, n, 50) for n in grid], axis=1)
    assert compressed_morton(coords, bits).tolist() == [slow_morton(c, bits) for c in coords.tolist()]
    # Every chunk of the grid gets its own id, all below 2**total bits.
    if np.prod(grid) <= 4096:
        every = np.stack(np.meshgrid(*(np.arange(n) for n in grid), indexing="ij"), -1).reshape(-1, 3)
        ids = compressed_morton(every, bits)
        assert len(set(ids.tolist())) == len(every)
        assert int(ids.max()) < 2 ** sum(bits)


def axis_bits(grid):
    """Bits per axis of the coordinates of a grid of this shape (chunks of one voxel)."""
    return chunk_id_bits(grid, (1, 1, 1))


def test_axis_bits_and_cell_shapes():
    assert axis_bits((1, 1, 1)) == (0, 0, 0)
    assert axis_bits((4, 5, 2)) == (2, 3, 1)
    # Low bits go x, y, z, x, y, z, ... skipping an axis that has none left.
    assert cell_shape((2, 3, 1), 0) == (1, 1, 1)
    assert cell_shape((2, 3, 1), 3) == (2, 2, 2)
    assert cell_shape((2, 3, 1), 5) == (4, 4, 2)
    assert cell_shape((2, 3, 1), 6) == (4, 8, 2)


def test_shard_shape_is_a_box_only_with_the_identity_hash_and_no_spare_bits():
    grid = ChunkGrid("k", (0, 0, 0), (512, 512, 256), (64, 64, 64))  # 8 x 8 x 4 chunks: 3+3+2 bits
    assert shard_shape(grid, spec(preshift_bits=3, minishard_bits=3, shard_bits=2)) == (4, 4, 4)
    assert shard_shape(grid, spec(preshift_bits=0, minishard_bits=0, shard_bits=8)) == (1, 1, 1)
    assert shard_shape(grid, spec(preshift_bits=3, minishard_bits=3, shard_bits=1)) is None  # 2 boxes a file
    assert shard_shape(grid, spec(hash="murmurhash3_x86_128", shard_bits=8)) is None


def test_murmurhash_ids_hash_their_8_little_endian_bytes():
    murmur = spec(hash="murmurhash3_x86_128", preshift_bits=1, minishard_bits=3, shard_bits=4)
    ids = np.array([0, 1, 2, 12345, 2**63 + 7], dtype=np.uint64)
    shards, minishards = murmur.locate(ids)
    for chunk_id, shard, minishard in zip(ids.tolist(), shards.tolist(), minishards.tolist()):
        digest = mmh3.hash_bytes(struct.pack("<Q", chunk_id >> 1), 0, False)
        low = struct.unpack("<Q", digest[:8])[0]
        assert (minishard, shard) == (low & 7, (low >> 3) & 15)


def test_identity_ids_split_into_minishard_then_shard_bits():
    shards, minishards = spec(preshift_bits=2, minishard_bits=3, shard_bits=2).locate(
        np.array([0b1_10_101_11], dtype=np.uint64)
    )
    assert (int(shards[0]), int(minishards[0])) == (0b10, 0b101)


def test_shard_file_names_are_zero_padded_hex():
    assert spec(shard_bits=0).shard_key(0) == "0.shard"
    assert spec(shard_bits=5).shard_key(10) == "0a.shard"
    assert spec(shard_bits=12).shard_key(255) == "0ff.shard"


# --- shard files ---------------------------------------------------------------------------


def items_for(sharding, shard, count=40):
    ids = np.unique(RNG.integers(0, 2**20, 400).astype(np.uint64))
    shards, _ = sharding.locate(ids)
    mine = ids[shards == shard][:count]
    return {int(i): RNG.bytes(int(RNG.integers(1, 200))) for i in mine}


@pytest.mark.parametrize("index_encoding", ["raw", "gzip"])
@pytest.mark.parametrize("hash_", ["identity", "murmurhash3_x86_128"])
def test_a_built_shard_splits_back_into_its_items(index_encoding, hash_):
    sharding = spec(hash=hash_, minishard_index_encoding=index_encoding, preshift_bits=0, shard_bits=1)
    items = items_for(sharding, 1)
    data = build_shard(sharding, items)
    assert split_shard(data, sharding, where="s") == items
    # Its layout is the spec's: 16 bytes of index per minishard, offsets after the index.
    index = np.frombuffer(data[: sharding.shard_index_size], "<u8").reshape(-1, 2)
    assert int(index[:, 1].max()) + sharding.shard_index_size == len(data)


def test_a_minishard_index_is_delta_encoded_as_the_spec_says():
    sharding = spec(preshift_bits=0, minishard_bits=0, shard_bits=0)
    data = build_shard(sharding, {5: b"aaa", 9: b"bb", 20: b"c"})
    start, end = np.frombuffer(data[:16], "<u8") + 16
    table = np.frombuffer(data[start:end], "<u8").reshape(3, -1)
    assert table[0].tolist() == [5, 4, 11]  # ids, delta-encoded
    assert table[2].tolist() == [3, 2, 1]  # sizes
    assert table[1].tolist() == [0, 0, 0]  # gaps after the previous chunk's end
    assert data[16:22] == b"aaabbc"


def test_an_empty_shard_has_only_an_index():
    sharding = spec()
    assert build_shard(sharding, {}) == bytes(sharding.shard_index_size)
    assert split_shard(bytes(sharding.shard_index_size), sharding, where="s") == {}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[:20], "is truncated"),
        (lambda d: d[:-3], "past (its|the) end"),
        (lambda d: d[:16] + struct.pack("<QQ", 50, 10) + d[32:], "ending before it starts"),
    ],
    ids=["short-index", "cut-data", "backwards-range"],
)
def test_a_damaged_shard_raises_naming_it(damage, message):
    sharding = spec(preshift_bits=0, minishard_bits=1, shard_bits=0)
    data = build_shard(sharding, {1: b"x" * 30, 2: b"y" * 30, 3: b"z" * 30})
    with pytest.raises(ShardError, match=f"gs://b/l/0.shard.*{message}|{message}"):
        split_shard(damage(data), sharding, where="gs://b/l/0.shard")


def test_a_garbled_gzip_minishard_index_raises_naming_the_shard():
    sharding = spec(preshift_bits=0, minishard_bits=0, shard_bits=0, minishard_index_encoding="gzip")
    data = bytearray(build_shard(sharding, {1: b"abc"}))
    data[-10:-5] = b"\xff" * 5
    with pytest.raises(ShardError, match=r"mem://x/0\.shard.*damaged"):
        split_shard(bytes(data), sharding, where="mem://x/0.shard")


# --- the reader ------------------------------------------------------------------------------


class CountingStore:
    """A mem:// store that records every batch of ranges asked of it; it merges near ranges
    as a remote store does (a request costs a round trip)."""

    read_gap = 2**20

    def __init__(self, name):
        self.inner = open_store(f"mem://{name}")
        self.calls = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def get_ranges(self, ranges):
        self.calls.append([(r.key, r.start, r.end) for r in ranges])
        return self.inner.get_ranges(ranges)

    def read_ranges(self, ranges):
        self.calls.append([(r.key, r.start, r.end) for r in ranges])
        return self.inner.read_ranges(ranges)


def written(store, sharding, prefix, items):
    """Shard files of ``items`` (by id) under ``prefix``, as the spec lays them out."""
    reader = ShardReader(store, sharding, prefix)
    by_key = {}
    for chunk_id, key in zip(items, reader.keys_of(list(items))):
        by_key.setdefault(key, {})[chunk_id] = items[chunk_id]
    for key, mine in by_key.items():
        store.put(key, build_shard(sharding, mine))
    return by_key


def test_reading_many_shards_takes_three_rounds_of_ranged_requests(request):
    store = CountingStore(request.node.name)
    sharding = spec(preshift_bits=3, minishard_bits=1, shard_bits=2)  # 4 shards of 2 minishards of 8
    items = {i: bytes([i % 251]) * (50 + i % 7) for i in range(64)}
    by_key = written(store, sharding, "scale", items)
    assert len(by_key) == 4
    reader = ShardReader(store, sharding, "scale")
    ids = [*range(64), 999_999]
    assert reader.read(ids) == [items[i] for i in range(64)] + [None]
    index_round, minishard_round, data_round = store.calls
    assert sorted(k for k, _, _ in index_round) == sorted(by_key)  # every shard's index at once
    assert len(minishard_round) == 4  # the 8 minishard indexes of a shard lie together: one request
    assert len(data_round) == 4  # adjacent chunks merged: one request per shard
    store.calls.clear()
    store.read_gap = 0  # a local file: a request costs no more than the copy, none are merged
    assert ShardReader(store, sharding, "scale").read(list(range(64))) == [items[i] for i in range(64)]
    assert len(store.calls[-1]) == 64
    store.calls.clear()
    assert reader.read([3, 40]) == [items[3], items[40]]
    assert len(store.calls) == 1  # indexes cached: only the data


def test_the_index_cache_stays_within_its_budget(request):
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=4, shard_bits=4)
    items = {i: b"v%d" % i for i in range(2000)}
    written(store, sharding, "s", items)
    reader = ShardReader(store, sharding, "s", cache_bytes=4096)
    for start in range(0, 2000, 100):
        ids = list(range(start, start + 100))
        assert reader.read(ids) == [items[i] for i in ids]
        assert reader._cached_bytes <= 4096 or len(reader._cache) == 1


def open_store(url):
    return MemoryStore("sharding-tests", url.removeprefix("mem://").replace("[", "_").replace("]", "_"))


def test_a_shard_rewritten_by_another_writer_is_read_again(request):
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=1, shard_bits=0)
    written(store, sharding, "s", {1: b"old-one", 2: b"old-two"})
    reader = ShardReader(store, sharding, "s")
    assert reader.read([1, 2]) == [b"old-one", b"old-two"]
    # Another process rewrites the shard: new sizes, new offsets. The cached index is stale.
    written(store, sharding, "s", {1: b"new", 2: b"a much longer new value", 3: b"three"})
    assert reader.read([2, 1, 3]) == [b"a much longer new value", b"new", b"three"]


def test_a_shard_stored_gzip_compressed_is_read_whole(request):
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=1, shard_bits=1)
    by_key = written(store, sharding, "s", {i: b"item%d" % i for i in range(10)})
    first = next(iter(by_key))
    store.put(first, gzip.compress(store.get(first)), metadata=ObjectMetadata(content_encoding="gzip"))
    reader = ShardReader(store, sharding, "s")
    assert reader.read(list(range(10))) == [b"item%d" % i for i in range(10)]


def test_an_empty_or_truncated_shard_file_raises(request):
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=1, shard_bits=0)
    store.put("s/0.shard", b"")
    with pytest.raises(StorageError, match=r"mem://.*s/0\.shard came back empty"):
        ShardReader(store, sharding, "s").read([1])
    good = build_shard(sharding, {1: b"x" * 100, 2: b"y" * 100})
    store.put("s/0.shard", good[:-150])
    with pytest.raises(ShardError, match=r"s/0\.shard"):
        ShardReader(store, sharding, "s").read([1, 2])


# --- the sharded chunk I/O ---------------------------------------------------------------------


def test_writes_keep_every_other_chunk_of_the_shard(request):
    store = open_store(f"mem://{request.node.name}")
    grid = ChunkGrid("k", (0, 0, 0), (64, 64, 64), (16, 16, 16))
    chunks = ShardedChunkIO(store, grid, spec(preshift_bits=3, minishard_bits=3, shard_bits=0))
    every = grid.cover(grid.bounds).chunks()

    chunks.write_many([(c, c.name.encode()) for c in every[:40]], metadata=ObjectMetadata())
    chunks.write_many([(c, c.name.encode() * 2) for c in every[30:]], metadata=ObjectMetadata())
    got = chunks.read_many(every)
    assert got == [c.name.encode() for c in every[:30]] + [c.name.encode() * 2 for c in every[30:]]
    chunks.delete_many(every[:10])
    assert chunks.exists_many(every[:12]) == {c.name: i >= 10 for i, c in enumerate(every[:12])}
    chunks.delete_many(every)
    assert list(store.list("k/")) == []  # the shard left empty is removed


def test_stored_object_source_names_a_compressed_shard_in_errors(request):
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=0, shard_bits=0)
    reader = ShardReader(store, sharding, "s")
    with pytest.raises(ShardError, match=r"file:///d/s/0\.shard\.gz"):
        reader.opened("s/0.shard", StoredObject(b"\x00" * 10, source="file:///d/s/0.shard.gz"))


def test_a_shard_rewritten_to_the_same_size_is_read_again(request):
    """Same size, different layout (one chunk deleted, another added): the version tells."""
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=0, shard_bits=0)
    written(store, sharding, "s", {1: b"aaaa"})
    reader = ShardReader(store, sharding, "s")
    assert reader.read([1, 2]) == [b"aaaa", None]
    before = len(store.get("s/0.shard"))
    written(store, sharding, "s", {2: b"bbbb"})
    assert len(store.get("s/0.shard")) == before
    assert reader.read([1, 2]) == [None, b"bbbb"]


def test_an_index_that_gives_an_item_more_bytes_than_it_can_hold_is_refused(request):
    """Memory stays bounded whatever a shard says: an item is never read past its limit."""
    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=0, minishard_bits=0, shard_bits=0)
    written(store, sharding, "s", {1: b"x" * 5000})
    reader = ShardReader(store, sharding, "s")
    assert reader.read([1], limits=[5000]) == [b"x" * 5000]
    with pytest.raises(ShardError, match="gives item 1 5000 bytes, more than it can hold"):
        reader.read([1], limits=[4096])


def test_threads_reading_one_shard_share_its_cached_indexes(request):
    import threading

    store = open_store(f"mem://{request.node.name}")
    sharding = spec(preshift_bits=2, minishard_bits=5, shard_bits=0)
    items = {i: b"%d" % i for i in range(2000)}
    written(store, sharding, "s", items)
    reader = ShardReader(store, sharding, "s", cache_bytes=2**20)
    errors = []

    def work(offset):
        try:
            for start in range(offset, 2000, 40):
                ids = list(range(start, min(start + 10, 2000)))
                assert reader.read(ids) == [items[i] for i in ids]
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k * 10,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert reader._cached_bytes == sum(e.nbytes for e in reader._cache.values())
