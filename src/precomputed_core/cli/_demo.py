"""``precomputed demo``: write, read and verify a sample volume, and say what was measured."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ..frontend import CloudVolume
from ._text import xyz

if TYPE_CHECKING:
    import argparse

__all__ = ["file_system_of", "run_demo"]

#: What a file system type means for a throughput figure measured on it.
_KINDS = {
    "tmpfs": "memory-backed: the figures measure the library, not a disk",
    "ramfs": "memory-backed: the figures measure the library, not a disk",
    "overlay": "a container's layered file system",
    "nfs": "a network file system", "nfs4": "a network file system", "cifs": "a network file system",
    "smb3": "a network file system", "9p": "a file system shared by a virtual machine's host",
    "fuse": "a FUSE file system", "virtiofs": "a file system shared by a virtual machine's host",
}  # fmt: skip


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, type, device) of each mount, from /proc/self/mounts (Linux)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    mounts = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3:
            # Spaces and tabs in mount points are escaped as octal there.
            point = fields[1].encode().decode("unicode_escape")
            mounts.append((point, fields[2], fields[0]))
    return mounts


def file_system_of(directory: str) -> str:
    """The file system ``directory`` lives on, and what that means for a measurement."""
    real = os.path.realpath(directory)
    found = [m for m in _mounts() if real == m[0] or real.startswith(m[0].rstrip("/") + "/")]
    if not found:
        return f"{real} (its file system type is not known on {sys.platform})"
    point, kind, device = max(found, key=lambda m: len(m[0]))
    meaning = (
        _KINDS.get(kind)
        or _KINDS.get(kind.split(".")[0])
        or ("a disk; the reads follow the writes, so they come from the page cache, not the disk")
    )
    return f"{real} on {kind} ({device} at {point}): {meaning}"


def _demo_data(shape: tuple[int, int, int]) -> np.ndarray[Any, Any]:
    """A smooth uint8 image, Fortran-ordered (x fastest) as volumes are laid out."""
    x, y, z = np.ogrid[: shape[0], : shape[1], : shape[2]]
    data = np.empty(shape, dtype=np.uint8, order="F")
    data[...] = (x * 3 + y * 5 + z * 7 + (x * y) // 64) % 256
    return data


def _rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / 1e6:.0f} MB in {seconds:.2f} s = {nbytes / 1e6 / max(seconds, 1e-9):.0f} MB/s"


def _write_timed(vol: CloudVolume, array: np.ndarray[Any, Any]) -> float:
    start = time.perf_counter()
    vol[:, :, :] = array
    return time.perf_counter() - start


def run_demo(args: argparse.Namespace) -> int:
    directory = args.dir or tempfile.mkdtemp(prefix="precomputed-demo-")
    os.makedirs(directory, exist_ok=True)
    path = f"file://{os.path.abspath(directory).rstrip('/')}/demo/image"
    shape = (args.size, args.size, args.depth)
    info = CloudVolume.create_new_info(
        1, "image", "uint8", "raw", [8, 8, 40], [0, 0, 0], shape, chunk_size=(64, 64, 64), max_mip=1
    )
    vol = CloudVolume(path, info=info, progress=args.progress)
    vol.commit_info()
    print(f"created   {vol.layer_cloudpath} ({xyz(shape)} uint8, raw, 64^3 chunks, 2 mips)")
    print(f"storage   {file_system_of(directory)}")
    data = _demo_data(shape)
    seconds = _write_timed(vol, data)
    print(f"wrote     mip 0 from a Fortran-ordered array (the fast path): {_rate(data.nbytes, seconds)}")
    # What np.zeros, np.load and tifffile give: transposed chunk by chunk on the write threads.
    seconds = _write_timed(vol, np.ascontiguousarray(data))
    print(f"rewrote   mip 0 from a C-ordered array: {_rate(data.nbytes, seconds)}")
    start = time.perf_counter()
    back = vol[:, :, :]
    print(f"read      mip 0: {_rate(back.nbytes, time.perf_counter() - start)}")
    ok = bool(np.array_equal(back[..., 0], data))
    del back
    rng = np.random.default_rng(0)
    for _ in range(20):
        lo = rng.integers(0, np.array(shape) - 1)
        hi = lo + rng.integers(1, np.minimum(np.array(shape) - lo, 100) + 1)
        box = np.s_[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        ok &= bool(np.array_equal(vol[box][..., 0], data[box]))
    print(f"verified  full read and 20 random unaligned cutouts: {'identical' if ok else 'MISMATCH'}")
    vol.mip = 1
    small = data[::2, ::2, :]
    vol[:, :, :] = small
    ok &= bool(np.array_equal(vol[:, :, :][..., 0], small))
    print(f"mip 1     {vol.key}: wrote and verified {xyz(vol.volume_size)} voxels")
    vol.close()
    print(f"open it   CloudVolume({path!r})  or  precomputed ls {path}")
    return 0 if ok else 1
