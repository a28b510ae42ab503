"""A stand-in BOSS (https://docs.theboss.io) on 127.0.0.1, for tests that drive intern's ``BossRemote``.

The real BOSS needs an account and the network; this answers the few endpoints intern uses
(project resources and cutouts) with the URLs, methods, status codes and JSON fields intern
expects, so ``BossRemote(boss.config)`` runs unmodified against it::

    with FakeBoss(token="secret-token") as boss:
        boss.add_frame("frame1", start=(0, 0, 0), stop=(1000, 800, 50), voxel_size=(4, 4, 40))
        boss.add_experiment("coll", "exp", frame="frame1", levels=3)
        boss.add_channel("coll", "exp", "img", datatype="uint8")
        remote = BossRemote(boss.config)

Voxels live in sparse 512 x 512 x 16 cuboids, so a frame of any size costs nothing until written.
``blosc`` is imported only when a cutout is encoded or decoded: pytest imports this module for
doctests in sessions that do not install it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import product
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import numpy as np

from stand_ins import LOOPBACK

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

CUBOID_XYZ = (512, 512, 16)
DATATYPES = ("uint8", "uint16", "uint64")
CHANNEL_TYPES = ("image", "annotation")
HIERARCHY_METHODS = ("anisotropic", "isotropic")
VOXEL_UNITS = ("nanometers", "micrometers", "millimeters", "centimeters")
CREATOR = "boss-stand-in"
_NOT_FOUND = {"detail": "Not found."}
_FORBIDDEN = {"detail": "You do not have permission to perform this action."}


# --- the data model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A half-open box ``lo <= (x, y, z) < hi`` in one level's voxels, as intern's ranges are."""

    lo: tuple[int, int, int]
    hi: tuple[int, int, int]

    @property
    def shape_zyx(self) -> tuple[int, int, int]:
        """The shape of the box's data as intern sends and expects it: C-order (z, y, x)."""
        return (self.hi[2] - self.lo[2], self.hi[1] - self.lo[1], self.hi[0] - self.lo[0])

    @property
    def voxels(self) -> int:
        return math.prod(max(0, h - lo) for lo, h in zip(self.lo, self.hi))

    def describe(self) -> str:
        return "/".join(f"{lo}:{hi}" for lo, hi in zip(self.lo, self.hi))


@dataclass(frozen=True)
class Frame:
    """A coordinate frame: the extent and voxel size of level 0 of the experiments using it."""

    name: str
    start: tuple[int, int, int]
    stop: tuple[int, int, int]
    voxel_size: tuple[float, float, float]
    unit: str

    def as_json(self) -> dict[str, Any]:
        """The fields intern's ``_get_coordinate`` reads (``{x,y,z}_start`` etc.)."""
        body: dict[str, Any] = {"name": self.name, "description": ""}
        for axis, start, stop, size in zip("xyz", self.start, self.stop, self.voxel_size):
            body |= {f"{axis}_start": start, f"{axis}_stop": stop, f"{axis}_voxel_size": size}
        body["voxel_unit"] = self.unit
        return body


@dataclass
class Channel:
    name: str
    datatype: str
    type: str
    readable: bool = True
    writable: bool = True

    def as_json(self) -> dict[str, Any]:
        """The fields intern's ``_get_channel`` reads; ``datatype`` makes the channel cutout-ready."""
        return {
            "name": self.name,
            "description": "",
            "creator": CREATOR,
            "default_time_sample": 0,
            "datatype": self.datatype,
            "base_resolution": 0,
            "type": self.type,
            "sources": [],
            "related": [],
            "downsample_status": "NOT_DOWNSAMPLED",
        }


