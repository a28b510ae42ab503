"""``vol.skeleton`` and segment properties on every backend, unsharded and sharded.

Written through ``write_url``, read back through ``read_url`` (over HTTP for the
http backend), attribute by attribute.
"""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume, Skeleton
from precomputed_core.exceptions import (
    DecodingError,
    FeatureUnavailableError,
    InfoValidationError,
    SegmentNotFoundError,
)

ATTRIBUTES = [
    {"id": "radius", "data_type": "float32", "num_components": 1},
    {"id": "vertex_types", "data_type": "uint8", "num_components": 1},
    {"id": "color", "data_type": "int16", "num_components": 3},
]


def _layer(backend, name="seg", skeletons=True):
    info = CloudVolume.create_new_info(
        1, "segmentation", "uint64", "raw", [8, 8, 40], [0, 0, 0], [256, 256, 32],
        skeletons="skeletons" if skeletons else None,
    )  # fmt: skip
    vol = CloudVolume(backend.write_url(name), info=info, progress=False)
    vol.commit_info()
    return vol, CloudVolume(backend.read_url(name), progress=False)


def _skeleton(segid, n=30, seed=0, color=True):
    rng = np.random.default_rng(seed)
    vertices = np.cumsum(rng.normal(0, 5, (n, 3)), axis=0).astype(np.float32) + 100
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    skel = Skeleton(vertices, edges, rng.random(n) * 4, rng.integers(0, 5, n), segid=segid)
    if color:
        skel.extra_attributes = list(ATTRIBUTES)
        skel.color = rng.integers(-300, 300, (n, 3)).astype(np.int16)
    return skel


def _configure(vol, sharded, transform=None):
    vol.skeleton.meta.info["vertex_attributes"] = list(ATTRIBUTES)
    if transform is not None:
        vol.skeleton.meta.info["transform"] = transform
    if sharded:
        vol.skeleton.meta.to_sharded(1000)
    vol.skeleton.meta.commit_info()


@pytest.mark.parametrize("sharded", [False, True], ids=["unsharded", "sharded"])
def test_skeletons_round_trip_with_their_attributes(backend, sharded):
    writer, reader = _layer(backend)
    _configure(writer, sharded)
    one, two = _skeleton(3), _skeleton(4, n=12, seed=1)
    writer.skeleton.upload([one, two])
    got = reader.skeleton.get(3)
    assert isinstance(got, Skeleton)
    assert got.id == 3
    np.testing.assert_array_equal(got.vertices, one.vertices)
    np.testing.assert_array_equal(got.edges, one.edges)
    np.testing.assert_array_equal(got.radius, one.radius)
    np.testing.assert_array_equal(got.vertex_types, one.vertex_types)
    np.testing.assert_array_equal(got.color, one.color)
    both = reader.skeleton.get([4, 3])
    assert [s.id for s in both] == [4, 3]
    assert both[0].cable_length() == pytest.approx(two.cable_length(), rel=1e-6)
    if backend.name == "http" and not sharded:  # a web server cannot list a directory
        with pytest.raises(FeatureUnavailableError, match="cannot list"):
            reader.skeleton.list()
    else:
        assert reader.skeleton.list().tolist() == [3, 4]
    assert reader.skeleton.exists([3, 5]) == {3: True, 5: False}


@pytest.mark.parametrize("sharded", [False, True], ids=["unsharded", "sharded"])
def test_delete_and_missing_skeletons(backend, sharded):
    writer, reader = _layer(backend)
    _configure(writer, sharded)
    writer.skeleton.upload([_skeleton(1), _skeleton(2, seed=2)])
    writer.skeleton.delete(1)
    with pytest.raises(SegmentNotFoundError, match=r"segment 1 has no skeleton.*skeletons/"):
        reader.skeleton.get(1)
    assert reader.skeleton.get([1, 2], allow_missing=True)[0].id == 2
    np.testing.assert_array_equal(reader.skeleton.get(2).vertices, _skeleton(2, seed=2).vertices)


def test_the_transform_maps_stored_vertices_to_physical_ones(backend):
    writer, reader = _layer(backend)
    _configure(writer, sharded=False, transform=[8, 0, 0, 10, 0, 8, 0, 20, 0, 0, 40, 30])
    voxel = _skeleton(9)
    writer.skeleton.upload(voxel)
    got = reader.skeleton.get(9)
    assert got.space == "physical"
    expected = voxel.vertices * np.array([8, 8, 40], np.float32) + np.array([10, 20, 30], np.float32)
    np.testing.assert_allclose(got.vertices, expected, rtol=1e-6)
    writer.skeleton.upload(got)  # a physical skeleton goes back through the inverse transform
    np.testing.assert_allclose(reader.skeleton.get(9).vertices, expected, rtol=1e-5)


def test_a_truncated_skeleton_raises_naming_it(backend):
    writer, reader = _layer(backend)
    _configure(writer, sharded=False)
    writer.skeleton.upload(_skeleton(6))
    store = writer._volume.store
    store.put("skeletons/6", store.get("skeletons/6")[:-5])
    with pytest.raises(DecodingError, match="skeletons/6"):
        reader.skeleton.get(6)


def test_a_layer_without_skeletons_says_so(backend):
    _, reader = _layer(backend, skeletons=False)
    with pytest.raises(InfoValidationError, match="no 'skeletons' key"):
        reader.skeleton.get(1)


def test_segment_properties_round_trip(backend):
    writer, reader = _layer(backend)
    assert reader.segment_properties == {}
    document = writer.commit_segment_properties(
        {
            7: {"label": "axon", "description": "long", "tags": ["Soma", "big"], "volume": 12.5, "count": 3},
            12: {"label": "dendrite", "description": "", "tags": [], "volume": 1.0, "count": -4},
        }
    )
    kinds = {p["id"]: p["type"] for p in document["inline"]["properties"]}
    assert kinds == {"label": "label", "description": "description", "tags": "tags", "volume": "number",
                     "count": "number"}  # fmt: skip
    again = CloudVolume(reader.cloudpath, progress=False)
    assert again.info["segment_properties"] == "segment_properties"
    assert again.segment_properties == {
        7: {"label": "axon", "description": "long", "tags": ["big", "Soma"], "volume": 12.5, "count": 3},
        12: {"label": "dendrite", "description": "", "tags": [], "volume": 1.0, "count": -4},
    }


def test_invalid_segment_properties_are_refused_before_anything_is_written(backend):
    writer, _ = _layer(backend)
    bad = {"@type": "neuroglancer_segment_properties",
           "inline": {"ids": ["1", "2"], "properties": [{"id": "x", "type": "label", "values": ["a"]}]}}  # fmt: skip
    with pytest.raises(InfoValidationError, match="one value per id"):
        writer.commit_segment_properties(bad)
    assert "segment_properties" not in CloudVolume(writer.cloudpath).info
    assert not writer._volume.store.exists("segment_properties/info")
