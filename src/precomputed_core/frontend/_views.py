"""``vol.image`` and ``vol.config``: cloud-volume's names for a volume's voxel side and options.

In cloud-volume these are its image data source and its shared configuration, and
scripts reach through them (``vol.image.lru.resize(...)``, ``vol.config.parallel = 2``).
Here the options and voxel calls live on the volume itself; these views forward to it,
so both spellings act on the same state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..image import ChunkLRU
    from ._cloudvolume import CloudVolume

__all__ = ["ConfigView", "ImageView"]


class _Forward:
    """An attribute of the view that reads and writes the volume's attribute ``name``."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    def __get__(self, view: Any, owner: type | None = None) -> Any:
        return self if view is None else getattr(view._vol, self.name)  # type: ignore[arg-type]

    def __set__(self, view: Any, value: Any) -> None:
        setattr(view._vol, self.name, value)  # type: ignore[arg-type]


class _View:
    """A view of one volume: its attributes are the volume's own."""

    def __init__(self, vol: CloudVolume) -> None:
        self._vol = vol


class ImageView(_View):
    """``vol.image``: the options and calls of the volume's voxels, under cloud-volume's names."""

    bounded = _Forward()
    autocrop = _Forward()
    fill_missing = _Forward()
    background_color = _Forward()
    non_aligned_writes = _Forward()
    delete_black_uploads = _Forward()
    overwrite_partial_chunks = _Forward()

    @property
    def lru(self) -> ChunkLRU:
        """The in-memory chunk LRU: ``resize(nbytes)``, ``clear()``, ``nbytes``, ``len()``."""
        return self._vol.lru

    @property
    def lru_encoding(self) -> str:
        """How the LRU keeps chunks: 'same' (as stored) or 'raw' (decoded); changing it empties it."""
        return self._vol.lru.encoding

    @lru_encoding.setter
    def lru_encoding(self, encoding: str) -> None:
        self._vol.lru.encoding = encoding

    # cloud-volume's own tests set the private name.
    _lru_encoding = lru_encoding

    def has_data(self, mip: int | Sequence[float] | None = None) -> bool:
        """Whether any chunk of ``mip`` (default ``vol.mip``) is stored."""
        return self._vol.has_data(mip)

    def download(self, bbox: Any, mip: int | None = None) -> Any:
        return self._vol.download(bbox, mip=mip)

    def download_points(self, points: Any, mip: int | None = None) -> dict[tuple[int, int, int], Any]:
        """The value at each point of ``mip``'s voxel grid: ``{(x, y, z): value}``."""
        mip = self._vol.mip if mip is None else mip
        resolution = self._vol.meta.resolution(self._vol.meta.to_mip(mip)).tolist()
        return self._vol.scattered_points(points, mip=mip, coord_resolution=resolution)

    def exists(self, bbox: Any, mip: int | None = None) -> dict[str, bool]:
        return self._vol.exists(bbox, mip=mip)

    def delete(self, bbox: Any, mip: int | None = None) -> None:
        self._vol.delete(bbox, mip=mip)


class ConfigView(_View):
    """``vol.config``: the volume's request options, under cloud-volume's names."""

    mip = _Forward()
    parallel = _Forward()
    progress = _Forward()
    compress = _Forward()
    compress_level = _Forward()
    cdn_cache = _Forward()
    codec_threads = _Forward()
    green = _Forward("green_threads")

    @property
    def secrets(self) -> Any:
        """The credentials given to the constructor (None: each driver's default lookup)."""
        return self._vol._options.get("secrets")
