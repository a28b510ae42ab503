"""Meshes, skeletons and segment properties: precomputed <-> cloud-volume, on local disk.

Each test writes a layer with one library and reads it with the other (and with
itself), comparing real values:

* legacy meshes (a JSON manifest and float32 fragments) exactly, vertex by vertex:
  both libraries merge a segment's fragments in the same order, and
  ``consolidate`` sorts vertices and faces the same way, so even the arrays match;
  triangles are also compared as corner coordinates, against the meshes written;
* multi-resolution meshes (Draco fragments on an octree, sharded or not) by the
  same decoded fragments: both readers place the same integer positions with the
  spec's formula, so they agree to float rounding, in the same order;
* a multi-resolution layer written here by hand from meshes.md (manifest field by
  field, fragments straight from DracoPy) must decode to the positions the spec's
  formula gives, through both readers;
* skeletons with extra vertex attributes and a non-identity transform, vertex by
  vertex and attribute by attribute (the test coordinates are multiples of 1/4,
  so the transform is exact in float32 and float64 alike);
* segment properties against the rules of segment_properties.md.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from precomputed_core import CloudVolume, Mesh, Skeleton
from shapes import sorted_rows, surface_area, uv_sphere

cloudvolume = pytest.importorskip("cloudvolume")
DracoPy = pytest.importorskip("DracoPy")
trimesh = pytest.importorskip("trimesh")

if TYPE_CHECKING:
    from pathlib import Path

RESOLUTION = [4, 4, 40]
# nm = A @ stored + t, with a shear term so a transposed matrix would show
TRANSFORM = [4.0, 0.0, 0.0, 100.0, 0.0, 4.0, 0.5, -200.0, 0.0, 0.0, 40.0, 1000.0]
SCALE_TRANSLATE = [4.0, 0.0, 0.0, 1000.0, 0.0, 4.0, 0.0, -2000.0, 0.0, 0.0, 40.0, 50000.0]


# --- helpers: layers --------------------------------------------------------------------------


def make_layer(tmp_path: Path, name: str = "layer", voxel_offset: list[int] | None = None) -> str:
    """A segmentation layer with mesh and skeleton directories; returns its file:// URL."""
    url = "file://" + str(tmp_path / name)
    info = CloudVolume.create_new_info(
        1, "segmentation", "uint64", "raw", RESOLUTION, voxel_offset or [0, 0, 0], [512, 512, 64],
        mesh="mesh", skeletons="skeletons",
    )  # fmt: skip
    CloudVolume(url, info=info, progress=False).commit_info()
    return url


def ours(url: str) -> CloudVolume:
    return CloudVolume(url, progress=False)


def theirs(url: str) -> Any:
    return cloudvolume.CloudVolume(url, progress=False)


def local(url: str, *parts: str) -> str:
    return os.path.join(url[len("file://") :], *parts)


# --- helpers: meshes -----------------------------------------------------------------------------


def sphere(
    segid: int,
    center: tuple[float, float, float] = (500.0, 400.0, 300.0),
    radius: float = 120.0,
    rings: int = 10,
    seed: int = 0,
    grid: float | None = None,
) -> Mesh:
    """A closed UV sphere (nm) with some noise; with ``grid`` its coordinates are snapped to it."""
    return uv_sphere(segid, center, radius, rings, seed, noise=0.03, grid=grid)


def triangles(mesh: Any) -> np.ndarray:
    """The triangles as corner coordinates (as stored: corner order kept), in a canonical order."""
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces, np.int64)
    return sorted_rows(vertices[faces].reshape(-1, 9))


def assert_same_mesh(actual: Any, expected: Any) -> None:
    """The same arrays, vertex for vertex and face for face (dtype of vertices aside)."""
    np.testing.assert_array_equal(np.asarray(actual.vertices, np.float32), np.asarray(expected.vertices))
    np.testing.assert_array_equal(np.asarray(actual.faces, np.int64), np.asarray(expected.faces, np.int64))


