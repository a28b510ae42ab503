"""Skeletons: the ``Skeleton`` data class and its formats (Precomputed binary, SWC).

``SkeletonSource`` is ``vol.skeleton``: skeletons read and written through a
layer's ``Store``, one object per segment or sharded. The data class is pure: it
imports numpy and ``geometry``/``exceptions`` only, so ``import precomputed_core``
stays cheap. May import ``format``, ``interfaces``, ``meta``, ``geometry`` and
``exceptions``.

>>> from precomputed_core.skeletons import Skeleton
"""

from __future__ import annotations

from ._skeleton import Skeleton
from ._source import SkeletonSource

__all__ = ["Skeleton", "SkeletonSource"]
