"""Unit tests for ``precomputed_core.meshes``: the ``Mesh`` class and its file formats.

trimesh is the independent oracle for OBJ and PLY (files written by us are
loaded by trimesh, and files trimesh writes are read by us); cloud-volume's
``Mesh`` is the oracle for merging, cropping and the Precomputed/PLY bytes
(``interop`` tests).
"""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import precomputed_core
from precomputed_core import Bbox, Mesh
from precomputed_core.exceptions import DecodingError
from precomputed_core.meshes import apply_transform

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# --- helpers -------------------------------------------------------------------


def square() -> Mesh:
    """Two triangles over the unit square in z=0, with +z normals."""
    vertices = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]
    return Mesh(vertices, [[0, 1, 2], [0, 2, 3]], normals=[[0, 0, 1]] * 4, segid=5)


def chunked_sheet(rng: np.random.Generator) -> Mesh:
    """A height field over x 0..128, y 0..64 meshed as two chunks split at x=64 (nm).

    The column x=64 is in both chunk meshes, so its vertices occur exactly twice
    on a chunk boundary, as after concatenating the fragments of two chunks.
    """
    parts = []
    for x0 in (0, 64):
        xs, ys = np.meshgrid(np.arange(x0, x0 + 65, 16), np.arange(0, 65, 16), indexing="ij")
        zs = rng.integers(1, 30, size=xs.shape).astype(np.float32)
        zs[-1 if x0 == 0 else 0] = 7  # the shared column has the same heights in both chunks
        vertices = np.stack([xs.ravel(), ys.ravel(), zs.ravel()], axis=1).astype(np.float32)
        nx, ny = xs.shape
        faces = []
        for i in range(nx - 1):
            for j in range(ny - 1):
                a, b, c, d = i * ny + j, (i + 1) * ny + j, (i + 1) * ny + j + 1, i * ny + j + 1
                faces += [(a, b, c), (a, c, d)]
        parts.append(Mesh(vertices, faces))
    return Mesh.concatenate(*parts, segid=9)


