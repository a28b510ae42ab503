"""``S3Store``: ``s3://bucket/path`` through s3fs, on AWS or any S3-compatible endpoint.

Objects are read and written with one signed request each (``_s3_requests``: botocore's
signer, aiohttp's session; a quarter of the client CPU of a full ``get_object``), never
with s3fs's ``cat``: the response's ``Content-Encoding`` says whether the bytes are gzip
(S3 returns what was stored), and one request per chunk is all it takes.

Credentials, first found wins: ``storage_options`` that choose them (``key``/``secret``,
``anon``, ``profile``...), ``secrets=`` (a dict or file), ``[BUCKET-]aws-secret.json``
in the secrets folder, the ``AWS_*`` environment variables, the default AWS chain
(profiles, instance roles); otherwise anonymous access, which public buckets allow.
Other ``storage_options`` go to ``s3fs.S3FileSystem`` as they are.
The endpoint: ``endpoint_url=`` (or in ``storage_options``), ``AWS_ENDPOINT_URL`` in the secret,
``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, else AWS.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from precomputed_core.exceptions import CredentialsError

from ._checksums import s3_hashes, verify
from ._ranges import RangeReply
from ._remote import (
    ALWAYS,
    HTTP_HEADERS,
    Condition,
    Fetched,
    RemoteStore,
    client_timeout,
    environment_key,
    metadata_of,
)
from ._s3_requests import FullClientNeeded, S3Reply, S3Requests, S3ResponseError
from ._secrets import find_secret, looked_for
from ._storage_options import fs_arguments, given_twice, key_of

if TYPE_CHECKING:
    from precomputed_core import CloudPath, ObjectMetadata

__all__ = ["S3Store"]

#: How boto3 names Content-Type, Content-Encoding and Cache-Control.
_S3_NAMES = ("ContentType", "ContentEncoding", "CacheControl")


def _environment_has_keys() -> bool:
    return bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))


def _default_chain_has_keys() -> bool:
    try:
        import botocore.session

        return botocore.session.get_session().get_credentials() is not None
    except Exception:
        return False


def aws_options(bucket: str, given: Any = None) -> tuple[dict[str, Any], str]:
    """s3fs keyword arguments for the credentials, and a description of them for messages."""
    secret = find_secret("aws", bucket, given)
    if secret is not None:
        values = secret.values
        key = values.get("AWS_ACCESS_KEY_ID")
        password = values.get("AWS_SECRET_ACCESS_KEY") or values.get("AWS_SECRET_ACCESS_KEY_ID")
        if not key or not password:
            raise CredentialsError(
                f"{secret.source} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or AWS_SECRET_ACCESS_KEY_ID, as cloud-volume's README names it)"
            )
        options: dict[str, Any] = {"key": key, "secret": password}
        if values.get("AWS_SESSION_TOKEN"):
            options["token"] = values["AWS_SESSION_TOKEN"]
        region = values.get("AWS_DEFAULT_REGION") or values.get("AWS_REGION")
        if region:
            options["client_kwargs"] = {"region_name": region}
        if values.get("AWS_ENDPOINT_URL"):
            options["endpoint_url"] = values["AWS_ENDPOINT_URL"]
        return options, f"from {secret.source}"
    if _environment_has_keys():
        return {}, "from the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables"
    if _default_chain_has_keys():
        return {}, "from the default AWS credential chain (profile or instance role)"
    return {"anon": True}, (
        f"none found, so access was anonymous (looked for {looked_for('aws', bucket)}, "
        "the AWS_* environment variables and the default AWS credential chain)"
    )


#: What botocore reads from the environment when a client opens without given keys.
_AWS_ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION",
    "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
)  # fmt: skip
#: Each file system's signed-request path, by the file system's identity: fsspec file systems
#: compare equal by their arguments, so a forked child's new one equals its parent's.
_REQUESTS: dict[int, tuple[weakref.ref[Any], S3Requests]] = {}
_REQUESTS_LOCK = threading.Lock()


def _given_keys(options: dict[str, Any]) -> Any:
    """botocore credentials for keys the store was given (None: the client's session finds them)."""
    key = options.get("key") or options.get("username")  # s3fs's two names for them
    if not key:
        return None
    from botocore.credentials import Credentials

    return Credentials(key, options.get("secret") or options.get("password"), options.get("token"))


#: s3fs arguments that choose the credentials.
_CREDENTIAL_OPTIONS = frozenset(
    {"key", "secret", "token", "username", "password", "anon", "profile", "session"}
)


def _credentials(bucket: str, secrets: Any, given: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """s3fs's credential arguments and their description: ``storage_options`` that choose
    them, else the secrets and the environment (``aws_options``)."""
    chosen = sorted(_CREDENTIAL_OPTIONS & given.keys())
    if not chosen:
        return aws_options(bucket, secrets)
    if secrets is not None:
        raise given_twice(chosen)
    return {}, f"from storage_options ({', '.join(chosen)})"


def _endpoint(argument: str | None, option: str | None, secret: str | None) -> str | None:
    """The endpoint: ``endpoint_url=``, ``storage_options``', the secret's, then the environment's."""
    if argument and option and argument != option:
        raise ValueError(
            f"endpoint_url={argument!r} and storage_options' endpoint_url {option!r} disagree; give one"
        )
    return (
        argument
        or option
        or secret
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )


#: botocore's operation names of the client's methods.
_OPERATIONS = {"get_object": "GetObject", "put_object": "PutObject", "delete_object": "DeleteObject",
               "head_object": "HeadObject"}  # fmt: skip

#: How botocore's ``put_object`` names the headers of an upload.
_BOTO_NAMES = {
    "Content-Type": "ContentType", "Content-Encoding": "ContentEncoding", "Cache-Control": "CacheControl",
    "If-None-Match": "IfNoneMatch", "If-Match": "IfMatch",
}  # fmt: skip


def _upload_headers(metadata: ObjectMetadata, condition: Condition) -> dict[str, str]:
    """The HTTP headers of an upload: its metadata, and its condition (None: only if absent)."""
    headers = {"Content-Type": metadata.content_type}
    if metadata.content_encoding:
        headers["Content-Encoding"] = metadata.content_encoding
    if metadata.cache_control:
        headers["Cache-Control"] = metadata.cache_control
    if condition is None:
        headers["If-None-Match"] = "*"
    elif condition is not ALWAYS:
        headers["If-Match"] = condition
    return headers


def _as_response(headers: Any) -> dict[str, Any]:
    """The fields of a botocore ``GetObject`` response that ``s3_hashes`` reads."""
    return {
        "ETag": headers.get("ETag"),
        "ServerSideEncryption": headers.get("x-amz-server-side-encryption"),
        "SSECustomerAlgorithm": headers.get("x-amz-server-side-encryption-customer-algorithm"),
        "ChecksumCRC32": headers.get("x-amz-checksum-crc32"),
        "ChecksumCRC32C": headers.get("x-amz-checksum-crc32c"),
    }


class S3Store(RemoteStore):
    """A layer in an S3 bucket."""

    def __init__(
        self,
        bucket: str,
        path: str,
        *,
        secrets: Any = None,
        endpoint_url: str | None = None,
        request_timeout: float | None = None,
        total_timeout: float | None = None,
        storage_options: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        import s3fs

        policy = self.policy.with_options(request_timeout, total_timeout)
        given = dict(storage_options or {})
        options, credentials = _credentials(bucket, secrets, given)
        endpoint = _endpoint(endpoint_url, given.pop("endpoint_url", None), options.pop("endpoint_url", None))

        def open_fs() -> Any:
            ours = {
                "endpoint_url": endpoint,
                "skip_instance_cache": True,
                "use_listings_cache": False,
                "config_kwargs": {
                    "retries": {"total_max_attempts": 1},
                    "connect_timeout": policy.timeout,
                    "read_timeout": policy.timeout,
                    # botocore's default of 10 connections would cap a batch's requests in flight.
                    "max_pool_connections": 64,
                },
                **options,
            }
            fs = s3fs.S3FileSystem(**fs_arguments(ours, given))
            fs.retries = 1  # retries are ours (RetryPolicy), so they do not multiply
            return fs

        self.bucket = bucket
        url = f"s3://{bucket}/{path}".rstrip("/")
        fs_key = ("s3", endpoint, json.dumps(options, sort_keys=True, default=repr), key_of(given),
                  policy.timeout, environment_key(*_AWS_ENVIRONMENT))  # fmt: skip
        super().__init__(
            open_fs, f"{bucket}/{path}", url, credentials=credentials, policy=policy, fs_key=fs_key
        )
        self.endpoint = endpoint
        everything = {**options, **given}
        self._keys = _given_keys(everything)
        self._anonymous = bool(everything.get("anon"))

    @property
    def _requests(self) -> S3Requests:
        """The signed-request path of this process's file system, shared by the stores that
        share it (a forked child gets its own)."""
        fs = self._fs
        with _REQUESTS_LOCK:
            found = _REQUESTS.get(id(fs))
            if found is not None and found[0]() is fs:
                return found[1]
            for key in [key for key, (ref, _) in _REQUESTS.items() if ref() is None]:
                del _REQUESTS[key]  # file systems that are gone
            timeout = client_timeout(self.policy)
            requests = S3Requests(fs, self._keys, anonymous=self._anonymous, timeout=timeout)
            _REQUESTS[id(fs)] = (weakref.ref(fs), requests)
        return requests

    async def _send(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> S3Reply | None:
        """The reply of the signed-request path, or None where the full client must answer."""
        if self._fs.req_kw or self._fs.s3_additional_kwargs:
            return None  # requester pays, encryption...: the client adds what each operation takes
        bucket, key = self._split(path)
        requests = self._requests
        if requests.uses_full_client(bucket):
            return None
        try:
            return await requests.send(method, bucket, key, headers, body)
        except FullClientNeeded:
            return None

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> S3Store:
        return cls(path.bucket, path.path, **options)

    def _split(self, path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    async def _client_call(self, operation: str, **arguments: Any) -> Any:
        """One call of the file system's aiobotocore client (s3fs's public ``set_session``).

        The file system's ``requester_pays`` and ``s3_additional_kwargs`` (server-side
        encryption...) are added where the operation takes them, as s3fs adds them.
        """
        client = await self._fs.set_session()
        extra = {**self._fs.s3_additional_kwargs, **self._fs.req_kw}
        if extra:
            accepted = client.meta.service_model.operation_model(_OPERATIONS[operation]).input_shape.members
            arguments = {**{name: value for name, value in extra.items() if name in accepted}, **arguments}
        return await getattr(client, operation)(**arguments)

    async def _get_object(self, path: str, **extra: str) -> tuple[dict[str, Any], bytes]:
        bucket, key = self._split(path)
        response = await self._client_call("get_object", Bucket=bucket, Key=key, **extra)
        async with response["Body"] as body:
            data = await body.read()
        return response, data

    async def fetch(self, path: str) -> Fetched:
        # The CRC32 our uploads carry comes back and is checked instead of the ETag's MD5.
        reply = await self._send("GET", path, {"x-amz-checksum-mode": "ENABLED"})
        if reply is not None:
            headers = reply.headers
            verify(reply.data, s3_hashes(_as_response(headers)))
            return Fetched(reply.data, metadata_of(headers, HTTP_HEADERS), headers.get("ETag"))
        response, data = await self._get_object(path)
        verify(data, s3_hashes(response))
        return Fetched(data, metadata_of(response, _S3_NAMES), response.get("ETag"))

    async def fetch_range(self, path: str, header: str) -> RangeReply:
        reply = await self._send("GET", path, {"Range": header})
        if reply is not None:
            if reply.status == 416:
                raise S3ResponseError(416, "InvalidRange", "the range starts past the end", path)
            headers = reply.headers
            return RangeReply(reply.status, reply.data, metadata_of(headers, HTTP_HEADERS),
                              headers.get("Content-Range"), headers.get("ETag"))  # fmt: skip
        response, data = await self._get_object(path, Range=header)
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200))
        return RangeReply(status, data, metadata_of(response, _S3_NAMES), response.get("ContentRange"),
                          response.get("ETag"))  # fmt: skip

    async def store(
        self, path: str, value: bytes, metadata: ObjectMetadata, condition: Condition = ALWAYS
    ) -> None:
        fields = _upload_headers(metadata, condition)
        if await self._send("PUT", path, fields, bytes(value)) is not None:
            return
        bucket, key = self._split(path)
        named = {_BOTO_NAMES[name]: text for name, text in fields.items()}
        await self._client_call("put_object", Bucket=bucket, Key=key, Body=bytes(value), **named)

    async def remove(self, path: str, condition: Condition = ALWAYS) -> None:
        bucket, key = self._split(path)
        match = {} if condition is ALWAYS or condition is None else {"IfMatch": condition}
        await self._client_call("delete_object", Bucket=bucket, Key=key, **match)

    async def head(self, path: str) -> None:
        bucket, key = self._split(path)
        await self._client_call("head_object", Bucket=bucket, Key=key)

    def find(self, prefix_path: str) -> dict[str, int]:
        found = self._fs.find(prefix_path, detail=True)
        return {path: int(entry.get("size") or 0) for path, entry in found.items()}