def match_triangles(actual: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    """(n, 3, 3) corner coordinates: the same triangles, each to ``rtol``, up to order and rotation.

    For float results read by different arithmetic (no canonical sort is safe then): every
    expected triangle is paired with a distinct actual one whose corners, rotated
    cyclically (orientation kept), are within tolerance.
    """
    assert actual.shape == expected.shape, f"{len(actual)} triangles, expected {len(expected)}"
    scale = np.abs(expected).max()
    nearest = np.full((len(expected), len(actual)), np.inf)
    for turn in range(3):
        rotated = np.roll(actual, turn, axis=1).reshape(len(actual), 9)
        gap = np.abs(expected.reshape(-1, 1, 9) - rotated[None]).max(-1)
        nearest = np.minimum(nearest, gap)
    best = nearest.argmin(1)
    assert nearest.min(1).max() <= rtol * scale, f"worst triangle off by {nearest.min(1).max()}"
    assert len(set(best.tolist())) == len(expected), "two expected triangles matched the same one"


def corners(mesh: Any) -> np.ndarray:
    return np.asarray(mesh.vertices, np.float64)[np.asarray(mesh.faces, np.int64)]


def split_fragments(mesh: Mesh, parts: int) -> list[Mesh]:
    """The mesh's faces in ``parts`` groups, each a fragment with its own copy of the vertices it uses."""
    out = []
    for faces in np.array_split(mesh.faces, parts):
        used, local_faces = np.unique(faces, return_inverse=True)
        out.append(Mesh(mesh.vertices[used], local_faces.reshape(-1, 3), segid=mesh.segid))
    return out


# --- 1. legacy meshes --------------------------------------------------------------------------------


def legacy_meshes() -> dict[int, Mesh]:
    """Three segments; 11 shares vertices (not faces) with 7, so consolidating merges across them."""
    one = sphere(7, seed=1)
    two = sphere(9, center=(900.0, 300.0, 200.0), radius=80.0, rings=7, seed=2)
    shared = Mesh(np.vstack([one.vertices[:3], [[0.0, 0.0, 0.0]]]), [[1, 0, 3], [2, 1, 3]], segid=11)
    return {7: one, 9: two, 11: shared}


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_cloudvolume_reads_our_legacy_meshes(cv_env: Path, tmp_path: Path, compress: str | None) -> None:
    url = make_layer(tmp_path)
    meshes = legacy_meshes()
    vol = ours(url)
    vol.mesh.put(list(meshes.values()), compress=compress)
    suffix = ".gz" if compress else ""
    stored = sorted(n for n in os.listdir(local(url, "mesh")) if n != "info")
    assert stored == sorted([f"{s}:0" for s in meshes] + [f"{s}:0:1{suffix}" for s in meshes])
    with open(local(url, "mesh", "7:0"), "rb") as f:
        assert json.loads(f.read()) == {"fragments": ["7:0:1"]}

    cv = theirs(url)
    one = cv.mesh.get(7)
    assert isinstance(one, cloudvolume.Mesh)
    np.testing.assert_array_equal(triangles(one), triangles(meshes[7]))
    assert_same_mesh(one, vol.mesh.get(7))

    ids = [9, 7, 11]
    fused = cv.mesh.get(ids)
    mine = vol.mesh.get(ids)
    assert_same_mesh(fused, mine)
    np.testing.assert_array_equal(triangles(fused), triangles(Mesh.concatenate(*meshes.values())))
    assert len(fused.vertices) == sum(len(m.vertices) for m in meshes.values()) - 3  # 3 shared

    raw = cv.mesh.get(ids, remove_duplicate_vertices=False)
    assert_same_mesh(raw, vol.mesh.get(ids, remove_duplicate_vertices=False))
    assert_same_mesh(raw, Mesh.concatenate(*(meshes[s] for s in sorted(ids))))

    separate = cv.mesh.get(ids, fuse=False)
    mine_separate = vol.mesh.get(ids, fuse=False)
    assert sorted(separate) == sorted(mine_separate) == sorted(ids)
    for segid in ids:
        assert_same_mesh(separate[segid], meshes[segid])  # as written: nothing merged or moved
        assert_same_mesh(mine_separate[segid], meshes[segid])


def test_we_read_cloudvolume_legacy_meshes(cv_env: Path, tmp_path: Path) -> None:
    url = make_layer(tmp_path)
    meshes = legacy_meshes()
    cv = theirs(url)
    cv.mesh.put([cloudvolume.Mesh(m.vertices, m.faces, segid=s) for s, m in meshes.items()])
    names = os.listdir(local(url, "mesh"))
    assert sorted(n for n in names if n.endswith(".gz")) == sorted(f"{s}:0:1.gz" for s in meshes)

    vol = ours(url)
    for segid, mesh in meshes.items():
        got = vol.mesh.get(segid)
        np.testing.assert_array_equal(triangles(got), triangles(mesh))
        assert_same_mesh(got, cv.mesh.get(segid))
        assert_same_mesh(vol.mesh.get(segid, fuse=False)[segid], mesh)
    ids = [7, 9, 11]
    assert_same_mesh(vol.mesh.get(ids), cv.mesh.get(ids))
    assert_same_mesh(
        vol.mesh.get(ids, remove_duplicate_vertices=False), cv.mesh.get(ids, remove_duplicate_vertices=False)
    )


def write_fragmented_layer(url: str) -> dict[int, list[tuple[str, Mesh]]]:
    """Manifests of several fragments each, written by hand with cloud-volume's encoder.

    Segment 5's fragment names sort differently as strings and as numbers (1, 10, 2),
    and its manifest lists them in neither order; segment 6 has igneous-style names
    of chunk ranges (in voxels), one of them gzipped (``.gz``). Neighbouring fragments
    repeat the vertices they share: segment 6's two fragments meet on the plane
    x = 12 + 256 nm, a boundary of 64-voxel chunks of the layer (4 nm voxels from
    voxel offset 3), and both also hold the point (128, 38, 25), on no such boundary.
    """
    directory = local(url, "mesh")
    os.makedirs(directory, exist_ok=True)
    five = split_fragments(sphere(5, seed=5), 3)
    named5 = [("5:0:2", five[0]), ("5:0:10", five[1]), ("5:0:1", five[2])]
    plane = 12.0 + 256.0
    left = Mesh(
        [[plane, 30, 17], [plane, 70, 17], [plane - 30, 50, 27], [128, 38, 25]], [[0, 1, 2], [0, 2, 3]]
    )
    right = Mesh(
        [[plane, 70, 17], [plane, 30, 17], [plane + 30, 50, 27], [128, 38, 25]], [[0, 1, 2], [1, 3, 2]]
    )
    named6 = [("6:0:67-131_0-64_0-64", right), ("6:0:3-67_0-64_0-64", left)]
    for name, mesh in named5 + named6:
        data = cloudvolume.Mesh(mesh.vertices, mesh.faces, normals=None).to_precomputed()
        if name == "6:0:3-67_0-64_0-64":
            with open(os.path.join(directory, name + ".gz"), "wb") as f:
                f.write(gzip.compress(data))
        else:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
    for segid, named in ((5, named5), (6, named6)):
        with open(os.path.join(directory, f"{segid}:0"), "w") as f:
            json.dump({"fragments": [name for name, _ in named]}, f)
    return {5: named5, 6: named6}


GET_ARGS = [
    pytest.param({}, id="fused-consolidated"),
    pytest.param({"remove_duplicate_vertices": False}, id="fused-as-stored"),
    pytest.param({"fuse": False}, id="not-fused"),
    pytest.param({"fuse": False, "remove_duplicate_vertices": False}, id="not-fused-as-stored"),
]


@pytest.mark.parametrize("args", GET_ARGS)
@pytest.mark.parametrize("ids", [[5, 6], [6, 5], [6]], ids=str)
def test_we_merge_manifest_fragments_as_cloudvolume_does(
    cv_env: Path, tmp_path: Path, ids: list[int], args: dict[str, Any]
) -> None:
    url = make_layer(tmp_path, voxel_offset=[3, 0, 0])
    written = write_fragmented_layer(url)
    expected = theirs(url).mesh.get(ids, **args)
    got = ours(url).mesh.get(ids, **args)
    if args.get("fuse", True):
        assert_same_mesh(got, expected)
    else:
        assert sorted(got) == sorted(expected) == sorted(ids)
        for segid in ids:
            assert_same_mesh(got[segid], expected[segid])
            # the fragments, in the order of their names as strings
            in_order = [mesh for _, mesh in sorted(written[segid], key=lambda item: item[0])]
            assert_same_mesh(got[segid], Mesh.concatenate(*in_order))


def test_chunk_size_deduplication_uses_the_layers_voxel_grid_as_cloudvolume_does(
    cv_env: Path, tmp_path: Path
) -> None:
    """``get(..., chunk_size=...)`` merges the vertices doubled on chunk boundaries only.

    cloud-volume takes ``chunk_size`` in voxels of the mesh's mip (here mip 0, 4 x 4 x 40
    nm) and puts the boundaries at ``voxel_offset * resolution + k * chunk_size * resolution``
    nm: with chunk_size 64 and voxel offset (3, 0, 0), at x = 12 + 256 k nm. So segment
    6's pair on x = 268 is merged and its pair at (128, 38, 25) is not (128 - 12 = 116 nm
    is no multiple of 256; nor are 38 and 25 of 256 and 2560).
    """
    url = make_layer(tmp_path, voxel_offset=[3, 0, 0])
    write_fragmented_layer(url)
    expected = theirs(url).mesh.get(6, chunk_size=[64, 64, 64])
    doubled = [v for v in np.unique(expected.vertices, axis=0) if (expected.vertices == v).all(1).sum() == 2]
    assert np.asarray(doubled).tolist() == [[128.0, 38.0, 25.0]]  # cloud-volume's own behaviour
    assert len(expected.vertices) == 6  # 8 stored, the 2 pairs on x = 268 merged
    got = ours(url).mesh.get(6, chunk_size=[64, 64, 64])
    assert_same_mesh(got, expected)
    both = [5, 6]
    assert_same_mesh(
        ours(url).mesh.get(both, chunk_size=[64] * 3), theirs(url).mesh.get(both, chunk_size=[64] * 3)
    )


# --- 2. saving meshes to files ---------------------------------------------------------------------


def test_save_names_and_contents_match_cloudvolume(
    cv_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_layer(tmp_path)
    # on a 1/4 nm grid: the 5 decimals of cloud-volume's OBJ text are exact
    meshes = [sphere(7, seed=1, grid=0.25), sphere(9, center=(900.0, 300.0, 200.0), rings=6, grid=0.25)]
    ours(url).mesh.put(meshes)
    (tmp_path / "cv").mkdir()
    (tmp_path / "ours").mkdir()
    monkeypatch.chdir(tmp_path / "cv")
    cv = theirs(url)
    cv.mesh.save(7, file_format="obj")
    cv.mesh.save([7, 9], file_format="obj")
    monkeypatch.chdir(tmp_path / "ours")
    vol = ours(url)
    assert vol.mesh.save(7) == "7.obj"
    assert vol.mesh.save([7, 9], file_format="obj") == "7_9.obj"
    assert (
        sorted(os.listdir(tmp_path / "cv")) == sorted(os.listdir(tmp_path / "ours")) == ["7.obj", "7_9.obj"]
    )
    for name in ("7.obj", "7_9.obj"):
        a = trimesh.load(str(tmp_path / "cv" / name), force="mesh", process=False)
        b = trimesh.load(str(tmp_path / "ours" / name), force="mesh", process=False)
        np.testing.assert_array_equal(sorted_rows(b.vertices), sorted_rows(a.vertices))
        np.testing.assert_array_equal(triangles(b), triangles(a))
    both = trimesh.load(str(tmp_path / "ours" / "7_9.obj"), force="mesh", process=False)
    np.testing.assert_array_equal(triangles(both), triangles(Mesh.concatenate(*meshes)))


# --- 3. multi-resolution meshes ----------------------------------------------------------------------

STORAGES = ["unsharded", "sharded-raw", "sharded-gzip"]


def multires_layer(tmp_path: Path, bits: int, storage: str, transform: list[float]) -> str:
    url = make_layer(tmp_path)
    vol = ours(url)
    vol.mesh.meta.to_multi_resolution(bits, transform=transform)
    if storage != "unsharded":
        vol.mesh.meta.to_sharded(10)
        vol.mesh.meta.info["sharding"]["data_encoding"] = storage.split("-")[1]
    vol.mesh.meta.commit_info()
    return url


def multires_meshes() -> dict[int, list[Mesh]]:
    """Two segments of two levels of detail (nm), far from the origin like real data."""
    center = (1800.0, -900.0, 61000.0)
    return {
        21: [sphere(21, center, 400.0, rings=14, seed=1), sphere(21, center, 400.0, rings=6, seed=2)],
        1000000007: [
            sphere(0, (2600.0, -500.0, 60500.0), 250.0, rings=9, seed=3),
            sphere(0, (2600.0, -500.0, 60500.0), 250.0, rings=5, seed=4),
        ],
    }


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("bits", [10, 16])
def test_cloudvolume_reads_our_multires_meshes(cv_env: Path, tmp_path: Path, bits: int, storage: str) -> None:
    url = multires_layer(tmp_path, bits, storage, SCALE_TRANSLATE)
    meshes = multires_meshes()
    vol = ours(url)
    vol.mesh.put(meshes, chunk_shape=[64, 64, 8])  # stored units: 256 x 256 x 320 nm nodes
    files = sorted(os.listdir(local(url, "mesh")))
    if storage == "unsharded":
        assert files == sorted(["info", *(f"{s}{ext}" for s in meshes for ext in ("", ".index"))])
    else:
        assert files[-1] == "info"
        assert all(name.endswith(".shard") for name in files[:-1])

    cv = theirs(url)
    ids = list(meshes)
    for lod in (0, 1):
        got = vol.mesh.get(ids, lod=lod)
        expected = cv.mesh.get(ids, lod=lod)
        assert sorted(expected) == sorted(got) == sorted(ids)
        for segid in ids:
            mine, cvs = got[segid], expected[segid]
            # the same fragments decoded in the same order: the same arrays to float rounding
            np.testing.assert_array_equal(np.asarray(mine.faces, np.int64), np.asarray(cvs.faces, np.int64))
            np.testing.assert_allclose(mine.vertices, cvs.vertices, rtol=1e-6, atol=1e-3)
            # and the meshes written, to the quantization step (in nm, the z axis's is coarsest)
            original = meshes[segid][lod]
            step = 40.0 * 8 * 2**lod / (2**bits - 1)
            assert surface_area(mine) == pytest.approx(
                surface_area(original), rel=1e-3 if bits == 16 else 2e-2
            )
            nearest = np.abs(original.vertices[:, None, :] - mine.vertices[None]).max(-1).min(1)
            assert nearest.max() <= step, f"lod {lod}: an original vertex is {nearest.max()} nm away"
    coarsest = vol.mesh.get(ids, lod=-1)
    np.testing.assert_array_equal(coarsest[21].faces, vol.mesh.get(21, lod=1)[21].faces)


def test_multires_fragments_unconcatenated_as_cloudvolume_gives_them(cv_env: Path, tmp_path: Path) -> None:
    """``get(ids, lod=k, concat=False)``: ``{segid: [one Mesh per non-empty fragment]}``, in manifest order."""
    url = multires_layer(tmp_path, 16, "unsharded", SCALE_TRANSLATE)
    meshes = multires_meshes()
    ours(url).mesh.put(meshes, chunk_shape=[64, 64, 8])
    ids = list(meshes)
    for lod in (0, 1):
        expected = theirs(url).mesh.get(ids, lod=lod, concat=False)
        got = ours(url).mesh.get(ids, lod=lod, concat=False)
        assert sorted(got) == sorted(expected) == sorted(ids)
        for segid in ids:
            assert isinstance(expected[segid], list)
            if lod == 0:
                assert len(expected[segid]) > 1  # the octree cut the finest level into several fragments
            assert isinstance(got[segid], list), f"segment {segid}: {type(got[segid]).__name__}, not a list"
            assert len(got[segid]) == len(expected[segid])
            for mine, cvs in zip(got[segid], expected[segid]):
                np.testing.assert_array_equal(
                    np.asarray(mine.faces, np.int64), np.asarray(cvs.faces, np.int64)
                )
                np.testing.assert_allclose(mine.vertices, cvs.vertices, rtol=1e-6, atol=1e-3)


def morton(position: tuple[int, int, int]) -> int:
    code = 0
    for bit in range(10):
        for axis in range(3):
            code |= ((position[axis] >> bit) & 1) << (3 * bit + axis)
    return code


def draco_fragment(positions: np.ndarray, faces: np.ndarray, bits: int) -> bytes:
    """Integer positions stored exactly: Draco's quantization set to the identity, as meshes.md needs."""
    top = 2**bits - 1
    return bytes(
        DracoPy.encode(
            positions.astype(np.float32),
            faces.astype(np.uint32),
            quantization_bits=bits,
            quantization_range=top,
            quantization_origin=[0, 0, 0],
        )
    )


def spec_layer(url: str, segid: int, bits: int, transform: list[float]) -> list[np.ndarray]:
    """An unsharded multi-resolution mesh of two levels, written field by field from meshes.md.

    Returns each level's triangles as (n, 3, 3) model (nm) coordinates, by the spec's formula.
    """
    rng = np.random.default_rng(bits)
    top = 2**bits - 1
    chunk_shape = np.array([10.0, 12.0, 3.0])
    grid_origin = np.array([-5.0, 100.0, 7.5])
    vertex_offsets = np.array([[0.0, 0.0, 0.0], [0.5, -0.25, 1.0]])
    # level 0: three nodes with fragments and one without (an empty fragment), level 1: one node
    nodes = [[(1, 0, 0), (0, 1, 1), (1, 1, 0), (0, 0, 0)], [(0, 0, 0)]]
    empty = {(0, 1, 1)}
    nodes = [sorted(level, key=morton) for level in nodes]
    fragments, expected = [], []
    for lod, level in enumerate(nodes):
        data, tris = [], []
        for node in level:
            if lod == 0 and node in empty:
                data.append(b"")
                continue
            # a tetrahedron and a loose triangle; the corners of the node's range included
            positions = np.vstack([[0, 0, 0], [top, top, top], rng.integers(0, top + 1, (5, 3))])
            faces = np.array([[0, 2, 3], [0, 3, 4], [0, 4, 2], [2, 4, 3], [1, 5, 6]])
            data.append(draco_fragment(positions, faces, bits))
            stored = (
                grid_origin
                + vertex_offsets[lod]
                + chunk_shape * 2**lod * (np.asarray(node, np.float64) + positions / top)
            )
            matrix = np.asarray(transform, np.float64).reshape(3, 4)
            model = stored @ matrix[:, :3].T + matrix[:, 3]
            tris.append(model[faces])
        fragments.append(data)
        expected.append(np.concatenate(tris))
    manifest = [
        struct.pack("<3f", *chunk_shape),
        struct.pack("<3f", *grid_origin),
        struct.pack("<I", len(nodes)),
        struct.pack(f"<{len(nodes)}f", *(2.0**lod for lod in range(len(nodes)))),
        struct.pack(f"<{3 * len(nodes)}f", *vertex_offsets.reshape(-1)),
        struct.pack(f"<{len(nodes)}I", *(len(level) for level in nodes)),
    ]
    for level, data in zip(nodes, fragments):
        for axis in range(3):  # C order [3, n]: every x, then every y, then every z
            manifest.append(struct.pack(f"<{len(level)}I", *(node[axis] for node in level)))
        manifest.append(struct.pack(f"<{len(level)}I", *(len(d) for d in data)))
    directory = local(url, "mesh")
    os.makedirs(directory, exist_ok=True)
    info = {"@type": "neuroglancer_multilod_draco", "vertex_quantization_bits": bits,
            "transform": transform, "lod_scale_multiplier": 1.0}  # fmt: skip
    with open(os.path.join(directory, "info"), "w") as f:
        json.dump(info, f)
    with open(os.path.join(directory, f"{segid}.index"), "wb") as f:
        f.write(b"".join(manifest))
    with open(os.path.join(directory, str(segid)), "wb") as f:
        f.write(b"".join(d for data in fragments for d in data))
    return expected


@pytest.mark.parametrize("transform", [SCALE_TRANSLATE, TRANSFORM], ids=["scale-translate", "shear"])
@pytest.mark.parametrize("bits", [10, 16])
def test_both_read_a_multires_mesh_written_from_the_spec(
    cv_env: Path, tmp_path: Path, bits: int, transform: list[float]
) -> None:
    url = make_layer(tmp_path)
    expected = spec_layer(url, 77, bits, transform)
    vol, cv = ours(url), theirs(url)
    for lod, triangles_nm in enumerate(expected):
        for reader, got in (("ours", vol.mesh.get(77, lod=lod)), ("cloud-volume", cv.mesh.get(77, lod=lod))):
            mesh = got[77]
            assert len(mesh.vertices) == len(np.unique(triangles_nm.reshape(-1, 3), axis=0)), reader
            match_triangles(corners(mesh), triangles_nm, rtol=1e-6)
    assert_same_mesh(vol.mesh.get(77, lod=-1)[77], vol.mesh.get(77, lod=1)[77])


# --- 4. skeletons -------------------------------------------------------------------------------------

ATTRIBUTES = [
    {"id": "radius", "data_type": "float32", "num_components": 1},
    {"id": "vertex_types", "data_type": "uint8", "num_components": 1},
    {"id": "labels", "data_type": "uint16", "num_components": 2},
]


def sharding_spec(hash_: str, minishard: int, shard: int, index: str, data: str) -> dict[str, Any]:
    return {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 0, "hash": hash_,
            "minishard_bits": minishard, "shard_bits": shard,
            "minishard_index_encoding": index, "data_encoding": data}  # fmt: skip


# cloud-volume uploads one shard at a time: every id of SKELETON_IDS is in shard 1 of the
# identity spec ((id >> 1) & 1 == 1), and the murmur spec has a single shard.
SKELETON_IDS = [3, 6, 1000003]
SKELETON_SHARDINGS = [
    pytest.param(None, id="unsharded"),
    pytest.param(sharding_spec("murmurhash3_x86_128", 2, 0, "gzip", "gzip"), id="sharded-murmur-gzip"),
    pytest.param(sharding_spec("identity", 1, 1, "raw", "raw"), id="sharded-identity-raw"),
]


def skeleton_layer(tmp_path: Path, sharding: dict[str, Any] | None, writer: Any) -> str:
    """A layer whose skeleton info ``writer`` (either library's CloudVolume) commits."""
    url = make_layer(tmp_path)
    meta = writer(url).skeleton.meta
    meta.info["vertex_attributes"] = [dict(a) for a in ATTRIBUTES]
    meta.info["transform"] = list(TRANSFORM)
    if sharding is not None:
        meta.info["sharding"] = dict(sharding)
    meta.commit_info()
    with open(local(url, "skeletons", "info")) as f:
        info = json.load(f)
    assert info["@type"] == "neuroglancer_skeletons"
    assert info["transform"] == TRANSFORM
    assert info["vertex_attributes"] == ATTRIBUTES
    assert info.get("sharding") == sharding
    return url


def skeleton_arrays(segid: int, n: int) -> dict[str, np.ndarray]:
    """Stored (voxel) coordinates on a 1/4 grid, a chain with a branch, and every attribute."""
    rng = np.random.default_rng(segid % 1000)
    vertices = (rng.integers(0, 2000, (n, 3)) / 4).astype(np.float32)
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], 1)
    edges = np.vstack([edges, [[0, n - 1]]]).astype(np.uint32)
    return {
        "vertices": vertices,
        "edges": edges,
        "radius": rng.random(n).astype(np.float32) * 50,
        "vertex_types": rng.integers(0, 256, n).astype(np.uint8),
        "labels": rng.integers(0, 2**16, (n, 2)).astype(np.uint16),
    }


