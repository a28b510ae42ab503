"""Read ids out of the shard files of one directory: a sharded scale, meshes or skeletons.

A read takes three rounds of ranged requests, each covering every shard at once:
the shard indexes, then the minishard indexes the ids need, then the chunks,
adjacent ones merged into one request. Indexes are kept in a bounded LRU, each with
the size and version of the shard it came from. Every later read of the shard must
come from that same version (an ETag, a generation, a file's inode and mtime), so a
shard rewritten since, by any writer, is noticed and its index read again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ..exceptions import CompressedRangeError, ShardError, StorageError
from ..interfaces import ByteRange
from ._chunk_io import opened_bytes
from ._shard_file import (
    EMPTY_MINISHARD,
    MinishardIndex,
    check_within,
    decode,
    parse_minishard_index,
    parse_shard_index,
    split_shard,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from ..interfaces import RangeRead, Store, StoredObject
    from ..meta import ShardingSpec

__all__ = ["DEFAULT_INDEX_CACHE_BYTES", "Located", "ShardReader", "Stale"]

T = TypeVar("T")

#: Memory for cached shard and minishard indexes, per reader.
DEFAULT_INDEX_CACHE_BYTES = 64 * 2**20
#: Reads again after finding a shard rewritten under them, before giving up.
_STALE_ATTEMPTS = 5


@dataclass
class _Shard:
    """What is known of one shard file: its size and indexes (minishards filled in as needed)."""

    size: int | None
    version: str | None
    index: npt.NDArray[np.uint64]
    minishards: dict[int, MinishardIndex] = field(default_factory=dict)
    #: Every item of a shard stored with transfer compression (read whole, never cached).
    items: dict[int, bytes] | None = None

    @property
    def nbytes(self) -> int:
        return self.index.nbytes + sum(m.nbytes for m in self.minishards.values()) + 200


@dataclass(frozen=True, slots=True)
class Located:
    """Where an id's data is: its shard file, the byte range there, and that file's size."""

    key: str
    start: int
    end: int
    size: int | None
    version: str | None = None
    data: bytes | None = None  # the item itself, from a shard that had to be read whole


class Stale(Exception):
    """A shard changed between reading its index and its data: read them again."""


def _same_version(reply: RangeRead | None, version: str | None, key: str) -> bytes:
    """The bytes of a read of ``key``, if they come from the version its index came from."""
    if reply is None or (version is not None and reply.version is not None and reply.version != version):
        raise Stale(key)
    return reply.data


class ShardReader:
    """The shard files of ``spec`` in ``store`` under ``prefix`` (a scale key, or ``mesh``)."""

    def __init__(
        self, store: Store, spec: ShardingSpec, prefix: str, *, cache_bytes: int = DEFAULT_INDEX_CACHE_BYTES
    ) -> None:
        self.store = store
        self.spec = spec
        self.prefix = prefix.rstrip("/")
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, _Shard] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()
        self._keys: dict[int, str] = {}

    # --- naming ----------------------------------------------------------------

    def shard_key(self, shard: int) -> str:
        key = self._keys.get(shard)
        if key is None:
            name = self.spec.shard_key(shard)
            key = self._keys[shard] = f"{self.prefix}/{name}" if self.prefix else name
        return key

    def where(self, ids: Sequence[int]) -> tuple[list[str], list[int]]:
        """The shard file and minishard number of each id."""
        pairs = [self.spec.locate_one(i) for i in ids]
        return [self.shard_key(s) for s, _ in pairs], [m for _, m in pairs]

    def keys_of(self, ids: Sequence[int]) -> list[str]:
        """The shard file of each id."""
        return self.where(ids)[0]

    # --- the index cache ---------------------------------------------------------

    def _cached(self, key: str) -> _Shard | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
            return entry

    def _remember(self, key: str, entry: _Shard, minishards: dict[int, MinishardIndex] | None = None) -> None:
        """Keep ``entry`` (with ``minishards`` added to it) as the newest cached shard.

        Entries are shared by threads: their minishards change only under the lock.
        """
        with self._lock:
            old = self._cache.pop(key, None)
            if old is not None:
                self._cached_bytes -= old.nbytes
            if minishards:
                entry.minishards.update(minishards)
            self._cache[key] = entry
            self._cached_bytes += entry.nbytes
            while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                self._cached_bytes -= evicted.nbytes

    def forget(self, keys: Sequence[str] | None = None) -> None:
        """Drop cached indexes (of ``keys``, or all): after this process rewrites a shard."""
        with self._lock:
            for key in list(self._cache) if keys is None else keys:
                entry = self._cache.pop(key, None)
                if entry is not None:
                    self._cached_bytes -= entry.nbytes

    # --- reading -------------------------------------------------------------------

    def locate(self, ids: Sequence[int], *, recheck_absent: bool = False) -> list[Located | None]:
        """Where each id's data is in its shard; None where the id (or its shard) is absent.

        ``recheck_absent`` reads the indexes again before calling an id absent, for items
        other processes add (meshes, skeletons); a volume's missing chunks are left as
        they are, since a sparse volume would otherwise re-read indexes on every read.
        """

        def attempt(fresh: bool) -> list[Located | None]:
            located = self._locate(ids, fresh=fresh)
            if recheck_absent and not fresh and None in located:
                raise Stale("an id was absent from a cached index")
            return located

        return self._until_current(attempt)

    def read(
        self, ids: Sequence[int], *, limits: Sequence[int | None] | None = None, recheck_absent: bool = False
    ) -> list[bytes | None]:
        """Each id's data (its ``data_encoding`` removed), or None where it is absent.

        ``limits`` bound each item's decompressed size (a gzip bomb raises).
        """
        return self.read_then(ids, lambda _, data: data, limits=limits, recheck_absent=recheck_absent)

    def read_then(
        self,
        ids: Sequence[int],
        then: Callable[[list[Located | None], list[bytes | None]], T],
        *,
        limits: Sequence[int | None] | None = None,
        recheck_absent: bool = False,
    ) -> T:
        """``then(located, data)`` of each id, all read again if a shard changes meanwhile.

        For items that lead to more reads of the same shard (a mesh manifest, then its
        fragments): ``then`` reads them with ``read_spans``, which notices a shard
        rewritten since its index was read and starts the whole read over.
        """
        bounds: list[int | None] = [None] * len(ids) if limits is None else list(limits)

        def attempt(fresh: bool) -> T:
            located = self._locate(ids, fresh=fresh)
            if recheck_absent and not fresh and None in located:
                raise Stale("an id was absent from a cached index")
            self._check_sizes(ids, located, bounds)
            return then(located, self._fetch(ids, located, bounds))

        return self._until_current(attempt)

    def _until_current(self, attempt: Callable[[bool], T]) -> T:
        """``attempt(fresh)``, again with indexes read afresh while a shard changes under it."""
        for number in range(_STALE_ATTEMPTS):
            try:
                return attempt(number > 0)
            except Stale:
                continue
        raise StorageError(
            f"the shards of {self.store.describe(self.prefix)} changed each time they were read, "
            f"{_STALE_ATTEMPTS} times in a row; read again once the writers are done"
        )

    def _check_sizes(
        self, ids: Sequence[int], located: list[Located | None], limits: list[int | None]
    ) -> None:
        """Refuse an index that gives an item more bytes than the item can take: memory stays
        bounded whatever a damaged or hostile shard says."""
        for chunk_id, at, limit in zip(ids, located, limits):
            if at is not None and limit is not None and at.end - at.start > limit:
                raise ShardError(
                    f"{self.store.describe(at.key)}: its index gives item {chunk_id} {at.end - at.start} "
                    f"bytes, more than it can hold ({limit}); the shard is damaged: rewrite or delete it"
                )

    def _locate(self, ids: Sequence[int], *, fresh: bool) -> list[Located | None]:
        keys, minishards = self.where(ids)
        if fresh:
            self.forget(list(dict.fromkeys(keys)))
        entries = self._shards(list(dict.fromkeys(keys)))
        self._load_minishards(entries, keys, minishards)
        located: list[Located | None] = []
        for chunk_id, key, minishard in zip(ids, keys, minishards):
            entry = entries[key]
            if entry is None:
                located.append(None)
                continue
            if entry.items is not None:
                item = entry.items.get(chunk_id)
                located.append(None if item is None else Located(key, 0, len(item), None, None, item))
                continue
            found = entry.minishards[minishard].find(chunk_id)
            located.append(
                None if found is None else Located(key, found[0], found[1], entry.size, entry.version)
            )
        return located

    def _shards(self, keys: list[str]) -> dict[str, _Shard | None]:
        """Each shard's index, from the cache or with one ranged read per missing shard, together."""
        entries: dict[str, _Shard | None] = {key: self._cached(key) for key in keys}
        missing = [key for key, entry in entries.items() if entry is None]
        if not missing:
            return entries
        size = self.spec.shard_index_size
        try:
            replies: list[RangeRead | _Shard | None] = list(
                self.store.read_ranges([ByteRange(key, 0, size) for key in missing])
            )
        except CompressedRangeError:  # some shard is stored compressed: find which, one by one
            replies = [self._one_index(key) for key in missing]
        for key, reply in zip(missing, replies):
            if reply is None or isinstance(reply, _Shard):
                entries[key] = reply
                continue
            where = self.store.describe(key)
            if not reply.data:  # the first bytes of a file that has none
                self.store.refuse_empty(where)
            index = parse_shard_index(reply.data, self.spec, where=where)
            check_within(int(index[:, 1].max()), reply.whole_size, where=where)
            entry = _Shard(reply.whole_size, reply.version, index)
            entries[key] = entry
            self._remember(key, entry)
        return entries

    def _one_index(self, key: str) -> RangeRead | _Shard | None:
        """One shard's index, or a shard stored with transfer compression, read whole.

        Other tools may write ``.shard.gz`` files or shards with ``Content-Encoding: gzip``;
        their byte ranges mean nothing, so they are read whole, for this read only.
        """
        try:
            return self.store.read_ranges([ByteRange(key, 0, self.spec.shard_index_size)])[0]
        except CompressedRangeError:
            stored = self.store.get_stored(key)
            if stored is None:
                return None
            return _Shard(None, None, np.zeros((0, 2), np.uint64), items=self.opened(key, stored))

    def _load_minishards(
        self, entries: dict[str, _Shard | None], keys: list[str], minishards: list[int]
    ) -> None:
        wanted: dict[tuple[str, int], Located] = {}
        for key, minishard in zip(keys, minishards):
            entry = entries[key]
            if entry is None or entry.items is not None:
                continue
            if minishard in entry.minishards or (key, minishard) in wanted:
                continue
            start, end = (int(v) for v in entry.index[minishard])
            if start == end:
                self._remember(key, entry, {minishard: EMPTY_MINISHARD})
                continue
            wanted[key, minishard] = Located(key, start, end, entry.size, entry.version)
        if not wanted:
            return
        parsed: dict[str, dict[int, MinishardIndex]] = {}
        for (key, minishard), data in zip(wanted, self.read_spans(list(wanted.values()))):
            entry = entries[key]
            assert entry is not None
            where = self.store.describe(key)
            index = parse_minishard_index(data, self.spec, where=where)
            check_within(index.end, entry.size, where=where)
            parsed.setdefault(key, {})[minishard] = index
        for key, indexes in parsed.items():
            entry = entries[key]
            assert entry is not None
            self._remember(key, entry, indexes)

    def read_spans(self, spans: list[Located]) -> list[bytes]:
        """The bytes of each span, all in one round of requests.

        Spans of one shard closer than the store's ``read_gap`` share a request (a
        remote store's round trip costs more than the bytes between them). Every reply
        must come from the shard version the spans were found in, else ``Stale``.
        """
        gap = self.store.read_gap
        order = sorted(range(len(spans)), key=lambda i: (spans[i].key, spans[i].start))
        requests: list[ByteRange] = []
        members: list[list[int]] = []
        for i in order:
            at = spans[i]
            last = requests[-1] if requests else None
            if gap and last is not None and last.key == at.key and at.start - int(last.end or 0) <= gap:
                requests[-1] = ByteRange(
                    at.key, last.start, max(int(last.end or 0), at.end), whole_size=at.size
                )
                members[-1].append(i)
            else:
                requests.append(ByteRange(at.key, at.start, at.end, whole_size=at.size))
                members.append([i])
        out: list[bytes] = [b""] * len(spans)
        for request, group, reply in zip(requests, members, self.store.read_ranges(requests)):
            data = _same_version(reply, spans[group[0]].version, request.key)
            if len(data) != int(request.end or 0) - request.start:
                raise ShardError(
                    f"{self.store.describe(request.key)} is truncated: its index points past its end; "
                    "rewrite or delete it"
                )
            view = memoryview(data)
            for i in group:
                at = spans[i]
                whole = (at.start, at.end) == (request.start, request.end)
                out[i] = data if whole else bytes(view[at.start - request.start : at.end - request.start])
        return out

    def _fetch(
        self, ids: Sequence[int], located: list[Located | None], limits: list[int | None]
    ) -> list[bytes | None]:
        """The data of located ids (from their shards, or from shards read whole), decoded."""
        out: list[bytes | None] = [None] * len(ids)
        ranged = [i for i, at in enumerate(located) if at is not None and at.data is None]
        parts = self.read_spans([located[i] for i in ranged])  # type: ignore[misc]
        found = dict(zip(ranged, parts))
        for i, at in enumerate(located):
            if at is None:
                continue
            part = at.data if at.data is not None else found[i]
            where = f"{self.store.describe(at.key)} (item {ids[i]})"
            out[i] = decode(part, self.spec.data_encoding, where=where, limit=limits[i])
        return out

    # --- whole shards (writes) --------------------------------------------------------

    def opened(self, key: str, stored: StoredObject) -> dict[int, bytes]:
        """Every item of a whole stored shard, by id, still in its ``data_encoding``."""
        data = opened_bytes(self.store, stored, self.store.describe(key))
        return split_shard(data, self.spec, where=stored.source or self.store.describe(key))
