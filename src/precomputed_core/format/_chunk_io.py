"""Chunk I/O: how the chunks of one scale are kept in a ``Store``.

The read and write pipeline reaches storage only through a ``ChunkIO``. In
an unsharded scale a chunk is one object, named after its box; in a sharded scale
it is an item of a shard file (``ShardedChunkIO``), with
no branch in the pipeline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, NamedTuple

from ..interfaces import ByteRange, StoredObject
from ._compression import decompress_bytes

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..geometry import Chunk, ChunkGrid
    from ..interfaces import ObjectMetadata, Store
    from ..meta import LayerMeta

__all__ = ["ChunkEdit", "ChunkIO", "ChunkPart", "UnshardedChunkIO", "chunk_io_for", "opened_bytes"]


def opened_bytes(store: Store, stored: StoredObject, where: str, limit: int | None = None) -> bytes:
    """A stored object's bytes with transfer compression removed, to at most ``limit`` bytes.

    An empty object is refused (no chunk or shard is empty); errors name the file the
    bytes came from (``stored.source``, such as a ``.gz`` file) or else ``where``.
    """
    if not stored.data:
        store.refuse_empty(stored.source or where)
    encoding = stored.metadata.content_encoding
    if encoding is None:
        return stored.data
    return decompress_bytes(stored.data, encoding, where=stored.source or where, limit=limit)


class ChunkPart(NamedTuple):
    """Bytes ``[start, end)`` of a chunk's encoded form, wanted only if it is ``whole_size`` bytes."""

    chunk: Chunk
    start: int
    end: int
    whole_size: int


class ChunkEdit(NamedTuple):
    """A read-modify-write of one chunk: ``update`` turns its encoded bytes (None if missing)
    into the new encoded, compressed bytes, or None to remove the chunk; the stored chunk
    may expand to ``limit`` bytes."""

    chunk: Chunk
    update: Callable[[bytes | None], bytes | None]
    limit: int | None = None


class ChunkIO(ABC):
    """The chunks of one scale in ``store``, on ``grid``; shared by the threads of a read or write."""

    def __init__(self, store: Store, grid: ChunkGrid) -> None:
        self.store = store
        self.grid = grid

    @property
    def work_grid(self) -> ChunkGrid:
        """The cells no two processes may share: each stored object belongs to exactly one."""
        return self.grid

    @property
    def batch_size(self) -> int:
        """Chunks per call worth handing to the methods below from one thread."""
        return self.store.batch_size

    @property
    def supports_partial_reads(self) -> bool:
        """Whether ``read_parts`` reads parts of chunks (else it answers None for each)."""
        return False

    def describe(self, chunk: Chunk) -> str:
        """Where ``chunk`` is stored, for messages."""
        return self.store.describe(chunk.name)

    def object_keys(self, chunks: Sequence[Chunk]) -> list[str]:
        """The stored objects that hold ``chunks``, each once, in order (raw object access:
        a copy of these objects is a copy of the chunks)."""
        return list(dict.fromkeys(chunk.name for chunk in chunks))

    def compression(self, requested: str | None) -> str | None:
        """The transfer compression chunks are handed over with, given the user's ``compress``."""
        return requested

    def batches(self, chunks: Sequence[Chunk], *, writing: bool) -> list[list[int]] | None:
        """How to group ``chunks`` (by index) into calls, or None: runs of ``batch_size``."""
        return None

    def forget_indexes(self) -> None:  # noqa: B027 - most chunk I/O has no index
        """Drop cached indexes: other processes may have rewritten the objects they describe."""

    def prefetch(self, chunks: Sequence[Chunk]) -> None:  # noqa: B027 - most chunk I/O has no index
        """Get ready to read ``chunks`` in many calls (a sharded scale loads their indexes at once)."""

    def store_many(
        self, items: Sequence[tuple[Chunk, bytes]], edits: Sequence[ChunkEdit], *, metadata: ObjectMetadata
    ) -> None:
        """Write whole chunks and apply edits to others: ``write_many``, then ``update_many``."""
        if items:
            self.write_many(items, metadata=metadata)
        if edits:
            self.update_many(edits, metadata=metadata)

    def read_parts(self, parts: Sequence[ChunkPart]) -> list[bytes | None]:
        """Each part's bytes, or None where the chunk must be read whole (the default: all)."""
        return [None] * len(parts)

    def opened(self, chunk: Chunk, stored: StoredObject, limit: int | None) -> bytes:
        """A stored chunk's encoded bytes: decompressed, to at most ``limit`` bytes."""
        return opened_bytes(self.store, stored, self.describe(chunk), limit)

    @abstractmethod
    def read_many(
        self, chunks: Sequence[Chunk], *, limits: Sequence[int | None] | None = None
    ) -> list[bytes | None]:
        """Each chunk's encoded bytes (transfer compression removed); None where it is missing.

        ``limits`` bound each chunk's decompressed size: a chunk that expands past its
        limit raises ``DecodingError`` rather than filling memory.
        """

    @abstractmethod
    def write_many(self, items: Sequence[tuple[Chunk, bytes]], *, metadata: ObjectMetadata) -> None:
        """Store each chunk's encoded bytes (already compressed as ``metadata`` says)."""

    @abstractmethod
    def update_many(self, edits: Sequence[ChunkEdit], *, metadata: ObjectMetadata) -> None:
        """Read, modify and write back each chunk, losing no other writer's update of it.

        An edit's ``update`` may run more than once when another writer changed the
        chunk in between; it must have no side effects. Whole-chunk writes need none
        of this and go through ``write_many``.
        """

    @abstractmethod
    def exists_many(self, chunks: Sequence[Chunk]) -> dict[str, bool]:
        """Whether each chunk is stored, by chunk name."""

    @abstractmethod
    def delete_many(self, chunks: Sequence[Chunk]) -> None:
        """Remove the chunks; missing ones are not an error."""


