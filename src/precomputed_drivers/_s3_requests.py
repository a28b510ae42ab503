"""S3 GETs and PUTs signed with botocore's SigV4 signer and sent with aiohttp directly.

A ``GetObject`` of a 256 KiB chunk through s3fs and aiobotocore costs the client about
3.2 ms of CPU (event hooks, parameter validation and serialisation, response parsing);
the same request signed by botocore's ``S3SigV4Auth`` and sent on an aiohttp session,
the libraries s3fs itself stands on, costs 0.8 ms (measured against moto on 127.0.0.1).
A read of many chunks is bound by that CPU long before a network is, so chunk reads and
writes take this path. The same file system's client stays the authority: credentials
(refreshed as it refreshes them), region and endpoint come from it, and any answer this
path does not know (a redirect to another region, an unsigned-payload refusal) hands the
bucket back to the full client for good. Listing, deleting and HEAD still go through it.

Errors carry the response's status and S3 error code as botocore's do, so the retry
rules (``_retry``) read them the same way.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import os
import re
import ssl
import weakref
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from ._checksums import crc32

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["FullClientNeeded", "S3Reply", "S3Requests", "S3ResponseError"]

#: Bucket names that can be a host name label (virtual-hosted addressing on AWS).
_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_ERROR_FIELD = re.compile(rb"<(Code|Message)>([^<]{0,512})</\1>")
#: An error body is a short XML document; more is never read.
_ERROR_BODY_LIMIT = 64 * 2**10
#: Statuses that mean "ask the full client": a bucket in another region, or a request
#: form this path does not make the way the endpoint wants.
_REDIRECTS = (301, 302, 307)
_CRC_HEADER = "x-amz-checksum-crc32"


class S3ResponseError(OSError):
    """A refused S3 request: ``status`` and ``response`` as a botocore ``ClientError`` has them."""

    def __init__(self, status: int, code: str, message: str, where: str) -> None:
        super().__init__(f"{status} {code or 'error'}: {message or 'no message'} ({where})")
        self.status = status
        self.response = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }


class FullClientNeeded(Exception):
    """This bucket's requests must go through the full client (botocore follows redirects)."""


class S3Reply(NamedTuple):
    status: int
    headers: Mapping[str, str]
    data: bytes


def _crc32(data: bytes) -> str:
    return base64.b64encode(crc32(data).to_bytes(4, "big")).decode()


def _ssl_context() -> ssl.SSLContext | bool:
    bundle = os.environ.get("AWS_CA_BUNDLE")  # botocore's own setting for a private CA
    return ssl.create_default_context(cafile=bundle) if bundle else True


def _proxy_for(endpoint: str) -> str | None:
    """The proxy the environment names for ``endpoint`` (``HTTPS_PROXY``, ``NO_PROXY``...)."""
    import urllib.request

    scheme, _, rest = endpoint.partition("://")
    host = rest.split("/", 1)[0]
    if urllib.request.proxy_bypass(host.rsplit(":", 1)[0] if not host.startswith("[") else host):
        return None
    return urllib.request.getproxies().get(scheme)


def _close_later(loop: asyncio.AbstractEventLoop, session: Any) -> None:
    if loop.is_running() and not session.closed:
        asyncio.run_coroutine_threadsafe(session.close(), loop)


