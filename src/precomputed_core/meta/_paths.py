"""Parse cloud paths: ``gs://bucket/dataset/layer``, ``precomputed://...``, local paths."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from ..exceptions import UnsupportedProtocolError

__all__ = ["KNOWN_FORMATS", "CloudPath", "parse_cloudpath"]

#: Format prefixes we can read, and the ones Neuroglancer knows that we do not.
KNOWN_FORMATS = ("precomputed",)
_OTHER_FORMATS = ("graphene", "n5", "zarr", "zarr2", "zarr3", "nifti", "nggraph", "python")
_HOST_PROTOCOLS = ("http", "https")
_PROTOCOL_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CloudPath:
    """A parsed layer path.

    ``bucket`` is the bucket (gs, s3, mem), host (http/https) or BOSS
    collection; it is empty for local files. ``path`` is everything after it,
    without leading or trailing slashes (for files: the absolute path without
    its leading slash).

    Examples
    --------
    >>> p = parse_cloudpath("precomputed://gs://bucket/mouse/image")
    >>> p.protocol, p.bucket, p.dataset, p.layer
    ('gs', 'bucket', 'mouse', 'image')
    >>> p.url, p.base_url
    ('gs://bucket/mouse/image', 'gs://bucket/mouse')
    >>> parse_cloudpath("file:///data/ds/seg").url
    'file:///data/ds/seg'
    """

    protocol: str
    bucket: str
    path: str
    format: str = "precomputed"

    @property
    def _parts(self) -> list[str]:
        return [p for p in self.path.split("/") if p]

    @property
    def layer(self) -> str:
        parts = self._parts
        return parts[-1] if parts else ""

    @property
    def dataset(self) -> str:
        parts = self._parts
        return parts[-2] if len(parts) >= 2 else ""

    def _join(self, path: str) -> str:
        if self.protocol == "file":
            return f"file:///{path}".rstrip("/") if path else "file:///"
        root = f"{self.protocol}://{self.bucket}"
        return f"{root}/{path}" if path else root

    @property
    def url(self) -> str:
        """The layer's cloud path, without a format prefix."""
        return self._join(self.path)

    @property
    def base_url(self) -> str:
        """The cloud path of the dataset that holds the layer."""
        return self._join("/".join(self._parts[:-1]))

    def child(self, name: str) -> str:
        """The cloud path of an object inside the layer (``child('info')``)."""
        return f"{self.url}/{name}"

    def with_dataset(self, dataset: str) -> CloudPath:
        parts = self._parts
        if len(parts) < 2:
            raise UnsupportedProtocolError(f"{self.url} has no dataset component to replace")
        return replace(self, path="/".join([*parts[:-2], dataset, parts[-1]]))

    def with_layer(self, layer: str) -> CloudPath:
        parts = self._parts
        return replace(self, path="/".join([*parts[:-1], layer]))

    @property
    def local_path(self) -> str:
        """The absolute file system path of a ``file://`` layer."""
        return "/" + self.path


def _split_format(url: str) -> tuple[str, str]:
    first = _PROTOCOL_RE.match(url)
    if first is None:
        return "precomputed", url
    scheme, rest = first.group(1).lower(), first.group(2)
    if scheme in KNOWN_FORMATS:
        return scheme, rest
    if scheme in _OTHER_FORMATS or _PROTOCOL_RE.match(rest):
        raise UnsupportedProtocolError(
            f"format {scheme!r} in {url!r} is not supported; precomputed reads "
            f"Neuroglancer Precomputed layers ({', '.join(p + '://' for p in KNOWN_FORMATS)})"
        )
    return "precomputed", url


def _local(path: str) -> tuple[str, str]:
    if not path:
        raise UnsupportedProtocolError("a file path names no directory; use file:///absolute/path/to/layer")
    absolute = os.path.abspath(os.path.expanduser(path))
    return "", absolute.strip("/")


def parse_cloudpath(cloudpath: str | os.PathLike[str]) -> CloudPath:
    """Parse a layer path into protocol, bucket and path.

    Accepts ``gs://``, ``s3://``, ``file://``, ``http(s)://``, ``mem://``,
    ``boss://`` (and any other ``scheme://`` a plugin may serve), an optional
    ``precomputed://`` prefix, and relative or absolute local paths. Names are
    kept exactly, spaces at either end included.
    """
    url = os.fspath(cloudpath)  # not stripped: "layer " (with its space) is another directory
    if _PROTOCOL_RE.match(url.lstrip()):
        url = url.lstrip()  # indentation before "gs://" is never part of a name
    if not url.strip():
        raise UnsupportedProtocolError("an empty path names no layer; pass e.g. 'file:///data/layer'")
    fmt, rest = _split_format(url)
    match = _PROTOCOL_RE.match(rest)
    if match is None:
        bucket, path = _local(rest)
        return CloudPath("file", bucket, path, fmt)
    protocol, remainder = match.group(1).lower(), match.group(2)
    if protocol == "file":
        bucket, path = _local(remainder)
        return CloudPath("file", bucket, path, fmt)
    remainder = remainder.strip("/")
    bucket, _, path = remainder.partition("/")
    if not bucket:
        raise UnsupportedProtocolError(
            f"{url!r} names no {'host' if protocol in _HOST_PROTOCOLS else 'bucket'}; "
            f"use {protocol}://BUCKET/DATASET/LAYER"
        )
    return CloudPath(protocol, bucket, "/".join(p for p in path.split("/") if p), fmt)
