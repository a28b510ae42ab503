"""``parallel=N``: worker processes over shared memory, and the README's shared-memory segments.

The ``Dispatcher`` sends a read or write to this process's threads or to a
pool of spawned workers; it cuts the work on the volume's own work grid, so no
two workers rewrite one stored object. Workers open the layer themselves from a
``Recipe`` and decode into one shared-memory segment. ``multiprocessing``
is imported only by the first parallel call. May import ``image`` and the
layers below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._dispatch import Dispatcher, Recipe

if TYPE_CHECKING:
    from ..interfaces import Volume

__all__ = ["Dispatcher", "Recipe", "open_recipe", "unlink_segment"]


def unlink_segment(name: str) -> bool:
    """Remove the shared memory segment ``name`` (no ``/dev/shm/`` prefix); False if there was none."""
    from . import _shm

    return _shm.unlink(name)


def open_recipe(recipe: Recipe) -> Volume:
    """The layer a recipe names, opened once per process (its threads share it) and kept."""
    from . import _workers

    return _workers.open_recipe(recipe)
