"""``Volume``: an array source for one layer, read and written by box at a mip."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import FeatureUnavailableError
from ..meta import validate_layer

if TYPE_CHECKING:
    import numpy.typing as npt
    from typing_extensions import Self

    from ..geometry import Bbox, ChunkGrid
    from ..meta import CloudPath, LayerMeta

__all__ = ["ReadOptions", "Volume", "WriteOptions"]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How a read treats missing chunks and whether it shows progress."""

    fill_missing: bool = False
    """Whether a missing chunk reads as ``background``; otherwise it raises ``EmptyVolumeException``."""
    progress: bool = False
    """Whether to show a progress bar."""
    background: int | float = 0
    """The value of voxels no chunk holds: missing chunks read with ``fill_missing``, and the
    space outside the volume."""


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How a write compresses, caches and handles chunks it covers only in part."""

    compress: str | None = None
    """The transfer compression asked for written chunks: ``"gzip"``, ``"br"``, ``"zstd"`` or None."""
    cache_control: str | None = None
    """The ``Cache-Control`` header stored with written objects (None: none)."""
    non_aligned_writes: bool = False
    """Whether the write may cover chunks in part: those are read, patched and rewritten."""
    progress: bool = False
    """Whether to show a progress bar."""
    fill_missing: bool = False
    """Whether a non-aligned write may patch a chunk that does not exist yet (as ``background``);
    without it that is an ``EmptyVolumeException``."""
    compress_level: int | None = None
    """The gzip level of gzip-compressed writes, 1 to 9 (None: 6)."""
    delete_black: bool = False
    """Whether a chunk that would hold only ``background`` is removed instead of stored."""
    background: int | float = 0
    """The value of voxels no chunk holds (see ``ReadOptions``)."""
    overwrite_partial: bool = False
    """Whether a partly covered chunk is written as ``background`` around the new voxels
    instead of being read and patched."""


class Volume(ABC):
    """One layer's voxels and metadata.

    ``meta`` is the layer's info; boxes are voxels at ``mip`` in x, y, z
    order, and arrays are (x, y, z, c). A key-value layout such as
    Precomputed is served by ``PrecomputedVolume`` over any
    ``Store``; an array service (the BOSS) subclasses this directly and is
    registered as a ``kind="volume"`` driver.

    Only ``PrecomputedVolume`` reads the Precomputed storage keys of the info
    (``chunk_sizes``, ``encoding``, ``sharding``); other volumes say what they
    store through ``chunk_grid`` and ``encoding``.
    """

    meta: LayerMeta
    """The layer's info, read by mip."""

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> Self:
        """Open the layer at ``path`` (the entry point of ``kind="volume"`` drivers).

        ``options`` are the driver options of ``CloudVolume`` (``secrets``, ...) and, when
        the user gives one, ``info``: use it instead of reading or building the layer's own,
        since the layer may not exist yet (core checks it with ``check_info`` right after).
        """
        raise FeatureUnavailableError(f"{cls.__name__} cannot be opened from a cloud path")

    @property
    @abstractmethod
    def url(self) -> str:
        """The layer's cloud path."""

    @abstractmethod
    def refresh_info(self) -> dict[str, Any]:
        """Read the info from storage into ``meta`` and return it."""

    @abstractmethod
    def commit_info(self) -> None:
        """Write ``meta.info`` to storage."""

    @abstractmethod
    def fetch_provenance(self) -> dict[str, Any] | None:
        """The stored provenance document, or None if there is none."""

    @abstractmethod
    def commit_provenance(self, provenance: dict[str, Any]) -> None:
        """Write the provenance document to storage."""

    def check_info(self, info: dict[str, Any]) -> None:
        """Raise ``InfoValidationError`` if ``info`` cannot describe this volume (before it is used).

        The default checks what every layer's info has (type, data type, channels,
        and each scale's key, size, resolution and offset).
        """
        validate_layer(info)

    @property
    def shared_between_processes(self) -> bool:
        """Whether other processes that open the same path see the same data (not ``mem://``)."""
        return True

    # --- how the volume is stored ---------------------------------------------

    def chunk_grid(self, mip: int) -> ChunkGrid | None:
        """The grid of the pieces stored at ``mip`` (``vol.chunk_size``), or None if it has none."""
        return None

    def work_grid(self, mip: int) -> ChunkGrid | None:
        """The grid that work on ``mip`` is split on across processes.

        No cell's stored objects may be shared with another cell's, so workers given
        different cells never rewrite one object: a scale's chunks, or its shards.
        None (the default when there is no ``chunk_grid``) means the volume
        cannot be split, and ``parallel`` is refused for it.
        """
        return self.chunk_grid(mip)

    def threads_suffice(self, mip: int, work: str) -> str | None:
        """Why this process's threads already keep every core busy on ``work`` ("read" or
        "write") at ``mip``, or None.

        ``parallel`` worker processes pay only for work that holds the GIL; where this
        returns a reason, the work stays on the caller's threads (the reason is logged at
        DEBUG). The default, None, lets ``parallel`` use its processes.
        """
        return None

    @property
    def overlaps_requests(self) -> bool:
        """Whether one read or write already keeps many requests in flight (a remote store).

        ``parallel`` then gives each worker process one large share of the work instead
        of several small ones taken in turn, which would each wait out their own round trips.
        """
        return False

    def encoding(self, mip: int) -> str | None:
        """How the pieces at ``mip`` are encoded (``vol.encoding``); None if the volume does not say."""
        return None

    def check_write(self, bbox: Bbox, *, mip: int, options: WriteOptions) -> None:  # noqa: B027
        """Raise before any voxel is written if a write of ``bbox`` cannot be done as asked.

        Called once for a whole write, also when ``parallel`` splits it: the parts
        are then written with ``non_aligned_writes=True``, since their inner edges are
        ``work_grid`` lines. The default accepts every box.
        """

    @abstractmethod
    def read(
        self,
        bbox: Bbox,
        *,
        mip: int,
        options: ReadOptions,
        out: npt.NDArray[Any] | None = None,
        zeroed: bool = False,
    ) -> npt.NDArray[Any]:
        """The voxels of ``bbox`` as a Fortran-ordered (x, y, z, c) array.

        Parts of ``bbox`` outside the volume are zeros. With ``out`` (an array or view
        of the box's shape and the layer's dtype) the voxels are written there;
        ``zeroed`` says it is already all zeros, which saves a pass over it.
        """

    @abstractmethod
    def write(self, bbox: Bbox, array: npt.NDArray[Any], *, mip: int, options: WriteOptions) -> None:
        """Store ``array`` (x, y, z, c, already of the layer's dtype) at ``bbox``."""

    @abstractmethod
    def exists(self, bbox: Bbox, *, mip: int) -> dict[str, bool]:
        """Which stored pieces covering ``bbox`` exist, by key."""

    @abstractmethod
    def delete(self, bbox: Bbox, *, mip: int) -> None:
        """Delete the stored pieces of a chunk-aligned ``bbox``."""

    def written_elsewhere(self, bbox: Bbox, *, mip: int) -> None:  # noqa: B027 - most keep no copies
        """Other processes (``parallel``) have just written ``bbox``: drop any copy of it this
        process keeps (an in-memory LRU of chunks), so reads see the new voxels."""

    def set_threads(self, threads: int) -> None:  # noqa: B027 - volumes without a pool ignore it
        """Use ``threads`` I/O threads from now on (worker processes of ``parallel`` use one)."""

    def close(self) -> None:  # noqa: B027 - most volumes hold nothing to close
        """Release threads, connections or handles."""
