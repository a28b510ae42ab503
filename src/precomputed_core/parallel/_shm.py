"""Named shared memory: create, attach without the resource tracker, view as arrays, release.

Pitfalls handled here, so the rest of the code need not know them:

- Before Python 3.13, attaching to a segment with ``SharedMemory(name)`` registers it
  with the resource tracker, which then unlinks (or warns about) it when *that* process
  exits (CPython gh-82300). Attaching therefore opens the segment with ``shm_open``
  itself (``Attached``) and never involves the tracker, nor swaps its functions
  (which would leave another thread's new segments unregistered).
- /dev/shm is a tmpfs: a segment larger than its free space is created without error
  and the first write past the limit kills the writer with SIGBUS. Its free space is
  checked first, so a too-small /dev/shm is a clear error. (Reserving the space with
  ``posix_fallocate`` would also close the race with other users of /dev/shm, but it
  zeroes every page in the parent, serially: measured, it halved parallel reads.)
- An array must not point into a mapping that ``SharedMemory.close`` unmaps (numpy does
  not pin ``SharedMemory.buf``: reading it afterwards crashes). Arrays therefore map
  the segment themselves and own that mapping (one that holds no file descriptor,
  ``_mapping``); the segment can be closed at once.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import secrets
import sys
from multiprocessing import resource_tracker, shared_memory
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..exceptions import SharedMemoryError
from ._mapping import map_shared
from ._mapping import populate as populate_range

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Attached", "Segment", "array_of", "attach", "create", "unlink"]

_SHM_DIR = "/dev/shm"


class _Mappable(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...

    def fileno(self) -> int: ...


class Segment(shared_memory.SharedMemory):
    """A segment this process created (arrays over it come from ``array_of``)."""

    def fileno(self) -> int:
        return int(self._fd)  # type: ignore[attr-defined]


class Attached:
    """An existing segment opened by name: a descriptor and a size, unknown to the resource tracker.

    Like ``SharedMemory(name)``, the name carries no ``/dev/shm/`` prefix.
    """

    def __init__(self, name: str) -> None:
        from _posixshmem import shm_open  # type: ignore[import-not-found]

        self.name = name
        self._fd: int | None = shm_open("/" + name, os.O_RDWR, mode=0o600)
        try:
            self.size = os.fstat(self.fileno()).st_size
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        if self._fd is None:
            raise SharedMemoryError(f"shared memory {self.name!r} was closed")
        return self._fd

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _check_space(nbytes: int) -> None:
    if not os.path.isdir(_SHM_DIR):
        return
    stats = os.statvfs(_SHM_DIR)
    free = stats.f_bavail * stats.f_frsize
    if nbytes > free:
        raise SharedMemoryError(
            f"shared memory needs {nbytes / 2**20:.0f} MiB but {_SHM_DIR} has {free / 2**20:.0f} MiB free; "
            "read a smaller box, use parallel=1, free /dev/shm, or enlarge it (e.g. docker --shm-size, "
            "mount -o remount,size=8G /dev/shm)"
        )


_NUMBERS = itertools.count()


def create(name: str | None, nbytes: int, *, track: bool = True) -> Segment:
    """A new segment of ``nbytes`` (zero-filled), with its space reserved up front.

    ``track=False`` leaves it to outlive this process (the README's user-named
    segments, which persist until ``unlink_shared_memory``).
    """
    _check_space(nbytes)
    if name is None:  # ours, named for the process that owns it, so a leak says whose it is
        # Short: macOS allows 31 characters. The counter keeps one process's names apart.
        name = f"precomputed-{os.getpid()}-{next(_NUMBERS):x}{secrets.token_hex(2)}"
    # From 3.13 on the tracker can be left out at creation; before, it is told to forget.
    untracked = {"track": False} if not track and sys.version_info >= (3, 13) else {}
    try:
        segment = Segment(name=name, create=True, size=max(nbytes, 1), **untracked)
    except FileExistsError as err:
        raise SharedMemoryError(
            f"shared memory {name!r} already exists; unlink it first (vol.unlink_shared_memory()) "
            "or choose another location"
        ) from err
    except OSError as err:
        raise SharedMemoryError(f"cannot create shared memory of {nbytes} bytes: {err}") from err
    if not track and not untracked:
        with contextlib.suppress(Exception):
            resource_tracker.unregister(segment._name, "shared_memory")  # type: ignore[attr-defined]
    return segment


def attach(name: str) -> Attached:
    """Open an existing segment without registering it with any resource tracker."""
    try:
        return Attached(name)
    except FileNotFoundError as err:
        raise SharedMemoryError(
            f"no shared memory named {name!r} (without the /dev/shm/ prefix); create it first, "
            "e.g. with vol.download_to_shared_memory(...)"
        ) from err
    except OSError as err:
        raise SharedMemoryError(f"cannot open shared memory {name!r}: {err}") from err


def unlink(name: str) -> bool:
    """Remove a segment's name, untracked; False if there was none. Mappings stay valid until closed."""
    from _posixshmem import shm_unlink  # type: ignore[import-not-found]

    try:
        shm_unlink("/" + name)
    except FileNotFoundError:
        return False
    except OSError as err:
        raise SharedMemoryError(f"cannot remove shared memory {name!r}: {err}") from err
    return True


def populate(array: npt.NDArray[Any], window: tuple[slice, ...]) -> None:
    """Fault in the pages of ``array[window]`` at once (tmpfs has no huge pages).

    ``array`` is a whole array from ``array_of``, so it starts on a page. Writing
    page by page costs a fault per 4 KiB: measured 250 ms per 512 MiB, against 190 ms
    populated at once.
    """
    view = array[window]
    if view.size == 0:
        return
    base = array.__array_interface__["data"][0]
    start = view.__array_interface__["data"][0] - base
    last = start + sum((n - 1) * s for n, s in zip(view.shape, view.strides)) + view.itemsize
    begin = start // mmap.PAGESIZE * mmap.PAGESIZE
    populate_range(base + begin, last - begin)


def array_of(segment: _Mappable, shape: tuple[int, ...], dtype: Any, order: str = "F") -> npt.NDArray[Any]:
    """An ndarray over the segment's memory (no copy), owning its own mapping of it."""
    dtype = np.dtype(dtype)
    needed = int(np.prod(shape)) * dtype.itemsize
    if segment.size < needed:
        raise SharedMemoryError(
            f"shared memory {segment.name!r} holds {segment.size} bytes, the array {shape} of {dtype} "
            f"needs {needed}"
        )
    if order not in ("C", "F"):
        raise SharedMemoryError(f"order must be 'C' or 'F', got {order!r}")
    if needed == 0:
        return np.zeros(shape, dtype=dtype, order=order)  # type: ignore[call-overload,no-any-return]
    region = map_shared(segment.fileno(), needed)
    array: npt.NDArray[Any] = np.frombuffer(region, dtype=dtype, count=int(np.prod(shape))).reshape(
        shape,
        order=order,  # type: ignore[call-overload]
    )
    return array
