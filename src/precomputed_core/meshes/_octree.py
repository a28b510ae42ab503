"""Cut meshes onto the spec's octree: the fragments of a multi-resolution mesh.

Level ``lod``'s nodes are cubes of ``chunk_shape * 2**lod`` from ``grid_origin``; a
fragment's positions are integers in ``[0, 2**bits)`` across its node, and for
``lod > 0`` no triangle may cross the node's 2x2x2 subdivision (meshes.md). So each
level's triangles are first cut along the planes of that subdivision (of the node
itself at level 0); every piece then lies in one node. Nodes are listed in Z-curve
order, and every node with a child gets a (possibly empty) fragment, since
Neuroglancer finds the finer levels by descending from the coarser ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._draco import encode_fragment
from ._manifest import MultiLodManifest

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_multilod", "split_on_grid", "z_order"]

F64 = npt.NDArray[np.float64]


def z_order(positions: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]:
    """The order that sorts (n, 3) node positions along the x, y, z Z-curve (x the lowest bit)."""
    pos = np.asarray(positions, dtype=np.uint64).reshape(-1, 3)
    if len(pos) and int(pos.max()) >= 2**21:
        raise ValueError(
            f"an octree node position reaches {int(pos.max())}, past the 2**21 a Z-order code holds; "
            "use a larger chunk_shape"
        )
    code = np.zeros(len(pos), dtype=np.uint64)
    for bit in range(21):
        for axis in range(3):
            code |= ((pos[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(3 * bit + axis)
    return np.argsort(code, kind="stable")


def _split_axis(tris: F64, axis: int) -> F64:
    """Cut triangles (t, 3, 3), in grid units, at the integer planes of ``axis`` they cross."""
    done: list[F64] = []
    while len(tris):
        coord = tris[:, :, axis]
        plane = np.floor(coord.min(axis=1)) + 1
        crossing = coord.max(axis=1) > plane
        done.append(tris[~crossing])
        tris, plane = tris[crossing], plane[crossing]
        if not len(tris):
            break
        side = np.sign(tris[:, :, axis] - plane[:, None])
        on_plane = side == 0
        touching = on_plane.any(axis=1)
        # The vertex each cut starts from: the one on the plane, or the one alone on its side.
        lone = side != np.sign(side.sum(axis=1))[:, None]
        first = np.where(touching, on_plane.argmax(axis=1), lone.argmax(axis=1))
        turn = (first[:, None] + np.arange(3)) % 3
        a, b, c = (tris[np.arange(len(tris)), turn[:, i]] for i in range(3))

        def cut(p: F64, q: F64, at: F64) -> F64:
            t = (at - p[:, axis]) / (q[:, axis] - p[:, axis])
            point = p + t[:, None] * (q - p)
            point[:, axis] = at
            return point

        two = touching  # apex on the plane: one cut across the opposite edge
        m = cut(b[two], c[two], plane[two])
        pieces = [np.stack([a[two], b[two], m], 1), np.stack([a[two], m, c[two]], 1)]
        three = ~touching  # apex alone: cuts on both its edges
        a3, b3, c3, p3 = a[three], b[three], c[three], plane[three]
        m1, m2 = cut(a3, b3, p3), cut(a3, c3, p3)
        pieces += [np.stack([a3, m1, m2], 1), np.stack([m1, b3, c3], 1), np.stack([m1, c3, m2], 1)]
        tris = np.concatenate(pieces)
    return np.concatenate(done) if done else np.zeros((0, 3, 3))


def split_on_grid(vertices: F64, faces: npt.NDArray[np.integer[Any]], origin: F64, spacing: F64) -> F64:
    """The triangles of a mesh, cut so that none crosses a plane of the grid ``origin + k * spacing``.

    Returns the pieces as (t, 3, 3) corner positions, in the mesh's own units.
    """
    tris = (np.asarray(vertices, np.float64)[np.asarray(faces, np.int64)] - origin) / spacing
    for axis in range(3):
        tris = _split_axis(tris, axis)
    return tris * spacing + origin


def _fragments(
    tris: F64, origin: F64, node: F64, bits: int
) -> dict[tuple[int, int, int], tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]]:
    """Each node's quantized positions and triangles, for pieces that each lie in one node."""
    if not len(tris):
        return {}
    top = 2**bits - 1
    cells = np.floor((tris.mean(axis=1) - origin) / node).astype(np.int64)
    keys, group = np.unique(cells, axis=0, return_inverse=True)
    order = np.argsort(group.reshape(-1), kind="stable")
    bounds = np.searchsorted(group.reshape(-1)[order], np.arange(len(keys) + 1))
    out = {}
    for g, key in enumerate(keys.tolist()):
        mine = tris[order[bounds[g] : bounds[g + 1]]]
        corner = origin + np.asarray(key) * node
        q = np.clip(np.rint((mine.reshape(-1, 3) - corner) / node * top), 0, top).astype(np.uint32)
        points, index = np.unique(q, axis=0, return_inverse=True)
        faces = index.reshape(-1, 3).astype(np.uint32)
        keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
        if keep.any():
            out[(key[0], key[1], key[2])] = (points, faces[keep])
    return out


def build_multilod(
    lods: Sequence[tuple[F64, npt.NDArray[Any]]],
    *,
    chunk_shape: F64,
    grid_origin: F64,
    bits: int,
    lod_scales: list[float] | None = None,
) -> tuple[MultiLodManifest, bytes]:
    """The manifest and fragment data file of one segment's levels of detail (finest first).

    ``lods`` holds each level's vertices (in stored-model units) and triangles.
    """
    # The manifest holds float32: cut and quantize on exactly the grid readers will see.
    chunk = np.asarray(chunk_shape, np.float32).astype(np.float64)
    origin = np.asarray(grid_origin, np.float32).astype(np.float64)
    positions: list[npt.NDArray[np.uint32]] = []
    sizes: list[npt.NDArray[np.uint32]] = []
    blobs: list[bytes] = []
    below: npt.NDArray[np.int64] = np.zeros((0, 3), np.int64)
    for lod, (vertices, faces) in enumerate(lods):
        node = chunk * 2.0**lod
        spacing = node / 2 if lod else node
        found = _fragments(split_on_grid(vertices, faces, origin, spacing), origin, node, bits)
        keys = set(found) | {tuple(p) for p in (below // 2).tolist()}
        here = np.array(sorted(keys), dtype=np.int64).reshape(-1, 3)
        if (here < 0).any():
            raise ValueError(f"level of detail {lod} reaches below the grid origin {origin.tolist()}")
        here = here[z_order(here)]
        data = [encode_fragment(*found[k], bits) if k in found else b"" for k in map(tuple, here.tolist())]
        positions.append(here.astype(np.uint32))
        sizes.append(np.array([len(d) for d in data], dtype=np.uint32))
        blobs.extend(data)
        below = here
    scales = lod_scales if lod_scales is not None else [2.0**lod for lod in range(len(lods))]
    if len(scales) != len(lods) or not np.all(np.isfinite(np.asarray(scales, np.float64))):
        raise ValueError(
            f"lod_scales needs one finite number per level of detail ({len(lods)}), got {scales!r}"
        )
    manifest = MultiLodManifest(
        chunk_shape=chunk.astype(np.float32),
        grid_origin=origin.astype(np.float32),
        lod_scales=np.asarray(scales, np.float32),
        vertex_offsets=np.zeros((len(lods), 3), np.float32),
        fragment_positions=positions,
        fragment_sizes=sizes,
    )
    return manifest, b"".join(blobs)
