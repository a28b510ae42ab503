"""``CloudVolume``: the README's user-facing class, a thin layer over a ``Volume``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _info
from ._array_input import as_write_array
from ._bbox import Bbox
from ._cutout import VolumeCutout
from ._opening import open_volume
from ._options import cache_control, check_cache, parallel_count
from ._paths import parse_cloudpath
from ._progress import INTERACTIVE
from ._properties import VolumeProperties
from ._provenance import Provenance
from ._volume import ReadOptions, WriteOptions
from .exceptions import FeatureUnavailableError, GeometryError, OutOfBoundsError
from .plugins import get_codec

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import numpy.typing as npt

    from ._meta import LayerMeta
    from ._paths import CloudPath

__all__ = ["CloudVolume"]


def _not_yet(feature: str, issue: str) -> FeatureUnavailableError:
    return FeatureUnavailableError(f"{feature} is not available yet in this version of precomputed ({issue})")


class CloudVolume(VolumeProperties):
    """Read and write a Neuroglancer Precomputed layer as an (x, y, z, c) array.

    ``CloudVolume(cloudpath, mip=0, bounded=True, fill_missing=False,
    autocrop=False, cache=False, cdn_cache=False, progress=INTERACTIVE,
    info=None, provenance=None, compress=None, non_aligned_writes=False,
    parallel=1)`` as in cloud-volume's README. ``cloudpath`` may be
    ``file://``, ``mem://`` or any protocol an installed driver serves, with
    an optional ``precomputed://`` prefix, or a local path. ``compress=None``
    writes uncompressed chunks (readable by tensorstore from disk); ``'gzip'``
    compresses them.

    Examples
    --------
    >>> info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [128, 128, 64])
    >>> vol = CloudVolume("mem://doc/example/image", info=info, progress=False)
    >>> vol.commit_info()
    >>> vol[:, :, :] = (np.arange(128 * 128 * 64).reshape(128, 128, 64) % 251).astype(np.uint8)
    >>> cutout = vol[10:20, 0:5, 7]
    >>> cutout.shape, int(cutout[1, 2, 0, 0]), cutout.bounds
    ((10, 5, 1, 1), 138, Bbox([10, 0, 7],[20, 5, 8], dtype=np.int64, unit='vx'))
    """

    def __init__(
        self,
        cloudpath: str | os.PathLike[str],
        mip: int | Sequence[float] = 0,
        bounded: bool = True,
        fill_missing: bool = False,
        autocrop: bool = False,
        cache: bool | str = False,
        cdn_cache: bool | int | str = False,
        progress: bool = INTERACTIVE,
        info: dict[str, Any] | None = None,
        provenance: dict[str, Any] | None = None,
        compress: bool | str | None = None,
        non_aligned_writes: bool = False,
        parallel: bool | int = 1,
        *,
        secrets: Any = None,
    ) -> None:
        check_cache(cache)
        self._parallel = parallel_count(parallel)
        self._options: dict[str, Any] = {} if secrets is None else {"secrets": secrets}
        self._path = parse_cloudpath(cloudpath)
        self._volume = open_volume(self._path, info=info, **self._options)
        self.mip = mip  # type: ignore[assignment]
        self.bounded = bool(bounded)
        self.autocrop = bool(autocrop)
        self.fill_missing = bool(fill_missing)
        self.non_aligned_writes = bool(non_aligned_writes)
        self.progress = bool(progress)
        self.cdn_cache = cdn_cache
        self.compress = compress
        self._provenance = None if provenance is None else Provenance(provenance)
        self._shared_memory_id = self.generate_shared_memory_location()

    # --- construction of new layers ------------------------------------------

    @classmethod
    def create_new_info(
        cls,
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
    ) -> dict[str, Any]:
        """Build a validated info for a new layer (cloud-volume's argument order).

        ``resolution`` is nanometers per voxel, ``voxel_offset`` and
        ``volume_size`` are voxels (x, y, z); ``max_mip`` adds that many
        downsampled scales, each ``factor`` coarser than the last.
        Raises ``UnsupportedDataTypeError`` for types outside the spec,
        ``UnsupportedEncodingError`` for an encoding no installed codec has and
        ``InfoValidationError`` for other bad values.
        """
        info = _info.create_info(
            num_channels, layer_type, data_type, encoding, resolution, voxel_offset, volume_size,
            mesh=mesh, skeletons=skeletons, chunk_size=chunk_size,
            compressed_segmentation_block_size=compressed_segmentation_block_size,
            max_mip=max_mip, factor=factor, redirect=redirect, encoding_level=encoding_level,
        )  # fmt: skip
        for scale in info["scales"]:
            get_codec(scale["encoding"]).check(np.dtype(info["data_type"]), info["num_channels"], scale)
        return info

    # --- identity --------------------------------------------------------------

    @property
    def meta(self) -> LayerMeta:
        return self._volume.meta

    @property
    def cloudpath(self) -> str:
        return self._path.url

    @property
    def layer_cloudpath(self) -> str:
        return self._path.url

    @property
    def base_cloudpath(self) -> str:
        return self._path.base_url

    @property
    def info_cloudpath(self) -> str:
        return self._path.child("info")

    @property
    def dataset_name(self) -> str:
        return self._path.dataset

    @dataset_name.setter
    def dataset_name(self, name: str) -> None:
        self._reopen(self._path.with_dataset(name))

    @property
    def layer(self) -> str:
        return self._path.layer

    @layer.setter
    def layer(self, name: str) -> None:
        self._reopen(self._path.with_layer(name))

    def _reopen(self, path: CloudPath) -> None:
        volume = open_volume(path, info=None, **self._options)
        self._volume.close()
        self._path, self._volume, self._provenance = path, volume, None
        self.mip = min(self.mip, len(self.meta.scales) - 1)

    # --- options ---------------------------------------------------------------

    @property
    def mip(self) -> int:
        return self._mip

    @mip.setter
    def mip(self, mip: int | Sequence[float]) -> None:
        self._mip = self.meta.to_mip(mip)

    @property
    def parallel(self) -> int:
        return self._parallel

    @parallel.setter
    def parallel(self, parallel: bool | int) -> None:
        self._parallel = parallel_count(parallel)

    @property
    def compress(self) -> str | None:
        return self._compress

    @compress.setter
    def compress(self, compress: bool | str | None) -> None:
        from ._compression import normalize_compress

        self._compress = normalize_compress(compress)

    # --- info and provenance ---------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        return self.meta.info

    @info.setter
    def info(self, info: dict[str, Any]) -> None:
        _info.validate_info(info)
        self.meta.info = info

    def refresh_info(self) -> dict[str, Any]:
        """Read the info again from storage, discarding local edits."""
        info = self._volume.refresh_info()
        self.mip = min(self.mip, len(self.meta.scales) - 1)
        return info

    def commit_info(self) -> None:
        """Validate ``vol.info`` and write it to storage."""
        self._volume.commit_info()

    def add_scale(
        self,
        factor: Sequence[float],
        encoding: str | None = None,
        chunk_size: Sequence[int] | None = None,
        *,
        encoding_level: int | None = None,
    ) -> dict[str, Any]:
        """Add a mip ``factor`` times coarser than mip 0 to ``vol.info`` (not committed)."""
        scale = _info.add_scale(
            self.info, factor, encoding=encoding, chunk_size=chunk_size, encoding_level=encoding_level
        )
        get_codec(scale["encoding"]).check(self.meta.dtype, self.num_channels, scale)
        return scale

    def reset_scales(self) -> None:
        """Drop every mip but 0 from ``vol.info`` (not committed)."""
        self.info["scales"] = self.info["scales"][:1]
        self.mip = 0

    @property
    def provenance(self) -> Provenance:
        if self._provenance is None:
            self.refresh_provenance()
        assert self._provenance is not None
        return self._provenance

    @provenance.setter
    def provenance(self, provenance: dict[str, Any]) -> None:
        self._provenance = Provenance(provenance)

    def refresh_provenance(self) -> Provenance:
        """Read the provenance file again (an empty one if the layer has none)."""
        self._provenance = Provenance(self._volume.fetch_provenance() or {})
        return self._provenance

    def commit_provenance(self) -> None:
        """Validate ``vol.provenance`` and write it to storage."""
        self.provenance.validate()
        self._volume.commit_provenance(dict(self.provenance))

    # --- reading and writing -----------------------------------------------------

    def _voxel_box(self, box: Bbox, mip: int) -> Bbox:
        return box.convert_units("vx", self.meta.resolution(mip)) if box.is_physical else box

    def _channels(self, chan: slice) -> None:
        if not 0 <= chan.start <= chan.stop <= self.num_channels:
            raise OutOfBoundsError(f"channels {chan.start}:{chan.stop} are outside 0:{self.num_channels}")

    def __getitem__(self, slices: Any) -> VolumeCutout:
        """Read voxels: ``vol[x0:x1, y0:y1, z0:z1]`` (steps allowed) as an (x, y, z, c) cutout."""
        mip = self.mip
        if isinstance(slices, Bbox):
            slices = self._voxel_box(slices, mip).to_slices()
        reified = self.meta.bbox(mip).reify_slices(slices, bounded=self.bounded, autocrop=self.autocrop)
        box = Bbox([s.start for s in reified[:3]], [max(s.start, s.stop) for s in reified[:3]])
        chan = reified[3]
        self._channels(chan)
        image = self._volume.read(box, mip=mip, options=ReadOptions(self.fill_missing, self.progress))
        steps = tuple(s.step for s in reified)
        if steps != (1, 1, 1, 1) or (chan.start, chan.stop) != (0, self.num_channels):
            sx, sy, sz, sc = steps
            image = np.asfortranarray(image[::sx, ::sy, ::sz, chan.start : chan.stop : sc])
        return self._cutout(image, box, mip)

    def download(self, bbox: Any, mip: int | None = None) -> VolumeCutout:
        """Read a box (Bbox, slices or ``np.s_``) at ``mip`` (default: ``vol.mip``)."""
        mip = self.mip if mip is None else self.meta.to_mip(mip)
        box = self._box(bbox, mip, bounded=self.bounded)
        image = self._volume.read(box, mip=mip, options=ReadOptions(self.fill_missing, self.progress))
        return self._cutout(image, box, mip)

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
        reified = self.meta.bbox(mip).reify_slices(slices, bounded=self.bounded)
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
        _info.check_data_type(self.meta.dtype)
        options = WriteOptions(
            compress=self.compress,
            cache_control=cache_control(self.cdn_cache),
            non_aligned_writes=self.non_aligned_writes,
            progress=self.progress,
        )
        self._volume.write(box, array, mip=mip, options=options)

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
        box = Bbox.create(obj, context=self.meta.bounds(mip), bounded=bounded, autocrop=self.autocrop)
        return Bbox(box.minpt[:3], box.maxpt[:3])

    def exists(self, bbox: Any) -> dict[str, bool]:
        """Which chunks covering ``bbox`` (slices or Bbox, this mip) exist: ``{key: bool}``."""
        return self._volume.exists(self._box(bbox, self.mip, bounded=True), mip=self.mip)

    def delete(self, bbox: Any) -> None:
        """Delete the chunks of a chunk-aligned ``bbox`` at this mip."""
        self._volume.delete(self._box(bbox, self.mip, bounded=True), mip=self.mip)

    # --- coordinates -------------------------------------------------------------

    def bbox_to_mip(self, bbox: Any, mip: int, to_mip: int) -> Bbox:
        """Convert a box in voxels of ``mip`` into voxels of ``to_mip`` (grown to whole voxels)."""
        box = self._box(bbox, self.meta.to_mip(mip), bounded=False)
        return self.meta.bbox_to_mip(box, self.meta.to_mip(mip), self.meta.to_mip(to_mip))

    def slices_from_global_coords(self, slices: Any) -> tuple[slice, ...]:
        """Slices at this mip for a region given in mip-0 voxels (e.g. from Neuroglancer)."""
        return self.bbox_to_mip(slices, 0, self.mip).to_slices()

    # --- later features ------------------------------------------------------------

    @property
    def cache(self) -> Any:
        raise _not_yet("the local disk cache (vol.cache)", "use cache=False")

    @property
    def mesh(self) -> Any:
        raise _not_yet("mesh access (vol.mesh)", "meshes come in a later release")

    @property
    def skeleton(self) -> Any:
        raise _not_yet("skeleton access (vol.skeleton)", "skeletons come in a later release")

    @property
    def shared_memory_id(self) -> str:
        return self._shared_memory_id

    @shared_memory_id.setter
    def shared_memory_id(self, location: str) -> None:
        self._shared_memory_id = str(location)

    @staticmethod
    def generate_shared_memory_location() -> str:
        """A new unique shared memory name (no side effects)."""
        return f"precomputed-shm-{uuid.uuid4().hex}"

    def download_to_shared_memory(self, slices: Any, location: str | None = None) -> Any:
        raise _not_yet("download_to_shared_memory", "it arrives with the parallel scheduler")

    def upload_from_shared_memory(self, location: str, bbox: Any, order: str = "F") -> None:
        raise _not_yet("upload_from_shared_memory", "it arrives with the parallel scheduler")

    def unlink_shared_memory(self) -> None:
        raise _not_yet("unlink_shared_memory", "it arrives with the parallel scheduler")

    # --- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        """Stop this volume's threads and close its storage connections."""
        self._volume.close()

    def __enter__(self) -> CloudVolume:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"CloudVolume({self.cloudpath!r}, mip={self.mip}, bounded={self.bounded}, "
            f"fill_missing={self.fill_missing}, autocrop={self.autocrop}, "
            f"compress={self.compress!r}, non_aligned_writes={self.non_aligned_writes}, "
            f"parallel={self.parallel}, progress={self.progress})"
        )
