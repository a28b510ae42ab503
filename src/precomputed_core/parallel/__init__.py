"""``parallel=N``: worker processes over shared memory, and the README's shared-memory segments.

The :class:`Dispatcher` sends a read or write to this process's threads or to a
pool of spawned workers; it cuts the work on the volume's own work grid, so no
two workers rewrite one stored object. Workers open the layer themselves from a
:class:`Recipe` and decode into one shared-memory segment. ``multiprocessing``
is imported only by the first parallel call. May import ``image`` and the
layers below it.
"""

from __future__ import annotations

from ._dispatch import Dispatcher, Recipe

__all__ = ["Dispatcher", "Recipe", "unlink_segment"]


def unlink_segment(name: str) -> bool:
    """Remove the shared memory segment ``name`` (no ``/dev/shm/`` prefix); False if there was none."""
    from . import _shm

    return _shm.unlink(name)
