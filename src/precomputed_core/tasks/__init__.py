"""Chunk-aligned tasks that run on Dask: volumes as ``dask.array`` in and out.

The work is cut on the volume's own grid (chunks, or shards for a sharded scale),
so no two tasks rewrite one stored object. A task carries only a
``Recipe`` (cloud path, info, driver options) and a
box; each worker opens the layer itself, once. Dask is optional
(``pip install 'precomputed[dask]'``) and imported only when these are used.
May import ``parallel`` and the layers below it.
"""

from __future__ import annotations

from ._arrays import from_dask, to_dask
from ._blocks import aligned_splits, default_block_shape
from ._copy_layer import CopyReport, copy_layer
from ._downsample import MEMORY_TARGET, downsample_scales, plan_passes, pyramid
from ._transfer import AUTO, byte_copy_possible, transfer

__all__ = [
    "AUTO",
    "MEMORY_TARGET",
    "CopyReport",
    "aligned_splits",
    "byte_copy_possible",
    "copy_layer",
    "default_block_shape",
    "downsample_scales",
    "from_dask",
    "plan_passes",
    "pyramid",
    "to_dask",
    "transfer",
]
