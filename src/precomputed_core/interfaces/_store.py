"""``Store``: a key-value view of one layer's directory, batched by design."""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from ..exceptions import CompressedRangeError, FeatureUnavailableError, ReadOnlyError, StorageError
from ._object_locks import object_lock

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from types import TracebackType

    from typing_extensions import Self

    from ..meta import CloudPath

__all__ = ["ByteRange", "ObjectMetadata", "RangeRead", "Store", "StoredObject", "Update"]


@dataclass(frozen=True, slots=True)
class ObjectMetadata:
    """What a store records with an object, as HTTP headers do."""

    content_type: str = "application/octet-stream"
    """The object's ``Content-Type``."""
    content_encoding: str | None = None
    """The transfer compression of the bytes handed to ``put`` (``"gzip"``, ``"br"``, ``"zstd"``
    or None); stores give the decompressed bytes back from ``get``."""
    cache_control: str | None = None
    """The ``Cache-Control`` header to serve the object with (None: none)."""


DEFAULT_METADATA = ObjectMetadata()


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``[start, end)`` of the object ``key``, as stored (like ``data[start:end]``).

    ``end=None`` reads to the end; a negative ``start`` with ``end=None`` is a suffix
    range, the last ``-start`` bytes (HTTP's ``bytes=-N``). A range reaching past
    the end of the object is cut short there, as slicing is.

    ``whole_size`` makes the read conditional: if the object is not exactly that
    many bytes long, or is stored with a transfer compression, the result is None
    and the caller reads the object whole (which finds compressed variants and
    reports wrong sizes). Without it, ranges of a compressed object are an error:
    the bytes would mean nothing.

    >>> ByteRange("4_4_40/0-64_0-64_0-64", 0, 1024)
    ByteRange(key='4_4_40/0-64_0-64_0-64', start=0, end=1024, whole_size=None)
    >>> ByteRange("shard", -16).http_range
    'bytes=-16'
    """

    key: str
    """The object's key."""
    start: int = 0
    """The first byte's offset; negative for a suffix range."""
    end: int | None = None
    """The offset just past the last byte; None for the end of the object."""
    whole_size: int | None = None
    """The object's expected size in bytes, which makes the read conditional; None reads unconditionally."""

    def __post_init__(self) -> None:
        if self.start < 0 and self.end is not None:
            raise ValueError(f"a suffix range (start {self.start}) has no end; got end={self.end}")
        if self.end is not None and self.end < 0:
            raise ValueError(f"a byte range ends at a non-negative offset, got end={self.end}")

    @property
    def empty(self) -> bool:
        """Whether the range selects no bytes of any object (``start >= end >= 0``)."""
        return self.end is not None and self.end <= self.start

    @property
    def http_range(self) -> str:
        """The HTTP ``Range`` header value (not for ``empty`` ranges)."""
        if self.start < 0:
            return f"bytes={self.start}"
        return f"bytes={self.start}-" + ("" if self.end is None else str(self.end - 1))

    def cut(self, data: bytes) -> bytes:
        """This range of a whole object's ``data``."""
        return data[self.start :] if self.end is None else data[self.start : self.end]


class RangeRead(NamedTuple):
    """The bytes of a range, with the whole object's size and version as stored."""

    data: bytes
    """The range's bytes."""
    whole_size: int | None
    """The size in bytes of the whole object as stored; None where the store cannot tell."""
    version: str | None = None
    """A name for the object's contents (an ETag, a GCS generation, a file's inode and
    modification time): two reads with the same version saw the same bytes. None where
    the store cannot tell."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object exactly as stored: its bytes (still compressed if they were) and their metadata."""

    data: bytes
    """The bytes as stored: compressed as ``metadata.content_encoding`` says."""
    metadata: ObjectMetadata = DEFAULT_METADATA
    """What the store recorded with the object."""
    source: str | None = field(default=None, compare=False)
    """Where the bytes were found, when that is not the key's own path (a ``.gz`` file on
    local disk), for messages; not compared."""


Update = Callable[[StoredObject | None], StoredObject | None]
"""What ``Store.update_many`` makes of an object: the stored one (or None) to the new one,
or to None to remove it (a shard whose last chunk was deleted)."""


class Store(ABC):
    """Objects of one layer, addressed by ``/``-separated keys relative to the layer.

    Keys look like ``"info"`` or ``"4_4_40/0-64_0-64_0-64"``; a scale key may
    contain ``..`` (the spec allows paths relative to the info's directory).
    A missing object is ``None``; only "not found" is missing: a refusal, a
    timeout or corrupt compressed bytes raise and never become zeros.

    Subclasses implement ``get``/``put``/``delete``/``exists``/``list`` and
    override the ``*_many`` methods when they can batch.
    """

    io_threads: int = 8
    """Concurrent operations worth running against this store from one process."""
    batch_size: int = 1
    """Objects per ``get_many``/``put_many`` call the pipeline makes from one thread;
    stores that batch requests (one round trip for many keys) raise it."""
    read_gap: int = 0
    """Unwanted bytes worth reading to save a request: ranges of one object closer than
    this are read as one (0: never merge; a local read costs no more than a copy)."""
    holds_gil: bool = True
    """Whether a request costs this process's Python time while it waits or moves bytes.

    True for an HTTP client in Python: then one process's threads cannot overlap
    requests, and ``parallel`` worker processes can. False for stores whose calls
    release the GIL (local files). Unknown stores are assumed to hold it.
    """

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> Self:
        """Open the store of the layer at ``path`` (the driver entry point)."""
        raise FeatureUnavailableError(f"{cls.__name__} cannot be opened from a cloud path")

    @property
    @abstractmethod
    def url(self) -> str:
        """The cloud path of the layer this store serves."""

    @property
    def supports_writes(self) -> bool:
        """Whether ``put`` stores objects; False for read-only stores (default True)."""
        return True

    @property
    def supports_deletes(self) -> bool:
        """Whether ``delete`` removes objects (default: as ``supports_writes``)."""
        return self.supports_writes

    @property
    def supports_ranges(self) -> bool:
        """Whether ``get_ranges`` issues real range requests (the default reads whole objects)."""
        return False

    @property
    def stores_metadata(self) -> bool:
        """Whether ``Content-Type`` and ``Cache-Control`` are kept with each object.

        Cloud stores keep them; local files and memory keep only the content
        encoding (as a ``.gz``/``.br``/``.zstd`` suffix).
        """
        return False

    @property
    def shared_between_processes(self) -> bool:
        """Whether another process opening the same path sees these objects (False for in-memory)."""
        return True

    def describe(self, key: str) -> str:
        """The full cloud path of ``key`` (for messages)."""
        return f"{self.url}/{key}"

    # --- the small abstract surface ----------------------------------------

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The (decompressed) bytes of ``key``, or None if there is no such object."""

    @abstractmethod
    def put(self, key: str, value: bytes, *, metadata: ObjectMetadata = DEFAULT_METADATA) -> None:
        """Store ``value`` (already compressed as ``metadata.content_encoding`` says)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``."""

    def list_sizes(self, prefix: str = "") -> dict[str, int]:
        """Each key starting with ``prefix``, with the size of its object as stored (the
        compressed bytes of a compressed object), for resumable copies. This default reads
        every object, a batch at a time so that only a batch is held; stores that
        list sizes override it."""
        keys = list(self.list(prefix))
        sizes: dict[str, int] = {}
        step = max(1, self.batch_size)
        for start in range(0, len(keys), step):
            found = self.get_stored_many(keys[start : start + step])
            sizes.update((key, len(stored.data)) for key, stored in found.items() if stored is not None)
        return sizes

    # --- byte ranges and stored bytes ----------------------------------------------

    def get_ranges(self, ranges: Sequence[ByteRange]) -> builtins.list[bytes | None]:
        """The bytes of each range, in order; None where the object does not exist.

        The bytes of ``read_ranges``, which is what a store overrides.
        """
        return [None if part is None else part.data for part in self.read_ranges(ranges)]

    def read_ranges(self, ranges: Sequence[ByteRange]) -> builtins.list[RangeRead | None]:
        """Each range's bytes with the object's whole size and version (see ``RangeRead``).

        A reader that keeps an index of an object (a shard's) checks with them that the
        object has not been rewritten since. Stores that serve ranges (``supports_ranges``)
        override this with real range requests, issued concurrently; this default reads
        each object whole, once, and names its version by a checksum.
        """
        objects = self.get_stored_many(dict.fromkeys(r.key for r in ranges))
        versions = {key: None if o is None else f"crc32:{zlib.crc32(o.data)}" for key, o in objects.items()}
        reads: builtins.list[RangeRead | None] = []
        for request in ranges:
            found = objects[request.key]
            data = self.cut_range(request, found)
            reads.append(
                None
                if data is None or found is None
                else RangeRead(data, len(found.data), versions[request.key])
            )
        return reads

    def get_range(
        self, key: str, start: int, end: int | None, *, whole_size: int | None = None
    ) -> bytes | None:
        """One byte range (see ``ByteRange``); ``get_ranges`` batches them."""
        return self.get_ranges([ByteRange(key, start, end, whole_size)])[0]

    def get_stored(self, key: str) -> StoredObject | None:
        """``key``'s bytes as stored, with their metadata; None if there is no such object."""
        return self.get_stored_many([key])[key]

    def get_stored_many(self, keys: Iterable[str]) -> dict[str, StoredObject | None]:
        """``get_stored`` for many keys. Stores that know how objects are stored override it;
        this default gives the decompressed bytes, with plain metadata."""
        found = self.get_many(keys)
        return {key: None if data is None else StoredObject(data) for key, data in found.items()}

    def put_stored_many(self, items: Mapping[str, StoredObject]) -> None:
        """Store objects as they are, each with its own metadata (a byte-for-byte copy)."""
        by_metadata: dict[ObjectMetadata, dict[str, bytes]] = {}
        for key, item in items.items():
            by_metadata.setdefault(item.metadata, {})[key] = item.data
        for metadata, group in by_metadata.items():
            self.put_many(group, metadata=metadata)

    def update_many(self, updates: Mapping[str, Update]) -> None:
        """Replace each object by what its update makes of it, losing no concurrent update.

        An update is given the object as stored (None if it is missing) and returns
        the new one, or None to remove it. It may be called more than once, with a newer object each time,
        when another writer changed the object in between, so it must have no side
        effects. This default serialises the updates of each object within this
        process (``object_lock``), which is all a store that no other process
        sees needs; stores that processes share override it with a file lock or
        conditional writes.
        """
        self.require_writes()
        for key, update in updates.items():
            with object_lock(self.url, key):
                found = self.get_stored(key)
                new = update(found)
                if new is not None:
                    self.put(key, new.data, metadata=new.metadata)
                elif found is not None:
                    self.delete(key)

    def revalidate(self, keys: Iterable[str]) -> None:  # noqa: B027 - most stores keep no copies
        """Make the next reads of ``keys`` ask storage itself (a caching store drops its copies)."""

    def close(self) -> None:  # noqa: B027 - most stores hold nothing to close
        """Release connections or handles."""

    # --- batched defaults ----------------------------------------------------

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """``get`` for many keys: ``{key: bytes, or None if missing}``; this default gets each in turn."""
        return {key: self.get(key) for key in keys}

    def put_many(self, items: Mapping[str, bytes], *, metadata: ObjectMetadata = DEFAULT_METADATA) -> None:
        """``put`` ``{key: bytes}``, all with ``metadata``; this default puts each in turn."""
        for key, value in items.items():
            self.put(key, value, metadata=metadata)

    def delete_many(self, keys: Iterable[str]) -> None:
        """``delete`` many keys (missing ones are not an error); this default deletes each in turn."""
        for key in keys:
            self.delete(key)

    def exists_many(self, keys: Iterable[str]) -> dict[str, bool]:
        """``exists`` for many keys: ``{key: bool}``; this default asks for each in turn."""
        return {key: self.exists(key) for key in keys}

    # --- helpers for subclasses ------------------------------------------------

    def require_writes(self, action: str = "write") -> None:
        """Raise ``ReadOnlyError`` (it cannot ``action``) if ``supports_writes`` is False."""
        if not self.supports_writes:
            raise ReadOnlyError(f"{self.url} is read-only; cannot {action}. Use a writable location")

    def cut_range(self, request: ByteRange, found: StoredObject | None) -> bytes | None:
        """The answer to ``request`` from the whole stored object ``found`` (None if missing).

        Applies the rules of ``ByteRange``: a conditional request (``whole_size``)
        gets None for an object of another size or one stored compressed; an
        unconditional one of a compressed object raises.
        """
        if found is None:
            return None
        encoding = found.metadata.content_encoding
        if encoding is not None:
            if request.whole_size is not None:
                return None
            self.refuse_compressed_range(request.key, encoding)
        if request.whole_size is not None and len(found.data) != request.whole_size:
            return None
        return request.cut(found.data)

    def refuse_empty(self, where: str) -> NoReturn:
        """Raise: the object at ``where`` exists but came back empty (no layer object is empty)."""
        raise StorageError(
            f"{where} came back empty although it exists; an empty object is never a chunk of "
            "zeros (a proxy or server fault, or a damaged file). Rewrite or delete it"
        )

    def refuse_compressed_range(self, key: str, encoding: str) -> NoReturn:
        """Raise: ``key`` is stored with transfer compression, so its byte ranges mean nothing."""
        raise CompressedRangeError(
            f"{self.describe(key)} is stored {encoding}-compressed, so its byte ranges mean nothing; "
            "objects read by range (such as shard files) must be stored uncompressed: rewrite it "
            "without compression"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