def messy_mesh(rng: np.random.Generator, n: int = 60, m: int = 120) -> Mesh:
    """Vertices on a coarse grid (many exact duplicates, some on multiples of 8) and random faces."""
    vertices = rng.integers(0, 5, size=(n, 3)).astype(np.float32) * 4
    faces = rng.integers(0, n, size=(m, 3))
    repeat = max(m // 8, 1)
    faces[m - repeat :] = faces[:repeat]  # some faces repeated exactly
    return Mesh(vertices, faces, segid=3)


def assert_same_mesh(ours: Mesh, theirs) -> None:
    np.testing.assert_array_equal(ours.vertices, np.asarray(theirs.vertices, dtype=np.float32))
    np.testing.assert_array_equal(ours.faces, np.asarray(theirs.faces, dtype=np.uint32))


@pytest.fixture
def cv():
    """cloud-volume's module (the interop oracle; the interop session installs it)."""
    import cloudvolume

    return cloudvolume


@pytest.fixture
def trimesh():
    """trimesh (a test dependency), the independent reader of our OBJ and PLY files."""
    import trimesh

    return trimesh


# --- construction and basics ---------------------------------------------------


def test_constructor_coerces_dtypes_and_reshapes_flat_arrays():
    mesh = Mesh([0, 0, 0, 1.5, 0, 0, 0, 2, 0], np.array([0, 1, 2], dtype=np.int64))
    assert mesh.vertices.dtype == np.float32
    assert mesh.vertices.shape == (3, 3)
    assert mesh.faces.dtype == np.uint32
    assert mesh.faces.tolist() == [[0, 1, 2]]
    assert mesh.vertices[1].tolist() == [1.5, 0.0, 0.0]
    assert mesh.normals.shape == (0, 3)
    assert mesh.normals.dtype == np.float32
    assert mesh.segid is None
    assert mesh.encoding_type is None
    assert mesh.encoding_options is None


def test_constructor_copies_its_inputs():
    vertices = np.zeros((3, 3), dtype=np.float32)
    mesh = Mesh(vertices, [0, 1, 2])
    vertices[0, 0] = 99
    assert mesh.vertices[0, 0] == 0


@pytest.mark.parametrize(
    ("vertices", "faces", "normals", "match"),
    [
        (np.zeros((4, 2)), [], None, "vertices"),
        (np.zeros(7), [], None, "vertices"),
        (np.zeros((3, 3)), [[0, 1, 3]], None, "out of range"),
        (np.zeros((3, 3)), [[0, 1, -1]], None, "out of range"),
        (np.zeros((3, 3)), [[0, 1, 1.5]], None, "whole-number"),
        (np.zeros((3, 3)), [[0, 1]], None, "faces"),
        (np.zeros((3, 3)), [["a", "b", "c"]], None, "integer"),
        (np.zeros((3, 3)), [[0, 1, 2]], np.zeros((2, 3)), "one per vertex"),
    ],
)
def test_constructor_rejects_bad_shapes_and_indices(vertices, faces, normals, match):
    with pytest.raises(ValueError, match=match):
        Mesh(vertices, faces, normals)


def test_len_repr_empty_and_clone():
    mesh = square()
    mesh.encoding_options = {"bits": [10]}
    assert len(mesh) == 4
    assert repr(mesh) == "Mesh(vertices<4>, faces<2>, normals<4>, segid=5, encoding_type=<None>)"
    assert not mesh.empty()
    assert Mesh([[0, 0, 0]], []).empty()
    assert Mesh([], []).empty()
    copy = mesh.clone()
    assert copy == mesh
    assert copy.segid == 5
    copy.vertices[0, 0] = 42
    copy.encoding_options["bits"].append(1)
    assert mesh.vertices[0, 0] == 0
    assert mesh.encoding_options == {"bits": [10]}


def test_equality_compares_vertices_faces_and_normals():
    assert square() == square()
    moved = square()
    moved.vertices[0, 2] = 1
    assert square() != moved
    bare = Mesh(square().vertices, square().faces)
    assert square() != bare
    assert bare == Mesh(bare.vertices, bare.faces, normals=[])
    assert Mesh(bare.vertices, bare.faces[:1]) != bare
    assert (square() == "mesh") is False


def test_edges_and_triangles():
    mesh = square()
    assert list(mesh.edges()) == [(0, 1), (1, 2), (0, 2), (0, 2), (2, 3), (0, 3)]
    triangles = mesh.triangles()
    assert triangles.shape == (2, 3, 3)
    assert triangles[1].tolist() == [[0, 0, 0], [1, 1, 0], [0, 1, 0]]


def test_bounding_box_is_tight_and_float():
    mesh = Mesh([[-1.5, 2, 3], [4, -5, 6.25], [0, 0, 0]], [0, 1, 2])
    box = mesh.bounding_box()
    assert box.minpt.tolist() == [-1.5, -5.0, 0.0]
    assert box.maxpt.tolist() == [4.0, 2.0, 6.25]
    assert box.dtype == np.float64
    assert Mesh([], []).bounding_box().to_list() == [0.0] * 6


# --- concatenate, consolidate, deduplicate, crop ------------------------------------


def test_concatenate_offsets_faces_and_keeps_normals_only_if_all_have_them():
    a, b = square(), square()
    b.vertices += 10
    joined = Mesh.concatenate(a, b, segid=12)
    assert len(joined) == 8
    assert joined.segid == 12
    assert joined.faces.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]]
    assert joined.vertices[4:].tolist() == (square().vertices + 10).tolist()
    assert joined.normals.shape == (8, 3)
    without = Mesh.concatenate(a, Mesh(b.vertices, b.faces))
    assert without.normals.shape == (0, 3)
    assert without.faces.max() == 7
    a.encoding_type, b.encoding_type = "draco", "precomputed"
    assert Mesh.concatenate(a, b).encoding_type == ["draco", "precomputed"]
    b.encoding_type = "draco"
    assert Mesh.concatenate(a, b).encoding_type == "draco"
    assert Mesh.concatenate().empty()


