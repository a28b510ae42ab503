"""Meshes for tests: a closed UV sphere, triangle areas, rows in a canonical order."""

from __future__ import annotations

from typing import Any

import numpy as np

from precomputed_core import Mesh


def uv_sphere(
    segid: int,
    center: tuple[float, float, float] = (500.0, 400.0, 300.0),
    radius: float = 120.0,
    rings: int = 12,
    seed: int = 0,
    *,
    noise: float = 0.02,
    grid: float | None = None,
) -> Mesh:
    """A closed UV sphere (nm) with a little radial noise, so no vertex sits on a grid plane;
    with ``grid`` its coordinates are snapped to it."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, 2 * rings, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    unit = np.vstack([[0, 0, 1], ring, [0, 0, -1]])
    points = unit * radius * (1 + noise * rng.random((len(unit), 1))) + center
    if grid is not None:
        points = np.round(points / grid) * grid
    n = 2 * rings
    faces = [(0, 1 + (j + 1) % n, 1 + j) for j in range(n)]
    for i in range(rings - 2):
        for j in range(n):
            a, b = 1 + i * n + j, 1 + i * n + (j + 1) % n
            faces += [(a, b, b + n), (a, b + n, a + n)]
    last = len(points) - 1
    faces += [(last, 1 + (rings - 2) * n + j, 1 + (rings - 2) * n + (j + 1) % n) for j in range(n)]
    return Mesh(points.astype(np.float32), np.array(faces, np.uint32), segid=segid)


def surface_area(mesh: Any) -> float:
    tri = np.asarray(mesh.vertices, np.float64)[np.asarray(mesh.faces, np.int64)]
    return float(0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum())


def sorted_rows(a: Any) -> np.ndarray:
    """Rows in lexicographic order (a canonical order for comparing vertex or triangle sets)."""
    a = np.asarray(a)
    return a[np.lexsort(a.T[::-1])] if len(a) else a
