"""One process-wide lock per stored object, for read-modify-writes.

Two threads updating one object must not both read it, change their own voxels and
write back: the second write would drop the first one's voxels. Every store object
of the process shares this table, so two ``CloudVolume`` instances of one layer are
serialised too. Locks are striped (two objects may share one): an update of several
objects takes their stripes in index order, so two updates never wait on each other
in a cycle; the locks are re-entrant, so a store may take an object's lock in ``put``
while an update of that object holds it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["object_lock", "object_locks"]

_STRIPES = 1024
_locks = [threading.RLock() for _ in range(_STRIPES)]


def _renew() -> None:
    # A child forked while another thread held a lock would inherit it held forever.
    _locks[:] = [threading.RLock() for _ in range(_STRIPES)]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew)


def _stripe(url: str, key: str) -> int:
    return hash((url, key)) % _STRIPES


def object_lock(url: str, key: str) -> threading.RLock:
    """The lock of object ``key`` of the store at ``url``, shared by the whole process."""
    return _locks[_stripe(url, key)]


@contextlib.contextmanager
def object_locks(url: str, keys: Iterable[str]) -> Iterator[None]:
    """Hold the locks of all ``keys`` at once (taken in stripe order: no deadlock)."""
    with contextlib.ExitStack() as stack:
        for stripe in sorted({_stripe(url, key) for key in keys}):
            stack.enter_context(_locks[stripe])
        yield