def physical(vertices: np.ndarray) -> np.ndarray:
    matrix = np.asarray(TRANSFORM, np.float64).reshape(3, 4)
    return (vertices.astype(np.float64) @ matrix[:, :3].T + matrix[:, 3]).astype(np.float32)


def assert_skeleton(skel: Any, arrays: dict[str, np.ndarray], segid: int) -> None:
    assert int(skel.id) == segid
    np.testing.assert_array_equal(np.asarray(skel.vertices, np.float32), physical(arrays["vertices"]))
    np.testing.assert_array_equal(skel.edges, arrays["edges"])
    for name in ("radius", "vertex_types", "labels"):
        value = np.asarray(getattr(skel, name))
        assert value.dtype == arrays[name].dtype, name
        np.testing.assert_array_equal(value.reshape(arrays[name].shape), arrays[name])


@pytest.mark.parametrize("sharding", SKELETON_SHARDINGS)
def test_we_read_cloudvolume_skeletons(cv_env: Path, tmp_path: Path, sharding: dict[str, Any] | None) -> None:
    url = skeleton_layer(tmp_path, sharding, theirs)
    cv = theirs(url)
    assert cv.skeleton.meta.info["vertex_attributes"] == ATTRIBUTES
    written = {}
    skeletons = []
    for segid, n in zip(SKELETON_IDS, (17, 2, 40)):
        arrays = written[segid] = skeleton_arrays(segid, n)
        skel = cloudvolume.Skeleton(
            arrays["vertices"], arrays["edges"], arrays["radius"], arrays["vertex_types"], segid=segid,
            extra_attributes=[dict(a) for a in ATTRIBUTES],
        )  # fmt: skip
        skel.labels = arrays["labels"]
        skeletons.append(skel)
    cv.skeleton.upload(skeletons)
    names = os.listdir(local(url, "skeletons"))
    if sharding is None:
        assert sorted(names) == sorted(["info", *(f"{s}.gz" for s in SKELETON_IDS)])  # cloud-volume gzips
    else:
        assert sorted(n for n in names if n != "info") == [
            "0.shard" if sharding["shard_bits"] == 0 else "1.shard"
        ]

    vol = ours(url)
    got = vol.skeleton.get(SKELETON_IDS)
    assert [s.id for s in got] == SKELETON_IDS
    for skel in got:
        assert skel.space == "physical"
        assert_skeleton(skel, written[skel.id], skel.id)
    one = vol.skeleton.get(1000003)
    assert isinstance(one, Skeleton)
    assert_skeleton(one, written[1000003], 1000003)
    # cloud-volume's unsharded get lists skeletons in download order, not in the order asked
    for cvs in cv.skeleton.get(SKELETON_IDS):
        mine = got[SKELETON_IDS.index(int(cvs.id))]
        np.testing.assert_array_equal(mine.vertices, cvs.vertices)
        np.testing.assert_array_equal(mine.labels, cvs.labels)
    assert vol.skeleton.list().tolist() == sorted(SKELETON_IDS)


