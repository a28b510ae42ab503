"""A layer's directory of per-segment objects (``mesh``, ``skeletons``): its info and its storage.

Meshes and skeletons are stored the same way: a subdirectory named by the layer's
info, holding its own ``info`` JSON and one object per segment (or per fragment),
or shard files keyed by segment id when that info has a ``sharding`` key.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..exceptions import InfoValidationError
from ..interfaces import ObjectMetadata
from ..meta import ShardingSpec, json_bytes, parse_json, sharding_for_labels
from ._chunk_io import opened_bytes
from ._sharded_objects import MAX_OBJECT_BYTES, ShardedObjects

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ..interfaces import Store

__all__ = ["MAX_OBJECT_BYTES", "ObjectDirectory"]

_JSON = ObjectMetadata(content_type="application/json", cache_control="no-cache")


class ObjectDirectory:
    """The subdirectory ``path`` of the layer in ``store`` and its ``info`` (``default_info`` if absent).

    ``prefix_length`` is handed to the shard writer (see :class:`ShardedObjects`).
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
        return None if spec is None else ShardingSpec.from_json(spec, f"{self.describe('info')}['sharding']")

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
        """Set this info's sharding for about ``num_labels`` segments (commit it with :meth:`commit_info`)."""
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
