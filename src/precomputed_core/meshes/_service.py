"""``vol.mesh``: a layer's meshes, legacy or multi-resolution, as cloud-volume's mesh source.

The mesh directory's own ``info`` says which format it holds
(``neuroglancer_legacy_mesh``, the default, or ``neuroglancer_multilod_draco``) and
whether it is sharded; every call looks at it, so converting and committing the
info takes effect at once.
"""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import FeatureUnavailableError, ScaleUnavailableError
from ..format import NamedDirectory
from ..meta import segment_ids
from ._legacy import LegacyMeshes, transformed
from ._mesh import Mesh
from ._mesh_meta import MeshMeta, default_info
from ._multilod import MultiLodMeshes, manifest_prefix_length
from ._transform import affine_matrix, apply_transform, homogeneous_matrix, inverse_transform

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    import numpy.typing as npt

    from ..interfaces import Store

__all__ = ["MeshSource"]

_FORMATS = ("obj", "ply", "precomputed")
#: ``put``'s compress when not given: the volume's own setting.
_DEFAULT: Any = object()


class MeshSource:
    """A layer's meshes (``vol.mesh``).

    ``layer_info`` and ``mip`` give the layer's current info and mip; ``progress(total,
    desc, enabled)`` makes a progress bar over that many segments (``enabled`` None: as
    the volume's ``progress`` says);
    ``compress()`` and ``cache_control(cdn_cache)`` give the volume's write settings.
    """

    def __init__(
        self,
        store: Callable[[], Store | None],
        layer_info: Callable[[], dict[str, Any]],
        *,
        mip: Callable[[], int],
        progress: Callable[[int, str, bool | None], Any],
        compress: Callable[[], Any],
        cache_control: Callable[[Any], str],
        mesh_dir: str | None = None,
    ) -> None:
        self._compress = compress
        self._cache_control = cache_control
        self._layer_info = layer_info
        self._mip = mip
        self._progress = progress
        self._store = store
        #: A matrix assigned to ``transform``, and the one last made from the info (with the
        #: info's value it came from): kept, so changing it in place changes what get gives.
        self._assigned: npt.NDArray[np.float64] | None = None
        self._from_info: tuple[Any, npt.NDArray[np.float64]] | None = None
        self._dir = NamedDirectory(
            store,
            layer_info,
            "mesh",
            lambda at, path: MeshMeta(
                at, path, default_info=default_info, prefix_length=manifest_prefix_length
            ),
            override=mesh_dir,
        )

    @property
    def path(self) -> str:
        """The mesh directory, relative to the layer (the info's ``mesh`` key)."""
        return self._dir.path

    @property
    def meta(self) -> MeshMeta:
        return self._dir.open()

    @property
    def transform(self) -> npt.NDArray[np.float64]:
        """The 4x4 affine that ``get`` applies to stored vertices (x, y, z, 1).

        It is the mesh info's ``transform`` (the identity if it has none) until you assign
        one; ``None`` goes back to the info's. The array is kept, so changing it in place
        (``vol.mesh.transform[:, 3] = 1``) changes what ``get`` gives, as in cloud-volume.
        Only reading uses it: ``put`` stores through the inverse of the info's transform,
        which is what other readers (Neuroglancer) apply.
        """
        if self._assigned is not None:
            return self._assigned
        meta = self.meta
        given = meta.info.get("transform")
        if self._from_info is None or not _same(self._from_info[0], given):  # the info changed
            self._from_info = (copy.deepcopy(given), homogeneous_matrix(given, meta.describe("info")))
        return self._from_info[1]

    @transform.setter
    def transform(self, matrix: npt.ArrayLike | None) -> None:
        if matrix is None:
            self._assigned = None
            return
        kept = np.asarray(matrix, dtype=np.float64)  # the same array when given float64, for in-place edits
        if kept.shape != (4, 4):
            kept = np.vstack([affine_matrix(kept), [0.0, 0.0, 0.0, 1.0]])  # 3x4, 3x3, 12 numbers
        elif not np.all(np.isfinite(kept)):
            raise ValueError(f"vol.mesh.transform must be finite; got {kept.tolist()}")
        self._assigned = kept

    def _read_matrix(self) -> npt.NDArray[np.float64]:
        """``transform`` as a checked 3x4 affine."""
        matrix = self.transform
        try:
            return affine_matrix(matrix)
        except ValueError as err:
            raise ValueError(
                f"vol.mesh.transform: {err}; assign a 4x4 affine, or None for the info's"
            ) from err

    # --- reading --------------------------------------------------------------

    def exists(self, segids: Any) -> dict[int, str | None]:
        """Each segment's manifest path, or None where it has no mesh."""
        ids = segment_ids(segids)
        meta = self.meta
        return MultiLodMeshes(meta).exists(ids) if meta.is_multires() else LegacyMeshes(meta).exists(ids)

    def get(
        self,
        segids: Any,
        remove_duplicate_vertices: bool = True,
        fuse: bool = True,
        chunk_size: Sequence[int] | None = None,
        *,
        lod: int = 0,
        concat: bool = True,
        allow_missing: bool = False,
        progress: bool | None = None,
    ) -> Mesh | dict[int, Mesh] | dict[int, list[Mesh]]:
        """Segments' meshes, as cloud-volume gives them.

        Legacy meshes: one mesh of every listed segment (``fuse=True``), with exactly
        repeated vertices merged (``remove_duplicate_vertices``; with ``chunk_size``, in
        voxels of the mip the meshes were made at, only on those chunks' boundaries), or
        ``{segid: Mesh}`` with ``fuse=False``. Multi-resolution meshes: ``{segid: Mesh}``
        at level of detail ``lod`` (0 the finest, -1 the coarsest), or with
        ``concat=False`` ``{segid: [Mesh per fragment]}``, as cloud-volume returns them
        (its positional ``get(segids, lod, concat)`` too); ``allow_missing`` leaves out
        segments without one. ``progress`` overrides the volume's setting. Vertices
        are mapped by ``transform`` (the info's unless one was assigned).
        """
        ids = segment_ids(segids)
        meta = self.meta
        transform = self._read_matrix()  # a bad matrix fails before anything is read
        if meta.is_multires() and not isinstance(remove_duplicate_vertices, bool):
            lod, concat = (
                remove_duplicate_vertices,
                fuse,
            )  # cloud-volume's multi-resolution get(segids, lod, concat)
        with self._progress(len(ids), "Downloading meshes", progress) as bar:
            if meta.is_multires():
                return MultiLodMeshes(meta).get(
                    ids, lod, concat=concat, allow_missing=allow_missing, bar=bar, transform=transform
                )
            meshes = LegacyMeshes(meta).get(ids, bar=bar)
        if not fuse:
            return {s: transformed(m, transform) for s, m in meshes.items()}
        mesh = transformed(Mesh.concatenate(*(meshes[s] for s in sorted(meshes))), transform)
        mesh.segid = ids[0] if len(ids) == 1 else None
        if not remove_duplicate_vertices:
            return mesh
        if chunk_size is None:
            return mesh.consolidate()
        resolution, offset = self._voxel_grid()
        return mesh.deduplicate_chunk_boundaries(
            np.asarray(chunk_size, np.float64) * resolution, offset=offset * resolution
        )

    def _voxel_grid(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The resolution and voxel offset of the scale the meshes were made from, as cloud-volume
        finds it: the mesh info's ``mip``, else a ``mesh_mip_N`` directory name, else ``vol.mip``."""
        mip = self.meta.mip
        if mip is None:
            mip = self._mip()
        scales = self._layer_info().get("scales", [])
        if not 0 <= mip < len(scales):
            raise ScaleUnavailableError(
                f"the meshes were made at mip {mip!r}, which this layer does not have ({len(scales)} mips)"
            )
        scale = scales[mip]
        return np.asarray(scale["resolution"], np.float64), np.asarray(
            scale.get("voxel_offset", (0, 0, 0)), np.float64
        )

    def save(
        self,
        segids: Any,
        filepath: str | os.PathLike[str] | Any = None,
        file_format: str = "obj",
        *,
        lod: int = 0,
    ) -> str | None:
        """Write segments' mesh (merged into one) as OBJ, PLY or a legacy fragment.

        The default file is ``./<segid>.<format>`` (``<first>_<last>.<format>`` for
        several ids), as cloud-volume names it; ``filepath`` may be a file, a
        directory or a writable file object. Returns the path written.
        """
        if file_format not in _FORMATS:
            raise ValueError(f"file_format must be one of {', '.join(_FORMATS)}; got {file_format!r}")
        ids = segment_ids(segids)
        if self.meta.is_multires():
            found = MultiLodMeshes(self.meta).get(ids, lod, transform=self._read_matrix())
            mesh = Mesh.concatenate(*(found[s] for s in ids), segid=ids[0] if len(ids) == 1 else None)  # type: ignore[arg-type]
        else:
            fused = self.get(ids)
            assert isinstance(fused, Mesh)
            mesh = fused
        data = {"obj": mesh.to_obj, "ply": mesh.to_ply, "precomputed": mesh.to_precomputed}[file_format]()
        if filepath is not None and hasattr(filepath, "write"):
            filepath.write(data)
            return None
        name = f"{ids[0]}.{file_format}" if len(ids) == 1 else f"{ids[0]}_{ids[-1]}.{file_format}"
        path = name if filepath is None else os.fspath(filepath)
        if os.path.isdir(path):
            path = os.path.join(path, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # --- writing --------------------------------------------------------------

    def put(
        self,
        meshes: Mesh | Iterable[Mesh] | dict[int, Mesh | Sequence[Mesh]],
        batch_size: int = 200,
        compress: Any = _DEFAULT,
        compression_level: int | None = None,
        cdn_cache: Any = None,
        skip_delete: bool = False,
        *,
        chunk_shape: Sequence[float] | None = None,
        lod_scales: Sequence[float] | None = None,
    ) -> None:
        """Store meshes, replacing what their segments had (cloud-volume's signature, plus options).

        ``meshes`` is a ``Mesh`` with its ``segid``, several, or ``{segid: mesh}``; they
        are written ``batch_size`` segments at a time. Legacy fragments are compressed
        as ``compress`` says (default: the volume's ``compress``), gzip at
        ``compression_level``; ``cdn_cache`` sets their Cache-Control (default: the
        volume's); ``skip_delete`` leaves an older mesh's extra fragments in place.
        For a multi-resolution layer a value may be a list of levels of detail,
        finest first; ``chunk_shape`` (the finest octree node, in the info's stored
        units) defaults to one node at the coarsest level.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive number of segments, got {batch_size!r}")
        by_segment = _by_segment(meshes)
        meta = self.meta
        header = self._cache_control(cdn_cache)
        batches = [list(by_segment)[i : i + batch_size] for i in range(0, len(by_segment), batch_size)]
        if meta.is_multires() and meta.is_sharded:
            batches = [list(by_segment)]  # each shard is rewritten once, whatever the batch size
        if meta.is_multires():
            with self._progress(len(by_segment), "Encoding meshes", None) as bar:
                for batch in batches:
                    MultiLodMeshes(meta).put(
                        {s: by_segment[s] for s in batch},
                        chunk_shape=chunk_shape,
                        lod_scales=lod_scales,
                        cache_control=header,
                        bar=bar,
                    )
            return
        if any(len(levels) != 1 for levels in by_segment.values()):
            raise ValueError(
                "legacy meshes have one level of detail; to store several, make the mesh info "
                "multi-resolution: vol.mesh.meta.to_multi_resolution(); vol.mesh.meta.commit_info()"
            )
        if meta.is_sharded:
            raise FeatureUnavailableError(
                "legacy meshes cannot be sharded (meshes.md); make them multi-resolution"
            )
        method = self._compress() if compress is _DEFAULT else compress
        # get() maps stored vertices by the info's transform: store them through its inverse.
        inverse = inverse_transform(meta.info.get("transform"), meta.describe("info"))
        for batch in batches:
            flat = []
            for segid in batch:
                mesh = by_segment[segid][0].clone()
                mesh.segid = segid
                if inverse is not None:
                    mesh.vertices = apply_transform(mesh.vertices, inverse)
                flat.append(mesh)
            LegacyMeshes(meta).put(
                flat, compress=method, level=compression_level, cache_control=header, skip_delete=skip_delete
            )

    def delete(self, segids: Any) -> None:
        """Remove segments' meshes (manifests first, then their fragments)."""
        ids = segment_ids(segids)
        meta = self.meta
        if meta.is_multires():
            MultiLodMeshes(meta).delete(ids)
        else:
            LegacyMeshes(meta).delete(ids)

    def __repr__(self) -> str:
        store = self._store()
        return f"<MeshSource of {store.url if store is not None else 'a volume service'}>"


def _same(kept: Any, given: Any) -> bool:
    try:
        return bool(kept == given)
    except ValueError:  # an array put in the info by hand: compared element by element
        return False


def _as_mesh(value: Any) -> Mesh:
    """A ``Mesh`` from ours or any mesh-like object (cloud-volume's, zmesh's: vertices and faces)."""
    if isinstance(value, Mesh):
        return value
    if hasattr(value, "vertices") and hasattr(value, "faces"):
        normals = getattr(value, "normals", None)
        normals = None if normals is None or not np.size(normals) else normals
        return Mesh(value.vertices, value.faces, normals, segid=getattr(value, "segid", None))
    raise TypeError(f"expected a Mesh (or an object with vertices and faces), got {type(value).__name__}")


def _is_mesh_like(value: Any) -> bool:
    return isinstance(value, Mesh) or (hasattr(value, "vertices") and hasattr(value, "faces"))


def _by_segment(meshes: Any) -> dict[int, list[Mesh]]:
    if _is_mesh_like(meshes):
        meshes = [meshes]
    if isinstance(meshes, dict):
        items = [(segment_ids(s)[0], v) for s, v in meshes.items()]
    else:
        items = []
        for given in meshes:
            mesh = _as_mesh(given)
            if mesh.segid is None:
                raise ValueError(
                    "a mesh to store needs its segment id: set mesh.segid, or pass {segid: mesh}"
                )
            items.append((int(mesh.segid), mesh))
    out: dict[int, list[Mesh]] = {}
    for segid, value in items:
        levels = [_as_mesh(value)] if _is_mesh_like(value) else [_as_mesh(m) for m in value]
        if not levels:
            raise TypeError(f"segment {segid}: expected a Mesh or a list of Meshes (levels of detail)")
        out[segid] = levels
    return out
