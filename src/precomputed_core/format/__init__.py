"""The Precomputed storage format over a ``Store``: chunk I/O, shards and transfer compression.

How a scale's chunks become objects (``ChunkIO``: one key per chunk in an
unsharded scale, items of shard files in a sharded one), the shard files themselves
(``ShardReader``, which images, meshes and skeletons share: they differ only in
their ids) and how objects are compressed on the wire. May import ``interfaces``,
``meta``, ``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._chunk_io import ChunkEdit, ChunkIO, ChunkPart, UnshardedChunkIO, chunk_io_for, opened_bytes
from ._compression import SUFFIXES, compress_bytes, decompress_bytes, gzip_backend, normalize_compress
from ._morton import cell_shape, compressed_morton
from ._object_dir import MAX_OBJECT_BYTES, NamedDirectory, ObjectDirectory
from ._shard_file import build_shard, decode, shard_entries, split_shard
from ._shard_reader import Located, ShardReader
from ._sharded_chunk_io import ShardedChunkIO, shard_shape
from ._sharded_objects import ShardedObjects

__all__ = [
    "MAX_OBJECT_BYTES",
    "SUFFIXES",
    "ChunkEdit",
    "ChunkIO",
    "ChunkPart",
    "ShardReader",
    "Located",
    "NamedDirectory",
    "ObjectDirectory",
    "ShardedChunkIO",
    "ShardedObjects",
    "UnshardedChunkIO",
    "build_shard",
    "cell_shape",
    "compressed_morton",
    "shard_shape",
    "split_shard",
    "shard_entries",
    "decode",
    "chunk_io_for",
    "opened_bytes",
    "compress_bytes",
    "decompress_bytes",
    "gzip_backend",
    "normalize_compress",
]