def test_consolidate_merges_duplicates_and_drops_repeated_faces():
    vertices = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]]
    normals = [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, -1], [0, -1, 0]]
    mesh = Mesh(vertices, [[0, 1, 2], [0, 3, 4], [1, 2, 0]], normals=normals, segid=4)
    merged = mesh.consolidate()
    assert merged.vertices.tolist() == [[0, 0, 0], [0, 1, 0], [1, 0, 0]]  # sorted, as np.unique
    assert merged.faces.tolist() == [[0, 2, 1], [2, 1, 0]]  # (0,1,2) and (0,3,4) became one
    assert merged.normals.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]  # first occurrence wins
    assert merged.segid == 4
    assert Mesh([[0, 0, 0]], []).consolidate().empty()


def test_deduplicate_chunk_boundaries_merges_only_boundary_doubles():
    mesh = chunked_sheet(np.random.default_rng(0))
    merged = mesh.deduplicate_chunk_boundaries((64, 64, 64))
    # 2 chunks of 5x5 vertices share a column of 5 at x=64; every vertex is used by a face.
    assert len(mesh) == 50
    assert len(merged) == 45
    assert np.array_equal(
        np.sort(merged.triangles().reshape(-1, 9), axis=0), np.sort(mesh.triangles().reshape(-1, 9), axis=0)
    )
    # With the grid shifted by 8 nm, x=64 is no longer a boundary and nothing merges.
    assert len(mesh.deduplicate_chunk_boundaries((64, 64, 64), offset=(8, 8, 8))) == 50
    with pytest.raises(ValueError, match="draco_grid_size"):
        mesh.deduplicate_chunk_boundaries((64, 64, 64), is_draco=True)
    with pytest.raises(ValueError, match="positive"):
        mesh.deduplicate_chunk_boundaries((64, 0, 64))


def test_deduplicate_vertices_carries_normals_along():
    vertices = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]]
    normals = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [1, 1, 0]]
    mesh = Mesh(vertices, [[0, 1, 2], [3, 4, 0]], normals=normals)
    merged = mesh.deduplicate_vertices(np.ones(5, dtype=bool))
    assert len(merged) == 4
    for face_old, face_new in zip(mesh.faces, merged.faces):
        assert mesh.vertices[face_old].tolist() == merged.vertices[face_new].tolist()
        assert mesh.normals[face_old].tolist() == merged.normals[face_new].tolist()
    with pytest.raises(ValueError, match="one flag per vertex"):
        mesh.deduplicate_vertices(np.ones(3, dtype=bool))


def test_crop_keeps_inside_vertices_and_closed_faces():
    mesh = Mesh([[0, 0, 0], [2, 0, 0], [0, 2, 0], [5, 5, 5], [2, 2, 0]], [[0, 1, 2], [1, 3, 2], [1, 4, 2]])
    mesh.normals = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    cropped = mesh.crop(Bbox((0, 0, 0), (2, 2, 2)))  # both corners inclusive
    assert cropped.vertices.tolist() == [[0, 0, 0], [2, 0, 0], [0, 2, 0], [2, 2, 0]]
    assert cropped.faces.tolist() == [[0, 1, 2], [1, 3, 2]]
    assert cropped.normals.tolist() == mesh.normals[[0, 1, 2, 4]].tolist()
    assert mesh.crop([0, 0, 0, 1.5, 1.5, 1.5]).vertices.tolist() == [[0, 0, 0]]
    assert mesh.crop(np.s_[0:1, 0:1, 0:1]).faces.shape == (0, 3)


# --- transforms -----------------------------------------------------------------


