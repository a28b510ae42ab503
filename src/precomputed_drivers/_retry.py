"""Retry transient storage errors with exponential backoff and full jitter, a bounded number of times.

Errors are sorted by what they mean for a chunk, whichever library raised them:

- **missing** (404 / not found): the object does not exist; never retried, the caller
  decides (``fill_missing``).
- **denied** (401 / 403): credentials are missing or refused; never retried.
- **transient** (5xx, 429, connection resets, timeouts): retried, then a
  ``TransientStorageError`` naming the object.
- **unresolved** (the server's host name did not resolve): tried
  ``UNRESOLVED_ATTEMPTS`` times (a resolver may fail once), then a
  ``TransientStorageError`` that names the host.
- **conflict** (412, S3's ``PreconditionFailed``/``ConditionalRequestConflict``): a
  conditional write found the object changed; never retried here, the caller reads
  it again (``WriteConflict``).
- anything else: raised at once as a ``StorageError`` naming the object.

Time is bounded per object: every attempt waits at most ``timeout`` seconds for a
connection and then for each next bytes (the client's own socket timeouts), and all
attempts and waits together end within ``total`` seconds, whatever the client
library retries on its own.

Each retry logs a WARNING on this module's logger (the attempt, the cause, the object),
and a request that took ``SLOW_REQUEST_SECONDS`` or more a DEBUG record.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import re
import socket
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

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
    "detail_of",
    "http_status",
    "log_retry",
    "retrying",
    "storage_error",
]

T = TypeVar("T")

_log = logging.getLogger(__name__)

#: A request that takes this long is logged at DEBUG.
SLOW_REQUEST_SECONDS = 5.0
#: Tries of a host name that does not resolve: a second in case the resolver failed once.
UNRESOLVED_ATTEMPTS = 2

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
    UNRESOLVED = "unresolved"
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


#: How aiohttp and urllib3 (under requests) call a host name that did not resolve.
_UNRESOLVED_NAMES = frozenset({"ClientConnectorDNSError", "NameResolutionError"})


def _unresolved(chain: list[BaseException]) -> bool:
    return any(isinstance(link, socket.gaierror) for link in chain) or _named(chain, _UNRESOLVED_NAMES)


def _refused(chain: list[BaseException]) -> bool:
    return any(
        isinstance(link, ConnectionRefusedError)
        or isinstance(getattr(link, "os_error", None), ConnectionRefusedError)
        for link in chain
    )


def _host(chain: list[BaseException], *, port: bool = True) -> str | None:
    """The host (and port) a connection failure names, as the client libraries say it."""
    for link in chain:
        host, number = getattr(link, "host", None), getattr(link, "port", None)  # aiohttp
        if isinstance(host, str) and host:
            return f"{host}:{number}" if port and isinstance(number, int) else host
        endpoint = getattr(link, "kwargs", {}).get("endpoint_url")  # botocore
        if isinstance(endpoint, str):
            parts = urlsplit(endpoint)
            return (parts.netloc if port else parts.hostname) or endpoint
    for link in chain:
        found = re.search(r"(?:to host|resolve) '?([\w.\-\[\]:]+?)'?(?:[ )(]|$)", str(link))
        if found:
            name, _, number = found.group(1).rpartition(":")
            return found.group(1) if port or not number.isdigit() else name
    return None


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
    if _unresolved(chain):
        return Kind.UNRESOLVED
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
    detail = detail_of(err)
    tried = f"tried {attempts} time{'s' if attempts != 1 else ''}"
    if kind is Kind.DENIED:
        return PermissionDeniedError(f"cannot {action} {where}: access denied ({detail})")
    chain = _chain(err)
    host = _host(chain) or "the server"
    if kind is Kind.UNRESOLVED:
        name = _host(chain, port=False) or "of the server"
        return TransientStorageError(
            f"cannot {action} {where}: the host name {name} did not resolve ({tried}; {detail}). Check "
            "its spelling (in the URL, endpoint_url= or STORAGE_EMULATOR_HOST), and this machine's "
            "network and DNS settings"
        )
    if kind is Kind.TRANSIENT:
        if _damaged(chain):
            advice = (
                "the bytes arrived damaged or cut short each time: check the network or proxy between "
                "here and the store, then try again"
            )
        elif _refused(chain):
            advice = (
                f"nothing accepted the connection at {host}: check the address and port (in the URL, "
                "endpoint_url= or STORAGE_EMULATOR_HOST) and that the server is running"
            )
        else:
            advice = "the storage service may be overloaded or unreachable, try again later"
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


def detail_of(err: BaseException) -> str:
    """The first line of an error, with its class, for messages and logs (never a whole traceback)."""
    return f"{type(err).__name__}: {err}".strip().splitlines()[0][:300]


def log_retry(action: str, where: str, attempt: int, attempts: int, err: BaseException, pause: float) -> None:
    _log.warning("%s %s: attempt %d of %d failed (%s); trying again in %.1f s",
                 action, where, attempt, attempts, detail_of(err), pause)  # fmt: skip


async def retrying(operation: Callable[[], Awaitable[T]], policy: RetryPolicy, action: str, where: str) -> T:
    """``await operation()``, again after transient errors, all within ``policy.total`` seconds.

    FileNotFoundError passes through, and so does ``WriteConflict``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + policy.total
    for attempt in range(policy.attempts):
        started = loop.time()
        remaining = deadline - started
        try:
            result = await asyncio.wait_for(operation(), remaining)
            took = loop.time() - started
            if took >= SLOW_REQUEST_SECONDS:
                _log.debug("slow request: %s %s took %.1f s (attempt %d)", action, where, took, attempt + 1)
            return result
        except Exception as err:
            if loop.time() >= deadline:
                raise _out_of_time(action, where, policy, attempt + 1) from err
            kind = classify(err)
            if kind is Kind.MISSING:
                raise FileNotFoundError(where) from err
            if kind is Kind.CONFLICT:
                raise WriteConflict(where) from err
            attempts = UNRESOLVED_ATTEMPTS if kind is Kind.UNRESOLVED else policy.attempts
            if kind in (Kind.TRANSIENT, Kind.UNRESOLVED) and attempt + 1 < min(attempts, policy.attempts):
                pause = policy.delay(attempt)
                if loop.time() + pause < deadline:
                    log_retry(action, where, attempt + 1, min(attempts, policy.attempts), err, pause)
                    await asyncio.sleep(pause)
                    continue
            raise storage_error(err, action, where, attempts=attempt + 1) from err
    raise AssertionError("unreachable")  # pragma: no cover