@pytest.mark.parametrize("sharding", SKELETON_SHARDINGS)
def test_cloudvolume_reads_our_skeletons(
    cv_env: Path, tmp_path: Path, sharding: dict[str, Any] | None
) -> None:
    url = skeleton_layer(tmp_path, sharding, ours)
    ids = [*SKELETON_IDS, 4]  # 4 is in shard 0 of the identity spec: cloud-volume reads both
    written = {}
    skeletons = []
    for segid, n in zip(ids, (17, 2, 40, 9)):
        arrays = written[segid] = skeleton_arrays(segid, n)
        skel = Skeleton(arrays["vertices"], arrays["edges"], arrays["radius"], arrays["vertex_types"], segid=segid,
                        extra_attributes=[dict(a) for a in ATTRIBUTES])  # fmt: skip
        skel.labels = arrays["labels"]
        skeletons.append(skel)
    # one of them handed over in physical space: stored through the inverse transform
    moved = skeletons[-1].clone()
    moved.vertices = physical(moved.vertices)
    moved.space = "physical"
    skeletons[-1] = moved
    vol = ours(url)
    vol.skeleton.upload(skeletons)

    cv = theirs(url)
    # cloud-volume's unsharded get lists skeletons in download order, not in the order asked
    got = sorted(cv.skeleton.get(ids), key=lambda skel: ids.index(int(skel.id)))
    assert [int(s.id) for s in got] == ids
    for skel in got[:-1]:
        assert_skeleton(skel, written[int(skel.id)], int(skel.id))
    last = got[-1]
    np.testing.assert_allclose(last.vertices, physical(written[4]["vertices"]), rtol=1e-6)
    np.testing.assert_array_equal(last.labels, written[4]["labels"])
    for mine, cvs in zip(vol.skeleton.get(ids), got):
        np.testing.assert_array_equal(mine.vertices, cvs.vertices)
        np.testing.assert_array_equal(mine.edges, cvs.edges)
        np.testing.assert_array_equal(mine.radius, cvs.radius)


