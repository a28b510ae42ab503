"""``MemoryStore``: ``mem://`` layers in this process's fsspec memory file system.

Like cloud-volume's ``mem://``, the data lives as long as the process and is
shared by every volume opened on the same path in it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from precomputed_core import (
    CloudPath,
    ObjectMetadata,
    RangeRead,
    Store,
    StoredObject,
    decompress_bytes,
    object_lock,
)

from ._storage_options import refuse
from ._suffixes import VARIANTS, find_variant, logical_key, stored_suffix

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from precomputed_core import ByteRange

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """Objects in fsspec's ``MemoryFileSystem`` under ``/<bucket>/<path>``."""

    io_threads = 4

    def __init__(self, bucket: str, path: str) -> None:
        import fsspec

        self._fs = fsspec.filesystem("memory")
        self._bucket, self._path = bucket, path.strip("/")
        self._root = "/" + "/".join(p for p in (bucket, self._path) if p)

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> MemoryStore:
        refuse(path.url, options.get("storage_options"), "held in this process's memory")
        return cls(path.bucket, path.path)

    @property
    def shared_between_processes(self) -> bool:
        return False  # the objects live in this process's memory

    @property
    def url(self) -> str:
        return f"mem://{self._root.lstrip('/')}"

    def _key_path(self, key: str) -> str:
        import posixpath

        return posixpath.normpath(f"{self._root}/{key}")

    @property
    def supports_ranges(self) -> bool:
        return True

    def _read(self, path: str) -> bytes | None:
        try:
            return self._fs.cat_file(path)  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None

    def _stored(self, key: str) -> tuple[StoredObject, str] | None:
        return find_variant(self._key_path(key), self._read, self.describe(key))

    def get(self, key: str) -> bytes | None:
        found = self._stored(key)
        if found is None:
            return None
        stored, path = found
        return decompress_bytes(stored.data, stored.metadata.content_encoding, where=f"mem:/{path}")

    def get_stored_many(self, keys: Iterable[str]) -> dict[str, StoredObject | None]:
        return {key: None if (found := self._stored(key)) is None else found[0] for key in keys}

    def read_ranges(self, ranges: Sequence[ByteRange]) -> list[RangeRead | None]:
        return [self._range(r) for r in ranges]

    def _range(self, request: ByteRange) -> RangeRead | None:
        path = self._key_path(request.key)
        try:
            info = self._fs.info(path)
            size = info["size"]
            if request.whole_size is not None and size != request.whole_size:
                return None
            # Every write makes a new file object, created at a new time.
            version = f"{id(self._fs.store.get(path))}:{info.get('created')}:{size}"
            # A slice of the object's buffer, copied once (fsspec's memory cat_file).
            return RangeRead(self._fs.cat_file(path, request.start, request.end), size, version)
        except FileNotFoundError:
            pass
        found = self._stored(request.key)  # only a compressed variant, or nothing
        data = None if found is None else self.cut_range(request, found[0])
        return None if data is None or found is None else RangeRead(data, len(found[0].data))

    def put(self, key: str, value: bytes, *, metadata: ObjectMetadata = ObjectMetadata()) -> None:
        path = self._key_path(key) + stored_suffix(metadata.content_encoding)
        with object_lock(self.url, key):
            self._fs.pipe_file(path, bytes(value))
            self._remove_variants(key, keep=path)

    def _remove_variants(self, key: str, keep: str | None = None) -> None:
        base = self._key_path(key)
        for suffix, _ in VARIANTS:
            if base + suffix != keep:
                with contextlib.suppress(FileNotFoundError):
                    self._fs.rm_file(base + suffix)

    def delete(self, key: str) -> None:
        with object_lock(self.url, key):
            self._remove_variants(key)

    def exists(self, key: str) -> bool:
        base = self._key_path(key)
        return any(self._fs.isfile(base + suffix) for suffix, _ in VARIANTS)

    def list(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(self.list_sizes(prefix))

    def list_sizes(self, prefix: str = "") -> dict[str, int]:
        root = self._root.rstrip("/") + "/"
        found = self._fs.find(self._root, detail=True) if self._fs.exists(self._root) else {}
        sizes = {
            logical_key(path[len(root) :]): int(entry.get("size") or 0)
            for path, entry in found.items()
            if path.startswith(root)
        }
        return {key: sizes[key] for key in sorted(sizes) if key.startswith(prefix)}
