"""The README's read-only properties and their ``mip_*`` forms, as one-line delegations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._bbox import Bbox
    from ._meta import LayerMeta
    from ._vec import Vec

__all__ = ["VolumeProperties"]


class VolumeProperties:
    """Mixin for ``CloudVolume``: every property reads the current info at ``self.mip``.

    Coordinates are voxels at that mip (x, y, z); resolutions are nanometers.
    """

    mip: int

    @property
    def meta(self) -> LayerMeta:
        raise NotImplementedError

    # layer-wide
    @property
    def scales(self) -> list[dict[str, Any]]:
        return self.meta.scales

    @scales.setter
    def scales(self, scales: list[dict[str, Any]]) -> None:
        self.meta.info["scales"] = scales

    @property
    def available_mips(self) -> range:
        return self.meta.available_mips

    @property
    def available_resolutions(self) -> list[Vec]:
        return [self.meta.resolution(mip) for mip in self.meta.available_mips]

    @property
    def ndim(self) -> int:
        """4: x, y, z and channel."""
        return 4

    @property
    def num_channels(self) -> int:
        return self.meta.num_channels

    @property
    def layer_type(self) -> str:
        return self.meta.layer_type

    @property
    def dtype(self) -> Any:
        return self.meta.dtype

    @property
    def data_type(self) -> str:
        return self.meta.data_type

    # per mip, with mip_* forms
    @property
    def scale(self) -> dict[str, Any]:
        return self.meta.scale(self.mip)

    def mip_scale(self, mip: int) -> dict[str, Any]:
        return self.meta.scale(self.meta.to_mip(mip))

    @property
    def encoding(self) -> str:
        return self.meta.encoding(self.mip)

    def mip_encoding(self, mip: int) -> str:
        return self.meta.encoding(self.meta.to_mip(mip))

    @property
    def shape(self) -> Vec:
        """(x, y, z, channels) of the whole layer at this mip."""
        return self.meta.shape(self.mip)

    def mip_shape(self, mip: int) -> Vec:
        return self.meta.shape(self.meta.to_mip(mip))

    @property
    def volume_size(self) -> Vec:
        return self.meta.volume_size(self.mip)

    def mip_volume_size(self, mip: int) -> Vec:
        return self.meta.volume_size(self.meta.to_mip(mip))

    @property
    def voxel_offset(self) -> Vec:
        return self.meta.voxel_offset(self.mip)

    def mip_voxel_offset(self, mip: int) -> Vec:
        return self.meta.voxel_offset(self.meta.to_mip(mip))

    @property
    def resolution(self) -> Vec:
        return self.meta.resolution(self.mip)

    def mip_resolution(self, mip: int) -> Vec:
        return self.meta.resolution(self.meta.to_mip(mip))

    @property
    def downsample_ratio(self) -> Vec:
        """This mip's resolution divided by mip 0's, per axis."""
        return self.meta.downsample_ratio(self.mip)

    def mip_downsample_ratio(self, mip: int) -> Vec:
        return self.meta.downsample_ratio(self.meta.to_mip(mip))

    @property
    def underlying(self) -> Vec:
        """The chunk size in storage at this mip."""
        return self.meta.chunk_size(self.mip)

    def mip_underlying(self, mip: int) -> Vec:
        return self.meta.chunk_size(self.meta.to_mip(mip))

    @property
    def chunk_size(self) -> Vec:
        return self.meta.chunk_size(self.mip)

    def mip_chunk_size(self, mip: int) -> Vec:
        return self.meta.chunk_size(self.meta.to_mip(mip))

    @property
    def key(self) -> str:
        return self.meta.key(self.mip)

    def mip_key(self, mip: int) -> str:
        return self.meta.key(self.meta.to_mip(mip))

    @property
    def bounds(self) -> Bbox:
        return self.meta.bounds(self.mip)

    def mip_bounds(self, mip: int) -> Bbox:
        return self.meta.bounds(self.meta.to_mip(mip))
