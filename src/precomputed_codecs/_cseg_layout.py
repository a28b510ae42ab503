"""Check a compressed_segmentation chunk's structure before handing it to the C decoder.

The ``compressed-segmentation`` package trusts its input: a truncated chunk decodes
to garbage without an error, and an empty one crashes the process. This check reads
only the headers (and, for lookup tables that an index could overrun, the indices that
use them) and raises ``DecodingError`` for anything that points outside the data.

Layout (Neuroglancer's spec): per channel a uint32 offset; then per channel one
2-word header per block: ``lookup table offset (24 bits) | encoded bits (8 bits)``
and ``encoded values offset``, offsets in uint32 words from the channel's start.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core.exceptions import DecodingError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["check_layout"]

_BITS = np.array([0, 1, 2, 4, 8, 16, 32])


def _max_index(words: npt.NDArray[np.uint32], offset: int, bits: int, count: int) -> int:
    """The largest lookup-table index among a block's ``count`` packed values."""
    if bits == 0:
        return 0
    packed = words[offset : offset + (bits * count + 31) // 32].astype(np.uint64)
    per_word = 32 // bits
    shifts = np.arange(per_word, dtype=np.uint64) * np.uint64(bits)
    values = (packed[:, None] >> shifts) & np.uint64((1 << bits) - 1)
    return int(values.reshape(-1)[:count].max())


def _check_channel(words: npt.NDArray[np.uint32], start: int, end: int, grid: Any, entry_words: int) -> None:
    nblocks, block_voxels = grid
    if start + 2 * nblocks > end:
        raise DecodingError(f"compressed_segmentation block headers end past the data ({end * 4} bytes)")
    header = words[start : start + 2 * nblocks].reshape(nblocks, 2)
    tables = (header[:, 0] & 0xFFFFFF).astype(np.int64) + start
    bits = (header[:, 0] >> 24).astype(np.int64)
    values = header[:, 1].astype(np.int64) + start
    if not np.isin(bits, _BITS).all():
        raise DecodingError(f"compressed_segmentation block uses {sorted(set(bits.tolist()))} bits per value")
    value_ends = np.where(bits > 0, values + (bits * block_voxels + 31) // 32, start)
    if value_ends.max(initial=start) > end or tables.max() + entry_words > end:
        raise DecodingError(f"compressed_segmentation chunk is truncated: it needs more than {end * 4} bytes")
    # Indices reach at most 2**bits - 1 entries into a block's table; where that could run
    # past the data, the indices themselves must stay inside it (any table, not only the
    # last: the C++ decoder would otherwise read beyond the buffer).
    risky = np.flatnonzero(tables + (np.int64(1) << bits) * entry_words > end)
    for i in risky:
        needed = _max_index(words, int(values[i]), int(bits[i]), block_voxels) + 1
        if tables[i] + needed * entry_words > end:
            raise DecodingError("compressed_segmentation chunk is truncated inside a lookup table")


def check_layout(data: bytes, shape: tuple[int, ...], block: tuple[int, ...], itemsize: int) -> None:
    """Raise ``DecodingError`` unless every offset in ``data`` stays inside it."""
    if len(data) % 4 or len(data) < 4 * shape[3]:
        raise DecodingError(f"compressed_segmentation chunk has {len(data)} bytes: not whole uint32 words")
    words = np.frombuffer(data, dtype="<u4")
    starts = words[: shape[3]].astype(np.int64).tolist()
    ends = [*starts[1:], len(words)]
    nblocks = math.prod(-(-s // b) for s, b in zip(shape[:3], block))
    grid = (nblocks, math.prod(block))
    for start, end in zip(starts, ends):
        if not shape[3] <= start <= end <= len(words):
            raise DecodingError(f"compressed_segmentation channel offset {start} is outside the data")
        _check_channel(words, start, end, grid, itemsize // 4)
