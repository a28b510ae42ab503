"""``GCSStore``: ``gs://bucket/path`` through gcsfs (Google Cloud Storage, its emulators).

Objects are fetched as stored, with their ``Content-Encoding``, and decoded here (GCS sends
gzip objects compressed to clients that accept gzip), and checked against ``x-goog-hash``.
Requests go through gcsfs's request method without its retry loop: this store retries
(``RetryPolicy``, as every remote store does), so that a damaged or cut-short body is
retried too, attempts are counted once, and the time limits hold.

gcsfs's core class is used directly: its "extended" class (the default from gcsfs
2026 on) asks a gRPC control API for each bucket's type, which private endpoints and
emulators cannot answer.

Credentials, first found wins: ``storage_options``' ``token``, ``secrets=`` (a dict or service-account file),
``[BUCKET-]google-secret.json`` in the secrets folder; with ``STORAGE_EMULATOR_HOST``
set, none; then Google's application default credentials; otherwise anonymous access,
which public buckets allow. Other ``storage_options`` go to gcsfs's ``GCSFileSystem`` as they are.
"""

from __future__ import annotations

import json
import os
from secrets import token_hex
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._checksums import google_hashes, verify
from ._ranges import RangeReply
from ._remote import ALWAYS, Condition, Fetched, RemoteStore, client_timeout, environment_key, metadata_of
from ._secrets import find_secret, looked_for
from ._storage_options import fs_arguments, given_twice, key_of

if TYPE_CHECKING:
    from precomputed_core import CloudPath, ObjectMetadata

__all__ = ["GCSStore"]


def _boundary(value: bytes) -> str:
    """A multipart boundary that ``value`` does not contain."""
    while True:
        boundary = token_hex(16)
        if boundary.encode() not in value:
            return boundary


def _has_default_credentials() -> bool:
    try:
        import google.auth

        google.auth.default()
    except Exception:
        return False
    return True


def google_token(bucket: str, given: Any = None) -> tuple[Any, str]:
    """gcsfs's ``token`` argument, and a description of the credentials for messages."""
    secret = find_secret("google", bucket, given)
    if secret is not None:
        return dict(secret.values), f"from {secret.source}"
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return "anon", "none (STORAGE_EMULATOR_HOST is set)"
    if _has_default_credentials():
        return "google_default", "Google application default credentials"
    return "anon", (
        f"none found, so access was anonymous (looked for {looked_for('google', bucket)} "
        "and Google application default credentials)"
    )


class GCSStore(RemoteStore):
    """A layer in a Google Cloud Storage bucket."""

    def __init__(
        self,
        bucket: str,
        path: str,
        *,
        secrets: Any = None,
        read_only: bool = False,
        request_timeout: float | None = None,
        total_timeout: float | None = None,
        storage_options: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        from gcsfs.core import GCSFileSystem

        policy = self.policy.with_options(request_timeout, total_timeout)
        given = dict(storage_options or {})
        if "token" in given:
            if secrets is not None:
                raise given_twice(["token"])
            token, credentials = given.pop("token"), "from storage_options (token)"
        else:
            token, credentials = google_token(bucket, secrets)

        def open_fs() -> Any:
            ours = {
                "token": token,
                "skip_instance_cache": True,
                "use_listings_cache": False,
                # Without it gcsfs sets no timeout at all: a stalled connection would hang a read.
                # Connect and read timeouts raise errors this store retries (within policy.total).
                "requests_timeout": client_timeout(policy),
                # Bodies come as stored, decoded here by their Content-Encoding (see http.py).
                "session_kwargs": {"auto_decompress": False},
            }
            return GCSFileSystem(**fs_arguments(ours, given))

        url = f"gs://{bucket}/{path}".rstrip("/")
        fs_key = ("gs", json.dumps(token, sort_keys=True, default=repr), key_of(given), policy.timeout,
                  environment_key("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"))  # fmt: skip
        super().__init__(open_fs, f"{bucket}/{path}", url, read_only=read_only, credentials=credentials,
                         policy=policy, fs_key=fs_key)  # fmt: skip

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> GCSStore:
        return cls(path.bucket, path.path, **options)

    async def _call(self, method: str, path: str, *args: str, **kwargs: Any) -> tuple[Any, bytes]:
        """One request (headers, body) through gcsfs, without gcsfs's own retries."""
        request = getattr(type(self._fs)._request, "__wrapped__", None)
        if request is None:  # a gcsfs whose request method is not wrapped: its retries stay
            _, headers, _, contents = await self._fs._request(method, path, *args, **kwargs)
        else:
            _, headers, _, contents = await request(self._fs, method, path, *args, **kwargs)
        return headers, contents

    async def fetch(self, path: str) -> Fetched:
        headers, data = await self._call("GET", self._fs.url(path))
        verify(data, google_hashes(headers))
        return Fetched(data, metadata_of(headers), headers.get("x-goog-generation"))

    async def fetch_range(self, path: str, header: str) -> RangeReply:
        headers, data = await self._call("GET", self._fs.url(path), headers={"Range": header})
        # gcsfs does not give the status: a part comes with its Content-Range.
        content_range = headers.get("Content-Range")
        return RangeReply(206 if content_range else 200, data, metadata_of(headers), content_range,
                          headers.get("x-goog-generation"))  # fmt: skip

    async def store(
        self, path: str, value: bytes, metadata: ObjectMetadata, condition: Condition = ALWAYS
    ) -> None:
        """A multipart upload (one request), which ``ifGenerationMatch`` makes conditional.

        Ours rather than gcsfs's: that one has a fixed part boundary, which cuts short a
        payload that contains it, and takes no generation to match.
        """
        bucket, key, _ = self._fs.split_path(path)
        resource = {"name": key, "contentType": metadata.content_type}
        if metadata.content_encoding:
            resource["contentEncoding"] = metadata.content_encoding
        if metadata.cache_control:
            resource["cacheControl"] = metadata.cache_control
        boundary = _boundary(value)
        body = b"".join((
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
            json.dumps(resource).encode(),
            f"\r\n--{boundary}\r\nContent-Type: {metadata.content_type}\r\n\r\n".encode(),
            value,
            f"\r\n--{boundary}--\r\n".encode(),
        ))  # fmt: skip
        params = {"uploadType": "multipart"}
        if condition is not ALWAYS:
            params["ifGenerationMatch"] = "0" if condition is None else condition
        await self._call(
            "POST",
            f"{self._fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
            headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
            data=body,
            **params,
        )

    async def remove(self, path: str, condition: Condition = ALWAYS) -> None:
        bucket, key, _ = self._fs.split_path(path)
        match = {} if condition is ALWAYS or condition is None else {"ifGenerationMatch": condition}
        await self._call("DELETE", "b/{}/o/{}", bucket, key, **match)

    async def head(self, path: str) -> None:
        # The object's own metadata: gcsfs's _info would also list, and call a prefix a file.
        bucket, key, _ = self._fs.split_path(path)
        await self._call("GET", "b/{}/o/{}", bucket, key)

    def find(self, prefix_path: str) -> dict[str, int]:
        found = self._fs.find(prefix_path, detail=True)
        return {path: int(entry.get("size") or 0) for path, entry in found.items()}
