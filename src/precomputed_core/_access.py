"""Reading and writing voxels by slicing: the README's ``vol[...]`` and ``vol[...] = array``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _info
from ._array_input import as_write_array
from ._bbox import Bbox
from ._cutout import VolumeCutout
from ._options import cache_control
from ._vec import Vec
from ._volume import ReadOptions, WriteOptions
from .exceptions import EmptyRequestError, GeometryError, OutOfBoundsError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._dispatch import Dispatcher, Recipe
    from ._meta import LayerMeta
    from ._volume import Volume

__all__ = ["VolumeAccess"]


class VolumeAccess:
    """Mixin for ``CloudVolume``: slicing reads and writes, ``download``, ``exists``, ``delete``.

    Boxes are voxels at ``self.mip`` (x, y, z); arrays are (x, y, z, c).
    """

    _volume: Volume
    _dispatch: Dispatcher
    mip: int
    bounded: bool
    autocrop: bool
    fill_missing: bool
    non_aligned_writes: bool
    progress: bool
    cdn_cache: Any
    compress: str | None
    dataset_name: str
    layer: str
    layer_type: str
    num_channels: int
    resolution: Vec

    if TYPE_CHECKING:

        @property
        def meta(self) -> LayerMeta: ...

        @property
        def cloudpath(self) -> str: ...

        def _recipe(self) -> Recipe: ...

    def _voxel_box(self, box: Bbox, mip: int) -> Bbox:
        """A box in whole voxels; fractional corners are truncated, as cloud-volume does."""
        if box.is_physical:
            box = box.convert_units("vx", self.meta.resolution(mip))
        return box.astype(np.int64) if box.dtype.kind == "f" else box

    @property
    def _crop(self) -> bool:
        # The README: autocrop applies when bounded is False; bounded=True still refuses.
        return self.autocrop and not self.bounded

    def _channels(self, chan: slice) -> None:
        if not (0 <= chan.start <= self.num_channels and 0 <= chan.stop <= self.num_channels):
            raise OutOfBoundsError(f"channels {chan.start}:{chan.stop} are outside 0:{self.num_channels}")

    def _read(self, box: Bbox, mip: int, channels: int) -> npt.NDArray[Any]:
        if box.subvoxel() or channels <= 0:
            raise EmptyRequestError(f"{box} with {max(channels, 0)} channels selects no voxels")
        if box.volume() >= 2**62:
            raise GeometryError(f"{box} has {box.volume()} voxels: far too many to read at once")
        options = ReadOptions(self.fill_missing, self.progress)
        return self._dispatch.read(self._volume, self._recipe(), box, mip=mip, options=options)

    def __getitem__(self, slices: Any) -> VolumeCutout:
        """Read voxels: ``vol[x0:x1, y0:y1, z0:z1]`` (steps allowed) as an (x, y, z, c) cutout."""
        mip = self.mip
        if isinstance(slices, Bbox):
            slices = self._voxel_box(slices, mip).to_slices()
        reified = self.meta.context(mip).reify_slices(slices, bounded=self.bounded, autocrop=self._crop)
        box = Bbox([s.start for s in reified[:3]], [max(s.start, s.stop) for s in reified[:3]])
        chan = reified[3]
        self._channels(chan)
        image = self._read(box, mip, len(range(chan.start, chan.stop, chan.step)))
        steps = tuple(s.step for s in reified)
        if steps != (1, 1, 1, 1) or (chan.start, chan.stop) != (0, self.num_channels):
            sx, sy, sz, sc = steps
            image = np.asfortranarray(image[::sx, ::sy, ::sz, chan.start : chan.stop : sc])
        return self._cutout(image, box, mip)

    def download(self, bbox: Any, mip: int | None = None) -> VolumeCutout:
        """Read a box (Bbox, slices or ``np.s_``) at ``mip`` (default: ``vol.mip``)."""
        mip = self.mip if mip is None else self.meta.to_mip(mip)
        box = self._box(bbox, mip, bounded=self.bounded)
        return self._cutout(self._read(box, mip, self.num_channels), box, mip)

    def _cutout(self, image: npt.NDArray[Any], box: Bbox, mip: int) -> VolumeCutout:
        return VolumeCutout.wrap(
            image, dataset_name=self.dataset_name, layer=self.layer, mip=mip,
            layer_type=self.layer_type, bounds=box, resolution=self.meta.resolution(mip),
            cloudpath=self.cloudpath,
        )  # fmt: skip

    def __setitem__(self, slices: Any, value: Any) -> None:
        """Write an (x, y, z[, c]) array or a scalar into ``vol[x0:x1, y0:y1, z0:z1]``."""
        mip = self.mip
        if isinstance(slices, Bbox):
            slices = self._voxel_box(slices, mip).to_slices()
        reified = self.meta.context(mip).reify_slices(slices, bounded=self.bounded)
        if any(s.step != 1 for s in reified):
            raise GeometryError(
                f"writes take a contiguous box; steps {[s.step for s in reified]} are not supported"
            )
        chan = reified[3]
        if (chan.start, chan.stop) != (0, self.num_channels):
            raise GeometryError(
                f"writes cover all {self.num_channels} channels; a channel range "
                f"{chan.start}:{chan.stop} is not supported (read, modify and write the whole box)"
            )
        box = Bbox([s.start for s in reified[:3]], [max(s.start, s.stop) for s in reified[:3]])
        shape = (*(int(v) for v in box.size3()), self.num_channels)
        array = as_write_array(value, shape, self.meta.dtype)  # type: ignore[arg-type]
        box, array = self._crop_write(box, array, mip)
        if box.subvoxel():
            return
        self._dispatch.write(self._volume, self._recipe(), box, array, mip=mip, options=self._write_options())

    def _write_options(self) -> WriteOptions:
        _info.check_data_type(self.meta.dtype)
        return WriteOptions(
            compress=self.compress,
            cache_control=cache_control(self.cdn_cache),
            non_aligned_writes=self.non_aligned_writes,
            progress=self.progress,
            fill_missing=self.fill_missing,
        )

    def _crop_write(self, box: Bbox, array: npt.NDArray[Any], mip: int) -> tuple[Bbox, npt.NDArray[Any]]:
        bounds = self.meta.bounds(mip)
        if bounds.contains_bbox(box):
            return box, array
        if not self.autocrop:
            raise OutOfBoundsError(
                f"write box {box} reaches outside the volume bounds {bounds}; voxels outside "
                "cannot be stored: crop the array, or set autocrop=True to drop them"
            )
        inner = Bbox.intersection(box, bounds)
        lo, hi = inner.minpt - box.minpt, inner.maxpt - box.minpt
        return inner, array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]

    def _box(self, obj: Any, mip: int, *, bounded: bool) -> Bbox:
        if isinstance(obj, Bbox):
            obj = self._voxel_box(obj, mip)
            if obj.ndim != 3:
                raise GeometryError(f"{obj} has {obj.ndim} axes; a box here has 3 (x, y, z)")
        box = Bbox.create(obj, context=self.meta.bounds(mip), bounded=bounded, autocrop=self._crop)
        return Bbox(box.minpt[:3], box.maxpt[:3])

    def exists(self, bbox: Any) -> dict[str, bool]:
        """Which chunks covering ``bbox`` (slices or Bbox, this mip) exist: ``{key: bool}``."""
        return self._volume.exists(self._box(bbox, self.mip, bounded=True), mip=self.mip)

    def delete(self, bbox: Any) -> None:
        """Delete the chunks of a chunk-aligned ``bbox`` at this mip."""
        self._volume.delete(self._box(bbox, self.mip, bounded=True), mip=self.mip)

    def bbox_to_mip(self, bbox: Any, mip: int, to_mip: int) -> Bbox:
        """Convert a box in voxels of ``mip`` into voxels of ``to_mip`` (grown to whole voxels)."""
        box = self._box(bbox, self.meta.to_mip(mip), bounded=False)
        return self.meta.bbox_to_mip(box, self.meta.to_mip(mip), self.meta.to_mip(to_mip))

    def slices_from_global_coords(self, slices: Any) -> tuple[slice, ...]:
        """Slices at this mip for a region given in mip-0 voxels (e.g. from Neuroglancer)."""
        return self.bbox_to_mip(slices, 0, self.mip).to_slices()

    def slices_to_global_coords(self, slices: Any) -> tuple[slice, ...]:
        """Slices in mip-0 voxels for a region given at this mip."""
        return self.bbox_to_mip(slices, self.mip, 0).to_slices()

    def point_to_mip(self, pt: Any, mip: int, to_mip: int) -> Vec:
        """A voxel coordinate at ``mip`` converted to ``to_mip`` (rounded down)."""
        ratio = np.asarray(self.meta.resolution(self.meta.to_mip(mip)), float) / np.asarray(
            self.meta.resolution(self.meta.to_mip(to_mip)), float
        )
        return Vec(*np.floor(np.asarray(pt, float) * ratio).astype(np.int64))
