"""``Skeleton``: a stick figure of one object, with cloud-volume's (osteoid's) interface.

Vertices are x, y, z (float32, ``(N, 3)``) in ``space`` (``'voxel'`` or
``'physical'``); ``transform`` (3x4) maps voxel to physical (nm) coordinates.
Edges are vertex index pairs (uint32, ``(E, 2)``). Per-vertex attributes are
declared in ``extra_attributes`` (the info's ``vertex_attributes`` entries) and
stored as attributes of the object named by their id (``skel.radius``,
``skel.vertex_types``, ``skel.my_attr``), as osteoid does, so ported code runs
unchanged. Graph operations live in ``_skeleton_ops``, the formats in
``_skeleton_files`` and ``_skeleton_swc``, files on disk in ``_skeleton_disk``,
and comparison by vertex position in ``_skeleton_matching``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import SkeletonAttributeMixingError, SkeletonEncodeError
from ._skeleton_attributes import SkeletonAttributes
from ._skeleton_disk import SkeletonDisk
from ._skeleton_files import (
    DEFAULT_VERTEX_ATTRIBUTES,
    check_attribute_specs,
    decode_precomputed,
    encode_precomputed,
)
from ._skeleton_matching import SkeletonMatching
from ._skeleton_ops import SkeletonGraphOps
from ._skeleton_space import SkeletonSpace
from ._skeleton_swc import decode_swc, encode_swc

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import numpy.typing as npt

__all__ = ["Skeleton"]


class Skeleton(SkeletonAttributes, SkeletonGraphOps, SkeletonSpace, SkeletonMatching, SkeletonDisk):
    """A skeleton: vertices, edges, per-vertex attributes, an id and a voxel-to-nm transform.

    Arrays already of the right dtype are used as they are, not copied (as in
    cloud-volume). With ``default_attributes`` (the default) the skeleton always
    has ``radius`` (float32, -1 when unknown) and ``vertex_types`` (uint8, SWC
    types, 0 = undefined), and ``extra_attributes`` defaults to declaring both.
    A declared attribute without data is filled with -1 (radius) or zeros.

    Raises
    ------
    ValueError
        A shape is wrong, an edge names a missing vertex, or an attribute id
        would hide a member of ``Skeleton`` (``InfoValidationError``).

    Examples
    --------
    >>> skel = Skeleton([[0, 0, 0], [3, 4, 0], [3, 4, 12]], [[0, 1], [1, 2]], segid=7)
    >>> skel.cable_length()
    17.0
    >>> skel.radius.tolist(), skel.vertex_types.tolist()
    ([-1.0, -1.0, -1.0], [0, 0, 0])
    >>> Skeleton.from_precomputed(skel.to_precomputed(), segid=7) == skel
    True
    """

    def __init__(
        self,
        vertices: npt.ArrayLike | None = None,
        edges: npt.ArrayLike | None = None,
        radii: npt.ArrayLike | None = None,
        vertex_types: npt.ArrayLike | None = None,
        segid: int | None = None,
        transform: npt.ArrayLike | None = None,
        space: str = "voxel",
        extra_attributes: Sequence[dict[str, Any]] | None = None,
        default_attributes: bool = True,
    ) -> None:
        self.id = segid
        self.space = space
        self.transform = np.eye(3, 4) if transform is None else transform
        self.vertices = _as_vertices(vertices)
        n = self.vertices.shape[0]
        self.edges = _as_edges(edges, n)
        self.default_attributes = bool(default_attributes)
        if radii is not None:
            self.radius = _per_vertex(radii, np.float32, n, "radii")
        elif default_attributes:
            self.radius = np.full(n, -1, dtype=np.float32)
        if vertex_types is not None:
            self.vertex_types = _per_vertex(vertex_types, np.uint8, n, "vertex_types")
        elif default_attributes:
            self.vertex_types = np.zeros(n, dtype=np.uint8)
        if extra_attributes is None:
            extra_attributes = DEFAULT_VERTEX_ATTRIBUTES if default_attributes else ()
        self.extra_attributes = self._checked_specs(extra_attributes)
        self._materialize_extra_attributes()

    # --- the basics -------------------------------------------------------------

    def empty(self) -> bool:
        """Return True if the skeleton has no vertices."""
        return self.vertices.size == 0

    def clone(self) -> Skeleton:
        """Return a deep copy."""
        return self._assemble(
            self.vertices.copy(),
            self.edges.copy(),
            {name: np.array(getattr(self, name), copy=True) for name in self._attribute_names()},
        )

    def _assemble(
        self, vertices: npt.NDArray[Any], edges: npt.NDArray[Any], attributes: dict[str, npt.NDArray[Any]]
    ) -> Skeleton:
        """A skeleton with this one's id, space, transform and attribute specs, and the given arrays."""
        skel = type(self).__new__(type(self))
        skel.id, skel.space, skel.transform = self.id, self.space, self.transform
        skel.default_attributes = self.default_attributes
        skel.vertices = np.asarray(vertices, dtype=np.float32).reshape(-1, 3)
        skel.edges = np.asarray(edges, dtype=np.uint32).reshape(-1, 2)
        skel.extra_attributes = [dict(s) for s in self.extra_attributes]
        for name, values in attributes.items():
            setattr(skel, name, values)
        return skel

    def _subset(self, vertex_idx: npt.ArrayLike, edges: npt.ArrayLike) -> Skeleton:
        """The skeleton of the vertices ``vertex_idx`` (with their attributes) and ``edges`` among them."""
        idx = np.asarray(vertex_idx, dtype=np.int64)
        attrs = {name: np.asarray(getattr(self, name))[idx] for name in self._attribute_names()}
        return self._assemble(self.vertices[idx], np.asarray(edges), attrs)

    def __eq__(self, other: object) -> bool:
        """Equal ids, vertices, edges and vertex attributes (as osteoid, transform and space are ignored)."""
        if not isinstance(other, Skeleton):
            return NotImplemented
        if self.id != other.id or self.extra_attributes != other.extra_attributes:
            return False
        names = self._attribute_names()
        if names != other._attribute_names():
            return False
        pairs = [(self.vertices, other.vertices), (self.edges, other.edges)]
        pairs += [(np.asarray(getattr(self, a)), np.asarray(getattr(other, a))) for a in names]
        return all(x.shape == y.shape and np.array_equal(x, y) for x, y in pairs)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        attrs = ", ".join(
            f"{name}=({np.shape(getattr(self, name))[0]}, {np.asarray(getattr(self, name)).dtype})"
            for name in self._attribute_names()
        )
        return (
            f"Skeleton(segid={self.id}, vertices=(shape={self.vertices.shape[0]}, {self.vertices.dtype}), "
            f"edges=(shape={self.edges.shape[0]}, {self.edges.dtype}), {attrs}, "
            f"space={self.space!r} transform={self.transform.tolist()})"
        )

    # --- building from parts ----------------------------------------------------

    @classmethod
    def from_path(cls, vertices: npt.ArrayLike) -> Skeleton:
        """Return a skeleton that joins ``vertices`` (x, y, z rows) in order by edges."""
        verts = _as_vertices(vertices)
        idx = np.arange(verts.shape[0] - 1)
        return cls(verts, np.stack([idx, idx + 1], axis=1))

    @classmethod
    def simple_merge(cls, skeletons: Iterable[Skeleton]) -> Skeleton:
        """Concatenate skeletons into one without joining them; edges are offset to match.

        Empty skeletons are skipped. The result has the first skeleton's id,
        transform, space and attributes; the others are moved into its space.

        Raises
        ------
        SkeletonAttributeMixingError
            The skeletons declare different vertex attributes (a ``ValueError``).
        """
        skels = [s for s in skeletons if not s.empty()]
        if not skels:
            return cls()
        first = skels[0]
        for skel in skels[1:]:
            # Compared as declared, as osteoid does: data_type np.uint8 is not "uint8" here.
            if skel.extra_attributes != first.extra_attributes:
                raise SkeletonAttributeMixingError(
                    "skeletons with different vertex attributes cannot be merged: "
                    f"{first.extra_attributes} and {skel.extra_attributes}; declare the same ones "
                    "on each first (add_extra_attributes)"
                )
        skels = [first, *(s.in_space(first.space) for s in skels[1:])]
        offsets = np.cumsum([0] + [s.vertices.shape[0] for s in skels[:-1]])
        edges = np.concatenate([s.edges.astype(np.int64) + off for s, off in zip(skels, offsets)])
        names = [a for a in first._attribute_names() if all(a in s.__dict__ for s in skels)]
        attrs = {a: np.concatenate([np.asarray(getattr(s, a)) for s in skels]) for a in names}
        return first._assemble(np.concatenate([s.vertices for s in skels]), edges, attrs)

    def merge(self, skel: Skeleton) -> Skeleton:
        """Return this skeleton and ``skel`` as one, consolidated (shared vertices joined)."""
        return Skeleton.simple_merge((self, skel)).consolidate()

    # --- formats ----------------------------------------------------------------

    def _where(self) -> str:
        return "skeleton" if self.id is None else f"skeleton {self.id}"

    def to_precomputed(self, *, vertex_attributes: Sequence[dict[str, Any]] | None = None) -> bytes:
        """Return the Precomputed binary encoding.

        The attributes written are ``extra_attributes`` in order, or
        ``vertex_attributes`` (an info's list) when given, each cast to its data type.

        Raises
        ------
        EncodingError
            An edge names a missing vertex or an attribute has no data or the wrong length.
        UnsupportedDataTypeError
            An attribute's data type is not one the spec allows.
        """
        where = self._where()
        specs = check_attribute_specs(
            self.extra_attributes if vertex_attributes is None else vertex_attributes
        )
        pairs = []
        for spec in specs:
            if spec["id"] not in self.__dict__:
                raise SkeletonEncodeError(f"{where}: vertex attribute {spec['id']!r} has no data")
            pairs.append((spec, np.asarray(getattr(self, spec["id"]))))
        return encode_precomputed(self.vertices, self.edges, pairs, where=where)

    @classmethod
    def from_precomputed(
        cls,
        data: bytes | bytearray | memoryview,
        segid: int | None = None,
        vertex_attributes: Sequence[dict[str, Any]] | None = None,
        where: str | None = None,
    ) -> Skeleton:
        """Decode the Precomputed binary encoding.

        ``vertex_attributes`` is the layer info's list; ``None`` reads
        cloud-volume's default (radius float32, then vertex_types uint8, either
        of which old files may lack). ``where`` names the object in errors.

        Raises
        ------
        DecodingError
            The data is truncated, an edge names a missing vertex, or the bytes
            after the edges do not match ``vertex_attributes``.
        """
        name = where or ("skeleton" if segid is None else f"skeleton {segid}")
        vertices, edges, layout, arrays = decode_precomputed(data, vertex_attributes, where=name)
        specs = DEFAULT_VERTEX_ATTRIBUTES if vertex_attributes is None else layout
        skel = cls(vertices, edges, segid=segid, extra_attributes=specs)
        for attr, values in arrays.items():
            setattr(skel, attr, values)
        return skel

    def to_swc(self, contributors: str = "", soma_threshold: float = float("inf")) -> str:
        """Return SWC text, one tree per connected component (see ``_skeleton_swc``).

        Each tree is rooted at its lowest vertex, or at its widest one when that
        radius is at least ``soma_threshold``. Vertices on no edge are written as
        one-row trees. Coordinates are written as they are (``space`` is not changed).
        """
        n = self.vertices.shape[0]
        radius = np.ravel(self.__dict__.get("radius", np.full(n, -1, dtype=np.float32)))
        types = np.ravel(self.__dict__.get("vertex_types", np.zeros(n, dtype=np.uint8)))
        scale = (float(self.transform[0, 0]), float(self.transform[1, 1]), float(self.transform[2, 2]))
        return encode_swc(
            self.vertices,
            self.edges,
            radius,
            types,
            scale=scale,
            contributors=contributors,
            soma_threshold=soma_threshold,
        )

    @classmethod
    def from_swc(cls, swcstr: str | bytes, *, where: str = "swc") -> Skeleton:
        """Parse SWC text; radii and vertex types come from its columns.

        Raises
        ------
        DecodingError
            A row is malformed or names a missing parent; the message starts with ``where``.
        """
        text = swcstr.decode("utf8") if isinstance(swcstr, bytes) else swcstr
        vertices, edges, radii, types = decode_swc(text, where=where)
        return cls(vertices, edges, radii, types)