def test_apply_transform_accepts_info_list_3x4_and_4x4():
    info_transform = [2, 0, 0, 10, 0, 3, 0, 20, 0, 0, 4, 30]
    expected = [[10, 20, 30], [12, 23, 34]]
    points = [[0, 0, 0], [1, 1, 1]]
    assert apply_transform(points, info_transform).tolist() == expected
    assert apply_transform(points, np.reshape(info_transform, (3, 4))).tolist() == expected
    four = np.vstack([np.reshape(info_transform, (3, 4)), [0, 0, 0, 1]])
    assert apply_transform(points, four).tolist() == expected
    assert apply_transform(points, info_transform).dtype == np.float32
    with pytest.raises(ValueError, match="0, 0, 0, 1"):
        apply_transform(points, np.ones((4, 4)))
    with pytest.raises(ValueError, match="shape"):
        apply_transform(points, [1, 2, 3])


def test_mesh_apply_transform_moves_vertices_and_turns_normals():
    mesh = square()
    rotate_z = [0, -1, 0, 100, 1, 0, 0, 0, 0, 0, 1, 0]  # 90 degrees about z, then +100 nm in x
    turned = mesh.apply_transform(rotate_z)
    assert turned.vertices.tolist() == [[100, 0, 0], [100, 1, 0], [99, 1, 0], [99, 0, 0]]
    assert turned.faces.tolist() == mesh.faces.tolist()
    assert turned.segid == 5
    assert mesh.vertices[1].tolist() == [1, 0, 0]  # the original is untouched
    # A tilted plane under non-uniform scale: normals stay unit length and perpendicular.
    tilted = Mesh([[0, 0, 0], [1, 0, 1], [0, 1, 0]], [0, 1, 2], normals=[[-1, 0, 1]] * 3)
    tilted.normals /= np.sqrt(2)
    scaled = tilted.apply_transform([[4, 0, 0], [0, 1, 0], [0, 0, 1]])
    edge = scaled.vertices[1] - scaled.vertices[0]
    np.testing.assert_allclose(np.linalg.norm(scaled.normals, axis=1), 1, rtol=1e-6)
    assert abs(float(edge @ scaled.normals[0])) < 1e-6
    with pytest.raises(ValueError, match="singular"):
        square().apply_transform([[1, 0, 0], [0, 1, 0], [0, 0, 0]])


# --- precomputed fragments ---------------------------------------------------------


def test_precomputed_layout_and_round_trip():
    mesh = square()
    data = mesh.to_precomputed()
    assert data[:4] == struct.pack("<I", 4)
    assert np.frombuffer(data, "<f4", 12, 4).reshape(4, 3).tolist() == mesh.vertices.tolist()
    assert np.frombuffer(data, "<u4", offset=52).tolist() == [0, 1, 2, 0, 2, 3]
    back = Mesh.from_precomputed(data, segid=5)
    assert back.vertices.tolist() == mesh.vertices.tolist()
    assert back.faces.tolist() == mesh.faces.tolist()
    assert back.segid == 5
    assert back.encoding_type == "precomputed"
    assert back.normals.shape == (0, 3)
    assert back.vertices.flags.writeable
    empty = Mesh.from_precomputed(struct.pack("<I", 0))
    assert empty.empty()
    assert len(empty) == 0


@FAST
@given(
    hnp.arrays(np.float32, st.tuples(st.integers(1, 20), st.just(3)), elements=st.floats(-1e7, 1e7, width=32))
)
def test_all_formats_round_trip_bit_for_bit(vertices):
    faces = np.arange(len(vertices) * 3).reshape(-1, 3) % len(vertices)
    mesh = Mesh(vertices, faces)
    for back in (
        Mesh.from_precomputed(mesh.to_precomputed()),
        Mesh.from_obj(mesh.to_obj()),
        Mesh.from_ply(mesh.to_ply()),
    ):
        assert back.vertices.tobytes() == mesh.vertices.tobytes()
        assert back.faces.tolist() == mesh.faces.tolist()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x01\x00", "too short"),
        (struct.pack("<I", 3) + b"\x00" * 20, "truncated"),
        (square().to_precomputed()[:-4], "multiple of 12"),
        (square().to_precomputed()[:-12] + struct.pack("<3I", 0, 1, 4), "out of range"),
    ],
)
def test_damaged_precomputed_fragment_raises_naming_the_object(data, match):
    with pytest.raises(DecodingError, match=match) as info:
        Mesh.from_precomputed(data, where="gs://b/mesh/5:0:0-64_0-64_0-64")
    assert "gs://b/mesh/5:0:0-64_0-64_0-64" in str(info.value)
    with pytest.raises(DecodingError, match="segment 77"):
        Mesh.from_precomputed(data, segid=77)


