"""Arrays in any memory layout write the same chunk files as a Fortran-ordered one.

C order is what np.zeros, np.load and tifffile give; strided and reversed views are what
slicing gives. Each chunk is transposed or gathered on the write threads, never by a copy
of the whole array.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.testing import random_array

SHAPE = (150, 97, 70)


def _layer(tmp_path, name, encoding, dtype, shape=SHAPE, **extra):
    info = CloudVolume.create_new_info(1, "segmentation" if encoding == "compressed_segmentation" else "image",
                                       dtype, encoding, [4, 4, 40], [0, 0, 0], list(shape),
                                       chunk_size=(64, 64, 32), **extra)  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False)
    vol.commit_info()
    return vol


def _files(tmp_path, name, key):
    folder = tmp_path / name / key
    return {f: (folder / f).read_bytes() for f in sorted(os.listdir(folder))}


def _layouts(data):
    """The same voxels as a C-ordered copy, a strided view, a reversed view, and a transposed view."""
    big = np.zeros((SHAPE[0] * 2, SHAPE[1], SHAPE[2]), data.dtype, order="C")
    big[::2] = data
    flipped = np.ascontiguousarray(data[::-1, :, ::-1])[::-1, :, ::-1]
    swapped = np.ascontiguousarray(data.transpose(2, 0, 1)).transpose(1, 2, 0)
    return {"C": np.ascontiguousarray(data), "strided": big[::2], "reversed": flipped, "transposed": swapped}


@pytest.mark.parametrize(
    ("encoding", "dtype", "extra"),
    [("raw", "uint8", {}), ("raw", "uint16", {}),
     ("compressed_segmentation", "uint64", {"compressed_segmentation_block_size": (8, 8, 8)})],
)  # fmt: skip
def test_every_layout_writes_the_chunk_files_of_fortran_order(tmp_path, encoding, dtype, extra):
    data = np.asfortranarray(random_array(SHAPE, dtype, seed=3))
    reference = _layer(tmp_path, "fortran", encoding, dtype, **extra)
    reference[:, :, :] = data
    expected = _files(tmp_path, "fortran", reference.key)
    for name, array in _layouts(data).items():
        assert not array.flags.f_contiguous, name
        np.testing.assert_array_equal(array, data)
        vol = _layer(tmp_path, name, encoding, dtype, **extra)
        vol[:, :, :] = array
        assert _files(tmp_path, name, vol.key) == expected, name
        np.testing.assert_array_equal(vol[:, :, :][..., 0], data)


def test_a_c_ordered_write_copies_no_more_than_a_chunk_at_a_time(tmp_path):
    """No whole-array copy: the write's peak allocation stays far below the array's size.

    Each write thread keeps a chunk's staging buffers for the next chunk, so the peak is a
    few chunks (64*64*32 bytes each) per thread, against 16 MiB for the array.
    """
    import tracemalloc

    shape = (512, 512, 64)
    vol = _layer(tmp_path, "c", "raw", "uint8", shape=shape)
    data = np.ascontiguousarray(random_array(shape, "uint8", seed=4))
    tracemalloc.start()
    vol[:, :, :] = data
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < data.nbytes / 4, peak
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "uint64"])
def test_multichannel_c_order_and_partial_chunks_write_what_fortran_order_writes(tmp_path, dtype):
    """Channels last in C order, and a box that covers chunks only in part (patched edits)."""
    shape = (100, 70, 40, 3)
    data = np.asfortranarray(random_array(shape, dtype, seed=5))
    vols = {}
    for name, array in {"fortran": data, "C": np.ascontiguousarray(data)}.items():
        info = CloudVolume.create_new_info(3, "image", dtype, "raw", [4, 4, 40], [0, 0, 0], list(shape[:3]),
                                           chunk_size=(32, 32, 16))  # fmt: skip
        vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False, non_aligned_writes=True)
        vol.commit_info()
        vol[:, :, :] = array
        vol[5:77, 3:41, 7:30] = array[10:82, 20:58, 1:24]
        vols[name] = vol
    assert _files(tmp_path, "C", vols["C"].key) == _files(tmp_path, "fortran", vols["fortran"].key)
    expected = data.copy()
    expected[5:77, 3:41, 7:30] = data[10:82, 20:58, 1:24]
    np.testing.assert_array_equal(vols["C"][:, :, :], expected)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64", "float64"])
@pytest.mark.parametrize("chunk", [(64, 64, 64, 1), (31, 17, 5, 2), (1, 8, 8, 1), (128, 8, 1, 1)])
def test_fortran_chunk_gives_the_same_voxels_in_fortran_order(dtype, chunk):
    from precomputed_core.image._transpose import fortran_chunk

    whole = np.ascontiguousarray(random_array((256, 128, 64, 2), dtype, seed=6))
    window = whole[3 : 3 + chunk[0], 5 : 5 + chunk[1], 2 : 2 + chunk[2], : chunk[3]]
    for view in (window, window[::-1, :, ::-1], np.asfortranarray(window)):
        out = fortran_chunk(view)
        assert out.flags.f_contiguous or out.strides[0] == out.itemsize
        np.testing.assert_array_equal(out, view)
        assert out.tobytes(order="F") == view.tobytes(order="F")


def test_threads_keep_scratch_only_up_to_its_limit():
    """Staging buffers are reused by their thread, but one larger than the limit is not kept."""
    from precomputed_core.image import _scratch

    small = _scratch.scratch("probe", 1000)
    assert _scratch.scratch("probe", 500) is small
    big = _scratch.scratch("probe", _scratch.KEPT_SCRATCH_BYTES + 1)
    assert big.nbytes == _scratch.KEPT_SCRATCH_BYTES + 1
    assert _scratch.scratch("probe", 500) is small