def _as_vertices(vertices: npt.ArrayLike | None) -> npt.NDArray[np.float32]:
    arr = np.asarray([] if vertices is None else vertices, dtype=np.float32)
    if arr.size % 3 or (arr.ndim == 2 and arr.shape[1] != 3) or arr.ndim > 2:
        raise ValueError(f"vertices must be (N, 3) x, y, z rows, got shape {arr.shape}")
    return arr.reshape(-1, 3)


def _as_edges(edges: npt.ArrayLike | None, n: int) -> npt.NDArray[np.uint32]:
    arr = np.asarray([] if edges is None else edges)
    if arr.size % 2 or (arr.ndim == 2 and arr.shape[1] != 2) or arr.ndim > 2:
        raise ValueError(f"edges must be (E, 2) vertex index pairs, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iub" and not np.all(np.mod(arr, 1) == 0):
        raise ValueError(f"edges must be whole vertex indices, got {arr.dtype} values")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"edges must be vertex indices 0..{n - 1}, got values {arr.min()}..{arr.max()}")
    return arr.astype(np.uint32, copy=False).reshape(-1, 2)


def _per_vertex(values: npt.ArrayLike, dtype: type[np.generic], n: int, name: str) -> npt.NDArray[Any]:
    arr = np.asarray(values, dtype=dtype).reshape(-1)
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} values for {n} vertices")
    return arr
