"""``HTTPStore``: read-only layers served over ``http://`` and ``https://`` (fsspec's aiohttp client).

Any web server that serves the layer's files will do; responses with a
``Content-Encoding`` (gzip, br, zstd) are decoded, as a browser running Neuroglancer does. HTTP cannot list,
write or delete: writes raise ``ReadOnlyError``. ``storage_options`` go to fsspec's
``HTTPFileSystem``: ``client_kwargs`` to the aiohttp session, the rest (``headers``,
``auth``...) to every request.

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
from ._storage_options import fs_arguments, key_of

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


def _check(response: Any, path: str) -> None:
    """FileNotFoundError for a 404, aiohttp's ClientResponseError (with the status) for other errors."""
    if response.status == 404:
        raise FileNotFoundError(path)
    response.raise_for_status()


class HTTPStore(RemoteStore):
    """A layer on a web server (read-only)."""

    def __init__(
        self,
        url: str,
        *,
        request_timeout: float | None = None,
        total_timeout: float | None = None,
        storage_options: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        from fsspec.implementations.http import HTTPFileSystem

        policy = self.policy.with_options(request_timeout, total_timeout)
        given = dict(storage_options or {})

        def open_fs() -> Any:
            ours = {
                "skip_instance_cache": True,
                # Bodies come as stored and are decoded by their Content-Encoding here, like S3's:
                # a corrupt gzip body is then a DecodingError, not a "transient" payload error,
                # and br/zstd need no extra aiohttp codec packages.
                "client_kwargs": {"timeout": client_timeout(policy), "auto_decompress": False},
            }
            return HTTPFileSystem(**fs_arguments(ours, given))

        fs_key = (
            "http",
            policy.timeout,
            key_of(given),
            environment_key("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"),
        )
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

    def _request_options(self, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """aiohttp's arguments for one request: the file system's own (``storage_options``
        that are not HTTPFileSystem's: headers, auth...), with ``headers`` added."""
        options = dict(self._fs.kwargs)
        if headers:
            options["headers"] = {**options.get("headers", {}), **headers}
        return options

    async def fetch(self, path: str) -> Fetched:
        session = await self._fs.set_session()
        async with session.get(path, **self._request_options()) as response:
            _check(response, path)
            data = await response.read()
            # Public GCS buckets served over HTTPS send their checksums too.
            verify(data, google_hashes(response.headers))
            return Fetched(data, metadata_of(response.headers), response.headers.get("ETag"))

    async def fetch_range(self, path: str, header: str) -> RangeReply:
        session = await self._fs.set_session()
        async with session.get(path, **self._request_options({"Range": header})) as response:
            _check(response, path)
            data = await response.read()
            headers = response.headers
            return RangeReply(response.status, data, metadata_of(headers), headers.get("Content-Range"),
                              headers.get("ETag") or headers.get("Last-Modified"))  # fmt: skip

    async def head(self, path: str) -> None:
        # Not fsspec's _info: it reports every failure, a timeout too, as "not found".
        session = await self._fs.set_session()
        async with session.head(path, **{"allow_redirects": True, **self._request_options()}) as response:
            _check(response, path)

    def find(self, prefix_path: str) -> dict[str, int]:
        raise FeatureUnavailableError(f"{self.url} is served over HTTP, which cannot list objects")
