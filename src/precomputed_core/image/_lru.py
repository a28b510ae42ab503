"""``lru_bytes``: recently read chunks kept in memory, bounded in bytes, shared by a volume's threads."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import FeatureUnavailableError, UnsupportedEncodingError
from ..plugins import get_codec

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy.typing as npt

    from ..interfaces import ChunkSpec, Codec

__all__ = ["ENCODINGS", "ChunkLRU"]

#: Kept as stored ("same": encoded, transfer compression removed) or decoded ("raw");
#: any other name is a codec the chunks are re-encoded with (cloud-volume's
#: ``lru_encoding='crackle'`` keeps labels small).
ENCODINGS = ("same", "raw")

#: An entry: the form it is kept in, and the bytes or voxels.
Kept = tuple[str, "bytes | npt.NDArray[Any]"]


def _checked_bytes(max_bytes: Any) -> int:
    # cloud-volume's scripts write sizes as 1e6: a whole float is a whole number of bytes.
    if isinstance(max_bytes, float) and max_bytes.is_integer():
        max_bytes = int(max_bytes)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"lru_bytes must be a whole number of bytes >= 0, got {max_bytes!r}")
    return max_bytes


def _size(value: bytes | npt.NDArray[Any]) -> int:
    return len(value) if isinstance(value, bytes) else int(value.nbytes)


class ChunkLRU:
    """Chunks by name, least recently used dropped first, at most ``max_bytes`` in all.

    A chunk is kept as its encoded bytes (``encoding="same"``: reads skip the storage
    but still decode), as its decoded voxels (``"raw"``: reads skip both), or
    re-encoded with another codec (``"crackle"``, ``"compresso"``...: smaller, at the
    cost of an encode on the way in).
    """

    def __init__(self, max_bytes: int, encoding: str = "same") -> None:
        self.max_bytes = _checked_bytes(max_bytes)
        self._layer: tuple[np.dtype[Any], int] | None = None
        self._encoding = self._checked_encoding(encoding)
        self._items: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: Why this volume cannot use an LRU (an array service's chunks are not seen), if so.
        self.refusal: str | None = None

    def _checked_encoding(self, encoding: str) -> str:
        if encoding in ENCODINGS:
            return encoding
        try:
            codec = get_codec(encoding)
        except UnsupportedEncodingError as err:
            raise ValueError(
                f"lru_encoding {encoding!r} is not supported; use 'same' (chunks as stored), 'raw' "
                f"(decoded voxels) or an installed codec ({err})"
            ) from err
        if codec.lossy:
            raise ValueError(
                f"lru_encoding {encoding!r} is lossy: reads served from the LRU would differ from "
                "the stored voxels; use 'same', 'raw' or a lossless codec"
            )
        if self._layer is not None:
            codec.check(self._layer[0], self._layer[1], {"compressed_segmentation_block_size": [8, 8, 8]})
        return encoding

    def bind(self, dtype: np.dtype[Any], num_channels: int) -> None:
        """Check the encoding against the layer the LRU now serves (on open)."""
        self._layer = (np.dtype(dtype), int(num_channels))
        self._checked_encoding(self._encoding)

    @property
    def active(self) -> bool:
        """Whether reads go through it (``max_bytes`` > 0)."""
        return self.max_bytes > 0

    @property
    def encoding(self) -> str:
        return self._encoding

    @encoding.setter
    def encoding(self, encoding: str) -> None:
        encoding = self._checked_encoding(encoding)
        with self._lock:
            if encoding != self._encoding:
                self._encoding = encoding
                self._items.clear()  # what it held is in the other form
                self._bytes = 0

    @property
    def raw(self) -> bool:
        return self._encoding == "raw"

    @property
    def codec(self) -> Codec | None:
        """The codec chunks are re-encoded with; None for 'same' and 'raw'."""
        return None if self._encoding in ENCODINGS else get_codec(self._encoding)

    @staticmethod
    def spec_for(spec: ChunkSpec) -> ChunkSpec:
        """The chunk's spec for re-encoding: compressed_segmentation gets the format's usual
        8x8x8 blocks when the layer itself is not stored that way."""
        if "compressed_segmentation_block_size" in spec.scale:
            return spec
        scale = {**spec.scale, "compressed_segmentation_block_size": [8, 8, 8]}
        return dataclasses.replace(spec, scale=scale)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

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
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= _size(dropped)

    def get(self, name: str) -> Kept | None:
        """The chunk's entry (its form and value), if kept; it becomes the most recent."""
        with self._lock:
            kept = self._items.get(name)
            if kept is not None:
                self._items.move_to_end(name)
            return kept

    def put(self, name: str, value: bytes | npt.NDArray[Any], form: str) -> None:
        """Keep ``value``, made in the form ``form``; dropped if the encoding has changed since."""
        size = _size(value)
        with self._lock:
            if size > self.max_bytes or form != self._encoding:
                return
            old = self._items.pop(name, None)
            if old is not None:
                self._bytes -= _size(old[1])
            self._items[name] = (form, value)
            self._bytes += size
            self._shrink()

    def discard(self, names: Iterable[str]) -> None:
        with self._lock:
            for name in names:
                old = self._items.pop(name, None)
                if old is not None:
                    self._bytes -= _size(old[1])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
