"""Per-thread scratch buffers that outlive one chunk.

A fresh buffer of a few hundred KiB is faulted in page by page on first touch, which
costs about as much as the copy it is for; each I/O thread keeps its own and reuses it
for the next chunk. A buffer is only valid until its thread asks for the same name again.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["scratch"]

#: Buffers up to this size stay with their thread; larger ones are allocated per call. An
#: idle I/O thread keeps at most two (a chunk's staging and its transpose), so a volume's
#: pool of 8 threads holds at most 256 MiB, and 2 MiB per thread for 64^3 uint64 chunks.
KEPT_SCRATCH_BYTES = 16 * 2**20

_of_thread = threading.local()


def scratch(name: str, nbytes: int) -> npt.NDArray[np.uint8]:
    """A uint8 buffer of at least ``nbytes``, this thread's ``name`` one if it is large enough."""
    if nbytes > KEPT_SCRATCH_BYTES:
        return np.empty(nbytes, np.uint8)
    buffer: npt.NDArray[np.uint8] | None = getattr(_of_thread, name, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, np.uint8)
        setattr(_of_thread, name, buffer)
    return buffer
