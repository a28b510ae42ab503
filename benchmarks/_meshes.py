"""Workload k: fetching and merging many segments' meshes, legacy and multi-resolution.

Each segment is a wavy sheet cut into fragments of about 2,000 triangles, fragments
sharing their boundary vertices as marching-cubes meshes of neighbouring chunks do.
The legacy layer is written as cloud-volume and igneous write it: a manifest per
segment and gzip fragments (``Content-Encoding: gzip``); the multi-resolution layer
is sharded, Draco-encoded, two levels of detail, written by precomputed.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import numpy as np

GRID = 32  # a 33 x 33 vertex sheet: 2,048 triangles per fragment


def _sheet(origin: np.ndarray[Any, Any], step: float) -> tuple[Any, Any]:
    """One fragment: a height-field sheet with (GRID+1)^2 vertices and 2*GRID^2 triangles.

    Heights come from the float32 x and y, so neighbouring sheets share their edge
    vertices bit for bit.
    """
    i, j = np.meshgrid(np.arange(GRID + 1), np.arange(GRID + 1), indexing="ij")
    x, y = origin[0] + i * step, origin[1] + j * step
    vertices = np.stack([x, y, np.zeros_like(x)], -1).reshape(-1, 3).astype(np.float32)
    vertices[:, 2] = origin[2] + 40 * np.sin(vertices[:, 0] / 300.0) * np.cos(vertices[:, 1] / 200.0)
    a = (i[:-1, :-1] * (GRID + 1) + j[:-1, :-1]).reshape(-1)
    lower = np.stack([a, a + GRID + 1, a + 1], 1)
    upper = np.stack([a + 1, a + GRID + 1, a + GRID + 2], 1)
    faces = np.concatenate([lower, upper])
    return vertices, faces.astype(np.uint32)


def segment_fragments(segid: int, fragments: int) -> list[tuple[Any, Any]]:
    """A segment's fragments: 5 x 2 sheets side by side, sharing their edges exactly."""
    step = 8.0
    base = np.random.default_rng(segid).uniform(0, 50_000, 3)
    return [
        _sheet(base + np.array([(k % 5) * GRID * step, (k // 5) * GRID * step, 0.0]), step)
        for k in range(fragments)
    ]


def segment_ids(data: dict[str, Any]) -> list[int]:
    return [1000 + 7 * s for s in range(data["segments"])]


def write_meshes(url: str, data: dict[str, Any]) -> None:
    """Write the workload's mesh layer at ``url`` (``s3://bucket/name``)."""
    from _impls import make_info
    from _s3 import client
    from precomputed_core import CloudVolume, Mesh

    info = make_info(data)
    info["mesh"] = "mesh"
    vol = CloudVolume(url, info=info, progress=False)
    vol.commit_info()
    ids = segment_ids(data)
    if data["format"] == "legacy":
        fs = client()
        root = url.removeprefix("s3://") + "/mesh"
        for segid in ids:
            names = []
            for k, (vertices, faces) in enumerate(segment_fragments(segid, data["fragments"])):
                name = f"{segid}:0:{k}"
                blob = Mesh(vertices, faces).to_precomputed()
                fs.pipe_file(f"{root}/{name}", gzip.compress(blob), ContentEncoding="gzip")
                names.append(name)
            fs.pipe_file(f"{root}/{segid}:0", json.dumps({"fragments": names}).encode())
        return
    vol.mesh.meta.to_multi_resolution(16)
    vol.mesh.meta.to_sharded(len(ids))
    vol.mesh.meta.info["sharding"]["data_encoding"] = "raw"  # fragments are Draco already
    vol.mesh.meta.commit_info()
    levels = {}
    for segid in ids:
        parts = [Mesh(v, f) for v, f in segment_fragments(segid, data["fragments"])]
        fine = Mesh.concatenate(*parts).consolidate()
        coarse = fine.clone()
        keep = np.arange(len(coarse.faces)) % 4 == 0  # a stand-in for a decimated level
        coarse.faces = coarse.faces[keep]
        levels[segid] = [fine, coarse]
    vol.mesh.put(levels)


def fetch_and_merge(vol: Any, module: str, ids: list[int], multires: bool) -> Any:
    """What a user does: fetch the segments' meshes and merge them into one."""
    import importlib

    if not multires:
        return vol.mesh.get(ids)  # fused and with duplicate vertices merged
    found = vol.mesh.get(ids, lod=0)
    return importlib.import_module(module).Mesh.concatenate(*(found[s] for s in ids))
