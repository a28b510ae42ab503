"""``PrecomputedVolume``: a Precomputed layer (its info, and each scale's chunk I/O) over any ``Store``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import InfoUnavailableError, InfoValidationError
from ..format import chunk_io_for
from ..interfaces import ObjectMetadata, Volume
from ..meta import LayerMeta, check_data_type, json_bytes, parse_json, validate_info
from ._executor import TaskRunner
from ._layout import ScaleLayout
from ._read import read_box
from ._write import check_alignment, write_box

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from ..format import ChunkIO
    from ..geometry import Bbox, ChunkGrid
    from ..interfaces import ReadOptions, Store, WriteOptions
    from ._lru import ChunkLRU

__all__ = ["PrecomputedVolume"]

T = TypeVar("T")

INFO_KEY = "info"
PROVENANCE_KEY = "provenance"
_JSON = ObjectMetadata(content_type="application/json", cache_control="no-cache")


class PrecomputedVolume(Volume):
    """A Precomputed layer stored in ``store``: the ``info`` object, and each scale's chunks.

    Without ``meta`` the info is read from the store. Every chunk operation of a
    scale goes through that scale's ``ChunkIO``.
    """

    def __init__(self, store: Store, meta: LayerMeta | None = None) -> None:
        self.store = store
        self._runner = TaskRunner(store.io_threads)
        # Per mip: what the scale was built from (the info may be edited in place), and it.
        self._layouts: dict[int, tuple[str, ScaleLayout]] = {}
        self._chunk_ios: dict[int, tuple[str, ChunkIO]] = {}
        self.lru: ChunkLRU | None = None  # lru_bytes: recently read chunks, in this process
        if meta is None:
            meta = LayerMeta({})
            self.meta = meta
            self._load_info()
        self.meta = meta
        meta.editor = self._edit_stored_info

    def _edit_stored_info(self, edit: Callable[[dict[str, Any]], None]) -> None:
        """Re-read the stored info, apply ``edit`` and commit it (mip locks)."""
        self.refresh_info()
        edit(self.meta.info)
        self.commit_info()

    @property
    def url(self) -> str:
        return self.store.url

    # --- metadata ----------------------------------------------------------

    def refresh_info(self) -> dict[str, Any]:
        self.store.revalidate([INFO_KEY])
        return self._load_info()

    def _load_info(self) -> dict[str, Any]:
        data = self.store.get(INFO_KEY)
        if data is None:
            raise InfoUnavailableError(
                f"no info file at {self.store.describe(INFO_KEY)}; check the path, or create a "
                "layer with CloudVolume(path, info=CloudVolume.create_new_info(...)) and commit_info()"
            )
        info: dict[str, Any] = parse_json(data, self.store.describe(INFO_KEY))
        LayerMeta(info).validate()
        self.meta.info = info
        return info

    def commit_info(self) -> None:
        self.store.require_writes("commit the info")
        self.meta.validate(for_write=True)
        self.store.put(INFO_KEY, json_bytes(self.meta.info), metadata=_JSON)

    def fetch_provenance(self) -> dict[str, Any] | None:
        data = self.store.get(PROVENANCE_KEY)
        if data is None:
            return None
        document = parse_json(data, self.store.describe(PROVENANCE_KEY))
        if not isinstance(document, dict):
            raise InfoValidationError(f"{self.store.describe(PROVENANCE_KEY)} must hold a JSON object")
        return document

    def commit_provenance(self, provenance: dict[str, Any]) -> None:
        self.store.require_writes("commit the provenance")
        self.store.put(PROVENANCE_KEY, json_bytes(provenance), metadata=_JSON)

    def check_info(self, info: dict[str, Any]) -> None:
        validate_info(info)

    # --- how it is stored ----------------------------------------------------

    def _for_scale(self, cache: dict[int, tuple[str, T]], mip: int, build: Callable[[], T]) -> T:
        """``cache[mip]``, built again when the scale's values changed since."""
        info = self.meta.info
        key = repr((self.meta.scale(mip), info["data_type"], info["num_channels"]))
        cached = cache.get(mip)
        if cached is None or cached[0] != key:
            cached = cache[mip] = (key, build())
        return cached[1]

    def layout(self, mip: int) -> ScaleLayout:
        """Scale ``mip``'s chunk I/O, codec and voxel type (rebuilt when the info changes)."""
        return self._layout(mip)

    def _layout(self, mip: int) -> ScaleLayout:
        return self._for_scale(self._layouts, mip, lambda: ScaleLayout.of(self.chunk_io(mip), self.meta, mip))

    def chunk_io(self, mip: int) -> ChunkIO:
        """How the chunks of scale ``mip`` are kept in the store (one key each, or shards).

        Built without the scale's codec: the parent of ``parallel`` workers needs only this.
        """
        return self._for_scale(self._chunk_ios, mip, lambda: chunk_io_for(self.store, self.meta, mip))

    def chunk_grid(self, mip: int) -> ChunkGrid:
        return self.meta.grid(mip)  # from the info, so vol.chunk_size works on any scale

    def work_grid(self, mip: int) -> ChunkGrid:
        return self.chunk_io(mip).work_grid

    def encoding(self, mip: int) -> str:
        return self.meta.encoding(mip)

    @property
    def overlaps_requests(self) -> bool:
        return self.store.batch_size > 1  # a batch's requests are all in flight at once

    def threads_suffice(self, mip: int, work: str) -> str | None:
        # Compression needs no say: gzip (isal, zlib-ng, zlib) releases the GIL as well.
        codec = self._layout(mip).codec
        free = codec.decode_releases_gil if work == "read" else codec.encode_releases_gil
        if self.store.holds_gil or not free:
            return None
        protocol = self.store.url.partition("://")[0]
        coding = "decoding" if work == "read" else "encoding"
        return f"{protocol}:// requests and {codec.encoding} {coding} release the GIL"

    @property
    def shared_between_processes(self) -> bool:
        return self.store.shared_between_processes

    # --- voxels ------------------------------------------------------------

    def read(
        self,
        bbox: Bbox,
        *,
        mip: int,
        options: ReadOptions,
        out: npt.NDArray[Any] | None = None,
        zeroed: bool = False,
    ) -> npt.NDArray[Any]:
        layout = self._layout(mip)
        lru = self.lru if self.lru is not None and self.lru.active else None
        return read_box(layout, bbox, options=options, runner=self._runner, out=out, zeroed=zeroed, lru=lru)

    def check_write(self, bbox: Bbox, *, mip: int, options: WriteOptions) -> None:
        self.store.require_writes("write chunks")
        self.meta.check_unlocked(mip, "write chunks")
        check_data_type(self.meta.dtype)
        grid = self.chunk_io(mip).grid
        check_alignment(grid, bbox, mip=mip, allowed=options.non_aligned_writes, action="write")

    def write(self, bbox: Bbox, array: npt.NDArray[Any], *, mip: int, options: WriteOptions) -> None:
        self.check_write(bbox, mip=mip, options=options)
        try:
            write_box(self._layout(mip), bbox, array, options=options, runner=self._runner)
        finally:
            self._forget(bbox, mip)

    def written_elsewhere(self, bbox: Bbox, *, mip: int) -> None:
        self._forget(bbox, mip)
        self.chunk_io(mip).forget_indexes()

    def _forget(self, bbox: Bbox, mip: int) -> None:
        """Drop the LRU's copies of the chunks a write or delete changed."""
        if self.lru is not None and len(self.lru):  # an empty LRU needs no names (a scale has millions)
            self.lru.discard(self.chunk_io(mip).grid.cover(bbox).names())

    def exists(self, bbox: Bbox, *, mip: int) -> dict[str, bool]:
        chunks = self.chunk_io(mip)
        return chunks.exists_many(chunks.grid.cover(chunks.grid.aligned(bbox)).chunks())

    def delete(self, bbox: Bbox, *, mip: int) -> None:
        self.store.require_writes("delete chunks")
        self.meta.check_unlocked(mip, "delete chunks")
        chunks = self.chunk_io(mip)
        check_alignment(chunks.grid, bbox, mip=mip, allowed=False, action="delete")
        chunks.delete_many(chunks.grid.cover(bbox).chunks())
        self._forget(bbox, mip)

    def set_threads(self, threads: int) -> None:
        if threads != self._runner.threads:
            self._runner.close()
            self._runner = TaskRunner(threads)

    def close(self) -> None:
        self._runner.close()
        self.store.close()
