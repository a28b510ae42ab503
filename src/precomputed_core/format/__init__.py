"""The Precomputed storage format over a ``Store``: chunk I/O and transfer compression.

How a scale's chunks become objects (:class:`ChunkIO`: one key per chunk in an
unsharded scale; later, slots in shard files read by the shard reader that
images, meshes and skeletons share) and how objects are compressed on the
wire. May import ``interfaces``, ``meta``, ``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._chunk_io import ChunkEdit, ChunkIO, ChunkPart, UnshardedChunkIO, chunk_io_for
from ._compression import SUFFIXES, compress_bytes, decompress_bytes, normalize_compress

__all__ = [
    "SUFFIXES",
    "ChunkEdit",
    "ChunkIO",
    "ChunkPart",
    "UnshardedChunkIO",
    "chunk_io_for",
    "compress_bytes",
    "decompress_bytes",
    "normalize_compress",
]
