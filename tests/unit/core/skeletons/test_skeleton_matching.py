"""Skeleton.equivalent and Skeleton.import_attributes: vertices matched by position, osteoid as the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core.exceptions import InfoValidationError
from precomputed_core.skeletons import Skeleton
from precomputed_core.skeletons._skeleton_matching import position_ids

# A small tree: trunk 0-1-2-3, branch 1-4; radii and types differ per vertex.
VERTS = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [1, 5, 0]], dtype=np.float32)
EDGES = np.array([[0, 1], [1, 2], [2, 3], [1, 4]], dtype=np.uint32)
RADII = np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32)
TYPES = np.array([1, 3, 3, 3, 2], dtype=np.uint8)


def tree(**kwargs):
    return Skeleton(VERTS.copy(), EDGES.copy(), RADII.copy(), TYPES.copy(), segid=8, **kwargs)


def shuffled(skel, seed):
    """The same skeleton with vertices, edge rows and each edge's direction permuted."""
    rng = np.random.default_rng(seed)
    n = skel.vertices.shape[0]
    perm = rng.permutation(n)
    inverse = np.argsort(perm)
    edges = inverse[skel.edges.astype(np.int64)][rng.permutation(skel.edges.shape[0])]
    flip = rng.random(edges.shape[0]) < 0.5
    edges[flip] = edges[flip][:, ::-1]
    out = Skeleton(skel.vertices[perm], edges, segid=skel.id, extra_attributes=skel.extra_attributes)
    for spec in skel.extra_attributes:
        setattr(out, spec["id"], np.asarray(getattr(skel, spec["id"]))[perm])
    return out


# --- position ids --------------------------------------------------------------------------


def test_position_ids_are_shared_across_arrays_and_ranked_by_position():
    a = np.array([[1, 0, 0], [0, 0, 0], [1, 0, 0]], dtype=np.float32)
    b = np.array([[0, 0, 0], [-0.0, 0, 0], [2, 0, 0]], dtype=np.float32)
    ids_a, ids_b = position_ids(a, b)
    assert ids_a.tolist() == [1, 0, 1]
    assert ids_b.tolist() == [0, 0, 2]


# --- equivalent ----------------------------------------------------------------------------


def test_equivalent_cloud_volume_cases():
    # cloud-volume's test_equivalent, case by case.
    assert Skeleton.equivalent(Skeleton(), Skeleton())
    identity = Skeleton([(0, 0, 0), (1, 0, 0)], [(0, 1)])
    assert Skeleton.equivalent(identity, identity)
    assert not Skeleton.equivalent(identity, Skeleton([(0, 0, 0), (0, 1, 0)], [(0, 1)]))
    assert Skeleton.equivalent(
        Skeleton([(0, 0, 0), (1, 0, 0)], edges=[(1, 0)]), Skeleton([(0, 0, 0), (1, 0, 0)], edges=[(0, 1)])
    )
    three = [(0, 0, 0), (1, 0, 0), (1, 1, 0)]
    assert Skeleton.equivalent(Skeleton(three, [(1, 0), (1, 2)]), Skeleton(three, [(2, 1), (0, 1)]))
    four = [*three, (1, 1, 3)]
    assert Skeleton.equivalent(
        Skeleton(four, [(1, 0), (1, 2), (1, 3)]), Skeleton(four, [(3, 1), (2, 1), (0, 1)])
    )


@pytest.mark.parametrize("seed", range(4))
def test_equivalent_ignores_every_order_but_not_ids_or_equality(seed):
    skel = tree()
    other = shuffled(skel, seed)
    other.id = 99
    assert Skeleton.equivalent(skel, other)
    assert Skeleton.equivalent(other, skel)
    assert other != skel


def test_equivalent_compares_edges_between_positions_not_graph_shapes():
    # Both are paths of three vertices, but they link different points (osteoid's
    # networkx isomorphism test calls these equivalent).
    three = [(0, 0, 0), (1, 0, 0), (1, 1, 0)]
    assert not Skeleton.equivalent(Skeleton(three, [(0, 1), (1, 2)]), Skeleton(three, [(0, 1), (0, 2)]))


@pytest.mark.parametrize(
    "change",
    ["radius", "vertex_types", "extra vertex", "extra edge row", "moved vertex", "missing attribute"],
)
def test_equivalent_notices_each_difference(change):
    skel, other = tree(), tree()
    if change in ("radius", "vertex_types"):
        getattr(other, change)[2] += 1
    elif change == "extra vertex":
        other = Skeleton(np.concatenate([VERTS, [[9, 9, 9]]]), EDGES)
    elif change == "extra edge row":
        other = Skeleton(VERTS, np.concatenate([EDGES, [[0, 1]]]), RADII, TYPES)
    elif change == "moved vertex":
        other.vertices[3, 2] = np.nextafter(np.float32(0), np.float32(1))
    else:
        other = Skeleton(VERTS, EDGES, default_attributes=False)
    assert not Skeleton.equivalent(skel, other)


