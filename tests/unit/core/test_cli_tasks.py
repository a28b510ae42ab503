"""``precomputed cp`` and ``precomputed downsample``."""

from __future__ import annotations

import filecmp
import os

import numpy as np
import pytest

from precomputed_core import CloudVolume, Mesh
from precomputed_core.cli import main


def _layer(tmp_path, name="src", compress="gzip"):
    info = CloudVolume.create_new_info(1, "segmentation", "uint32", "raw", [4, 4, 40], (0, 0, 0), (64, 64, 32),
                                       chunk_size=(32, 32, 16), mesh="mesh", max_mip=1)  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, compress=compress, progress=False)
    vol.commit_info()
    vol.commit_provenance()
    data = (np.arange(64 * 64 * 32).reshape(64, 64, 32) // 1000).astype(np.uint32)
    vol[:, :, :] = data
    vol.mip = 1
    vol[:, :, :] = data[::2, ::2]
    vol.mesh.put(
        Mesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32), np.array([[0, 1, 2]]), segid=7)
    )
    return vol, data


def _tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def test_cp_copies_every_object_byte_for_byte_and_resumes(tmp_path, capsys):
    _layer(tmp_path)
    assert main(["cp", f"file://{tmp_path}/src", f"file://{tmp_path}/dst", "--quiet"]) == 0
    out = capsys.readouterr().out
    files = _tree(tmp_path / "src")
    assert files == _tree(tmp_path / "dst")
    assert any(f.startswith("mesh/") for f in files)  # the mesh directory the info names
    assert all(filecmp.cmp(tmp_path / "src" / f, tmp_path / "dst" / f, shallow=False) for f in files)
    assert f"copied {len(files)} objects" in out
    # interrupted: some objects missing, one truncated; a rerun copies only those
    os.remove(tmp_path / "dst" / "4_4_40" / "0-32_0-32_0-16.gz")
    (tmp_path / "dst" / "8_8_40" / "0-32_0-32_0-16.gz").write_bytes(b"cut")
    assert main(["cp", f"file://{tmp_path}/src", f"file://{tmp_path}/dst", "--quiet"]) == 0
    assert "copied 2 objects" in capsys.readouterr().out
    assert all(filecmp.cmp(tmp_path / "src" / f, tmp_path / "dst" / f, shallow=False) for f in files)
    copy = CloudVolume(f"file://{tmp_path}/dst")
    assert copy.mesh.get(7).vertices.shape == (3, 3)


def test_downsample_command(tmp_path, capsys):
    pytest.importorskip("tinybrain")
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (2, 0, 0), (64, 64, 16),
                                       chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/img", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.full((64, 64, 16), 9, np.uint8)
    assert main(["downsample", f"file://{tmp_path}/img", "--mips", "2", "--factor", "2,2,2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "mip 1  8_8_80  32 x 32 x 8 voxels" in out
    assert "mip 2  16_16_160  16 x 16 x 4 voxels" in out
    again = CloudVolume(f"file://{tmp_path}/img")
    assert again.info["scales"][1]["voxel_offset"] == [1, 0, 0]
    assert again.info["scales"][2]["size"] == [16, 16, 4]
    # mip 2's first column covers source x 0..3, of which 0 and 1 lie outside the volume: the
    # voxels inside are repeated there, so the edge is not darkened
    assert (again.download(again.meta.bounds(2), mip=2) == 9).all()


def test_bad_factor_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["downsample", f"file://{tmp_path}/img", "--factor", "2,x,1"])
    assert "expected three integers" in capsys.readouterr().err
