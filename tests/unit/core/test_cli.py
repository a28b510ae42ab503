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
    assert "wrote     mip 0 from a C-ordered array: " in out  # as np.zeros gives them: said, not hidden
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
