"""``compressed_segmentation``: uint32/uint64 labels in Neuroglancer's block format.

Encoding and decoding are the ``compressed-segmentation`` package's (seung-lab, C++):
measured here at about 2 GB/s decoding on one core, far beyond what numpy could do
with the same bit packing. Decoding calls its C++ function through ctypes where it can
(``_cseg_native``: no GIL, straight into the output). It trusts its input, so every
chunk is checked first (``_cseg_layout``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core import ChunkSpec, Codec
from precomputed_core.exceptions import DecodingError, EncodingError, UnsupportedDataTypeError

from ._cseg_layout import check_layout
from ._cseg_native import native_decoder, native_encoder
from ._cseg_numpy import LARGE_BLOCK_VOXELS, decode_channel, encode_channel, has_32_bit_blocks

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["CompressedSegmentationCodec"]

_ONE_CHANNEL = np.array([1], dtype="<u4").tobytes()  # the channel table of a 1-channel chunk


def _block_size(scale: dict[str, Any]) -> tuple[int, int, int]:
    block = scale.get("compressed_segmentation_block_size")
    if block is None:
        raise UnsupportedDataTypeError(
            "compressed_segmentation needs compressed_segmentation_block_size in the scale"
        )
    x, y, z = (int(v) for v in block)
    return (x, y, z)


def _strides_fit(array: npt.NDArray[Any]) -> bool:
    return all(s > 0 and s % array.itemsize == 0 for s in array.strides)


def _strided_ok(labels: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``labels`` as they are if the C++ coder can walk their strides, else a Fortran copy."""
    return labels if _strides_fit(labels) else np.asfortranarray(labels)


def _native_for(out: npt.NDArray[Any]) -> Any:
    """The GIL-free decoder if it can write into ``out`` as it is laid out."""
    return native_decoder(out.dtype) if _strides_fit(out) and out.dtype.isnative else None


class CompressedSegmentationCodec(Codec):
    """Lossless label compression; any block size, any number of channels."""

    encoding = "compressed_segmentation"

    @property
    def encode_releases_gil(self) -> bool:  # type: ignore[override]
        """True where the package's C++ coder is called without the GIL (see ``_cseg_native``)."""
        return native_encoder(np.dtype(np.uint64)) is not None

    @property
    def decode_releases_gil(self) -> bool:  # type: ignore[override]
        return native_decoder(np.dtype(np.uint64)) is not None

    def check(self, dtype: np.dtype[Any], num_channels: int, scale: dict[str, Any]) -> None:
        if dtype not in (np.uint32, np.uint64):
            raise UnsupportedDataTypeError(
                f"compressed_segmentation holds uint32 or uint64 labels, not {dtype}; use raw for images"
            )
        block = _block_size(scale)
        chunk = scale.get("chunk_sizes", [block])[0]
        if any(b < 1 or b > c for b, c in zip(block, chunk)):
            raise UnsupportedDataTypeError(
                f"compressed_segmentation_block_size {list(block)} must be between 1 and the chunk "
                f"size {list(chunk)} on each axis (8x8x8 is usual)"
            )

    def encode(self, array: npt.NDArray[Any], spec: ChunkSpec) -> bytes:
        import compressed_segmentation as cseg

        if tuple(array.shape) != spec.shape:
            raise EncodingError(f"array shape {tuple(array.shape)} differs from the chunk's {spec.shape}")
        block, channels = _block_size(spec.scale), spec.shape[3]
        native = spec.dtype.newbyteorder("=")
        # One channel at a time: the package's own multi-channel path crashes the process
        # for some shapes (e.g. 16x16x8x2), its 3-d path is sound. Each 3-d encoding starts
        # with its one-word channel table, which the multi-channel table replaces.
        if math.prod(block) >= LARGE_BLOCK_VOXELS:
            parts = [encode_channel(np.asarray(array[..., c], dtype=native), block) for c in range(channels)]
        elif (encoder := native_encoder(native)) is not None:
            labels = [_strided_ok(np.asarray(array[..., c], dtype=native)) for c in range(channels)]
            parts = [encoder(channel, block) for channel in labels]
        else:
            parts = [
                cseg.compress(np.asfortranarray(array[..., c], dtype=native), block_size=block, order="F")[4:]
                for c in range(channels)
            ]
        starts = np.cumsum([channels] + [len(p) // 4 for p in parts[:-1]], dtype=np.uint32)
        return starts.astype("<u4").tobytes() + b"".join(parts)

    def decode(self, data: bytes, spec: ChunkSpec, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        import compressed_segmentation as cseg

        block, channels = _block_size(spec.scale), spec.shape[3]
        check_layout(data, spec.shape, block, spec.dtype.itemsize)
        if out is None:
            out = np.empty(spec.shape, dtype=spec.dtype.newbyteorder("="), order="F")
        elif tuple(out.shape) != spec.shape or out.dtype.itemsize != spec.dtype.itemsize:
            # The C++ decoder reads lookup tables at the output's width: they must agree.
            raise DecodingError(
                f"out is {out.dtype} {tuple(out.shape)}, the chunk is {spec.dtype} {spec.shape}"
            )
        words = np.frombuffer(data, dtype="<u4")
        if words.ctypes.data % 4:
            words = words.copy()
        bounds = [*words[:channels].tolist(), len(words)]
        nblocks = math.prod(-(-s // b) for s, b in zip(spec.shape[:3], block))
        native = _native_for(out)
        for c in range(channels):
            if has_32_bit_blocks(words, bounds[c], nblocks):
                out[..., c] = decode_channel(words, bounds[c], spec.shape[:3], block, out.dtype)
                continue
            if native is not None:
                native(words[bounds[c] :], block, out, c)
                continue
            single = data if channels == 1 else _ONE_CHANNEL + data[4 * bounds[c] : 4 * bounds[c + 1]]
            try:
                out[..., c] = cseg.decompress(single, spec.shape[:3], out.dtype, block, order="F")
            except Exception as err:
                raise DecodingError(f"compressed_segmentation chunk cannot be decoded: {err}") from err
        return out
