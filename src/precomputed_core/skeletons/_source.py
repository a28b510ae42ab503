"""``vol.skeleton``: a layer's skeletons, unsharded (one object per segment) or sharded.

The skeleton directory's ``info`` (skeletons.md) gives the vertex attributes
stored after the edges and the ``transform`` from stored to physical
coordinates. Skeletons are returned in physical space, as cloud-volume returns
them; a skeleton in physical space is stored back through the inverse transform.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InfoValidationError, SegmentNotFoundError
from ..format import NamedDirectory, ObjectDirectory, compress_bytes, normalize_compress
from ..interfaces import ObjectMetadata
from ..meta import segment_ids
from ._skeleton import Skeleton
from ._skeleton_files import DEFAULT_VERTEX_ATTRIBUTES, check_attribute_specs

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterable

    import numpy.typing as npt

    from ..interfaces import Store

__all__ = ["SkeletonSource"]

SKELETONS_TYPE = "neuroglancer_skeletons"
_MIP_IN_PATH = re.compile(r"skeletons_mip_(\d+)")
_IDENTITY = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]


class SkeletonMeta(ObjectDirectory):
    """The skeleton directory and its ``info`` (``vol.skeleton.meta``)."""

    @property
    def skeleton_path(self) -> str:
        """The directory, relative to the layer (cloud-volume's name for ``path``)."""
        return self.path

    @property
    def mip(self) -> int | None:
        """The mip the skeletons were made at: the info's ``mip``, else N of a ``skeletons_mip_N`` path.

        None when neither says. The second rule is cloud-volume's: Igneous names
        the directories it writes that way.
        """
        value = self.info.get("mip")
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InfoValidationError(
                    f"{self.describe('info')}: mip must be an integer >= 0, got {value!r}"
                )
            return value
        found = _MIP_IN_PATH.search(self.path)
        return None if found is None else int(found.group(1))

    @property
    def transform(self) -> npt.NDArray[np.float64]:
        value = self.info.get("transform", _IDENTITY)
        matrix = np.asarray(value, dtype=np.float64)
        if matrix.size != 12 or not np.all(np.isfinite(matrix)):
            raise InfoValidationError(
                f"{self.describe('info')}: transform must be 12 finite numbers, got {value!r}"
            )
        return matrix.reshape(3, 4)

    @property
    def vertex_attributes(self) -> list[dict[str, Any]] | None:
        """The info's attribute list; None when it has none (cloud-volume's older layout is read)."""
        specs = self.info.get("vertex_attributes")
        if specs is None:
            return None
        return check_attribute_specs(specs, where=f"{self.describe('info')}['vertex_attributes']")


def _default_info() -> dict[str, Any]:
    return {
        "@type": SKELETONS_TYPE,
        "transform": list(_IDENTITY),
        "vertex_attributes": [dict(spec) for spec in DEFAULT_VERTEX_ATTRIBUTES],
    }


class SkeletonSource:
    """A layer's skeletons (``vol.skeleton``).

    ``layer_info`` gives the layer's current info; ``progress(total, desc, enabled)``
    makes a progress bar over that many segments (``enabled`` None: as the volume says).
    """

    def __init__(
        self,
        store: Callable[[], Store | None],
        layer_info: Callable[[], dict[str, Any]],
        *,
        progress: Callable[[int, str, bool | None], Any],
        skel_dir: str | None = None,
    ) -> None:
        self._store = store
        self._progress = progress
        self._dir = NamedDirectory(
            store,
            layer_info,
            "skeletons",
            lambda at, path: SkeletonMeta(at, path, default_info=_default_info),
            override=skel_dir,
        )

    @property
    def path(self) -> str:
        """The skeleton directory, relative to the layer (the info's ``skeletons`` key)."""
        return self._dir.path

    @property
    def meta(self) -> SkeletonMeta:
        return self._dir.open()

    # --- reading --------------------------------------------------------------

    def _read(self, ids: builtins.list[int]) -> dict[int, bytes | None]:
        meta = self.meta
        if meta.is_sharded:
            return dict(zip(ids, meta.sharded().read(ids)))
        found = meta.read_many([str(s) for s in ids])
        return {s: found[str(s)] for s in ids}

    def get(self, segids: Any, allow_missing: bool = False) -> Skeleton | builtins.list[Skeleton] | None:
        """One skeleton (for one id) or a list of them, in physical space.

        A segment with no skeleton raises ``SegmentNotFoundError`` naming it and
        the path tried, unless ``allow_missing`` (then it is left out).
        """
        single = isinstance(segids, int | np.integer | str)
        ids = segment_ids(segids)
        meta = self.meta
        found = self._read(ids)
        absent = [s for s in ids if found[s] is None]
        if absent and not allow_missing:
            paths = ", ".join(meta.where(s, str(s)) for s in absent[:3])
            raise SegmentNotFoundError(
                f"segment {', '.join(map(str, absent))} has no skeleton: nothing at {paths}; check the "
                "segment ids, or that the skeletons were written to this layer's skeleton directory"
            )
        attributes, transform = meta.vertex_attributes, meta.transform
        out = []
        for segid in ids:
            data = found[segid]
            if data is None:
                continue
            skel = Skeleton.from_precomputed(
                data, segid=segid, vertex_attributes=attributes, where=meta.where(segid, str(segid))
            )
            skel.transform = transform
            out.append(skel.physical_space(copy=False))
        if single:
            return out[0] if out else None
        return out

    def exists(self, segids: Any) -> dict[int, bool]:
        """Whether each segment has a skeleton."""
        return {s: path is not None for s, path in self.meta.find(segment_ids(segids), str).items()}

    def list(self) -> npt.NDArray[np.uint64]:
        """Every segment id with a skeleton, sorted (reads every shard of a sharded layer)."""
        meta = self.meta
        if meta.is_sharded:
            ids: Iterable[int] = meta.sharded().ids()
        else:
            ids = (int(name) for name in meta.names() if name.isdigit())
        return np.array(sorted(ids), dtype=np.uint64)

    # --- writing --------------------------------------------------------------

    def upload(
        self,
        skeletons: Skeleton | Iterable[Skeleton],
        *,
        compress: Any = None,
        cache_control: str | None = None,
    ) -> None:
        """Store skeletons (each with its segid), replacing what their segments had.

        Vertex attributes are written as the info declares them; a skeleton in
        physical space is stored through the inverse of the info's ``transform``.
        Unsharded objects are gzipped when ``compress`` says so (shards use their
        own ``data_encoding``).
        """
        given: list[Any] = [skeletons] if hasattr(skeletons, "edges") else list(skeletons)  # type: ignore[arg-type]
        items = [_as_skeleton(s) for s in given]
        meta = self.meta
        meta.store.require_writes("write skeletons")
        attributes, transform = meta.vertex_attributes, meta.transform
        encoded: dict[int, bytes] = {}
        for skel in items:
            if skel.id is None:
                raise ValueError("a skeleton to store needs its segment id: set skel.id")
            stored = skel
            if skel.space == "physical":
                stored = skel.clone()
                stored.transform = transform
                stored = stored.voxel_space(copy=False)
            layout = DEFAULT_VERTEX_ATTRIBUTES if attributes is None else attributes
            encoded[int(skel.id)] = stored.to_precomputed(vertex_attributes=layout)
        if meta.is_sharded:
            meta.sharded().write(encoded, cache_control=cache_control)
            return
        method = normalize_compress(compress)
        metadata = ObjectMetadata(content_encoding=method, cache_control=cache_control)
        meta.store.put_many(
            {meta.key(str(s)): compress_bytes(d, method) for s, d in encoded.items()}, metadata=metadata
        )

    def put(self, skeletons: Skeleton | Iterable[Skeleton], **options: Any) -> None:
        """Same as ``upload`` (the name mesh sources use)."""
        self.upload(skeletons, **options)

    def upload_raw(
        self,
        segid: int,
        vertices: npt.ArrayLike,
        edges: npt.ArrayLike,
        radii: npt.ArrayLike | None = None,
        vertex_types: npt.ArrayLike | None = None,
    ) -> None:
        """Store one skeleton given as arrays."""
        self.upload(Skeleton(vertices, edges, radii, vertex_types, segid=segid))

    def delete(self, segids: Any) -> None:
        """Remove segments' skeletons."""
        ids = segment_ids(segids)
        meta = self.meta
        meta.store.require_writes("delete skeletons")
        if meta.is_sharded:
            meta.sharded().write(dict.fromkeys(ids))
        else:
            meta.store.delete_many([meta.key(str(s)) for s in ids])

    def __repr__(self) -> str:
        store = self._store()
        return f"<SkeletonSource of {store.url if store is not None else 'a volume service'}>"


def _as_skeleton(value: Any) -> Skeleton:
    """A ``Skeleton`` from ours or a skeleton-like object (osteoid's, which kimimaro returns)."""
    if isinstance(value, Skeleton):
        return value
    if not (hasattr(value, "vertices") and hasattr(value, "edges")):
        raise TypeError(
            f"expected a Skeleton (or an object with vertices and edges), got {type(value).__name__}"
        )
    specs = [dict(spec) for spec in (getattr(value, "extra_attributes", None) or [])]
    skel = Skeleton(
        value.vertices,
        value.edges,
        getattr(value, "radius", None),
        getattr(value, "vertex_types", None),
        segid=getattr(value, "id", None),
        transform=getattr(value, "transform", None),
        space=getattr(value, "space", "voxel"),
        extra_attributes=specs or None,
    )
    for spec in specs:
        if spec["id"] not in ("radius", "vertex_types") and hasattr(value, spec["id"]):
            setattr(skel, spec["id"], np.asarray(getattr(value, spec["id"])))
    return skel
