"""How much memory this process may still take, to refuse a read that cannot fit at once.

The least of: the kernel's ``MemAvailable``; the cgroup's limit less its usage (v2
``memory.max``/``memory.current`` along the process's cgroup path, or v1
``memory.limit_in_bytes``/``memory.usage_in_bytes``); and the address-space limit
(``ulimit -v``) less what the process has mapped. Where none can be read (not Linux),
nothing is refused up front.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from ..exceptions import OutOfMemoryError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["available_memory", "require_memory", "require_memory_for"]

_UNLIMITED = 2**62  # cgroup v1 writes "no limit" as a huge number


def _read_int(path: str) -> int | None:
    try:
        with open(path) as file:
            text = file.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _kib_field(path: str, name: str) -> int | None:
    try:
        with open(path) as file:
            for line in file:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_v2_room() -> int | None:
    try:
        with open("/proc/self/cgroup") as file:
            path = next((line.strip()[3:] for line in file if line.startswith("0::")), None)
    except OSError:
        return None
    if path is None:
        return None
    room = None
    directory = "/sys/fs/cgroup" + path.rstrip("/")
    while directory.startswith("/sys/fs/cgroup"):  # the tightest limit on the way up
        limit, used = _read_int(f"{directory}/memory.max"), _read_int(f"{directory}/memory.current")
        if limit is not None and used is not None:
            room = limit - used if room is None else min(room, limit - used)
        if directory == "/sys/fs/cgroup":
            break
        directory = os.path.dirname(directory)
    return room


def _cgroup_v1_room() -> int | None:
    limit = _read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes")
    used = _read_int("/sys/fs/cgroup/memory/memory.usage_in_bytes")
    if limit is None or used is None or limit >= _UNLIMITED:
        return None
    return limit - used


def _address_space_room() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = _kib_field("/proc/self/status", "VmSize")
    return None if mapped is None else soft - mapped


def available_memory() -> tuple[int, str] | None:
    """The bytes this process may still allocate, and what limits it; None if unknown."""
    limits = [
        (room, source)
        for room, source in (
            (_kib_field("/proc/meminfo", "MemAvailable"), "MemAvailable"),
            (_cgroup_v2_room(), "the cgroup memory limit"),
            (_cgroup_v1_room(), "the cgroup memory limit"),
            (_address_space_room(), "the address-space limit (ulimit -v)"),
        )
        if room is not None
    ]
    if not limits:
        return None
    room, source = min(limits)
    return max(room, 0), source


def _size(nbytes: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


#: Outputs smaller than this are not checked: reading the limits costs more than a small
#: cutout, and a process that cannot find 64 MiB fails anyway.
CHECKED_FROM_BYTES = 64 * 2**20


def require_memory(nbytes: int, what: str) -> None:
    """Raise ``OutOfMemoryError`` at once if ``what`` (``nbytes``) cannot fit in memory."""
    if nbytes < CHECKED_FROM_BYTES:
        return
    found = available_memory()
    if found is None or nbytes <= found[0]:
        return
    room, source = found
    raise OutOfMemoryError(
        f"{what} needs {_size(nbytes)} ({nbytes} bytes), more than the {_size(room)} this process "
        f"may still use ({source}). Read a smaller box, piece by piece, or read it into shared "
        "memory with download_to_shared_memory(), whose pages the kernel can swap out"
    )


def require_memory_for(shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
    """``require_memory`` for an (x, y, z, c) output array of ``shape`` and ``dtype``."""
    what = f"reading {tuple(shape)} voxels of {dtype.name} (x, y, z, c)"
    require_memory(math.prod(shape) * dtype.itemsize, what)
