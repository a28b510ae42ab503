"""``ByteRange`` and the batched defaults a ``Store`` gets from the abstract surface alone.

A third party's store that implements only get/put/delete/exists/list still answers
byte ranges (from whole objects) and stored-object calls; the fake plugin's store,
which keeps the stored bytes, passes the whole ``StoreContract``.
"""

from __future__ import annotations

import gzip

import pytest

from precomputed_core import ByteRange, ObjectMetadata, StoredObject
from precomputed_core.testing import StoreContract


def test_byte_range_values():
    assert ByteRange("k", 0, 10).http_range == "bytes=0-9"
    assert ByteRange("k", 5).http_range == "bytes=5-"
    assert ByteRange("k", -7).http_range == "bytes=-7"
    assert ByteRange("k", 4, 4).empty
    assert not ByteRange("k", -4).empty
    assert ByteRange("k", 2, 5).cut(b"0123456789") == b"234"
    assert ByteRange("k", -3).cut(b"0123456789") == b"789"
    with pytest.raises(ValueError, match="suffix"):
        ByteRange("k", -3, 5)
    with pytest.raises(ValueError, match="non-negative"):
        ByteRange("k", 0, -1)


def test_default_ranges_read_each_object_once_and_slice_it(minimal_store):
    store = minimal_store
    store.put("a", b"0123456789")
    store.put("z", gzip.compress(b"abcdefgh"), metadata=ObjectMetadata(content_encoding="gzip"))
    requests = [ByteRange("a", 1, 3), ByteRange("a", -2), ByteRange("z", 2, 4), ByteRange("missing", 0, 1)]
    assert store.get_ranges(requests) == [b"12", b"89", b"cd", None]
    assert store.gets == 3  # a, z and missing: once each
    assert store.get_range("a", 4, None) == b"456789"  # one range, as 0.1.0 stores had it
    assert store.supports_ranges is False  # so the pipeline reads small cutouts from whole chunks


def test_default_stored_objects_are_the_decompressed_bytes(minimal_store):
    store = minimal_store
    store.put("z", gzip.compress(b"abc"), metadata=ObjectMetadata(content_encoding="gzip"))
    assert store.get_stored("z") == StoredObject(b"abc")
    assert store.get_stored("missing") is None
    store.put_stored_many({
        "p": StoredObject(b"plain"),
        "g": StoredObject(gzip.compress(b"zipped"), ObjectMetadata(content_encoding="gzip", cache_control="no-cache")),
    })  # fmt: skip
    assert store.objects["p"] == (b"plain", ObjectMetadata())
    assert store.objects["g"][1].cache_control == "no-cache"
    assert store.get("g") == b"zipped"


class TestThirdPartyStoreContract(StoreContract):
    """The fake plugin's DictStore keeps what it stores, so it passes every check."""

    @pytest.fixture
    def store(self, plugin_dir):
        plugin_dir("fake")
        import uuid

        from precomputed_fake.store import DictStore

        return DictStore(f"contract-{uuid.uuid4().hex}")
