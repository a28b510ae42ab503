"""Retry transient storage errors with exponential backoff and full jitter, a bounded number of times.

Errors are sorted by what they mean for a chunk, whichever library raised them:

- **missing** (404 / not found): the object does not exist; never retried, the caller
  decides (``fill_missing``).
- **denied** (401 / 403): credentials are missing or refused; never retried.
- **transient** (5xx, 429, connection resets, timeouts): retried, then a
  :class:`TransientStorageError` naming the object.
- **conflict** (412, S3's ``PreconditionFailed``/``ConditionalRequestConflict``): a
  conditional write found the object changed; never retried here, the caller reads
  it again (:class:`WriteConflict`).
- anything else: raised at once as a :class:`StorageError` naming the object.

Time is bounded per object: every attempt waits at most ``timeout`` seconds for a
connection and then for each next bytes (the client's own socket timeouts), and all
attempts and waits together end within ``total`` seconds, whatever the client
library retries on its own.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from precomputed_core.exceptions import (
    PermissionDeniedError,
    StorageError,
    TransientStorageError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from typing_extensions import Self

__all__ = [
    "Kind",
    "RetryPolicy",
    "WriteConflict",
    "classify",
    "http_status",
    "retrying",
    "storage_error",
]

T = TypeVar("T")

# Exceptions of aiohttp, botocore, urllib3, fsspec and gcsfs that mean "the connection
# failed": matched by class name so that no client library has to be imported here.
_TRANSIENT_NAMES = frozenset({
    "ClientConnectionError", "ClientOSError", "ServerDisconnectedError", "ClientPayloadError",
    "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError",
    "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError",
    "ResponseStreamingError", "IncompleteReadError", "FSTimeoutError", "ProxyError",
    # requests (under intern): its ConnectionError and Timeout are not the builtin classes
    "ConnectionError", "Timeout", "ChunkedEncodingError",
})  # fmt: skip

# A body cut short (fewer bytes than Content-Length, a broken chunked encoding) or damaged
# (a checksum that does not match, ours or botocore's or gcsfs's): transient, whatever the
# status it carries (aiohttp's ContentLengthError has code 400, not a refusal).
_DAMAGED_NAMES = frozenset({
    "ClientPayloadError", "ContentLengthError", "TransferEncodingError", "IncompleteReadError",
    "ResponseStreamingError", "ChecksumMismatch", "FlexibleChecksumError", "ChecksumError",
})  # fmt: skip


class WriteConflict(Exception):
    """A conditional write found the object changed since it was read."""


class ChecksumMismatch(Exception):
    """The bytes received do not match the checksum the store sent with them (retried)."""


class Kind(enum.Enum):
    MISSING = "missing"
    DENIED = "denied"
    TRANSIENT = "transient"
    CONFLICT = "conflict"
    FATAL = "fatal"


def _status(err: BaseException) -> int | None:
    """The HTTP status an exception of any of the client libraries carries, if any."""
    for attribute in ("status", "code", "status_code"):
        value = getattr(err, attribute, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(err, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(value, int):
            return value
    value = getattr(response, "status_code", None)  # requests' HTTPError (intern's, for the BOSS)
    if isinstance(value, int) and 100 <= value < 600:
        return value
    return None


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def http_status(err: BaseException) -> int | None:
    """The first HTTP status carried along ``err``'s chain (s3fs and gcsfs wrap their clients' errors)."""
    return next((status for link in _chain(err) if (status := _status(link)) is not None), None)


#: S3 error codes whose HTTP status says something else than they mean.
_S3_CODES = {
    "NoSuchBucket": Kind.FATAL, "RequestTimeout": Kind.TRANSIENT, "SlowDown": Kind.TRANSIENT,
    "PreconditionFailed": Kind.CONFLICT, "ConditionalRequestConflict": Kind.CONFLICT,
    "NotImplemented": Kind.FATAL,  # e.g. a service without conditional writes: 501, no retry
}  # fmt: skip


def _s3_code(err: BaseException) -> str | None:
    response = getattr(err, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code if isinstance(code, str) else None


def _named(chain: list[BaseException], names: frozenset[str]) -> bool:
    """Whether an exception along ``chain`` is of a class (or subclass of one) in ``names``."""
    return any(cls.__name__ in names for link in chain for cls in type(link).__mro__)


def _transient_link(err: BaseException) -> bool:
    chain = _chain(err)
    timeouts = (ConnectionError, TimeoutError, asyncio.TimeoutError)
    return any(isinstance(link, timeouts) for link in chain) or _named(chain, _TRANSIENT_NAMES)


def _damaged(chain: list[BaseException]) -> bool:
    return _named(chain, _DAMAGED_NAMES)


def classify(err: BaseException) -> Kind:
    chain = _chain(err)
    for link in chain:
        code = _s3_code(link)
        if code in _S3_CODES:
            return _S3_CODES[code]  # a missing *bucket* must never read as missing chunks
    if _damaged(chain):
        return Kind.TRANSIENT
    for link in chain:
        status = _status(link)
        if status == 404:
            return Kind.MISSING
        if status in (401, 403):
            return Kind.DENIED
        if status == 412:
            return Kind.CONFLICT
        if status is not None and (status >= 500 or status in (408, 429)):
            return Kind.TRANSIENT
        if status is not None and status >= 400:
            return Kind.FATAL
    if isinstance(err, FileExistsError):
        # How gcsfs and s3fs report a failed write precondition (a 412 underneath).
        return Kind.CONFLICT
    if isinstance(err, FileNotFoundError):
        # Some clients (fsspec's HTTP _info) report any failure as "not found": a timeout
        # underneath is not a missing chunk.
        cause = err.__cause__ or err.__context__
        return Kind.TRANSIENT if cause is not None and _transient_link(cause) else Kind.MISSING
    if isinstance(err, PermissionError) or "Forbidden" in str(err):
        return Kind.DENIED
    return Kind.TRANSIENT if _transient_link(err) else Kind.FATAL


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th wait is uniform in [0, min(cap, base * 2**n)] seconds.

    ``timeout`` bounds one attempt's wait for a connection and for each next bytes;
    ``total`` bounds one object's request, all attempts and waits included.
    """

    attempts: int = 6
    base: float = 0.2
    cap: float = 10.0
    timeout: float = 20.0
    total: float = 90.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2**attempt))

    def with_options(self, request_timeout: float | None = None, total_timeout: float | None = None) -> Self:
        """This policy with the ``request_timeout``/``total_timeout`` options a volume was opened with."""
        timeout = self.timeout if request_timeout is None else float(request_timeout)
        total = self.total if total_timeout is None else float(total_timeout)
        return replace(self, timeout=timeout, total=total)


