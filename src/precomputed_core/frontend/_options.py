"""Check and normalize the README's constructor options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import FeatureUnavailableError
from ..interfaces import ReadOptions, WriteOptions

__all__ = [
    "Settings", "background_color", "cache_control", "codec_threads", "compress_level", "fsspec_options",
    "https_path", "parallel_count", "refuse_graphene", "seconds", "usable_cores",
]  # fmt: skip

_DEFAULT_CDN = "max-age=3600, s-max-age=3600"


def usable_cores() -> int:
    """Cores this process may run on (respects CPU affinity and cgroup-pinned sets)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def parallel_count(parallel: Any) -> int:
    """The process count for ``parallel``: False/1 one, N that many, True or 0 all cores
    (as cloud-volume)."""
    if parallel is True or (isinstance(parallel, int) and not isinstance(parallel, bool) and parallel == 0):
        count = usable_cores()
    elif parallel is False or parallel is None:
        count = 1
    elif isinstance(parallel, int) and parallel >= 1:
        count = parallel
    else:
        raise ValueError(f"parallel must be True, False or an integer >= 0 (0: all cores), got {parallel!r}")
    return count


def seconds(name: str, value: Any) -> float | None:
    """A time limit option: None (the store's default) or a positive number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def fsspec_options(value: Any) -> dict[str, Any] | None:
    """``storage_options``: None, or a mapping of fsspec file system arguments by name."""
    if value is None:
        return None
    from collections.abc import Mapping

    if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
        raise TypeError(
            "storage_options must be a dict of the fsspec file system's arguments by name, "
            f"such as {{'anon': True}}; got {type(value).__name__}"
        )
    return dict(value)


def refuse_graphene(**options: Any) -> None:
    """Refuse options that only graphene (proofreading) or spatial-index servers answer, by name."""
    given = sorted(name for name, value in options.items() if value not in (None, False))
    if not given:
        return
    servers = (
        "spatial-index databases" if given == ["spatial_index_db"] else "graphene (proofreading) servers"
    )
    raise FeatureUnavailableError(
        f"{', '.join(given)}: {'these serve' if len(given) > 1 else 'this serves'} {servers}, which "
        f"precomputed does not read; leave {'them' if len(given) > 1 else 'it'} unset for a "
        "Precomputed layer"
    )


GRAPHENE_ARGUMENTS = ("agglomerate", "timestamp", "stop_layer")


def refuse_graphene_arguments(call: str, kwargs: dict[str, Any]) -> None:
    """A call's ``**kwargs``, which absorb cloud-volume's graphene arguments: a typo is a
    TypeError, a graphene argument is refused by name."""
    unknown = sorted(set(kwargs) - set(GRAPHENE_ARGUMENTS))
    if unknown:
        raise TypeError(f"{call}() got unexpected keyword arguments: {', '.join(unknown)}")
    refuse_graphene(**kwargs)


def compress_level(level: Any) -> int | None:
    """``compress_level``: None (gzip's default, 6) or a gzip level from 1 to 9."""
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9:
        raise ValueError(f"compress_level must be None or a gzip level from 1 to 9, got {level!r}")
    return level


def background_color(value: Any) -> int | float:
    """``background_color``: a number (the value of voxels no chunk holds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"background_color must be a number, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


def codec_threads(threads: Any) -> int:
    """``codec_threads``: a positive count (0, as in cloud-volume, means every core)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"codec_threads must be a whole number >= 0, got {threads!r}")
    return threads or usable_cores()


def https_path(cloudpath: str) -> str:
    """``use_https``: a public gs:// or s3:// path as the same bucket over plain HTTPS."""
    for scheme, host in (
        ("gs://", "https://storage.googleapis.com/"),
        ("s3://", "https://s3.amazonaws.com/"),
    ):
        for prefix in ("", "precomputed://"):
            if cloudpath.startswith(prefix + scheme):
                return prefix + host + cloudpath[len(prefix + scheme) :]
    return cloudpath


def cache_control(cdn_cache: Any) -> str:
    """The ``Cache-Control`` header for ``cdn_cache`` (bool, seconds, or a header string)."""
    if cdn_cache is None or cdn_cache is True:
        return _DEFAULT_CDN
    if cdn_cache is False:
        return "no-cache"
    if isinstance(cdn_cache, str):
        return cdn_cache
    if isinstance(cdn_cache, int):
        if cdn_cache < 0:
            raise ValueError(f"cdn_cache must be >= 0 seconds, got {cdn_cache}")
        return "no-cache" if cdn_cache == 0 else f"max-age={cdn_cache}, s-max-age={cdn_cache}"
    raise ValueError(f"cdn_cache must be a bool, seconds (int) or a header string, got {cdn_cache!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    """The README's options as they stand at one call: what a read or write needs to know."""

    mip: int
    bounded: bool
    autocrop: bool
    fill_missing: bool
    non_aligned_writes: bool
    progress: bool
    compress: str | None
    cdn_cache: Any
    compress_level: int | None = None
    delete_black_uploads: bool = False
    background_color: int | float = 0
    overwrite_partial_chunks: bool = False

    @property
    def crop(self) -> bool:
        """The README: autocrop applies when bounded is False; bounded=True still refuses."""
        return self.autocrop and not self.bounded

    def read_options(self) -> ReadOptions:
        return ReadOptions(
            fill_missing=self.fill_missing, progress=self.progress, background=self.background_color
        )

    def write_options(self) -> WriteOptions:
        return WriteOptions(
            compress=self.compress,
            cache_control=cache_control(self.cdn_cache),
            non_aligned_writes=self.non_aligned_writes,
            progress=self.progress,
            fill_missing=self.fill_missing,
            compress_level=self.compress_level,
            delete_black=self.delete_black_uploads,
            background=self.background_color,
            overwrite_partial=self.overwrite_partial_chunks,
        )
