"""The bytes of one shard file (``sharded.md``): its shard index, minishard indexes and data.

Parsing checks every offset against the file, so a truncated or garbled shard raises
``ShardError`` naming it; it never yields bytes from
the wrong place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..exceptions import DecodingError, ShardError
from ._compression import compress_bytes, decompress_bytes

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt

    from ..meta import ShardingSpec

__all__ = [
    "EMPTY_MINISHARD",
    "MinishardIndex",
    "build_shard",
    "shard_entries",
    "check_within",
    "decode",
    "encode",
    "parse_minishard_index",
    "parse_shard_index",
    "split_shard",
]


class MinishardIndex(NamedTuple):
    """The chunks of one minishard: each id's absolute ``[start, end)`` in the shard file.

    A dict: a cutout looks up a few ids in it, each in constant time. A repeated id
    keeps its last entry, as in Neuroglancer.
    """

    entries: dict[int, tuple[int, int]]
    end: int  # where its last chunk ends (0 if it has none)

    def find(self, chunk_id: int) -> tuple[int, int] | None:
        return self.entries.get(chunk_id)

    @property
    def nbytes(self) -> int:
        return 64 + 160 * len(self.entries)  # a dict entry, its key and its tuple of two ints


EMPTY_MINISHARD = MinishardIndex({}, 0)


def decode(data: bytes, encoding: str, *, where: str, limit: int | None = None) -> bytes:
    """Undo a ``minishard_index_encoding`` or ``data_encoding`` (``raw`` or ``gzip``)."""
    if encoding == "raw":
        return data
    try:
        return decompress_bytes(data, "gzip", where=where, limit=limit)
    except DecodingError as err:
        raise ShardError(f"{err}; the shard is damaged: rewrite or delete it") from err


def encode(data: bytes, encoding: str) -> bytes:
    return data if encoding == "raw" else compress_bytes(data, "gzip")


def parse_shard_index(data: bytes, spec: ShardingSpec, *, where: str) -> npt.NDArray[np.uint64]:
    """The absolute ``[start, end)`` of each minishard index (a ``num_minishards`` x 2 array)."""
    if len(data) != spec.shard_index_size:
        raise ShardError(
            f"{where} is truncated: {len(data)} bytes where its shard index needs "
            f"{spec.shard_index_size}; rewrite or delete it"
        )
    index = np.frombuffer(data, dtype="<u8").reshape(-1, 2).astype(np.uint64)
    if np.any(index[:, 0] > index[:, 1]):
        raise ShardError(f"{where}: its shard index has a minishard ending before it starts; it is damaged")
    absolute: npt.NDArray[np.uint64] = index + np.uint64(spec.shard_index_size)
    return absolute


def parse_minishard_index(data: bytes, spec: ShardingSpec, *, where: str) -> MinishardIndex:
    """A minishard index as stored (encoded), decoded into absolute offsets."""
    raw = decode(data, spec.minishard_index_encoding, where=where)
    if len(raw) % 24:
        raise ShardError(f"{where}: a minishard index of {len(raw)} bytes is not a whole number of entries")
    table = np.frombuffer(raw, dtype="<u8").reshape(3, -1).astype(np.uint64)
    with np.errstate(over="ignore"):  # uint64 sums wrap as the spec's arithmetic does
        ids = np.cumsum(table[0], dtype=np.uint64)
        sizes = table[2]
        ends = np.cumsum(table[1] + sizes, dtype=np.uint64) + np.uint64(spec.shard_index_size)
    starts = ends - sizes
    if np.any(ends < sizes):
        raise ShardError(
            f"{where}: a minishard index places a chunk before the start of the file; it is damaged"
        )
    entries = dict(zip(ids.tolist(), zip(starts.tolist(), ends.tolist())))
    return MinishardIndex(entries, int(ends.max()) if len(ends) else 0)


def check_within(end: int, size: int | None, *, where: str) -> None:
    """Raise if an index reaches ``end`` in a shard of only ``size`` bytes (None: unknown)."""
    if size is not None and end > size:
        raise ShardError(
            f"{where}: its index points past the end of the shard ({size} bytes); "
            "the shard is truncated or damaged: rewrite or delete it"
        )


def shard_entries(data: bytes, spec: ShardingSpec, *, where: str) -> dict[int, tuple[int, int]]:
    """Where each item of a whole shard file lies: ``[start, end)`` by id."""
    view = memoryview(data)
    index = parse_shard_index(bytes(view[: spec.shard_index_size]), spec, where=where)
    check_within(int(index[:, 1].max()), len(data), where=where)
    entries: dict[int, tuple[int, int]] = {}
    for start, end in index.tolist():
        if start == end:
            continue
        minishard = parse_minishard_index(bytes(view[start:end]), spec, where=where)
        check_within(minishard.end, len(data), where=where)
        entries.update(minishard.entries)
    return entries


def split_shard(data: bytes, spec: ShardingSpec, *, where: str) -> dict[int, bytes]:
    """Every chunk of a whole shard file, by id, still in its ``data_encoding``."""
    view = memoryview(data)
    return {i: bytes(view[lo:hi]) for i, (lo, hi) in shard_entries(data, spec, where=where).items()}


def build_shard(
    spec: ShardingSpec, chunks: Mapping[int, bytes], prefixes: Mapping[int, bytes] | None = None
) -> bytes:
    """A shard file holding ``chunks`` (by id, already in the ``data_encoding``).

    The chunks come first, minishard by minishard and in id order within each, so
    chunks near each other in space are near each other in the file; all the minishard
    indexes follow, together, so a reader of many chunks fetches them in one request.
    An id's ``prefixes`` entry is written just before its data, outside the range the
    index gives (where a multi-resolution mesh keeps its fragments, before its manifest).
    """
    prefixes = prefixes or {}
    ids = np.array(sorted(chunks), dtype=np.uint64)
    _, minishards = spec.locate(ids) if len(ids) else (ids, ids)
    parts: list[bytes] = []
    tables: list[tuple[int, bytes]] = []
    offset = 0  # relative to the end of the shard index
    order = np.argsort(minishards, kind="stable")
    bounds = np.searchsorted(minishards[order], np.arange(spec.num_minishards + 1, dtype=np.uint64))
    for minishard in np.flatnonzero(np.diff(bounds)).tolist():
        members = ids[order[bounds[minishard] : bounds[minishard + 1]]]
        table = np.zeros((3, len(members)), dtype="<u8")
        table[0, 0] = members[0]
        table[0, 1:] = np.diff(members)
        previous_end = 0  # the first start is relative to the end of the shard index
        for i, chunk_id in enumerate(members.tolist()):
            prefix = prefixes.get(chunk_id, b"")
            parts.append(prefix)
            offset += len(prefix)
            data = chunks[chunk_id]
            table[1, i] = offset - previous_end
            table[2, i] = len(data)
            parts.append(data)
            offset += len(data)
            previous_end = offset
        tables.append((minishard, encode(table.tobytes(), spec.minishard_index_encoding)))
    index = np.zeros((spec.num_minishards, 2), dtype="<u8")
    for minishard, encoded in tables:
        index[minishard] = (offset, offset + len(encoded))
        parts.append(encoded)
        offset += len(encoded)
    return index.tobytes() + b"".join(parts)
