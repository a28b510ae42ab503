"""Multi-resolution meshes (``neuroglancer_multilod_draco``), unsharded or sharded.

Unsharded, a segment has a manifest ``<segid>.index`` and a fragment data file
``<segid>`` read by byte range, one level of detail at a time. Sharded, the
manifest is the shard item keyed by segment id and the fragment data sits just
before it in the shard file (meshes.md). Positions are decoded from Draco, placed
on the octree, and mapped to nanometres by the info's ``transform``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import DecodingError, InfoValidationError, SegmentNotFoundError
from ..format import Located, decode, shard_entries
from ..interfaces import ByteRange, ObjectMetadata
from ._draco import decode_fragment
from ._manifest import MultiLodManifest
from ._mesh import Mesh
from ._octree import build_multilod
from ._transform import affine_matrix, apply_transform, inverse_transform

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from ..format import ObjectDirectory
    from ..meta import ShardingSpec

__all__ = ["MultiLodMeshes", "manifest_prefix_length"]

_MAX_MANIFEST_BYTES = 256 * 2**20


def manifest_prefix_length(spec: ShardingSpec) -> Callable[[int, bytes], int]:
    """How many bytes of fragment data precede a stored manifest in its shard."""

    def length(segid: int, item: bytes) -> int:
        where = f"the mesh manifest of segment {segid} (vol.mesh.delete({segid}) removes a damaged one)"
        raw = decode(item, spec.data_encoding, where=where, limit=_MAX_MANIFEST_BYTES)
        return MultiLodManifest.from_bytes(raw, where=where).data_size

    return length


class MultiLodMeshes:
    """The multi-resolution meshes of one mesh directory (its info says how they are stored)."""

    def __init__(self, directory: ObjectDirectory) -> None:
        self.dir = directory

    # --- the info -------------------------------------------------------------

    @property
    def bits(self) -> int:
        bits = self.dir.info.get("vertex_quantization_bits")
        if bits not in (10, 16):
            raise InfoValidationError(
                f"{self.dir.describe('info')}: vertex_quantization_bits must be 10 or 16, got {bits!r}"
            )
        return int(bits)

    @property
    def transform(self) -> npt.NDArray[np.float64]:
        try:
            return affine_matrix(self.dir.info.get("transform", [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]))
        except ValueError as err:
            raise InfoValidationError(f"{self.dir.describe('info')}: transform: {err}") from err

    # --- reading --------------------------------------------------------------

    def manifests(self, segids: Sequence[int]) -> dict[int, MultiLodManifest | None]:
        """Each segment's manifest (unsharded layout), None where the segment has none."""
        names = {s: _index_name(s) for s in segids}
        found = self.dir.read_many(names.values(), limit=_MAX_MANIFEST_BYTES)
        out: dict[int, MultiLodManifest | None] = {}
        for s, name in names.items():
            data = found[name]
            out[s] = (
                None if data is None else MultiLodManifest.from_bytes(data, where=self.dir.describe(name))
            )
        return out

    def exists(self, segids: Sequence[int]) -> dict[int, str | None]:
        return self.dir.find(segids, _index_name)

    def get(
        self,
        segids: Sequence[int],
        lod: int,
        *,
        concat: bool = True,
        allow_missing: bool = False,
        bar: Any = None,
        transform: npt.NDArray[np.float64] | None = None,
    ) -> dict[int, Mesh] | dict[int, list[Mesh]]:
        """Each segment's mesh at level of detail ``lod`` (0 the finest; -1 the coarsest).

        With ``concat=False``, each segment's fragments as separate meshes (the non-empty
        ones, in manifest order), as cloud-volume gives them. A segment without a mesh
        raises ``SegmentNotFoundError``, or is left out with ``allow_missing``.
        Positions are mapped by ``transform`` (a 3x4 affine), or by the info's if None.
        """
        if isinstance(lod, bool) or not isinstance(lod, int | np.integer):
            raise TypeError(f"lod must be a whole number (0 the finest, -1 the coarsest), got {lod!r}")
        lod = int(lod)
        if self.dir.is_sharded:
            manifests, blobs = self._sharded(segids, lod, allow_missing)
        else:
            manifests, blobs = self._unsharded(segids, lod, allow_missing)
        bits = self.bits
        transform = self.transform if transform is None else transform
        parts = {}
        for s in manifests:
            parts[s] = self._decode(s, manifests[s], _level(manifests[s], lod, s), blobs[s], bits, transform)
            if bar is not None:
                bar.update(1)
        if not concat:
            return parts
        return {s: Mesh.concatenate(*found, segid=s) for s, found in parts.items()}

    def missing(self, segids: Sequence[int]) -> SegmentNotFoundError:
        more = "" if len(segids) <= 3 else f" and {len(segids) - 3} more"
        names = ", ".join(map(str, segids))
        tried = ", ".join(self.dir.where(s, _index_name(s)) for s in segids[:3])
        return SegmentNotFoundError(
            f"segment {names} has no mesh: no manifest at {tried}{more}; check the segment ids, "
            "or that the meshes were written to this layer's mesh directory"
        )

    def _unsharded(
        self, segids: Sequence[int], lod: int, allow_missing: bool
    ) -> tuple[dict[int, MultiLodManifest], dict[int, bytes]]:
        found = self.manifests(segids)
        absent = [s for s, m in found.items() if m is None]
        if absent and not allow_missing:
            raise self.missing(absent)
        manifests = {s: m for s, m in found.items() if m is not None}
        segids = list(manifests)
        spans = {s: m.lod_span(_level(m, lod, s)) for s, m in manifests.items()}
        wanted = [s for s in segids if spans[s][1] > spans[s][0]]
        ranges = [
            ByteRange(self.dir.key(str(s)), *spans[s], whole_size=manifests[s].data_size) for s in wanted
        ]
        replies = self.dir.store.read_ranges(ranges) if ranges else []
        blobs = dict.fromkeys(segids, b"")
        whole = []
        for s, reply in zip(wanted, replies):
            if reply is None:
                whole.append(s)  # compressed, or not the size its manifest says: read it whole
            else:
                blobs[s] = reply.data
        if whole:
            data = self.dir.read_many([str(s) for s in whole])
            for s in whole:
                blob = data[str(s)]
                if blob is None or len(blob) != manifests[s].data_size:
                    raise DecodingError(
                        f"{self.dir.describe(str(s))} holds {0 if blob is None else len(blob)} bytes of "
                        f"fragments, but its manifest lists {manifests[s].data_size}; rewrite this mesh"
                    )
                blobs[s] = blob[spans[s][0] : spans[s][1]]
        return manifests, blobs

    def _sharded(
        self, segids: Sequence[int], lod: int, allow_missing: bool
    ) -> tuple[dict[int, MultiLodManifest], dict[int, bytes]]:
        objects = self.dir.sharded()
        store = self.dir.store

        def then(
            located: list[Located | None], data: list[bytes | None]
        ) -> tuple[dict[int, MultiLodManifest], dict[int, bytes]]:
            absent = [s for s, d in zip(segids, data) if d is None]
            if absent and not allow_missing:
                raise self.missing(absent)
            manifests, spans, blobs = {}, [], {}
            wholes: dict[str, bytes | None] = {}  # shards read whole, once each
            for s, at, raw in zip(segids, located, data):
                if at is None or raw is None:
                    continue
                m = manifests[s] = MultiLodManifest.from_bytes(
                    raw, where=f"{store.describe(at.key)} (segment {s})"
                )
                lo, hi = m.lod_span(_level(m, lod, s))
                first = at.start - m.data_size
                if at.data is not None:  # the shard had to be read whole
                    if at.key not in wholes:
                        wholes[at.key] = objects.whole(at.key)
                    blobs[s] = _from_whole(wholes[at.key], objects.spec, m, lo, hi, s, store.describe(at.key))
                elif first < objects.spec.shard_index_size:
                    raise _damaged(store.describe(at.key), s)
                elif hi > lo:
                    spans.append((s, Located(at.key, first + lo, first + hi, at.size, at.version)))
                else:
                    blobs[s] = b""
            for (s, _), part in zip(spans, objects.reader.read_spans([at for _, at in spans])):
                blobs[s] = part
            return manifests, blobs

        return objects.reader.read_then(
            list(segids), then, limits=[_MAX_MANIFEST_BYTES] * len(segids), recheck_absent=True
        )

    def _decode(
        self,
        segid: int,
        manifest: MultiLodManifest,
        lod: int,
        blob: bytes,
        bits: int,
        transform: npt.NDArray[np.float64],
    ) -> list[Mesh]:
        """The fragments of one level, each placed on the octree and mapped to nanometres."""
        origins = manifest.node_origin(lod)
        node = manifest.chunk_shape.astype(np.float64) * 2.0**lod
        scale = node / (2.0**bits - 1)
        out, offset = [], 0
        for i, size in enumerate(manifest.fragment_sizes[lod].tolist()):
            if size == 0:
                continue  # an octree node with nothing of its own at this level
            where = f"fragment {i} of level {lod} of the mesh of segment {segid}"
            points, tris = decode_fragment(blob[offset : offset + size], where=where)
            offset += size
            vertices = apply_transform(origins[i] + points * scale, transform)
            out.append(Mesh(vertices, tris, segid=segid, encoding_type="draco"))
        return out

    # --- writing --------------------------------------------------------------

    def put(
        self,
        lods_by_segment: dict[int, list[Mesh]],
        *,
        chunk_shape: Sequence[float] | None = None,
        lod_scales: Sequence[float] | None = None,
        cache_control: str | None = None,
        bar: Any = None,
    ) -> None:
        """Store each segment's levels of detail (finest first), Draco-encoded on its octree."""
        self.dir.store.require_writes("write meshes")
        bits, transform = self.bits, self.transform
        inverse = inverse_transform(transform.reshape(-1).tolist(), self.dir.describe("info"))
        assert inverse is not None
        written: dict[int, tuple[bytes, bytes]] = {}
        for segid, lods in lods_by_segment.items():
            stored = [(apply_transform(m.vertices, inverse).astype(np.float64), m.faces) for m in lods]
            shape, origin = _octree_grid(stored, chunk_shape)
            manifest, data = build_multilod(
                stored, chunk_shape=shape, grid_origin=origin, bits=bits,
                lod_scales=None if lod_scales is None else list(lod_scales),
            )  # fmt: skip
            written[segid] = (manifest.to_bytes(), data)
            if bar is not None:
                bar.update(1)
        store = self.dir.store
        metadata = ObjectMetadata(cache_control=cache_control)
        if self.dir.is_sharded:
            objects = self.dir.sharded()
            items = {s: m for s, (m, _) in written.items()}
            objects.write(
                items, prefixes={s: d for s, (_, d) in written.items()}, cache_control=cache_control
            )
            return
        # The data first: a reader that finds the manifest finds its fragments.
        store.put_many({self.dir.key(str(s)): d for s, (_, d) in written.items()}, metadata=metadata)
        store.put_many({self.dir.key(_index_name(s)): m for s, (m, _) in written.items()}, metadata=metadata)

    def delete(self, segids: Sequence[int]) -> None:
        self.dir.store.require_writes("delete meshes")
        if self.dir.is_sharded:
            self.dir.sharded().write(dict.fromkeys(segids))
            return
        store = self.dir.store
        store.delete_many([self.dir.key(_index_name(s)) for s in segids])
        store.delete_many([self.dir.key(str(s)) for s in segids])


