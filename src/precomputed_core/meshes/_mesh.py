"""``Mesh``: vertices, triangles and normals of one object, with cloud-volume's interface.

Vertices are x, y, z in nanometres (float32, ``(N, 3)``), faces are 0-based
vertex indices (uint32, ``(M, 3)``) and normals are per vertex (float32,
``(N, 3)``, or ``(0, 3)`` when there are none). Every operation returns a new
mesh. The byte layouts live in ``_mesh_files`` and ``_ply``.
"""

from __future__ import annotations

import copy
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from ..geometry import Bbox
from ._mesh_files import decode_obj, decode_precomputed, encode_obj, encode_precomputed
from ._mesh_ops import (
    as_bbox,
    chunk_boundary_mask,
    coerce_faces,
    coerce_points,
    crop_arrays,
    merge_doubled_vertices,
    unique_faces,
    unique_rows,
)
from ._ply import decode_ply, encode_ply
from ._transform import apply_transform, transform_normals

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt
    import trimesh as _trimesh  # aliased: the method Mesh.trimesh shadows the name in the class
    from typing_extensions import Self

__all__ = ["Mesh"]


class Mesh:
    """A triangle mesh: ``vertices`` (nm), ``faces`` and optional per-vertex ``normals``.

    The arrays are copied and coerced: flat arrays become ``(-1, 3)``, faces
    become uint32. A bad shape, a negative or fractional face index, or one
    naming a missing vertex raises ``ValueError``.

    Examples
    --------
    >>> mesh = Mesh([0, 0, 0, 1, 0, 0, 0, 1, 0], [0, 1, 2], segid=7)
    >>> mesh
    Mesh(vertices<3>, faces<1>, normals<0>, segid=7, encoding_type=<None>)
    >>> Mesh.from_precomputed(mesh.to_precomputed()) == mesh
    True
    """

    def __init__(
        self,
        vertices: npt.ArrayLike,
        faces: npt.ArrayLike,
        normals: npt.ArrayLike | None = None,
        segid: int | None = None,
        encoding_type: Any = None,
        encoding_options: Any = None,
    ) -> None:
        self.vertices = coerce_points(vertices, "vertices")
        self.faces = coerce_faces(faces, self.vertices.shape[0])
        self.normals = coerce_points([] if normals is None else normals, "normals")
        if self.normals.size and self.normals.shape[0] != self.vertices.shape[0]:
            raise ValueError(
                f"Mesh normals must be one per vertex: {self.normals.shape[0]} normals "
                f"for {self.vertices.shape[0]} vertices"
            )
        self.segid = segid
        self.encoding_type = encoding_type
        self.encoding_options = encoding_options

    # --- the basics ----------------------------------------------------------------

    def __len__(self) -> int:
        """The number of vertices."""
        return int(self.vertices.shape[0])

    def __eq__(self, other: object) -> bool:
        """Exact equality of vertices, faces and normals (a missing normal array equals an empty one)."""
        if not all(hasattr(other, name) for name in ("vertices", "faces", "normals")):
            return NotImplemented
        theirs = [getattr(other, name) for name in ("vertices", "faces", "normals")]
        their_normals = np.zeros((0, 3)) if theirs[2] is None else np.asarray(theirs[2])
        return (
            np.array_equal(self.vertices, np.asarray(theirs[0]))
            and np.array_equal(self.faces, np.asarray(theirs[1]))
            and (self.normals.size == 0) == (their_normals.size == 0)
            and (self.normals.size == 0 or np.array_equal(self.normals, their_normals))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays; as cloud-volume's Mesh

    def __sizeof__(self) -> int:
        arrays = self.vertices.nbytes + self.faces.nbytes + self.normals.nbytes
        attrs = (self.segid, self.encoding_type, self.encoding_options)
        return arrays + sum(sys.getsizeof(x) for x in attrs)

    def __repr__(self) -> str:
        return (
            f"Mesh(vertices<{self.vertices.shape[0]}>, faces<{self.faces.shape[0]}>, "
            f"normals<{self.normals.shape[0]}>, segid={self.segid}, encoding_type=<{self.encoding_type}>)"
        )

    def empty(self) -> bool:
        """Whether the mesh has no vertices or no faces."""
        return self.vertices.size == 0 or self.faces.size == 0

    def clone(self) -> Mesh:
        """A deep copy."""
        return self._derive(self.vertices, self.faces, self.normals)

    def edges(self) -> Iterator[tuple[int, int]]:
        """Yield each face's three edges as ``(low, high)`` index pairs; shared edges repeat."""
        for a, b, c in self.faces.tolist():
            yield (a, b) if a < b else (b, a)
            yield (b, c) if b < c else (c, b)
            yield (a, c) if a < c else (c, a)

    def triangles(self) -> npt.NDArray[np.float32]:
        """The faces as coordinates: an ``(M, 3, 3)`` array of corner x, y, z in nm."""
        return self.vertices[self.faces]

    def bounding_box(self) -> Bbox:
        """The tightest float64 box around the vertices, in nm (``maxpt`` is the largest vertex)."""
        if not len(self):
            return Bbox((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), dtype=np.float64, unit="nm")
        return Bbox(self.vertices.min(axis=0), self.vertices.max(axis=0), dtype=np.float64, unit="nm")

    def _derive(self, vertices: npt.ArrayLike, faces: npt.ArrayLike, normals: npt.ArrayLike | None) -> Mesh:
        """A new mesh with this one's segid and (copied) encoding."""
        return Mesh(
            vertices,
            faces,
            normals,
            segid=self.segid,
            encoding_type=copy.deepcopy(self.encoding_type),
            encoding_options=copy.deepcopy(self.encoding_options),
        )

    def _normals_or_none(self) -> npt.NDArray[np.float32] | None:
        return self.normals if self.normals.size else None

    # --- combining and cleaning ------------------------------------------------------

    @classmethod
    def concatenate(cls, *meshes: Mesh, segid: int | None = None) -> Mesh:
        """Join meshes into one, renumbering faces; normals survive only if every mesh has them.

        ``encoding_type`` is the shared one, or a list of the distinct ones.
        """
        if not meshes:
            return cls([], [], segid=segid)
        starts = np.cumsum([0] + [len(mesh) for mesh in meshes[:-1]])
        faces = [mesh.faces.astype(np.int64) + start for mesh, start in zip(meshes, starts)]
        normals = None
        if all(mesh.normals.size for mesh in meshes):
            normals = np.concatenate([mesh.normals for mesh in meshes])
        kinds = list(dict.fromkeys(mesh.encoding_type for mesh in meshes))
        return cls(
            np.concatenate([mesh.vertices for mesh in meshes]),
            np.concatenate(faces),
            normals,
            segid=segid,
            encoding_type=kinds[0] if len(kinds) == 1 else kinds,
        )

    def consolidate(self) -> Mesh:
        """Merge identical vertices and drop faces that then repeat exactly; return a new mesh.

        As in cloud-volume the vertices come back sorted (x, then y, then z),
        faces sorted, and a mesh with no faces comes back empty.
        """
        if self.empty():
            return self._derive([], [], None)
        vertices, first, inverse = unique_rows(self.vertices)
        faces = unique_faces(inverse[self.faces].astype(np.uint32))
        normals = self.normals[first] if self.normals.size else None
        return self._derive(vertices, faces, normals)

    def deduplicate_vertices(self, is_chunk_aligned: npt.ArrayLike) -> Mesh:
        """Merge each vertex that occurs exactly twice and is flagged in ``is_chunk_aligned``.

        Vertices used by no face are dropped and the rest come back sorted, as in
        cloud-volume. ``is_chunk_aligned`` is a boolean per vertex.
        """
        vertices, faces, keep = merge_doubled_vertices(self.vertices, self.faces, is_chunk_aligned)
        return self._derive(vertices, faces, self.normals[keep] if self.normals.size else None)

    def deduplicate_chunk_boundaries(
        self,
        chunk_size: npt.ArrayLike,
        is_draco: bool = False,
        draco_grid_size: float | None = None,
        offset: npt.ArrayLike = (0, 0, 0),
    ) -> Mesh:
        """Merge the doubled vertices that two chunks' meshes share along a chunk face.

        A vertex is on a boundary if one coordinate minus ``offset`` (nm) is a
        multiple of ``chunk_size`` (nm); for Draco meshes, whose vertices are
        snapped to a grid, within half of ``draco_grid_size`` of one.

        Raises
        ------
        ValueError
            ``chunk_size`` is not positive, or ``is_draco`` without a ``draco_grid_size``.
        """
        if is_draco and draco_grid_size is None:
            raise ValueError("deduplicating Draco meshes needs draco_grid_size")
        mask = chunk_boundary_mask(
            self.vertices, chunk_size, offset=offset, draco_grid_size=draco_grid_size if is_draco else None
        )
        return self.deduplicate_vertices(mask)

    def crop(self, bbox: Any) -> Mesh:
        """Keep the vertices inside ``bbox`` (nm, both corners inclusive) and the faces they close.

        ``bbox`` is a ``Bbox``, a list ``[x0, y0, z0, x1, y1, z1]`` or anything
        ``Bbox.create`` accepts. Vertices inside stay even if no face uses them,
        as in cloud-volume.
        """
        if self.empty():
            return self._derive([], [], None)
        keep, faces = crop_arrays(self.vertices, self.faces, as_bbox(bbox))
        return self._derive(self.vertices[keep], faces, self.normals[keep] if self.normals.size else None)

    def apply_transform(self, matrix: npt.ArrayLike) -> Mesh:
        """A new mesh with the vertices mapped through an affine ``matrix`` and normals turned with them.

        ``matrix`` is 3x4, 4x4, 3x3, or an info's 12-number ``transform``; see
        ``apply_transform`` for the vertices and ``transform_normals`` for normals.
        """
        normals = transform_normals(self.normals, matrix) if self.normals.size else None
        return self._derive(apply_transform(self.vertices, matrix), self.faces, normals)

    # --- file formats -------------------------------------------------------------

    def to_precomputed(self) -> bytes:
        """The legacy Neuroglancer fragment (normals are not stored)."""
        return encode_precomputed(self.vertices, self.faces)

    @classmethod
    def from_precomputed(
        cls, binary: bytes | bytearray | memoryview, segid: int | None = None, *, where: str | None = None
    ) -> Self:
        """Decode a legacy fragment; ``where`` names it (e.g. its path) in errors.

        Raises
        ------
        DecodingError
            The bytes are truncated, not a whole number of triangles, or a face
            names a vertex that is not there.
        """
        name = where or (f"mesh fragment of segment {segid}" if segid is not None else "mesh fragment")
        vertices, faces = decode_precomputed(binary, where=name)
        return cls(vertices, faces, None, segid=segid, encoding_type="precomputed")

    @classmethod
    def from_draco(
        cls, binary: bytes | bytearray | memoryview, segid: int | None = None, *, where: str | None = None
    ) -> Self:
        """Decode a Draco mesh (positions as Draco dequantizes them), as cloud-volume's ``from_draco``.

        Raises
        ------
        DecodingError
            The stream is damaged or a triangle names a vertex that is not there.
        """
        from ._draco import decode_draco

        name = where or (f"Draco mesh of segment {segid}" if segid is not None else "Draco mesh")
        points, faces, options = decode_draco(bytes(binary), where=name)
        return cls(points, faces, None, segid=segid, encoding_type="draco", encoding_options=options)

    def to_obj(self) -> bytes:
        """Wavefront OBJ text as UTF-8 bytes, with ``vn`` lines when there are normals."""
        return encode_obj(self.vertices, self.faces, self._normals_or_none())

    @classmethod
    def from_obj(cls, text: str | bytes, segid: int | None = None, *, where: str = "OBJ mesh") -> Self:
        """Decode an OBJ file (str or bytes); raise ``DecodingError`` if it is malformed."""
        vertices, faces, normals = decode_obj(text, where=where)
        return cls(vertices, faces, normals, segid=segid)

    def to_ply(self) -> bytes:
        """Binary little-endian PLY, as cloud-volume writes it (plus normals if present)."""
        return encode_ply(self.vertices, self.faces, self._normals_or_none())

    @classmethod
    def from_ply(
        cls, binary: bytes | bytearray | memoryview, segid: int | None = None, *, where: str = "PLY mesh"
    ) -> Self:
        """Decode a PLY file (ASCII or binary); raise ``DecodingError`` if it is malformed."""
        vertices, faces, normals = decode_ply(binary, where=where)
        return cls(vertices, faces, normals, segid=segid)

    def save(self, filename: str | os.PathLike[str]) -> None:
        """Write ``filename`` as PLY if it ends in ``.ply``, otherwise as OBJ (as cloud-volume)."""
        path = os.fspath(filename)
        data = self.to_ply() if path.lower().endswith(".ply") else self.to_obj()
        with open(path, "wb") as f:
            f.write(data)

    @classmethod
    def load(cls, filename: str | os.PathLike[str]) -> Self:
        """Read ``filename`` as PLY if it ends in ``.ply``, otherwise as OBJ."""
        path = os.fspath(filename)
        with open(path, "rb") as f:
            data = f.read()
        if path.lower().endswith(".ply"):
            return cls.from_ply(data, where=path)
        return cls.from_obj(data, where=path)

    # --- trimesh ------------------------------------------------------------------

    def trimesh(self, process: bool = False, validate: bool = False) -> _trimesh.Trimesh:
        """This mesh as a ``trimesh.Trimesh`` (needs the optional ``trimesh`` package)."""
        import trimesh

        return trimesh.Trimesh(
            vertices=self.vertices,
            faces=self.faces,
            vertex_normals=self._normals_or_none(),
            process=process,
            validate=validate,
        )

    @classmethod
    def from_trimesh(cls, tmesh: _trimesh.Trimesh, segid: int | None = None) -> Self:
        """A mesh from a ``trimesh.Trimesh``, with its vertex normals (computed if need be)."""
        return cls(tmesh.vertices, tmesh.faces, tmesh.vertex_normals, segid=segid)
