"""The image pipeline: a Precomputed layer read and written box by box on a thread pool.

``PrecomputedVolume`` (the ``Volume`` of every key-value driver) plans a box
into chunk pieces, fetches them through its scale's chunk I/O, decodes them with
the scale's codec into one preallocated array, and runs the same path backwards
to write. ``open_volume`` finds a path's driver and puts its store behind the
disk cache. May import ``cache``, ``format``, ``plugins``, ``interfaces``, ``meta``,
``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._lru import ChunkLRU
from ._memory import available_memory, require_memory_for
from ._opening import open_volume
from ._precomputed_volume import PrecomputedVolume
from ._progress import INTERACTIVE, progress_bar

__all__ = [
    "INTERACTIVE",
    "ChunkLRU",
    "PrecomputedVolume",
    "available_memory",
    "open_volume",
    "progress_bar",
    "require_memory_for",
]
