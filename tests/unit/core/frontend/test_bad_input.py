"""Bad input gives a clear exception: never garbage, never a hang."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import (
    AlignmentError,
    DecodingError,
    InfoUnavailableError,
    InfoValidationError,
    UnsupportedDataTypeError,
)
from precomputed_core.testing import random_array


def _chunk(vol, name="0-32_0-32_0-16"):
    return os.path.join(vol.layer_cloudpath[len("file://") :], vol.key, name)


def test_missing_info_says_how_to_create_one(tmp_path):
    with pytest.raises(
        InfoUnavailableError, match=r"no info file at file://.*/nothing/info; .*create_new_info"
    ):
        CloudVolume(f"file://{tmp_path}/nothing")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe\x00", "is not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (json.dumps({"type": "image"}).encode(), "lacks the required field 'data_type'"),
        (
            json.dumps({"type": "image", "data_type": "uint8", "num_channels": 1, "scales": []}).encode(),
            "non-empty list",
        ),
    ],
)
def test_malformed_info_is_named(tmp_path, content, message):
    layer = tmp_path / "bad"
    layer.mkdir()
    (layer / "info").write_bytes(content)
    with pytest.raises(InfoValidationError, match=message):
        CloudVolume(f"file://{layer}")


def test_raw_chunk_of_the_wrong_size(make_volume):
    vol = make_volume()
    vol[:] = 1
    with open(_chunk(vol), "r+b") as f:
        f.truncate(100)
    with pytest.raises(
        DecodingError, match=r"chunk file://.*/4_4_40/0-32_0-32_0-16: raw chunk has 100 bytes"
    ):
        vol[0:10, 0:10, 0:10]
    # a read that does not touch the broken chunk still works
    assert np.all(vol[40:50, 40:50, 0:10] == 1)


def test_corrupt_gzip_chunk(make_volume):
    vol = make_volume(compress="gzip")
    vol[:] = 1
    path = _chunk(vol) + ".gz"
    from pathlib import Path

    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodingError, match=r"0-32_0-32_0-16\.gz is not valid gzip data"):
        vol[0:10, 0:10, 0:10]


def test_gzip_chunk_of_the_wrong_size(make_volume):
    vol = make_volume()
    vol[:] = 1
    os.remove(_chunk(vol))
    with open(_chunk(vol) + ".gz", "wb") as f:
        f.write(gzip.compress(b"\x01" * 10))
    with pytest.raises(DecodingError, match="raw chunk has 10 bytes"):
        vol[0:10, 0:10, 0:10]


@pytest.mark.parametrize(
    ("array", "layer"),
    [
        (np.zeros((32, 32, 16), np.float32), "uint8"),
        (np.zeros((32, 32, 16), np.uint16), "uint8"),
        (np.zeros((32, 32, 16), np.int8), "uint8"),
        (np.zeros((32, 32, 16), np.int64), "uint64"),
        (np.zeros((32, 32, 16), np.uint32), "int32"),
        (np.zeros((32, 32, 16), np.complex64), "float32"),
    ],
)
def test_unsafe_casts_are_refused(make_volume, array, layer):
    vol = make_volume(dtype=layer)
    with pytest.raises(UnsupportedDataTypeError, match=f"into a {layer} layer without changing values"):
        vol[0:32, 0:32, 0:16] = array
    assert not os.path.exists(_chunk(vol))


@pytest.mark.parametrize(("array", "layer"), [
    (np.ones((32, 32, 16), np.uint8), "uint16"),
    (np.ones((32, 32, 16), np.bool_), "uint8"),
    (np.ones((32, 32, 16), np.float64), "float32"),
    (np.ones((32, 32, 16), np.int16), "int32"),
])  # fmt: skip
def test_safe_casts_are_accepted(make_volume, array, layer):
    vol = make_volume(dtype=layer)
    vol[0:32, 0:32, 0:16] = array
    assert vol[0:32, 0:32, 0:16].dtype == np.dtype(layer)
    assert np.all(vol[0:32, 0:32, 0:16] == 1)


@pytest.mark.parametrize("value", [300, -1, 2.5, "7"])
def test_scalars_that_do_not_fit_are_refused(make_volume, value):
    vol = make_volume()
    with pytest.raises(UnsupportedDataTypeError):
        vol[0:32, 0:32, 0:16] = value


def test_wrong_shape_is_refused(make_volume):
    vol = make_volume()
    with pytest.raises(
        AlignmentError,
        match=r"shape \(32, 32, 15\) does not match the box's \(x, y, z, c\) shape \(32, 32, 16, 1\)",
    ):
        vol[0:32, 0:32, 0:16] = np.zeros((32, 32, 15), np.uint8)
    with pytest.raises(AlignmentError):
        vol[0:32, 0:32, 0:16] = np.zeros((16, 32, 32), np.uint8)


def test_partial_channel_write_is_refused(make_volume):
    vol = make_volume(channels=2)
    with pytest.raises(ValueError, match="writes cover all 2 channels"):
        vol[0:32, 0:32, 0:16, 0] = np.zeros((32, 32, 16, 1), np.uint8)


def test_writing_a_layer_with_a_non_spec_dtype_is_refused(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [8, 8, 8],
                                       chunk_size=(8, 8, 8))  # fmt: skip
    info["data_type"] = "float64"  # as cloud-volume lets one write
    vol = CloudVolume(f"file://{tmp_path}/f64", info=info, progress=False)
    with pytest.raises(UnsupportedDataTypeError, match="Neuroglancer and tensorstore cannot read it"):
        vol[:] = np.zeros((8, 8, 8), np.float64)
    with pytest.raises(UnsupportedDataTypeError):
        vol.commit_info()


def test_reading_an_existing_float64_layer_works(tmp_path):
    """Layers cloud-volume wrote with non-spec types stay readable, so users can convert them."""
    layer = tmp_path / "f64"
    (layer / "1_1_1").mkdir(parents=True)
    info = {"type": "image", "data_type": "float64", "num_channels": 1, "scales": [
        {"key": "1_1_1", "size": [4, 4, 4], "resolution": [1, 1, 1], "voxel_offset": [0, 0, 0],
         "chunk_sizes": [[4, 4, 4]], "encoding": "raw"}]}  # fmt: skip
    (layer / "info").write_text(json.dumps(info))
    data = random_array((4, 4, 4), "float64")
    (layer / "1_1_1" / "0-4_0-4_0-4").write_bytes(data.tobytes(order="F"))
    np.testing.assert_array_equal(CloudVolume(f"file://{layer}")[:][..., 0], data)


def test_a_failed_read_raises_and_leaves_no_threads_writing(make_volume):
    vol = make_volume(size=(512, 512, 32), chunk=(16, 16, 16))  # 8 MiB: read on the thread pool
    vol[:] = 3
    os.remove(_chunk(vol, "128-144_128-144_0-16"))
    for _ in range(3):
        with pytest.raises(FileNotFoundError, match="128-144_128-144_0-16 is missing"):
            vol[:]


@pytest.mark.parametrize(
    ("layer", "values"),
    [
        ("int8", [0, 1, -128, 127, np.int8(1), np.int64(-3), True]),
        ("uint8", [0, 255, np.uint16(7)]),
        ("float32", [0, 1.5, -2, 16777216, np.float64(3.25), float("nan")]),
        ("uint64", [2**64 - 1]),
    ],
)
def test_scalars_that_fit_are_written(make_volume, layer, values):
    vol = make_volume(dtype=layer)
    for value in values:
        vol[0:32, 0:32, 0:16] = value
        got = vol[0:32, 0:32, 0:16]
        expected = np.asarray(value, dtype=layer)
        np.testing.assert_array_equal(got, np.broadcast_to(expected, got.shape))


@pytest.mark.parametrize(
    ("layer", "value"),
    [("int8", 128), ("int8", -129), ("uint64", -1), ("float32", 16777217), ("float32", 1e39), ("int32", 1.0)],
)
def test_scalars_that_change_value_are_refused(make_volume, layer, value):
    vol = make_volume(dtype=layer)
    with pytest.raises(UnsupportedDataTypeError, match="without changing values"):
        vol[0:32, 0:32, 0:16] = value


def test_integer_arrays_that_float32_would_round_are_refused(make_volume):
    vol = make_volume(dtype="float32")
    with pytest.raises(UnsupportedDataTypeError, match="an array of int64"):
        vol[0:32, 0:32, 0:16] = np.full((32, 32, 16), 16777217, np.int64)
    with pytest.raises(UnsupportedDataTypeError, match="beyond"):
        vol[0:32, 0:32, 0:16] = np.full((32, 32, 16), 1e39, np.float64)
    vol[0:32, 0:32, 0:16] = np.full((32, 32, 16), np.inf, np.float64)  # inf stays inf
    assert np.all(np.isinf(vol[0:32, 0:32, 0:16]))


def test_commit_info_with_numpy_values(make_volume):
    vol = make_volume()
    vol.info["scales"][0]["voxel_offset"] = vol.voxel_offset + 5
    vol.info["num_channels"] = np.int64(1)
    vol.commit_info()
    assert CloudVolume(vol.cloudpath).voxel_offset.tolist() == [5, 5, 5]


def test_malformed_size_is_refused_on_commit(make_volume):
    vol = make_volume()
    vol.info["scales"][0]["size"] = [[64, 64, 32]]
    with pytest.raises(InfoValidationError, match=r"size'\] must be 3 positive integers"):
        vol.commit_info()