# --- OBJ ----------------------------------------------------------------------------


def test_obj_reader_handles_face_forms_negative_indices_and_polygons():
    text = """# a comment
o thing
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0 1.0
vt 0.5 0.5
vn 0 0 1
vn 0 0 1
vn 0 0 1
vn 0 0 1
f 1 2 3
f 1/1/1 3/1/3 4/1/4
f 1//1 2//2 3//3
f -4 -3 -2
f 1/1 2/1 3/1 4/1
"""
    mesh = Mesh.from_obj(text, segid=2)
    assert mesh.vertices.tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]
    assert mesh.faces.tolist() == [[0, 1, 2], [0, 2, 3], [0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 2, 3]]
    assert mesh.normals.tolist() == [[0, 0, 1]] * 4
    assert mesh.segid == 2
    assert Mesh.from_obj(text.encode()) == mesh


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("v 0 0\n", "line 1"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", "line 4"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "start at 1"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", "out of range"),
        ("v 0 0 0\nf -2 1 1\n", "before the first"),
        ("v 0 0 0\nf 1 1\n", "at least 3"),
    ],
)
def test_obj_reader_rejects_malformed_files(text, match):
    with pytest.raises(DecodingError, match=match):
        Mesh.from_obj(text, where="cell.obj")


def test_obj_writer_output_is_loaded_identically_by_trimesh(tmp_path, trimesh):
    tm = trimesh.creation.icosphere(subdivisions=2)
    mesh = Mesh(tm.vertices * 1234.567, tm.faces)
    path = tmp_path / "sphere.obj"
    mesh.save(path)
    loaded = trimesh.load(path, process=False)
    np.testing.assert_array_equal(loaded.vertices.astype(np.float32), mesh.vertices)
    np.testing.assert_array_equal(loaded.faces, mesh.faces)


def test_obj_normals_are_written_and_read_by_trimesh(tmp_path, trimesh):
    mesh = square()
    path = tmp_path / "square.obj"
    path.write_bytes(mesh.to_obj())
    loaded = trimesh.load(path, process=False)
    np.testing.assert_array_equal(loaded.vertex_normals, mesh.normals)
    assert Mesh.load(path) == mesh


def test_obj_reader_reads_what_trimesh_writes(trimesh):
    tm = trimesh.creation.icosphere(subdivisions=1)
    exact = trimesh.Trimesh(np.round(tm.vertices * 400) / 4, tm.faces, process=False)
    text = trimesh.exchange.export.export_mesh(exact, None, file_type="obj")
    mesh = Mesh.from_obj(text)
    np.testing.assert_array_equal(mesh.vertices, exact.vertices.astype(np.float32))
    np.testing.assert_array_equal(mesh.faces, exact.faces)


# --- PLY ----------------------------------------------------------------------------


def test_ply_writer_output_is_loaded_identically_by_trimesh(tmp_path, trimesh):
    tm = trimesh.creation.icosphere(subdivisions=2)
    mesh = Mesh(tm.vertices * 987.25 + 1e6, tm.faces)
    mesh.save(tmp_path / "sphere.ply")
    loaded = trimesh.load(tmp_path / "sphere.ply", process=False)
    np.testing.assert_array_equal(loaded.vertices.astype(np.float32), mesh.vertices)
    np.testing.assert_array_equal(loaded.faces, mesh.faces)
    with_normals = square()
    (tmp_path / "square.ply").write_bytes(with_normals.to_ply())
    loaded = trimesh.load(tmp_path / "square.ply", process=False)
    np.testing.assert_array_equal(loaded.vertex_normals, with_normals.normals)
    assert Mesh.load(tmp_path / "square.ply") == with_normals


