"""``raw``: little-endian voxels in (x, y, z, c) Fortran order, no header."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core import ChunkSpec, Codec
from precomputed_core.exceptions import DecodingError, EncodingError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["RawCodec"]


def _strides(spec: ChunkSpec) -> tuple[int, int, int, int]:
    """Byte strides of (x, y, z, c) in a Fortran-ordered chunk."""
    x, y, z, _ = spec.shape
    item = spec.dtype.itemsize
    return item, item * x, item * x * y, item * x * y * z


class RawCodec(Codec):
    """The spec's ``raw`` encoding; decoding is a reshape of the bytes, no copy."""

    encoding = "raw"
    # Numpy's copies.
    encode_releases_gil = decode_releases_gil = True

    def encode(self, array: npt.NDArray[Any], spec: ChunkSpec) -> bytes:
        if tuple(array.shape) != spec.shape:
            raise EncodingError(f"array shape {tuple(array.shape)} differs from the chunk's {spec.shape}")
        return np.asarray(array, dtype=spec.dtype).tobytes(order="F")

    def byte_range(self, spec: ChunkSpec, lo: tuple[int, ...], hi: tuple[int, ...]) -> tuple[int, int] | None:
        sx, sy, sz, sc = _strides(spec)
        first = lo[0] * sx + lo[1] * sy + lo[2] * sz + lo[3] * sc
        last = (hi[0] - 1) * sx + (hi[1] - 1) * sy + (hi[2] - 1) * sz + (hi[3] - 1) * sc
        return first, last + sx

    def decode_range(
        self, data: bytes, spec: ChunkSpec, lo: tuple[int, ...], hi: tuple[int, ...]
    ) -> npt.NDArray[Any]:
        strides = _strides(spec)
        shape = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], hi[3] - lo[3])
        needed = sum((n - 1) * s for n, s in zip(shape, strides)) + strides[0]
        if len(data) != needed:
            raise DecodingError(f"raw chunk range has {len(data)} bytes, expected {needed}")
        window: npt.NDArray[Any] = np.ndarray(shape, dtype=spec.dtype, buffer=data, strides=strides)
        return window

    def decode(self, data: bytes, spec: ChunkSpec, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        if len(data) != spec.nbytes:
            raise DecodingError(
                f"raw chunk has {len(data)} bytes, but a {spec.shape} (x, y, z, c) chunk of "
                f"{spec.dtype.name} needs {spec.nbytes}; the file is truncated or not raw-encoded "
                "(check the info's encoding, or rewrite the chunk)"
            )
        voxels = np.frombuffer(data, dtype=spec.dtype).reshape(spec.shape, order="F")
        if out is None:
            return voxels
        out[...] = voxels
        return out
