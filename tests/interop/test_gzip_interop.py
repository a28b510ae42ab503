"""gzip-compressed chunks: which names each library writes and reads, on disk and over HTTP.

A bucket stores a gzip-compressed chunk under its bare name with the header
``Content-Encoding: gzip``; a local disk has no headers, so cloud-volume marks
the compressed file with a suffix instead (``0-32_0-32_0-16.gz``). The peers
disagree about that suffix:

* cloud-volume reads both the bare and the ``.gz`` name, and by default writes
  raw chunks gzipped as ``.gz`` (``compress=False`` writes bare names);
* tensorstore reads only the bare name from disk and never gunzips a local
  file: a chunk that exists only as ``.gz`` is *missing* to it, so it returns
  the fill value (zeros). It decodes gzip only as HTTP Content-Encoding.
* we read every variant, write bare names when uncompressed (the default, so
  tensorstore and Neuroglancer-over-file read our layers) and ``.gz`` with
  ``compress='gzip'`` (as cloud-volume does, to upload to a bucket later).

The loopback server of the ``gzip_http_server`` fixture serves ``P.gz`` for a
request of ``P`` with ``Content-Encoding: gzip``, as a bucket would.
"""

from __future__ import annotations

import copy
import gzip
import io
import os
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from precomputed_core import CloudVolume

ts = pytest.importorskip("tensorstore")
cloudvolume = pytest.importorskip("cloudvolume")

if TYPE_CHECKING:
    from pathlib import Path

OFFSET, SIZE, CHUNK = [13, -7, 5], [70, 50, 20], [32, 32, 16]
# the 3 x 2 x 2 chunks of that geometry, clipped at the far edges
CHUNK_NAMES = sorted(
    f"{x}_{y}_{z}" for x in ("13-45", "45-77", "77-83") for y in ("-7-25", "25-43") for z in ("5-21", "21-25")
)


def make_info(dtype: str = "uint16", channels: int = 1, max_mip: int = 0) -> dict[str, Any]:
    return CloudVolume.create_new_info(
        channels, "image", dtype, "raw", [4, 4, 40], OFFSET, SIZE, chunk_size=CHUNK, max_mip=max_mip
    )


def random_data(seed: int, shape: tuple[int, ...], dtype: str = "uint16") -> np.ndarray:
    return np.random.default_rng(seed).integers(
        0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True
    )


def stored_names(layer: Path, key: str = "4_4_40") -> list[str]:
    return sorted(os.listdir(layer / key))


def ts_read(kvstore: dict[str, Any], scale_index: int = 0) -> np.ndarray:
    spec = {"driver": "neuroglancer_precomputed", "kvstore": kvstore, "scale_index": scale_index}
    return np.asarray(ts.open(spec).result().read().result())


def ts_local(layer: Path, scale_index: int = 0) -> np.ndarray:
    return ts_read({"driver": "file", "path": str(layer)}, scale_index)


def ts_http(url: str, scale_index: int = 0) -> np.ndarray:
    return ts_read({"driver": "http", "base_url": url}, scale_index)


def cv_read(cloudpath: str, mip: int = 0) -> np.ndarray:
    return np.asarray(cloudvolume.CloudVolume(cloudpath, mip=mip, progress=False)[:, :, :])


def ours_read(layer: Path, mip: int = 0) -> np.ndarray:
    return np.asarray(CloudVolume(str(layer), mip=mip, progress=False)[:, :, :])


# --- (a) on local disk: who reads which layout ------------------------------------------------

WRITERS = [
    # (writer, compress option, suffix every chunk file gets)
    pytest.param("ours", None, "", id="ours-default-bare"),
    pytest.param("ours", "gzip", ".gz", id="ours-gzip"),
    pytest.param("ours", True, ".gz", id="ours-compress=True"),
    pytest.param("cloudvolume", None, ".gz", id="cloudvolume-default-gz"),
    pytest.param("cloudvolume", "gzip", ".gz", id="cloudvolume-gzip"),
    pytest.param("cloudvolume", False, "", id="cloudvolume-compress=False-bare"),
    # cloud-volume also writes brotli and zstd files; we read them (tensorstore does not)
    pytest.param("cloudvolume", "br", ".br", id="cloudvolume-br"),
    pytest.param("cloudvolume", "zstd", ".zstd", id="cloudvolume-zstd"),
]


