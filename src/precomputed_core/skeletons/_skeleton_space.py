"""A skeleton's coordinate frame: its voxel-to-physical ``transform`` and ``space``.

``transform`` is a 3x4 affine (rows x, y, z; the last column a translation)
from voxel to physical (nm) coordinates, as in a skeleton info's 12-number
``transform``. ``space`` says which of the two ``vertices`` are in now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import GeometryError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._skeleton import Skeleton

__all__ = ["SkeletonSpace"]

_SPACES = ("voxel", "physical")


class SkeletonSpace:
    """Moving a skeleton between voxel and physical coordinates; ``Skeleton`` supplies the state."""

    vertices: npt.NDArray[np.float32]
    edges: npt.NDArray[np.uint32]
    space: str
    _transform: npt.NDArray[np.float32]

    if TYPE_CHECKING:

        def clone(self) -> Skeleton: ...

    @property
    def transform(self) -> npt.NDArray[np.float32]:
        """The 3x4 voxel-to-physical affine (float32)."""
        return self._transform

    @transform.setter
    def transform(self, value: npt.ArrayLike) -> None:
        self._transform = np.array(value, dtype=np.float32).reshape(3, 4)

    def _check_space(self) -> None:
        if self.space not in _SPACES:
            raise GeometryError(
                f"skeleton space is {self.space!r}; the transform only relates 'voxel' and 'physical' "
                "coordinates, so set space to one of them first"
            )

    def transform_vertices(
        self, vertices: npt.ArrayLike, transform: npt.ArrayLike
    ) -> npt.NDArray[np.float32]:
        """Return ``vertices`` (x, y, z rows) mapped through the 3x4 affine ``transform``."""
        verts = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        affine = np.asarray(transform, dtype=np.float64).reshape(3, 4)
        mapped: npt.NDArray[np.float32] = (verts @ affine[:, :3].T + affine[:, 3]).astype(np.float32)
        return mapped

    def apply_transform(self) -> None:
        """Map ``vertices`` through ``transform`` in place (``space`` is not changed)."""
        self.vertices = self.transform_vertices(self.vertices, self.transform)

    def apply_inverse_transform(self, transform: npt.ArrayLike | None = None) -> None:
        """Map ``vertices`` through the inverse of ``transform`` (default: this skeleton's) in place."""
        affine = np.asarray(self.transform if transform is None else transform, dtype=np.float64).reshape(
            3, 4
        )
        linear = np.linalg.inv(affine[:, :3])
        inverse = np.concatenate([linear, -(linear @ affine[:, 3])[:, None]], axis=1)
        self.vertices = self.transform_vertices(self.vertices, inverse)

    def physical_space(self, copy: bool = True) -> Skeleton:
        """Return the skeleton in physical coordinates (a copy unless ``copy=False``).

        Raises
        ------
        GeometryError
            ``space`` is neither ``'voxel'`` nor ``'physical'``.
        """
        return self._to_space("physical", copy)

    def voxel_space(self, copy: bool = True) -> Skeleton:
        """Return the skeleton in voxel coordinates (a copy unless ``copy=False``).

        Raises
        ------
        GeometryError
            ``space`` is neither ``'voxel'`` nor ``'physical'``.
        """
        return self._to_space("voxel", copy)

    def in_space(self, space: str) -> Skeleton:
        """Return this skeleton if it is in ``space`` already, else a copy moved there."""
        if space == self.space:
            return self  # type: ignore[return-value]
        if space not in _SPACES:
            raise GeometryError(f"cannot move a skeleton from space {self.space!r} to {space!r}")
        return self._to_space(space, True)

    def _to_space(self, space: str, copy: bool) -> Skeleton:
        self._check_space()
        skel: Skeleton = self.clone() if copy else self  # type: ignore[assignment]
        if skel.space != space:
            if space == "physical":
                skel.apply_transform()
            else:
                skel.apply_inverse_transform()
            skel.space = space
        return skel

    def cable_length(self) -> float:
        """Return the summed length of the edges in physical units (typically nm).

        Voxel-space vertices are mapped through ``transform`` first, without
        changing this skeleton.

        Raises
        ------
        GeometryError
            ``space`` is neither ``'voxel'`` nor ``'physical'``.
        """
        self._check_space()
        verts = np.asarray(self.vertices, dtype=np.float64)
        if self.space == "voxel":
            affine = self.transform.astype(np.float64)
            verts = verts @ affine[:, :3].T + affine[:, 3]
        delta = verts[self.edges[:, 1]] - verts[self.edges[:, 0]]
        return float(np.sum(np.sqrt(np.sum(delta * delta, axis=1))))