# --- 5. segment properties ----------------------------------------------------------------------------

SPEC_TYPES = ("label", "description", "string", "tags", "number")
SPEC_NUMBER_TYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32")


def check_against_spec(document: Any) -> None:
    """Every rule of segment_properties.md, checked on the parsed JSON."""
    assert isinstance(document, dict)
    assert document["@type"] == "neuroglancer_segment_properties"
    inline = document["inline"]
    ids = inline["ids"]
    assert all(isinstance(i, str) and i.isdigit() and str(int(i)) == i and int(i) < 2**64 for i in ids)
    properties = inline["properties"]
    names = [p["id"] for p in properties]
    assert len(set(names)) == len(names), "property ids must be unique"
    for kind in ("label", "description", "tags"):
        assert sum(p["type"] == kind for p in properties) <= 1, f"at most one {kind}"
    for prop in properties:
        kind = prop["type"]
        assert kind in SPEC_TYPES
        assert len(prop["values"]) == len(ids)
        assert ("tags" in prop) == (kind == "tags")
        assert "tag_descriptions" not in prop or kind == "tags"
        assert "description" not in prop or kind != "tags"
        assert ("data_type" in prop) == (kind == "number")
        if kind in ("label", "description", "string"):
            assert all(isinstance(v, str) for v in prop["values"])
        elif kind == "number":
            assert prop["data_type"] in SPEC_NUMBER_TYPES
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in prop["values"])
            if prop["data_type"] != "float32":
                info = np.iinfo(prop["data_type"])
                assert all(float(v).is_integer() and info.min <= v <= info.max for v in prop["values"])
        else:
            tags = prop["tags"]
            assert all(isinstance(t, str) and t and not t.startswith("#") and " " not in t for t in tags)
            assert len({t.lower() for t in tags}) == len(tags), "tags match case-insensitively"
            if "tag_descriptions" in prop:
                assert len(prop["tag_descriptions"]) == len(tags)
            for value in prop["values"]:
                assert all(isinstance(i, int) and 0 <= i < len(tags) for i in value)
                assert value == sorted(set(value)), "tag indexes in increasing order"