@pytest.mark.parametrize(("writer", "compress", "suffix"), WRITERS)
def test_each_peer_reads_each_layout_on_disk(
    cv_env: Path, tmp_path: Path, writer: str, compress: Any, suffix: str
) -> None:
    layer = tmp_path / "ds" / "img"
    data = random_data(10, (*SIZE, 1))
    info = make_info()
    if writer == "ours":
        vol = CloudVolume(str(layer), info=info, compress=compress, progress=False)
        vol.commit_info()
        vol[:, :, :] = data
    else:
        cv = cloudvolume.CloudVolume("file://" + str(layer), info=copy.deepcopy(info),
                                     compress=compress, progress=False)  # fmt: skip
        cv.commit_info()
        cv[:, :, :] = data

    assert stored_names(layer) == [name + suffix for name in CHUNK_NAMES]
    assert (layer / "info").is_file()  # the info is never compressed on disk

    # we and cloud-volume read both layouts
    np.testing.assert_array_equal(ours_read(layer), data)
    np.testing.assert_array_equal(cv_read("file://" + str(layer)), data)
    assert all(CloudVolume(str(layer), progress=False).exists(np.s_[:, :, :]).values())
    assert all(
        cloudvolume.CloudVolume("file://" + str(layer), progress=False).exists(np.s_[:, :, :]).values()
    )

    # tensorstore reads only bare names from disk: a .gz-only (or .br, .zstd) chunk is
    # missing to it, i.e. zeros. This is why our uncompressed writes (the default) use
    # bare names.
    expected_by_tensorstore = data if suffix == "" else np.zeros_like(data)
    np.testing.assert_array_equal(ts_local(layer), expected_by_tensorstore)


def test_rewrites_leave_one_layout_per_chunk(cv_env: Path, tmp_path: Path) -> None:
    """Our writes replace a chunk's other-suffix file, so no reader sees stale bytes."""
    layer = tmp_path / "ds" / "img"
    cloudpath = "file://" + str(layer)
    info = make_info()
    first, second, third = (random_data(seed, (*SIZE, 1)) for seed in (20, 21, 22))

    cv = cloudvolume.CloudVolume(cloudpath, info=copy.deepcopy(info), progress=False)
    cv.commit_info()
    cv[:, :, :] = first
    assert stored_names(layer) == [n + ".gz" for n in CHUNK_NAMES]

    # uncompressed over cloud-volume's .gz files: the .gz files go away
    CloudVolume(str(layer), progress=False)[:, :, :] = second
    assert stored_names(layer) == CHUNK_NAMES
    np.testing.assert_array_equal(ts_local(layer), second)
    np.testing.assert_array_equal(cv_read(cloudpath), second)

    # gzip over our bare files: the bare files go away (tensorstore now sees none)
    CloudVolume(str(layer), compress="gzip", progress=False)[:, :, :] = third
    assert stored_names(layer) == [n + ".gz" for n in CHUNK_NAMES]
    np.testing.assert_array_equal(cv_read(cloudpath), third)
    np.testing.assert_array_equal(ours_read(layer), third)
    np.testing.assert_array_equal(ts_local(layer), np.zeros_like(third))


def test_when_both_names_exist_we_read_the_bare_one_as_tensorstore_does(cv_env: Path, tmp_path: Path) -> None:
    """cloud-volume's default (.gz) write over a bare chunk leaves the bare file in place.

    Then every reader has to pick one. We read the bare file first, as tensorstore
    does (it knows no other); cloud-volume tries the names in an order it adapts to
    the last hit, so it may return either.
    """
    layer = tmp_path / "ds" / "img"
    old, new = random_data(25, (*SIZE, 1)), random_data(26, (*SIZE, 1))
    vol = CloudVolume(str(layer), info=make_info(), progress=False)
    vol.commit_info()
    vol[:, :, :] = old
    cloudvolume.CloudVolume("file://" + str(layer), progress=False)[:, :, :] = new
    assert stored_names(layer) == sorted([*CHUNK_NAMES, *(n + ".gz" for n in CHUNK_NAMES)])

    np.testing.assert_array_equal(ts_local(layer), old)
    np.testing.assert_array_equal(ours_read(layer), old)
    theirs = cv_read("file://" + str(layer))
    assert np.array_equal(theirs, old) or np.array_equal(theirs, new)


