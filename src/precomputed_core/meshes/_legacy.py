"""Meshes in the legacy single-resolution format: a ``<segid>:0`` manifest and its fragments.

meshes.md, "Legacy single-resolution mesh format". The manifest is JSON
(``{"fragments": [...]}``, names relative to the mesh directory); each fragment
is a vertex count, float32 positions in nanometres and uint32 triangles. Fragments
may be gzip (a ``.gz`` file on local disk, ``Content-Encoding`` on cloud storage).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import MeshDecodeError, SegmentNotFoundError
from ..format import compress_bytes, normalize_compress
from ..interfaces import ObjectMetadata
from ..meta import json_bytes, parse_json
from ._mesh import Mesh
from ._transform import apply_transform

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..format import ObjectDirectory

__all__ = ["LegacyMeshes", "manifest_name"]

_JSON = ObjectMetadata(content_type="application/json")
#: Segments whose manifests are read together, and groups of requests in flight at once.
_SEGMENT_GROUP = 16
_GROUPS_IN_FLIGHT = 4
#: A manifest is a short list of names; anything much larger is not one.
_MAX_MANIFEST_BYTES = 64 * 2**20


def manifest_name(segid: int) -> str:
    return f"{segid}:0"


class LegacyMeshes:
    """The legacy meshes of one mesh directory."""

    def __init__(self, directory: ObjectDirectory) -> None:
        self.dir = directory

    def manifests(self, segids: Sequence[int], *, allow_missing: bool = False) -> dict[int, list[str] | None]:
        """Each segment's fragment names, from its manifest (None where it has none)."""
        found = self.dir.read_many([manifest_name(s) for s in segids], limit=_MAX_MANIFEST_BYTES)
        out: dict[int, list[str] | None] = {}
        for segid in segids:
            data = found[manifest_name(segid)]
            if data is None:
                out[segid] = None
                continue
            where = self.dir.describe(manifest_name(segid))
            document = parse_json(data, where)
            fragments = document.get("fragments") if isinstance(document, dict) else None
            if not isinstance(fragments, list) or not all(isinstance(f, str) and f for f in fragments):
                raise MeshDecodeError(f"{where} is not a mesh manifest: it needs a list of fragment names")
            outside = [f for f in fragments if not _inside(f)]
            if outside:  # never read, or delete, anything outside the mesh directory
                raise MeshDecodeError(
                    f"{where} lists fragments outside the mesh directory ({outside[0]!r}); "
                    "fragment names are plain file names: rewrite this manifest"
                )
            out[segid] = fragments
        absent = [s for s, names in out.items() if names is None]
        if absent and not allow_missing:
            raise self.missing(absent)
        return out

    def missing(self, segids: Sequence[int]) -> SegmentNotFoundError:
        names = ", ".join(str(s) for s in segids)
        paths = ", ".join(self.dir.describe(manifest_name(s)) for s in segids[:3])
        more = "" if len(segids) <= 3 else f" and {len(segids) - 3} more"
        return SegmentNotFoundError(
            f"segment {names} has no mesh: no manifest at {paths}{more}; check the segment ids, "
            "or that the meshes were written to this layer's mesh directory"
        )

    def exists(self, segids: Sequence[int]) -> dict[int, str | None]:
        """Each segment's manifest path, or None where it has no mesh."""
        return self.dir.find(segids, manifest_name)

    def get(self, segids: Sequence[int], *, bar: Any = None) -> dict[int, Mesh]:
        """Each segment's mesh: its fragments concatenated, in fragment-name order.

        Segments go in groups: a group's fragments are requested as soon as its
        manifests arrive, while later manifests are still on the wire.
        """
        groups = [segids[i : i + _SEGMENT_GROUP] for i in range(0, len(segids), _SEGMENT_GROUP)]
        manifests: dict[int, list[str] | None] = {}
        with ThreadPoolExecutor(_GROUPS_IN_FLIGHT) as pool:
            listed = [pool.submit(self.manifests, group, allow_missing=True) for group in groups]
            fetched, counts = [], []
            for listing in listed:
                found = listing.result()
                manifests.update(found)
                names = sorted({name for fragments in found.values() for name in fragments or ()})
                if names:
                    fetched.append(pool.submit(self.dir.read_many, names))
                    counts.append(len(found))
            absent = [s for s, names in manifests.items() if names is None]
            if absent:
                for pending in fetched:
                    pending.cancel()
                raise self.missing(absent)
            decoded: dict[str, Mesh] = {}
            lost = []
            for fetch, count in zip(fetched, counts):
                for name, data in fetch.result().items():
                    if data is None:
                        lost.append(name)
                    elif not lost:
                        decoded[name] = Mesh.from_precomputed(data, None, where=self.dir.describe(name))
                if bar is not None:
                    bar.update(count)
        if lost:
            raise MeshDecodeError(
                f"the mesh manifests list fragments that are not stored: "
                f"{', '.join(self.dir.describe(n) for n in lost[:3])}; rewrite these meshes"
            )
        meshes = {}
        for segid in segids:
            parts = [decoded[name] for name in sorted(manifests[segid] or ())]
            meshes[segid] = Mesh.concatenate(*parts, segid=segid)
        return meshes

    def put(
        self,
        meshes: Sequence[Mesh],
        *,
        compress: Any = None,
        level: int | None = None,
        cache_control: str | None = None,
        skip_delete: bool = False,
    ) -> None:
        """Store each mesh as one fragment, then its manifest; then drop fragments no longer listed."""
        self.dir.store.require_writes("write meshes")
        method = normalize_compress(compress)
        segids = [_segid(m) for m in meshes]
        old = {} if skip_delete else self.manifests(segids, allow_missing=True)
        fragments = {
            f"{segid}:0:1": compress_bytes(m.to_precomputed(), method, level=level)
            for segid, m in zip(segids, meshes)
        }
        store = self.dir.store
        metadata = ObjectMetadata(content_encoding=method, cache_control=cache_control)
        store.put_many({self.dir.key(name): data for name, data in fragments.items()}, metadata=metadata)
        manifests = {manifest_name(s): json_bytes({"fragments": [f"{s}:0:1"]}) for s in segids}
        store.put_many(
            {self.dir.key(n): d for n, d in manifests.items()},
            metadata=ObjectMetadata(content_type=_JSON.content_type, cache_control=cache_control),
        )
        stale = {name for names in old.values() for name in names or ()} - set(fragments)
        if stale:
            store.delete_many([self.dir.key(name) for name in sorted(stale)])

    def delete(self, segids: Sequence[int]) -> None:
        """Remove each segment's manifest (first, so no reader finds it half gone), then its fragments."""
        self.dir.store.require_writes("delete meshes")
        manifests = self.manifests(segids, allow_missing=True)
        present = [s for s, names in manifests.items() if names is not None]
        store = self.dir.store
        store.delete_many([self.dir.key(manifest_name(s)) for s in present])
        store.delete_many([self.dir.key(n) for s in present for n in manifests[s] or ()])


def _inside(name: str) -> bool:
    """Whether a manifest's fragment name stays in the mesh directory."""
    parts = name.split("/")
    return not (
        name.startswith("/") or "\\" in name or "://" in name or any(p in ("", ".", "..") for p in parts)
    )


def _segid(mesh: Mesh) -> int:
    if mesh.segid is None:
        raise ValueError("a mesh to store needs its segment id: set mesh.segid")
    return int(mesh.segid)


def transformed(mesh: Mesh, transform: Any) -> Mesh:
    """``mesh`` with its vertices mapped by a 3x4 affine ``transform`` (None: unchanged)."""
    if transform is None or np.array_equal(transform, np.eye(3, 4)):
        return mesh  # the identity: skipped, as cloud-volume skips it
    mesh.vertices = apply_transform(mesh.vertices, transform)
    return mesh
