"""The disk cache and the peers: our cache directory is a layer, and cloud-volume's is shared.

* A layer's cache directory holds its info and its chunks under their own names
  (``.gz`` added to gzip-compressed ones), as cloud-volume lays out its cache; our
  checksum records live apart, in ``.precomputed-cache/``. So tensorstore and
  cloud-volume read a cache directory as a ``file://`` layer, voxel for voxel.
* With ``cache=True`` both libraries choose the same directory
  (``$CLOUD_VOLUME_CACHE_DIR/$PROTOCOL/$BUCKET/$DATASET/$LAYER``). We never serve
  a file cloud-volume put there (it has no checksum record of ours): we fetch it
  again and rewrite it, and cloud-volume still reads what we left.
"""

from __future__ import annotations

import gzip
import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.testing import random_array

ts = pytest.importorskip("tensorstore")
cloudvolume = pytest.importorskip("cloudvolume")
cv_datasource = pytest.importorskip("cloudvolume.datasource")

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.interop

OFFSET, SIZE, CHUNK = [13, -7, 5], [70, 50, 20], [32, 32, 16]
KEY = "4_4_40"
# the 3 x 2 x 2 chunks of that geometry, clipped at the far edges
CHUNK_NAMES = sorted(
    f"{x}_{y}_{z}" for x in ("13-45", "45-77", "77-83") for y in ("-7-25", "25-43") for z in ("5-21", "21-25")
)
FIRST = "13-45_-7-25_5-21"


def _layer(tmp_path: Path, data: np.ndarray, compress: str | None = None) -> str:
    url = f"file://{tmp_path}/data/layer"
    info = CloudVolume.create_new_info(
        1, "image", "uint16", "raw", [4, 4, 40], OFFSET, SIZE, chunk_size=CHUNK
    )
    writer = CloudVolume(url, info=info, progress=False, compress=compress)
    writer.commit_info()
    writer[:, :, :] = data
    return url


def _whole(vol: Any) -> np.ndarray:
    return np.asarray(vol[:, :, :])[..., 0]


def _ts_read(path: str) -> np.ndarray:
    spec = {"driver": "neuroglancer_precomputed", "kvstore": {"driver": "file", "path": path}}
    return np.asarray(ts.open(spec).result().read().result())[..., 0]


def _cv_read(path: str, **options: Any) -> np.ndarray:
    return _whole(cloudvolume.CloudVolume("file://" + path, progress=False, **options))


def _raw_chunk(data: np.ndarray, name: str) -> bytes:
    """The bytes of the raw chunk ``name`` (``x0-x1_y0-y1_z0-z1``, in voxels) of the layer's ``data``."""
    box = tuple(
        slice(int(lo) - o, int(hi) - o) for (lo, hi), o in zip(re.findall(r"(-?\d+)-(-?\d+)", name), OFFSET)
    )
    return data[box].astype("<u2").tobytes(order="F")


def _data_files(path: str) -> list[str]:
    return sorted(os.listdir(os.path.join(path, KEY)))


def test_a_cache_of_raw_chunks_is_a_layer_for_tensorstore_and_cloudvolume(tmp_path):
    data = random_array(tuple(SIZE), "uint16", seed=1)
    url = _layer(tmp_path, data)
    vol = CloudVolume(url, cache=str(tmp_path / "cache"), progress=False)
    np.testing.assert_array_equal(vol[13:45, -7:25, 5:21][..., 0], data[:32, :32, :16])  # one chunk
    assert _data_files(vol.cache.path) == [FIRST]
    partial = np.zeros_like(data)
    partial[:32, :32, :16] = data[:32, :32, :16]
    np.testing.assert_array_equal(_ts_read(vol.cache.path), partial)  # the rest: missing, fill value
    np.testing.assert_array_equal(_cv_read(vol.cache.path, fill_missing=True), partial)

    np.testing.assert_array_equal(_whole(vol), data)
    assert _data_files(vol.cache.path) == CHUNK_NAMES
    np.testing.assert_array_equal(_ts_read(vol.cache.path), data)
    np.testing.assert_array_equal(_cv_read(vol.cache.path), data)
    np.testing.assert_array_equal(_whole(CloudVolume("file://" + vol.cache.path, progress=False)), data)


