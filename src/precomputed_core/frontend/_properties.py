"""The README's per-mip properties (``vol.resolution``) and their ``mip_*`` forms, as descriptors.

``CloudVolume`` declares each one in a line, ``resolution = AtMip(LayerView.resolution)``
and ``mip_resolution = ForMip(LayerView.resolution)``; the value comes from the
``LayerView`` it holds, at ``vol.mip``. Coordinates are voxels at that mip
(x, y, z); resolutions are nanometers.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

import numpy as np

from ..exceptions import FeatureUnavailableError
from ..geometry import Vec

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..geometry import Bbox
    from ..interfaces import Volume
    from ..meta import LayerMeta

__all__ = ["AtMip", "ForMip", "LayerView", "OfLayer"]

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")


class LayerView:
    """What a layer is at each mip: from its info, and from its volume what only that knows.

    The chunk size and the encoding are Precomputed storage facts: the volume gives
    them (``Volume.chunk_grid`` and ``Volume.encoding``), so a volume served by
    another driver never has its info searched for ``chunk_sizes``.
    """

    def __init__(self, volume: Volume) -> None:
        self._volume = volume

    @property
    def meta(self) -> LayerMeta:
        """The volume's info, read by mip."""
        return self._volume.meta

    # layer-wide

    def available_mips(self) -> range:
        """The mips the info defines, ``range(len(scales))``; 0 is the finest."""
        return self.meta.available_mips

    def available_resolutions(self) -> list[Vec]:
        """Nanometers per voxel (x, y, z) of each mip."""
        return [self.meta.resolution(mip) for mip in self.meta.available_mips]

    def ndim(self) -> int:
        """The number of axes of the layer's arrays: 4 (x, y, z and channel)."""
        return 4

    def num_channels(self) -> int:
        """Channels per voxel, the info's ``num_channels`` (the last axis of every cutout)."""
        return self.meta.num_channels

    def layer_type(self) -> str:
        """``image`` or ``segmentation``."""
        return self.meta.layer_type

    def dtype(self) -> np.dtype[Any]:
        """The voxels' numpy dtype, from the info's ``data_type``."""
        return self.meta.dtype

    def data_type(self) -> str:
        """The info's ``data_type``, in lower case (``'uint8'``, ``'uint64'``, ``'float32'``...)."""
        return self.meta.data_type

    # per mip

    def scale(self, mip: int) -> dict[str, Any]:
        """The mip's entry of the info's ``scales``: the live dict, so edits change ``vol.info``."""
        return self.meta.scale(mip)

    def ndim_at(self, mip: int) -> int:
        """The length of ``shape`` at ``mip``: 4 (x, y, z and channel)."""
        return len(self.shape(mip))

    def compressed_segmentation_block_size(self, mip: int) -> Any:
        """The scale's ``compressed_segmentation_block_size`` as the info gives it, or None."""
        return self.meta.scale(mip).get("compressed_segmentation_block_size")

    def shape(self, mip: int) -> tuple[int, ...]:
        """The layer's shape at the mip, (x, y, z, channels): a tuple, as cloud-volume's (and numpy's) are."""
        return tuple(int(v) for v in self.meta.shape(mip))

    def volume_size(self, mip: int) -> Vec:
        """The layer's size in voxels of the mip (x, y, z): the scale's ``size``."""
        return self.meta.volume_size(mip)

    def voxel_offset(self, mip: int) -> Vec:
        """Where the layer starts, in voxels of the mip (x, y, z): the scale's ``voxel_offset``.

        (0, 0, 0) when the scale gives none.
        """
        return self.meta.voxel_offset(mip)

    def resolution(self, mip: int) -> Vec:
        """Nanometers per voxel (x, y, z)."""
        return self.meta.resolution(mip)

    def downsample_ratio(self, mip: int) -> Vec:
        """This mip's resolution divided by mip 0's, per axis."""
        return self.meta.downsample_ratio(mip)

    def key(self, mip: int) -> str:
        """The scale's ``key``: where the mip's objects are, relative to the layer (``4_4_40``)."""
        return self.meta.key(mip)

    def bounds(self, mip: int) -> Bbox:
        """The layer's box in voxels of the mip: ``[voxel_offset, voxel_offset + volume_size)``."""
        return self.meta.bounds(mip)

    def chunk_size(self, mip: int) -> Vec:
        """The size of a stored chunk in voxels (x, y, z).

        Raises ``FeatureUnavailableError`` for a volume that stores no chunks of a fixed size.
        """
        grid = self._volume.chunk_grid(mip)
        if grid is None:
            raise FeatureUnavailableError(
                f"{type(self._volume).__name__} ({self._volume.url}) stores no chunks of a fixed size"
            )
        return Vec(*grid.chunk, dtype=np.int64)

    def encoding(self, mip: int) -> str | None:
        """The chunk encoding (``raw``, ``jpeg``, ...); None for a volume that has none."""
        return self._volume.encoding(mip)


class _Host(Protocol):
    """What the descriptors need of the object they sit on (``CloudVolume``)."""

    @property
    def mip(self) -> int: ...

    @property
    def _layer_view(self) -> LayerView: ...


class _Descriptor(ABC, Generic[R, V]):
    """Reads ``V`` from the host's view with ``read`` (a ``LayerView`` method); itself on the class."""

    def __init__(self, read: R) -> None:
        self._read = read
        self.__doc__ = getattr(read, "__doc__", None)

    @overload
    def __get__(self, host: None, owner: type) -> Self: ...

    @overload
    def __get__(self, host: _Host, owner: type) -> V: ...

    def __get__(self, host: _Host | None, owner: type) -> V | Self:
        return self if host is None else self._value(host)

    @abstractmethod
    def _value(self, host: _Host) -> V:
        """The value for ``host``."""


class OfLayer(_Descriptor[Callable[[LayerView], T], T]):
    """A read-only property of the whole layer: ``read(view)``."""

    def _value(self, host: _Host) -> T:
        return self._read(host._layer_view)


class AtMip(_Descriptor[Callable[[LayerView, int], T], T]):
    """A read-only property: ``read(view, vol.mip)``."""

    def _value(self, host: _Host) -> T:
        return self._read(host._layer_view, host.mip)


class ForMip(_Descriptor[Callable[[LayerView, int], T], Callable[[Any], T]]):
    """A method ``vol.mip_<name>(mip)``: ``read(view, mip)``, the mip an index or a resolution."""

    def __init__(self, read: Callable[[LayerView, int], T]) -> None:
        super().__init__(read)
        if read.__doc__:
            # Named after the read, not the attribute: mip_underlying is mip_chunk_size, and
            # ndim_at is what vol.ndim is at a mip.
            name = getattr(read, "__name__", "").removesuffix("_at")
            self.__doc__ = (
                f"``vol.{name}`` at a given mip (an index or a resolution).\n\n"
                + inspect.cleandoc(read.__doc__)
            )

    def _value(self, host: _Host) -> Callable[[Any], T]:
        view, read = host._layer_view, self._read

        def at(mip: Any) -> T:
            return read(view, view.meta.to_mip(mip))

        return at
