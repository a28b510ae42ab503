"""``RemoteStore``: the batching, retrying, decompressing half of every object-store driver.

A driver supplies a few coroutines on its fsspec file system (fetch, store, remove,
head); this class runs a batch of them concurrently on fsspec's event loop, retries
transient failures (``_retry``), decompresses by the object's ``Content-Encoding``
and turns every failure into an error that names the object.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import os
import posixpath
import random
import threading
import time
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from precomputed_core import ObjectMetadata, RangeRead, Store, StoredObject, decompress_bytes, object_locks
from precomputed_core.exceptions import (
    FeatureUnavailableError,
    PermissionDeniedError,
    PrecomputedError,
    StorageError,
)

from ._ranges import RangeReply, answer_read
from ._retry import RetryPolicy, WriteConflict, http_status, retrying, storage_error

if TYPE_CHECKING:
    from collections.abc import (
        Awaitable,
        Callable,
        Coroutine,
        Hashable,
        Iterable,
        Iterator,
        Mapping,
        Sequence,
    )

    from precomputed_core import ByteRange, Update

_DEFAULT_TYPE = ObjectMetadata().content_type

__all__ = ["ALWAYS", "Condition", "Fetched", "RemoteStore", "metadata_of"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

_ENCODINGS = ("gzip", "br", "zstd")
_PLAIN = ObjectMetadata()


def content_encoding(header: str | None) -> str | None:
    """The compression a ``Content-Encoding`` header names (None for identity/none)."""
    for token in (header or "").replace(" ", "").lower().split(","):
        if token in _ENCODINGS:
            return token
        if token == "x-gzip":
            return "gzip"
    return None


#: The names of (Content-Type, Content-Encoding, Cache-Control) in HTTP headers.
HTTP_HEADERS = ("Content-Type", "Content-Encoding", "Cache-Control")


def metadata_of(headers: Mapping[str, Any], names: tuple[str, str, str] = HTTP_HEADERS) -> ObjectMetadata:
    """An object's metadata from the headers of a response that served it (``names`` spell them)."""
    kind, encoding, cache = (headers.get(name) for name in names)
    return ObjectMetadata(
        content_type=kind or _DEFAULT_TYPE,
        content_encoding=content_encoding(encoding),
        cache_control=cache or None,
    )


def client_timeout(policy: RetryPolicy) -> Any:
    """aiohttp's timeouts for one attempt: ``policy.timeout`` to connect and between reads.

    No total per attempt: a large object that keeps arriving is not hung; ``policy.total``
    bounds the whole request.
    """
    import aiohttp

    return aiohttp.ClientTimeout(total=None, sock_connect=policy.timeout, sock_read=policy.timeout)


def _forget_the_parents_event_loop() -> None:
    # fsspec's shared event loop runs in a thread that a forked child does not have. Recent
    # fsspec forgets it at fork itself; this does the same for the older ones we support.
    with contextlib.suppress(Exception):
        from fsspec.asyn import reset_lock

        reset_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_parents_event_loop)


#: File systems by configuration, each with the process that opened it (a fork opens anew).
_FILESYSTEMS: dict[Hashable, tuple[int, Any]] = {}
_FILESYSTEMS_LOCK = threading.Lock()
_FILESYSTEMS_KEPT = 16


def shared_fs(key: Hashable, open_fs: Callable[[], Any]) -> Any:
    """One file system per configuration ``key`` in this process, opened by ``open_fs``.

    Stores of one bucket opened again and again (every ``parallel`` call opens the layer
    afresh in each worker) then share a client and its connections: opening an S3 client
    costs about 0.15 s of CPU, as much as a hundred requests. ``key`` holds everything
    ``open_fs`` depends on, credentials and the environment it reads included.
    """
    with _FILESYSTEMS_LOCK:
        found = _FILESYSTEMS.get(key)
        if found is None or found[0] != os.getpid():
            found = _FILESYSTEMS[key] = (os.getpid(), open_fs())
            while len(_FILESYSTEMS) > _FILESYSTEMS_KEPT:
                del _FILESYSTEMS[next(iter(_FILESYSTEMS))]
        return found[1]


