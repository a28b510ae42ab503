from __future__ import annotations

import json
import re
import subprocess
import sys

from precomputed_core.cli import main


def test_demo_in_a_given_directory(tmp_path, capsys):
    assert main(["demo", str(tmp_path), "--size", "128", "--depth", "64"]) == 0
    out = capsys.readouterr().out
    assert f"created   file://{tmp_path}/demo/image (128 x 128 x 64 uint8" in out
    assert "wrote     mip 0 from a Fortran-ordered array (the fast path): " in out
    assert "rewrote   mip 0 from a C-ordered array: " in out  # as np.zeros gives them: measured too
    assert re.search(rf"storage   {re.escape(str(tmp_path.resolve()))} on \S+ \(.* at /.*\): ", out)
    assert "verified  full read and 20 random unaligned cutouts: identical" in out
    assert "MB/s" in out
    info = json.loads((tmp_path / "demo" / "image" / "info").read_text())
    assert [s["key"] for s in info["scales"]] == ["8_8_40", "16_16_40"]
    assert len(list((tmp_path / "demo" / "image" / "8_8_40").iterdir())) == 4


def test_demo_without_a_directory_uses_a_new_temporary_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["demo", "--size", "64", "--depth", "64"]) == 0
    created = [p for p in tmp_path.iterdir() if p.name.startswith("precomputed-demo-")]
    assert len(created) == 1
    assert (created[0] / "demo" / "image" / "info").exists()


def test_info_summary_and_json(tmp_path, capsys):
    main(["demo", str(tmp_path), "--size", "64", "--depth", "64"])
    capsys.readouterr()
    assert main(["info", f"{tmp_path}/demo/image"]) == 0
    out = capsys.readouterr().out
    assert "data type   uint8" in out
    assert (
        "0    8_8_40    64 x 64 x 64  0 x 0 x 0    64 x 64 x 64  8 x 8 x 40       raw       no       1" in out
    )
    assert main(["info", "--json", f"file://{tmp_path}/demo/image"]) == 0
    assert json.loads(capsys.readouterr().out)["data_type"] == "uint8"


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("precomputed: error: InfoUnavailableError: no info file at")
    assert main(["info", "az://bucket/x"]) == 2
    assert "no driver for 'az'" in capsys.readouterr().err


def test_console_script_is_installed(tmp_path):
    out = subprocess.run([sys.executable, "-m", "precomputed_core.cli", "plugins"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert "file   store   precomputed" in out.stdout
    assert "s3     store   precomputed  precomputed_drivers.s3:S3Store" in out.stdout
    assert "boss   volume  precomputed  precomputed_drivers.boss:BossVolume" in out.stdout
    assert re.search(r"raw +codec +precomputed +precomputed_codecs.raw:RawCodec +ok", out.stdout)
    assert re.search(r"compressed_segmentation +codec +precomputed", out.stdout)


def test_demo_says_what_storage_it_measured(monkeypatch, tmp_path):
    from precomputed_core.cli import _demo

    monkeypatch.setattr(
        _demo, "_mounts", lambda: [("/", "ext4", "/dev/sda1"), (str(tmp_path), "tmpfs", "tmpfs")]
    )
    assert _demo.file_system_of(str(tmp_path / "x")) == (
        f"{tmp_path}/x on tmpfs (tmpfs at {tmp_path}): memory-backed: the figures measure the library, not a disk"
    )
    assert _demo.file_system_of("/srv").startswith("/srv on ext4 (/dev/sda1 at /): a disk; the reads follow")
    monkeypatch.setattr(_demo, "_mounts", list)
    assert _demo.file_system_of("/srv") == f"/srv (its file system type is not known on {sys.platform})"


def _layer_with_scales(root):
    import numpy as np

    from precomputed_core import CloudVolume

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [100, 64, 20],
                                       chunk_size=[32, 32, 16], max_mip=1)  # fmt: skip
    vol = CloudVolume(f"file://{root}/layer", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.ones((100, 64, 20), np.uint8)
    return vol


def test_ls_lists_objects_and_bytes_per_scale(tmp_path, capsys):
    _layer_with_scales(tmp_path)  # mip 0 written (4 x 2 x 2 = 16 chunks, 128,000 bytes), mip 1 empty
    (tmp_path / "layer" / "1_1_1" / "0-32_0-32_0-16").unlink()
    assert main(["ls", f"file://{tmp_path}/layer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"layer  file://{tmp_path}/layer"
    assert lines[1].split() == ["mip", "key", "size", "(vx)", "encoding", "objects", "found", "of", "a", "full",
                                "scale", "bytes"]  # fmt: skip
    assert lines[3].split() == ["0", "1_1_1", "100", "x", "64", "x", "20", "raw", "chunks", "15", "16", "(94%)",
                                f"{(100 * 64 * 20 - 32 * 32 * 16) / 1e3:.1f}", "kB"]  # fmt: skip
    assert lines[4].split()[:10] == ["1", "2_2_1", "50", "x", "32", "x", "20", "raw", "chunks", "0"]
    assert lines[-1] == f"total  15 objects, {lines[3].split()[-2]} kB in 2 scales"


def test_ls_through_python_dash_m(tmp_path):
    _layer_with_scales(tmp_path)
    done = subprocess.run([sys.executable, "-m", "precomputed_core", "ls", "--progress", str(tmp_path / "layer")],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "total  16 objects, " in done.stdout
    assert "Listing scales:" in done.stderr


def test_ls_of_a_missing_layer_is_a_one_line_error(tmp_path, capsys):
    assert main(["ls", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith("precomputed: error: InfoUnavailableError: no info file at")
