"""Talking to a BOSS through intern: request sizes, retries and errors that say what to do.

The BOSS refuses cutout requests above a size, so every cutout is cut into pieces of at
most ``Limits.voxels`` voxels and ``Limits.bytes`` bytes, on the BOSS's cuboid
grid where they are that large, and the pieces are sent from a pool of threads (intern's
own splitting runs a process pool as large as the machine's core count).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from precomputed_core import Bbox
from precomputed_core.exceptions import (
    CredentialsError,
    DecodingError,
    InfoUnavailableError,
    InfoValidationError,
    PermissionDeniedError,
    PrecomputedError,
    StorageError,
    TransientStorageError,
)

from .._retry import UNRESOLVED_ATTEMPTS, Kind, RetryPolicy, classify, http_status, log_retry, storage_error

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._credentials import BossConfig

__all__ = ["Limits", "Remotes", "RequestTooLarge", "call", "halves", "post_cutout", "request_boxes"]

T = TypeVar("T")

#: The BOSS's limits on one cutout request: 64 Mi voxels, 500 MB uncompressed.
MAX_VOXELS = 64 * 2**20
MAX_BYTES = 500 * 10**6
#: What a request holds by default: well under the limits, so that the server builds each
#: reply within a read timeout and several requests are in flight for a large cutout.
DEFAULT_VOXELS = 16 * 2**20


class RequestTooLarge(StorageError):
    """The server refused a cutout request as too large (413): its limit is below ours."""


@dataclass(frozen=True)
class Limits:
    """The most voxels and bytes one request carries (``PRECOMPUTED_BOSS_MAX_VOXELS``, default
    16 Mi, at most 64 Mi; ``PRECOMPUTED_BOSS_MAX_BYTES``, at most 500 MB), and how many
    requests are in flight at once (``PRECOMPUTED_BOSS_THREADS``, at least 2). A server with
    smaller limits answers 413, and the request is cut in half until it passes."""

    voxels: int = DEFAULT_VOXELS
    bytes: int = MAX_BYTES
    threads: int = 4

    @classmethod
    def from_environment(cls) -> Limits:
        def number(name: str, default: int, least: int) -> int:
            raw = os.environ.get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
            if value < least:
                raise ValueError(f"{name} must be at least {least}, got {value}")
            return value

        # Above the BOSS's own limits intern would split requests itself, and skip the parts
        # that sum to 0: the settings may only lower them.
        return cls(
            voxels=min(MAX_VOXELS, number("PRECOMPUTED_BOSS_MAX_VOXELS", DEFAULT_VOXELS, 1)),
            bytes=min(MAX_BYTES, number("PRECOMPUTED_BOSS_MAX_BYTES", MAX_BYTES, 1)),
            threads=number("PRECOMPUTED_BOSS_THREADS", 4, 2),
        )

    def request_voxels(self, itemsize: int) -> int:
        return max(1, min(self.voxels, self.bytes // itemsize))


def _block_shape(limit: int, extent: tuple[int, int, int]) -> list[int]:
    """A request's shape: whole cuboids (512 x 512 x 16) grown x, y, z in turn while under
    ``limit`` voxels and the box, or halved (largest axis first) when one cuboid is over it."""
    from ._info import CUBOID

    block = list(CUBOID)
    while block[0] * block[1] * block[2] > limit:
        axis = max(range(3), key=lambda a: block[a])
        block[axis] = max(1, block[axis] // 2)
    grew = True
    while grew:
        grew = False
        for axis in range(3):
            if block[axis] < extent[axis] and block[0] * block[1] * block[2] * 2 <= limit:
                block[axis] *= 2
                grew = True
    return block


def request_boxes(box: Bbox, limit: int) -> list[Bbox]:
    """``box`` cut into requests of at most ``limit`` voxels, on lines of the cuboid grid
    (multiples of the request shape from 0), so pieces line up with what the BOSS stores."""
    lo, hi = [int(v) for v in box.minpt], [int(v) for v in box.maxpt]
    block = _block_shape(limit, (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]))
    spans = []
    for axis in range(3):
        first = (lo[axis] // block[axis] + 1) * block[axis]
        cuts = [lo[axis], *range(first, hi[axis], block[axis]), hi[axis]]
        spans.append([(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a])
    xs, ys, zs = spans
    return [Bbox((x0, y0, z0), (x1, y1, z1)) for z0, z1 in zs for y0, y1 in ys for x0, x1 in xs]


class Remotes:
    """One intern ``BossRemote`` per thread (each holds its own ``requests`` sessions), with
    timeouts on every request so that a silent server cannot hang a read."""

    def __init__(self, config: BossConfig, policy: RetryPolicy) -> None:
        self.config = config
        self.policy = policy
        self._local = threading.local()

    def get(self) -> Any:
        remote = getattr(self._local, "remote", None)
        if remote is None:
            from intern.remote.boss import BossRemote

            remote = BossRemote(self.config.intern_config())
            timeout = (min(10.0, self.policy.timeout), self.policy.timeout)
            for service in (remote.project_service, remote.volume_service, remote.metadata_service):
                service.session_send_opts = {**service.session_send_opts, "timeout": timeout}
            self._local.remote = remote
        return remote


def _detail(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}".strip().splitlines()[0][:300]


def _error(
    err: BaseException, action: str, where: str, config: BossConfig, attempts: int
) -> PrecomputedError:
    """What a failed request means, in words a user can act on (never the token)."""
    status = http_status(err)
    if status == 401:
        return CredentialsError(
            f"the BOSS at {config.url} refused the token from {config.source} (401) to {action} {where}: "
            "check that it is current (your account page shows it) and meant for this server"
        )
    if status == 403:
        return PermissionDeniedError(
            f"cannot {action} {where}: the BOSS at {config.url} says the account of the token from "
            f"{config.source} may not (403); ask the resource's owner for access"
        )
    if status == 404:
        return InfoUnavailableError(f"cannot {action} {where}: not found on {config.url} ({_detail(err)})")
    if status == 413:
        return RequestTooLarge(
            f"cannot {action} {where}: the BOSS at {config.url} refused the request as too large (413), "
            "even cut down to one voxel"
        )
    kind = classify(err)
    if kind is Kind.UNRESOLVED:
        return storage_error(err, action, f"{where} (the BOSS at {config.url})", attempts=attempts)
    if kind is Kind.TRANSIENT:
        return TransientStorageError(
            f"cannot {action} {where}: still failing after {attempts} attempts ({_detail(err)}); "
            f"the BOSS at {config.url} may be overloaded or unreachable, try again later"
        )
    blosc_error = type(err).__module__.split(".")[0] in ("blosc", "blosc_extension")
    if status is None and action == "open" and isinstance(err, (ValueError, KeyError)):
        # intern parses the resources' JSON itself: a field it does not know fails there.
        return InfoValidationError(
            f"cannot {action} {where}: intern could not read the BOSS's metadata for it ({_detail(err)})"
        )
    if status is None and (blosc_error or isinstance(err, (ValueError, RuntimeError))):
        # intern decompresses and reshapes the reply itself: a body that is not a blosc
        # stream of the box's size fails there.
        return DecodingError(
            f"cannot {action} {where}: the BOSS at {config.url} sent a reply that is not the "
            f"cutout asked for ({_detail(err)})"
        )
    return StorageError(f"cannot {action} {where} on {config.url}: {_detail(err)}")


def call(remotes: Remotes, work: Callable[[Any], T], action: str, where: str) -> T:
    """``work(remote)``, retried on transient failures (5xx, 429, dropped connections) with
    backoff, within the policy's total time; other failures raise at once, explained."""
    policy = remotes.policy
    deadline = time.monotonic() + policy.total
    attempt = 0
    while True:
        attempt += 1
        try:
            return work(remotes.get())
        except PrecomputedError:
            raise
        except Exception as err:
            kind = classify(err)  # 401, 403, 404 and 413 are not transient: raised at once
            wait = policy.delay(attempt)
            attempts = min(
                policy.attempts, UNRESOLVED_ATTEMPTS if kind is Kind.UNRESOLVED else policy.attempts
            )
            retried = kind in (Kind.TRANSIENT, Kind.UNRESOLVED)
            if not retried or attempt >= attempts or time.monotonic() + wait > deadline:
                raise _error(err, action, where, remotes.config, attempt) from None
            log_retry(action, where, attempt, attempts, err, wait)
            time.sleep(wait)


