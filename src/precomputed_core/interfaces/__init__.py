"""The interfaces plugins implement: ``Store``, ``Codec`` and ``Volume``, with their value objects.

A ``Store`` is a key-value view of one layer's objects (batched, with byte
ranges and stored bytes); a ``Codec`` encodes and decodes one chunk; a
``Volume`` is an array source read and written by box at a mip. May import
``meta``, ``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._codec import ChunkSpec, Codec
from ._object_locks import object_lock, object_locks
from ._store import ByteRange, ObjectMetadata, RangeRead, Store, StoredObject, Update
from ._volume import ReadOptions, Volume, WriteOptions

__all__ = [
    "ByteRange",
    "ChunkSpec",
    "Codec",
    "ObjectMetadata",
    "ReadOptions",
    "RangeRead",
    "Store",
    "StoredObject",
    "Update",
    "Volume",
    "WriteOptions",
    "object_lock",
    "object_locks",
]
