"""``vol.cache``: the README's cache operations on one layer's cache directory."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..exceptions import FeatureUnavailableError, GeometryError, StorageError
from ..format import ShardedChunkIO, chunk_io_for
from ..geometry import Bbox, Chunk
from ._files import CacheFiles
from ._settings import cache_location, checked_compress, checked_max_bytes

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterable

    from ..interfaces import Store
    from ..meta import CloudPath, LayerMeta
    from ._settings import CacheSettings
    from ._store import CachedStore

__all__ = ["CacheService"]


def check_writable(path: str) -> None:
    """Create the cache directory ``path``; raise if it cannot be used."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise StorageError(
            f"cannot create the cache directory {path}: {err.strerror or err}; give a writable "
            "directory with cache='/some/dir' or set CLOUD_VOLUME_CACHE_DIR"
        ) from err
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise StorageError(
            f"the cache directory {path} needs read and write permission; give a writable "
            "directory with cache='/some/dir' or set CLOUD_VOLUME_CACHE_DIR"
        )


class CacheService:
    """One layer's local disk cache, as ``vol.cache``: settings, contents and flushes.

    ``settings`` is shared with the layer's store, so a change here applies to the
    next read or write. Boxes in ``flush`` and ``flush_region`` are in mip-0
    voxels (Neuroglancer's coordinates), as in cloud-volume.
    """

    def __init__(
        self,
        settings: CacheSettings,
        store: Callable[[], Store | None],
        meta: Callable[[], LayerMeta],
        mip: Callable[[], int],
        cloudpath: Callable[[], CloudPath],
    ) -> None:
        self._settings = settings
        self._store = store
        self._meta = meta
        self._mip = mip
        self._cloudpath = cloudpath

    # --- settings -------------------------------------------------------------------

    def _cached_store(self) -> CachedStore | None:
        from ._store import CachedStore

        store = self._store()
        return store if isinstance(store, CachedStore) else None

    @property
    def enabled(self) -> bool:
        """Whether reads and writes go through the cache; set True, False or a base directory."""
        return self._settings.enabled

    @enabled.setter
    def enabled(self, value: bool | str | os.PathLike[str]) -> None:
        if not value:
            self._settings.enabled = False
            return
        if self._cached_store() is None:
            raise FeatureUnavailableError(
                f"{self._cloudpath().url} is served by an array service, not stored objects, so the "
                "disk cache has nothing to keep; use cache=False"
            )
        path, base = self._settings.path, self._settings.base
        if isinstance(value, (str, os.PathLike)):
            path, base = cache_location(self._cloudpath(), value), os.fspath(value)
        elif value is not True:
            raise ValueError(f"vol.cache.enabled takes True, False or a directory, got {value!r}")
        check_writable(path)
        self._settings.path, self._settings.base = path, base
        self._settings.enabled = True

    @property
    def path(self) -> str:
        """This layer's cache directory (``base/$PROTOCOL/$BUCKET/$DATASET/$LAYER``)."""
        return self._settings.path

    @path.setter
    def path(self, path: str | os.PathLike[str]) -> None:
        path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if self._settings.enabled:
            check_writable(path)
        self._settings.path = path

    @property
    def compress(self) -> bool | None:
        """How objects are stored: None as fetched, True gzip-compressed, False uncompressed."""
        return self._settings.compress

    @compress.setter
    def compress(self, compress: bool | None) -> None:
        self._settings.compress = checked_compress(compress)

    @property
    def max_bytes(self) -> int | None:
        """The size limit past which the least recently used objects are evicted (None: none)."""
        return self._settings.max_bytes

    @max_bytes.setter
    def max_bytes(self, limit: int | None) -> None:
        self._settings.max_bytes = checked_max_bytes(limit)
        if limit is not None:
            self._files().enforce(limit)  # now, not at the next write

    def _files(self) -> CacheFiles:
        store = self._cached_store()
        return store.files if store is not None else CacheFiles(self._settings.path)

    # --- contents -------------------------------------------------------------------

    def _mips(self, mip: int | None) -> int:
        return self._mip() if mip is None else self._meta().to_mip(mip)

    def list(self, mip: int | None = None) -> builtins.list[str]:
        """The names of the objects cached at ``mip`` (default ``vol.mip``): chunks or shards."""
        return sorted(self._files().names(self._meta().key(self._mips(mip))))

    def _listing(self, directory: Any) -> builtins.list[str]:
        if not isinstance(directory, str) or not directory:
            return []
        return sorted(self._files().names(directory))

    def list_meshes(self) -> builtins.list[str]:
        """The names of the cached objects of the mesh directory (fragments, manifests, shards)."""
        return self._listing(self._meta().info.get("mesh"))

    def list_skeletons(self) -> builtins.list[str]:
        """The names of the cached objects of the skeleton directory."""
        return self._listing(self._meta().info.get("skeletons"))

    def _per_mip(self, measure: Callable[[int], int], all_mips: bool) -> int | builtins.list[int]:
        if not all_mips:
            return measure(self._mip())
        return [measure(mip) for mip in range(len(self._meta().scales))]

    def num_files(self, all_mips: bool = False) -> int | builtins.list[int]:
        """How many objects are cached at ``vol.mip``; with ``all_mips``, a list by mip."""
        files = self._files()
        return self._per_mip(lambda mip: len(files.names(self._meta().key(mip))), all_mips)

    def num_bytes(self, all_mips: bool = False) -> int | builtins.list[int]:
        """The bytes of the objects cached at ``vol.mip``; with ``all_mips``, a list by mip."""
        files = self._files()
        return self._per_mip(lambda mip: sum(files.names(self._meta().key(mip)).values()), all_mips)

    # --- flushing -------------------------------------------------------------------

    def flush(self, preserve: Any = None) -> None:
        """Empty this layer's cache; with ``preserve`` (a box or slices in mip-0 voxels), keep
        the cached chunks of every mip that hold any of its voxels, and the info, provenance,
        meshes and skeletons."""
        files = self._files()
        if preserve is None:
            files.clear()
            return
        keep = self._region(preserve)
        self._drop_where(files, range(len(self._meta().scales)), keep, inside=False)

    def flush_region(self, region: Any, mips: Iterable[int] | None = None) -> None:
        """Drop the cached chunks that hold any voxel of ``region`` (a box or slices in mip-0
        voxels), at each of ``mips`` (default: every mip)."""
        box = self._region(region)
        meta = self._meta()
        chosen = range(len(meta.scales)) if mips is None else [meta.to_mip(m) for m in mips]
        self._drop_where(self._files(), chosen, box, inside=True)

    def flush_info(self) -> None:
        """Drop the cached info; the next open or ``refresh_info()`` reads it from storage."""
        self._files().drop("info")

    def flush_provenance(self) -> None:
        """Drop the cached provenance; the next ``refresh_provenance()`` reads it from storage."""
        self._files().drop("provenance")

    def _region(self, region: Any) -> Bbox:
        meta = self._meta()
        box = Bbox.create(region, context=meta.bounds(0))
        return Bbox(box.minpt[:3], box.maxpt[:3])

    def _drop_where(self, files: CacheFiles, mips: Iterable[int], box: Bbox, *, inside: bool) -> None:
        """Drop the objects of ``mips`` that touch ``box`` (``inside``) or that do not."""
        meta = self._meta()
        for mip in mips:
            key = meta.key(mip)
            names = files.names(key)
            if not names:
                continue
            at_mip = meta.bbox_to_mip(box, 0, mip)
            regions = self._regions(mip, names)
            for name in names:
                where = regions.get(name)
                # An object whose region is unknown (a hashed shard) may hold voxels anywhere.
                touches = where is None or Bbox.intersects(where, at_mip)
                if touches == inside:
                    files.drop(f"{key}/{name}")

    def _regions(self, mip: int, names: Iterable[str]) -> dict[str, Bbox]:
        """The voxels each named object of scale ``mip`` holds, where they form a box."""
        meta, store = self._meta(), self._store()
        if meta.is_sharded(mip):
            if store is None:
                return {}
            chunks = chunk_io_for(store, meta, mip)
            assert isinstance(chunks, ShardedChunkIO)
            if chunks.work_grid is chunks.grid:
                return {}  # hashed shards are scattered over the volume
            cells = chunks.work_grid.cover(meta.bounds(mip))
            keys = chunks.reader.keys_of(chunks.chunk_ids([Chunk("", lo, lo) for lo in cells.lo]))
            return {k.rsplit("/", 1)[-1]: Bbox(lo, hi) for k, lo, hi in zip(keys, cells.lo, cells.hi)}
        regions = {}
        for name in names:
            try:
                regions[name] = Bbox.from_filename(name)
            except GeometryError:
                continue
        return regions

    def __repr__(self) -> str:
        return (
            f"CacheService(enabled={self.enabled}, compress={self.compress}, path={self.path!r}, "
            f"max_bytes={self.max_bytes})"
        )