def _index_name(segid: int) -> str:
    return f"{segid}.index"


def _level(manifest: MultiLodManifest, lod: int, segid: int) -> int:
    if not -1 <= lod < manifest.num_lods:
        raise ValueError(
            f"level of detail {lod} is out of range for segment {segid}: it has {manifest.num_lods} "
            f"(0 the finest to {manifest.num_lods - 1}; -1 for the coarsest)"
        )
    return manifest.num_lods - 1 if lod == -1 else lod


def _from_whole(
    data: bytes | None,
    spec: ShardingSpec,
    manifest: MultiLodManifest,
    lo: int,
    hi: int,
    segid: int,
    where: str,
) -> bytes:
    """A level's fragments cut from a whole shard (one stored with transfer compression)."""
    if data is None:
        raise DecodingError(f"{where} disappeared while reading the mesh of segment {segid}; read again")
    span = shard_entries(data, spec, where=where).get(segid)
    first = -1 if span is None else span[0] - manifest.data_size
    if first < spec.shard_index_size:
        raise _damaged(where, segid)
    return data[first + lo : first + hi]


def _damaged(where: str, segid: int) -> DecodingError:
    return DecodingError(
        f"{where}: the fragments of the mesh of segment {segid} would start before the shard's "
        "data; the shard is damaged: rewrite this mesh"
    )


def _octree_grid(
    lods: list[tuple[npt.NDArray[np.float64], Any]], chunk_shape: Sequence[float] | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The finest node shape and grid origin: by default the coarsest level is one node."""
    points = [v for v, _ in lods if len(v)]
    if not points:
        return np.ones(3), np.zeros(3)
    everything = np.concatenate(points)
    low, high = everything.min(axis=0), everything.max(axis=0)
    origin = np.floor(low) - 1
    if chunk_shape is not None:
        shape = np.asarray(chunk_shape, np.float64).reshape(3)
        if (shape <= 0).any():
            raise ValueError(f"chunk_shape must be positive, got {shape.tolist()}")
        return shape, origin
    extent = np.maximum(np.ceil(high) + 1 - origin, 1.0)
    return extent / 2.0 ** (len(lods) - 1), origin
