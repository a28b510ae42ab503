"""One process-wide lock per stored object, for read-modify-writes.

Two threads updating one object must not both read it, change their own voxels and
write back: the second write would drop the first one's voxels. Every store object
of the process shares this table, so two ``CloudVolume`` instances of one layer are
serialised too. Each update holds one lock at a time, so striping (two objects may
share a lock) costs only some waiting, never a deadlock.
"""

from __future__ import annotations

import os
import threading

__all__ = ["object_lock"]

_STRIPES = 1024
_locks = [threading.Lock() for _ in range(_STRIPES)]


def _renew() -> None:
    # A child forked while another thread held a lock would inherit it held forever.
    _locks[:] = [threading.Lock() for _ in range(_STRIPES)]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew)


def object_lock(url: str, key: str) -> threading.Lock:
    """The lock of object ``key`` of the store at ``url``, shared by the whole process."""
    return _locks[hash((url, key)) % _STRIPES]
