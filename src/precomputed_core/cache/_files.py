"""A layer's cache directory: objects kept as fetched, each checked against a record of it.

An object ``key`` is the file ``<root>/<key>`` (``.gz``, ``.br`` or ``.zstd`` added
when stored compressed), laid out as cloud-volume lays out its cache, so the
directory is itself a readable ``file://`` layer. Beside it, in
``<root>/.precomputed-cache/sums/<key>``, a record holds its size, metadata and a
CRC32C of each 64 KiB block: an object is served only if its bytes match, so a
damaged or foreign file is a miss (dropped and fetched again), never data. Byte
ranges read from an object (shard files) are kept in
``.precomputed-cache/ranges/<key>/<version>/<start>-<end>``, each with its own
checksum, per version of the object.

Every file is written to a temporary name and renamed into place, so processes
sharing the directory never read half a file. Nothing here raises for a missing
or damaged file: that is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import struct
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import google_crc32c

from ..interfaces import ObjectMetadata, RangeRead, StoredObject

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..interfaces import ByteRange

__all__ = ["META_DIR", "CacheFiles", "Entry"]

META_DIR = ".precomputed-cache"
_SUMS = f"{META_DIR}/sums"
_RANGES = f"{META_DIR}/ranges"
_BLOCK = 1 << 16
_TMP_MARK = ".tmp-"
#: Transfer compressions as stored, with the suffix each gives a file (as cloud-volume's).
_ENCODINGS: tuple[tuple[str | None, str], ...] = (
    (None, ""), ("gzip", ".gz"), ("br", ".br"), ("zstd", ".zstd"),
)  # fmt: skip
_SUFFIX = dict(_ENCODINGS)
_CODE = {encoding: code for code, (encoding, _) in enumerate(_ENCODINGS)}
_RECORD = struct.Struct("<4sBQI")  # magic, encoding, size, block size
_RANGE = struct.Struct("<4sIQ")  # magic, crc32c of the bytes, object size (max: unknown)
_UNKNOWN = (1 << 64) - 1
#: Kept at eviction: the layer opens from the cache without the network.
_PINNED = frozenset({"info", "provenance"})
_ABANDONED = 3600.0


def _crc(data: bytes) -> int:
    return int(google_crc32c.value(data))


def _block_crcs(data: bytes, first: int = 0) -> list[int]:
    return [_crc(data[i : i + _BLOCK]) for i in range(first, len(data), _BLOCK)]


def _text(value: str | None) -> bytes:
    raw = b"\xff" if value is None else value.encode()
    return struct.pack("<H", len(raw)) + raw


def _untext(data: bytes, at: int) -> tuple[str | None, int]:
    (size,) = struct.unpack_from("<H", data, at)
    raw = data[at + 2 : at + 2 + size]
    if len(raw) != size:
        raise ValueError("truncated")
    return (None if raw == b"\xff" else raw.decode()), at + 2 + size


@dataclass(frozen=True)
class Entry:
    """The record of one cached object: what its file must hold, and how it was stored."""

    size: int
    encoding: str | None
    content_type: str
    cache_control: str | None
    version: str | None
    crcs: tuple[int, ...]

    def to_bytes(self) -> bytes:
        body = (
            _RECORD.pack(b"PCC1", _CODE[self.encoding], self.size, _BLOCK)
            + _text(self.content_type) + _text(self.cache_control) + _text(self.version)
            + struct.pack(f"<{len(self.crcs)}I", *self.crcs)
        )  # fmt: skip
        return body + struct.pack("<I", _crc(body))

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry | None:
        """The record in ``data``, or None if it is damaged (or of another format)."""
        try:
            body, (check,) = data[:-4], struct.unpack("<I", data[-4:])
            if _crc(body) != check:
                return None
            magic, code, size, block = _RECORD.unpack_from(body)
            if magic != b"PCC1" or block != _BLOCK or code >= len(_ENCODINGS):
                return None
            content_type, at = _untext(body, _RECORD.size)
            cache_control, at = _untext(body, at)
            version, at = _untext(body, at)
            count = -(-size // _BLOCK)
            if len(body) - at != 4 * count:
                return None
            crcs = struct.unpack_from(f"<{count}I", body, at)
        except (struct.error, ValueError, UnicodeDecodeError):
            return None
        return cls(size, _ENCODINGS[code][0], content_type or "", cache_control, version, crcs)

    @property
    def metadata(self) -> ObjectMetadata:
        return ObjectMetadata(self.content_type, self.encoding, self.cache_control)

    def matches(self, data: bytes, first_block: int = 0) -> bool:
        """Whether ``data``, starting at block ``first_block``, holds the recorded bytes."""
        return _block_crcs(data) == list(self.crcs[first_block : first_block + -(-len(data) // _BLOCK)])


def _safe(key: str) -> str:
    """``key`` as a relative path that stays inside the cache (``..`` in scale keys is allowed)."""
    parts = [p if p != ".." else "%2E%2E" for p in key.split("/") if p and p != "."]
    return "/".join(parts) or "%2E"


def _pread(path: str, start: int = 0, size: int | None = None) -> bytes | None:
    """``size`` bytes of ``path`` from ``start`` (None: to its end); None if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        stop = os.fstat(fd).st_size if size is None else start + size
        parts, offset = [], start
        while offset < stop:
            part = os.pread(fd, stop - offset, offset)
            if not part:
                break
            parts.append(part)
            offset += len(part)
    except OSError:
        return None
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        os.unlink(path)


