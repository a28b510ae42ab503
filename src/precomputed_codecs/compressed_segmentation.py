"""``compressed_segmentation``: uint32/uint64 labels in Neuroglancer's block format.

Encoding and decoding are the ``compressed-segmentation`` package's (seung-lab, C++):
measured here at about 2 GB/s decoding on one core, far beyond what numpy could do
with the same bit packing. It trusts its input, so every chunk is checked first
(:mod:`._cseg_layout`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core import ChunkSpec, Codec
from precomputed_core.exceptions import DecodingError, EncodingError, UnsupportedDataTypeError

from ._cseg_layout import check_layout

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["CompressedSegmentationCodec"]


def _block_size(scale: dict[str, Any]) -> tuple[int, int, int]:
    block = scale.get("compressed_segmentation_block_size")
    if block is None:
        raise UnsupportedDataTypeError(
            "compressed_segmentation needs compressed_segmentation_block_size in the scale"
        )
    x, y, z = (int(v) for v in block)
    return (x, y, z)


class CompressedSegmentationCodec(Codec):
    """Lossless label compression; any block size, any number of channels."""

    encoding = "compressed_segmentation"

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
        labels = np.asfortranarray(array, dtype=spec.dtype.newbyteorder("="))
        return bytes(cseg.compress(labels, block_size=_block_size(spec.scale), order="F"))

    def decode(self, data: bytes, spec: ChunkSpec, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        import compressed_segmentation as cseg

        block = _block_size(spec.scale)
        check_layout(data, spec.shape, block, spec.dtype.itemsize)
        try:
            labels: npt.NDArray[Any] = cseg.decompress(
                data, spec.shape, spec.dtype.newbyteorder("="), block, order="F"
            )
        except Exception as err:
            raise DecodingError(f"compressed_segmentation chunk cannot be decoded: {err}") from err
        if out is None:
            return labels
        out[...] = labels
        return out
