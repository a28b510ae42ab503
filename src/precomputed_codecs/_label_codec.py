"""What compresso and crackle chunks share: one channel of unsigned labels, a header with the size.

Both are seung-lab's lossless segmentation formats, which cloud-volume reads and
writes as the encodings ``compresso`` and ``crackle``; Neuroglancer reads compresso,
tensorstore neither. The header is checked against the chunk before anything is
decompressed, so a corrupt or hostile object cannot make us allocate its claimed size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from precomputed_core import ChunkSpec, Codec
from precomputed_core.exceptions import DecodingError, EncodingError, UnsupportedDataTypeError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["LabelCodec"]

_UNSIGNED = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))


class LabelCodec(Codec):
    """A single-channel label encoding whose header states the chunk's (x, y, z) size."""

    #: The package to install, for messages.
    package: ClassVar[str]

    def _compress(self, labels: npt.NDArray[Any]) -> bytes:
        raise NotImplementedError

    def _header_size(self, data: bytes) -> tuple[int, int, int]:
        raise NotImplementedError

    def _decompress(self, data: bytes) -> npt.NDArray[Any]:
        raise NotImplementedError

    def check(self, dtype: np.dtype[Any], num_channels: int, scale: dict[str, Any]) -> None:
        if np.dtype(dtype).newbyteorder("=") not in _UNSIGNED or num_channels != 1:
            raise UnsupportedDataTypeError(
                f"{self.encoding} holds one channel of uint8, uint16, uint32 or uint64 labels, not "
                f"{num_channels} channel(s) of {np.dtype(dtype)}; use compressed_segmentation or raw"
            )

    def encode(self, array: npt.NDArray[Any], spec: ChunkSpec) -> bytes:
        self.check(spec.dtype, spec.shape[3], spec.scale)
        if tuple(array.shape) != spec.shape:
            raise EncodingError(f"array shape {tuple(array.shape)} differs from the chunk's {spec.shape}")
        labels = np.asfortranarray(np.asarray(array[..., 0], dtype=spec.dtype.newbyteorder("=")))
        if not labels.flags.writeable:
            labels = labels.copy(order="F")  # compresso's typed memoryviews refuse read-only buffers
        return bytes(self._compress(labels))

    def decode(self, data: bytes, spec: ChunkSpec, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        self.check(spec.dtype, spec.shape[3], spec.scale)
        try:
            size = self._header_size(data)
        except Exception as err:
            raise DecodingError(
                f"not a {self.encoding} chunk ({type(err).__name__}: {err}); the object is corrupt or "
                "not encoded as the info says"
            ) from err
        if size != spec.shape[:3]:
            raise DecodingError(
                f"{self.encoding} chunk says it is {size[0]}x{size[1]}x{size[2]} voxels, but this chunk "
                f"is {spec.shape[0]}x{spec.shape[1]}x{spec.shape[2]}; the object is corrupt or misplaced"
            )
        try:
            labels = self._decompress(data)
        except Exception as err:
            raise DecodingError(f"{self.encoding} chunk is corrupt ({type(err).__name__}: {err})") from err
        if labels.dtype.itemsize != spec.dtype.itemsize or labels.size != int(np.prod(spec.shape)):
            raise DecodingError(
                f"{self.encoding} chunk holds {labels.size} {labels.dtype} labels, the layer "
                f"{int(np.prod(spec.shape))} of {spec.dtype}"
            )
        voxels = labels.reshape(spec.shape[:3], order="A")[..., np.newaxis]
        if out is None:
            return np.asfortranarray(voxels.view(spec.dtype.newbyteorder("=")))
        out[...] = voxels
        return out
