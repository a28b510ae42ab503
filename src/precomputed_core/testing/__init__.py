"""Conformance suites for driver and codec authors (needs pytest).

Subclass ``StoreContract`` with a ``store`` fixture returning a fresh,
empty, writable store, or ``CodecContract`` with a ``codec`` fixture,
and pytest runs every check against your implementation::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path)

Public, for tests only. May import every layer of core but ``cli``.
"""

from __future__ import annotations

import gzip
import threading
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest

from ..exceptions import CompressedRangeError, DecodingError, EncodingError
from ..interfaces import ByteRange, ChunkSpec, Codec, ObjectMetadata, Store, StoredObject
from ..meta import SPEC_DATA_TYPES

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CodecContract", "StoreContract", "random_array"]

_GZIP = ObjectMetadata(content_encoding="gzip")


def random_array(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray[Any, Any]:
    """Random voxels over ``dtype``'s whole range (normal values for floats)."""
    rng = np.random.default_rng(seed)
    kind = np.dtype(dtype)
    if kind.kind == "f":
        return rng.standard_normal(shape).astype(kind)
    info = np.iinfo(kind)
    return rng.integers(info.min, info.max, size=shape, dtype=kind, endpoint=True)


class StoreContract:
    """Behaviour every ``Store`` must show. Needs a ``store`` fixture."""

    def test_missing_key_is_none(self, store: Store) -> None:
        assert store.get("nope/0-1_0-1_0-1") is None
        assert store.exists("nope/0-1_0-1_0-1") is False

    def test_put_get_roundtrip_and_overwrite(self, store: Store) -> None:
        store.put("a/b", b"first")
        assert store.get("a/b") == b"first"
        store.put("a/b", b"second, longer")
        assert store.get("a/b") == b"second, longer"

    def test_empty_value(self, store: Store) -> None:
        store.put("empty", b"")
        assert store.get("empty") == b""
        assert store.exists("empty") is True

    def test_delete(self, store: Store) -> None:
        store.put("x/y", b"1")
        store.delete("x/y")
        assert store.get("x/y") is None
        assert store.exists("x/y") is False
        store.delete("x/y")  # deleting a missing key is not an error

    def test_gzip_content_encoding_is_transparent(self, store: Store) -> None:
        payload = bytes(range(256)) * 10
        store.put("k/gz", gzip.compress(payload), metadata=_GZIP)
        assert store.get("k/gz") == payload
        assert store.exists("k/gz") is True

    def test_rewrite_without_compression_replaces_compressed(self, store: Store) -> None:
        store.put("k/v", gzip.compress(b"old"), metadata=_GZIP)
        store.put("k/v", b"new")
        assert store.get("k/v") == b"new"
        store.delete("k/v")
        assert store.get("k/v") is None

    def test_batched_calls(self, store: Store) -> None:
        items = {f"s/{i}": bytes([i]) * (i + 1) for i in range(7)}
        store.put_many(items)
        assert store.get_many([*items, "s/missing"]) == {**items, "s/missing": None}
        assert store.exists_many(["s/0", "s/missing"]) == {"s/0": True, "s/missing": False}
        store.delete_many(["s/0", "s/1"])
        assert store.get_many(["s/0", "s/1", "s/2"]) == {"s/0": None, "s/1": None, "s/2": b"\x02\x02\x02"}

    def test_list_with_prefix(self, store: Store) -> None:
        store.put("info", b"{}")
        store.put("4_4_40/0-64_0-64_0-64", b"a")
        store.put("4_4_40/64-128_0-64_0-64", gzip.compress(b"b"), metadata=_GZIP)
        store.put("8_8_40/0-64_0-64_0-64", b"c")
        assert sorted(store.list("4_4_40/")) == ["4_4_40/0-64_0-64_0-64", "4_4_40/64-128_0-64_0-64"]
        assert sorted(store.list()) == [
            "4_4_40/0-64_0-64_0-64", "4_4_40/64-128_0-64_0-64", "8_8_40/0-64_0-64_0-64", "info",
        ]  # fmt: skip

    def test_list_sizes_gives_stored_sizes(self, store: Store) -> None:
        packed = gzip.compress(b"b" * 1000)
        store.put("4_4_40/0-64_0-64_0-64", b"abc")
        store.put("4_4_40/64-128_0-64_0-64", packed, metadata=_GZIP)
        store.put("info", b"{}")
        sizes = store.list_sizes("4_4_40/")
        # a compressed object counts its compressed bytes: what a copy of it moves
        assert sizes == {"4_4_40/0-64_0-64_0-64": 3, "4_4_40/64-128_0-64_0-64": len(packed)}
        assert set(store.list_sizes()) == {"4_4_40/0-64_0-64_0-64", "4_4_40/64-128_0-64_0-64", "info"}

    def test_describe_names_the_key(self, store: Store) -> None:
        assert store.describe("4_4_40/0-1_0-1_0-1").endswith("4_4_40/0-1_0-1_0-1")
        assert store.url in store.describe("info")

    def test_corrupt_gzip_raises(self, store: Store) -> None:
        store.put("bad", b"\x1f\x8b this is not gzip", metadata=_GZIP)
        with pytest.raises(DecodingError, match="bad"):
            store.get("bad")

    def test_concurrent_puts(self, store: Store) -> None:
        def work(start: int) -> None:
            for i in range(start, start + 25):
                store.put(f"c/{i}", str(i).encode())

        threads = [threading.Thread(target=work, args=(n * 25,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.get_many([f"c/{i}" for i in range(100)]) == {
            f"c/{i}": str(i).encode() for i in range(100)
        }

    def test_racing_writes_of_one_key_leave_one_whole_value(self, store: Store) -> None:
        keys = [f"r/{i}" for i in range(150)]
        _racing_puts(store, keys)
        for key in keys:
            assert store.get(key) in (b"zipped " + key.encode(), b"plain " + key.encode())

    # --- byte ranges --------------------------------------------------------------

    def test_byte_ranges_are_slices_of_the_object(self, store: Store) -> None:
        data = bytes(range(256)) * 4
        store.put("b/obj", data)
        asked = [(0, 10), (1000, 2000), (-16, None), (-5000, None), (100, None), (1023, 1024), (2000, 3000)]
        got = store.get_ranges([ByteRange("b/obj", start, end) for start, end in asked])
        assert got == [data[start:end] for start, end in asked]

    def test_empty_and_missing_ranges(self, store: Store) -> None:
        store.put("b/obj", b"0123456789")
        requests = [ByteRange("b/obj", 5, 5), ByteRange("b/missing", 0, 4), ByteRange("b/missing", -4)]
        assert store.get_ranges(requests) == [b"", None, None]
        assert store.get_ranges([]) == []

    def test_conditional_ranges_need_the_whole_size(self, store: Store) -> None:
        store.put("b/obj", b"0123456789")
        requests = [ByteRange("b/obj", 2, 4, whole_size=10), ByteRange("b/obj", 2, 4, whole_size=11)]
        assert store.get_ranges(requests) == [b"23", None]

    def test_many_ranges_of_many_objects_in_one_call(self, store: Store) -> None:
        rng = np.random.default_rng(3)
        objects = {f"m/{i}": rng.bytes(int(rng.integers(1, 3000))) for i in range(6)}
        store.put_many(objects)
        requests = []
        for _ in range(60):
            key = f"m/{int(rng.integers(0, 6))}"
            start = int(rng.integers(0, len(objects[key])))
            requests.append(ByteRange(key, start, start + int(rng.integers(1, 500))))
        wanted = [objects[r.key][r.start : r.end] for r in requests]
        assert store.get_ranges(requests) == wanted

    def test_ranges_of_a_compressed_object_are_refused(self, store: Store) -> None:
        payload = bytes(range(200)) * 3
        store.put("b/gz", gzip.compress(payload), metadata=_GZIP)
        assert store.get_ranges([ByteRange("b/gz", 0, 4, whole_size=len(payload))]) == [None]
        with pytest.raises(CompressedRangeError, match="b/gz"):
            store.get_ranges([ByteRange("b/gz", 0, 4)])

    def test_sized_ranges_give_the_whole_size(self, store: Store) -> None:
        payload = bytes(range(256)) * 4
        store.put("s/a", payload)
        found = store.read_ranges([ByteRange("s/a", 10, 20), ByteRange("s/none", 0, 4),
                                        ByteRange("s/a", 1000, None, whole_size=len(payload))])  # fmt: skip
        first, missing, last = found
        assert first is not None
        assert (first.data, first.whole_size) == (payload[10:20], len(payload))
        assert missing is None
        assert last is not None
        assert last.data == payload[1000:]
        assert store.read_ranges([ByteRange("s/a", 0, 4, whole_size=5)]) == [None]

    # --- updates -------------------------------------------------------------------

    def test_an_update_rewrites_creates_and_removes(self, store: Store) -> None:
        store.put("u/a", b"one")
        seen: dict[str, bytes | None] = {}

        def append(key: str) -> Callable[[StoredObject | None], StoredObject | None]:
            def update(found: StoredObject | None) -> StoredObject | None:
                seen[key] = None if found is None else found.data
                return StoredObject((b"" if found is None else found.data) + b"+")

            return update

        store.update_many({"u/a": append("u/a"), "u/new": append("u/new")})
        assert seen == {"u/a": b"one", "u/new": None}
        assert (store.get("u/a"), store.get("u/new")) == (b"one+", b"+")
        store.update_many({"u/a": lambda found: None, "u/never": lambda found: None})
        assert (store.get("u/a"), store.exists("u/a"), store.get("u/never")) == (None, False, None)
        assert store.get("u/new") == b"+"

    # --- objects as stored ---------------------------------------------------------

    def test_stored_objects_keep_compression_and_metadata(self, store: Store) -> None:
        payload = b"{" + bytes(range(32, 127)) * 20 + b"}"
        metadata = ObjectMetadata("application/json", "gzip", "max-age=60")
        store.put("s/gz", gzip.compress(payload), metadata=metadata)
        store.put("s/plain", b"plain bytes")
        found = store.get_stored_many(["s/gz", "s/plain", "s/missing"])
        gz, plain = found["s/gz"], found["s/plain"]
        assert gz is not None
        assert plain is not None
        assert found["s/missing"] is None
        assert gzip.decompress(gz.data) == payload
        assert gz.metadata.content_encoding == "gzip"
        assert (plain.data, plain.metadata.content_encoding) == (b"plain bytes", None)
        if store.stores_metadata:
            assert (gz.metadata.content_type, gz.metadata.cache_control) == ("application/json", "max-age=60")

    def test_a_stored_object_copies_byte_for_byte(self, store: Store) -> None:
        payload = bytes(range(256)) * 8
        metadata = ObjectMetadata(content_encoding="gzip", cache_control="no-cache")
        store.put("c/src", gzip.compress(payload), metadata=metadata)
        original = store.get_stored("c/src")
        assert original is not None
        store.put_stored_many({"c/dst": original, "c/other": StoredObject(b"raw")})
        assert store.get_stored("c/dst") == original
        assert store.get("c/dst") == payload
        assert store.get("c/other") == b"raw"


def _racing_puts(store: Store, keys: list[str]) -> None:
    """Per key, a gzip writer and a plain writer at once: exactly one value must remain."""
    barrier = threading.Barrier(2)

    def gzip_writer() -> None:
        barrier.wait()
        for key in keys:
            store.put(key, gzip.compress(b"zipped " + key.encode()), metadata=_GZIP)

    def plain_writer() -> None:
        barrier.wait()
        for key in keys:
            store.put(key, b"plain " + key.encode())

    threads = [threading.Thread(target=gzip_writer), threading.Thread(target=plain_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class CodecContract:
    """Behaviour every ``Codec`` must show. Needs a ``codec`` fixture.

    Set ``dtypes`` and ``channels`` to what the encoding allows and
    ``lossless = False`` (with ``tolerance``) for lossy encodings.
    """

    dtypes: ClassVar[tuple[str, ...]] = SPEC_DATA_TYPES
    channels: ClassVar[tuple[int, ...]] = (1, 3)
    shapes: ClassVar[tuple[tuple[int, int, int], ...]] = ((16, 16, 8), (5, 7, 3))
    lossless: ClassVar[bool] = True
    tolerance: ClassVar[float] = 0.0
    scale: ClassVar[dict[str, Any]] = {}

    def _sample(self, dtype: str, shape: tuple[int, int, int, int]) -> np.ndarray[Any, Any]:
        return random_array(shape, dtype, seed=7)

    def _spec(self, dtype: str, shape: tuple[int, int, int, int]) -> ChunkSpec:
        return ChunkSpec(np.dtype(dtype).newbyteorder("<"), shape, dict(self.scale))

    def _check(self, got: np.ndarray[Any, Any], want: np.ndarray[Any, Any]) -> None:
        assert got.shape == want.shape
        if self.lossless:
            np.testing.assert_array_equal(got, want)
        else:
            assert float(np.abs(got.astype(float) - want.astype(float)).mean()) <= self.tolerance

    def test_roundtrip(self, codec: Codec) -> None:
        for dtype in self.dtypes:
            for c in self.channels:
                for xyz in self.shapes:
                    shape = (*xyz, c)
                    array = self._sample(dtype, shape)
                    data = codec.encode(array, self._spec(dtype, shape))
                    self._check(codec.decode(bytes(data), self._spec(dtype, shape)), array)

    def test_decode_into_strided_view(self, codec: Codec) -> None:
        dtype, shape = self.dtypes[0], (*self.shapes[0], self.channels[0])
        array = self._sample(dtype, shape)
        data = bytes(codec.encode(array, self._spec(dtype, shape)))
        big = np.zeros((shape[0] + 4, shape[1] + 6, shape[2] + 2, shape[3]), dtype=dtype, order="F")
        view = big[2 : 2 + shape[0], 3 : 3 + shape[1], 1 : 1 + shape[2]]
        result = codec.decode(data, self._spec(dtype, shape), out=view)
        assert result is view
        self._check(big[2 : 2 + shape[0], 3 : 3 + shape[1], 1 : 1 + shape[2]], array)
        assert not big[:2].any()
        assert not big[2 + shape[0] :].any()

    def test_truncated_data_raises(self, codec: Codec) -> None:
        dtype, shape = self.dtypes[0], (*self.shapes[0], self.channels[0])
        data = bytes(codec.encode(self._sample(dtype, shape), self._spec(dtype, shape)))
        with pytest.raises(DecodingError):
            codec.decode(data[: len(data) // 2], self._spec(dtype, shape))

    def test_wrong_shape_raises_on_encode(self, codec: Codec) -> None:
        dtype, shape = self.dtypes[0], (*self.shapes[0], self.channels[0])
        array = self._sample(dtype, shape)
        wrong = (shape[0] + 1, *shape[1:])
        with pytest.raises(EncodingError):
            codec.encode(array, self._spec(dtype, wrong))  # type: ignore[arg-type]
