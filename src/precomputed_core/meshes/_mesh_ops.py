"""Array algorithms behind ``Mesh``: input checks, vertex merging and cropping.

Each function takes and returns plain arrays (vertices x, y, z in nm as
float32, faces as uint32), so ``Mesh`` only wraps results. Merging and
cropping reproduce cloud-volume's results element for element (the same
``np.unique`` orderings, the same inclusive box test), since code ported from
it compares meshes with ``==``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..geometry import Bbox

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "as_bbox",
    "chunk_boundary_mask",
    "coerce_faces",
    "coerce_points",
    "crop_arrays",
    "merge_doubled_vertices",
    "unique_faces",
    "unique_rows",
]


def _sort_keys(rows: npt.NDArray[Any]) -> npt.NDArray[np.uint64] | None:
    """Each column as uint64 keys in the same order as its values (None for other dtypes)."""
    if rows.dtype == np.uint32:
        return rows.astype(np.uint64)
    if rows.dtype == np.float32:
        # IEEE floats order like their bits once negatives are flipped and positives get the sign bit.
        bits = np.ascontiguousarray(rows).view(np.uint32)
        return np.where(bits & np.uint32(0x80000000), ~bits, bits | np.uint32(0x80000000)).astype(np.uint64)
    return None


def unique_rows(
    rows: npt.NDArray[Any],
) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``np.unique(rows, axis=0, return_index=True, return_inverse=True)`` for (n, 3) rows, faster.

    The same sorted rows, first indexes and inverse. numpy sorts rows as records; here
    one integer sort orders them by their first two columns (or all three, packed, for
    small indexes), and only the rows that tie there are sorted again by the third.
    """
    keys = _sort_keys(rows) if rows.ndim == 2 and rows.shape[1] == 3 and len(rows) else None
    if keys is None:
        unique, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        return unique, first, inverse.reshape(-1)
    if rows.dtype == np.uint32 and int(rows.max()) < 2**21:  # face indexes: all three fit in 63 bits
        packed = (keys[:, 0] << np.uint64(42)) | (keys[:, 1] << np.uint64(21)) | keys[:, 2]
        order = np.argsort(packed, kind="stable")
    else:
        order = _order_by_three(keys)
    ranked = rows[order]
    fresh = np.empty(len(rows), dtype=bool)
    fresh[0] = True
    np.any(ranked[1:] != ranked[:-1], axis=1, out=fresh[1:])
    inverse = np.empty(len(rows), dtype=np.intp)
    inverse[order] = np.cumsum(fresh) - 1
    return ranked[fresh], order[fresh], inverse


def unique_faces(faces: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """``np.unique(faces, axis=0)``: each triangle once, sorted; packed into one integer when it fits."""
    if not len(faces) or int(faces.max()) >= 2**21:
        return unique_rows(faces)[0] if len(faces) else faces
    wide = faces.astype(np.uint64)
    # Sorting and dropping repeats beats np.unique here (numpy 2 hashes first, then sorts).
    packed = np.sort((wide[:, 0] << np.uint64(42)) | (wide[:, 1] << np.uint64(21)) | wide[:, 2])
    keep = np.empty(len(packed), dtype=bool)
    keep[0] = True
    np.not_equal(packed[1:], packed[:-1], out=keep[1:])
    packed = packed[keep]
    mask = np.uint64(2**21 - 1)
    out = np.stack([packed >> np.uint64(42), (packed >> np.uint64(21)) & mask, packed & mask], axis=1)
    return out.astype(np.uint32)


def _order_by_three(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """The stable order of rows of three uint32-valued keys, as ``np.lexsort`` gives it."""
    high = (keys[:, 0] << np.uint64(32)) | keys[:, 1]
    order = np.argsort(high)
    ranked = high[order]
    tied = ranked[1:] == ranked[:-1]
    if not tied.any():
        return order
    # Rows that share their first two keys (mostly exact repeats) are ordered by the third,
    # then by position, as a stable sort of all three keys would order them.
    group = np.cumsum(np.concatenate([[True], ~tied]))
    member = np.zeros(len(order), dtype=bool)
    member[1:] |= tied
    member[:-1] |= tied
    at = np.flatnonzero(member)
    rows = order[at]
    order[at] = rows[np.lexsort((rows, keys[rows, 2], group[at]))]
    return order


def coerce_points(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float32]:
    """Copy ``values`` into a new float32 ``(N, 3)`` array; a flat array of 3N numbers is reshaped."""
    try:
        points = np.array(values, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"Mesh {name} must be an (N, 3) array of numbers: {err}") from err
    if points.size == 0:
        return points.reshape(0, 3)
    if points.ndim == 1 and points.size % 3 == 0:
        points = points.reshape(-1, 3)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"Mesh {name} must be an (N, 3) array of x, y, z; got shape {points.shape}")
    return points


def coerce_faces(values: npt.ArrayLike, num_vertices: int) -> npt.NDArray[np.uint32]:
    """Check and copy triangle indices into a new uint32 ``(M, 3)`` array.

    The range is checked before the cast, so -1 cannot wrap round to 4294967295.
    """
    raw = np.asarray(values)
    if raw.size == 0:
        return np.zeros((0, 3), dtype=np.uint32)
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw) & (raw == np.floor(raw))):
            raise ValueError("Mesh faces must be whole-number vertex indices")
    elif raw.dtype.kind not in "iu":
        raise ValueError(f"Mesh faces must be integer vertex indices; got dtype {raw.dtype}")
    if raw.ndim == 1 and raw.size % 3 == 0:
        raw = raw.reshape(-1, 3)
    if raw.ndim != 2 or raw.shape[1] != 3:
        raise ValueError(f"Mesh faces must be an (M, 3) array of vertex indices; got shape {raw.shape}")
    low, high = raw.min(), raw.max()
    if low < 0 or high >= num_vertices:
        bad = low if low < 0 else high
        raise ValueError(f"Mesh face index {bad} is out of range for {num_vertices} vertices")
    return raw.astype(np.uint32)


