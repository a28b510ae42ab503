"""``CloudVolume.create_new_info`` and ``add_scale``: Precomputed infos and scales, checked by codecs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import FeatureUnavailableError
from ..image import PrecomputedVolume
from ..meta import DEFAULT_SHARD_BYTES, add_scale, create_info
from ..plugins import get_codec

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from ..interfaces import Volume

__all__ = ["add_scale_to", "create_new_info"]


def create_new_info(
    num_channels: int,
    layer_type: str,
    data_type: npt.DTypeLike,
    encoding: str,
    resolution: Sequence[float],
    voxel_offset: Sequence[int],
    volume_size: Sequence[int],
    mesh: str | bool | None = None,
    skeletons: str | bool | None = None,
    chunk_size: Sequence[int] = (64, 64, 64),
    compressed_segmentation_block_size: Sequence[int] = (8, 8, 8),
    max_mip: int = 0,
    factor: Sequence[int] = (2, 2, 1),
    redirect: str | None = None,
    *,
    encoding_level: int | None = None,
    sharding: bool | dict[str, Any] | None = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> dict[str, Any]:
    """Build a validated info for a new layer (cloud-volume's argument order).

    ``resolution`` is nanometers per voxel, ``voxel_offset`` and
    ``volume_size`` are voxels (x, y, z); ``max_mip`` adds that many
    downsampled scales, each ``factor`` coarser than the last.
    Raises ``UnsupportedDataTypeError`` for types outside the spec,
    ``UnsupportedEncodingError`` for an encoding no installed codec has and
    ``InfoValidationError`` for other bad values.

    ``sharding=True`` makes every scale sharded, with parameters chosen for each
    (identity hash, shards of about ``shard_bytes`` voxel bytes: see the sharding
    page of the docs); a dict is a sharding specification used for every scale.
    """
    info = create_info(
        num_channels, layer_type, data_type, encoding, resolution, voxel_offset, volume_size,
        mesh=mesh, skeletons=skeletons, chunk_size=chunk_size,
        compressed_segmentation_block_size=compressed_segmentation_block_size,
        max_mip=max_mip, factor=factor, redirect=redirect, encoding_level=encoding_level,
        sharding=sharding, shard_bytes=shard_bytes,
    )  # fmt: skip
    for scale in info["scales"]:
        get_codec(scale["encoding"]).check(np.dtype(info["data_type"]), info["num_channels"], scale)
    return info


def add_scale_to(
    volume: Volume,
    factor: Sequence[float],
    encoding: str | None = None,
    chunk_size: Sequence[int] | None = None,
    *,
    encoding_level: int | None = None,
    sharding: bool | dict[str, Any] | None = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> dict[str, Any]:
    """Add a mip ``factor`` times coarser than mip 0 to the volume's info (not committed)."""
    if not isinstance(volume, PrecomputedVolume):
        raise FeatureUnavailableError(
            f"add_scale builds a Precomputed scale; {type(volume).__name__} layers ({volume.url}) "
            "define their scales themselves"
        )
    meta = volume.meta
    scale = add_scale(
        meta.info, factor, encoding=encoding, chunk_size=chunk_size, encoding_level=encoding_level,
        sharding=sharding, shard_bytes=shard_bytes,
    )  # fmt: skip
    get_codec(scale["encoding"]).check(meta.dtype, meta.num_channels, scale)
    return scale