class UnshardedChunkIO(ChunkIO):
    """One object per chunk, keyed by the chunk's name (``4_4_40/0-64_0-64_0-64``)."""

    @property
    def supports_partial_reads(self) -> bool:
        return self.store.supports_ranges

    def read_parts(self, parts: Sequence[ChunkPart]) -> list[bytes | None]:
        ranges = [ByteRange(p.chunk.name, p.start, p.end, whole_size=p.whole_size) for p in parts]
        return self.store.get_ranges(ranges)

    def read_many(
        self, chunks: Sequence[Chunk], *, limits: Sequence[int | None] | None = None
    ) -> list[bytes | None]:
        found = self.store.get_stored_many([c.name for c in chunks])
        bounds = [None] * len(chunks) if limits is None else limits
        return [
            None if (stored := found[c.name]) is None else self.opened(c, stored, limit)
            for c, limit in zip(chunks, bounds)
        ]

    def write_many(self, items: Sequence[tuple[Chunk, bytes]], *, metadata: ObjectMetadata) -> None:
        self.store.put_many({chunk.name: data for chunk, data in items}, metadata=metadata)

    def update_many(self, edits: Sequence[ChunkEdit], *, metadata: ObjectMetadata) -> None:
        # One object per chunk: the store's own update (lock or conditional write) is per chunk.
        # A sharded scale does the same per shard file.
        def update_of(edit: ChunkEdit) -> Callable[[StoredObject | None], StoredObject | None]:
            def update(stored: StoredObject | None) -> StoredObject | None:
                current = None if stored is None else self.opened(edit.chunk, stored, edit.limit)
                new = edit.update(current)
                return None if new is None else StoredObject(new, metadata)

            return update

        self.store.update_many({edit.chunk.name: update_of(edit) for edit in edits})

    def exists_many(self, chunks: Sequence[Chunk]) -> dict[str, bool]:
        return self.store.exists_many([c.name for c in chunks])

    def delete_many(self, chunks: Sequence[Chunk]) -> None:
        self.store.delete_many([c.name for c in chunks])


def chunk_io_for(store: Store, meta: LayerMeta, mip: int) -> ChunkIO:
    """The chunk I/O of scale ``mip``, as its info describes it."""
    if meta.is_sharded(mip):
        from ..meta import ShardingSpec
        from ._sharded_chunk_io import ShardedChunkIO

        where = f"info['scales'][{mip}]['sharding']"
        return ShardedChunkIO(
            store, meta.grid(mip), ShardingSpec.from_json(meta.scale(mip)["sharding"], where)
        )
    return UnshardedChunkIO(store, meta.grid(mip))
