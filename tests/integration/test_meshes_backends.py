"""``vol.mesh`` on every backend: legacy and multi-resolution meshes, unsharded and sharded.

Written through ``write_url`` and read back through ``read_url`` (over HTTP for the
http backend), vertex by vertex for the legacy format and by geometry (surface
area, extent, every original vertex found) for Draco fragments, which are cut on
the octree and quantized.
"""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume, Mesh
from precomputed_core.exceptions import DecodingError, InfoValidationError, SegmentNotFoundError
from shapes import sorted_rows, surface_area, uv_sphere


def _layer(backend, name="seg", mesh=True):
    info = CloudVolume.create_new_info(
        1,
        "segmentation",
        "uint64",
        "raw",
        [8, 8, 40],
        [0, 0, 0],
        [256, 256, 32],
        mesh="mesh" if mesh else None,
    )
    vol = CloudVolume(backend.write_url(name), info=info, progress=False)
    vol.commit_info()
    return vol, CloudVolume(backend.read_url(name), progress=False)


def _triangles(mesh):
    """The mesh's triangles as corner coordinates, in a canonical order (vertex order aside)."""
    return sorted_rows(mesh.vertices[mesh.faces].reshape(-1, 9))


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_legacy_meshes_round_trip_vertex_by_vertex(backend, compress):
    writer, reader = _layer(backend)
    one, two = uv_sphere(7), uv_sphere(9, center=(900.0, 300.0, 200.0), seed=1)
    writer.mesh.put([one, two], compress=compress)
    got = reader.mesh.get(7)
    assert isinstance(got, Mesh)
    assert got.segid == 7
    np.testing.assert_array_equal(sorted_rows(got.vertices), sorted_rows(one.vertices))
    np.testing.assert_array_equal(_triangles(got), _triangles(one))
    merged = reader.mesh.get([7, 9])
    assert len(merged.vertices) == len(one.vertices) + len(two.vertices)
    np.testing.assert_array_equal(_triangles(merged), _triangles(Mesh.concatenate(one, two)))
    separate = reader.mesh.get([7, 9], fuse=False)
    assert sorted(separate) == [7, 9]
    np.testing.assert_array_equal(separate[9].vertices, two.vertices)  # as stored: nothing merged
    np.testing.assert_array_equal(separate[9].faces, two.faces)
    assert reader.mesh.exists([7, 8, 9])[8] is None
    assert reader.mesh.exists([7])[7].endswith("7:0")


def test_legacy_put_replaces_and_delete_removes_every_file(backend):
    writer, reader = _layer(backend)
    store = writer._volume.store
    writer.mesh.put(uv_sphere(5))
    small = Mesh(np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], np.float32), np.array([[0, 1, 2]]), segid=5)
    writer.mesh.put(small)
    np.testing.assert_array_equal(_triangles(reader.mesh.get(5)), _triangles(small))
    writer.mesh.put(uv_sphere(6))
    writer.mesh.delete(5)
    assert sorted(store.list("mesh/")) == ["mesh/6:0", "mesh/6:0:1"]
    with pytest.raises(SegmentNotFoundError, match=r"segment 5 .*mesh/5:0"):
        reader.mesh.get(5)


def test_a_missing_mesh_names_segment_and_path(backend):
    writer, reader = _layer(backend)
    writer.mesh.put(uv_sphere(1))
    with pytest.raises(SegmentNotFoundError) as caught:
        reader.mesh.get([1, 404])
    assert "404" in str(caught.value)
    assert "mesh/404:0" in str(caught.value)
    assert isinstance(caught.value, ValueError)  # as cloud-volume raises


def test_a_corrupt_fragment_raises_naming_it(backend):
    writer, reader = _layer(backend)
    writer.mesh.put(uv_sphere(3))
    writer._volume.store.put("mesh/3:0:1", b"\x05\x00\x00\x00garbage")
    with pytest.raises(DecodingError, match=r"3:0:1"):
        reader.mesh.get(3)


def test_a_layer_without_meshes_says_so(backend):
    _writer, reader = _layer(backend, mesh=False)
    with pytest.raises(InfoValidationError, match="no 'mesh' key"):
        reader.mesh.get(1)


@pytest.mark.parametrize("sharded", [False, True], ids=["unsharded", "sharded"])
def test_multires_meshes_round_trip_at_every_level(backend, sharded):
    writer, reader = _layer(backend)
    writer.mesh.meta.to_multi_resolution(16)
    if sharded:
        writer.mesh.meta.to_sharded(100)
    writer.mesh.meta.commit_info()
    fine, coarse = uv_sphere(11, rings=16), uv_sphere(11, rings=6, seed=3)
    other = uv_sphere(12, center=(100.0, 100.0, 100.0), seed=4)
    writer.mesh.put({11: [fine, coarse], 12: other}, chunk_shape=[80, 80, 80])
    files = sorted(writer._volume.store.list("mesh/"))
    assert ("mesh/0.shard" in files) is sharded
    assert ("mesh/11.index" in files) is not sharded
    got = reader.mesh.get([11, 12], lod=0)
    assert sorted(got) == [11, 12]
    step = 80 * 2.0**1 / (2**16 - 1)  # the coarsest quantization step of level 1
    for mesh, original in ((got[11], fine), (got[12], other)):
        assert surface_area(mesh) == pytest.approx(surface_area(original), rel=1e-4)
        np.testing.assert_allclose(mesh.vertices.min(0), original.vertices.min(0), atol=step)
        np.testing.assert_allclose(mesh.vertices.max(0), original.vertices.max(0), atol=step)
        nearest = np.abs(original.vertices[:, None, :] - mesh.vertices[None]).max(-1).min(1)
        assert nearest.max() < step  # every original vertex is still there
    level1 = reader.mesh.get(11, lod=1)[11]
    assert surface_area(level1) == pytest.approx(surface_area(coarse), rel=1e-4)
    np.testing.assert_array_equal(reader.mesh.get(11, lod=-1)[11].faces, level1.faces)
    with pytest.raises(ValueError, match="level of detail 2 is out of range"):
        reader.mesh.get(11, lod=2)


