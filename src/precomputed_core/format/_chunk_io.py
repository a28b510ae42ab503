"""Chunk I/O: how the chunks of one scale are kept in a ``Store``.

The read and write pipeline reaches storage only through a :class:`ChunkIO`. In
an unsharded scale a chunk is one object, named after its box; in a sharded scale
(a later release) it is a slot in a shard file, and another class of this kind
serves it, with no branch in the pipeline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, NamedTuple

from ..exceptions import FeatureUnavailableError
from ..interfaces import ByteRange

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..geometry import Chunk, ChunkGrid
    from ..interfaces import ObjectMetadata, Store
    from ..meta import LayerMeta

__all__ = ["ChunkIO", "ChunkPart", "UnshardedChunkIO", "chunk_io_for"]


class ChunkPart(NamedTuple):
    """Bytes ``[start, end)`` of a chunk's encoded form, wanted only if it is ``whole_size`` bytes."""

    chunk: Chunk
    start: int
    end: int
    whole_size: int


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
        """Whether :meth:`read_parts` reads parts of chunks (else it answers None for each)."""
        return False

    def describe(self, chunk: Chunk) -> str:
        """Where ``chunk`` is stored, for messages."""
        return self.store.describe(chunk.name)

    def read_parts(self, parts: Sequence[ChunkPart]) -> list[bytes | None]:
        """Each part's bytes, or None where the chunk must be read whole (the default: all)."""
        return [None] * len(parts)

    @abstractmethod
    def read_many(self, chunks: Sequence[Chunk]) -> list[bytes | None]:
        """Each chunk's encoded bytes (transfer compression removed); None where it is missing."""

    @abstractmethod
    def write_many(self, items: Sequence[tuple[Chunk, bytes]], *, metadata: ObjectMetadata) -> None:
        """Store each chunk's encoded bytes (already compressed as ``metadata`` says)."""

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

    def read_many(self, chunks: Sequence[Chunk]) -> list[bytes | None]:
        found = self.store.get_many([c.name for c in chunks])
        return [found[c.name] for c in chunks]

    def write_many(self, items: Sequence[tuple[Chunk, bytes]], *, metadata: ObjectMetadata) -> None:
        self.store.put_many({chunk.name: data for chunk, data in items}, metadata=metadata)

    def exists_many(self, chunks: Sequence[Chunk]) -> dict[str, bool]:
        return self.store.exists_many([c.name for c in chunks])

    def delete_many(self, chunks: Sequence[Chunk]) -> None:
        self.store.delete_many([c.name for c in chunks])


def chunk_io_for(store: Store, meta: LayerMeta, mip: int) -> ChunkIO:
    """The chunk I/O of scale ``mip``, as its info describes it."""
    if meta.is_sharded(mip):
        raise FeatureUnavailableError(
            f"scale {meta.key(mip)!r} of {store.url} uses the sharded format, which this "
            "version of precomputed cannot read or write yet"
        )
    return UnshardedChunkIO(store, meta.grid(mip))