class S3Requests:
    """Signed requests for the objects of one s3fs file system (one per process and store).

    ``credentials`` are botocore credentials when the store was given keys; otherwise the
    file system's session supplies them (environment, profile, instance role), or none
    for anonymous access.
    """

    def __init__(self, fs: Any, credentials: Any, *, anonymous: bool, timeout: Any) -> None:
        self._fs, self._given, self._anonymous, self._timeout = fs, credentials, anonymous, timeout
        self._session: Any = None
        self._credentials: Any = None
        self._full_client: set[str] = set()

    # --- the client's settings ------------------------------------------------------

    async def _setup(self) -> Any:
        if self._session is None or self._session.closed:
            import aiohttp

            client = await self._fs.set_session()
            self._region = client.meta.region_name or "us-east-1"
            self._endpoint = client.meta.endpoint_url.rstrip("/")
            endpoint = (self._fs.client_kwargs or {}).get("endpoint_url")
            self._custom_endpoint = bool(endpoint or getattr(self._fs, "endpoint_url", None))
            if not self._anonymous:
                self._credentials = self._given or await self._fs.session.get_credentials()
            if self._session is not None and not self._session.closed:
                return self._session  # another request opened it while this one waited
            connector = aiohttp.TCPConnector(limit=64, ssl=_ssl_context())
            # The environment's proxy is looked up once here: aiohttp's trust_env would read
            # ~/.netrc and the proxy variables again for every request.
            self._proxy = _proxy_for(self._endpoint)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, auto_decompress=False
            )
            weakref.finalize(self, _close_later, asyncio.get_running_loop(), self._session)
        return self._session

    def _url(self, bucket: str, key: str) -> str:
        path = quote(key, safe="/~")
        if not self._custom_endpoint and _DNS_BUCKET.match(bucket):
            scheme, _, host = self._endpoint.partition("://")
            return f"{scheme}://{bucket}.{host}/{path}"
        return f"{self._endpoint}/{bucket}/{path}"

    async def _signed(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        if self._credentials is None:
            return headers
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        frozen = self._credentials.get_frozen_credentials()
        if inspect.isawaitable(frozen):  # aiobotocore's refreshable credentials
            frozen = await frozen
        request = AWSRequest(method=method, url=url, headers=headers, data=body)
        if body is not None:
            # As botocore decides for its own uploads: over HTTPS, with the CRC32 header, the
            # body is not hashed into the signature (TLS and the checksum guard it); over
            # plain HTTP it is.
            request.context["checksum"] = {"request_algorithm": {"in": "header", "name": _CRC_HEADER}}
        S3SigV4Auth(frozen, "s3", self._region).add_auth(request)
        return dict(request.headers.items())

    # --- requests -----------------------------------------------------------------------

    def uses_full_client(self, bucket: str) -> bool:
        return bucket in self._full_client

    async def send(
        self, method: str, bucket: str, key: str, headers: dict[str, str], body: bytes | None = None
    ) -> S3Reply:
        """One request; a reply with a status below 300 (206 and 416 included for ranges), or
        ``S3ResponseError``; ``FullClientNeeded`` where botocore must take over."""
        import yarl

        session = await self._setup()
        url = self._url(bucket, key)
        if body is not None:
            # S3 refuses a damaged upload, keeps the CRC and sends it back with reads that ask.
            # A new dict: the caller's headers go to the full client if this request is refused.
            headers = {**headers, "x-amz-sdk-checksum-algorithm": "CRC32", _CRC_HEADER: _crc32(body)}
        signed = await self._signed(method, url, headers, body)
        where = f"s3://{bucket}/{key}"
        target = yarl.URL(url, encoded=True)  # quoted once, as signed
        async with session.request(method, target, headers=signed, data=body, proxy=self._proxy) as response:
            status = response.status
            if status < 300 or status == 416:
                return S3Reply(status, response.headers, await response.read())
            # A 400 that names the bucket's region: signed for the wrong one.
            if status in _REDIRECTS or (status == 400 and "x-amz-bucket-region" in response.headers):
                self._full_client.add(bucket)
                raise FullClientNeeded(where)
            text = await response.content.read(_ERROR_BODY_LIMIT)
        found = _ERROR_FIELD.findall(text)
        fields = {name.decode(): value.decode("utf-8", "replace") for name, value in found}
        code = fields.get("Code", "")
        if code in ("AuthorizationHeaderMalformed", "InvalidRequest"):
            self._full_client.add(bucket)  # a request form this endpoint wants made otherwise
            raise FullClientNeeded(where)
        raise S3ResponseError(status, code, fields.get("Message", ""), where)
