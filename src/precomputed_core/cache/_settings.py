"""Where a layer's disk cache lives and how it stores objects: settings that travel to workers."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..meta import CloudPath

__all__ = ["CacheSettings", "cache_base", "cache_location", "checked_compress", "checked_max_bytes"]


def cache_base() -> str:
    """The directory that holds every layer's cache, as cloud-volume chooses it.

    ``$CLOUD_VOLUME_CACHE_DIR`` if set, else ``$CLOUD_VOLUME_DIR/cache``, else
    ``~/.cloudvolume/cache``; read at each call, so a changed variable takes effect.
    """
    explicit = os.environ.get("CLOUD_VOLUME_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    home = os.environ.get("CLOUD_VOLUME_DIR") or os.path.join("~", ".cloudvolume")
    return os.path.abspath(os.path.join(os.path.expanduser(home), "cache"))


def cache_location(path: CloudPath, base: str | os.PathLike[str] | None = None) -> str:
    """``base/$PROTOCOL/$BUCKET/$DATASET/$LAYER``: the cache directory of one layer.

    >>> from precomputed_core.meta import parse_cloudpath
    >>> cache_location(parse_cloudpath("gs://bucket/mouse/image"), "/tmp/cache")
    '/tmp/cache/gs/bucket/mouse/image'
    """
    root = cache_base() if base is None else os.path.abspath(os.path.expanduser(os.fspath(base)))
    parts = [p for p in (path.bucket, *path.path.split("/")) if p and p not in (".", "..")]
    return os.path.join(root, path.protocol, *parts)


def checked_compress(value: Any) -> bool | None:
    """``vol.cache.compress``: None (keep objects as fetched), True or False."""
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"cache compress must be None (keep objects as fetched), True or False, got {value!r}")


def checked_max_bytes(value: Any) -> int | None:
    """``vol.cache.max_bytes``: None or a positive number of bytes."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"a cache size limit is a positive number of bytes or None, got {value!r}")
    return value


@dataclass
class CacheSettings:
    """One layer's cache: on or off, where, how chunks are stored, and an optional size limit.

    ``compress``: None keeps each object as fetched (a gzip-compressed chunk stays
    gzip-compressed), True stores objects gzip-compressed, False uncompressed.
    ``max_bytes``: past it, the least recently used objects are evicted. ``base``:
    the directory the path was chosen under (None: the default), for the layer's
    cache when the volume moves to another layer. The volume's ``vol.cache`` and
    its store share one instance, so a change applies to the next read or write;
    workers of ``parallel`` get a copy with each task.
    """

    enabled: bool
    path: str
    compress: bool | None = None
    max_bytes: int | None = None
    base: str | None = None

    def __post_init__(self) -> None:
        self.enabled = bool(self.enabled)
        self.path = os.path.abspath(os.fspath(self.path))
        self.compress = checked_compress(self.compress)
        self.max_bytes = checked_max_bytes(self.max_bytes)

    @classmethod
    def from_option(
        cls, cache: Any, path: CloudPath, *, compress: Any = None, max_bytes: Any = None
    ) -> CacheSettings:
        """The settings for the README's ``cache`` option: False, True or a base directory."""
        if cache is None or isinstance(cache, bool):
            return cls(bool(cache), cache_location(path), compress, max_bytes)
        if isinstance(cache, (str, os.PathLike)) and os.fspath(cache):
            base = os.fspath(cache)
            return cls(True, cache_location(path, base), compress, max_bytes, base)
        raise ValueError(
            f"cache must be True, False or a directory under which layers are cached, got {cache!r}"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, values: dict[str, Any]) -> None:
        """Take the values of ``to_json`` (in place: the store shares this object)."""
        checked = CacheSettings(**values)
        self.enabled, self.path, self.base = checked.enabled, checked.path, checked.base
        self.compress, self.max_bytes = checked.compress, checked.max_bytes

    def follow(self, path: CloudPath) -> None:
        """Move to the cache directory of the layer at ``path``, under the same base."""
        self.path = cache_location(path, self.base)
