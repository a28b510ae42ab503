"""The multi-resolution mesh layout, checked field by field against meshes.md.

No peer writes this format, so the spec decides: the manifest is parsed here with
``struct`` as the spec lays it out, fragments are decoded here with DracoPy, and
vertices are placed with the spec's formula, independently of the library.
"""

from __future__ import annotations

import struct

import DracoPy
import numpy as np
import pytest

from precomputed_core import CloudVolume, Mesh
from precomputed_core.exceptions import DecodingError

BITS = 16
TOP = 2**BITS - 1


def _box_mesh(lo, hi, segid=1, steps=6):
    """A closed, finely divided box surface from ``lo`` to ``hi`` (nm)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    t = np.linspace(0, 1, steps + 1)
    vertices, faces = [], []
    for axis in range(3):
        for side in (0, 1):
            u, v = [a for a in range(3) if a != axis]
            base = len(vertices)
            for i in t:
                for j in t:
                    p = np.empty(3)
                    p[axis] = (lo + (hi - lo) * side)[axis]
                    p[u] = lo[u] + (hi[u] - lo[u]) * i
                    p[v] = lo[v] + (hi[v] - lo[v]) * j
                    vertices.append(p)
            n = steps + 1
            for i in range(steps):
                for j in range(steps):
                    a, b, c, d = (
                        base + i * n + j,
                        base + (i + 1) * n + j,
                        base + i * n + j + 1,
                        base + (i + 1) * n + j + 1,
                    )
                    faces += [(a, b, d), (a, d, c)] if side else [(a, d, b), (a, c, d)]
    return Mesh(np.array(vertices, np.float32), np.array(faces, np.uint32), segid=segid)


def _spec_manifest(data):
    """Parse a manifest exactly as meshes.md lays it out."""
    chunk_shape = struct.unpack_from("<3f", data, 0)
    grid_origin = struct.unpack_from("<3f", data, 12)
    (num_lods,) = struct.unpack_from("<I", data, 24)
    offset = 28
    lod_scales = struct.unpack_from(f"<{num_lods}f", data, offset)
    offset += 4 * num_lods
    vertex_offsets = np.array(struct.unpack_from(f"<{3 * num_lods}f", data, offset)).reshape(num_lods, 3)
    offset += 12 * num_lods
    counts = struct.unpack_from(f"<{num_lods}I", data, offset)
    offset += 4 * num_lods
    positions, sizes = [], []
    for n in counts:
        positions.append(np.array(struct.unpack_from(f"<{3 * n}I", data, offset)).reshape(3, n).T)
        offset += 12 * n
        sizes.append(list(struct.unpack_from(f"<{n}I", data, offset)))
        offset += 4 * n
    assert offset == len(data), "the manifest has bytes the spec does not account for"
    return chunk_shape, grid_origin, lod_scales, vertex_offsets, positions, sizes


def _z_code(p):
    code = 0
    for bit in range(21):
        for axis in range(3):
            code |= ((int(p[axis]) >> bit) & 1) << (3 * bit + axis)
    return code


@pytest.fixture
def layer(tmp_path):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], [0, 0, 0], [64, 64, 64],
                                       mesh="mesh")  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/seg", info=info, progress=False)
    vol.commit_info()
    vol.mesh.meta.to_multi_resolution(BITS)
    vol.mesh.meta.commit_info()
    return vol, tmp_path / "seg" / "mesh"


def test_info_is_the_multilod_type(layer):
    _vol, directory = layer
    import json

    info = json.loads((directory / "info").read_text())
    assert info["@type"] == "neuroglancer_multilod_draco"
    assert info["vertex_quantization_bits"] == BITS
    assert info["transform"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]
    assert info["lod_scale_multiplier"] == 1.0


def test_manifest_and_fragments_follow_the_spec_field_by_field(layer):
    vol, directory = layer
    fine = _box_mesh((10, 20, 30), (410, 220, 330), steps=12)
    coarse = _box_mesh((10, 20, 30), (410, 220, 330), steps=3)
    vol.mesh.put({5: [fine, coarse]}, chunk_shape=[100, 100, 100], lod_scales=[1.0, 2.0])
    chunk_shape, grid_origin, lod_scales, vertex_offsets, positions, sizes = _spec_manifest(
        (directory / "5.index").read_bytes()
    )
    assert chunk_shape == (100.0, 100.0, 100.0)
    assert lod_scales == (1.0, 2.0)
    assert (vertex_offsets == 0).all()
    assert all(o <= lo for o, lo in zip(grid_origin, (10, 20, 30)))
    data = (directory / "5").read_bytes()
    assert sum(map(sum, sizes)) == len(data)  # the data file is every fragment, lod 0 first
    offset = 0
    for lod, (where, size) in enumerate(zip(positions, sizes)):
        codes = [_z_code(p) for p in where]
        assert codes == sorted(codes)
        assert len(set(codes)) == len(codes)
        node = np.array(chunk_shape) * 2**lod
        for position, length in zip(where, size):
            fragment = data[offset : offset + length]
            offset += length
            if not length:
                continue
            mesh = DracoPy.decode(fragment)
            q = np.asarray(mesh.points)
            assert q.min() >= 0
            assert q.max() <= TOP
            assert np.array_equal(q, np.round(q))
            corner = np.array(grid_origin) + vertex_offsets[lod] + node * position
            placed = corner + node * (q / TOP)
            assert (placed >= corner - 1e-3).all()
            assert (placed <= corner + node + 1e-3).all()
            if lod > 0:  # no triangle crosses the node's 2x2x2 subdivision (one quantum of slack)
                tri = q[np.asarray(mesh.faces)]
                half = TOP / 2
                low = (tri <= half + 1).all(axis=1)
                high = (tri >= half - 1).all(axis=1)
                assert (low | high).all()
    # The spec's placement formula gives what the library returns.
    expected = []
    offset = 0
    for position, length in zip(positions[0], sizes[0]):
        if length:
            q = np.asarray(DracoPy.decode(data[offset : offset + length]).points)
            expected.append(np.array(grid_origin) + np.array(chunk_shape) * (position + q / TOP))
        offset += length
    got = vol.mesh.get(5, lod=0)[5]
    np.testing.assert_allclose(
        np.unique(got.vertices, axis=0), np.unique(np.vstack(expected).astype(np.float32), axis=0), rtol=1e-6
    )


def test_every_node_with_a_child_has_a_fragment(layer):
    vol, directory = layer
    big = _box_mesh((0, 0, 0), (390, 390, 390), steps=8)
    tiny = _box_mesh((0, 0, 0), (40, 40, 40), steps=1)  # the coarse level only covers one corner
    vol.mesh.put({6: [big, tiny]}, chunk_shape=[100, 100, 100])
    _, _, _, _, positions, sizes = _spec_manifest((directory / "6.index").read_bytes())
    parents = {tuple(p // 2) for p in positions[0]}
    assert parents <= {tuple(p) for p in positions[1]}
    assert any(s == 0 for s in sizes[1])  # parents with nothing of their own have empty fragments


def test_levels_of_a_segment_and_the_transform(tmp_path):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], [0, 0, 0], [64, 64, 64],
                                       mesh="mesh")  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/seg", info=info, progress=False)
    vol.commit_info()
    vol.mesh.meta.to_multi_resolution(10, transform=[8, 0, 0, 100, 0, 8, 0, 0, 0, 0, 40, 0])
    vol.mesh.meta.commit_info()
    mesh = _box_mesh((200, 200, 400), (1000, 600, 2000), steps=4)
    vol.mesh.put(Mesh(mesh.vertices, mesh.faces, segid=3))
    index = (tmp_path / "seg" / "mesh" / "3.index").read_bytes()
    _, grid_origin, _, _, _, _ = _spec_manifest(index)
    # Stored model space is the transform's inverse: x = (nm - 100) / 8, z = nm / 40.
    assert grid_origin[0] <= (200 - 100) / 8
    assert grid_origin[2] <= 400 / 40
    got = vol.mesh.get(3)[3]
    step = (np.ptp(mesh.vertices, axis=0) + 16) / (2**10 - 1) * np.array([1, 1, 1])
    np.testing.assert_allclose(got.vertices.min(0), mesh.vertices.min(0), atol=step.max() * 8)
    np.testing.assert_allclose(got.vertices.max(0), mesh.vertices.max(0), atol=step.max() * 8)


def test_damaged_manifests_and_fragments_raise(layer):
    vol, directory = layer
    vol.mesh.put(_box_mesh((0, 0, 0), (50, 50, 50), segid=8))
    index = (directory / "8.index").read_bytes()
    (directory / "8.index").write_bytes(index[:-3])
    with pytest.raises(DecodingError, match=r"8\.index.*truncated"):
        vol.mesh.get(8)
    (directory / "8.index").write_bytes(index)
    data = (directory / "8").read_bytes()
    (directory / "8").write_bytes(b"\x00" * len(data))
    with pytest.raises(DecodingError, match="segment 8"):
        vol.mesh.get(8)
    (directory / "8").write_bytes(data[:-10])
    with pytest.raises(DecodingError, match=r"manifest lists"):
        vol.mesh.get(8)
