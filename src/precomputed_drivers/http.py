"""``HTTPStore``: read-only layers served over ``http://`` and ``https://`` (fsspec's aiohttp client).

Any web server that serves the layer's files will do; gzip-encoded responses are
decompressed by the client, as a browser running Neuroglancer does. HTTP cannot list,
write or delete: writes raise :class:`ReadOnlyError`.

``https://storage.googleapis.com/BUCKET/PATH`` and ``https://BUCKET.storage.googleapis.com/PATH``,
the public URLs Neuroglancer uses for GCS buckets, are opened with the GCS driver
(read-only): it lists, honours ``STORAGE_EMULATOR_HOST`` and uses credentials if there
are any.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from precomputed_core.exceptions import FeatureUnavailableError

from ._remote import RemoteStore

if TYPE_CHECKING:
    from precomputed_core import CloudPath, Store

__all__ = ["HTTPStore"]

_GCS_HOST = "storage.googleapis.com"


def gcs_alias(path: CloudPath) -> tuple[str, str] | None:
    """(bucket, path) if ``path`` is a public URL of a GCS bucket."""
    host = path.bucket.lower()
    if host == _GCS_HOST:
        bucket, _, rest = path.path.partition("/")
        return (bucket, rest) if bucket else None
    if host.endswith("." + _GCS_HOST):
        return host[: -len(_GCS_HOST) - 1], path.path
    return None


class HTTPStore(RemoteStore):
    """A layer on a web server (read-only)."""

    def __init__(self, url: str, **_: Any) -> None:
        import aiohttp
        from fsspec.implementations.http import HTTPFileSystem

        fs = HTTPFileSystem(
            skip_instance_cache=True,
            client_kwargs={"timeout": aiohttp.ClientTimeout(total=300, sock_connect=10, sock_read=60)},
        )
        super().__init__(fs, url, url, read_only=True)

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> Store:  # type: ignore[override]
        alias = gcs_alias(path)
        if alias is not None:
            from .gcs import GCSStore

            return GCSStore(*alias, read_only=True, **options)
        return cls(path.url, **options)

    def object_path(self, key: str) -> str:
        return f"{self._root}/{key}"

    async def fetch(self, path: str) -> tuple[bytes, str | None]:
        return await self._fs._cat_file(path), None

    async def head(self, path: str) -> None:
        await self._fs._info(path)

    def find(self, prefix_path: str) -> list[str]:
        raise FeatureUnavailableError(f"{self.url} is served over HTTP, which cannot list objects")

    def list(self, prefix: str = "") -> Any:
        return self.find(prefix)
