"""Map a shared memory segment without keeping a file descriptor open per array.

``mmap.mmap(fd, n)`` keeps a duplicate of ``fd`` for as long as the mapping lives
(``trackfd=False`` turns that off from Python 3.13 on). An array returned by a parallel
read owns its mapping, so before 3.13 every such array alive held a descriptor, and a
program keeping about a thousand of them ran out (EMFILE at the usual ``ulimit -n``).
There the segment is mapped with libc's ``mmap`` through ctypes instead, and unmapped
when the last array over it goes away.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import os
import sys
import weakref
from typing import Any

__all__ = ["map_shared", "populate"]

_MADV_POPULATE_WRITE = 23  # Linux 5.14+; Python names it only from 3.13 on
_MAP_FAILED = ctypes.c_void_p(-1).value


@functools.cache
def _libc() -> Any:
    if os.name != "posix":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long]  # fmt: skip
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


def map_shared(fd: int, nbytes: int) -> Any:
    """A writable shared mapping of the first ``nbytes`` of ``fd`` that does not hold ``fd``.

    The result supports the buffer protocol; the mapping lives until it is collected.
    """
    if sys.version_info >= (3, 13):
        return mmap.mmap(fd, nbytes, trackfd=False)  # type: ignore[call-arg,unused-ignore]
    libc = _libc()
    if libc is None:
        return mmap.mmap(fd, nbytes)
    address = libc.mmap(None, nbytes, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, _MAP_FAILED):
        error = ctypes.get_errno()
        raise OSError(error, f"cannot map {nbytes} bytes of shared memory: {os.strerror(error)}")
    region = (ctypes.c_char * nbytes).from_address(address)
    # Not at interpreter exit: an array may still be used by a later atexit handler or a
    # daemon thread, and the kernel unmaps everything when the process ends anyway.
    weakref.finalize(region, libc.munmap, address, nbytes).atexit = False
    return region


def populate(address: int, length: int) -> None:
    """Fault in ``length`` bytes from ``address`` (page-aligned) in one system call.

    Best effort: older kernels and other systems just fault on first write.
    """
    libc = _libc()
    if libc is not None and sys.platform == "linux" and length > 0:
        libc.madvise(address, length, _MADV_POPULATE_WRITE)
