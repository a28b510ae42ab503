"""Skeleton.save and Skeleton.load: the file name picks format and compression, as in osteoid."""

from __future__ import annotations

import gzip
import lzma

import numpy as np
import pytest

from precomputed_core.exceptions import DecodingError
from precomputed_core.skeletons import Skeleton

VERTS = np.array([[0, 0, 0], [3, 4, 0], [3, 4, 12], [6, 8, 0]], dtype=np.float32)
EDGES = np.array([[0, 1], [1, 2], [1, 3]], dtype=np.uint32)


def skeleton():
    return Skeleton(VERTS, EDGES, radii=[1, 2, 3, 4], vertex_types=[1, 3, 3, 2])


@pytest.mark.parametrize(
    ("name", "unpack"),
    [
        ("cell", lambda b: b),
        ("cell.bin", lambda b: b),
        ("cell.gz", gzip.decompress),
        ("cell.xz", lzma.decompress),
        ("cell.lzma", lzma.decompress),
        ("cell.swc.gz", gzip.decompress),  # osteoid's rule: the name must end in swc for SWC
    ],
)
def test_binary_files_hold_the_precomputed_bytes(tmp_path, name, unpack):
    path = tmp_path / name
    skeleton().save(path)
    assert unpack(path.read_bytes()) == skeleton().to_precomputed()
    assert Skeleton.load(path) == skeleton()
    assert Skeleton.load(str(path)) == skeleton()


def test_swc_files_hold_swc_text(tmp_path):
    path = tmp_path / "cell.swc"
    skeleton().save(str(path))
    text = path.read_text()
    assert text.startswith("# ORIGINAL_SOURCE precomputed")
    loaded = Skeleton.load(path)
    assert Skeleton.equivalent(loaded, skeleton())


def test_load_with_mmap_copies_the_arrays_out(tmp_path):
    path = tmp_path / "cell"
    skeleton().save(path)
    loaded = Skeleton.load(path, allow_mmap=True)
    path.write_bytes(b"")  # the file may change once loaded
    assert loaded == skeleton()
    assert loaded.vertices.flags.writeable


def test_a_bad_file_raises_naming_the_problem(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    for allow_mmap in (False, True):
        with pytest.raises(DecodingError, match="too short"):
            Skeleton.load(path, allow_mmap=allow_mmap)
    with pytest.raises(FileNotFoundError):
        Skeleton.load(tmp_path / "missing")


# --- osteoid (cloud-volume's Skeleton) as the oracle -------------------------------------------


@pytest.fixture(scope="module")
def osteoid():
    import osteoid  # cloud-volume's Skeleton; the interop session installs it

    return osteoid


@pytest.mark.interop
@pytest.mark.parametrize("name", ["cell", "cell.gz", "cell.xz", "cell.swc", "cell.swc.gz"])
def test_files_pass_between_us_and_osteoid(osteoid, tmp_path, name):
    ours = skeleton()
    theirs = osteoid.Skeleton(VERTS, EDGES, radii=ours.radius, vertex_types=ours.vertex_types)
    ours.save(tmp_path / f"ours-{name}")
    theirs.save(str(tmp_path / f"theirs-{name}"))
    from_ours = osteoid.Skeleton.load(str(tmp_path / f"ours-{name}"))
    from_theirs = Skeleton.load(tmp_path / f"theirs-{name}")
    for loaded in (from_ours, from_theirs):
        # SWC may list a branch point's children in another order: compare by position.
        again = Skeleton(
            loaded.vertices, loaded.edges, np.ravel(loaded.radius), np.ravel(loaded.vertex_types)
        )
        assert Skeleton.equivalent(again, ours)
        if not name.endswith("swc"):
            assert loaded.vertices.tolist() == VERTS.tolist()
            assert loaded.edges.tolist() == EDGES.tolist()
