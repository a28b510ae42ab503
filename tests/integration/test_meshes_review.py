"""Edge cases of ``vol.mesh`` and ``vol.skeleton``: damaged and hostile data, other writers, cloud-volume's calls.

Local disk and the other backends alike (the ``backend`` fixture).
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from precomputed_core import CloudVolume, Mesh, Skeleton
from precomputed_core.exceptions import DecodingError, InfoValidationError, SegmentNotFoundError

TRIANGLE = Mesh(np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], np.float32), np.array([[0, 1, 2]]))


def _layer(backend, name="seg"):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], [0, 0, 0], [64, 64, 64],
                                       mesh="mesh", skeletons="skeletons")  # fmt: skip
    vol = CloudVolume(backend.write_url(name), info=info, progress=False)
    vol.commit_info()
    return vol, CloudVolume(backend.read_url(name), progress=False)


def _box(segid, size=100.0):
    lo, hi = 10.0, 10.0 + size
    corners = np.array([[x, y, z] for x in (lo, hi) for y in (lo, hi) for z in (lo, hi)], np.float32)
    faces = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
             (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]  # fmt: skip
    return Mesh(corners, np.array(faces, np.uint32), segid=segid)


def test_a_manifest_naming_files_outside_the_mesh_directory_is_refused(backend):
    writer, reader = _layer(backend)
    store = writer._volume.store
    store.put("victim", b"keep me")
    store.put("mesh/9:0", json.dumps({"fragments": ["../victim"]}).encode())
    with pytest.raises(DecodingError, match="outside the mesh directory"):
        reader.mesh.get(9)
    with pytest.raises(DecodingError, match="outside the mesh directory"):
        writer.mesh.delete(9)
    assert store.get("victim") == b"keep me"


def test_a_damaged_sharded_mesh_can_be_deleted_and_others_survive(backend):
    writer, _reader = _layer(backend)
    writer.mesh.meta.to_multi_resolution(16)
    writer.mesh.meta.to_sharded(10)
    writer.mesh.meta.info["sharding"]["data_encoding"] = "raw"
    writer.mesh.meta.commit_info()
    writer.mesh.put([_box(1), _box(2, 50.0)])
    store = writer._volume.store
    shard = bytearray(store.get("mesh/0.shard"))
    located = writer.mesh.meta.sharded().reader.locate([2])[0]
    shard[located.start : located.end] = b"\x00" * (located.end - located.start)  # segment 2's manifest
    store.put("mesh/0.shard", bytes(shard))
    with pytest.raises(DecodingError, match="segment 2"):
        CloudVolume(backend.read_url("seg"), progress=False).mesh.get(2)
    writer.mesh.delete(2)  # the damaged segment can still be removed
    assert len(CloudVolume(backend.read_url("seg"), progress=False).mesh.get(1)[1].faces) == 12


def test_segments_another_writer_adds_are_seen_by_a_reader_that_read_before(backend):
    writer, _ = _layer(backend)
    writer.skeleton.meta.to_sharded(10)
    writer.skeleton.meta.commit_info()
    writer.mesh.meta.to_multi_resolution(16)
    writer.mesh.meta.to_sharded(10)
    writer.mesh.meta.commit_info()
    writer.skeleton.upload(Skeleton([[0, 0, 0], [1, 1, 1]], [[0, 1]], segid=1))
    writer.mesh.put(_box(1))
    reader = CloudVolume(backend.read_url("seg"), progress=False)
    assert reader.skeleton.get(1).id == 1
    assert len(reader.mesh.get(1)[1].faces) == 12  # both shard indexes are now cached
    other = CloudVolume(backend.write_url("seg"), progress=False)
    other.skeleton.upload(Skeleton([[0, 0, 0], [2, 2, 2]], [[0, 1]], segid=2))
    other.mesh.put(_box(2, 30.0))
    assert reader.skeleton.exists([2]) == {2: True}
    np.testing.assert_array_equal(reader.skeleton.get(2).vertices[1], [2, 2, 2])
    assert reader.mesh.exists([2])[2] is not None
    assert len(reader.mesh.get(2)[2].faces) == 12


def test_cloudvolumes_positional_lod_and_missing_multires_paths(backend):
    writer, reader = _layer(backend)
    writer.mesh.meta.to_multi_resolution(16)
    writer.mesh.meta.commit_info()
    fine, coarse = _box(3), _box(3, 80.0)
    writer.mesh.put({3: [fine, coarse]}, chunk_shape=[30, 30, 30])
    by_keyword = reader.mesh.get(3, lod=1)[3]
    by_position = reader.mesh.get(3, 1)[3]  # cloud-volume's get(segids, lod)
    np.testing.assert_array_equal(by_position.vertices, by_keyword.vertices)
    assert by_keyword.vertices.max() == pytest.approx(90.0, abs=0.01)
    with pytest.raises(SegmentNotFoundError, match=r"mesh/77\.index"):
        reader.mesh.get([3, 77])
    assert list(reader.mesh.get([3, 77], allow_missing=True)) == [3]
    with pytest.raises(TypeError, match="lod must be a whole number"):
        reader.mesh.get(3, lod=1.5)
    with pytest.raises(ValueError, match="lod_scales"):
        writer.mesh.put({4: [fine, coarse]}, lod_scales=[1.0])


def test_a_manifest_with_no_finite_grid_raises(backend):
    writer, reader = _layer(backend)
    writer.mesh.meta.to_multi_resolution(16)
    writer.mesh.meta.commit_info()
    writer.mesh.put(_box(5))
    store = writer._volume.store
    index = bytearray(store.get("mesh/5.index"))
    index[0:4] = struct.pack("<f", float("nan"))
    store.put("mesh/5.index", bytes(index))
    with pytest.raises(DecodingError, match=r"5\.index.*not finite"):
        reader.mesh.get(5)


def test_legacy_meshes_round_trip_through_the_infos_transform(backend):
    writer, reader = _layer(backend)
    writer.mesh.meta.info["transform"] = [2, 0, 0, 5, 0, 2, 0, 0, 0, 0, 2, 0]
    writer.mesh.meta.commit_info()
    box = _box(6)
    writer.mesh.put(box)
    first = reader.mesh.get(6)
    assert first.vertices.max(0).tolist() == [110.0, 110.0, 110.0]  # what was put, not transformed twice
    writer.mesh.put(first)  # what get gave, stored back: the same again
    np.testing.assert_array_equal(reader.mesh.get(6).vertices, first.vertices)


def test_skeleton_files_without_attribute_bytes_are_read(backend):
    writer, reader = _layer(backend)
    bare = (
        struct.pack("<II", 2, 1)
        + np.array([[0, 0, 0], [3, 4, 0]], "<f4").tobytes()
        + struct.pack("<II", 0, 1)
    )
    writer._volume.store.put("skeletons/8", bare)
    skel = reader.skeleton.get(8)
    assert skel.cable_length() == pytest.approx(5.0)


def test_segment_properties_refuse_what_json_and_the_spec_cannot_hold(backend):
    writer, _ = _layer(backend)
    with pytest.raises(InfoValidationError, match="list of tag names"):
        writer.commit_segment_properties({1: {"tags": "soma"}})
    with pytest.raises(InfoValidationError, match="finite"):
        writer.commit_segment_properties({1: {"size": float("nan")}})
    document = {"@type": "neuroglancer_segment_properties",
                "inline": {"ids": ["\u00b2"], "properties": [{"id": "l", "type": "label", "values": ["a"]}]}}  # fmt: skip
    with pytest.raises(InfoValidationError, match="segment id strings"):
        writer.commit_segment_properties(document)
    assert "segment_properties" not in CloudVolume(writer.cloudpath).info


def test_mesh_from_draco():
    import DracoPy

    points = np.array([[0, 0, 0], [4, 0, 0], [0, 4, 0]], np.float32)
    # 2**14 - 1 steps over a range of 16383 with origin 0: Draco's quantization is exact here
    # (and DracoPy before 2.0 refuses quantization_bits=0).
    data = DracoPy.encode(points, np.array([[0, 1, 2]], np.uint32), quantization_bits=14,
                          quantization_range=16383.0, quantization_origin=[0.0, 0.0, 0.0])  # fmt: skip
    mesh = Mesh.from_draco(data, segid=3)
    assert mesh.segid == 3
    assert sorted(map(tuple, mesh.vertices.tolist())) == sorted(map(tuple, points.tolist()))
    assert len(mesh.faces) == 1
    with pytest.raises(DecodingError, match="Draco mesh of segment 3"):
        Mesh.from_draco(b"not draco at all", segid=3)