def test_sharded_multires_rewrites_keep_other_segments(backend):
    writer, reader = _layer(backend)
    writer.mesh.meta.to_multi_resolution(10)
    writer.mesh.meta.to_sharded(10)  # every segment in one shard
    writer.mesh.meta.commit_info()
    writer.mesh.put([uv_sphere(1), uv_sphere(2, seed=2)])
    before = reader.mesh.get(2)[2]
    writer.mesh.put(uv_sphere(1, radius=50.0))
    assert surface_area(reader.mesh.get(1)[1]) == pytest.approx(
        surface_area(uv_sphere(1, radius=50.0)), rel=1e-3
    )
    np.testing.assert_array_equal(reader.mesh.get(2)[2].vertices, before.vertices)
    writer.mesh.delete(1)
    with pytest.raises(SegmentNotFoundError, match="segment 1"):
        reader.mesh.get(1)
    np.testing.assert_array_equal(reader.mesh.get(2)[2].faces, before.faces)
    writer.mesh.delete(2)
    assert list(writer._volume.store.list("mesh/")) == ["mesh/info"]  # the emptied shard is gone


def test_save_writes_obj_and_ply_files(backend, tmp_path, monkeypatch):
    writer, reader = _layer(backend)
    writer.mesh.put([uv_sphere(21), uv_sphere(22, center=(0.0, 0.0, 900.0))])
    monkeypatch.chdir(tmp_path)
    assert reader.mesh.save(21) == "21.obj"
    assert reader.mesh.save([21, 22], file_format="ply") == "21_22.ply"
    assert reader.mesh.save(22, tmp_path) == str(tmp_path / "22.obj")
    back = Mesh.from_obj((tmp_path / "21.obj").read_bytes())
    np.testing.assert_allclose(_triangles(back), _triangles(reader.mesh.get(21)), rtol=1e-6)
    merged = Mesh.from_ply((tmp_path / "21_22.ply").read_bytes())
    assert len(merged.faces) == len(uv_sphere(21).faces) * 2


def test_progress_bars_count_segments(backend, capsys):
    writer, _ = _layer(backend)
    writer.mesh.put([uv_sphere(31), uv_sphere(32, seed=5)])
    reader = CloudVolume(backend.read_url("seg"), progress=True)
    merged = reader.mesh.get([31, 32])
    assert len(merged.faces) == 2 * len(uv_sphere(31).faces)
    assert "Downloading meshes" in capsys.readouterr().err
    reader.mesh.get(31)  # one segment: no bar
    assert "Downloading meshes" not in capsys.readouterr().err


def test_put_takes_cloudvolumes_options(backend):
    writer, reader = _layer(backend)
    store = writer._volume.store
    manifest = b'{"fragments": ["4:0:1", "4:0:old"]}'
    store.put("mesh/4:0", manifest)
    store.put("mesh/4:0:old", uv_sphere(4).to_precomputed())
    # cloud-volume's positional order: meshes, batch_size, compress, compression_level, cdn_cache, skip_delete
    writer.mesh.put([uv_sphere(4), uv_sphere(5, seed=1)], 1, "gzip", 1, 30, True)
    assert store.exists("mesh/4:0:old")  # skip_delete leaves the older mesh's extra fragment
    stored = store.get_stored("mesh/5:0:1")
    assert stored.metadata.content_encoding == "gzip"
    if backend.name in ("s3", "gcs"):  # stores that keep object metadata
        assert stored.metadata.cache_control == "max-age=30, s-max-age=30"
    np.testing.assert_array_equal(_triangles(reader.mesh.get(5)), _triangles(uv_sphere(5, seed=1)))
    store.put("mesh/4:0", manifest)
    writer.mesh.put(
        uv_sphere(4)
    )  # without skip_delete, what the old manifest listed and the new does not goes
    assert not store.exists("mesh/4:0:old")
    assert store.get_stored("mesh/4:0:1").metadata.content_encoding is None  # the volume's compress=None
    with pytest.raises(ValueError, match="batch_size"):
        writer.mesh.put(uv_sphere(4), batch_size=0)
    with pytest.raises(ValueError, match="compression level"):
        writer.mesh.put(uv_sphere(4), compress="gzip", compression_level=12)
