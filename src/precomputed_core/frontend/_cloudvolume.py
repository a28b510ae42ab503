"""``CloudVolume``: the README's class, composed of the parts that do the work (see its docstring)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..cache import CacheService, CacheSettings, check_writable
from ..exceptions import (
    CyclicRedirectError,
    FeatureUnavailableError,
    GeometryError,
    InfoValidationError,
    TooManyRedirectsError,
)
from ..format import normalize_compress
from ..geometry import Bbox
from ..image import INTERACTIVE, ChunkLRU, PrecomputedVolume, open_volume, progress_bar
from ..meshes import MeshSource
from ..meta import DEFAULT_SHARD_BYTES, Provenance, parse_cloudpath
from ..parallel import Dispatcher, unlink_segment
from ..skeletons import SkeletonSource
from ..tasks import AUTO, MEMORY_TARGET, downsample_scales, transfer
from ..tasks import from_dask as dask_write
from ..tasks import to_dask as dask_array
from ._access import VoxelAccess
from ._array_input import check_dtype_for_write
from ._files import download_files, download_to_file, upload_from_file
from ._from_numpy import from_numpy
from ._labels import binary_image, crackle_array, mask_except, renumbered
from ._memory_cutout import memory_copy
from ._new_info import add_scale_to, create_new_info
from ._options import (
    Settings,
    background_color,
    cache_control,
    codec_threads,
    compress_level,
    fsspec_options,
    https_path,
    parallel_count,
    refuse_graphene,
    refuse_graphene_arguments,
    seconds,
)
from ._properties import AtMip, ForMip, LayerView, OfLayer
from ._queries import download_point, region_at, scattered_points, unique_labels
from ._segment_properties import read_segment_properties, write_segment_properties
from ._shared_memory import SharedMemoryAccess, new_location
from ._transfer import open_target
from ._views import ConfigView, ImageView

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    import numpy.typing as npt

    from ..geometry import Vec
    from ..interfaces import Store, Volume
    from ..meta import CloudPath, LayerMeta
    from ._cutout import VolumeCutout

__all__ = ["CloudVolume"]


def _is_coordinate_index(slices: Any) -> bool:
    """``vol[xs, ys, zs]``: three lists or 1-d arrays of coordinates (cloud-volume's test)."""
    return (
        isinstance(slices, tuple)
        and len(slices) == 3
        and all(isinstance(s, list | tuple | np.ndarray) and np.ndim(s) == 1 for s in slices)
    )


class CloudVolume:
    """Read and write a Neuroglancer Precomputed layer as an (x, y, z, c) array.

    It holds the opened ``Volume``; a ``VoxelAccess`` (slicing, download, exists,
    delete), a ``SharedMemoryAccess`` and a ``LayerView`` (the per-mip properties)
    over it; and ``cache``, ``mesh`` and ``skeleton`` objects, as cloud-volume does.

    ``CloudVolume(cloudpath, mip=0, bounded=True, fill_missing=False,
    autocrop=False, cache=False, cdn_cache=False, progress=INTERACTIVE,
    info=None, provenance=None, compress=None, non_aligned_writes=False,
    parallel=1)`` as in cloud-volume's README. ``cloudpath`` may be
    ``file://``, ``mem://`` or any protocol an installed driver serves, with
    an optional ``precomputed://`` prefix, or a local path. ``cache=True`` keeps
    what is read and written in ``~/.cloudvolume/cache/$PROTOCOL/$BUCKET/$DATASET/$LAYER``
    (``$CLOUD_VOLUME_CACHE_DIR`` replaces ``~/.cloudvolume/cache``, and so does a
    directory given as ``cache``); ``compress_cache`` and ``cache_max_bytes`` set
    ``vol.cache.compress`` and ``vol.cache.max_bytes``. ``compress=None``
    writes uncompressed chunks (readable by tensorstore from disk); ``'gzip'``
    compresses them. On remote storage, ``request_timeout`` (default 20 s) bounds
    each attempt's wait for the server, and ``total_timeout`` (default 90 s) one
    object's request with all its retries. ``storage_options`` (a dict) goes to the
    fsspec file system of ``gs://``, ``s3://`` and ``http(s)://`` layers, as zarr,
    xarray and dask take it (``{"anon": True}``, ``{"token": ...}``, ``{"headers": ...}``);
    ``secrets`` and ``endpoint_url`` work alongside it. ``np.asarray(vol)`` reads every
    voxel at ``vol.mip`` (``vol[:, :, :]`` as a plain ndarray), as zarr and tensorstore
    arrays convert.

    Examples
    --------
    >>> import numpy as np
    >>> info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [128, 128, 64])
    >>> vol = CloudVolume("mem://doc/example/image", info=info, progress=False)
    >>> vol.commit_info()
    >>> vol[:, :, :] = (np.arange(128 * 128 * 64).reshape(128, 128, 64) % 251).astype(np.uint8)
    >>> cutout = vol[10:20, 0:5, 7]
    >>> cutout.shape, int(cutout[1, 2, 0, 0]), cutout.bounds
    ((10, 5, 1, 1), 138, Bbox([10, 0, 7],[20, 5, 8], dtype=np.int64, unit='vx'))
    """

    image: ImageView
    """cloud-volume's ``vol.image``: the voxel side under its names (``vol.image.download``,
    ``vol.image.lru``...), acting on this volume."""
    config: ConfigView
    """cloud-volume's ``vol.config``: the options (``parallel``, ``progress``,
    ``compress``...) under their names, read and set on this volume."""

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
        provenance: dict[str, Any] | str | None = None,
        compress: bool | str | None = None,
        non_aligned_writes: bool = False,
        parallel: bool | int = 1,
        *,
        secrets: Any = None,
        endpoint_url: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        request_timeout: float | None = None,
        total_timeout: float | None = None,
        compress_cache: bool | None = None,
        cache_max_bytes: int | None = None,
        cache_locking: bool = True,
        compress_level: int | None = None,
        delete_black_uploads: bool = False,
        background_color: int | float = 0,
        overwrite_partial_chunks: bool = False,
        use_https: bool = False,
        max_redirects: int = 10,
        lru_bytes: int = 0,
        lru_encoding: str = "same",
        mesh_dir: str | None = None,
        skel_dir: str | None = None,
        codec_threads: int = 1,
        green_threads: bool = False,
        agglomerate: bool = False,
        timestamp: int | None = None,
        spatial_index_db: str | None = None,
    ) -> None:
        refuse_graphene(agglomerate=agglomerate, timestamp=timestamp)
        refuse_graphene(spatial_index_db=spatial_index_db)
        self.green_threads = green_threads
        self.use_https = bool(use_https)
        """Whether public ``gs://`` and ``s3://`` layers are read over plain HTTPS, without credentials.

        Through ``storage.googleapis.com`` and ``s3.amazonaws.com``; the info's redirects too."""
        self.max_redirects = max_redirects
        """How many hops of the info's ``redirect`` key opening the layer follows (0: none)."""
        self._dirs = (mesh_dir, skel_dir)
        self._lru = ChunkLRU(lru_bytes, lru_encoding)
        if self.use_https:
            cloudpath = https_path(os.fspath(cloudpath))
        path = parse_cloudpath(cloudpath)
        self._cache = CacheSettings.from_option(
            cache, path, compress=compress_cache, max_bytes=cache_max_bytes
        )
        if self._cache.enabled:
            check_writable(self._cache.path)
        del cache_locking  # cloud-volume's lock files: every cache file here is written atomically
        self._dispatch = Dispatcher(parallel_count(parallel))
        given = {
            "secrets": secrets,
            "endpoint_url": endpoint_url,
            "storage_options": fsspec_options(storage_options),
            "request_timeout": seconds("request_timeout", request_timeout),
            "total_timeout": seconds("total_timeout", total_timeout),
        }
        self._options: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
        self._open(path, info)
        self.mip = mip  # type: ignore[assignment]
        self.bounded = bool(bounded)
        """Whether a request reaching outside ``vol.bounds`` raises ``OutOfBoundsError``.

        If not, reads there give ``background_color`` (or are cropped, with ``autocrop``)."""
        self.autocrop = bool(autocrop)
        """With ``bounded=False``, whether reads and writes are cropped to ``vol.bounds``."""
        self.fill_missing = bool(fill_missing)
        """Whether a missing chunk reads as ``background_color`` (else ``EmptyVolumeException``)."""
        self.non_aligned_writes = bool(non_aligned_writes)
        """Whether writes may cover chunks in part: those are read, patched and written back.

        Otherwise such a write raises ``AlignmentError``, naming the aligned box."""
        self.progress = bool(progress)
        """Whether work on more than one chunk (or segment) shows a tqdm progress bar."""
        self.cdn_cache = cdn_cache
        """The ``Cache-Control`` of written objects, as given.

        False is ``no-cache``, True one hour, an int that many seconds, and a string the
        header itself."""
        self.compress = compress
        self.compress_level = compress_level
        self.codec_threads = codec_threads
        self.delete_black_uploads = bool(delete_black_uploads)
        """Whether a chunk that would hold only ``background_color`` is deleted instead of written."""
        self.background_color = background_color
        self.overwrite_partial_chunks = bool(overwrite_partial_chunks)
        """With ``non_aligned_writes``, whether partly covered chunks are written without reading them.

        The voxels around the new ones are then ``background_color``: only safe when no
        chunk is written twice."""
        self._provenance = None if provenance is None else Provenance.coerce(provenance)
        self.shared_memory_id = new_location()
        self.cache = CacheService(
            self._cache, self._store, lambda: self.meta, lambda: self.mip, lambda: self._path
        )
        """The layer's local disk cache (``cache=``): its settings, contents and flushes."""
        self.mesh = MeshSource(
            self._store, lambda: self.meta.info, mip=lambda: self.mip, progress=self._bar,
            compress=lambda: self._compress,
            cache_control=lambda given: cache_control(self.cdn_cache if given is None else given),
            mesh_dir=mesh_dir,
        )  # fmt: skip
        """The layer's meshes: ``vol.mesh.get(segid)``, ``vol.mesh.put(...)``..."""
        self.skeleton = SkeletonSource(
            self._store, lambda: self.meta.info, progress=self._bar, skel_dir=skel_dir
        )
        """The layer's skeletons: ``vol.skeleton.get(segid)``, ``vol.skeleton.upload(...)``..."""
        self.image, self.config = ImageView(self), ConfigView(self)  # declared above the constructor

    def _open(self, path: CloudPath, info: dict[str, Any] | None) -> None:
        volume = open_volume(path, info=info, cache=self._cache, **self._options)
        if info is None:
            path, volume = self._follow_redirects(path, volume)
        self._lru.clear()
        if isinstance(volume, PrecomputedVolume):
            self._lru.bind(volume.meta.dtype, volume.meta.num_channels)
            volume.lru = self._lru
        else:
            self._lru.refusal = (
                f"lru_bytes: {path.url} is served by an array service, whose chunks this LRU "
                "does not see; use lru_bytes=0"
            )
            if self._lru.active:
                volume.close()
                raise FeatureUnavailableError(self._lru.refusal)
        self._path, self._volume = path, volume
        self._voxels = VoxelAccess(path, volume, self._dispatch, self._options, self._cache)
        self._shared = SharedMemoryAccess(self._voxels)
        self._layer_view = LayerView(volume)

    def _follow_redirects(self, path: CloudPath, volume: Volume) -> tuple[CloudPath, Volume]:
        """The layer an info's ``redirect`` chain ends at, as cloud-volume follows it."""
        start, visited = path.url, list[str]()
        for _ in range(self.max_redirects):
            target = volume.meta.info.get("redirect")
            if not target:
                return path, volume
            hop = parse_cloudpath(https_path(str(target)) if self.use_https else str(target))
            if hop.url == path.url:
                return path, volume  # a layer that names itself
            if hop.url in visited:
                volume.close()
                chain = "\n".join(f"  {i}. {url}" for i, url in enumerate(visited, 1))
                raise CyclicRedirectError(
                    f"the info's redirects from {start} come back to {hop.url}:\n{chain}\n"
                    "fix one of these infos' 'redirect' keys"
                )
            visited.append(hop.url)
            volume.close()
            self._cache.follow(hop)
            path, volume = hop, open_volume(hop, info=None, cache=self._cache, **self._options)
        if volume.meta.info.get("redirect") and self.max_redirects > 0:
            volume.close()
            raise TooManyRedirectsError(
                f"{path.url}'s info redirects again after {self.max_redirects} hops (max_redirects="
                f"{self.max_redirects}); raise max_redirects, or fix the chain: "
                f"{' -> '.join([start, *visited])}"
            )
        return path, volume

    def _settings(self, mip: int | None = None) -> Settings:
        """The options as they stand now, for one call (at ``mip``, default ``vol.mip``)."""
        return Settings(
            mip=self.mip if mip is None else self.meta.to_mip(mip), bounded=self.bounded,
            autocrop=self.autocrop, fill_missing=self.fill_missing,
            non_aligned_writes=self.non_aligned_writes, progress=self.progress,
            compress=self._compress, cdn_cache=self.cdn_cache, compress_level=self.compress_level,
            delete_black_uploads=self.delete_black_uploads, background_color=self.background_color,
            overwrite_partial_chunks=self.overwrite_partial_chunks,
        )  # fmt: skip

    create_new_info = staticmethod(create_new_info)
    """Build a validated info for a new layer (cloud-volume's argument order)."""
    from_numpy = classmethod(from_numpy)
    """Create a layer at ``vol_path`` holding ``arr`` (x, y, z[, c]) at mip 0, and return it open."""

    # --- identity --------------------------------------------------------------

    @property
    def cache_path(self) -> str:
        """This layer's cache directory (``vol.cache.path``)."""
        return self.cache.path

    @property
    def meta(self) -> LayerMeta:
        """The layer's info read by mip, as cloud-volume's ``vol.meta``.

        ``vol.meta.bounds(mip)``, ``vol.meta.lock_mips(mips)``...
        """
        return self._volume.meta

    @property
    def cloudpath(self) -> str:
        """The layer's cloud path, without a ``precomputed://`` prefix (``gs://bucket/dataset/layer``).

        After the info's ``redirect``, if it had one: the layer actually read.
        """
        return self._path.url

    layer_cloudpath = cloudpath
    """The layer's cloud path, without a ``precomputed://`` prefix (``gs://bucket/dataset/layer``).

    cloud-volume's other name for ``cloudpath``.
    """

    @property
    def base_cloudpath(self) -> str:
        """The cloud path of the dataset that holds the layer: ``cloudpath`` without its last part."""
        return self._path.base_url

    @property
    def info_cloudpath(self) -> str:
        """The cloud path of the layer's ``info`` file."""
        return self._path.child("info")

    @property
    def dataset_name(self) -> str:
        """The dataset: the part of the cloud path before the layer's name.

        Setting it opens the layer of the same name in that dataset instead (the mip is
        kept, lowered to its highest if it has fewer).
        """
        return self._path.dataset

    @dataset_name.setter
    def dataset_name(self, name: str) -> None:
        self._reopen(self._path.with_dataset(name))

    @property
    def layer(self) -> str:
        """The layer's name: the last part of the cloud path.

        Setting it opens that layer of the same dataset instead (the mip is kept,
        lowered to its highest if it has fewer).
        """
        return self._path.layer

    @layer.setter
    def layer(self, name: str) -> None:
        self._reopen(self._path.with_layer(name))

    def _reopen(self, path: CloudPath) -> None:
        previous = self._volume
        self._cache.follow(path)
        self._open(path, None)
        previous.close()
        self._provenance = None
        self.mip = min(self.mip, len(self.meta.scales) - 1)

    # --- options ---------------------------------------------------------------

    @property
    def mip(self) -> int:
        """The scale that reads, writes and the per-mip properties use when not given one.

        Set it to an index, or to a resolution (x, y, z) in nanometers that a scale has.
        """
        return self._mip

    @mip.setter
    def mip(self, mip: int | Sequence[float]) -> None:
        self._mip = self.meta.to_mip(mip)

    @property
    def parallel(self) -> int:
        """How many worker processes reads and writes may use (1: this process's threads only).

        Set it as the constructor's ``parallel``: a count, False for 1, True or 0 for every
        usable core.
        """
        return self._dispatch.processes

    @parallel.setter
    def parallel(self, parallel: bool | int) -> None:
        self._dispatch.set_processes(parallel_count(parallel))

    @property
    def green_threads(self) -> bool:
        """Accepted for cloud-volume's scripts; True warns that gevent is not used."""
        return self._green

    @green_threads.setter
    def green_threads(self, green: bool) -> None:
        if green:
            warnings.warn(
                "green_threads=True is accepted and ignored: precomputed already runs storage "
                "requests on threads (and asyncio inside the cloud drivers); gevent adds nothing",
                RuntimeWarning,
                stacklevel=2,
            )
        self._green = bool(green)

    @property
    def compress(self) -> bool | str | None:
        """As given (``True`` stays ``True``, as in cloud-volume); None/False write uncompressed,
        True or ``'gzip'`` gzip."""
        return self._compress_given

    @compress.setter
    def compress(self, compress: bool | str | None) -> None:
        self._compress = normalize_compress(compress)
        self._compress_given = compress

    @property
    def compress_level(self) -> int | None:
        """The gzip level of compressed writes (None: 6)."""
        return self._compress_level

    @compress_level.setter
    def compress_level(self, level: int | None) -> None:
        self._compress_level = compress_level(level)

    @property
    def lru(self) -> ChunkLRU:
        """Recently read chunks kept in memory (when ``lru_bytes`` > 0), shared by this volume's
        threads: ``vol.lru.nbytes``, ``len(vol.lru)``, ``vol.lru.clear()``, ``vol.lru.resize(n)``."""
        return self._lru

    @property
    def background_color(self) -> int | float:
        """The value of voxels no chunk holds (missing chunks with ``fill_missing``, outside the
        volume), of shell chunks (``overwrite_partial_chunks``), and that ``delete_black_uploads``
        does not store."""
        return self._background_color

    @background_color.setter
    def background_color(self, value: int | float) -> None:
        self._background_color = background_color(value)

    @property
    def codec_threads(self) -> int:
        """Accepted for cloud-volume's scripts: chunks are encoded and decoded on the volume's
        own I/O threads, as many as the storage is worth (``parallel`` adds processes)."""
        return self._codec_threads

    @codec_threads.setter
    def codec_threads(self, threads: int) -> None:
        self._codec_threads = codec_threads(threads)

    # --- the README's properties: layer-wide, and at vol.mip with mip_* forms -------

    @property
    def info(self) -> dict[str, Any]:
        """The layer's info: the live dict, so edits apply at once; ``commit_info()`` stores them.

        Setting a new one checks it first (``InfoValidationError``).
        """
        return self.meta.info

    @info.setter
    def info(self, info: dict[str, Any]) -> None:
        self._volume.check_info(info)
        self.meta.info = info

    @property
    def scales(self) -> list[dict[str, Any]]:
        """The info's ``scales``, one dict per mip (live, as ``info``); setting replaces them."""
        return self.meta.scales

    @scales.setter
    def scales(self, scales: list[dict[str, Any]]) -> None:
        self.meta.info["scales"] = scales

    available_mips = OfLayer(LayerView.available_mips)
    """The mips the info defines, ``range(len(scales))``; 0 is the finest."""
    available_resolutions = OfLayer(LayerView.available_resolutions)
    """Nanometers per voxel (x, y, z) of each mip."""
    ndim = OfLayer(LayerView.ndim)
    """The number of axes of the layer's arrays: 4 (x, y, z and channel)."""
    mip_ndim = ForMip(LayerView.ndim_at)
    """``vol.ndim`` at a given mip (an index or a resolution)."""
    compressed_segmentation_block_size = AtMip(LayerView.compressed_segmentation_block_size)
    """The scale's ``compressed_segmentation_block_size`` as the info gives it, or None.

    At ``vol.mip``; ``vol.mip_compressed_segmentation_block_size(mip)`` gives it at another mip.
    """
    mip_compressed_segmentation_block_size = ForMip(LayerView.compressed_segmentation_block_size)
    """``vol.compressed_segmentation_block_size`` at a given mip (an index or a resolution)."""
    num_channels = OfLayer(LayerView.num_channels)
    """Channels per voxel, the info's ``num_channels`` (the last axis of every cutout)."""
    layer_type = OfLayer(LayerView.layer_type)
    """``image`` or ``segmentation``."""
    dtype = OfLayer(LayerView.dtype)
    """The voxels' numpy dtype, from the info's ``data_type``."""
    data_type = OfLayer(LayerView.data_type)
    """The info's ``data_type``, in lower case (``'uint8'``, ``'uint64'``, ``'float32'``...)."""
    scale = AtMip(LayerView.scale)
    """The mip's entry of the info's ``scales``: the live dict, so edits change ``vol.info``.

    At ``vol.mip``; ``vol.mip_scale(mip)`` gives it at another mip.
    """
    mip_scale = ForMip(LayerView.scale)
    """``vol.scale`` at a given mip (an index or a resolution)."""
    shape = AtMip(LayerView.shape)
    """The layer's shape at the mip, (x, y, z, channels): a tuple, as cloud-volume's (and numpy's) are.

    At ``vol.mip``; ``vol.mip_shape(mip)`` gives it at another mip.
    """
    mip_shape = ForMip(LayerView.shape)
    """``vol.shape`` at a given mip (an index or a resolution)."""
    volume_size = AtMip(LayerView.volume_size)
    """The layer's size in voxels of the mip (x, y, z): the scale's ``size``.

    At ``vol.mip``; ``vol.mip_volume_size(mip)`` gives it at another mip.
    """
    mip_volume_size = ForMip(LayerView.volume_size)
    """``vol.volume_size`` at a given mip (an index or a resolution)."""
    voxel_offset = AtMip(LayerView.voxel_offset)
    """Where the layer starts, in voxels of the mip (x, y, z): the scale's ``voxel_offset``.

    At ``vol.mip``; ``vol.mip_voxel_offset(mip)`` gives it at another mip.
    """
    mip_voxel_offset = ForMip(LayerView.voxel_offset)
    """``vol.voxel_offset`` at a given mip (an index or a resolution)."""
    resolution = AtMip(LayerView.resolution)
    """Nanometers per voxel (x, y, z).

    At ``vol.mip``; ``vol.mip_resolution(mip)`` gives it at another mip.
    """
    mip_resolution = ForMip(LayerView.resolution)
    """``vol.resolution`` at a given mip (an index or a resolution)."""
    downsample_ratio = AtMip(LayerView.downsample_ratio)
    """This mip's resolution divided by mip 0's, per axis.

    At ``vol.mip``; ``vol.mip_downsample_ratio(mip)`` gives it at another mip.
    """
    mip_downsample_ratio = ForMip(LayerView.downsample_ratio)
    """``vol.downsample_ratio`` at a given mip (an index or a resolution)."""
    chunk_size = AtMip(LayerView.chunk_size)
    """The size of a stored chunk in voxels (x, y, z).

    At ``vol.mip``; ``vol.mip_chunk_size(mip)`` gives it at another mip.
    """
    mip_chunk_size = ForMip(LayerView.chunk_size)
    """``vol.chunk_size`` at a given mip (an index or a resolution)."""
    underlying = AtMip(LayerView.chunk_size)
    """The size of a stored chunk in voxels (x, y, z).

    cloud-volume's other name for ``chunk_size``, at ``vol.mip``.
    """
    mip_underlying = ForMip(LayerView.chunk_size)
    """``vol.chunk_size`` at a given mip (an index or a resolution).

    cloud-volume's other name for ``mip_chunk_size``.
    """
    encoding = AtMip(LayerView.encoding)
    """The chunk encoding (``raw``, ``jpeg``, ...); None for a volume that has none.

    At ``vol.mip``; ``vol.mip_encoding(mip)`` gives it at another mip.
    """
    mip_encoding = ForMip(LayerView.encoding)
    """``vol.encoding`` at a given mip (an index or a resolution)."""
    key = AtMip(LayerView.key)
    """The scale's ``key``: where the mip's objects are, relative to the layer (``4_4_40``).

    At ``vol.mip``; ``vol.mip_key(mip)`` gives it at another mip.
    """
    mip_key = ForMip(LayerView.key)
    """``vol.key`` at a given mip (an index or a resolution)."""
    bounds = AtMip(LayerView.bounds)
    """The layer's box in voxels of the mip: ``[voxel_offset, voxel_offset + volume_size)``.

    At ``vol.mip``; ``vol.mip_bounds(mip)`` gives it at another mip.
    """
    mip_bounds = ForMip(LayerView.bounds)
    """``vol.bounds`` at a given mip (an index or a resolution)."""

    # --- info and provenance ---------------------------------------------------

    def _bar(self, total: int, desc: str, enabled: bool | None = None) -> Any:
        """A progress bar over ``total`` segments, shown when ``enabled`` (default ``vol.progress``)."""
        shown = self.progress if enabled is None else bool(enabled)
        return progress_bar(total, desc=desc, enabled=shown and total > 1, unit="segment")

    def _store(self) -> Store | None:
        """The layer's object store (None for a volume service, which has only voxels)."""
        return getattr(self._volume, "store", None)

    @property
    def segment_properties(self) -> dict[int, dict[str, Any]]:
        """The layer's segment properties, ``{segid: {property: value}}`` (empty if it has none)."""
        return read_segment_properties(self._store(), self.meta.info)

    def commit_segment_properties(
        self, properties: dict[Any, Any], dirname: str = "segment_properties"
    ) -> dict[str, Any]:
        """Validate and write segment properties, and name them in the layer's info (committed).

        ``properties`` is ``{segid: {property: value}}`` (``label``, ``description``,
        ``tags`` as lists of names, other strings, numbers) or a finished
        ``neuroglancer_segment_properties`` document. Returns the document written.
        """
        document = write_segment_properties(self._store(), properties, dirname)
        self.info["segment_properties"] = dirname
        self.commit_info()
        return document

    def refresh_info(self) -> dict[str, Any]:
        """Read the info again from storage (not the disk cache), discarding local edits."""
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
        sharding: bool | dict[str, Any] | None = None,
        shard_bytes: int = DEFAULT_SHARD_BYTES,
    ) -> dict[str, Any]:
        """Add a mip ``factor`` times coarser than mip 0 to ``vol.info`` (not committed).

        ``sharding=True`` makes it sharded with parameters chosen for it (shards of
        about ``shard_bytes`` voxel bytes); a dict is a sharding specification.
        """
        return add_scale_to(self._volume, factor, encoding, chunk_size, encoding_level=encoding_level,
                            sharding=sharding, shard_bytes=shard_bytes)  # fmt: skip

    def reset_scales(self) -> None:
        """Drop every mip but 0 from ``vol.info`` (not committed)."""
        self.info["scales"] = self.info["scales"][:1]
        self.mip = 0

    @property
    def provenance(self) -> Provenance:
        """The layer's provenance document, read on first use (empty if the layer has none).

        A dict whose fields are also attributes (``vol.provenance.description``); set a
        dict or its JSON text, and ``commit_provenance()`` stores it.
        """
        if self._provenance is None:
            self._provenance = Provenance(self._volume.fetch_provenance() or {})
        return self._provenance

    @provenance.setter
    def provenance(self, provenance: dict[str, Any] | str) -> None:
        self._provenance = Provenance.coerce(provenance)

    def refresh_provenance(self) -> Provenance:
        """Read the provenance file again from storage (an empty one if the layer has none)."""
        store = self._store()
        if store is not None:
            store.revalidate(["provenance"])
        self._provenance = Provenance(self._volume.fetch_provenance() or {})
        return self._provenance

    def commit_provenance(self) -> None:
        """Validate ``vol.provenance`` and write it to storage."""
        self.provenance.validate()
        self._volume.commit_provenance(dict(self.provenance))

    # --- voxels (VoxelAccess): boxes are voxels at vol.mip unless a mip is given ------

    def __getitem__(self, slices: Any) -> Any:
        """Read voxels: ``vol[x0:x1, y0:y1, z0:z1]`` (steps allowed) as an (x, y, z, c) cutout.

        ``vol[xs, ys, zs]`` with three equal-length lists or arrays of coordinates (at
        ``vol.mip``) gives the values at those points, in order, as cloud-volume's
        coordinate indexing does; only the chunks holding them are read.
        """
        if _is_coordinate_index(slices):
            return self._points(slices)
        return self._voxels.read_slices(slices, self._settings())

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> npt.NDArray[Any]:
        """``np.asarray(vol)``: every voxel at ``vol.mip``, as ``vol[:, :, :]`` reads them,
        in an (x, y, z, c) ndarray, as zarr and tensorstore arrays convert.

        A volume too large for this machine's memory raises the same clear error as that read.
        """
        if copy is False:
            raise ValueError(
                "np.asarray(vol, copy=False): a CloudVolume's voxels are read from storage into a "
                "new array, so the copy cannot be avoided; leave copy out (or pass copy=True)"
            )
        voxels = np.asarray(self[:, :, :])
        return voxels if dtype is None else voxels.astype(dtype, copy=False)

    def coordinate_indexing(self, slices: Any) -> npt.NDArray[Any]:
        """The values at points given as x, y and z lists at ``vol.mip``: ``vol[xs, ys, zs]``."""
        if not _is_coordinate_index(tuple(slices)):
            raise GeometryError("coordinate_indexing takes three lists or 1-d arrays: x, y and z coordinates")
        return self._points(tuple(slices))

    def _points(self, columns: Any) -> npt.NDArray[Any]:
        lengths = {len(column) for column in columns}
        if len(lengths) != 1:
            raise GeometryError(
                f"coordinate indexing takes x, y and z lists of one length, got lengths {sorted(lengths)}"
            )
        points = [(int(x), int(y), int(z)) for x, y, z in zip(*columns)]
        found = self.scattered_points(points, coord_resolution=self.resolution.tolist())
        return np.array([found[point] for point in points], dtype=self.dtype)

    def __setitem__(self, slices: Any, value: Any) -> None:
        """Write an (x, y, z[, c]) array or a scalar into ``vol[x0:x1, y0:y1, z0:z1]``."""
        self._voxels.write_slices(slices, value, self._settings())

    def to_dask(self, chunks: Any = None, name: str | None = None, *, mip: int | None = None) -> Any:
        """This scale (default ``vol.mip``) as a lazy 4-d (x, y, z, c) ``dask.array``.

        Index 0 is the scale's voxel_offset (``arr[i]`` is voxel ``voxel_offset + i``).
        Blocks default to whole multiples of the storage chunk, on its grid; ``chunks``
        is any Dask chunks spec. Each task carries the layer's path, info and options
        (``fill_missing``, ``background_color``) and opens the layer in its worker.
        Needs ``pip install 'precomputed[dask]'``.
        """
        settings = self._settings(mip)
        return dask_array(self._volume, self._voxels.recipe(), settings.mip, chunks=chunks, name=name,
                          options=dataclasses.replace(settings.read_options(), progress=False))  # fmt: skip

    def from_dask(self, array: Any, offset: Sequence[int] | None = None) -> None:
        """Write an (x, y, z[, c]) dask array (or any array) with its corner at voxel ``offset``
        of ``vol.mip`` (default: the scale's voxel_offset, where ``to_dask``'s index 0 is, so
        ``vol.from_dask(f(vol.to_dask()))`` writes in place), as Dask tasks on the current
        scheduler (a ``distributed`` client if one is active), cut on the volume's chunks (or
        shards) so no two tasks write one stored object. Options as for ``vol[...] = array``
        (``non_aligned_writes``, ``compress``...)."""
        settings = self._settings()
        check_dtype_for_write(getattr(array, "dtype", None), self.meta.dtype)
        corner = self.meta.voxel_offset(settings.mip).tolist() if offset is None else offset
        box = dask_write(self._volume, self._voxels.recipe(), array, corner, settings.mip,
                         options=settings.write_options())  # fmt: skip
        self._volume.written_elsewhere(box, mip=settings.mip)

    def transfer_to(
        self,
        cloudpath: str,
        bbox: Any = None,
        block_size: int | None = None,
        compress: bool | str | None = "auto",
        encoding: str | None = None,
        sharded: bool | None = None,
        *,
        mip: int | None = None,
        scheduler: Any = None,
    ) -> CloudVolume:
        """Copy this scale (default ``vol.mip``), or its chunks touching ``bbox``, to another layer;
        returns the destination volume.

        A destination without an info gets this layer's (every scale and coordinate, and the
        provenance), with ``encoding`` and ``sharded`` changed at this scale if asked; an
        existing destination keeps its info, which must place the scale's chunks as here.
        When the destination scale stores chunks as this one does, the objects are copied
        byte for byte (``compress='auto'`` keeps each one's transfer compression; another value
        changes it); otherwise they are read, re-encoded and written, block by block on the
        destination's chunks (or shards). ``block_size`` is the most objects one byte-copy task
        copies (rounded down to a power of two). The work runs as Dask tasks when a
        ``distributed`` client is active or ``scheduler`` is given (as to ``dask.compute``),
        else on this process's threads.
        """
        settings = self._settings(mip)
        level = settings.mip
        bounds = self.meta.bounds(level)
        box = bounds if bbox is None else self._voxels.box(bbox, level, bounded=False, crop=False)
        grid = self.meta.grid(level)
        box = Bbox.intersection(box.expand_to_chunk_size(grid.chunk, offset=grid.offset), bounds)
        method = AUTO if compress == AUTO else normalize_compress(compress)
        # Credentials and endpoints belong to one storage service: another finds its own.
        same = parse_cloudpath(str(cloudpath)).protocol == self._path.protocol
        target = open_target(self, str(cloudpath), level, encoding=encoding, sharded=sharded,
                             compress=None if method == AUTO else method,
                             options=self._options if same else {})  # fmt: skip
        if box.subvoxel():
            return target
        transfer(self._volume, self._voxels.recipe(), target._volume, target._voxels.recipe(), level, box,
                 compress=method, block_size=block_size, read=settings.read_options(),
                 write=target._settings(level).write_options(), scheduler=scheduler,
                 threads=max(4, self._volume.store.io_threads if isinstance(self._volume, PrecomputedVolume)
                             else 4), progress=self.progress)  # fmt: skip
        return target

    def downsample(
        self,
        num_mips: int = 1,
        factor: Sequence[int] = (2, 2, 1),
        *,
        mip: int | None = None,
        sparse: bool = False,
        encoding: str | None = None,
        chunk_size: Sequence[int] | None = None,
        sharding: bool | dict[str, Any] | None = None,
        scheduler: Any = None,
        memory_target: int = MEMORY_TARGET,
    ) -> list[int]:
        """Add ``num_mips`` scales above ``mip`` (default: the highest), each ``factor`` coarser
        than the one before, and compute them: the mean for images, the most frequent label
        of each block for segmentation (``sparse``: 0 never outvotes a label). Returns the
        new mips. The new scales' info (``add_scale``: ``voxel_offset // factor``,
        ``ceil(size / factor)``, ``encoding``, ``chunk_size``, ``sharding``) is committed
        first; the work runs on Dask when a ``distributed`` client is active or ``scheduler``
        is given, else on this process's threads. Needs ``pip install 'precomputed[downsample]'``.

        A task reads one block of source voxels and makes several mips from it; the block
        grows by the factor's volume with each mip, so the mips are made in passes, each as
        many mips as keep a task's read within ``memory_target`` bytes (default 512 MiB),
        each starting from the last mip the pass before wrote. Within a pass an image mip
        is the exact mean of the source voxels under it; across passes it is the mean of
        the (rounded) mip below.
        """
        if isinstance(memory_target, bool) or not isinstance(memory_target, int) or memory_target < 1:
            raise ValueError(f"memory_target is a number of bytes >= 1, got {memory_target!r}")
        if isinstance(num_mips, bool) or not isinstance(num_mips, int) or num_mips < 1:
            raise ValueError(f"num_mips must be a whole number >= 1, got {num_mips!r}")
        steps = [int(f) for f in factor]
        if (
            len(steps) != 3
            or any(f < 1 for f in steps)
            or steps != [float(f) for f in factor]
            or steps == [1, 1, 1]
        ):
            raise ValueError(
                f"factor must be three whole numbers >= 1, not all 1 (e.g. (2, 2, 1)); got {factor!r}"
            )
        if self.meta.layer_type == "segmentation" and steps not in ([2, 2, 1], [2, 2, 2]):
            raise ValueError(
                f"segmentation is downsampled by the mode of 2x2x1 or 2x2x2 blocks, not {tuple(steps)}: "
                "other factors have no exact mode kernel here; use (2, 2, 1) or (2, 2, 2)"
            )
        source = len(self.meta.scales) - 1 if mip is None else self.meta.to_mip(mip)
        base = np.asarray(self.meta.resolution(source), float) / np.asarray(self.meta.resolution(0), float)
        before = [dict(scale) for scale in self.meta.scales]
        new = []
        for level in range(1, num_mips + 1):
            scale = add_scale_to(self._volume, base * np.asarray(steps, float) ** level, encoding, chunk_size,
                                 sharding=sharding)  # fmt: skip
            new.append(self.meta.to_mip(scale["resolution"]))
        for index in new:
            if index < len(before) and before[index] != self.meta.scales[index]:
                self.meta.info["scales"] = before  # leave the info as it was
                raise InfoValidationError(
                    f"mip {index} ({before[index]['key']}) exists with another chunk size, encoding or "
                    "sharding than asked: its stored chunks would not match; delete that scale first, "
                    "or ask for the same layout to recompute it"
                )
        self.commit_info()
        settings = self._settings(source)
        downsample_scales(self._volume, self._voxels.recipe(), source, new, steps, sparse=sparse,
                          read=settings.read_options(), write=settings.write_options(), scheduler=scheduler,
                          threads=2, progress=self.progress, memory_target=memory_target)  # fmt: skip
        return new

    def memory_cutout(
        self,
        bbox: Any,
        mip: int | None = None,
        encoding: str | None = None,
        compress: bool | str | None = None,
        compress_level: int | None = None,
        **kwargs: Any,
    ) -> CloudVolume:
        """A disposable in-memory (``mem://``) layer holding ``bbox`` at ``mip``, grown to whole
        chunks, in the unsharded format (``encoding`` and ``compress`` may differ from this
        layer's); its objects go when the returned volume is garbage collected."""
        refuse_graphene_arguments("memory_cutout", kwargs)
        settings = self._settings(mip)
        box = self._voxels.box(bbox, settings.mip, bounded=settings.bounded, crop=settings.crop)
        return memory_copy(self, box, settings.mip, encoding=encoding, compress=compress,
                           compress_level=compress_level)  # fmt: skip

    def download(
        self,
        bbox: Any,
        mip: int | None = None,
        parallel: int | None = None,
        segids: Sequence[int] | None = None,
        preserve_zeros: bool = False,
        agglomerate: bool | None = None,
        timestamp: Any = None,
        stop_layer: int | None = None,
        renumber: bool = False,
        coord_resolution: Sequence[float] | None = None,
        label: int | None = None,
        crackle: bool = False,
    ) -> Any:
        """Read a box (Bbox, slices or ``np.s_``) at ``mip`` (default: ``vol.mip``).

        For segmentation, as cloud-volume: ``label`` gives a boolean image of that label;
        ``segids`` sets every other label to 0 (``preserve_zeros``: to the dtype's maximum,
        keeping 0); ``renumber`` returns ``(image, {old: new})`` with labels renumbered
        1, 2, ... in increasing order, in a smaller dtype; ``crackle`` returns the image as a
        ``crackle.CrackleArray`` (needs ``precomputed[crackle]``). ``coord_resolution`` (nm per
        unit) gives ``bbox`` in another resolution's coordinates; ``parallel`` overrides
        ``vol.parallel`` for this call.
        """
        refuse_graphene(agglomerate=agglomerate, timestamp=timestamp, stop_layer=stop_layer)
        if crackle and renumber:
            raise FeatureUnavailableError("download takes crackle=True or renumber=True, not both")
        settings = self._settings(mip)
        box = region_at(self._voxels, bbox, settings.mip, settings, coord_resolution)
        with self._parallel_for(parallel):
            image = self._voxels.download(box, settings.mip, settings)
        if label is not None:
            image = self._voxels.cutout(binary_image(image, label), box, settings.mip)
        elif segids is not None:
            mask_except(image, segids, preserve_zeros)
        if crackle:
            return crackle_array(image)
        if not renumber:
            return image
        if label is not None:  # cloud-volume's pair for a boolean image too: 0 and 1 keep their numbers
            return image, {0: 0, **({1: 1} if image.any() else {})}
        background = self.background_color if isinstance(self.background_color, int) else 0
        voxels, remap = renumbered(image, max(background, 0))
        return self._voxels.cutout(voxels, box, settings.mip), remap

    def unique(
        self,
        bbox: Any,
        mip: int | None = None,
        agglomerate: bool | None = None,
        timestamp: Any = None,
        stop_layer: int | None = None,
        coord_resolution: Sequence[float] | None = None,
    ) -> set[int]:
        """The labels in ``bbox`` at ``mip``, read piece by piece so the region is never whole in memory.

        ``coord_resolution`` (nm per unit) gives ``bbox`` in another resolution's
        coordinates. ``agglomerate``, ``timestamp`` and ``stop_layer`` belong to graphene
        servers; only their defaults are accepted.
        """
        refuse_graphene(agglomerate=agglomerate, timestamp=timestamp, stop_layer=stop_layer)
        settings = self._settings(mip)
        return unique_labels(self._voxels, bbox, settings.mip, settings, coord_resolution)

    def download_point(
        self,
        pt: Sequence[float],
        size: int | Sequence[int] = 256,
        mip: int | None = None,
        parallel: int | None = None,
        coord_resolution: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> VolumeCutout:
        """The ``size`` voxels (int or x, y, z) of ``mip`` around ``pt``, given in mip-0 voxels
        (or at ``coord_resolution``); a size of 1 on an axis is the plane through the point."""
        refuse_graphene_arguments("download_point", kwargs)
        settings = self._settings(mip)
        with self._parallel_for(parallel):
            return download_point(self._voxels, pt, size, settings.mip, settings, coord_resolution)

    def scattered_points(
        self, pts: Any, mip: int | None = None, coord_resolution: Sequence[float] | None = None
    ) -> dict[tuple[int, int, int], Any]:
        """The value at each point (mip-0 voxels, or at ``coord_resolution``), reading only the
        chunks that hold them: ``{(x, y, z) at mip: value}``."""
        settings = self._settings(mip)
        return scattered_points(self._voxels, pts, settings.mip, settings, coord_resolution)

    def download_files(
        self,
        bbox: Any,
        mip: int | None = None,
        parallel: int | None = None,
        segids: Sequence[int] | None = None,
        agglomerate: bool | None = None,
        timestamp: Any = None,
        stop_layer: int | None = None,
        coord_resolution: Sequence[float] | None = None,
        cache_only: bool = False,
        decompress: bool = True,
    ) -> dict[Any, bytes | None]:
        """The stored chunks covering ``bbox``, not rendered: ``{key: bytes, or None if missing}``.

        Keys are chunk keys (``4_4_40/0-64_0-64_0-64``), or Morton codes in a sharded scale.
        ``decompress`` removes transfer compression; ``segids`` keeps only those labels;
        ``cache_only`` fills the disk cache and returns ``{}``.
        """
        refuse_graphene(agglomerate=agglomerate, timestamp=timestamp, stop_layer=stop_layer)
        settings = self._settings(mip)
        box = region_at(self._voxels, bbox, settings.mip, settings, coord_resolution)
        with self._parallel_for(parallel):
            return download_files(self._voxels, box, settings.mip, decompress=decompress, segids=segids,
                                  cache_only=cache_only)  # fmt: skip

    def download_to_file(
        self, path: str | os.PathLike[str], bbox: Any, mip: int | None = None
    ) -> VolumeCutout:
        """Read ``bbox`` (steps and channels allowed) into a raw file at ``path``, mapped into
        memory: the returned array lives in the file (Fortran order, the layer's dtype)."""
        return download_to_file(self._voxels, path, bbox, self._settings(mip))

    def upload_from_file(
        self, location: str | os.PathLike[str], bbox: Any, order: str = "F", cutout_bbox: Any = None
    ) -> None:
        """Write the array held in the raw file ``location`` (x, y, z, c of the layer's dtype, in
        ``order``), which covers ``bbox``; only its part ``cutout_bbox`` if given."""
        upload_from_file(self._voxels, location, bbox, order, cutout_bbox, self._settings())

    def exists(self, bbox: Any, mip: int | None = None) -> dict[str, bool]:
        """Which chunks covering ``bbox`` (slices or Bbox, at ``mip``, default ``vol.mip``) exist:
        ``{key: bool}``."""
        settings = self._settings(mip)
        return self._voxels.exists(bbox, settings.mip, settings)

    def delete(self, bbox: Any, mip: int | None = None) -> None:
        """Delete the chunks of a chunk-aligned ``bbox`` at ``mip`` (default ``vol.mip``; in shards too)."""
        settings = self._settings(mip)
        self._voxels.delete(bbox, settings.mip, settings)

    def has_data(self, mip: int | Sequence[float] | None = None) -> bool:
        """Whether any chunk (or shard) of ``mip`` (default ``vol.mip``) is stored."""
        key = self.meta.key(self.mip if mip is None else self.meta.to_mip(mip))
        store = self._store()
        if store is None:
            raise FeatureUnavailableError(
                f"{self._path.url} is an array service with no listing; read a region instead"
            )
        return next(iter(store.list(f"{key}/")), None) is not None

    def shard_boxes(self, bbox: Any = None, mip: int | None = None) -> Iterator[Bbox]:
        """The boxes, clipped to the volume, that a pipeline writes one at a time.

        In a sharded scale whose shards are boxes (identity hash), one box per shard
        file touching ``bbox`` (default: the whole scale): writing each box whole
        rewrites each shard once, and workers given different boxes never share a
        shard. Elsewhere (unsharded scales, hashed shards) the boxes are chunks.
        """
        settings = self._settings(mip)
        box = self.meta.bounds(settings.mip) if bbox is None else bbox
        return self._voxels.work_boxes(box, settings.mip, settings)

    def bbox_to_mip(self, bbox: Any, mip: int, to_mip: int) -> Bbox:
        """Convert a box in voxels of ``mip`` into voxels of ``to_mip`` (grown to whole voxels)."""
        return self._voxels.bbox_to_mip(bbox, mip, to_mip, self._settings())

    def slices_from_global_coords(self, slices: Any) -> tuple[slice, ...]:
        """Slices at this mip for a region given in mip-0 voxels (e.g. from Neuroglancer)."""
        return self.bbox_to_mip(slices, 0, self.mip).to_slices()

    def slices_to_global_coords(self, slices: Any) -> tuple[slice, ...]:
        """Slices in mip-0 voxels for a region given at this mip."""
        return self.bbox_to_mip(slices, self.mip, 0).to_slices()

    def point_to_mip(self, pt: Any, mip: int, to_mip: int) -> Vec:
        """A voxel coordinate at ``mip`` converted to ``to_mip`` (rounded down)."""
        return self._voxels.point_to_mip(pt, mip, to_mip)

    # --- shared memory (SharedMemoryAccess) -------------------------------------------

    @property
    def shared_memory_id(self) -> str:
        """The default segment name for the calls below (no ``/dev/shm/`` prefix)."""
        return self._shared_memory_id

    @shared_memory_id.setter
    def shared_memory_id(self, location: str) -> None:
        self._shared_memory_id = str(location)

    @staticmethod
    def generate_shared_memory_location() -> str:
        """A new unique shared memory name (no side effects)."""
        return new_location()

    def download_to_shared_memory(
        self, slices: Any, location: str | None = None, mip: int | None = None
    ) -> VolumeCutout:
        """Read ``slices`` into the shared segment ``location`` (default ``vol.shared_memory_id``),
        replacing one of that name, and return the (x, y, z, c) cutout backed by it. Other processes
        map it by name; it stays until ``vol.unlink_shared_memory()``."""
        settings = self._settings(mip)
        where = self.shared_memory_id if location is None else str(location)
        return self._shared.download(slices, where, settings.mip, settings)

    def upload_from_shared_memory(
        self, location: str, bbox: Any, order: str = "F", cutout_bbox: Any = None
    ) -> None:
        """Write the array in shared segment ``location`` (no ``/dev/shm/`` prefix) to ``bbox``.

        The segment holds the box's (x, y, z, c) voxels of the layer's dtype in
        ``order`` ('F' or 'C'); it is read in place, without a copy. With
        ``cutout_bbox`` (volume coordinates, inside ``bbox``) only that part is written.
        """
        self._shared.upload(str(location), bbox, order, self._settings(), cutout_bbox)

    def unlink_shared_memory(self) -> bool:
        """Remove the segment ``vol.shared_memory_id`` (False if none); mapped arrays stay valid."""
        return unlink_segment(self.shared_memory_id)

    # --- lifetime ------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the path, the current info and the options; threads and handles are reopened."""
        state = dataclasses.asdict(self._settings())
        provenance = None if self._provenance is None else dict(self._provenance)
        state.update(cloudpath=self._path.url, info=self.meta.info, provenance=provenance,
                     parallel=self.parallel, options=self._options,
                     shared_memory_id=self.shared_memory_id, cache=self._cache.to_json(),
                     compress=self.compress, codec_threads=self.codec_threads,
                     use_https=self.use_https, mesh_dir=self._dirs[0], skel_dir=self._dirs[1],
                     lru_bytes=self._lru.max_bytes, lru_encoding=self._lru.encoding)  # fmt: skip
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        options, shared = state.pop("options"), state.pop("shared_memory_id")
        cache = state.pop("cache")
        self.__init__(**state, **options)  # type: ignore[misc]
        self.shared_memory_id = shared
        self._cache.update(cache)  # the same object the store holds

    @contextlib.contextmanager
    def _parallel_for(self, parallel: int | None) -> Iterator[None]:
        """``parallel`` for one call (None: ``vol.parallel``)."""
        if parallel is None or parallel == self.parallel:
            yield
            return
        before = self.parallel
        self.parallel = parallel
        try:
            yield
        finally:
            self.parallel = before

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
