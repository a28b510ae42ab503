"""``CachedStore``: any ``Store`` read through, and written through, a local disk cache.

The one place the cache meets storage: chunks, shard files, meshes, skeletons,
the info and the provenance all pass through a layer's ``Store``, so wrapping it
caches each of them for every driver, in this process and in ``parallel``
workers, with no other part of the library knowing. Turned off
(``settings.enabled``), every call goes straight to the wrapped store, except that a
volume that used the cache still drops cached copies of the objects it changes, so
turning the cache back on never serves what this volume itself replaced.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ..exceptions import PrecomputedError
from ..format import compress_bytes, decompress_bytes
from ..interfaces import ObjectMetadata, Store, StoredObject
from ..interfaces._store import DEFAULT_METADATA
from ._files import CacheFiles

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from ..interfaces import ByteRange, RangeRead, Update
    from ._settings import CacheSettings

__all__ = ["CachedStore"]


class CachedStore(Store):
    """``store`` behind the disk cache described by ``settings`` (shared with ``vol.cache``).

    Reads look in the cache first and keep what they fetch, as fetched (or as
    ``settings.compress`` asks); writes go to storage first, then to the cache.
    What the cache holds is trusted until flushed, as cloud-volume's is, except a
    copy whose checksum fails, which is dropped and fetched again. The wrapped
    store's batching and concurrency settings, and any attribute of its own,
    are the ones this store shows.
    """

    def __init__(self, store: Store, settings: CacheSettings) -> None:
        self.inner = store
        self.settings = settings
        self.io_threads = store.io_threads
        self.batch_size = store.batch_size
        self.read_gap = store.read_gap
        self.holds_gil = store.holds_gil
        self._files: CacheFiles | None = None
        self._warned = False
        self._used = False

    def __getattr__(self, name: str) -> Any:
        # Driver-specific attributes (an endpoint, the credentials' source) stay visible.
        if name.startswith("__") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # --- what the wrapped store says ------------------------------------------------

    @property
    def url(self) -> str:
        return self.inner.url

    @property
    def supports_writes(self) -> bool:
        return self.inner.supports_writes

    @property
    def supports_deletes(self) -> bool:
        return self.inner.supports_deletes

    @property
    def supports_ranges(self) -> bool:
        # With the cache on, a cutout that covers part of a chunk reads the whole chunk, so
        # the cache holds it whole for the next cutout (shard files are still read by range).
        return self.inner.supports_ranges and not self.settings.enabled

    @property
    def stores_metadata(self) -> bool:
        return self.inner.stores_metadata

    @property
    def shared_between_processes(self) -> bool:
        return self.inner.shared_between_processes

    def describe(self, key: str) -> str:
        return self.inner.describe(key)

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        state = f"cache at {self.settings.path!r}" if self.settings.enabled else "cache off"
        return f"CachedStore({self.inner!r}, {state})"

    # --- the cache ------------------------------------------------------------------

    @property
    def files(self) -> CacheFiles:
        """The cache directory's files (the path may have been changed since the last call)."""
        files = self._files
        if files is None or files.root != self.settings.path:
            files = self._files = CacheFiles(self.settings.path)
        return files

    def _active(self) -> CacheFiles | None:
        if not self.settings.enabled:
            return None
        self._used = True
        return self.files

    def _present(self) -> CacheFiles | None:
        """The cache's files, to keep in step with a write: when on, or off after this volume
        used it. A volume that never used it leaves it alone, so a plain writer elsewhere is
        "behind the back" of the caches of the layer, as in cloud-volume."""
        if self.settings.enabled:
            return self._active()
        return self.files if self._used and self.files.exists() else None

    def _as_kept(self, key: str, stored: StoredObject) -> StoredObject:
        """``stored`` as the cache keeps it: as fetched, or (de)compressed as ``compress`` asks."""
        compress, encoding = self.settings.compress, stored.metadata.content_encoding
        if compress is None or (compress is True and encoding is not None):
            return stored
        if compress is False:
            if encoding is None:
                return stored
            data = decompress_bytes(stored.data, encoding, where=self.describe(key))
            return StoredObject(data, _with_encoding(stored.metadata, None))
        return StoredObject(compress_bytes(stored.data, "gzip"), _with_encoding(stored.metadata, "gzip"))

    def _keep(self, files: CacheFiles, items: Mapping[str, StoredObject]) -> None:
        added = 0
        for key, stored in items.items():
            try:
                kept = self._as_kept(key, stored)
            except PrecomputedError:  # bytes the reader will refuse: nothing worth keeping
                files.drop(key)
                continue
            written = files.put(key, kept)
            if not written:
                self._warn_unwritable(files)
            added += written
        files.added(added, self.settings.max_bytes)

    def _warn_unwritable(self, files: CacheFiles) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"cannot write to the cache at {files.root} (full, read-only or replaced by a file); "
                "reads and writes go on without caching: free space, fix the permissions or set "
                "vol.cache.path",
                RuntimeWarning,
                stacklevel=4,
            )

    def revalidate(self, keys: Iterable[str]) -> None:
        files = self._present()
        if files is not None:
            for key in keys:
                files.drop(key)

    # --- reads -----------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        return self.get_many([key])[key]

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        if not self.settings.enabled:
            return self.inner.get_many(keys)
        out: dict[str, bytes | None] = {}
        for key, stored in self.get_stored_many(keys).items():
            if stored is None or stored.metadata.content_encoding is None:
                out[key] = None if stored is None else stored.data
            else:
                where = stored.source or self.describe(key)
                out[key] = decompress_bytes(stored.data, stored.metadata.content_encoding, where=where)
        return out

    def get_stored_many(self, keys: Iterable[str]) -> dict[str, StoredObject | None]:
        files = self._active()
        if files is None:
            return self.inner.get_stored_many(keys)
        out: dict[str, StoredObject | None] = {key: files.get(key) for key in keys}
        missing = [key for key, found in out.items() if found is None]
        if missing:
            fetched = self.inner.get_stored_many(missing)
            self._keep(files, {key: found for key, found in fetched.items() if found is not None})
            out.update(fetched)
        return out

    def get_ranges(self, ranges: Sequence[ByteRange]) -> builtins.list[bytes | None]:
        if not self.settings.enabled:
            return self.inner.get_ranges(ranges)
        return super().get_ranges(ranges)

    def read_ranges(self, ranges: Sequence[ByteRange]) -> builtins.list[RangeRead | None]:
        files = self._active()
        if files is None:
            return self.inner.read_ranges(ranges)
        if not self.inner.supports_ranges:
            return super().read_ranges(ranges)  # whole objects, through this cache
        out: list[RangeRead | None] = [files.get_range(request) for request in ranges]
        missing = [i for i, found in enumerate(out) if found is None]
        if missing:
            fetched = self.inner.read_ranges([ranges[i] for i in missing])
            added = 0
            for i, read in zip(missing, fetched):
                out[i] = read
                if read is not None and read.data:
                    added += files.put_range(ranges[i], read)
            files.added(added, self.settings.max_bytes)
        return out

    def exists(self, key: str) -> bool:
        return self.exists_many([key])[key]

    def exists_many(self, keys: Iterable[str]) -> dict[str, bool]:
        files = self._active()
        if files is None:
            return self.inner.exists_many(keys)
        out = {key: files.has(key) for key in keys}
        unknown = [key for key, cached in out.items() if not cached]
        if unknown:
            out.update(self.inner.exists_many(unknown))
        return out

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def list_sizes(self, prefix: str = "") -> dict[str, int]:
        return self.inner.list_sizes(prefix)

    # --- writes: storage first, then the cache ------------------------------------------

    def put(self, key: str, value: bytes, *, metadata: ObjectMetadata = DEFAULT_METADATA) -> None:
        self.put_many({key: value}, metadata=metadata)

    def put_many(self, items: Mapping[str, bytes], *, metadata: ObjectMetadata = DEFAULT_METADATA) -> None:
        self.inner.put_many(items, metadata=metadata)
        self._written({key: StoredObject(value, metadata) for key, value in items.items()})

    def put_stored_many(self, items: Mapping[str, StoredObject]) -> None:
        self.inner.put_stored_many(items)
        self._written(items)

    def update_many(self, updates: Mapping[str, Update]) -> None:
        results: dict[str, StoredObject | None] = {}

        def recording(key: str, update: Update) -> Update:
            def run(found: StoredObject | None) -> StoredObject | None:
                results[key] = new = update(found)  # the last call is the one stored
                return new

            return run

        try:
            self.inner.update_many({key: recording(key, update) for key, update in updates.items()})
        except BaseException:
            self.revalidate(updates)  # some were stored, some not: keep none of them
            raise
        self._written(results)

    def delete(self, key: str) -> None:
        self.delete_many([key])

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self.inner.delete_many(keys)
        self.revalidate(keys)

    def _written(self, items: Mapping[str, StoredObject | None]) -> None:
        files = self._present()
        if files is None:
            return
        if not self.settings.enabled:
            for key in items:
                files.drop(key)
            return
        for key in [key for key, stored in items.items() if stored is None]:
            files.drop(key)
        self._keep(files, {key: stored for key, stored in items.items() if stored is not None})


def _with_encoding(metadata: ObjectMetadata, encoding: str | None) -> ObjectMetadata:
    return ObjectMetadata(metadata.content_type, encoding, metadata.cache_control)
