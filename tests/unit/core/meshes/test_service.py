"""``vol.mesh``: its ``transform`` (cloud-volume's settable 4x4 matrix) and ``vol.mesh.meta``'s names."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume, Mesh
from precomputed_core.exceptions import InfoValidationError, ScaleUnavailableError

TRIANGLE = np.array([[10, 20, 30], [50, 20, 30], [10, 60, 30]], np.float32)


def _layer(tmp_path, mesh="mesh"):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], [0, 0, 0], [64, 64, 64],
                                       mesh=mesh)  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/seg", info=info, progress=False)
    vol.commit_info()
    return vol


def _rows(mesh):
    """A mesh's vertices as sorted lists (a fused get merges vertices and reorders them)."""
    return sorted(mesh.vertices.tolist())


def _with_triangle(tmp_path, segid=7):
    vol = _layer(tmp_path)
    vol.mesh.put(Mesh(TRIANGLE, [[0, 1, 2]], segid=segid))
    return vol


# --- vol.mesh.transform ------------------------------------------------------------------------


def test_transform_is_the_identity_without_one_in_the_info(tmp_path):
    vol = _with_triangle(tmp_path)
    assert vol.mesh.transform.tolist() == np.eye(4).tolist()
    assert _rows(vol.mesh.get(7)) == sorted(TRIANGLE.tolist())


def test_transform_comes_from_the_info_as_a_4x4_matrix(tmp_path):
    vol = _with_triangle(tmp_path)
    vol.mesh.meta.info["transform"] = [2, 0, 0, 1, 0, 3, 0, 0, 0, 0, 1, -5]
    assert vol.mesh.transform.tolist() == [[2, 0, 0, 1], [0, 3, 0, 0], [0, 0, 1, -5], [0, 0, 0, 1]]


def test_assigning_a_transform_maps_what_get_gives_fused_or_not(tmp_path):
    vol = _with_triangle(tmp_path)
    vol.mesh.transform = np.eye(4) * 2
    vol.mesh.transform[:, 3] = 1  # edited in place, as cloud-volume's test does: 2 x + 1
    expected = (2 * TRIANGLE + 1).tolist()
    assert vol.mesh.get(7, fuse=False)[7].vertices.tolist() == expected
    assert _rows(vol.mesh.get(7)) == sorted(expected)
    vol.mesh.transform = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 100]  # the info's 12 numbers also do
    assert vol.mesh.transform.shape == (4, 4)
    assert vol.mesh.get(7, fuse=False)[7].vertices[:, 2].tolist() == [130.0, 130.0, 130.0]
    vol.mesh.transform = None  # back to the info's (none: the identity)
    assert _rows(vol.mesh.get(7)) == sorted(TRIANGLE.tolist())


def test_editing_the_infos_matrix_in_place_changes_get_until_the_info_changes(tmp_path):
    vol = _with_triangle(tmp_path)
    vol.mesh.transform[:3, 3] = [1, 2, 3]
    assert vol.mesh.get(7, fuse=False)[7].vertices[0].tolist() == [11.0, 22.0, 33.0]
    vol.mesh.meta.info["transform"] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]  # a new info value
    assert vol.mesh.transform.tolist() == np.eye(4).tolist()
    assert vol.mesh.get(7, fuse=False)[7].vertices[0].tolist() == [10.0, 20.0, 30.0]


def test_put_stores_through_the_infos_transform_not_the_assigned_one(tmp_path):
    vol = _layer(tmp_path)
    vol.mesh.meta.info["transform"] = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0]
    vol.mesh.meta.commit_info()
    vol.mesh.transform = np.eye(4)  # reading only
    vol.mesh.put(Mesh(TRIANGLE, [[0, 1, 2]], segid=7))
    stored = vol.mesh.get(7, fuse=False)[7]  # what the file holds: the info's inverse applied
    assert stored.vertices.tolist() == (TRIANGLE / 2).tolist()
    other = CloudVolume(vol.cloudpath, progress=False)  # a reader using the info's transform
    assert other.mesh.get(7, fuse=False)[7].vertices.tolist() == TRIANGLE.tolist()


def test_multires_get_uses_the_transform_too(tmp_path):
    vol = _layer(tmp_path)
    vol.mesh.meta.to_multi_resolution(16)
    vol.mesh.meta.commit_info()
    vol.mesh.put(Mesh(TRIANGLE, [[0, 1, 2]], segid=7))
    plain = vol.mesh.get(7)[7].vertices
    vol.mesh.transform[:, 3] = 1  # cloud-volume's multi-resolution test: every vertex + 1
    np.testing.assert_array_equal(vol.mesh.get(7)[7].vertices, plain + 1)
    vol.mesh.transform = np.diag([3.0, 3.0, 3.0, 1.0])
    np.testing.assert_allclose(vol.mesh.get(7)[7].vertices, plain * 3, rtol=1e-6)


