"""A layer's directory of per-segment objects (``mesh``, ``skeletons``): its info and its storage.

Meshes and skeletons are stored the same way: a subdirectory named by the layer's
info, holding its own ``info`` JSON and one object per segment (or per fragment),
or shard files keyed by segment id when that info has a ``sharding`` key.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..exceptions import FeatureUnavailableError, InfoValidationError
from ..interfaces import ObjectMetadata
from ..meta import ShardingSpec, json_bytes, parse_json, sharding_for_labels
from ._chunk_io import opened_bytes
from ._sharded_objects import MAX_OBJECT_BYTES, ShardedObjects

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from ..interfaces import Store

__all__ = ["MAX_OBJECT_BYTES", "NamedDirectory", "ObjectDirectory"]

D = TypeVar("D", bound="ObjectDirectory")

_JSON = ObjectMetadata(content_type="application/json", cache_control="no-cache")


class ObjectDirectory:
    """The subdirectory ``path`` of the layer in ``store`` and its ``info`` (``default_info`` if absent).

    ``prefix_length`` is handed to the shard writer (see ``ShardedObjects``).
    """

    def __init__(
        self,
        store: Store,
        path: str,
        *,
        default_info: Callable[[], dict[str, Any]],
        prefix_length: Callable[[ShardingSpec], Callable[[int, bytes], int]] | None = None,
    ) -> None:
        self.store = store
        self.path = path.strip("/")
        self._default_info = default_info
        self._prefix_length = prefix_length
        self._info: dict[str, Any] | None = None
        self._sharded: tuple[ShardingSpec, ShardedObjects] | None = None
        self._spec: tuple[Any, ShardingSpec] | None = None

    # --- naming -----------------------------------------------------------------

    def key(self, name: str) -> str:
        return f"{self.path}/{name}" if self.path else name

    def describe(self, name: str) -> str:
        return self.store.describe(self.key(name))

    # --- the info ---------------------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self.fetch_info()
        return self._info

    @info.setter
    def info(self, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise InfoValidationError(f"the info of {self.describe('')} must be a JSON object")
        self._info = value

    def fetch_info(self) -> dict[str, Any]:
        data = self.store.get(self.key("info"))
        if data is None:
            return self._default_info()
        info = parse_json(data, self.describe("info"))
        if not isinstance(info, dict):
            raise InfoValidationError(f"{self.describe('info')} must hold a JSON object")
        return info

    def refresh_info(self) -> dict[str, Any]:
        self._info = self.fetch_info()
        return self._info

    def commit_info(self) -> None:
        self.store.require_writes(f"commit {self.describe('info')}")
        info = copy.deepcopy(self.info)
        if info.get("sharding", 0) is None:
            del info["sharding"]  # the spec has no null sharding; some writers say it so
        self.store.put(self.key("info"), json_bytes(info), metadata=_JSON)

    # --- sharding ---------------------------------------------------------------

    @property
    def sharding(self) -> ShardingSpec | None:
        spec = self.info.get("sharding")
        if spec is None:
            return None
        if self._spec is None or self._spec[0] != spec:  # parsed again only when the info changes
            parsed = ShardingSpec.from_json(spec, f"{self.describe('info')}['sharding']")
            self._spec = (copy.deepcopy(spec), parsed)
        return self._spec[1]

    @property
    def is_sharded(self) -> bool:
        return self.sharding is not None

    def sharded(self) -> ShardedObjects:
        """The shard files of this directory (its info must have a ``sharding`` key)."""
        spec = self.sharding
        if spec is None:
            raise InfoValidationError(f"{self.describe('info')} has no sharding specification")
        if self._sharded is None or self._sharded[0] != spec:
            length = None if self._prefix_length is None else self._prefix_length(spec)
            self._sharded = (spec, ShardedObjects(self.store, spec, self.path, prefix_length=length))
        return self._sharded[1]

    def to_sharded(
        self,
        num_labels: int,
        shard_index_bytes: int = 2**13,
        minishard_index_bytes: int = 2**15,
        min_shards: int = 1,
        minishard_index_encoding: str = "gzip",
        data_encoding: str = "gzip",
    ) -> dict[str, Any]:
        """Set this info's sharding for about ``num_labels`` segments (commit it with ``commit_info``)."""
        spec = sharding_for_labels(
            num_labels, shard_index_bytes=shard_index_bytes, minishard_index_bytes=minishard_index_bytes,
            min_shards=min_shards, minishard_index_encoding=minishard_index_encoding,  # type: ignore[arg-type]
            data_encoding=data_encoding,  # type: ignore[arg-type]
        )  # fmt: skip
        self.info["sharding"] = spec.to_json()
        return self.info

    def to_unsharded(self) -> dict[str, Any]:
        self.info.pop("sharding", None)
        return self.info

    # --- segments' objects ------------------------------------------------------

    def where(self, segid: int, name: str) -> str:
        """Where segment ``segid``'s object is, or would be: its shard file, or ``name`` here."""
        if self.is_sharded:
            key = self.sharded().reader.keys_of([segid])[0]
            return f"{self.store.describe(key)} (segment {segid})"
        return self.describe(name)

    def find(self, segids: Sequence[int], name: Callable[[int], str]) -> dict[int, str | None]:
        """Where each segment's object (``name(segid)`` unsharded) is stored, or None where it is not."""
        if self.is_sharded:
            located = self.sharded().reader.locate(list(segids), recheck_absent=True)
            return {s: None if at is None else self.where(s, name(s)) for s, at in zip(segids, located)}
        keys = {self.key(name(s)): s for s in segids}
        there = self.store.exists_many(keys)
        return {keys[k]: self.store.describe(k) if ok else None for k, ok in there.items()}

    # --- whole objects ----------------------------------------------------------

    def read_many(self, names: Iterable[str], *, limit: int = MAX_OBJECT_BYTES) -> dict[str, bytes | None]:
        """Each object's bytes, transfer compression removed (``.gz`` files, Content-Encoding)."""
        keys = {self.key(name): name for name in names}
        found = self.store.get_stored_many(keys)
        return {
            keys[key]: None
            if stored is None
            else opened_bytes(self.store, stored, self.store.describe(key), limit)
            for key, stored in found.items()
        }

    def names(self) -> Iterable[str]:
        """The names of the objects stored in this directory (not in its subdirectories)."""
        prefix = self.key("")
        for key in self.store.list(prefix):
            name = key[len(prefix) :]
            if name and "/" not in name:
                yield name