def halves(box: Bbox) -> tuple[Bbox, Bbox]:
    """``box`` cut in two across its longest axis (a request the server found too large)."""
    lo, hi = [int(v) for v in box.minpt], [int(v) for v in box.maxpt]
    axis = max(range(3), key=lambda a: hi[a] - lo[a])
    middle = (lo[axis] + hi[axis]) // 2
    first_hi, second_lo = list(hi), list(lo)
    first_hi[axis], second_lo[axis] = middle, middle
    return Bbox(lo, first_hi), Bbox(second_lo, hi)


def post_cutout(remote: Any, resource: Any, mip: int, box: Bbox, data_zyx: Any) -> None:
    """POST ``data_zyx`` (C-order z, y, x) to ``box`` through intern's own request (its URL,
    token and session), without its ``create_cutout``: that sends nothing when ``np.sum``
    of the array is 0, also for uint64 labels whose sum wraps around to 0."""
    import blosc
    from requests import HTTPError

    lo, hi = [int(v) for v in box.minpt], [int(v) for v in box.maxpt]
    service = remote.volume_service
    body = blosc.compress(data_zyx.tobytes(), typesize=data_zyx.dtype.itemsize)
    request = service.service.get_cutout_request(
        resource, "POST", "application/blosc", service.url_prefix, service.auth, mip,
        [lo[0], hi[0]], [lo[1], hi[1]], [lo[2], hi[2]], None, numpyVolume=body,
    )  # fmt: skip
    reply = service.session.send(service.session.prepare_request(request), **service.session_send_opts)
    if reply.status_code != 201:
        message = f"cutout POST answered ({reply.status_code}) - {reply.text[:300]}"
        raise HTTPError(message, request=request, response=reply)