@pytest.mark.parametrize(
    ("matrix", "match"),
    [
        (np.ones((2, 2)), "3x4, 4x4, 3x3 or 12 numbers"),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, np.inf]], "must be finite"),
    ],
)
def test_a_transform_that_is_no_affine_is_refused_when_assigned(tmp_path, matrix, match):
    vol = _with_triangle(tmp_path)
    with pytest.raises(ValueError, match=match):
        vol.mesh.transform = matrix


def test_a_projective_last_row_is_refused_at_get_naming_the_transform(tmp_path):
    vol = _with_triangle(tmp_path)
    vol.mesh.transform = np.eye(4) * 2  # kept as given, so it can still be edited in place
    with pytest.raises(
        ValueError, match=r"vol\.mesh\.transform: .*\[0, 0, 0, 1\].*got \[0.0, 0.0, 0.0, 2.0\]"
    ):
        vol.mesh.get(7)
    vol.mesh.transform[3, 3] = 1
    assert vol.mesh.get(7, fuse=False)[7].vertices[0].tolist() == [20.0, 40.0, 60.0]


def test_a_bad_info_transform_is_an_info_error(tmp_path):
    vol = _with_triangle(tmp_path)
    vol.mesh.meta.info["transform"] = [1, 2, 3]
    with pytest.raises(InfoValidationError, match=r"mesh/info: transform: .*12 numbers"):
        vol.mesh.get(7)


# --- vol.mesh.meta -----------------------------------------------------------------------------


def test_meta_names_the_layer_and_the_mesh_directory_as_cloudvolume_does(tmp_path):
    vol = _layer(tmp_path, mesh="mesh_mip_2_err_40")
    meta = vol.mesh.meta
    assert meta.cloudpath == f"file://{tmp_path}/seg"
    assert meta.mesh_path == "mesh_mip_2_err_40"
    assert meta.layerpath == f"file://{tmp_path}/seg/mesh_mip_2_err_40"


def test_meta_mip_from_the_info_else_the_directory_name_else_none(tmp_path):
    assert _layer(tmp_path / "a", mesh="mesh").mesh.meta.mip is None
    named = _layer(tmp_path / "b", mesh="mesh_mip_2_err_40")
    assert named.mesh.meta.mip == 2
    named.mesh.meta.mip = 0
    assert named.mesh.meta.info["mip"] == 0
    assert named.mesh.meta.mip == 0
    named.mesh.meta.info["mip"] = 1.0  # cloud-volume reads it with int()
    assert named.mesh.meta.mip == 1
    named.mesh.meta.info["mip"] = "high"
    with pytest.raises(InfoValidationError, match=r"mip must be a mip level.*'high'"):
        named.mesh.meta.mip  # noqa: B018
    with pytest.raises(ValueError, match="mip must be a mip level"):
        named.mesh.meta.mip = -1


def test_chunk_size_deduplication_needs_the_meshes_mip_in_the_layer(tmp_path):
    vol = _with_triangle(tmp_path)
    vol.mesh.meta.mip = 3  # the layer has mip 0 only
    with pytest.raises(ScaleUnavailableError, match=r"made at mip 3.*1 mips"):
        vol.mesh.get(7, chunk_size=(64, 64, 64))


# --- the disk cache ----------------------------------------------------------------------------


def test_cached_fragments_are_laid_out_as_cloudvolumes_cache(tmp_path):
    """``<cache>/<mesh dir>/<name>``, ``.gz`` added to a gzip fragment; listed without it."""
    writer = _layer(tmp_path)
    writer.mesh.put(Mesh(TRIANGLE, [[0, 1, 2]], segid=7), compress="gzip")
    reader = CloudVolume(writer.cloudpath, cache=str(tmp_path / "cache"), progress=False)
    reader.cache.flush()
    assert reader.mesh.get(7, fuse=False)[7].vertices.tolist() == TRIANGLE.tolist()
    cached = tmp_path / "cache" / "file" / str(tmp_path).lstrip("/") / "seg" / "mesh"
    assert str(cached.parent) == reader.cache.path
    assert sorted(p.name for p in cached.iterdir()) == ["7:0", "7:0:1.gz"]  # this mesh dir has no info
    assert (cached / "7:0:1.gz").read_bytes() == (tmp_path / "seg" / "mesh" / "7:0:1.gz").read_bytes()
    assert reader.cache.list_meshes() == ["7:0", "7:0:1"]  # names without .gz (cache.md)
    for name in ("7:0", "7:0:1.gz"):
        (tmp_path / "seg" / "mesh" / name).unlink()
    assert reader.mesh.get(7, fuse=False)[7].vertices.tolist() == TRIANGLE.tolist()  # from the cache