class NamedDirectory(Generic[D]):
    """The directory a layer's info names under ``key`` (``mesh``, ``skeletons``), opened with ``make``.

    Info and storage are looked up at each use (``layer_info()``, ``store()``), so an
    info edited and committed, or a layer reopened, takes effect at once; the opened
    directory is kept while neither changes. ``override`` names the directory instead.
    """

    def __init__(
        self,
        store: Callable[[], Store | None],
        layer_info: Callable[[], dict[str, Any]],
        key: str,
        make: Callable[[Store, str], D],
        *,
        override: str | None = None,
    ) -> None:
        self._store = store
        self._layer_info = layer_info
        self._key = key
        self._make = make
        self._override = override
        self._opened: D | None = None

    @property
    def path(self) -> str:
        """The directory, relative to the layer."""
        if self._override is not None:
            return self._override
        info = self._layer_info()
        path = info.get(self._key)
        if not path:
            kind = info.get("type", "this")
            raise InfoValidationError(
                f"this {kind} layer's info has no {self._key!r} key, so it has no {self._key}; to add "
                f"some, set vol.info[{self._key!r}] = {self._key!r} and call vol.commit_info()"
            )
        if not isinstance(path, str):
            raise InfoValidationError(f"the info's {self._key!r} key must be a directory name, got {path!r}")
        return path

    def open(self) -> D:
        """The directory, opened (again only if the info or the storage changed)."""
        store = self._store()
        if store is None:
            raise FeatureUnavailableError(
                f"this layer's storage holds no {self._key} (it serves voxels only)"
            )
        path = self.path
        opened = self._opened
        if opened is None or opened.path != path.strip("/") or opened.store is not store:
            opened = self._opened = self._make(store, path)
        return opened
