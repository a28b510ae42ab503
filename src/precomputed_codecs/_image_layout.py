"""The Precomputed layout of jpeg and png chunks: one image, rows = flattened (x, y, z).

The spec asks for an image whose rows, concatenated, are the chunk in (x, y, z)
Fortran order; Neuroglancer, tensorstore and cloud-volume all write it X wide and
Y*Z high, channels as the image's colour components.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core.exceptions import DecodingError, EncodingError

if TYPE_CHECKING:
    import numpy.typing as npt

    from precomputed_core import ChunkSpec

__all__ = ["from_image", "to_image"]


def to_image(array: npt.NDArray[Any], spec: ChunkSpec) -> npt.NDArray[Any]:
    """(x, y, z, c) voxels as a C-ordered (y*z, x, c) image array."""
    if tuple(array.shape) != spec.shape:
        raise EncodingError(f"array shape {tuple(array.shape)} differs from the chunk's {spec.shape}")
    x, y, z, c = spec.shape
    image = np.ascontiguousarray(np.asarray(array, dtype=spec.dtype.newbyteorder("=")).transpose(2, 1, 0, 3))
    return image.reshape(z * y, x, c)


def from_image(image: npt.NDArray[Any], spec: ChunkSpec, what: str) -> npt.NDArray[Any]:
    """A decoded (height, width[, c]) image as an (x, y, z, c) view, after checking its size."""
    x, y, z, c = spec.shape
    if image.ndim == 2:
        image = image[..., np.newaxis]
    if image.shape != (y * z, x, c):
        raise DecodingError(
            f"{what} image is {image.shape[1]}x{image.shape[0]} with {image.shape[2]} channel(s), but a "
            f"{(x, y, z)} chunk with {c} channel(s) needs {x}x{y * z}; the chunk is corrupt or "
            "not encoded as the info says"
        )
    voxels: npt.NDArray[Any] = image.reshape(z, y, x, c).transpose(2, 1, 0, 3)
    return voxels