def as_bbox(obj: Any) -> Bbox:
    """A ``Bbox`` from a box, a 6-number list ``[x0, y0, z0, x1, y1, z1]`` or ``Bbox.create`` input."""
    if isinstance(obj, Bbox):
        return obj
    if isinstance(obj, list | tuple | np.ndarray) and np.asarray(obj).shape == (6,):
        return Bbox.from_list(list(obj))
    return Bbox.create(obj)


def crop_arrays(
    vertices: npt.NDArray[np.float32], faces: npt.NDArray[np.uint32], box: Bbox
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which vertices lie in ``box`` (corners included), and the faces made only of those, renumbered."""
    low = np.asarray(box.minpt, dtype=np.float64)
    high = np.asarray(box.maxpt, dtype=np.float64)
    # "Not below and not above", as cloud-volume's Bbox.contains, so a NaN vertex counts as inside.
    inside = ~(np.any(vertices < low, axis=1) | np.any(vertices > high, axis=1))
    new_index = np.cumsum(inside) - 1
    kept = faces[np.all(inside[faces], axis=1)]
    return inside, new_index[kept]


def chunk_boundary_mask(
    vertices: npt.NDArray[np.float32],
    chunk_size: npt.ArrayLike,
    *,
    offset: npt.ArrayLike,
    draco_grid_size: float | None,
) -> npt.NDArray[np.bool_]:
    """Which vertices sit on a chunk face (any axis), after subtracting ``offset``.

    With ``draco_grid_size``, "on" means within half a grid step of a face
    (Draco snaps vertices to its grid, rounding half up), as cloud-volume's
    ``is_draco_chunk_aligned``.
    """
    size = np.asarray(chunk_size, dtype=np.float64)
    if size.size == 0 or np.any(size <= 0):
        raise ValueError(f"chunk_size must be positive; got {size.tolist()}")
    shifted = vertices.astype(np.float64) - np.asarray(offset, dtype=np.float64)
    behind = np.mod(shifted, size)
    if draco_grid_size is None:
        on_face: npt.NDArray[np.bool_] = np.any(behind == 0, axis=1)
        return on_face
    half = draco_grid_size / 2
    near_face: npt.NDArray[np.bool_] = np.any(behind < half, axis=1) | np.any(size - behind <= half, axis=1)
    return near_face


def merge_doubled_vertices(
    vertices: npt.NDArray[np.float32], faces: npt.NDArray[np.uint32], mask: npt.ArrayLike
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Merge the vertices that occur exactly twice and are flagged in ``mask``.

    Returns the new vertices (only those faces use, sorted), the renumbered
    faces, and for each new vertex the index of an old vertex it came from.
    """
    count = vertices.shape[0]
    flags = np.asarray(mask, dtype=bool)
    if flags.ndim and flags.shape != (count,):
        raise ValueError(f"is_chunk_aligned needs one flag per vertex ({count}); got shape {flags.shape}")
    if faces.size == 0:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint32), np.zeros(0, np.int64)
    _, inverse, counts = np.unique(vertices, return_inverse=True, return_counts=True, axis=0)
    merge = (counts[inverse.reshape(-1)] == 2) & flags
    # A fourth coordinate keeps every vertex distinct except the merged ones, which share -1;
    # np.unique then renumbers the faces' corners in one pass.
    keyed = np.hstack([vertices.astype(np.float64), np.arange(count, dtype=np.float64)[:, np.newaxis]])
    keyed[merge, 3] = -1
    corners = faces.reshape(-1).astype(np.int64)
    merged, first, renumbered = np.unique(keyed[corners], axis=0, return_index=True, return_inverse=True)
    return (
        merged[:, :3].astype(np.float32),
        renumbered.reshape(-1, 3).astype(np.uint32),
        corners[first],
    )
