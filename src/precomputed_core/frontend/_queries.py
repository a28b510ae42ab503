"""Questions about a region that need no whole cutout: its labels, points, a box around a point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import GeometryError
from ..geometry import Bbox, Vec

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from ._access import VoxelAccess
    from ._cutout import VolumeCutout
    from ._options import Settings

__all__ = ["download_point", "region_at", "scattered_points", "unique_labels"]

#: Voxels read at once by ``unique``: a region larger than this is read in chunk-aligned pieces.
UNIQUE_PIECE_VOXELS = 1 << 24


def _from_coord_resolution(
    voxels: VoxelAccess, values: Any, coord_resolution: Sequence[float] | None, mip: int
) -> Any:
    """Coordinates given at ``coord_resolution`` (nm per unit) as voxels of ``mip``."""
    if coord_resolution is None:
        return values
    factor = np.asarray(coord_resolution, float) / np.asarray(voxels.meta.resolution(mip), float)
    return values * factor


def pieces(box: Bbox, offset: Sequence[int], chunk: Sequence[int], limit: int) -> Iterator[Bbox]:
    """``box`` cut on chunk boundaries into pieces of at most ``limit`` voxels (or one chunk)."""
    if box.volume() <= limit:
        yield box
        return
    lo, hi = box.minpt.tolist(), box.maxpt.tolist()
    for axis in np.argsort([-(h - low) / c for low, h, c in zip(lo, hi, chunk)]):
        a = int(axis)
        middle = (lo[a] + hi[a]) // 2
        cut = offset[a] + (middle - offset[a]) // chunk[a] * chunk[a]
        if cut <= lo[a]:
            cut += chunk[a]
        if lo[a] < cut < hi[a]:
            left_hi, right_lo = list(hi), list(lo)
            left_hi[a], right_lo[a] = cut, cut
            yield from pieces(Bbox(lo, left_hi), offset, chunk, limit)
            yield from pieces(Bbox(right_lo, hi), offset, chunk, limit)
            return
    yield box  # within one chunk on every axis


def region_at(
    voxels: VoxelAccess, bbox: Any, mip: int, settings: Settings, coord_resolution: Sequence[float] | None
) -> Bbox:
    """``bbox`` as voxels of ``mip`` (given at ``coord_resolution`` nm per unit if not None)."""
    if coord_resolution is not None:
        region = Bbox.create(bbox)
        scaled = _from_coord_resolution(voxels, np.stack([region.minpt[:3], region.maxpt[:3]]).astype(float),
                                        coord_resolution, mip)  # fmt: skip
        bbox = Bbox(np.floor(scaled[0]), np.ceil(scaled[1])).astype(np.int64)
    return voxels.box(bbox, mip, bounded=settings.bounded, crop=settings.crop)


def unique_labels(
    voxels: VoxelAccess, bbox: Any, mip: int, settings: Settings, coord_resolution: Sequence[float] | None
) -> set[int]:
    """The labels in ``bbox`` at ``mip``, read in chunk-aligned pieces of bounded size."""
    box = region_at(voxels, bbox, mip, settings, coord_resolution)
    grid = voxels.meta.grid(mip)
    labels: set[int] = set()
    for piece in pieces(box, grid.offset, grid.chunk, max(UNIQUE_PIECE_VOXELS, int(np.prod(grid.chunk)))):
        image = voxels.download(piece, mip, settings)
        labels.update(np.unique(np.asarray(image)).tolist())
    return labels


def download_point(
    voxels: VoxelAccess,
    pt: Sequence[float],
    size: int | Sequence[int],
    mip: int,
    settings: Settings,
    coord_resolution: Sequence[float] | None,
) -> VolumeCutout:
    """The box of ``size`` voxels of ``mip`` around ``pt`` (mip-0 voxels): cloud-volume's rule."""
    extent = Vec(size, size, size) if isinstance(size, (int, np.integer)) else Vec(*size)
    if coord_resolution is not None:
        pt = _from_coord_resolution(voxels, np.asarray(pt, float), coord_resolution, 0)
    center = voxels.point_to_mip(pt, 0, mip)
    half = extent // 2
    lo, hi = (center - half).astype(np.int64), (center + half).astype(np.int64)
    for axis, length in enumerate(extent):
        if length == 1:  # a plane through the point
            lo[axis], hi[axis] = center[axis], center[axis] + 1
    box = Bbox(lo, hi)
    if settings.crop:
        box = Bbox.intersection(box, voxels.meta.bounds(mip))
    return voxels.download(box, mip, settings)


def _holds(box: Bbox, point: Sequence[int]) -> bool:
    """Whether the voxel at ``point`` is inside ``box`` (upper corner excluded)."""
    p = np.asarray(point)
    return bool(np.all(p >= box.minpt[:3]) and np.all(p < box.maxpt[:3]))


def scattered_points(
    voxels: VoxelAccess,
    pts: Iterable[Sequence[float]],
    mip: int,
    settings: Settings,
    coord_resolution: Sequence[float] | None,
) -> dict[tuple[int, int, int], Any]:
    """The value at each point (mip-0 voxels), reading only the chunks that hold them.

    Keys are the points in voxels of ``mip``; a value is the voxel's label, or its
    channels as an array in a multi-channel layer.
    """
    points = list(pts)
    if points and isinstance(points[0], (int, np.integer)):
        points = [points]  # type: ignore[list-item]
    grid = voxels.meta.grid(mip)
    offset, chunk = np.asarray(grid.offset), np.asarray(grid.chunk)
    by_chunk: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}
    for point in points:
        if len(point) != 3:
            raise GeometryError(f"a point has three coordinates (x, y, z), got {point!r}")
        given = point
        if coord_resolution is not None:
            given = _from_coord_resolution(voxels, np.asarray(point, float), coord_resolution, 0)
        at = tuple(int(v) for v in voxels.point_to_mip(given, 0, mip))
        cell = tuple(((np.asarray(at) - offset) // chunk).tolist())
        by_chunk.setdefault(cell, []).append(at)  # type: ignore[arg-type]
    found: dict[tuple[int, int, int], Any] = {}
    for cell, members in by_chunk.items():
        lo = offset + np.asarray(cell) * chunk
        box = Bbox(lo, lo + chunk)
        if settings.bounded or settings.crop:
            box = Bbox.intersection(box, voxels.meta.bounds(mip))
        inside = [
            m for m in members if np.all(np.asarray(m) >= box.minpt) and np.all(np.asarray(m) < box.maxpt)
        ]
        if len(inside) < len(members) or box.subvoxel():
            outside = next(m for m in members if m not in inside)
            voxels.box(Bbox(outside, np.asarray(outside) + 1), mip, bounded=True, crop=False)  # raises
        image = np.asarray(voxels.download(box, mip, settings))
        for x, y, z in members:
            value = image[x - box.minpt[0], y - box.minpt[1], z - box.minpt[2]]
            found[(x, y, z)] = value[0] if value.shape[0] == 1 else value
    return found
