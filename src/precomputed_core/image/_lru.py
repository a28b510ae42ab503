"""``lru_bytes``: recently read chunks kept in memory, bounded in bytes, shared by a volume's threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..exceptions import FeatureUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy.typing as npt

__all__ = ["ENCODINGS", "ChunkLRU"]


def _checked_bytes(max_bytes: Any) -> int:
    # cloud-volume's scripts write sizes as 1e6: a whole float is a whole number of bytes.
    if isinstance(max_bytes, float) and max_bytes.is_integer():
        max_bytes = int(max_bytes)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"lru_bytes must be a whole number of bytes >= 0, got {max_bytes!r}")
    return max_bytes


def _checked_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise ValueError(
            f"lru_encoding {encoding!r} is not supported; use 'same' (chunks as stored) or "
            "'raw' (decoded voxels)"
        )
    return encoding


def _size(value: bytes | npt.NDArray[Any]) -> int:
    return len(value) if isinstance(value, bytes) else int(value.nbytes)


#: How chunks are kept: "same" as stored (encoded, transfer compression removed), "raw" decoded.
ENCODINGS = ("same", "raw")


class ChunkLRU:
    """Chunks by name, least recently used dropped first, at most ``max_bytes`` in all.

    A chunk is kept as its encoded bytes (``encoding="same"``: reads skip the storage
    but still decode) or as its decoded voxels (``"raw"``: reads skip both).
    """

    def __init__(self, max_bytes: int, encoding: str = "same") -> None:
        self.max_bytes = _checked_bytes(max_bytes)
        self._encoding = _checked_encoding(encoding)
        self._items: OrderedDict[str, bytes | npt.NDArray[Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: Why this volume cannot use an LRU (an array service's chunks are not seen), if so.
        self.refusal: str | None = None

    @property
    def active(self) -> bool:
        """Whether reads go through it (``max_bytes`` > 0)."""
        return self.max_bytes > 0

    @property
    def encoding(self) -> str:
        return self._encoding

    @encoding.setter
    def encoding(self, encoding: str) -> None:
        encoding = _checked_encoding(encoding)
        if encoding != self._encoding:
            self.clear()  # what it holds is in the other form
            self._encoding = encoding

    def resize(self, max_bytes: int) -> None:
        """Change the bound (cloud-volume's ``vol.image.lru.resize``); 0 turns it off.
        Least recently used chunks are dropped until the rest fit."""
        max_bytes = _checked_bytes(max_bytes)
        if max_bytes and self.refusal:
            raise FeatureUnavailableError(self.refusal)
        with self._lock:
            self.max_bytes = max_bytes
            self._shrink()

    def _shrink(self) -> None:
        while self._bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= _size(dropped)

    @property
    def raw(self) -> bool:
        return self.encoding == "raw"

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def get(self, name: str) -> bytes | npt.NDArray[Any] | None:
        with self._lock:
            value = self._items.get(name)
            if value is not None:
                self._items.move_to_end(name)
            return value

    def put(self, name: str, value: bytes | npt.NDArray[Any]) -> None:
        size = _size(value)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(name, None)
            if old is not None:
                self._bytes -= _size(old)
            self._items[name] = value
            self._bytes += size
            self._shrink()

    def discard(self, names: Iterable[str]) -> None:
        with self._lock:
            for name in names:
                old = self._items.pop(name, None)
                if old is not None:
                    self._bytes -= _size(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
