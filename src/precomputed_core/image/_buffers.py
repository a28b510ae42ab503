"""Output arrays for reads, allocated so the kernel can back them with huge pages."""

from __future__ import annotations

import math
import mmap
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["zeros"]

#: From this size on, an output gets its own anonymous mapping advised for huge pages.
HUGE_PAGE_MIN_BYTES = 4 * 2**20


def zeros(shape: tuple[int, ...], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """A zero-filled Fortran-ordered array.

    Large ones are a private anonymous ``mmap`` advised ``MADV_HUGEPAGE``: first-touch
    page faults are then per 2 MiB instead of per 4 KiB, whatever the allocator does
    with ``np.zeros``. Private, because a shared anonymous mapping is shmem, which gets
    no huge pages unless ``shmem_enabled`` allows (measured here: 256 MiB first touched
    in 46 ms private, 133 ms shared). The pages come zeroed from the kernel and are
    freed with the array.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    private = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    if nbytes < HUGE_PAGE_MIN_BYTES or advice is None or not private:
        return np.zeros(shape, dtype=dtype, order="F")
    region = mmap.mmap(-1, nbytes, flags=private)
    region.madvise(advice)
    return np.frombuffer(region, dtype=dtype).reshape(shape, order="F")