def remove_tree(path: str) -> None:
    """Remove a directory tree that other processes may be adding to or removing from."""
    for _ in range(5):
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            return
        except OSError:
            continue  # a file appeared or vanished while the tree was walked
        return
    shutil.rmtree(path, ignore_errors=True)


def _version_tag(version: str | None) -> str:
    if version is None:
        return "unversioned"
    return hashlib.sha1(version.encode(), usedforsecurity=False).hexdigest()[:20]


class CacheFiles:
    """The files of one layer's cache at ``root``; shared by the threads of one process."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._tmp_ids = itertools.count()
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes this process believes the cache holds

    # --- paths ---------------------------------------------------------------

    def data_path(self, key: str, encoding: str | None = None) -> str:
        return f"{self.root}/{_safe(key)}{_SUFFIX[encoding]}"

    def _record_path(self, key: str) -> str:
        return f"{self.root}/{_SUMS}/{_safe(key)}"

    def _ranges_dir(self, key: str) -> str:
        return f"{self.root}/{_RANGES}/{_safe(key)}"

    def exists(self) -> bool:
        return os.path.isdir(self.root)

    # --- writing -------------------------------------------------------------

    def _write(self, path: str, parts: tuple[bytes, ...]) -> int:
        """Write ``parts`` to ``path`` atomically; the bytes written (0 if it could not be)."""
        directory, name = os.path.split(path)
        tmp = f"{directory}/.{name}{_TMP_MARK}{os.getpid()}-{threading.get_ident()}-{next(self._tmp_ids)}"
        for attempt in range(2):
            try:
                with open(tmp, "wb") as file:
                    for part in parts:
                        file.write(part)
                _touch(tmp)
                os.replace(tmp, path)
                return sum(len(p) for p in parts)
            except FileNotFoundError:
                if attempt:
                    return 0
                with contextlib.suppress(OSError):
                    os.makedirs(directory, exist_ok=True)
            except OSError:
                break
        _remove(tmp)
        return 0

    def put(self, key: str, stored: StoredObject, version: str | None = None) -> int:
        """Keep ``stored`` (its bytes as given) as ``key``; the bytes added to the cache."""
        data, metadata = stored.data, stored.metadata
        entry = Entry(len(data), metadata.content_encoding, metadata.content_type,
                      metadata.cache_control, version, tuple(_block_crcs(data)))  # fmt: skip
        if entry.encoding not in _CODE:
            return 0
        self.drop_ranges(key)
        for encoding, _ in _ENCODINGS:  # one stored variant: a changed encoding leaves no stale file
            if encoding != entry.encoding:
                _remove(self.data_path(key, encoding))
        # The record first: a reader that sees the new file with the old record takes it
        # for damage and fetches again, which is safe; the reverse could not happen.
        if not self._write(self._record_path(key), (entry.to_bytes(),)):
            return 0
        written = self._write(self.data_path(key, entry.encoding), (data,))
        if not written:
            _remove(self._record_path(key))
        return written

    def put_range(self, request: ByteRange, read: RangeRead) -> int:
        """Keep the bytes of a ranged read of an object version; the bytes added."""
        start = request.start
        if start < 0:
            if read.whole_size is None:
                return 0  # a suffix of an object of unknown size: nowhere to file it
            start = max(0, read.whole_size + start)
        versions = self._ranges_dir(request.key)
        tag = _version_tag(read.version)
        with contextlib.suppress(OSError):
            for other in os.listdir(versions):
                if other != tag:  # the object changed: its older ranges describe nothing now
                    remove_tree(f"{versions}/{other}")
        size = _UNKNOWN if read.whole_size is None else read.whole_size
        header = _RANGE.pack(b"PCR1", _crc(read.data), size) + _text(read.version)
        return self._write(f"{versions}/{tag}/{start}-{start + len(read.data)}", (header, read.data))

    # --- reading -------------------------------------------------------------

    def entry(self, key: str) -> Entry | None:
        raw = _pread(self._record_path(key))
        return None if raw is None else Entry.from_bytes(raw)

    def get(self, key: str) -> StoredObject | None:
        """``key`` as stored in the cache, or None (a damaged copy is dropped)."""
        entry = self.entry(key)
        if entry is None:
            return None
        path = self.data_path(key, entry.encoding)
        data = _pread(path)
        if data is None or len(data) != entry.size or not entry.matches(data):
            self.drop(key)
            return None
        _touch(path)
        return StoredObject(data, entry.metadata, source=path)

    def has(self, key: str) -> bool:
        entry = self.entry(key)
        return entry is not None and os.path.isfile(self.data_path(key, entry.encoding))

    def get_range(self, request: ByteRange) -> RangeRead | None:
        """A byte range from the whole cached object or a cached range holding it, or None."""
        entry = self.entry(request.key)
        if entry is not None and entry.encoding is None:
            found = self._range_of_whole(request, entry)
            if found is not None:
                return found
        return self._cached_range(request)

    def _range_of_whole(self, request: ByteRange, entry: Entry) -> RangeRead | None:
        if request.whole_size is not None and request.whole_size != entry.size:
            return None
        start, stop = _span(request, entry.size)
        first = start // _BLOCK
        begin = first * _BLOCK
        end = min(entry.size, -(-stop // _BLOCK) * _BLOCK) if stop > start else begin
        path = self.data_path(request.key)
        data = _pread(path, begin, end - begin)
        if data is None or len(data) != end - begin or not entry.matches(data, first):
            self.drop(request.key)
            return None
        _touch(path)
        version = entry.version or f"cached:{_crc(struct.pack(f'<{len(entry.crcs)}I', *entry.crcs))}"
        return RangeRead(data[start - begin : stop - begin], entry.size, version)

    def _cached_range(self, request: ByteRange) -> RangeRead | None:
        versions = self._ranges_dir(request.key)
        try:
            tags = os.listdir(versions)
        except OSError:
            return None
        for tag in tags:
            try:
                names = os.listdir(f"{versions}/{tag}")
            except OSError:
                continue
            for name in names:
                lo, _, hi = name.partition("-")
                if not (lo.isdigit() and hi.isdigit()):
                    continue
                found = self._from_range_file(f"{versions}/{tag}/{name}", int(lo), int(hi), request)
                if found is not None:
                    return found
        return None

    def _from_range_file(self, path: str, lo: int, hi: int, request: ByteRange) -> RangeRead | None:
        if request.start >= 0 and (request.start < lo or (request.end is not None and request.end > hi)):
            return None  # decided by the name, before reading the file
        raw = _pread(path) or b""
        try:
            magic, check, size = _RANGE.unpack_from(raw)
            version, at = _untext(raw, _RANGE.size)
        except (struct.error, ValueError, UnicodeDecodeError):
            _remove(path)
            return None
        data = raw[at:]
        if magic != b"PCR1" or _crc(data) != check or len(data) != hi - lo:
            _remove(path)
            return None
        whole = None if size == _UNKNOWN else size
        if request.whole_size is not None and request.whole_size != whole:
            return None
        if request.start >= 0 and request.end is not None:
            start, stop = request.start, request.end if whole is None else min(request.end, whole)
        elif whole is None:
            return None  # "to the end" of an object of unknown size
        else:
            start, stop = _span(request, whole)
            if start < lo or stop > hi:
                return None
        _touch(path)
        return RangeRead(data[start - lo : max(start, stop) - lo], whole, version)

    # --- removing --------------------------------------------------------------

    def drop_ranges(self, key: str) -> None:
        path = self._ranges_dir(key)
        if os.path.isdir(path):
            remove_tree(path)

    def drop(self, key: str) -> None:
        """Forget ``key``: its file in any encoding, its record and its cached ranges."""
        for encoding, _ in _ENCODINGS:
            _remove(self.data_path(key, encoding))
        _remove(self._record_path(key))
        self.drop_ranges(key)

    def clear(self) -> None:
        remove_tree(self.root)
        with self._lock:
            self._size = None

    # --- what is here -----------------------------------------------------------

    def names(self, directory: str) -> dict[str, int]:
        """Objects cached directly under ``directory`` (a key prefix such as a scale's key),
        by name without compression suffix, with the bytes each takes (ranges included)."""
        found: dict[str, int] = {}
        base = f"{self.root}/{_safe(directory)}" if directory else self.root
        for entry in _scan(base):
            if entry.is_file() and not entry.name.startswith("."):
                name = _without_suffix(entry.name)
                found[name] = found.get(name, 0) + _size_of(entry)
        ranged = f"{self.root}/{_RANGES}/{_safe(directory)}" if directory else f"{self.root}/{_RANGES}"
        for entry in _scan(ranged):
            if entry.is_dir() and not entry.name.startswith("."):
                total = sum(_file_size(f) for f in _walk_files(entry.path))
                if total:
                    found[entry.name] = found.get(entry.name, 0) + total
        return found

    def objects(self) -> Iterator[tuple[str, str | None, os.stat_result]]:
        """Every cached file: (path, its key or None for a cached range, stat)."""
        meta = f"{self.root}/{META_DIR}"
        for path in _walk_files(self.root, skip=meta):
            name = os.path.basename(path)
            if name.startswith(".") and _TMP_MARK in name:
                _remove_if_abandoned(path)
                continue
            with contextlib.suppress(FileNotFoundError):
                key = _without_suffix(os.path.relpath(path, self.root).replace(os.sep, "/"))
                yield path, key, os.stat(path)
        for path in _walk_files(f"{self.root}/{_RANGES}"):
            with contextlib.suppress(FileNotFoundError):
                yield path, None, os.stat(path)

    def remove(self, path: str, key: str | None) -> None:
        """Remove one file found by ``objects`` (with its record, for an object)."""
        _remove(path)
        if key is not None:
            _remove(self._record_path(key))

    # --- the size limit -------------------------------------------------------------

    def added(self, nbytes: int, max_bytes: int | None) -> None:
        """Account for ``nbytes`` just written; past ``max_bytes``, evict the least recently used."""
        if max_bytes is None or not nbytes:
            return
        with self._lock:
            if self._size is not None:
                self._size += nbytes
                if self._size <= max_bytes:
                    return
        self.enforce(max_bytes)

    def enforce(self, max_bytes: int) -> None:
        """Evict the least recently used objects until the cache holds at most ``max_bytes``."""
        with self._lock:
            self._size = self._evict(max_bytes)

    def _evict(self, max_bytes: int) -> int:
        """Remove the least recently used files until the cache holds at most ``max_bytes``."""
        files = [(st.st_mtime_ns, st.st_size, path, key) for path, key, st in self.objects()]
        total = sum(size for _, size, _, _ in files)
        files.sort()
        for _, size, path, key in files:
            if total <= max_bytes:
                break
            if key in _PINNED:
                continue
            self.remove(path, key)
            total -= size
        return total


def _remove_if_abandoned(path: str) -> None:
    """Remove a temporary file an hour old: its writer crashed (writes take seconds)."""
    with contextlib.suppress(OSError):
        if time.time() - os.stat(path).st_mtime > _ABANDONED:
            os.unlink(path)


def _span(request: ByteRange, size: int) -> tuple[int, int]:
    start = request.start if request.start >= 0 else max(0, size + request.start)
    stop = size if request.end is None else min(request.end, size)
    return min(start, size), max(min(start, size), stop)


_last_use = [0]
_use_lock = threading.Lock()


def _touch(path: str) -> None:
    """Mark ``path`` as just used, for the least-recently-used order.

    With the clock's nanoseconds, made distinct: files get the kernel's coarse time
    (milliseconds apart), which would tie objects used in one read.
    """
    with _use_lock:
        now = _last_use[0] = max(time.time_ns(), _last_use[0] + 1)
    with contextlib.suppress(OSError):
        os.utime(path, ns=(now, now))


def _without_suffix(name: str) -> str:
    for encoding, suffix in _ENCODINGS:
        if encoding is not None and name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _scan(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return list(entries)
    except OSError:
        return []


def _size_of(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat().st_size
    except OSError:
        return 0


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _walk_files(top: str, skip: str | None = None) -> Iterator[str]:
    for directory, subdirs, files in os.walk(top):
        if skip is not None and directory == os.path.dirname(skip):
            subdirs[:] = [d for d in subdirs if os.path.join(directory, d) != skip]
        for name in files:
            yield os.path.join(directory, name)