@dataclass
class Experiment:
    name: str
    collection: str
    frame: Frame
    levels: int
    method: str
    channels: dict[str, Channel] = field(default_factory=dict)

    def factor(self, level: int) -> tuple[int, int, int]:
        """How many level-0 voxels one voxel of ``level`` spans per axis, as the BOSS downsamples."""
        z = 2**level if self.method == "isotropic" else 1
        return (2**level, 2**level, z)

    def extent(self, level: int) -> Box:
        """Level ``level``'s extent in its own voxels: floor(start / f) .. ceil(stop / f)."""
        factor = self.factor(level)
        lo = tuple(start // f for start, f in zip(self.frame.start, factor))
        hi = tuple(-(-stop // f) for stop, f in zip(self.frame.stop, factor))
        return Box(lo, hi)  # type: ignore[arg-type]

    def as_json(self) -> dict[str, Any]:
        """The fields intern's ``_get_experiment`` reads, plus the BOSS's ``collection`` and ``channels``."""
        return {
            "name": self.name,
            "description": "",
            "creator": CREATOR,
            "collection": self.collection,
            "coord_frame": self.frame.name,
            "num_hierarchy_levels": self.levels,
            "hierarchy_method": self.method,
            "num_time_samples": 1,
            "time_step": None,
            "time_step_unit": "",
            "channels": sorted(self.channels),
        }


@dataclass
class Collection:
    name: str
    experiments: dict[str, Experiment] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": "",
            "creator": CREATOR,
            "experiments": sorted(self.experiments),
        }


# --- sparse voxel storage ------------------------------------------------------------------


def _spans(lo: int, hi: int, size: int) -> Iterator[tuple[int, slice, slice]]:
    """The cuboids along one axis that ``lo:hi`` touches: (index, slice in cuboid, slice in box)."""
    for index in range(lo // size, (hi - 1) // size + 1):
        start, stop = max(lo, index * size), min(hi, (index + 1) * size)
        yield index, slice(start - index * size, stop - index * size), slice(start - lo, stop - lo)


class Volume:
    """One channel's voxels at one level, kept as cuboids allocated on the first nonzero write.

    Requests run on their own threads, so the cuboid dict and the cuboids' contents are only
    touched under ``_lock``; copying is quick next to the HTTP round trip, so this costs little.
    """

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self._cuboids: dict[tuple[int, int, int], np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def cuboid_count(self) -> int:
        with self._lock:
            return len(self._cuboids)

    def _pieces(
        self, box: Box
    ) -> Iterator[tuple[tuple[int, int, int], tuple[slice, ...], tuple[slice, ...]]]:
        """(cuboid key, zyx slices in the cuboid, zyx slices in the box) for each cuboid ``box`` touches."""
        per_axis = [_spans(lo, hi, size) for lo, hi, size in zip(box.lo, box.hi, CUBOID_XYZ)]
        for (ix, cx, bx), (iy, cy, by), (iz, cz, bz) in product(*(list(spans) for spans in per_axis)):
            yield (ix, iy, iz), (cz, cy, cx), (bz, by, bx)

    def read(self, box: Box) -> np.ndarray:
        """The box's voxels, C-order (z, y, x); zeros where nothing was written."""
        out = np.zeros(box.shape_zyx, dtype=self.dtype)
        with self._lock:
            for key, in_cuboid, in_box in self._pieces(box):
                cuboid = self._cuboids.get(key)
                if cuboid is not None:
                    out[in_box] = cuboid[in_cuboid]
        return out

    def write(self, box: Box, data: np.ndarray, *, nonzero_only: bool = False) -> None:
        """Store ``data`` (shape ``box.shape_zyx``); all-zero parts of absent cuboids stay absent.

        ``nonzero_only`` is what a cutout POST does on the BOSS (spdb's ``Cube.overwrite``:
        "overwrite data with all non-zero values in the input data"): zeros in the body
        leave the voxels under them as they were; only to_black clears.
        """
        with self._lock:
            for key, in_cuboid, in_box in self._pieces(box):
                part = data[in_box]
                cuboid = self._cuboids.get(key)
                if cuboid is None:
                    if not part.any():
                        continue
                    shape = (CUBOID_XYZ[2], CUBOID_XYZ[1], CUBOID_XYZ[0])
                    cuboid = self._cuboids[key] = np.zeros(shape, dtype=self.dtype)
                if nonzero_only:
                    target = cuboid[in_cuboid]
                    np.copyto(target, part, where=part != 0)
                else:
                    cuboid[in_cuboid] = part

    def clear(self, box: Box) -> None:
        """Set the box to 0, as the BOSS's ``cutout/to_black`` does."""
        with self._lock:
            for key, in_cuboid, _ in self._pieces(box):
                cuboid = self._cuboids.get(key)
                if cuboid is not None:
                    cuboid[in_cuboid] = 0


# --- HTTP plumbing ---------------------------------------------------------------------------


class HttpError(Exception):
    """A reply other than success; raised anywhere in a handler and turned into a JSON response."""

    def __init__(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status, payload)
        self.status = status
        self.payload = payload
        self.headers = headers or {}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"


def _json(status: int, payload: Any) -> Reply:
    return Reply(status, json.dumps(payload).encode())


def _bad(detail: str) -> HttpError:
    return HttpError(HTTPStatus.BAD_REQUEST, {"detail": detail})


def _parse_range(segment: str, axis: str) -> tuple[int, int]:
    try:
        lo, hi = (int(value) for value in segment.split(":"))
    except ValueError:
        raise _bad(f"Invalid {axis} range {segment!r}: expected start:stop") from None
    return lo, hi


def _parse_box(segments: list[str]) -> Box:
    """The box named by the ``x0:x1/y0:y1/z0:z1`` segments of a cutout URL."""
    (x0, x1), (y0, y1), (z0, z1) = (_parse_range(s, a) for s, a in zip(segments, "xyz"))
    box = Box((x0, y0, z0), (x1, y1, z1))
    for axis, lo, hi in zip("xyz", box.lo, box.hi):
        if hi <= lo:
            raise _bad(f"Empty {axis} range {lo}:{hi}: the stop must be greater than the start")
    return box


def _cutout_voxels(parts: list[str]) -> int:
    """The voxels a cutout URL names (0 for anything else), for ``FakeBoss.requests``."""
    if len(parts) < 2 or parts[:2] != ["v1", "cutout"]:
        return 0
    rest = parts[3:] if parts[2:3] == ["to_black"] and len(parts) >= 10 else parts[2:]
    try:
        return _parse_box(rest[4:7]).voxels
    except (HttpError, ValueError):
        return 0


class _BossHttpServer(ThreadingHTTPServer):
    # Parallel clients open many connections at once; socketserver's default backlog of 5 makes
    # the kernel drop SYNs, and the client then waits a second before retrying.
    request_queue_size = 64
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a test of timeouts) closes its end: not the server's error.
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


# --- the server ----------------------------------------------------------------------------


class FakeBoss:
    """A BOSS stand-in on 127.0.0.1; use as a context manager, which starts and stops it.

    ``requests`` logs (method, path, voxels) of every request in arrival order, and
    ``most_in_flight`` the most requests handled at once; ``delay`` makes each cutout request
    wait, so that concurrency can be seen. ``max_request_voxels`` and ``max_request_bytes``
    limit each cutout request (413 beyond them), like the real service's 500 MB cap.
    """

    def __init__(self, *, token: str = "secret-token") -> None:
        self.token = token
        self.delay = 0.0
        self.max_request_voxels = 64 * 2**20
        self.max_request_bytes = 500 * 10**6
        self.requests: list[tuple[str, str, int]] = []
        self.most_in_flight = 0
        self.frames: dict[str, Frame] = {}
        self.collections: dict[str, Collection] = {}
        self._in_flight = 0
        self._log_lock = threading.Lock()
        self._volumes_lock = threading.Lock()
        self._volumes: dict[tuple[str, str, str, int], Volume] = {}
        self._httpd: _BossHttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def __enter__(self) -> FakeBoss:
        self._httpd = _BossHttpServer((LOOPBACK, 0), _handler_for(self))  # port 0: a free port, no race
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-boss", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd = self._thread = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, what intern's ``host`` setting takes (it may include the port)."""
        if self._httpd is None:
            raise RuntimeError("FakeBoss is not running: use it as a context manager")
        return f"{LOOPBACK}:{self._httpd.server_address[1]}"

    @property
    def config(self) -> dict[str, str]:
        """The dict ``intern.remote.boss.BossRemote`` takes in place of ``~/.intern/intern.cfg``."""
        return {"protocol": "http", "host": self.host, "token": self.token}

    # -- the data model, set up directly by tests --

    def add_frame(
        self,
        name: str,
        *,
        start: tuple[int, int, int],
        stop: tuple[int, int, int],
        voxel_size: tuple[float, float, float] = (1, 1, 1),
        unit: str = "nanometers",
    ) -> Frame:
        if unit not in VOXEL_UNITS:
            raise ValueError(f"voxel unit {unit!r} is not one of {VOXEL_UNITS}")
        if any(lo >= hi for lo, hi in zip(start, stop)):
            raise ValueError(f"frame {name!r} is empty: start {start} stop {stop}")
        frame = Frame(name, tuple(start), tuple(stop), tuple(voxel_size), unit)  # type: ignore[arg-type]
        self.frames[name] = frame
        return frame

    def add_collection(self, name: str) -> Collection:
        return self.collections.setdefault(name, Collection(name))

    def add_experiment(
        self, collection: str, name: str, *, frame: str, levels: int = 1, method: str = "anisotropic"
    ) -> Experiment:
        """Add an experiment (and its collection if new) on an existing coordinate frame."""
        if frame not in self.frames:
            raise KeyError(f"coordinate frame {frame!r} was not added")
        if method not in HIERARCHY_METHODS:
            raise ValueError(f"hierarchy method {method!r} is not one of {HIERARCHY_METHODS}")
        if levels < 1:
            raise ValueError("an experiment has at least one level")
        experiment = Experiment(name, collection, self.frames[frame], levels, method)
        self.add_collection(collection).experiments[name] = experiment
        return experiment

    def add_channel(
        self,
        collection: str,
        experiment: str,
        name: str,
        *,
        datatype: str = "uint8",
        type: str = "image",  # the BOSS's field name
        readable: bool = True,
        writable: bool = True,
    ) -> Channel:
        if datatype not in DATATYPES:
            raise ValueError(f"datatype {datatype!r} is not one of {DATATYPES}")
        if type not in CHANNEL_TYPES:
            raise ValueError(f"channel type {type!r} is not one of {CHANNEL_TYPES}")
        channel = Channel(name, datatype, type, readable=readable, writable=writable)
        self.collections[collection].experiments[experiment].channels[name] = channel
        with self._volumes_lock:  # a re-added channel starts empty
            for key in [k for k in self._volumes if k[:3] == (collection, experiment, name)]:
                del self._volumes[key]
        return channel

    def experiment(self, collection: str, experiment: str) -> Experiment:
        return self.collections[collection].experiments[experiment]

    def volume(self, collection: str, experiment: str, channel: str, level: int) -> Volume:
        """The sparse store of one channel at one level, created on first use."""
        exp = self.experiment(collection, experiment)
        if not 0 <= level < exp.levels:
            raise ValueError(f"level {level} is not in 0..{exp.levels - 1}")
        dtype = np.dtype(exp.channels[channel].datatype)
        with self._volumes_lock:
            return self._volumes.setdefault((collection, experiment, channel, level), Volume(dtype))

    def array(self, collection: str, experiment: str, channel: str, level: int = 0) -> np.ndarray:
        """A (z, y, x) copy of the level's whole extent; index 0 is the extent's start."""
        extent = self.experiment(collection, experiment).extent(level)
        return self.volume(collection, experiment, channel, level).read(extent)

    def set(
        self, collection: str, experiment: str, channel: str, level: int, x0: int, y0: int, z0: int, data: Any
    ) -> None:
        """Write (z, y, x) ``data`` at (x0, y0, z0) of ``level`` without going through HTTP."""
        volume = self.volume(collection, experiment, channel, level)
        array = np.asarray(data, dtype=volume.dtype)
        if array.ndim != 3:
            raise ValueError(f"data must be 3-D (z, y, x), not {array.shape}")
        nz, ny, nx = array.shape
        box = Box((x0, y0, z0), (x0 + nx, y0 + ny, z0 + nz))
        extent = self.experiment(collection, experiment).extent(level)
        if not _inside(box, extent):
            raise ValueError(f"box {box.describe()} is outside level {level}'s extent {extent.describe()}")
        volume.write(box, array)

    # -- bookkeeping, called by the handler --

    def _arrived(self, method: str, path: str, voxels: int) -> None:
        with self._log_lock:
            self.requests.append((method, path, voxels))
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)

    def _left(self) -> None:
        with self._log_lock:
            self._in_flight -= 1


def _inside(box: Box, extent: Box) -> bool:
    return all(e0 <= b0 and b1 <= e1 for b0, b1, e0, e1 in zip(box.lo, box.hi, extent.lo, extent.hi))


# --- request handling ----------------------------------------------------------------------


def _authenticate(boss: FakeBoss, header: str | None) -> None:
    """Django REST framework's TokenAuthentication, as the BOSS uses it: ``Authorization: Token <t>``."""
    scheme, _, token = (header or "").partition(" ")
    challenge = {"WWW-Authenticate": "Token"}
    if scheme.lower() != "token":
        raise HttpError(
            HTTPStatus.UNAUTHORIZED, {"detail": "Authentication credentials were not provided."}, challenge
        )
    if token.strip() != boss.token:
        raise HttpError(HTTPStatus.UNAUTHORIZED, {"detail": "Invalid token."}, challenge)


def _not_found(what: str, name: str) -> HttpError:
    return HttpError(HTTPStatus.NOT_FOUND, {"message": f"{what} {name} not found"})


def _find(boss: FakeBoss, names: list[str]) -> tuple[Collection, Experiment | None, Channel | None]:
    """Resolve [collection, experiment?, channel?]; the first missing one is the 404."""
    collection = boss.collections.get(names[0])
    if collection is None:
        raise _not_found("Collection", names[0])
    if len(names) == 1:
        return collection, None, None
    experiment = collection.experiments.get(names[1])
    if experiment is None:
        raise _not_found("Experiment", names[1])
    if len(names) == 2:
        return collection, experiment, None
    channel = experiment.channels.get(names[2])
    if channel is None:
        raise _not_found("Channel", names[2])
    return collection, experiment, channel


def _project(boss: FakeBoss, method: str, rest: list[str]) -> Reply:
    """``/v1/collection/...``: a collection, experiment or channel, or a list of them."""
    if method != "GET":
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, {"detail": f'Method "{method}" not allowed.'})
    if not rest:
        return _json(HTTPStatus.OK, {"collections": sorted(boss.collections)})
    # [c], [c, "experiment"], [c, "experiment", e], [c, "experiment", e, "channel"], [c, ..., "channel", ch]
    keywords_ok = rest[1:2] in ([], ["experiment"]) and rest[3:4] in ([], ["channel"])
    if len(rest) > 5 or not keywords_ok:
        raise HttpError(HTTPStatus.NOT_FOUND, _NOT_FOUND)
    names = rest[0::2]
    collection, experiment, channel = _find(boss, names)
    if len(rest) == 2:  # .../experiment/: the experiments' names
        return _json(HTTPStatus.OK, {"experiments": sorted(collection.experiments)})
    if len(rest) == 4:  # .../channel/
        return _json(HTTPStatus.OK, {"channels": sorted(experiment.channels)})  # type: ignore[union-attr]
    resource = channel or experiment or collection
    return _json(HTTPStatus.OK, resource.as_json())


def _coord(boss: FakeBoss, method: str, rest: list[str]) -> Reply:
    """``/v1/coord/{name}``, or the list of frames at ``/v1/coord/``."""
    if method != "GET":
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, {"detail": f'Method "{method}" not allowed.'})
    if not rest:
        return _json(HTTPStatus.OK, {"coords": sorted(boss.frames)})
    if len(rest) != 1:
        raise HttpError(HTTPStatus.NOT_FOUND, _NOT_FOUND)
    frame = boss.frames.get(rest[0])
    if frame is None:
        raise _not_found("Coordinate frame", rest[0])
    return _json(HTTPStatus.OK, frame.as_json())


