from __future__ import annotations

import mmap

import numpy as np

from precomputed_core.image._buffers import HUGE_PAGE_MIN_BYTES, zeros


def test_large_outputs_are_zeroed_fortran_mmaps():
    shape = (256, 256, 80, 1)
    assert np.prod(shape) >= HUGE_PAGE_MIN_BYTES
    out = zeros(shape, np.dtype("uint8"))
    assert out.shape == shape
    assert out.flags.f_contiguous
    assert out.flags.writeable
    root = out
    while isinstance(root, np.ndarray) and root.base is not None:
        root = root.base
    assert isinstance(root, memoryview)
    assert isinstance(root.obj, mmap.mmap)
    assert not out.any()
    out[...] = 7
    assert int(out.sum()) == 7 * out.size


def test_small_outputs_are_plain_numpy():
    out = zeros((10, 10, 10, 2), np.dtype("float32"))
    assert out.flags.f_contiguous
    assert out.dtype == np.float32
    assert not out.any()
