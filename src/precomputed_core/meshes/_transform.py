"""Affine transforms of mesh vertices and normals (a Precomputed info's ``transform``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InfoValidationError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["affine_matrix", "apply_transform", "homogeneous_matrix", "inverse_transform", "transform_normals"]


def affine_matrix(matrix: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``matrix`` as a 3x4 float64 affine ``[A | t]``.

    Accepts a 3x4 or 4x4 matrix, a 3x3 linear map, or the 12 numbers of a
    Precomputed info's ``transform`` (a 3x4 matrix in row-major order).

    Raises
    ------
    ValueError
        The shape is none of those, a value is not finite, or the last row of
        a 4x4 matrix is not ``0 0 0 1`` (a projective map, which would bend
        straight edges).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape == (12,):
        m = m.reshape(3, 4)
    elif m.shape == (3, 3):
        m = np.hstack([m, np.zeros((3, 1))])
    elif m.shape == (4, 4):
        if not np.array_equal(m[3], [0.0, 0.0, 0.0, 1.0]):
            raise ValueError(f"a 4x4 transform must end in the row [0, 0, 0, 1]; got {m[3].tolist()}")
        m = m[:3]
    elif m.shape != (3, 4):
        raise ValueError(f"a transform must be 3x4, 4x4, 3x3 or 12 numbers; got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"a transform must be finite; got {m.tolist()}")
    return m


def homogeneous_matrix(transform: Any, where: str) -> npt.NDArray[np.float64]:
    """An info's ``transform`` (None: the identity) as the 4x4 matrix cloud-volume gives as
    ``vol.mesh.transform``; ``where`` names the info in the error.

    Examples
    --------
    >>> homogeneous_matrix([2, 0, 0, 1, 0, 2, 0, 0, 0, 0, 2, 0], "info")[0].tolist()
    [2.0, 0.0, 0.0, 1.0]
    """
    if transform is None:
        return np.eye(4)
    try:
        return np.vstack([affine_matrix(transform), [0.0, 0.0, 0.0, 1.0]])
    except ValueError as err:
        raise InfoValidationError(f"{where}: transform: {err}") from err


def apply_transform(vertices: npt.ArrayLike, matrix: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Map ``(N, 3)`` x, y, z points through an affine transform; return new float32 points.

    The product is taken in float64, so a translation by millions of
    nanometres loses no more than the final rounding to float32.

    Examples
    --------
    >>> apply_transform([[1, 2, 3]], [2, 0, 0, 10, 0, 2, 0, 20, 0, 0, 2, 30]).tolist()
    [[12.0, 24.0, 36.0]]
    """
    m = affine_matrix(matrix)
    points = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    moved: npt.NDArray[np.float64] = points @ m[:, :3].T + m[:, 3]
    return moved.astype(np.float32)


def transform_normals(normals: npt.ArrayLike, matrix: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Map unit normals through the linear part of ``matrix`` and renormalise them.

    Normals go through the inverse transpose of the linear part, which keeps them
    perpendicular to the surface under non-uniform scaling and shear (for a
    rotation it is the rotation itself). Zero normals stay zero.

    Raises
    ------
    ValueError
        The linear part is singular, so the surface collapses and has no normals.
    """
    linear = affine_matrix(matrix)[:, :3]
    if np.linalg.matrix_rank(linear) < 3:
        raise ValueError(f"cannot transform normals by the singular linear map {linear.tolist()}")
    vectors = np.asarray(normals, dtype=np.float64).reshape(-1, 3)
    # Row vectors: n' = n @ inv(A) is (inv(A)^T n)^T.
    moved: npt.NDArray[np.float64] = vectors @ np.linalg.inv(linear)
    lengths = np.linalg.norm(moved, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(moved, lengths, out=np.zeros_like(moved), where=lengths > 0)
    return unit.astype(np.float32)


def inverse_transform(transform: Any, where: str) -> npt.NDArray[np.float64] | None:
    """The 3x4 inverse of an info's ``transform`` (None for none), to store what reads give back."""
    if transform is None:
        return None
    try:
        forward = np.vstack([affine_matrix(transform), [0.0, 0.0, 0.0, 1.0]])
        return np.linalg.inv(forward)[:3]
    except (ValueError, np.linalg.LinAlgError) as err:
        raise InfoValidationError(f"{where}: the transform {transform!r} cannot be inverted ({err})") from err