@dataclass
class CutoutRequest:
    """A cutout URL resolved against the data model and checked against the level's extent."""

    experiment: Experiment
    channel: Channel
    level: int
    box: Box
    volume: Volume


def _resolve_cutout(boss: FakeBoss, method: str, rest: list[str]) -> CutoutRequest:
    """Check ``{c}/{e}/{ch}/{res}/{x}/{y}/{z}`` in the BOSS's order: 404, 403, then 400 and 413."""
    if len(rest) < 3:
        raise HttpError(HTTPStatus.NOT_FOUND, _NOT_FOUND)
    _, experiment, channel = _find(boss, rest[:3])
    assert experiment is not None  # _find returns all three for three names
    assert channel is not None
    if not (channel.readable if method == "GET" else channel.writable):
        raise HttpError(HTTPStatus.FORBIDDEN, _FORBIDDEN)
    if len(rest) == 8:
        raise _bad("Time ranges are not supported by this stand-in: omit the segment after z")
    if len(rest) != 7:
        raise _bad("Expected .../{resolution}/{x0}:{x1}/{y0}:{y1}/{z0}:{z1}/ after the channel")
    level = _parse_level(rest[3], experiment)
    box = _parse_box(rest[4:7])
    extent = experiment.extent(level)
    if not _inside(box, extent):
        raise _bad(f"Cutout {box.describe()} is outside the extent {extent.describe()} of resolution {level}")
    _check_limits(boss, box, np.dtype(channel.datatype))
    volume = boss.volume(experiment.collection, experiment.name, channel.name, level)
    return CutoutRequest(experiment, channel, level, box, volume)