def test_segment_properties_follow_the_spec(cv_env: Path, tmp_path: Path) -> None:
    url = make_layer(tmp_path)
    vol = ours(url)
    big = 2**64 - 1  # past float64's integers: must stay exact as a string
    keyed = {
        big: {"label": "axon", "description": "far", "tags": ["Soma", "big"], "volume": 12.5, "count": 3},
        7: {"label": "dendrite", "description": "", "tags": [], "volume": 1.0, "count": -4},
        12: {"label": "", "description": "x", "tags": ["big"], "volume": 0.25, "count": 2**31 - 1},
    }
    document = vol.commit_segment_properties(keyed)
    with open(local(url, "segment_properties", "info")) as f:
        stored = json.load(f)
    with open(local(url, "info")) as f:
        assert json.load(f)["segment_properties"] == "segment_properties"
    assert stored == document
    check_against_spec(stored)
    ids = [int(i) for i in stored["inline"]["ids"]]
    assert sorted(ids) == sorted(keyed)
    by_name = {p["id"]: p for p in stored["inline"]["properties"]}
    assert {name: p["type"] for name, p in by_name.items()} == {
        "label": "label", "description": "description", "tags": "tags", "volume": "number", "count": "number",
    }  # fmt: skip
    assert by_name["volume"]["data_type"] == "float32"
    assert by_name["count"]["data_type"] == "int32"
    for row, segid in enumerate(ids):
        for name in ("label", "description", "volume", "count"):
            assert by_name[name]["values"][row] == keyed[segid][name]
        tags = by_name["tags"]
        assert [tags["tags"][i] for i in tags["values"][row]] == sorted(keyed[segid]["tags"], key=str.lower)
    assert ours(url).segment_properties == {
        segid: {**props, "tags": sorted(props["tags"], key=str.lower)} for segid, props in keyed.items()
    }

    # a finished document, with everything the spec allows, is written as given
    finished = {
        "@type": "neuroglancer_segment_properties",
        "inline": {
            "ids": ["5", "18446744073709551615"],
            "properties": [
                {"id": "name", "type": "label", "values": ["a", "b"]},
                {"id": "note", "type": "string", "description": "free text", "values": ["x y", ""]},
                {"id": "kind", "type": "tags", "tags": ["soma", "Axon"], "tag_descriptions": ["cell body", "out"],
                 "values": [[0, 1], []]},
                {"id": "size", "type": "number", "data_type": "uint8", "description": "um", "values": [0, 255]},
                {"id": "score", "type": "number", "data_type": "float32", "values": [0.5, -1e30]},
            ],
        },
    }  # fmt: skip
    vol.commit_segment_properties(finished, dirname="props")
    with open(local(url, "props", "info")) as f:
        again = json.load(f)
    assert again == finished
    check_against_spec(again)
    assert ours(url).segment_properties == {
        5: {"name": "a", "note": "x y", "kind": ["soma", "Axon"], "size": 0, "score": 0.5},
        2**64 - 1: {"name": "b", "note": "", "kind": [], "size": 255, "score": -1e30},
    }
    # cloud-volume 12.15.2 has no segment properties reader (no "segment_properties" anywhere in
    # the package), so there is nothing of theirs to compare these documents with.
    assert not hasattr(theirs(url), "segment_properties")


