"""``GCSStore``: ``gs://bucket/path`` through gcsfs (Google Cloud Storage, its emulators).

Objects are fetched as stored, with their ``Content-Encoding``, and decoded here (GCS sends
gzip objects compressed to clients that accept gzip). gcsfs retries 5xx, 429 and
connection errors itself, with exponential backoff and jitter, 6 attempts; this store does
not retry on top of it.

gcsfs's core class is used directly: its "extended" class (the default from gcsfs
2026 on) asks a gRPC control API for each bucket's type, which private endpoints and
emulators cannot answer.

Credentials, first found wins: ``secrets=`` (a dict or service-account file),
``[BUCKET-]google-secret.json`` in the secrets folder; with ``STORAGE_EMULATOR_HOST``
set, none; then Google's application default credentials; otherwise anonymous access,
which public buckets allow.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ._ranges import RangeReply
from ._remote import RemoteStore, metadata_of
from ._retry import RetryPolicy
from ._secrets import find_secret, looked_for

if TYPE_CHECKING:
    from precomputed_core import CloudPath, ObjectMetadata

__all__ = ["GCSStore"]

#: gcsfs's simple upload separates its parts with this fixed boundary; a payload that
#: contains it is cut short (a gcsfs bug), so those go through the resumable upload.
_MULTIPART_BOUNDARY = b"--==0=="


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

    policy = RetryPolicy(attempts=1)  # gcsfs retries transient errors itself

    def __init__(
        self, bucket: str, path: str, *, secrets: Any = None, read_only: bool = False, **_: Any
    ) -> None:
        import aiohttp
        from gcsfs.core import GCSFileSystem

        token, credentials = google_token(bucket, secrets)
        fs = GCSFileSystem(
            token=token,
            skip_instance_cache=True,
            use_listings_cache=False,
            # Without it gcsfs sets no timeout at all: a stalled connection would hang the read.
            # Connect and read timeouts raise errors that gcsfs retries.
            requests_timeout=aiohttp.ClientTimeout(sock_connect=10, sock_read=60),
            # Bodies come as stored, decoded here by their Content-Encoding (see http.py).
            session_kwargs={"auto_decompress": False},
        )
        url = f"gs://{bucket}/{path}".rstrip("/")
        super().__init__(fs, f"{bucket}/{path}", url, read_only=read_only, credentials=credentials)

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> GCSStore:
        return cls(path.bucket, path.path, **options)

    async def fetch(self, path: str) -> tuple[bytes, ObjectMetadata]:
        headers, data = await self._fs._call("GET", self._fs.url(path))
        return data, metadata_of(headers)

    async def fetch_range(self, path: str, header: str) -> RangeReply:
        headers, data = await self._fs._call("GET", self._fs.url(path), headers={"Range": header})
        # gcsfs does not give the status: a part comes with its Content-Range.
        content_range = headers.get("Content-Range")
        return RangeReply(206 if content_range else 200, data, metadata_of(headers), content_range)

    async def store(self, path: str, value: bytes, metadata: ObjectMetadata) -> None:
        headers = {"content_encoding": metadata.content_encoding, "cache_control": metadata.cache_control}
        fixed = {name: header for name, header in headers.items() if header}
        if _MULTIPART_BOUNDARY in value:
            await self._resumable(path, value, metadata.content_type, fixed)
            return
        await self._fs._pipe_file(path, value, content_type=metadata.content_type, fixed_key_metadata=fixed)

    async def _resumable(self, path: str, value: bytes, content_type: str, fixed: dict[str, str]) -> None:
        from gcsfs.core import initiate_upload, upload_chunk

        bucket, key, _ = self._fs.split_path(path)
        location = await initiate_upload(self._fs, bucket, key, content_type, None, fixed_key_metadata=fixed)
        await upload_chunk(self._fs, location, value, 0, len(value), content_type)

    async def remove(self, path: str) -> None:
        await self._fs._rm_file(path)

    async def head(self, path: str) -> None:
        # The object's own metadata: gcsfs's _info would also list, and call a prefix a file.
        bucket, key, _ = self._fs.split_path(path)
        await self._fs._call("GET", "b/{}/o/{}", bucket, key, json_out=True)

    def find(self, prefix_path: str) -> list[str]:
        return list(self._fs.find(prefix_path))