def storage_error(err: BaseException, action: str, where: str, *, attempts: int = 1) -> StorageError:
    """A clear error for a failed ``action`` on ``where`` (never the credentials)."""
    if isinstance(err, StorageError):
        return err
    kind = classify(err)
    detail = f"{type(err).__name__}: {err}".strip().splitlines()[0][:300]
    if kind is Kind.DENIED:
        return PermissionDeniedError(f"cannot {action} {where}: access denied ({detail})")
    if kind is Kind.TRANSIENT:
        advice = (
            "the bytes arrived damaged or cut short each time: check the network or proxy between "
            "here and the store, then try again"
            if _damaged(_chain(err))
            else "the storage service may be overloaded or unreachable, try again later"
        )
        return TransientStorageError(
            f"cannot {action} {where}: it still failed after {attempts} attempts ({detail}); {advice}"
        )
    return StorageError(f"cannot {action} {where}: {detail}")


def _out_of_time(action: str, where: str, policy: RetryPolicy, attempts: int) -> TransientStorageError:
    return TransientStorageError(
        f"cannot {action} {where}: no complete answer within {policy.total:g} s "
        f"({attempts} attempt{'s' if attempts != 1 else ''}, each waiting up to {policy.timeout:g} s "
        "for the server); the server may be hung or unreachable. Try again later, or allow more "
        "time with total_timeout= and request_timeout="
    )


async def retrying(operation: Callable[[], Awaitable[T]], policy: RetryPolicy, action: str, where: str) -> T:
    """``await operation()``, again after transient errors, all within ``policy.total`` seconds.

    FileNotFoundError passes through, and so does :class:`WriteConflict`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + policy.total
    for attempt in range(policy.attempts):
        remaining = deadline - loop.time()
        try:
            return await asyncio.wait_for(operation(), remaining)
        except Exception as err:
            if loop.time() >= deadline:
                raise _out_of_time(action, where, policy, attempt + 1) from err
            kind = classify(err)
            if kind is Kind.MISSING:
                raise FileNotFoundError(where) from err
            if kind is Kind.CONFLICT:
                raise WriteConflict(where) from err
            if kind is Kind.TRANSIENT and attempt + 1 < policy.attempts:
                pause = policy.delay(attempt)
                if loop.time() + pause < deadline:
                    await asyncio.sleep(pause)
                    continue
            raise storage_error(err, action, where, attempts=attempt + 1) from err
    raise AssertionError("unreachable")  # pragma: no cover
