"""The GIL-free compressed_segmentation encoder's output buffer is sized before the call.

The C++ encoder appends to a ``std::vector`` whose storage is our buffer; if it had to
grow, it would free memory it does not own. So the bound must hold for the worst
inputs, and these tests feed it exactly those: every block all-distinct labels (no
table shared, the widest indices), 1-voxel blocks (the most headers per voxel) and the
largest blocks the C++ coder takes. For each, the output must be exactly what the
format says (counted here from first principles) and never above the bound.
"""

from __future__ import annotations

import math

import compressed_segmentation as cseg
import numpy as np
import pytest

from precomputed_codecs._cseg_native import NATIVE_BLOCK_VOXELS, _encode_bound, native_encoder
from precomputed_core.exceptions import EncodingError

_WIDTHS = (0, 1, 2, 4, 8, 16, 32)


def _format_words(labels: np.ndarray, block: tuple[int, int, int]) -> int:
    """uint32 words of one channel when no two blocks share a table (the spec's layout)."""
    words = 0
    grid = [range(0, s, b) for s, b in zip(labels.shape, block)]
    for x in grid[0]:
        for y in grid[1]:
            for z in grid[2]:
                part = labels[x : x + block[0], y : y + block[1], z : z + block[2]]
                distinct = len(np.unique(part))
                bits = next(w for w in _WIDTHS if 2**w >= distinct)
                words += 2 + math.ceil(bits * math.prod(block) / 32) + distinct * labels.itemsize // 4
    return words


def _all_distinct(shape, dtype, seed=0):
    """Every voxel its own label, spread over the type's whole range (high bits set too)."""
    order = np.random.default_rng(seed).permutation(math.prod(shape)).astype(dtype)
    # Times an odd constant, modulo 2**bits: a bijection, so the labels stay distinct.
    odd = np.array(0x9E3779B97F4A7C15 if np.dtype(dtype).itemsize == 8 else 0x9E3779B1, dtype=dtype)
    with np.errstate(over="ignore"):
        labels = order * odd
    return np.asfortranarray(labels.reshape(shape))


def _check(labels, block):
    encoder = native_encoder(labels.dtype)
    assert encoder is not None
    ours = encoder(labels, block)
    words = len(ours) // 4
    assert words == _format_words(labels, block)  # all distinct: nothing shared, the worst case
    assert words <= _encode_bound(labels.shape, block, labels.itemsize)
    theirs = cseg.compress(labels, block_size=block, order="F")
    assert ours == theirs[4:]
    back = cseg.decompress(theirs, labels.shape, labels.dtype, block, order="F")
    np.testing.assert_array_equal(back, labels)


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
@pytest.mark.parametrize(("shape", "block"), [((64, 64, 64), (8, 8, 8)), ((37, 29, 11), (8, 8, 4))])
def test_every_block_all_distinct(dtype, shape, block):
    _check(_all_distinct(shape, dtype), block)


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
@pytest.mark.parametrize("shape", [(16, 16, 16), (7, 5, 3)])
def test_one_voxel_blocks(dtype, shape):
    _check(_all_distinct(shape, dtype, seed=1), (1, 1, 1))


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
@pytest.mark.parametrize(("shape", "block"), [((256, 256, 1), (256, 256, 1)), ((300, 70, 3), (255, 257, 1))])
def test_the_largest_blocks_the_native_coder_takes(dtype, shape, block):
    assert math.prod(block) <= NATIVE_BLOCK_VOXELS
    _check(_all_distinct(shape, dtype, seed=2), block)


def test_larger_blocks_never_reach_the_native_coder():
    encoder = native_encoder(np.dtype("uint32"))
    labels = np.zeros((257, 256, 1), np.uint32)
    with pytest.raises(EncodingError, match="65536"):
        encoder(labels, (257, 256, 1))
    with pytest.raises(EncodingError, match="3-d"):
        encoder(labels[..., 0], (8, 8, 1))
