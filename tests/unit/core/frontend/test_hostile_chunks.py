"""Chunks built to hurt: decompression bombs, directories where chunk files should be."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zlib

import brotli
import numpy as np
import pytest
import zstandard

from precomputed_core import CloudVolume
from precomputed_core.exceptions import DecodingError, StorageError

CHUNK = "0-64_0-64_0-64"


def _layer(tmp_path, compress="gzip"):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [128, 64, 64],
                                       chunk_size=(64, 64, 64))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/layer", info=info, progress=False, compress=compress)
    vol.commit_info()
    vol[:, :, :] = np.full((128, 64, 64), 5, np.uint8)
    return vol


def _bomb_file(path, nbytes=2**30):
    """Write ``nbytes`` of zeros gzip-compressed to ``path``, a MiB at a time."""
    coder = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(2**20)
    with open(path, "wb") as file:
        for _ in range(nbytes // 2**20):
            file.write(coder.compress(zeros))
        file.write(coder.flush())


def _peak_rss(pid):
    with open(f"/proc/{pid}/status") as file:
        return next(int(line.split()[1]) * 1024 for line in file if line.startswith("VmHWM:"))


def test_a_gzip_bomb_raises_quickly_with_bounded_memory(tmp_path):
    """A 1 MB .gz chunk that expands to 1 GiB: a DecodingError naming it, and the reader's peak
    memory (read from /proc by this process, not the reader's own count) rises < 256 MiB."""
    _layer(tmp_path)
    _bomb_file(tmp_path / "layer" / "1_1_1" / f"{CHUNK}.gz")
    assert os.path.getsize(tmp_path / "layer" / "1_1_1" / f"{CHUNK}.gz") < 1_100_000
    script = textwrap.dedent(f"""
        import sys, time
        from precomputed_core import CloudVolume
        from precomputed_core.exceptions import DecodingError
        vol = CloudVolume("file://{tmp_path}/layer", progress=False)
        vol[64:128, 0:64, 0:64]  # a good chunk: the reader is warm
        print("ready", flush=True); sys.stdin.readline()
        start = time.monotonic()
        try:
            vol[0:64, 0:64, 0:64]
        except DecodingError as err:
            print(f"raised {{time.monotonic() - start:.2f}} {{err}}", flush=True)
        sys.stdin.readline()
    """)
    reader = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "ready"
        before = _peak_rss(reader.pid)
        reader.stdin.write("\n")
        reader.stdin.flush()
        outcome = reader.stdout.readline()
        after = _peak_rss(reader.pid)
        reader.stdin.write("\n")
        reader.stdin.flush()
    finally:
        reader.communicate(timeout=60)
    assert outcome.startswith("raised "), outcome
    seconds = float(outcome.split()[1])
    assert seconds < 5
    assert f"1_1_1/{CHUNK}.gz: it expands to more than" in outcome
    assert after - before < 256 * 2**20


@pytest.mark.parametrize("suffix", [".br", ".zstd"])
def test_brotli_and_zstd_bombs_are_refused_too(tmp_path, suffix):
    vol = _layer(tmp_path, compress=None)
    chunk = tmp_path / "layer" / "1_1_1" / CHUNK
    chunk.unlink()
    zeros = bytes(2**26)  # 64 MiB of zeros, for a chunk of 256 KiB
    if suffix == ".br":
        packed = brotli.compress(zeros)
    else:
        packed = zstandard.ZstdCompressor(write_content_size=False).compress(zeros)
    chunk.with_name(CHUNK + suffix).write_bytes(packed)
    with pytest.raises(DecodingError, match=f"{CHUNK}\\{suffix}: it expands to more than"):
        vol[0:64, 0:64, 0:64]


def test_a_non_aligned_write_refuses_a_bomb_too(tmp_path):
    vol = _layer(tmp_path)
    _bomb_file(tmp_path / "layer" / "1_1_1" / f"{CHUNK}.gz", 2**26)
    vol.non_aligned_writes = True
    with pytest.raises(DecodingError, match="expands to more than"):
        vol[0:10, 0:10, 0:10] = np.zeros((10, 10, 10), np.uint8)


@pytest.mark.parametrize("fill_missing", [False, True])
def test_a_directory_where_a_chunk_should_be_is_an_error(tmp_path, fill_missing):
    vol = _layer(tmp_path, compress=None)
    chunk = tmp_path / "layer" / "1_1_1" / CHUNK
    chunk.unlink()
    chunk.mkdir()
    vol.fill_missing = fill_missing
    with pytest.raises(StorageError, match=f"{chunk}: it is a directory where an object's file should be"):
        vol[0:64, 0:64, 0:64]
    with pytest.raises(StorageError, match="is a directory"):
        vol[0:8, 0:8, 0:8]  # a part of the chunk, read by byte range
    assert int(vol[64:128, 0:64, 0:64].sum()) == 5 * 64**3  # the other chunk reads as before