def environment_key(*names: str) -> tuple[str | None, ...]:
    """The values of the environment variables a client reads when it opens (for a ``shared_fs`` key)."""
    return tuple(os.environ.get(name) for name in names)


class Fetched(NamedTuple):
    """An object as a GET returned it: its bytes as stored, their metadata, and its version
    (S3's ETag, GCS's generation), which a conditional write names."""

    data: bytes
    metadata: ObjectMetadata
    version: str | None = None


class _Always(enum.Enum):
    ALWAYS = "always"


#: A write with no condition.
ALWAYS = _Always.ALWAYS
#: What a write requires: ALWAYS nothing, a version the object must still have, or None:
#: that the object must not exist yet.
Condition = _Always | str | None


class RemoteStore(Store):
    """Objects under ``root`` (``bucket/prefix``) of an fsspec async file system."""

    io_threads = 4
    #: Every key of a batch is requested at once; ``io_threads`` batches run together.
    batch_size = 32
    #: A request costs a round trip; 256 KiB more of a reply costs less.
    read_gap = 256 * 2**10
    policy = RetryPolicy()
    #: Requests in flight at once per call (exists/delete of a large box pass every chunk).
    concurrency = 64

    #: Reads of an object that another writer changes again each time, before an update gives up.
    update_attempts = 20

    def __init__(
        self,
        open_fs: Callable[[], Any],
        root: str,
        url: str,
        *,
        read_only: bool = False,
        credentials: str = "",
        policy: RetryPolicy | None = None,
        fs_key: Hashable | None = None,
    ) -> None:
        if fs_key is not None:  # shared with the other stores of the same configuration
            opener = open_fs
            open_fs = functools.partial(shared_fs, fs_key, opener)
        self._open_fs, self._root, self._url = open_fs, root.strip("/"), url.rstrip("/")
        self._fs_of: tuple[int, Any] = (os.getpid(), open_fs())
        self._read_only = read_only
        #: How the credentials were chosen, for "access denied" messages (never the secrets).
        self.credentials = credentials
        if credentials:
            _log.info("%s: credentials %s", self._url, credentials)
        if policy is not None:
            self.policy = policy

    @property
    def _fs(self) -> Any:
        """This process's file system: a child forked from the process that opened the store
        opens its own (fsspec's event loop and connections do not survive a fork)."""
        pid, fs = self._fs_of
        if pid != os.getpid():
            self._fs_of = pid, fs = os.getpid(), self._open_fs()
        return fs

    @property
    def url(self) -> str:
        return self._url

    @property
    def supports_writes(self) -> bool:
        return not self._read_only

    def object_path(self, key: str) -> str:
        path = f"{self._root}/{key}"
        return posixpath.normpath(path) if ".." in key or "//" in key else path

    def key_of(self, path: str) -> str:
        return path.strip("/")[len(self._root) + 1 :]

    # --- what a driver provides ----------------------------------------------

    @property
    def supports_ranges(self) -> bool:
        return True

    @property
    def stores_metadata(self) -> bool:
        return True

    @abstractmethod
    async def fetch(self, path: str) -> Fetched:
        """The object as stored; FileNotFoundError if missing.

        A driver checks the bytes against any checksum the response carries
        (``precomputed_drivers._checksums.verify``), so a damaged transfer is retried.
        """

    @abstractmethod
    async def fetch_range(self, path: str, header: str) -> RangeReply:
        """A GET with ``Range: header``; FileNotFoundError if missing (a 416 may raise as any error)."""

    async def store(
        self, path: str, value: bytes, metadata: ObjectMetadata, condition: Condition = ALWAYS
    ) -> None:
        """Write the object; with a ``condition``, only if it still holds (else a 412 error)."""
        raise FeatureUnavailableError(f"{type(self).__name__} cannot write")

    async def remove(self, path: str, condition: Condition = ALWAYS) -> None:
        """Delete the object; with a ``condition`` (a version), only if it is still that version."""
        raise FeatureUnavailableError(f"{type(self).__name__} cannot delete")

    @abstractmethod
    async def head(self, path: str) -> None:
        """Return if the object exists; FileNotFoundError if it does not."""

    @abstractmethod
    def find(self, prefix_path: str) -> dict[str, int]:
        """Full object paths under ``prefix_path`` and their sizes (a plain call; errors become
        ``StorageError``)."""

    # --- running coroutines ----------------------------------------------------

    def _sync(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        from fsspec.asyn import sync

        async def run() -> T:
            return await factory()

        return sync(self._fs.loop, run)  # type: ignore[no-any-return]

    async def _each(self, items: list[Any], operation: Callable[[Any], Awaitable[T]]) -> list[T]:
        """``operation`` on every item, ``concurrency`` at once; the first error is raised after all end."""
        gate = asyncio.Semaphore(self.concurrency)

        async def gated(item: Any) -> T:
            async with gate:
                return await operation(item)

        results = await asyncio.gather(*(gated(item) for item in items), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results  # type: ignore[return-value]

    def _denied(self, err: StorageError) -> StorageError:
        if isinstance(err, PermissionDeniedError) and self.credentials:
            return PermissionDeniedError(f"{err}. Credentials: {self.credentials}")
        return err

    # --- Store -------------------------------------------------------------------

    async def _attempt(self, operation: Callable[[str], Awaitable[T]], action: str, key: str) -> T:
        """``operation`` on ``key``'s object path, retried; FileNotFoundError passes through."""
        try:
            path, where = self.object_path(key), self.describe(key)
            return await retrying(lambda: operation(path), self.policy, action, where)
        except StorageError as err:
            raise self._denied(err) from err.__cause__

    async def _fetched(self, key: str) -> Fetched | None:
        try:
            return await self._attempt(self.fetch, "read", key)
        except FileNotFoundError:
            return None

    async def _get_stored(self, key: str) -> StoredObject | None:
        found = await self._fetched(key)
        return None if found is None else StoredObject(bytes(found.data), found.metadata)

    async def _get(self, key: str) -> bytes | None:
        stored = await self._get_stored(key)
        if stored is None:
            return None
        where = self.describe(key)
        if not stored.data:
            self.refuse_empty(where)
        return decompress_bytes(stored.data, stored.metadata.content_encoding, where=where)

    def get(self, key: str) -> bytes | None:
        return self.get_many([key])[key]

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(keys)
        values = self._sync(lambda: self._each(keys, self._get))
        return dict(zip(keys, values))

    def get_stored_many(self, keys: Iterable[str]) -> dict[str, StoredObject | None]:
        keys = list(keys)
        return dict(zip(keys, self._sync(lambda: self._each(keys, self._get_stored))))

    async def _fetch_range(self, path: str, header: str) -> RangeReply:
        try:
            return await self.fetch_range(path, header)
        except Exception as err:
            if http_status(err) == 416:  # the range starts past the end: a reply, not a failure
                return RangeReply(416, b"")
            raise

    async def _range(self, request: ByteRange) -> RangeRead | None:
        if request.empty:  # no Range header can say "no bytes": only whether the object exists
            return RangeRead(b"", None) if await self._exists(request.key) else None
        try:
            reply = await self._attempt(
                lambda p: self._fetch_range(p, request.http_range), "read", request.key
            )
        except FileNotFoundError:
            return None
        return answer_read(self, request, reply)

    def read_ranges(self, ranges: Sequence[ByteRange]) -> list[RangeRead | None]:
        """Each range with its own ranged GET, all of them concurrently (``concurrency`` at once)."""
        requests = list(ranges)
        return self._sync(lambda: self._each(requests, self._range))

    async def _put(
        self, key: str, value: bytes, metadata: ObjectMetadata, condition: Condition = ALWAYS
    ) -> None:
        await self._attempt(lambda path: self.store(path, value, metadata, condition), "write", key)

    def update_many(self, updates: Mapping[str, Update]) -> None:
        """Each update as a write conditional on the version it read; conflicts read again.

        The objects' locks keep this process's threads from conflicting with each other;
        the condition (S3 ``If-Match``/``If-None-Match``, GCS ``ifGenerationMatch``)
        catches other processes and machines. The reads of a batch go out at once, the
        updates run in this thread (decoding must not stall the event loop), then the
        writes go out at once; only the objects whose write met a conflict go round again.
        """
        self.require_writes()
        pending = dict(updates)
        with object_locks(self.url, pending):
            for attempt in range(self.update_attempts):
                keys = list(pending)
                found = self._sync(functools.partial(self._each, keys, self._fetched))
                writes = [self._updated(key, pending[key], fetched) for key, fetched in zip(keys, found)]
                outcomes = self._sync(functools.partial(self._each, writes, self._conditional_put))
                pending = {key: pending[key] for (key, _, _), lost in zip(writes, outcomes) if lost}
                if not pending:
                    return
                time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
        raise StorageError(
            f"cannot update {self.describe(next(iter(pending)))}: other writers changed it each time "
            f"it was read, {self.update_attempts} times in a row; write fewer overlapping non-aligned "
            "boxes at once, or align them to the chunk grid"
        )

    def _updated(
        self, key: str, update: Update, found: Fetched | None
    ) -> tuple[str, StoredObject | None, Condition]:
        """The new object for ``key`` (None: remove it), and the condition its write needs."""
        if found is None:
            return key, update(None), None
        if found.version is None:
            raise StorageError(
                f"cannot update {self.describe(key)}: the service sent no version of it (ETag or "
                "generation), so a write cannot be made conditional on what was read; write "
                "chunk-aligned boxes instead"
            )
        return key, update(StoredObject(bytes(found.data), found.metadata)), found.version

    async def _conditional_put(self, write: tuple[str, StoredObject | None, Condition]) -> bool:
        """Write (or remove) if the condition holds; True if it did not (another writer got there first)."""
        key, new, condition = write
        try:
            if new is None:
                if condition is not None:  # a missing object is already removed
                    await self._attempt(lambda path: self.remove(path, condition), "delete", key)
                return False
            await self._put(key, new.data, new.metadata, condition)
        except WriteConflict:
            return True
        except FileNotFoundError as err:
            if condition is None:  # creating an object cannot find it missing: the bucket is
                raise StorageError(
                    f"cannot write {self.describe(key)}: the service answers 404 to an upload; "
                    "the bucket does not exist or is not reachable under this name"
                ) from err
            return True  # deleted since it was read
        except StorageError as err:
            if http_status(err) == 501:
                raise StorageError(
                    f"cannot update {self.describe(key)}: the service does not support conditional "
                    "writes (If-Match), which non-aligned writes need so that concurrent writers "
                    "keep their voxels; write chunk-aligned boxes, or use a service that supports them"
                ) from err
            raise
        return False

    def put(self, key: str, value: bytes, *, metadata: ObjectMetadata = _PLAIN) -> None:
        self.put_many({key: value}, metadata=metadata)

    def put_many(self, items: Mapping[str, bytes], *, metadata: ObjectMetadata = _PLAIN) -> None:
        self.require_writes()
        pairs = list(items.items())
        self._sync(lambda: self._each(pairs, lambda pair: self._put(pair[0], pair[1], metadata)))

    async def _delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # deleting a missing key is not an error
            await self._attempt(self.remove, "delete", key)

    def delete(self, key: str) -> None:
        self.delete_many([key])

    def delete_many(self, keys: Iterable[str]) -> None:
        self.require_writes("delete")
        keys = list(keys)
        self._sync(lambda: self._each(keys, self._delete))

    async def _exists(self, key: str) -> bool:
        try:
            await self._attempt(self.head, "look up", key)
        except FileNotFoundError:
            return False
        return True

    def exists(self, key: str) -> bool:
        return self.exists_many([key])[key]

    def exists_many(self, keys: Iterable[str]) -> dict[str, bool]:
        keys = list(keys)
        return dict(zip(keys, self._sync(lambda: self._each(keys, self._exists))))

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(sorted(self.list_sizes(prefix)))

    def list_sizes(self, prefix: str = "") -> dict[str, int]:
        base = self.object_path(prefix) if prefix else self._root
        folder = base if prefix.endswith("/") or not prefix else posixpath.dirname(base)
        try:
            found = self.find(folder)
        except FileNotFoundError:
            return {}
        except PrecomputedError:
            raise
        except Exception as err:
            raise self._denied(storage_error(err, "list", self.describe(prefix))) from err
        sizes = {self.key_of(path): int(size) for path, size in found.items()}
        return {key: sizes[key] for key in sorted(sizes) if key.startswith(prefix)}
