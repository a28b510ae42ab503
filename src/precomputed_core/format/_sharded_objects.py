"""Objects keyed by segment id in the shard files of one directory: sharded meshes and skeletons.

Reads go through the ``ShardReader`` that sharded scales use. Writes rewrite
each touched shard once, through ``Store.update_many`` (so two writers never lose
each other's segments), keeping every item already there, and the bytes a
multi-resolution mesh keeps just before its manifest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import FeatureUnavailableError, ShardError
from ..interfaces import ObjectMetadata, StoredObject
from ._chunk_io import opened_bytes
from ._shard_file import build_shard, encode, shard_entries
from ._shard_reader import ShardReader

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from ..interfaces import Store, Update
    from ..meta import ShardingSpec

__all__ = ["MAX_OBJECT_BYTES", "ShardedObjects"]

#: The most a mesh fragment, manifest or skeleton may decompress to: a hostile or
#: damaged object fails at this size instead of filling memory.
MAX_OBJECT_BYTES = 2**31

#: Storage that cannot list (HTTP) is asked for every possible shard file, up to this many bits of them.
_MAX_PROBED_BITS = 12


class ShardedObjects:
    """The items of ``spec``'s shard files under ``prefix`` of ``store``, by uint64 id.

    ``prefix_length(id, item)`` tells how many bytes before an item belong to it
    (a multi-resolution mesh's fragments); rewrites keep them with the item.
    """

    def __init__(
        self,
        store: Store,
        spec: ShardingSpec,
        prefix: str,
        *,
        prefix_length: Callable[[int, bytes], int] | None = None,
    ) -> None:
        self.store = store
        self.spec = spec
        self.reader = ShardReader(store, spec, prefix)
        self._prefix_length = prefix_length

    def read(self, ids: Sequence[int], *, limit: int = MAX_OBJECT_BYTES) -> list[bytes | None]:
        """Each id's item (decoded, to at most ``limit`` bytes), or None where it is absent.

        An id absent from a cached index is looked up again in a fresh one: another
        process may have added it since.
        """
        return self.reader.read(ids, limits=[limit] * len(ids), recheck_absent=True)

    def whole(self, key: str) -> bytes | None:
        """A shard file's bytes, transfer compression removed (None if it is gone)."""
        stored = self.store.get_stored(key)
        return None if stored is None else opened_bytes(self.store, stored, self.store.describe(key))

    def ids(self) -> Iterator[int]:
        """Every id held in the shard files (each read whole)."""
        for key in self._shard_keys():
            data = self.whole(key)
            if data is not None:
                yield from sorted(shard_entries(data, self.spec, where=self.store.describe(key)))

    def _shard_keys(self) -> list[str]:
        """The shard files there are, listed; or every name the spec allows, where storage cannot list."""
        prefix = self.reader.prefix + "/" if self.reader.prefix else ""
        try:
            listed = list(self.store.list(prefix))
        except FeatureUnavailableError:
            if self.spec.shard_bits > _MAX_PROBED_BITS:
                raise
            return [self.reader.shard_key(shard) for shard in range(1 << self.spec.shard_bits)]
        return [key for key in listed if key.endswith(".shard") and "/" not in key[len(prefix) :]]

    def write(
        self,
        items: Mapping[int, bytes | None],
        *,
        prefixes: Mapping[int, bytes] | None = None,
        cache_control: str | None = None,
    ) -> None:
        """Store each id's item (raw; encoded here), or remove it where the item is None."""
        prefixes = prefixes or {}
        changes = {
            i: None if data is None else (encode(data, self.spec.data_encoding), prefixes.get(i, b""))
            for i, data in items.items()
        }
        by_shard: dict[str, dict[int, tuple[bytes, bytes] | None]] = {}
        for key, (item_id, change) in zip(self.reader.keys_of(list(changes)), changes.items()):
            by_shard.setdefault(key, {})[item_id] = change
        metadata = ObjectMetadata(cache_control=cache_control)
        updates = {key: self._update(key, mine, metadata) for key, mine in by_shard.items()}
        try:
            self.store.update_many(updates)
        finally:
            self.reader.forget(list(updates))

    def _update(
        self, key: str, changes: dict[int, tuple[bytes, bytes] | None], metadata: ObjectMetadata
    ) -> Update:
        spec, where = self.spec, self.store.describe(key)

        def update(found: StoredObject | None) -> StoredObject | None:
            items: dict[int, bytes] = {}
            prefixes: dict[int, bytes] = {}
            if found is not None:
                data = opened_bytes(self.store, found, where)
                view = memoryview(data)
                for item_id, (lo, hi) in shard_entries(data, spec, where=found.source or where).items():
                    if item_id in changes:
                        continue  # replaced or removed: its old bytes (even damaged ones) do not matter
                    items[item_id] = bytes(view[lo:hi])
                    if self._prefix_length is not None:
                        size = self._prefix_length(item_id, items[item_id])
                        if size > lo - spec.shard_index_size:
                            raise ShardError(
                                f"{where}: item {item_id} says {size} bytes before it belong to it, "
                                f"more than there are; the shard is damaged: rewrite or delete item {item_id}"
                            )
                        prefixes[item_id] = bytes(view[lo - size : lo])
            for item_id, change in changes.items():
                if change is not None:
                    items[item_id], prefixes[item_id] = change
            if not items:
                return None  # a shard left empty is removed
            return StoredObject(build_shard(spec, items, prefixes), metadata)

        return update