def test_a_cache_of_gzip_chunks_is_a_layer_for_cloudvolume(tmp_path):
    data = random_array(tuple(SIZE), "uint16", seed=2)
    url = _layer(tmp_path, data, compress="gzip")
    vol = CloudVolume(url, cache=str(tmp_path / "cache"), progress=False)
    np.testing.assert_array_equal(_whole(vol), data)
    assert _data_files(vol.cache.path) == [f"{name}.gz" for name in CHUNK_NAMES]  # kept as fetched
    np.testing.assert_array_equal(_cv_read(vol.cache.path), data)
    # stored plainly (compress_cache=False), the same chunks are a layer for tensorstore too
    plain = CloudVolume(url, cache=str(tmp_path / "plain"), compress_cache=False, progress=False)
    np.testing.assert_array_equal(_whole(plain), data)
    assert _data_files(plain.cache.path) == CHUNK_NAMES
    np.testing.assert_array_equal(_ts_read(plain.cache.path), data)
    np.testing.assert_array_equal(_cv_read(plain.cache.path), data)


@pytest.mark.parametrize("compress", [None, "gzip"], ids=["raw", "gzip"])
def test_files_cloudvolume_cached_are_not_trusted_and_it_reads_ours(tmp_path, monkeypatch, compress):
    shared = str(tmp_path / "shared-cache")
    monkeypatch.setenv("CLOUD_VOLUME_CACHE_DIR", shared)
    # cloud-volume reads the variable when imported: set what it took from it too
    monkeypatch.setattr(cv_datasource, "CLOUD_VOLUME_CACHE_DIR", shared)
    data = random_array(tuple(SIZE), "uint16", seed=3)
    url = _layer(tmp_path, data, compress=compress)

    cv = cloudvolume.CloudVolume(url, cache=True, progress=False)
    np.testing.assert_array_equal(_whole(cv), data)
    assert cv.cache.path.startswith(os.path.join(shared, "file", ""))
    written = _data_files(cv.cache.path)
    assert [name.removesuffix(".gz") for name in written] == CHUNK_NAMES
    cached_info = os.path.join(cv.cache.path, "info")
    assert os.path.isfile(cached_info)
    assert not os.path.exists(os.path.join(cv.cache.path, ".precomputed-cache"))
    rng = np.random.default_rng(4)
    for path in [cached_info] + [os.path.join(cv.cache.path, KEY, name) for name in written]:
        size = os.path.getsize(path)  # garbage of the same size, under cloud-volume's names
        with open(path, "wb") as file:
            file.write(rng.integers(0, 256, size, dtype=np.uint8).tobytes())

    ours = CloudVolume(url, cache=True, progress=False)  # not opened from the garbled info
    assert ours.cache.path == cv.cache.path
    np.testing.assert_array_equal(_whole(ours), data)
    assert ours.cache.list() == CHUNK_NAMES
    for name in CHUNK_NAMES:  # each rewritten from storage, in one file
        found = [f for f in _data_files(ours.cache.path) if f.removesuffix(".gz") == name]
        assert len(found) == 1
        with open(os.path.join(ours.cache.path, KEY, found[0]), "rb") as file:
            stored = file.read()
        assert (gzip.decompress(stored) if found[0].endswith(".gz") else stored) == _raw_chunk(data, name)
    with open(cached_info, "rb") as file:
        assert file.read().startswith(b"{")

    for name in os.listdir(tmp_path / "data" / "layer" / KEY):  # storage loses the chunks:
        os.remove(tmp_path / "data" / "layer" / KEY / name)  # the reads below use the cache
    np.testing.assert_array_equal(_whole(CloudVolume(url, cache=True, progress=False)), data)
    again = cloudvolume.CloudVolume(url, cache=True, progress=False)
    np.testing.assert_array_equal(_whole(again), data)  # cloud-volume reads the files we rewrote
    np.testing.assert_array_equal(_cv_read(ours.cache.path), data)
