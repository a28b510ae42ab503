"""cloud-volume's naming of compressed objects on storage without headers.

On local disk (and in memory) there is no Content-Encoding header, so
cloud-volume marks a compressed chunk with a suffix: ``0-64_0-64_0-64.gz``.
We read every variant and write the bare name when uncompressed, which is the
only name tensorstore and Neuroglancer look for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from precomputed_core import ObjectMetadata, StoredObject
from precomputed_core.exceptions import FeatureUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["VARIANTS", "find_variant", "logical_key", "stored_suffix"]

#: (suffix, compression) in the order reads try them.
VARIANTS: tuple[tuple[str, str | None], ...] = (("", None), (".gz", "gzip"), (".br", "br"), (".zstd", "zstd"))
_SUFFIX = {method: suffix for suffix, method in VARIANTS}


def stored_suffix(content_encoding: str | None) -> str:
    """The suffix a chunk compressed with ``content_encoding`` is stored under."""
    try:
        return _SUFFIX[content_encoding]
    except KeyError:
        raise FeatureUnavailableError(
            f"content encoding {content_encoding!r} has no file suffix; use one of "
            f"{[m for m in _SUFFIX if m]}"
        ) from None


def logical_key(name: str) -> str:
    """A stored name without its compression suffix."""
    for suffix, method in VARIANTS:
        if method is not None and name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def find_variant(
    base: str, read: Callable[[str], bytes | None], where: str = ""
) -> tuple[StoredObject, str] | None:
    """The first stored variant of the object at ``base`` (``read`` gives None if absent), and its path.

    ``where`` names ``base`` in messages; a compressed variant's name adds its suffix.
    """
    for suffix, method in VARIANTS:
        data = read(base + suffix)
        if data is not None:
            source = None if method is None or not where else where + suffix
            return StoredObject(data, ObjectMetadata(content_encoding=method), source), base + suffix
    return None