def test_non_aligned_write_into_cloudvolume_gz_chunks(cv_env: Path, tmp_path: Path) -> None:
    """A partial write reads cloud-volume's .gz chunk, patches it and stores it bare."""
    layer = tmp_path / "ds" / "img"
    cloudpath = "file://" + str(layer)
    data = random_data(30, (*SIZE, 1))
    cv = cloudvolume.CloudVolume(cloudpath, info=make_info(), progress=False)
    cv.commit_info()
    cv[:, :, :] = data

    patch = random_data(31, (10, 10, 4, 1))
    CloudVolume(str(layer), non_aligned_writes=True, progress=False)[20:30, 0:10, 10:14] = patch
    expected = data.copy()
    expected[7:17, 7:17, 5:9] = patch

    # only the one touched chunk changed layout
    names = stored_names(layer)
    assert "13-45_-7-25_5-21" in names
    assert sorted(n for n in names if n.endswith(".gz")) == [
        n + ".gz" for n in CHUNK_NAMES if n != "13-45_-7-25_5-21"
    ]
    np.testing.assert_array_equal(ours_read(layer), expected)
    np.testing.assert_array_equal(cv_read(cloudpath), expected)


# --- (b) over HTTP with Content-Encoding: gzip ------------------------------------------------


def _fetch(url: str) -> tuple[int, str | None, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Encoding"), response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers.get("Content-Encoding"), err.read()


def test_loopback_server_serves_like_a_bucket(gzip_http_server: Any) -> None:
    root = gzip_http_server.root
    (root / "layer" / "key").mkdir(parents=True)
    (root / "layer" / "info").write_bytes(b'{"plain": true}')
    packed = gzip.compress(b"chunk bytes")
    (root / "layer" / "key" / "0-1_0-1_0-1.gz").write_bytes(packed)
    (root.parent / "secret").write_bytes(b"outside the served directory")

    assert _fetch(gzip_http_server.url("layer/info")) == (200, None, b'{"plain": true}')
    # the stored gzip bytes, undecoded, with the header that tells the client to gunzip
    assert _fetch(gzip_http_server.url("layer/key/0-1_0-1_0-1")) == (200, "gzip", packed)
    assert _fetch(gzip_http_server.url("layer/missing"))[0] == 404
    assert _fetch(gzip_http_server.url("layer/%2E%2E/%2E%2E/secret"))[0] == 404
    assert gzip_http_server.url("layer").startswith("http://127.0.0.1:")


def test_tensorstore_reads_our_gzip_layer_over_http(cv_env: Path, gzip_http_server: Any) -> None:
    layer = gzip_http_server.root / "ds" / "img"
    mip0 = random_data(40, (*SIZE, 3), "uint8")
    mip1 = random_data(41, (35, 25, 20, 3), "uint8")
    vol = CloudVolume(str(layer), info=make_info("uint8", 3, max_mip=1), compress="gzip", progress=False)
    vol.commit_info()
    vol[:, :, :] = mip0
    vol.mip = 1
    vol[:, :, :] = mip1
    assert all(name.endswith(".gz") for key in ("4_4_40", "8_8_40") for name in stored_names(layer, key))

    url = gzip_http_server.url("ds/img")
    np.testing.assert_array_equal(ts_http(url, 0), mip0)
    np.testing.assert_array_equal(ts_http(url, 1), mip1)

    # tensorstore fetched every chunk, and each came as gzip Content-Encoding
    served = gzip_http_server.requests_for("/ds/img/4_4_40/")
    assert sorted(path.rsplit("/", 1)[1] for path, _, _ in served) == CHUNK_NAMES
    assert {(status, encoding) for _, status, encoding in served} == {(200, "gzip")}

    # cloud-volume over the same server decodes it too
    np.testing.assert_array_equal(cv_read(url, 0), mip0)
    np.testing.assert_array_equal(cv_read(url, 1), mip1)

    # ... while tensorstore reading the same files from disk sees only fill values
    np.testing.assert_array_equal(ts_local(layer, 0), np.zeros_like(mip0))


def _gzip_every_chunk(directory: Path) -> int:
    """Replace each chunk file by ``<chunk>.gz``, as after an upload with Content-Encoding."""
    names = sorted(os.listdir(directory))
    for i, name in enumerate(names):
        path = directory / name
        raw = path.read_bytes()
        if i % 2:
            packed = gzip.compress(raw)  # header with a modification time
        else:  # header with an original file name, as the gzip tool writes
            buffer = io.BytesIO()
            with gzip.GzipFile(filename=name, mode="wb", fileobj=buffer) as stream:
                stream.write(raw)
            packed = buffer.getvalue()
        (directory / f"{name}.gz").write_bytes(packed)
        path.unlink()
    return len(names)


def test_we_read_gzipped_tensorstore_chunks(cv_env: Path, gzip_http_server: Any) -> None:
    layer = gzip_http_server.root / "ds" / "img"
    data = random_data(50, (*SIZE, 2), "uint16")
    spec = {
        "driver": "neuroglancer_precomputed",
        "kvstore": {"driver": "file", "path": str(layer)},
        "multiscale_metadata": {"type": "image", "data_type": "uint16", "num_channels": 2},
        "scale_metadata": {"resolution": [4, 4, 40], "encoding": "raw", "chunk_size": CHUNK,
                           "size": SIZE, "voxel_offset": OFFSET},
        "create": True,
    }  # fmt: skip
    ts.open(spec).result().write(data).result()
    assert stored_names(layer) == CHUNK_NAMES  # tensorstore writes bare names
    assert _gzip_every_chunk(layer / "4_4_40") == len(CHUNK_NAMES)
    assert stored_names(layer) == [n + ".gz" for n in CHUNK_NAMES]

    # we read the gzipped layer from disk, as cloud-volume does
    np.testing.assert_array_equal(ours_read(layer), data)
    np.testing.assert_array_equal(cv_read("file://" + str(layer)), data)

    # these are the files a bucket would serve: tensorstore decodes them over HTTP ...
    np.testing.assert_array_equal(ts_http(gzip_http_server.url("ds/img")), data)
    served = gzip_http_server.requests_for("/ds/img/4_4_40/")
    assert {(status, encoding) for _, status, encoding in served} == {(200, "gzip")}
    assert len(served) == len(CHUNK_NAMES)
    # ... but not from disk, where it finds no bare chunk and returns the fill value
    np.testing.assert_array_equal(ts_local(layer), np.zeros_like(data))


@pytest.mark.parametrize("level", [1, 6, 9])
def test_peers_and_the_stdlib_decode_our_gzip_at_every_level(
    cv_env: Path, gzip_http_server: Any, level: int
) -> None:
    from precomputed_core.format import gzip_backend

    assert gzip_backend() == "isal"  # what writes here is ISA-L's gzip, not the stdlib's
    layer = gzip_http_server.root / "ds" / f"l{level}"
    data = random_data(50 + level, (*SIZE, 1))
    data[:, :30] = 7  # something to compress
    vol = CloudVolume(str(layer), info=make_info(), compress="gzip", compress_level=level, progress=False)
    vol.commit_info()
    vol[:, :, :] = data
    # the stdlib decodes every chunk file, and together they hold every voxel once
    unpacked = [gzip.decompress((layer / "4_4_40" / name).read_bytes()) for name in stored_names(layer)]
    assert sum(len(raw) for raw in unpacked) == data.nbytes
    url = gzip_http_server.url(f"ds/l{level}")
    np.testing.assert_array_equal(ts_http(url, 0), data)
    np.testing.assert_array_equal(cv_read(url, 0), data)
    np.testing.assert_array_equal(cv_read("file://" + str(layer)), data)
