"""``CloudVolume``: the README's user-facing class, a thin layer over a ``Volume``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _info
from ._access import VolumeAccess
from ._dispatch import Dispatcher, Recipe
from ._opening import open_volume
from ._options import check_cache, parallel_count
from ._paths import parse_cloudpath
from ._pending import PendingFeatures
from ._progress import INTERACTIVE
from ._properties import VolumeProperties
from ._provenance import Provenance
from ._shared_memory_api import SharedMemoryAPI
from .plugins import get_codec

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import numpy.typing as npt

    from ._meta import LayerMeta
    from ._paths import CloudPath

__all__ = ["CloudVolume"]


class CloudVolume(VolumeAccess, SharedMemoryAPI, PendingFeatures, VolumeProperties):
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
        endpoint_url: str | None = None,
    ) -> None:
        check_cache(cache)
        self._dispatch = Dispatcher(parallel_count(parallel))
        given = {"secrets": secrets, "endpoint_url": endpoint_url}
        self._options: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
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
        return self._dispatch.processes

    @parallel.setter
    def parallel(self, parallel: bool | int) -> None:
        self._dispatch.set_processes(parallel_count(parallel))

    def _recipe(self) -> Recipe:
        """What a worker process needs to open this layer itself."""
        return Recipe(self._path.url, self.meta.info, dict(self._options))

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

    # --- lifetime ------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the path, the current info and the options; threads and handles are reopened."""
        return {
            "cloudpath": self._path.url,
            "info": self.meta.info,
            "provenance": None if self._provenance is None else dict(self._provenance),
            "mip": self.mip,
            "bounded": self.bounded,
            "autocrop": self.autocrop,
            "fill_missing": self.fill_missing,
            "non_aligned_writes": self.non_aligned_writes,
            "progress": self.progress,
            "cdn_cache": self.cdn_cache,
            "compress": self.compress,
            "parallel": self.parallel,
            "options": self._options,
            "shared_memory_id": self._shared_memory_id,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        options, shared = state.pop("options"), state.pop("shared_memory_id")
        self.__init__(**state, **options)  # type: ignore[misc]
        self._shared_memory_id = shared

    def close(self) -> None:
        """Stop this volume's threads and worker processes and close its storage connections."""
        self._dispatch.close()
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
