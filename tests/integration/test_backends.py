"""The README's feature set on every backend: the same tests, once per backend.

HTTP is read-only, so there the layer is written to the directory the server serves
and read back over HTTP.
"""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import EmptyVolumeException, InfoUnavailableError
from precomputed_core.testing import random_array

SIZE = (150, 100, 40)
OFFSET = (13, -7, 5)


def _info(dtype="uint8", encoding="raw", **extra):
    layer = "segmentation" if encoding == "compressed_segmentation" else "image"
    return CloudVolume.create_new_info(1, layer, dtype, encoding, [4, 4, 40], list(OFFSET), list(SIZE),
                                       chunk_size=(64, 64, 16), **extra)  # fmt: skip


def _box(lo, hi):
    """Slices for voxels lo..hi relative to the volume's offset."""
    return tuple(slice(o + a, o + b) for o, a, b in zip(OFFSET, lo, hi))


def _write_layer(backend, name, data, **options):
    vol = CloudVolume(backend.write_url(name), info=options.pop("info", None) or _info(data.dtype.name),
                      progress=False, **options)  # fmt: skip
    vol.commit_info()
    vol[_box((0, 0, 0), SIZE)] = data
    return vol


@pytest.mark.parametrize("compress", [None, "gzip", "br", "zstd"])
@pytest.mark.parametrize(
    ("dtype", "encoding", "extra"),
    [
        ("uint8", "raw", {}),
        ("float32", "raw", {}),
        ("uint64", "compressed_segmentation", {"compressed_segmentation_block_size": (8, 8, 8)}),
    ],
    ids=["uint8", "float32", "cseg-uint64"],
)
def test_write_then_read_back_exactly(backend, compress, dtype, encoding, extra):
    data = (
        random_array(SIZE, dtype, seed=1)
        if encoding == "raw"
        else (np.arange(np.prod(SIZE)).reshape(SIZE) // 97).astype(dtype)
    )
    _write_layer(backend, "layer", data, info=_info(dtype, encoding, **extra), compress=compress)
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    np.testing.assert_array_equal(reader[_box((0, 0, 0), SIZE)][..., 0], data)
    np.testing.assert_array_equal(reader[_box((30, 20, 3), (101, 77, 33))][..., 0], data[30:101, 20:77, 3:33])
    assert reader.info == CloudVolume(backend.write_url("layer"), progress=False).info


def test_exists_delete_and_fill_missing(backend):
    data = random_array(SIZE, "uint8", seed=2)
    writer = _write_layer(backend, "layer", data)
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    first = _box((0, 0, 0), (64, 64, 16))
    assert all(reader.exists(_box((0, 0, 0), SIZE)).values())
    writer.delete(first)
    assert not any(writer.exists(first).values())
    with pytest.raises(EmptyVolumeException, match="13-77_-7-57_5-21"):
        reader[first]
    filled = CloudVolume(backend.read_url("layer"), progress=False, fill_missing=True)
    block = filled[_box((0, 0, 0), (80, 80, 20))][..., 0]
    assert not block[:64, :64, :16].any()
    np.testing.assert_array_equal(block[64:, :, :], data[64:80, :80, :20])


def test_non_aligned_writes_keep_neighbours(backend):
    data = random_array(SIZE, "uint16", seed=3)
    _write_layer(backend, "layer", data)
    writer = CloudVolume(backend.write_url("layer"), progress=False, non_aligned_writes=True)
    patch = np.full((50, 41, 9), 7, dtype=np.uint16)
    writer[_box((20, 30, 10), (70, 71, 19))] = patch
    expected = data.copy()
    expected[20:70, 30:71, 10:19] = 7
    np.testing.assert_array_equal(
        CloudVolume(backend.read_url("layer"), progress=False)[_box((0, 0, 0), SIZE)][..., 0], expected
    )


def test_mips_read_and_write(backend):
    vol = CloudVolume(backend.write_url("layer"), info=_info(), progress=False)
    vol.add_scale((2, 2, 1))
    vol.commit_info()
    full = random_array(SIZE, "uint8", seed=4)
    vol[_box((0, 0, 0), SIZE)] = full
    low = random_array((75, 50, 40), "uint8", seed=5)
    vol.mip = 1
    vol[vol.bounds.to_slices()] = low
    reader = CloudVolume(backend.read_url("layer"), progress=False, mip=1)
    np.testing.assert_array_equal(reader[reader.bounds.to_slices()][..., 0], low)
    np.testing.assert_array_equal(
        CloudVolume(backend.read_url("layer"), progress=False)[_box((0, 0, 0), SIZE)][..., 0], full
    )


def test_a_layer_that_is_not_there(backend):
    with pytest.raises(InfoUnavailableError, match="no info file"):
        CloudVolume(backend.read_url("nothing-here"), progress=False)


REMOTE = [pytest.param(name, marks=getattr(pytest.mark, name)) for name in ("s3", "gcs", "http")]


@pytest.mark.parametrize("backend", REMOTE, indirect=True)
def test_reads_go_out_concurrently_not_one_after_another(backend):
    """An 18-chunk read asks for its chunks in batches that are fetched at once, not one by one."""
    data = random_array(SIZE, "uint8", seed=6)
    _write_layer(backend, "layer", data)
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    store = reader._volume.store
    calls = []
    original = store.get_stored_many

    def counting(keys):
        keys = list(keys)
        calls.append(len(keys))
        return original(keys)

    store.get_stored_many = counting
    np.testing.assert_array_equal(reader[_box((0, 0, 0), SIZE)][..., 0], data)
    assert sum(calls) == 3 * 2 * 3
    assert max(calls) > 1


@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("local", "s3", "gcs")], indirect=True
)
def test_parallel_workers_give_the_same_bytes(backend):
    """Worker processes open the layer themselves from its URL and the same credentials."""
    data = random_array(SIZE, "uint8", seed=8)
    _write_layer(backend, "serial", data)
    par = CloudVolume(backend.write_url("parallel"), info=_info(), progress=False, parallel=2)
    par.commit_info()
    par[_box((0, 0, 0), SIZE)] = data
    np.testing.assert_array_equal(par[_box((0, 0, 0), SIZE)][..., 0], data)
    serial = CloudVolume(backend.write_url("serial"), progress=False)
    np.testing.assert_array_equal(
        par[_box((20, 10, 3), (140, 90, 37))], serial[_box((20, 10, 3), (140, 90, 37))]
    )
    par.close()


def test_a_decompression_bomb_is_refused_on_every_backend(backend, tmp_path):
    """A gzip chunk that expands to 256 MiB (for 64x64x16 voxels): a DecodingError naming it,
    at once, whether it comes as a .gz file or with Content-Encoding: gzip."""
    import time
    import zlib

    from precomputed_core import ObjectMetadata
    from precomputed_core.exceptions import DecodingError

    vol = _write_layer(backend, "layer", random_array(SIZE, "uint8", seed=3), compress="gzip")
    coder = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(coder.compress(bytes(2**20)) for _ in range(256)) + coder.flush()
    (key,) = vol.exists(_box((0, 0, 0), (64, 64, 16)))
    vol._volume.store.put(key, bomb, metadata=ObjectMetadata(content_encoding="gzip"))
    reader = CloudVolume(backend.read_url("layer"), progress=False)
    start = time.monotonic()
    with pytest.raises(DecodingError, match=f"{key}(\\.gz)?: it expands to more than"):
        reader[_box((0, 0, 0), (64, 64, 16))]
    assert time.monotonic() - start < 10
