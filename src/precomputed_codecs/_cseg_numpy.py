"""compressed_segmentation in numpy, for the one case the C package gets wrong.

A block of more than 65,536 voxels can hold more than 2**16 labels, which only the
32-bit encoding stores. The ``compressed-segmentation`` package (2.3.3) decodes such
blocks as their first label (``1 << 32`` in a 32-bit int makes its index mask 0) and
never finishes encoding them (the same shift loops forever). Such blocks are rare
(usual blocks are 8x8x8) and few per chunk, so a per-block loop is fast enough.

Layout as in Neuroglancer's spec: per block a header ``lookup offset | bits << 24``,
``values offset`` (uint32 words from the channel's start); values are packed LSB
first, ``32 // bits`` to a word; the table holds the block's distinct labels.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from precomputed_core.exceptions import DecodingError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["LARGE_BLOCK_VOXELS", "decode_channel", "encode_channel", "has_32_bit_blocks"]

#: From this many voxels per block on, 32-bit blocks are possible (and the package fails).
LARGE_BLOCK_VOXELS = 2**16 + 1
_WIDTHS = (0, 1, 2, 4, 8, 16, 32)


def _blocks(shape: tuple[int, ...], block: tuple[int, ...]) -> list[tuple[int, int, int]]:
    grid = [range(0, s, b) for s, b in zip(shape, block)]
    return [(x, y, z) for z, y, x in itertools.product(grid[2], grid[1], grid[0])]


def _unpack(words: npt.NDArray[np.uint32], bits: int, count: int) -> npt.NDArray[np.int64]:
    if bits == 0:
        return np.zeros(count, dtype=np.int64)
    per_word = 32 // bits
    shifts = np.arange(per_word, dtype=np.uint64) * np.uint64(bits)
    mask = np.uint64((1 << bits) - 1)
    values = (words.astype(np.uint64)[:, None] >> shifts) & mask
    unpacked: npt.NDArray[np.int64] = values.reshape(-1)[:count].astype(np.int64)
    return unpacked


def has_32_bit_blocks(words: npt.NDArray[np.uint32], start: int, nblocks: int) -> bool:
    return bool(np.any((words[start : start + 2 * nblocks : 2] >> 24) == 32))


def decode_channel(
    words: npt.NDArray[np.uint32],
    start: int,
    shape: tuple[int, ...],
    block: tuple[int, ...],
    dtype: np.dtype[Any],
) -> npt.NDArray[Any]:
    """One channel's (x, y, z) labels; the layout has been checked already."""
    out = np.empty(shape, dtype=dtype, order="F")
    count = math.prod(block)
    entry = dtype.itemsize // 4
    for index, (x, y, z) in enumerate(_blocks(shape, block)):
        head, values_at = int(words[start + 2 * index]), int(words[start + 2 * index + 1])
        table_at, bits = start + (head & 0xFFFFFF), head >> 24
        packed = words[start + values_at : start + values_at + (bits * count + 31) // 32]
        indices = _unpack(packed, bits, count)
        table_end = table_at + (int(indices.max()) + 1) * entry
        if table_end > len(words):
            raise DecodingError("compressed_segmentation lookup table runs past the end of the chunk")
        table_words = words[table_at:table_end].astype(np.uint64)
        if entry == 2:
            table_words = table_words[0::2] | (table_words[1::2] << np.uint64(32))
        labels = table_words.astype(dtype)
        voxels = labels[indices].reshape(block[2], block[1], block[0]).transpose(2, 1, 0)
        ex, ey, ez = (min(b, s - o) for b, s, o in zip(block, shape, (x, y, z)))
        out[x : x + ex, y : y + ey, z : z + ez] = voxels[:ex, :ey, :ez]
    return out


def _pack(indices: npt.NDArray[np.int64], bits: int) -> npt.NDArray[np.uint32]:
    if bits == 0:
        return np.zeros(0, dtype=np.uint32)
    per_word = 32 // bits
    padded = np.zeros(-(-len(indices) // per_word) * per_word, dtype=np.uint64)
    padded[: len(indices)] = indices
    shifts = np.arange(per_word, dtype=np.uint64) * np.uint64(bits)
    merged = np.bitwise_or.reduce(padded.reshape(-1, per_word) << shifts, axis=1)
    words: npt.NDArray[np.uint32] = merged.astype(np.uint32)
    return words


def encode_channel(labels: npt.NDArray[Any], block: tuple[int, ...]) -> bytes:
    """One channel's (x, y, z) labels as the words of a compressed_segmentation channel."""
    shape = labels.shape
    origins = _blocks(shape, block)
    header = np.zeros(2 * len(origins), dtype=np.uint32)
    body: list[npt.NDArray[np.uint32]] = []
    offset = len(header)
    for index, (x, y, z) in enumerate(origins):
        part = labels[x : x + block[0], y : y + block[1], z : z + block[2]]
        full = np.full(block, part.flat[0], dtype=labels.dtype)  # edge blocks padded with a present label
        full[: part.shape[0], : part.shape[1], : part.shape[2]] = part
        table, indices = np.unique(full.transpose(2, 1, 0).reshape(-1), return_inverse=True)
        bits = next(w for w in _WIDTHS if (1 << w) >= len(table))
        packed = _pack(indices.astype(np.int64), bits)
        header[2 * index + 1] = offset
        body.append(packed)
        offset += len(packed)
        header[2 * index] = offset | (bits << 24)
        table_words = np.ascontiguousarray(table).view(np.uint32)
        body.append(table_words)
        offset += len(table_words)
    return b"".join(part.astype("<u4").tobytes() for part in [header, *body])
