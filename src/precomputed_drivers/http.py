"""``HTTPStore``: read-only layers served over ``http://`` and ``https://`` (fsspec's aiohttp client).

Any web server that serves the layer's files will do; responses with a
``Content-Encoding`` (gzip, br, zstd) are decoded, as a browser running Neuroglancer does. HTTP cannot list,
write or delete: writes raise :class:`ReadOnlyError`.

``https://storage.googleapis.com/BUCKET/PATH`` and ``https://BUCKET.storage.googleapis.com/PATH``,
the public URLs Neuroglancer uses for GCS buckets, are opened with the GCS driver
(read-only): it lists, honours ``STORAGE_EMULATOR_HOST`` and uses credentials if there
are any.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from precomputed_core.exceptions import FeatureUnavailableError

from ._checksums import google_hashes, verify
from ._ranges import RangeReply
from ._remote import Fetched, RemoteStore, client_timeout, environment_key, metadata_of

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

    def __init__(
        self, url: str, *, request_timeout: float | None = None, total_timeout: float | None = None, **_: Any
    ) -> None:
        from fsspec.implementations.http import HTTPFileSystem

        policy = self.policy.with_options(request_timeout, total_timeout)

        def open_fs() -> Any:
            return HTTPFileSystem(
                skip_instance_cache=True,
                # Bodies come as stored and are decoded by their Content-Encoding here, like S3's:
                # a corrupt gzip body is then a DecodingError, not a "transient" payload error,
                # and br/zstd need no extra aiohttp codec packages.
                client_kwargs={"timeout": client_timeout(policy), "auto_decompress": False},
            )

        fs_key = ("http", policy.timeout, environment_key("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"))
        super().__init__(open_fs, url, url, read_only=True, policy=policy, fs_key=fs_key)

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> Store:  # type: ignore[override]
        alias = gcs_alias(path)
        if alias is not None:
            from .gcs import GCSStore

            return GCSStore(*alias, read_only=True, **options)
        return cls(path.url, **options)

    def object_path(self, key: str) -> str:
        return f"{self._root}/{key}"

    async def fetch(self, path: str) -> Fetched:
        session = await self._fs.set_session()
        async with session.get(path) as response:
            self._fs._raise_not_found_for_status(response, path)
            data = await response.read()
            # Public GCS buckets served over HTTPS send their checksums too.
            verify(data, google_hashes(response.headers))
            return Fetched(data, metadata_of(response.headers), response.headers.get("ETag"))

    async def fetch_range(self, path: str, header: str) -> RangeReply:
        session = await self._fs.set_session()
        async with session.get(path, headers={"Range": header}) as response:
            self._fs._raise_not_found_for_status(response, path)
            data = await response.read()
            headers = response.headers
            return RangeReply(response.status, data, metadata_of(headers), headers.get("Content-Range"),
                              headers.get("ETag") or headers.get("Last-Modified"))  # fmt: skip

    async def head(self, path: str) -> None:
        # Not fsspec's _info: it reports every failure, a timeout too, as "not found".
        session = await self._fs.set_session()
        async with session.head(path, allow_redirects=True) as response:
            self._fs._raise_not_found_for_status(response, path)

    def find(self, prefix_path: str) -> dict[str, int]:
        raise FeatureUnavailableError(f"{self.url} is served over HTTP, which cannot list objects")