def test_equivalent_attributes_follow_positions_with_repeated_vertices():
    # Two vertices share a position; their values may come in either order.
    verts = [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    a = Skeleton(verts, [[0, 1], [1, 2]], radii=[1, 2, 3])
    b = Skeleton(verts, [[2, 1], [1, 0]], radii=[3, 2, 1])
    c = Skeleton(verts, [[0, 1], [1, 2]], radii=[1, 2, 1])
    assert Skeleton.equivalent(a, b)
    assert not Skeleton.equivalent(a, c)


def test_equivalent_compares_multi_component_attributes_by_row():
    layout = [{"id": "normal", "data_type": "float32", "num_components": 3}]
    a = Skeleton(VERTS, EDGES, extra_attributes=layout, default_attributes=False)
    a.normal = np.arange(15, dtype=np.float32).reshape(5, 3)
    b = shuffled(a, 1)
    assert Skeleton.equivalent(a, b)
    b.normal[0, ::-1] = b.normal[0].copy()  # same values in the row, another order
    assert not Skeleton.equivalent(a, b)


# --- import_attributes -----------------------------------------------------------------------


def test_import_attributes_copies_by_position():
    source = tree()
    target = Skeleton(VERTS[[4, 2, 0]], [[0, 1]], default_attributes=False)
    target.import_attributes(source)
    assert [s["id"] for s in target.extra_attributes] == ["radius", "vertex_types"]
    assert target.radius.tolist() == [5, 3, 1]
    assert target.vertex_types.tolist() == [2, 3, 1]
    assert target.vertex_types.dtype == np.uint8


def test_import_attributes_fills_unmatched_vertices_and_keeps_declaration_order():
    layout = [
        {"id": "label", "data_type": "uint16", "num_components": 1},
        {"id": "radius", "data_type": "float32", "num_components": 1},
    ]
    source = Skeleton(VERTS, EDGES, extra_attributes=layout, default_attributes=False)
    source.label = np.arange(10, 15, dtype=np.uint16)
    source.radius = RADII.copy()
    target = Skeleton([[1, 0, 0], [7, 7, 7], [3, 0, 0]], [[0, 2]])
    target.import_attributes(source)
    assert [s["id"] for s in target.extra_attributes] == ["radius", "vertex_types", "label"]
    assert target.radius.tolist() == [2, -1, 4]
    assert target.label.tolist() == [11, 0, 13]
    assert target.vertex_types.tolist() == [0, 0, 0]  # not imported: the source has none


def test_import_attributes_takes_the_last_of_repeated_positions_and_casts_to_the_declared_type():
    source = Skeleton([[0, 0, 0], [0, 0, 0], [1, 0, 0]], [[0, 2]], radii=[1, 2, 3])
    source.vertex_types = np.array([4, 5, 6], dtype=np.int64)  # declared uint8
    target = Skeleton([[0, 0, 0], [1, 0, 0]], [[0, 1]])
    target.import_attributes(source)
    assert target.radius.tolist() == [2, 3]
    assert target.vertex_types.dtype == np.uint8
    assert target.vertex_types.tolist() == [5, 6]


def test_import_attributes_without_any_match_changes_nothing():
    target = Skeleton([[50, 50, 50]], default_attributes=False)
    target.import_attributes(tree())
    assert target.extra_attributes == []
    Skeleton().import_attributes(tree())  # nothing to match: no error


def test_import_attributes_refuses_an_id_that_hides_a_member():
    source = tree()
    source.extra_attributes = [{"id": "clone", "data_type": "uint8", "num_components": 1}]
    with pytest.raises(InfoValidationError, match=r"would hide Skeleton\.clone"):
        Skeleton(VERTS).import_attributes(source)


# --- osteoid (cloud-volume's Skeleton) as the oracle -------------------------------------------


@pytest.fixture(scope="module")
def osteoid():
    import osteoid  # cloud-volume's Skeleton; the interop session installs it

    return osteoid


def random_skeleton(seed, n=60):
    rng = np.random.default_rng(seed)
    verts = rng.integers(0, 40, (n, 3)).astype(np.float32)
    parents = [int(rng.integers(0, i)) for i in range(1, n)]
    edges = np.array([[p, i] for i, p in zip(range(1, n), parents)], dtype=np.uint32)
    return verts, edges, rng.uniform(1, 9, n).astype(np.float32), rng.integers(0, 6, n).astype(np.uint8)


@pytest.mark.interop
@pytest.mark.parametrize("seed", range(5))
def test_equivalent_agrees_with_osteoid(osteoid, seed):
    verts, edges, radii, types = random_skeleton(seed)
    ours = Skeleton(verts, edges, radii, types)
    pairs = [(ours, shuffled(ours, seed)), (ours, ours.consolidate()), (ours, ours.downsample(2))]
    changed = shuffled(ours, seed + 10)
    changed.radius[0] += 1
    pairs.append((ours, changed))
    for a, b in pairs:
        theirs_a = osteoid.Skeleton(a.vertices, a.edges, a.radius, a.vertex_types)
        theirs_b = osteoid.Skeleton(b.vertices, b.edges, b.radius, b.vertex_types)
        assert Skeleton.equivalent(a, b) == bool(osteoid.Skeleton.equivalent(theirs_a, theirs_b))
    assert Skeleton.equivalent(*pairs[0])
    assert not Skeleton.equivalent(*pairs[-1])


@pytest.mark.interop
@pytest.mark.parametrize("seed", range(3))
def test_import_attributes_agrees_with_osteoid_where_every_vertex_matches(osteoid, seed):
    verts, edges, radii, types = random_skeleton(seed)
    keep = np.random.default_rng(seed).permutation(len(verts))[:20]
    ours = Skeleton(verts[keep], default_attributes=False)
    theirs = osteoid.Skeleton(verts[keep], default_attributes=False)
    ours.import_attributes(Skeleton(verts, edges, radii, types))
    theirs.import_attributes(osteoid.Skeleton(verts, edges, radii, types))
    assert ours.radius.tolist() == theirs.radius.tolist()
    assert ours.vertex_types.tolist() == theirs.vertex_types.tolist()
    assert ours.extra_attributes == theirs.extra_attributes