def _parse_level(segment: str, experiment: Experiment) -> int:
    try:
        level = int(segment)
    except ValueError:
        raise _bad(f"Invalid resolution {segment!r}") from None
    if not 0 <= level < experiment.levels:
        raise _bad(
            f"Invalid resolution {level}: experiment {experiment.name} has "
            f"{experiment.levels} levels (0..{experiment.levels - 1})"
        )
    return level


def _check_limits(boss: FakeBoss, box: Box, dtype: np.dtype[Any]) -> None:
    voxels = box.voxels
    if voxels > boss.max_request_voxels:
        raise HttpError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            {
                "detail": f"Cutout of {voxels} voxels is over the limit of {boss.max_request_voxels} per request"
            },
        )
    if voxels * dtype.itemsize > boss.max_request_bytes:
        raise HttpError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            {
                "detail": f"Cutout of {voxels * dtype.itemsize} bytes is over the limit of "
                f"{boss.max_request_bytes} per request"
            },
        )


def _encode(array: np.ndarray) -> bytes:
    import blosc

    return bytes(blosc.compress(np.ascontiguousarray(array).tobytes(), typesize=array.dtype.itemsize))


def _decode(body: bytes, cutout: CutoutRequest) -> np.ndarray:
    """The POSTed body as (z, y, x) voxels; intern sends blosc with ``typesize`` in bits, harmlessly."""
    import blosc

    try:
        raw = blosc.decompress(body)
    except Exception as error:  # blosc raises several types for a bad buffer
        raise _bad(f"The body is not blosc-compressed data: {error}") from None
    dtype = np.dtype(cutout.channel.datatype)
    expected = cutout.box.voxels * dtype.itemsize
    if len(raw) != expected:
        raise _bad(
            f"The body holds {len(raw)} bytes; cutout {cutout.box.describe()} of "
            f"{cutout.channel.datatype} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(cutout.box.shape_zyx)


def _handler_for(boss: FakeBoss) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Routes every method through ``_handle``; errors anywhere become JSON replies."""

        protocol_version = "HTTP/1.1"  # keep-alive, as requests' sessions expect
        # Headers and body go out in two writes; with Nagle's algorithm the body then waits for
        # the client's delayed ACK, about 40 ms per reply on a kept-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest's output clean

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

        def do_PATCH(self) -> None:
            self._handle()

        def _handle(self) -> None:
            self._body_read = False
            path = urlsplit(self.path).path
            parts = [unquote(part) for part in path.split("/") if part]
            boss._arrived(self.command, path, _cutout_voxels(parts))
            headers: dict[str, str] = {}
            try:
                reply = self._route(parts)
            except HttpError as error:
                reply, headers = _json(error.status, error.payload), error.headers
            except Exception as error:  # a bug here should fail the client's test, not hang it
                reply = _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"detail": repr(error)})
            try:
                self._send(reply, headers)
            finally:
                boss._left()

        def _route(self, parts: list[str]) -> Reply:
            _authenticate(boss, self.headers.get("Authorization"))
            if len(parts) < 2 or parts[0] != "v1":
                raise HttpError(HTTPStatus.NOT_FOUND, _NOT_FOUND)
            service, rest = parts[1], parts[2:]
            if service == "collection":
                return _project(boss, self.command, rest)
            if service == "coord":
                return _coord(boss, self.command, rest)
            if service == "cutout":
                return self._cutout(rest)
            raise HttpError(HTTPStatus.NOT_FOUND, _NOT_FOUND)

        def _cutout(self, rest: list[str]) -> Reply:
            """GET and POST ``/v1/cutout/...``; PUT ``/v1/cutout/to_black/...``."""
            to_black = self.command == "PUT" and rest[:1] == ["to_black"]
            if self.command not in ("GET", "POST") and not to_black:
                raise HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED, {"detail": f'Method "{self.command}" not allowed.'}
                )
            time.sleep(boss.delay)
            cutout = _resolve_cutout(boss, self.command, rest[1:] if to_black else rest)
            if to_black:
                cutout.volume.clear(cutout.box)
                return Reply(HTTPStatus.OK)
            if self.command == "GET":
                return Reply(HTTPStatus.OK, _encode(cutout.volume.read(cutout.box)), "application/blosc")
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type != "application/blosc":
                raise HttpError(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    {"detail": f'Unsupported media type "{content_type}" in request.'},
                )
            cutout.volume.write(cutout.box, _decode(self._read_body(), cutout), nonzero_only=True)
            return Reply(HTTPStatus.CREATED)

        def _read_body(self) -> bytes:
            self._body_read = True
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length)

        def _drain_body(self) -> None:
            """Skip an unread request body, so the next request on this connection parses."""
            remaining = 0 if self._body_read else int(self.headers.get("Content-Length") or 0)
            self._body_read = True
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)

        def _send(self, reply: Reply, headers: dict[str, str] | None = None) -> None:
            self._drain_body()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

    return Handler