@pytest.mark.parametrize("encoding", ["binary", "ascii"])
def test_ply_reader_reads_what_trimesh_writes(trimesh, encoding):
    tm = trimesh.creation.icosphere(subdivisions=1)
    exact = trimesh.Trimesh(np.round(tm.vertices * 400) / 4, tm.faces, process=False)
    data = trimesh.exchange.ply.export_ply(exact, encoding=encoding)
    mesh = Mesh.from_ply(data)
    np.testing.assert_array_equal(mesh.vertices, exact.vertices.astype(np.float32))
    np.testing.assert_array_equal(mesh.faces, exact.faces)


def _ply(
    fmt: str, body: bytes, *, face_prop: str = "list uchar int vertex_indices", extra: str = ""
) -> bytes:
    header = (
        f"ply\nformat {fmt} 1.0\ncomment made by hand\nelement vertex 4\n"
        "property double x\nproperty double y\nproperty double z\nproperty uchar red\n"
        f"element face 2\nproperty {face_prop}\n{extra}end_header\n"
    )
    return header.encode() + body


def test_ply_reader_handles_big_endian_other_types_polygons_and_extra_elements():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float64)
    rows = np.zeros(4, dtype=[("xyz", ">f8", (3,)), ("red", "u1")])
    rows["xyz"] = vertices
    # A quad (split into a fan) and a triangle, counts as ushort, indices as short.
    faces = struct.pack(">H4hH3h", 4, 0, 1, 2, 3, 3, 3, 2, 1)
    edges = struct.pack(">ii", 0, 2)
    data = _ply(
        "binary_big_endian",
        rows.tobytes() + faces + edges,
        face_prop="list ushort short vertex_indices",
        extra="element edge 1\nproperty int vertex1\nproperty int vertex2\n",
    )
    mesh = Mesh.from_ply(data)
    assert mesh.vertices.tolist() == vertices.tolist()
    assert mesh.faces.tolist() == [[0, 1, 2], [0, 2, 3], [3, 2, 1]]
    ascii_data = _ply("ascii", b"0 0 0 255\n1 0 0 255\n1 1 0 9\n0 1 0 9\n4 0 1 2 3\n3 3 2 1\n")
    assert Mesh.from_ply(ascii_data) == mesh


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"obj\n", "not a readable PLY"),
        (square().to_ply()[:-5], "not a readable PLY"),
        (_ply("ascii", b"0 0 0 1\n1 0 0 1\n1 1 0 1\n0 1 0 1\n3 0 1 9\n3 0 1 2\n"), "out of range"),
        (_ply("ascii", b"0 0 0 1\n1 0 0 1\n1 1 0 1\n0 1 0 1\n3 0 1 2\n"), "truncated"),
        (_ply("ascii", b"0 0 0 1\n1 0 0 1\n1 1 0 1\n0 1 0 1\n2 0 1\n2 1 2\n"), "needs 3"),
        (_ply("binary_middle_endian", b""), "unknown PLY format"),
    ],
)
def test_ply_reader_rejects_damaged_files(data, match):
    with pytest.raises(DecodingError, match=match) as info:
        Mesh.from_ply(data, where="cell.ply")
    assert "cell.ply" in str(info.value)


def test_save_and_load_choose_the_format_by_extension(tmp_path):
    mesh = Mesh(square().vertices, square().faces)
    mesh.save(tmp_path / "a.ply")
    mesh.save(str(tmp_path / "a.obj"))
    mesh.save(tmp_path / "a.mesh")  # anything else is OBJ, as in cloud-volume
    assert (tmp_path / "a.ply").read_bytes().startswith(b"ply\n")
    assert (tmp_path / "a.mesh").read_bytes() == (tmp_path / "a.obj").read_bytes() == mesh.to_obj()
    for name in ("a.ply", "a.obj", "a.mesh"):
        assert Mesh.load(tmp_path / name) == mesh


# --- trimesh --------------------------------------------------------------------------


