"""The local disk cache: a ``Store`` wrapper (``CachedStore``) and ``vol.cache`` (``CacheService``).

Wrapping the layer's store is the whole integration: chunks, shards, meshes,
skeletons, the info and the provenance reach storage through it. May import
``format``, ``interfaces``, ``meta``, ``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._service import CacheService, check_writable
from ._settings import CacheSettings, cache_base, cache_location
from ._store import CachedStore

__all__ = ["CacheService", "CacheSettings", "CachedStore", "cache_base", "cache_location", "check_writable"]
