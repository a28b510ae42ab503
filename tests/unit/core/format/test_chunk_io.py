"""Chunk I/O: the pipeline's only way to storage, one object per chunk in an unsharded scale."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import Bbox, ByteRange, ChunkGrid, CloudVolume, LayerMeta, ObjectMetadata
from precomputed_core.exceptions import InfoValidationError
from precomputed_core.format import ChunkIO, ChunkPart, ShardedChunkIO, UnshardedChunkIO, chunk_io_for
from precomputed_core.geometry import chunk_name


def _meta(**scale_extra):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [2, 0, 0], [40, 30, 20],
                                       chunk_size=(16, 16, 8))  # fmt: skip
    info["scales"][0].update(scale_extra)
    return LayerMeta(info)


def test_chunks_are_keys_named_after_their_box(minimal_store):
    store = minimal_store
    chunks = chunk_io_for(store, _meta(), 0)
    assert isinstance(chunks, UnshardedChunkIO)
    assert chunks.grid == ChunkGrid("4_4_40", (2, 0, 0), (40, 30, 20), (16, 16, 8))
    assert chunks.work_grid == chunks.grid
    cover = chunks.grid.cover(Bbox((10, 10, 5), (20, 20, 10))).chunks()
    assert [c.name for c in cover] == [
        "4_4_40/2-18_0-16_0-8", "4_4_40/18-34_0-16_0-8", "4_4_40/2-18_16-30_0-8", "4_4_40/18-34_16-30_0-8",
        "4_4_40/2-18_0-16_8-16", "4_4_40/18-34_0-16_8-16", "4_4_40/2-18_16-30_8-16", "4_4_40/18-34_16-30_8-16",
    ]  # fmt: skip
    assert all(c.name == chunk_name("4_4_40", c.lo, c.hi) for c in cover)
    chunks.write_many([(cover[0], b"first"), (cover[1], b"second")], metadata=ObjectMetadata())
    assert sorted(store.objects) == ["4_4_40/18-34_0-16_0-8", "4_4_40/2-18_0-16_0-8"]
    assert chunks.read_many(cover[:3]) == [b"first", b"second", None]
    assert chunks.exists_many(cover[:3]) == {cover[0].name: True, cover[1].name: True, cover[2].name: False}
    chunks.delete_many(cover[:1])
    assert chunks.read_many(cover[:2]) == [None, b"second"]
    assert chunks.describe(cover[1]) == "minimal://layer/4_4_40/18-34_0-16_0-8"


def test_parts_of_chunks_are_byte_ranges_of_their_objects(minimal_store):
    store = minimal_store
    chunks = UnshardedChunkIO(store, _meta().grid(0))
    chunk = chunks.grid.cover(Bbox((2, 0, 0), (3, 1, 1))).chunks()[0]
    store.put(chunk.name, bytes(range(100)))
    parts = [ChunkPart(chunk, 10, 14, 100), ChunkPart(chunk, 10, 14, 99)]
    assert chunks.read_parts(parts) == [bytes(range(10, 14)), None]
    assert chunks.supports_partial_reads is False  # the minimal store has no real ranges
    assert store.get_ranges([ByteRange(chunk.name, 10, 14, whole_size=100)]) == [bytes(range(10, 14))]


def test_a_chunk_io_without_parts_reads_whole_chunks(minimal_store):
    class WholeOnly(ChunkIO):
        def read_many(self, chunks):
            return [b"x"] * len(chunks)

        def write_many(self, items, *, metadata):
            raise AssertionError

        def update_many(self, edits, *, metadata):
            raise AssertionError

        def exists_many(self, chunks):
            return {}

        def delete_many(self, chunks):
            raise AssertionError

    chunks = WholeOnly(minimal_store, _meta().grid(0))
    chunk = chunks.grid.cover(Bbox((2, 0, 0), (3, 1, 1))).chunks()[0]
    assert chunks.supports_partial_reads is False
    assert chunks.read_parts([ChunkPart(chunk, 0, 1, 10)]) == [None]


def test_a_sharded_scale_gets_the_sharded_chunk_io(minimal_store):
    spec = {"@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 0,
            "minishard_bits": 1, "shard_bits": 2}  # fmt: skip
    chunks = chunk_io_for(minimal_store, _meta(sharding=spec), 0)
    assert isinstance(chunks, ShardedChunkIO)
    assert chunks.spec.to_json()["data_encoding"] == "raw"
    with pytest.raises(InfoValidationError, match=r"\['hash'\] must be one of"):
        chunk_io_for(minimal_store, _meta(sharding={"@type": "neuroglancer_uint64_sharded_v1"}), 0)


def test_the_pipeline_reaches_storage_only_through_chunk_io(tmp_path, monkeypatch):
    """Every read, write, exists and delete of a layer goes through its scale's ChunkIO."""
    calls = []
    names = ("read_many", "read_parts", "write_many", "update_many", "exists_many", "delete_many")
    for name in names:
        real = getattr(UnshardedChunkIO, name)

        def spy(self, *args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(UnshardedChunkIO, name, spy)
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [32, 32, 16],
                                       chunk_size=(16, 16, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/layer", info=info, progress=False, non_aligned_writes=True)
    vol.commit_info()
    vol[:, :, :] = np.ones((32, 32, 16), np.uint8)
    vol[1:5, 1:5, 1:5] = np.zeros((4, 4, 4), np.uint8)
    assert vol[0:32, 0:32, 0:16].sum() == 32 * 32 * 16 - 64
    assert vol[2:4, 2:4, 2:4].sum() == 0
    vol.exists(np.s_[0:32, 0:32, 0:16])
    vol.delete(np.s_[0:16, 0:16, 0:16])
    assert set(calls) == set(names)