def test_trimesh_round_trip(trimesh):
    mesh = square()
    tm = mesh.trimesh()
    assert isinstance(tm, trimesh.Trimesh)
    np.testing.assert_array_equal(tm.vertices, mesh.vertices)
    np.testing.assert_array_equal(tm.faces, mesh.faces)
    back = Mesh.from_trimesh(tm, segid=5)
    assert back == mesh
    assert back.segid == 5


def test_importing_meshes_does_not_import_trimesh():
    code = "import sys, precomputed_core.meshes; print('trimesh' in sys.modules, 'DracoPy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert precomputed_core.Mesh is Mesh


# --- cloud-volume as the oracle -----------------------------------------------------------


@pytest.mark.interop
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_consolidate_matches_cloudvolume(cv, seed):
    mesh = messy_mesh(np.random.default_rng(seed))
    theirs = cv.Mesh(mesh.vertices, mesh.faces).consolidate()
    assert_same_mesh(mesh.consolidate(), theirs)


@pytest.mark.interop
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deduplicate_chunk_boundaries_matches_cloudvolume(cv, seed):
    rng = np.random.default_rng(seed)
    for mesh in (chunked_sheet(rng), messy_mesh(rng)):
        theirs = cv.Mesh(mesh.vertices, mesh.faces)
        for kwargs in (
            {"chunk_size": (64, 64, 64)},
            {"chunk_size": (8, 16, 8), "offset": (4, 0, 0)},
            {"chunk_size": (64, 64, 64), "is_draco": True, "draco_grid_size": 3.0},
        ):
            assert_same_mesh(
                mesh.deduplicate_chunk_boundaries(**kwargs), theirs.deduplicate_chunk_boundaries(**kwargs)
            )
        mask = rng.random(len(mesh)) < 0.5
        assert_same_mesh(mesh.deduplicate_vertices(mask), theirs.deduplicate_vertices(mask))


@pytest.mark.interop
@pytest.mark.parametrize(
    "box", [((0, 0, 0), (8, 8, 8)), ((4, 0, 4), (12, 16, 16)), ((-5, -5, -5), (100, 100, 100))]
)
def test_crop_matches_cloudvolume(cv, box):
    mesh = messy_mesh(np.random.default_rng(7))
    theirs = cv.Mesh(mesh.vertices, mesh.faces).crop(cv.Bbox(*box))
    assert_same_mesh(mesh.crop(Bbox(*box)), theirs)
    assert_same_mesh(mesh.crop(list(box[0]) + list(box[1])), theirs)


@pytest.mark.interop
def test_concatenate_repr_edges_and_triangles_match_cloudvolume(cv):
    rng = np.random.default_rng(3)
    ours = [messy_mesh(rng, n=10 + i, m=5 + i) for i in range(3)]
    theirs = [cv.Mesh(m.vertices, m.faces) for m in ours]
    joined, cv_joined = Mesh.concatenate(*ours, segid=8), cv.Mesh.concatenate(*theirs, segid=8)
    assert_same_mesh(joined, cv_joined)
    assert repr(joined) == repr(cv_joined)
    assert len(joined) == len(cv_joined)
    assert list(joined.edges()) == [tuple(map(int, e)) for e in cv_joined.edges()]
    np.testing.assert_array_equal(joined.triangles(), cv_joined.triangles())
    assert joined == cv_joined


@pytest.mark.interop
def test_precomputed_obj_and_ply_interoperate_with_cloudvolume(cv):
    mesh = messy_mesh(np.random.default_rng(5))
    theirs = cv.Mesh(mesh.vertices, mesh.faces)
    assert mesh.to_precomputed() == theirs.to_precomputed()
    assert mesh.to_ply() == bytes(theirs.to_ply())
    assert_same_mesh(Mesh.from_precomputed(theirs.to_precomputed()), theirs)
    assert_same_mesh(cv.Mesh.from_precomputed(mesh.to_precomputed()), mesh)
    assert_same_mesh(Mesh.from_obj(theirs.to_obj()), theirs)  # grid values survive cloud-volume's %.5f
    assert_same_mesh(cv.Mesh.from_obj(mesh.to_obj()), mesh)