def test_cloudvolumes_own_mesh_and_skeleton_objects_can_be_stored(cv_env: Path, tmp_path: Path) -> None:
    """Code that builds cloud-volume's Mesh or osteoid's Skeleton (kimimaro, zmesh) stores them as they are."""
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [4, 4, 40], [0, 0, 0], [64, 64, 64],
                                       mesh="mesh", skeletons="skeletons")  # fmt: skip
    url = f"file://{tmp_path}/duck"
    vol = CloudVolume(url, info=info, progress=False)
    vol.commit_info()
    vertices = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8]], np.float32)
    faces = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], np.uint32)
    vol.mesh.put(cloudvolume.Mesh(vertices, faces, None, segid=12))
    got = vol.mesh.get(12, remove_duplicate_vertices=False)
    np.testing.assert_array_equal(got.vertices, vertices)
    np.testing.assert_array_equal(got.faces, faces)
    skel = cloudvolume.Skeleton([[0, 0, 0], [3, 4, 0], [3, 4, 12]], [[0, 1], [1, 2]], radii=[1, 2, 3],
                                vertex_types=[1, 3, 3], segid=13)  # fmt: skip
    vol.skeleton.upload(skel)
    back = vol.skeleton.get(13)
    assert back.cable_length() == pytest.approx(17.0)
    np.testing.assert_array_equal(back.radius, [1, 2, 3])
    np.testing.assert_array_equal(back.vertex_types, [1, 3, 3])
    np.testing.assert_array_equal(theirs(url).skeleton.get(13).vertices, skel.vertices)
