"""Turn the reply to a ranged GET into the bytes a ``ByteRange`` asked for, or a clear error.

Servers answer a ``Range`` header in three ways: 206 with the part and a
``Content-Range: bytes first-last/total``; 200 with the whole object (a server that
ignores ranges); or 416 when the range starts past the end. A 206 whose part is not
the one asked for, or is cut short, is an error: never bytes from the wrong place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from precomputed_core import ObjectMetadata, RangeRead, StoredObject
from precomputed_core.exceptions import StorageError

if TYPE_CHECKING:
    from precomputed_core import ByteRange, Store

__all__ = ["RangeReply", "answer", "answer_read"]

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")


@dataclass(frozen=True, slots=True)
class RangeReply:
    """What a server sent for a ranged GET (``content_range`` is its header, for a 206)."""

    status: int
    data: bytes
    metadata: ObjectMetadata = ObjectMetadata()
    content_range: str | None = None
    version: str | None = None  # the ETag or generation of the object the part came from


def _parse(header: str | None, where: str) -> tuple[int, int, int | None]:
    match = _CONTENT_RANGE.match(header or "")
    if match is None:
        raise StorageError(
            f"{where}: a partial reply came with Content-Range {header!r}; cannot place its bytes"
        )
    first, last, total = match.groups()
    return int(first), int(last), None if total == "*" else int(total)


def answer(store: Store, request: ByteRange, reply: RangeReply) -> bytes | None:
    """The bytes of ``request`` in ``reply`` (None: read the object whole, see ``ByteRange``)."""
    sized = answer_read(store, request, reply)
    return None if sized is None else sized.data


def answer_read(store: Store, request: ByteRange, reply: RangeReply) -> RangeRead | None:
    """``answer``, with the whole object's size (from ``Content-Range``, when it says)."""
    encoding = reply.metadata.content_encoding
    if encoding is not None:
        if request.whole_size is not None:
            return None
        store.refuse_compressed_range(request.key, encoding)
    if reply.status == 416:  # the range starts past the end: no bytes, as slicing gives
        return None if request.whole_size is not None else RangeRead(b"", None)
    if reply.status != 206:
        data = store.cut_range(request, StoredObject(reply.data, reply.metadata))
        return None if data is None else RangeRead(data, len(reply.data), reply.version)
    where = store.describe(request.key)
    first, last, total = _parse(reply.content_range, where)
    if request.whole_size is not None and total != request.whole_size:
        return None
    wanted = request.start if request.start >= 0 or total is None else max(0, total + request.start)
    ends = [] if total is None else [total] if request.end is None else [min(request.end, total)]
    if first != wanted or len(reply.data) != last - first + 1 or any(last != end - 1 for end in ends):
        raise StorageError(
            f"{where}: asked for {request.http_range}, got bytes {first}-{last} in a body of "
            f"{len(reply.data)} bytes; the reply is cut short or misplaced, try again"
        )
    return RangeRead(reply.data, total, reply.version)
