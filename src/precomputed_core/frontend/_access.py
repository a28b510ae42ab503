"""Voxels by slicing and by box: what ``vol[...]``, ``download``, ``exists`` and ``delete`` do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import EmptyRequestError, FeatureUnavailableError, GeometryError, OutOfBoundsError
from ..geometry import Bbox, Vec
from ..parallel import Recipe
from ._array_input import as_write_array
from ._cutout import VolumeCutout

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from ..cache import CacheSettings
    from ..interfaces import Volume
    from ..meta import CloudPath, LayerMeta
    from ..parallel import Dispatcher
    from ._options import Settings

__all__ = ["VoxelAccess"]


class VoxelAccess:
    """Reads and writes of one opened layer, by slices or by box.

    Held by ``CloudVolume``, which hands it the README's options as they stand at
    each call (``Settings``). Boxes are voxels at a mip (x, y, z); arrays are
    (x, y, z, c).
    """

    def __init__(
        self,
        path: CloudPath,
        volume: Volume,
        dispatch: Dispatcher,
        driver_options: dict[str, Any],
        cache: CacheSettings | None = None,
    ) -> None:
        self.path = path
        self.volume = volume
        self.dispatch = dispatch
        self._driver_options = driver_options
        self._cache = cache

    @property
    def meta(self) -> LayerMeta:
        return self.volume.meta

    def recipe(self) -> Recipe:
        """What a worker process needs to open this layer itself (the cache's settings as they are now)."""
        options = dict(self._driver_options)
        if self._cache is not None:
            options["cache"] = self._cache.to_json()
        return Recipe(self.path.url, self.meta.info, options)

    # --- boxes -------------------------------------------------------------------

    def voxel_box(self, box: Bbox, mip: int) -> Bbox:
        """A box in whole voxels; fractional corners are truncated, as cloud-volume does."""
        if box.is_physical:
            box = box.convert_units("vx", self.meta.resolution(mip))
        return box.astype(np.int64) if box.dtype.kind == "f" else box

    def box(self, obj: Any, mip: int, *, bounded: bool, crop: bool) -> Bbox:
        """The (x, y, z) box of a Bbox, slices or ``np.s_`` at ``mip``."""
        if isinstance(obj, Bbox):
            obj = self.voxel_box(obj, mip)
            if obj.ndim != 3:
                raise GeometryError(f"{obj} has {obj.ndim} axes; a box here has 3 (x, y, z)")
        box = Bbox.create(obj, context=self.meta.bounds(mip), bounded=bounded, autocrop=crop)
        return Bbox(box.minpt[:3], box.maxpt[:3])

    def bbox_to_mip(self, bbox: Any, mip: int, to_mip: int, settings: Settings) -> Bbox:
        """A box in voxels of ``mip`` in voxels of ``to_mip`` (grown to whole voxels)."""
        mip, to_mip = self.meta.to_mip(mip), self.meta.to_mip(to_mip)
        box = self.box(bbox, mip, bounded=False, crop=settings.crop)
        return self.meta.bbox_to_mip(box, mip, to_mip)

    def point_to_mip(self, pt: Any, mip: int, to_mip: int) -> Vec:
        """A voxel coordinate at ``mip`` converted to ``to_mip`` (rounded down)."""
        ratio = np.asarray(self.meta.resolution(self.meta.to_mip(mip)), float) / np.asarray(
            self.meta.resolution(self.meta.to_mip(to_mip)), float
        )
        return Vec(*np.floor(np.asarray(pt, float) * ratio).astype(np.int64))

    # --- reads ---------------------------------------------------------------------

    def cutout(self, image: npt.NDArray[Any], box: Bbox, mip: int) -> VolumeCutout:
        return VolumeCutout.wrap(
            image, dataset_name=self.path.dataset, layer=self.path.layer, mip=mip,
            layer_type=self.meta.layer_type, bounds=box, resolution=self.meta.resolution(mip),
            cloudpath=self.path.url,
        )  # fmt: skip

    def _read(self, box: Bbox, mip: int, channels: int, settings: Settings) -> npt.NDArray[Any]:
        if box.subvoxel() or channels <= 0:
            raise EmptyRequestError(f"{box} with {max(channels, 0)} channels selects no voxels")
        if box.volume() >= 2**62:
            raise GeometryError(f"{box} has {box.volume()} voxels: far too many to read at once")
        options = settings.read_options()
        return self.dispatch.read(self.volume, self.recipe(), box, mip=mip, options=options)

    def read_slices(self, slices: Any, settings: Settings) -> VolumeCutout:
        """``vol[x0:x1, y0:y1, z0:z1]`` (steps allowed) as an (x, y, z, c) cutout."""
        mip, channels = settings.mip, self.meta.num_channels
        if isinstance(slices, Bbox):
            slices = self.voxel_box(slices, mip).to_slices()
        context = self.meta.context(mip)
        reified = context.reify_slices(slices, bounded=settings.bounded, autocrop=settings.crop)
        box = Bbox([s.start for s in reified[:3]], [max(s.start, s.stop) for s in reified[:3]])
        chan = reified[3]
        if not (0 <= chan.start <= channels and 0 <= chan.stop <= channels):
            raise OutOfBoundsError(f"channels {chan.start}:{chan.stop} are outside 0:{channels}")
        image = self._read(box, mip, len(range(chan.start, chan.stop, chan.step)), settings)
        steps = tuple(s.step for s in reified)
        if steps != (1, 1, 1, 1) or (chan.start, chan.stop) != (0, channels):
            sx, sy, sz, sc = steps
            image = np.asfortranarray(image[::sx, ::sy, ::sz, chan.start : chan.stop : sc])
        return self.cutout(image, box, mip)

    def download(self, bbox: Any, mip: int, settings: Settings) -> VolumeCutout:
        """A box (Bbox, slices or ``np.s_``) at ``mip``, every channel."""
        box = self.box(bbox, mip, bounded=settings.bounded, crop=settings.crop)
        return self.cutout(self._read(box, mip, self.meta.num_channels, settings), box, mip)

    # --- writes and chunk bookkeeping ------------------------------------------------

    def write_slices(self, slices: Any, value: Any, settings: Settings) -> None:
        """``vol[...] = value``: an array of the box's shape, or one value for the whole box."""
        mip, channels = settings.mip, self.meta.num_channels
        if isinstance(slices, Bbox):
            slices = self.voxel_box(slices, mip).to_slices()
        reified = self.meta.context(mip).reify_slices(slices, bounded=settings.bounded)
        if any(s.step != 1 for s in reified):
            raise GeometryError(
                f"writes take a contiguous box; steps {[s.step for s in reified]} are not supported"
            )
        chan = reified[3]
        if (chan.start, chan.stop) != (0, channels):
            raise GeometryError(
                f"writes cover all {channels} channels; a channel range "
                f"{chan.start}:{chan.stop} is not supported (read, modify and write the whole box)"
            )
        box = Bbox([s.start for s in reified[:3]], [max(s.start, s.stop) for s in reified[:3]])
        shape = (*(int(v) for v in box.size3()), channels)
        array = as_write_array(value, shape, self.meta.dtype)  # type: ignore[arg-type]
        box, array = self._crop_write(box, array, mip, autocrop=settings.autocrop)
        if box.subvoxel():
            return
        options = settings.write_options()
        self.dispatch.write(self.volume, self.recipe(), box, array, mip=mip, options=options)

    def _crop_write(
        self, box: Bbox, array: npt.NDArray[Any], mip: int, *, autocrop: bool
    ) -> tuple[Bbox, npt.NDArray[Any]]:
        bounds = self.meta.bounds(mip)
        if bounds.contains_bbox(box):
            return box, array
        if not autocrop:
            raise OutOfBoundsError(
                f"write box {box} reaches outside the volume bounds {bounds}; voxels outside "
                "cannot be stored: crop the array, or set autocrop=True to drop them"
            )
        inner = Bbox.intersection(box, bounds)
        lo, hi = inner.minpt - box.minpt, inner.maxpt - box.minpt
        return inner, array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]

    def exists(self, bbox: Any, mip: int, settings: Settings) -> dict[str, bool]:
        """Which stored chunks covering ``bbox`` exist: ``{name: bool}``."""
        return self.volume.exists(self.box(bbox, mip, bounded=True, crop=settings.crop), mip=mip)

    def delete(self, bbox: Any, mip: int, settings: Settings) -> None:
        """Delete the chunks of a chunk-aligned ``bbox``."""
        self.volume.delete(self.box(bbox, mip, bounded=True, crop=settings.crop), mip=mip)

    def work_boxes(self, bbox: Any, mip: int, settings: Settings) -> Iterator[Bbox]:
        """The cells of the volume's work grid (shards, or chunks) over ``bbox``, clipped to it."""
        grid = self.volume.work_grid(mip)
        if grid is None:
            raise FeatureUnavailableError(
                f"{self.volume.url} does not say how its storage is split into boxes"
            )
        cells = grid.cover(self.box(bbox, mip, bounded=True, crop=True))
        for lo, hi in zip(cells.lo, cells.hi):
            yield Bbox(lo, hi)
