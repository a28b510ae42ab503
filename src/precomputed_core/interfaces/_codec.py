"""``Codec``: encode and decode one chunk of one encoding."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["ChunkSpec", "Codec"]


@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """What a codec needs to know about one chunk."""

    dtype: np.dtype[Any]
    """The voxels' dtype, little-endian as the spec stores it."""
    shape: tuple[int, int, int, int]
    """The chunk's (x, y, z, c) shape, already clipped at the volume's edge."""
    scale: dict[str, Any]
    """The info's scale dict, for encoding parameters such as ``jpeg_quality`` or
    ``compressed_segmentation_block_size``."""

    @property
    def nbytes(self) -> int:
        """The size of the decoded chunk in bytes: its voxels times the dtype's item size."""
        x, y, z, c = self.shape
        return x * y * z * c * self.dtype.itemsize


class Codec(ABC):
    """A chunk encoding; instances are stateless and shared between threads.

    ``decode`` must raise ``DecodingError``
    for corrupt or truncated data, never return garbage.
    """

    encoding: ClassVar[str]
    """The ``encoding`` name in the info file."""
    content_type: ClassVar[str] = "application/octet-stream"
    """The ``Content-Type`` stores record for chunks of this encoding."""
    lossy: ClassVar[bool] = False
    """Whether decoding gives back other voxels than were encoded (jpeg); such a codec is
    never used to keep copies (``lru_encoding``)."""
    encode_releases_gil: bool = False
    """Whether ``encode`` lets other threads run (compiled code that releases the GIL).

    Then this process's threads already use every core, and ``parallel`` keeps such
    writes off worker processes. A codec written in Python holds it.
    """
    decode_releases_gil: bool = False
    """Whether ``decode`` lets other threads run: as ``encode_releases_gil``, for reads."""

    def check(self, dtype: np.dtype[Any], num_channels: int, scale: dict[str, Any]) -> None:  # noqa: B027
        """Raise if this encoding cannot hold ``dtype`` x ``num_channels`` (default: any)."""

    def max_encoded_size(self, spec: ChunkSpec) -> int:
        """The most bytes a valid encoded chunk of ``spec`` can take.

        Reads stop decompressing a stored chunk past this size, so a small hostile
        object cannot expand to gigabytes. The default leaves room for encodings that
        can outgrow the voxels (compressed_segmentation's tables, an incompressible
        image); an encoding with a tighter bound may say so.
        """
        return 4 * spec.nbytes + 2**20

    def byte_range(self, spec: ChunkSpec, lo: tuple[int, ...], hi: tuple[int, ...]) -> tuple[int, int] | None:
        """The bytes ``[start, end)`` of a stored chunk that hold voxels ``[lo, hi)``.

        ``lo``/``hi`` are (x, y, z, c) chunk coordinates. Encodings that can decode a
        window from part of the chunk (raw) return the range, so a small cutout need
        not read whole chunks; the default, None, means "read it all".
        """
        return None

    def decode_range(
        self, data: bytes, spec: ChunkSpec, lo: tuple[int, ...], hi: tuple[int, ...]
    ) -> npt.NDArray[Any]:
        """Voxels ``[lo, hi)`` from the bytes that ``byte_range`` named."""
        raise NotImplementedError(f"{type(self).__name__} has no byte ranges")

    @abstractmethod
    def encode(self, array: npt.NDArray[Any], spec: ChunkSpec) -> bytes:
        """Encode an (x, y, z, c) array of ``spec.shape`` into the chunk's bytes."""

    @abstractmethod
    def decode(self, data: bytes, spec: ChunkSpec, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        """Decode a chunk into an (x, y, z, c) array of ``spec.shape``.

        With ``out`` (a possibly strided view of the caller's array), write
        into it and return it; otherwise return a new array, which may be a
        read-only view of ``data``.
        """
