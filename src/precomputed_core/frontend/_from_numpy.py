"""``CloudVolume.from_numpy``: a new layer made from an array, as cloud-volume makes it."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import GeometryError, UnsupportedDataTypeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

__all__ = ["from_numpy", "layer_type_of"]

_SEGMENTATION = (np.dtype(bool), np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64))


def layer_type_of(dtype: npt.DTypeLike) -> str:
    """cloud-volume's guess: bool, uint16, uint32 and uint64 are segmentations, other numbers images."""
    dtype = np.dtype(dtype)
    if dtype in _SEGMENTATION:
        return "segmentation"
    if np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating):
        return "image"
    raise UnsupportedDataTypeError(f"{dtype} arrays cannot become a layer; give integers or floats")


def from_numpy(
    cls: Any,
    arr: npt.ArrayLike,
    vol_path: str | None = None,
    resolution: Sequence[float] = (4, 4, 40),
    voxel_offset: Sequence[int] = (0, 0, 0),
    chunk_size: Sequence[int] = (128, 128, 64),
    layer_type: str | None = None,
    max_mip: int = 0,
    encoding: str = "raw",
    compress: bool | str | None = None,
    progress: bool = False,
    encoding_level: int | None = None,
    encoding_effort: int | None = None,
) -> Any:
    """Create a layer at ``vol_path`` holding ``arr`` (x, y, z[, c]) at mip 0, and return it open.

    ``layer_type`` defaults to cloud-volume's guess from the dtype; a bool array is
    stored as a uint8 segmentation (the spec has no bool). ``max_mip`` adds empty
    downsampled scales to the info. The default path is a new directory under
    ``$TMPDIR/image``. The provenance records the call, as cloud-volume's does.
    """
    array = np.asarray(arr)
    if array.ndim not in (3, 4):
        raise GeometryError(f"from_numpy takes a 3-d (x, y, z) or 4-d (x, y, z, c) array, got {array.ndim}-d")
    kind = layer_type or layer_type_of(array.dtype)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if encoding_effort is not None:
        raise ValueError(
            "encoding_effort applies to jpeg xl, which precomputed does not write; leave it unset"
        )
    if vol_path is None:
        vol_path = "file://" + os.path.join(tempfile.gettempdir(), "image", secrets.token_hex(8))
    channels = 1 if array.ndim == 3 else array.shape[3]
    info = cls.create_new_info(
        channels, kind, array.dtype.name, encoding, resolution, voxel_offset, array.shape[:3],
        chunk_size=chunk_size, max_mip=max_mip, encoding_level=encoding_level,
    )  # fmt: skip
    vol = cls(vol_path, info=info, bounded=True, compress=compress, progress=progress)
    vol.commit_info()
    vol.provenance.processing.append({"method": "from_numpy", "date": time.strftime("%Y-%m-%d %H:%M %Z")})
    vol.commit_provenance()
    vol[:, :, :] = array
    return vol
