"""``CachedStore`` on its own: whole objects, byte ranges by object version, records, counting."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from precomputed_core import ByteRange, ObjectMetadata, StoredObject
from precomputed_core.cache import CachedStore, CacheSettings
from precomputed_core.meta import parse_cloudpath
from precomputed_core.plugins import get_driver


class Counting:
    """Counts what reaches the wrapped store."""

    def __init__(self, store):
        self.store = store
        self.calls = {"stored": 0, "ranges": 0, "exists": 0}
        real_stored, real_ranges, real_exists = store.get_stored_many, store.read_ranges, store.exists_many

        def stored(keys):
            keys = list(keys)
            self.calls["stored"] += len(keys)
            return real_stored(keys)

        def ranges(requests):
            self.calls["ranges"] += len(requests)
            return real_ranges(requests)

        def exists(keys):
            keys = list(keys)
            self.calls["exists"] += len(keys)
            return real_exists(keys)

        store.get_stored_many, store.read_ranges, store.exists_many = stored, ranges, exists


@pytest.fixture
def remote(tmp_path):
    _, driver = get_driver("file")
    return driver.from_cloudpath(parse_cloudpath(f"file://{tmp_path}/remote/layer"))


@pytest.fixture
def cached(remote, tmp_path):
    counting = Counting(remote)
    store = CachedStore(remote, CacheSettings(True, str(tmp_path / "cache")))
    store.counting = counting
    return store


BODY = bytes(range(256)) * 1024  # 256 KiB: four 64 KiB blocks


def test_whole_objects_are_fetched_once(cached, remote):
    remote.put("a/b", BODY)
    assert cached.get("a/b") == BODY
    assert cached.get("a/b") == BODY
    assert cached.get_stored("a/b").data == BODY
    assert cached.counting.calls["stored"] == 1
    assert cached.get("missing") is None
    assert cached.get("missing") is None
    assert cached.counting.calls["stored"] == 3  # a miss is never cached
    assert cached.exists_many(["a/b", "missing"]) == {"a/b": True, "missing": False}
    assert cached.counting.calls["exists"] == 1


def test_compressed_objects_stay_compressed_and_keep_their_metadata(cached, remote, tmp_path):
    packed = gzip.compress(BODY)
    metadata = ObjectMetadata("application/x-thing", "gzip", "max-age=5")
    remote.put("obj", packed, metadata=metadata)
    found = cached.get_stored("obj")
    assert found.data == packed
    assert found.metadata.content_encoding == "gzip"
    assert Path(tmp_path, "cache", "obj.gz").read_bytes() == packed
    again = cached.get_stored("obj")
    assert again.data == packed
    assert again.metadata == found.metadata  # what the store gave (local disk keeps only the encoding)
    assert cached.get("obj") == BODY
    assert cached.counting.calls["stored"] == 1


def test_ranges_are_cached_per_object_version(cached, remote, tmp_path):
    remote.put("shard", BODY)
    first = cached.read_ranges([ByteRange("shard", 100, 5000), ByteRange("shard", 70000, 70010)])
    assert [r.data for r in first] == [BODY[100:5000], BODY[70000:70010]]
    again = cached.read_ranges([ByteRange("shard", 200, 300), ByteRange("shard", 70000, 70010)])
    assert [r.data for r in again] == [BODY[200:300], BODY[70000:70010]]  # inside cached ranges
    assert [r.version for r in again] == [r.version for r in first]
    assert again[0].whole_size == len(BODY)
    assert cached.counting.calls["ranges"] == 2
    assert cached.read_ranges([ByteRange("shard", 4000, 6000)])[0].data == BODY[4000:6000]  # not held
    assert cached.counting.calls["ranges"] == 3
    remote.put("shard", BODY[::-1])  # a new version, behind the cache's back
    assert cached.read_ranges([ByteRange("shard", 100, 200)])[0].data == BODY[100:200]  # trusted
    fresh = cached.read_ranges([ByteRange("shard", 9000, 9100)])[0]
    assert fresh.data == BODY[::-1][9000:9100]
    assert fresh.version != first[0].version
    # the new version's ranges replace the old version's, whose index would not match them
    assert cached.read_ranges([ByteRange("shard", 100, 200)])[0].data == BODY[::-1][100:200]
    versions = list(Path(tmp_path, "cache", ".precomputed-cache", "ranges", "shard").iterdir())
    assert len(versions) == 1


def test_conditional_and_open_ended_ranges(cached, remote):
    remote.put("shard", BODY)
    assert cached.read_ranges([ByteRange("shard", 10, None)])[0].data == BODY[10:]
    assert cached.read_ranges([ByteRange("shard", 20, None)])[0].data == BODY[20:]
    assert cached.read_ranges([ByteRange("shard", -16)])[0].data == BODY[-16:]
    assert cached.counting.calls["ranges"] == 1
    wrong = cached.read_ranges([ByteRange("shard", 0, 10, whole_size=len(BODY) + 1)])
    assert wrong == [None]  # storage's own answer: the object is not that long


def test_ranges_of_an_object_held_whole_are_read_from_it_and_checked(cached, remote, tmp_path):
    cached.put("shard", BODY)  # written through: held whole
    reads = cached.read_ranges([ByteRange("shard", 65530, 65600), ByteRange("shard", -10)])
    assert [r.data for r in reads] == [BODY[65530:65600], BODY[-10:]]
    assert reads[0].version == reads[1].version
    assert reads[0].whole_size == len(BODY)
    assert cached.counting.calls["ranges"] == 0
    path = Path(tmp_path, "cache", "shard")
    damaged = bytearray(path.read_bytes())
    damaged[65536 + 3] ^= 0xFF  # in the second block
    path.write_bytes(bytes(damaged))
    assert cached.read_ranges([ByteRange("shard", 65530, 65600)])[0].data == BODY[65530:65600]
    assert cached.counting.calls["ranges"] == 1  # the damaged copy was dropped, storage asked
    assert not path.exists()


def test_damaged_range_files_are_dropped(cached, remote, tmp_path):
    remote.put("shard", BODY)
    cached.read_ranges([ByteRange("shard", 0, 1000)])
    (file,) = Path(tmp_path, "cache", ".precomputed-cache", "ranges", "shard").glob("*/*")
    file.write_bytes(file.read_bytes()[:-1] + b"!")
    assert cached.read_ranges([ByteRange("shard", 0, 1000)])[0].data == BODY[:1000]
    assert cached.counting.calls["ranges"] == 2


def test_updates_cache_what_was_stored_and_deletes_drop_it(cached, remote, tmp_path):
    remote.put("shard", b"old")
    cached.read_ranges([ByteRange("shard", 0, 2)])
    cached.update_many({"shard": lambda found: StoredObject(found.data + b"+new")})
    assert remote.get("shard") == b"old+new"
    assert cached.get("shard") == b"old+new"
    assert cached.counting.calls["stored"] == 0
    assert not Path(tmp_path, "cache", ".precomputed-cache", "ranges", "shard").exists()
    cached.update_many({"shard": lambda found: None})
    assert remote.get("shard") is None
    assert cached.get("shard") is None
    cached.put_many({"x": b"1", "y": b"2"})
    cached.delete_many(["x"])
    assert cached.get_many(["x", "y"]) == {"x": None, "y": b"2"}


def test_a_failed_update_keeps_no_copy(cached, remote):
    remote.put("shard", b"old")
    cached.get("shard")

    def fail(found):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cached.update_many({"shard": fail})
    remote.put("shard", b"changed")
    assert cached.get("shard") == b"changed"


def test_off_it_passes_everything_through(remote, tmp_path):
    settings = CacheSettings(False, str(tmp_path / "cache"))
    store = CachedStore(remote, settings)
    store.put("k", b"v")
    assert store.get("k") == b"v"
    assert not (tmp_path / "cache").exists()
    assert store.url == remote.url
    assert store.io_threads == remote.io_threads
    assert store.supports_ranges == remote.supports_ranges
    assert "cache off" in repr(store)
    settings.enabled = True
    assert store.get("k") == b"v"
    assert (tmp_path / "cache" / "k").read_bytes() == b"v"


def test_keys_that_climb_out_of_the_layer_stay_inside_the_cache(cached, remote, tmp_path):
    outside = tmp_path / "remote" / "elsewhere"
    outside.mkdir(parents=True)
    (outside / "obj").write_bytes(b"shared scale")
    assert cached.get("../elsewhere/obj") == b"shared scale"
    cache_files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cache_files
    assert all(tmp_path / "cache" in p.parents for p in cache_files)
    assert not (tmp_path / "elsewhere").exists()


def test_the_wrapped_stores_batching_and_concurrency_are_kept(minimal_store, tmp_path):
    minimal_store.io_threads, minimal_store.batch_size, minimal_store.read_gap = 3, 7, 99
    store = CachedStore(minimal_store, CacheSettings(True, str(tmp_path / "cache")))
    assert (store.io_threads, store.batch_size, store.read_gap) == (3, 7, 99)
    store.put("k", b"value")
    assert minimal_store.get("k") == b"value"
    assert store.get("k") == b"value"
    assert (tmp_path / "cache" / "k").read_bytes() == b"value"
