"""``BossVolume``: ``boss://collection/experiment/channel`` read and written through intern.

The BOSS is an array service, not a key-value store, so this is a ``kind="volume"``
driver: cutouts go to the service as they are asked for, cut into requests it accepts
(see ``_requests``). ``dataset_name`` is the experiment and ``layer`` the channel;
mip m is resolution level m (see ``_info``). Arrays are (x, y, z, c) here and C-order
(z, y, x) on the wire.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core import Bbox, ChunkGrid, LayerMeta, Volume
from precomputed_core.exceptions import (
    DecodingError,
    FeatureUnavailableError,
    InfoUnavailableError,
    InfoValidationError,
)

from .._retry import RetryPolicy
from .._storage_options import refuse
from ._credentials import boss_config
from ._info import CUBOID, boss_info
from ._requests import Limits, Remotes, RequestTooLarge, call, halves, post_cutout, request_boxes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy.typing as npt

    from precomputed_core import CloudPath, ReadOptions, WriteOptions

    from ._credentials import BossConfig

__all__ = ["BossVolume"]

#: Geometry a given info must share with the channel's: the voxels it describes.
_GEOMETRY = ("voxel_offset", "size")


def _names(path: CloudPath) -> tuple[str, str, str]:
    parts = [p for p in (path.path or "").split("/") if p]
    if not path.bucket or len(parts) != 2:
        raise ValueError(f"{path.url!r} is not a BOSS channel: write boss://collection/experiment/channel")
    return path.bucket, parts[0], parts[1]


class BossVolume(Volume):
    """One BOSS channel as a layer (see the module docstring)."""

    def __init__(
        self,
        path: CloudPath,
        config: BossConfig,
        *,
        info: dict[str, Any] | None = None,
        policy: RetryPolicy | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.collection, self.experiment, self.channel = _names(path)
        self._url = f"boss://{self.collection}/{self.experiment}/{self.channel}"
        self.config = config
        self.limits = limits or Limits.from_environment()
        self._remotes = Remotes(config, policy or RetryPolicy())
        self._resource: Any = None
        self._served: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.meta = LayerMeta(info if info is not None else {})
        if info is None:
            self.refresh_info()

    @classmethod
    def from_cloudpath(
        cls,
        path: CloudPath,
        *,
        info: dict[str, Any] | None = None,
        secrets: Any = None,
        endpoint_url: str | None = None,
        request_timeout: float | None = None,
        total_timeout: float | None = None,
        storage_options: dict[str, Any] | None = None,
        **options: Any,
    ) -> BossVolume:
        refuse(path.url, storage_options, "served by the BOSS's own client (intern)")
        if options:
            raise TypeError(f"the BOSS driver takes no option {', '.join(sorted(options))}")
        _names(path)  # a malformed path fails before credentials are looked for
        policy = RetryPolicy().with_options(request_timeout, total_timeout)
        return cls(path, boss_config(secrets, endpoint_url), info=info, policy=policy)

    def __repr__(self) -> str:
        return f"BossVolume({self._url} on {self.config.url})"

    @property
    def url(self) -> str:
        return self._url

    # --- metadata -------------------------------------------------------------------

    def _call(self, work: Callable[[Any], Any], action: str, where: str | None = None) -> Any:
        return call(self._remotes, work, action, where or self._url)

    def _missing_part(self) -> str:
        """Which of the collection, experiment and channel the server does not have."""
        from intern.resource.boss.resource import CollectionResource

        def exists(work: Callable[[Any], Any]) -> bool:
            try:
                self._call(work, "look up")
            except InfoUnavailableError:
                return False
            return True

        # The experiment first: the usual case (a channel's name mistyped) costs one request.
        if exists(lambda r: r.get_experiment(self.collection, self.experiment)):
            return f"the channel {self.channel!r} does not exist in {self.collection}/{self.experiment}"
        if exists(lambda r: r.get_project(CollectionResource(self.collection))):
            return f"the experiment {self.experiment!r} does not exist in collection {self.collection!r}"
        return f"the collection {self.collection!r} does not exist"

    def _server_info(self) -> dict[str, Any]:
        """The info the server's metadata describes (fetched once; ``refresh_info`` again)."""
        with self._lock:
            if self._served is not None:
                return self._served
            try:
                channel = self._call(
                    lambda r: r.get_channel(self.channel, self.collection, self.experiment), "open"
                )
            except InfoUnavailableError:
                raise InfoUnavailableError(
                    f"cannot open {self._url} on {self.config.url}: {self._missing_part()}; "
                    "check the path (boss://collection/experiment/channel)"
                ) from None
            experiment = self._call(lambda r: r.get_experiment(self.collection, self.experiment), "open")
            frame = self._call(lambda r: r.get_coordinate_frame(experiment.coord_frame), "open")
            self._served = boss_info(channel, experiment, frame, self._url)
            self._resource = channel
            return self._served

    def refresh_info(self) -> dict[str, Any]:
        with self._lock:
            self._served = None
        info = copy.deepcopy(self._server_info())  # edits of vol.info must not reach the record
        self.meta.info = info
        return info

    def check_info(self, info: dict[str, Any]) -> None:
        """A given info must describe the channel's voxels as the server does."""
        super().check_info(info)
        served = self._server_info()
        for field in ("data_type", "num_channels"):
            if info.get(field) != served[field]:
                raise InfoValidationError(
                    f"the info given for {self._url} has {field}={info.get(field)!r}, the channel "
                    f"{served[field]!r}: the BOSS defines its channels' metadata; omit info="
                )
        if len(info["scales"]) > len(served["scales"]):
            raise InfoValidationError(
                f"the info given for {self._url} has {len(info['scales'])} scales, the experiment "
                f"{len(served['scales'])} resolution levels"
            )
        for mip, (ours, theirs) in enumerate(zip(info["scales"], served["scales"])):
            for field in _GEOMETRY:
                if list(ours.get(field, [])) != theirs[field]:
                    raise InfoValidationError(
                        f"the info given for {self._url} has {field}={ours.get(field)} at mip {mip}, "
                        f"the BOSS {theirs[field]}: omit info= to use the server's"
                    )

    def commit_info(self) -> None:
        if self.meta.info == self._server_info():
            return
        raise FeatureUnavailableError(
            f"{self._url}: the BOSS defines a channel's metadata on the server (its collection, "
            "experiment, coordinate frame and channel); change them with intern's BossRemote, "
            "then reopen the volume"
        )

    def fetch_provenance(self) -> dict[str, Any] | None:
        return None

    def commit_provenance(self, provenance: dict[str, Any]) -> None:
        raise FeatureUnavailableError(f"{self._url}: the BOSS keeps no provenance document")

    # --- how it is stored -------------------------------------------------------------

    def chunk_grid(self, mip: int) -> ChunkGrid:
        offset = tuple(int(v) for v in self.meta.voxel_offset(mip))
        size = tuple(int(v) for v in self.meta.volume_size(mip))
        return ChunkGrid(self.meta.key(mip), offset, size, CUBOID)  # type: ignore[arg-type]

    def encoding(self, mip: int) -> str:
        return "raw"

    # --- voxels -----------------------------------------------------------------------

    @property
    def resource(self) -> Any:
        if self._resource is None:
            self._server_info()
        return self._resource

    def _pieces(self, bbox: Bbox, mip: int) -> list[Bbox]:
        """The requests for the part of ``bbox`` inside the level's bounds (none outside)."""
        inside = Bbox.intersection(bbox, self.meta.bounds(mip))
        if inside.subvoxel():
            return []
        return request_boxes(inside, self.limits.request_voxels(self.meta.dtype.itemsize))

    def _run(
        self, work: Callable[[Bbox], Any], pieces: list[Bbox], progress: bool, desc: str
    ) -> Iterator[Any]:
        """``work`` on each piece from a pool of at least two threads, results in order."""
        if len(pieces) <= 1:
            yield from (work(p) for p in pieces)
            return
        bar = _bar(len(pieces), desc, progress)
        with ThreadPoolExecutor(min(len(pieces), self.limits.threads), thread_name_prefix="boss") as pool:
            try:
                for result in pool.map(work, pieces):
                    bar.update(1)
                    yield result
            finally:
                bar.close()

    def _where(self, piece: Bbox, mip: int) -> str:
        return f"{self._url} mip {mip} {piece.to_filename()}"

    def _split(self, piece: Bbox, work: Callable[[Bbox], Any]) -> list[Any]:
        """``work(piece)``, or on each half of it when the server finds it too large (413),
        lowering the request size for the rest of the volume's life."""
        try:
            return [work(piece)]
        except RequestTooLarge:
            voxels = int(np.prod(piece.size3()))
            if voxels <= 1:
                raise
            with self._lock:
                self.limits = dataclasses.replace(self.limits, voxels=min(self.limits.voxels, voxels // 2))
            return [result for half in halves(piece) for result in self._split(half, work)]

    def _get(self, piece: Bbox, mip: int) -> npt.NDArray[Any]:
        lo, hi = [int(v) for v in piece.minpt], [int(v) for v in piece.maxpt]
        shape = tuple(b - a for a, b in zip(lo, hi))
        data = self._call(
            lambda r: r.get_cutout(self.resource, mip, [lo[0], hi[0]], [lo[1], hi[1]], [lo[2], hi[2]],
                                   parallel=False, chunk_size=shape),
            "read", self._where(piece, mip),
        )  # fmt: skip
        if not isinstance(data, np.ndarray) or data.shape != shape[::-1] or data.dtype != self.meta.dtype:
            got = getattr(data, "shape", None), getattr(data, "dtype", None)
            raise DecodingError(
                f"{self._where(piece, mip)}: the BOSS sent a {got[0]} {got[1]} array for a "
                f"{shape[::-1]} {self.meta.dtype} (z, y, x) cutout"
            )
        return data

    def read(
        self,
        bbox: Bbox,
        *,
        mip: int,
        options: ReadOptions,
        out: npt.NDArray[Any] | None = None,
        zeroed: bool = False,
    ) -> npt.NDArray[Any]:
        shape = (*(int(v) for v in bbox.size3()), self.meta.num_channels)
        if out is None:
            out = np.zeros(shape, dtype=self.meta.dtype, order="F")
        elif not zeroed:
            out[...] = 0
        origin = [int(v) for v in bbox.minpt]

        def fetch(piece: Bbox) -> None:
            data = self._get(piece, mip)
            x, y, z = (slice(int(a) - o, int(b) - o) for a, b, o in zip(piece.minpt, piece.maxpt, origin))
            out[x, y, z, 0] = data.T  # (z, y, x) C-order is (x, y, z) Fortran order

        for _ in self._run(lambda p: self._split(p, fetch), self._pieces(bbox, mip), options.progress,
                           "Downloading"):  # fmt: skip
            pass
        return out

    def _clear(self, piece: Bbox, mip: int, action: str) -> None:
        lo, hi = [int(v) for v in piece.minpt], [int(v) for v in piece.maxpt]
        ranges = ([lo[0], hi[0]], [lo[1], hi[1]], [lo[2], hi[2]])
        self._call(lambda r: r.create_cutout_to_black(self.resource, mip, *ranges), action,
                   self._where(piece, mip))  # fmt: skip

    def _post(self, piece: Bbox, part: npt.NDArray[Any], mip: int) -> None:
        """Store ``part`` (the x, y, z voxels of ``piece``). A cutout POST writes only the
        non-zero voxels it carries (the BOSS keeps what lies under zeros), so a piece with
        zeros in it is cleared with to_black first; an all-zero piece only is cleared."""
        if not part.all():
            self._clear(piece, mip, "write")
            if not part.any():
                return
        data = np.ascontiguousarray(part.T)
        where = self._where(piece, mip)
        self._call(lambda r: post_cutout(r, self.resource, mip, piece, data), "write", where)

    def write(self, bbox: Bbox, array: npt.NDArray[Any], *, mip: int, options: WriteOptions) -> None:
        origin = [int(v) for v in bbox.minpt]

        def send(piece: Bbox) -> None:
            lo, hi = [int(v) for v in piece.minpt], [int(v) for v in piece.maxpt]
            part = array[tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin))]
            self._post(piece, part[..., 0], mip)

        for _ in self._run(lambda p: self._split(p, send), self._pieces(bbox, mip), options.progress,
                           "Uploading"):  # fmt: skip
            pass

    def exists(self, bbox: Bbox, *, mip: int) -> dict[str, bool]:
        """For each request-sized box of ``bbox`` (inside the bounds), whether it holds a voxel
        other than 0: the BOSS has no stored pieces to look for, only data."""
        pieces = self._pieces(bbox, mip)

        def holds_data(piece: Bbox) -> bool:
            return any(self._split(piece, lambda p: bool(self._get(p, mip).any())))

        found = self._run(holds_data, pieces, False, "Checking")
        key = self.meta.key(mip)
        return {f"{key}/{piece.to_filename()}": present for piece, present in zip(pieces, found)}

    def delete(self, bbox: Bbox, *, mip: int) -> None:
        """Clear ``bbox`` to 0 (the BOSS's to_black): what was never written reads as 0 too."""
        pieces = self._pieces(bbox, mip)
        for _ in self._run(lambda p: self._split(p, lambda q: self._clear(q, mip, "delete")), pieces, False,
                           "Deleting"):  # fmt: skip
            pass

    def set_threads(self, threads: int) -> None:
        # At least two requests in flight, also in a worker process of ``parallel``.
        self.limits = Limits(self.limits.voxels, self.limits.bytes, max(2, int(threads)))


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="request")
