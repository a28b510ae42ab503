"""precomputed <-> tensorstore on local disk: each writes, the other reads, voxel for voxel.

tensorstore's ``neuroglancer_precomputed`` driver is the reference reader and
writer of the format (Neuroglancer's own team maintains it). Both libraries
index arrays as (x, y, z, channel) in the layer's voxel coordinates, so the
arrays are compared directly. Floats are compared bit for bit (NaN payloads,
-0.0 and infinities included): a raw chunk is bytes, nothing may round.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from oracles import tensorstore_create, tensorstore_open
from precomputed_core import CloudVolume
from precomputed_core.exceptions import EmptyVolumeException

ts = pytest.importorskip("tensorstore")

if TYPE_CHECKING:
    from pathlib import Path

DTYPES = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "float32"]
RESOLUTION = [4, 4, 40]
CHUNK = [32, 32, 16]


# --- helpers ---------------------------------------------------------------------


def random_volume(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Random voxels over the dtype's whole range; floats include NaN, +-inf, -0.0, denormals."""
    kind = np.dtype(dtype)
    if kind.kind in "ui":
        info = np.iinfo(kind)
        return rng.integers(info.min, info.max, size=shape, dtype=kind, endpoint=True)
    array = (rng.standard_normal(shape) * 1e6).astype(kind)
    flat = array.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, np.finfo(kind).max], dtype=kind)
    flat[rng.choice(flat.size, size=specials.size, replace=False)] = specials
    return array


def assert_same_voxels(actual: Any, expected: np.ndarray) -> None:
    """Same shape, same dtype and the same bytes in every voxel."""
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if expected.dtype.kind == "f":
        bits = np.dtype(f"u{expected.dtype.itemsize}")
        np.testing.assert_array_equal(actual.view(bits), expected.view(bits))
    np.testing.assert_array_equal(actual, expected)


def chunk_files(layer: Path, key: str) -> list[str]:
    return sorted(os.listdir(layer / key))


def ts_open(layer: Path, scale_index: int | None = None) -> Any:
    return tensorstore_open(layer, scale_index)


def ts_create(
    layer: Path,
    *,
    dtype: str,
    num_channels: int,
    resolution: list[float],
    voxel_offset: list[int],
    size: list[int],
    chunk: list[int] = CHUNK,
    layer_type: str = "image",
) -> Any:
    """Create (or add) one raw scale with tensorstore and return it open for writing."""
    return tensorstore_create(layer, layer_type=layer_type, dtype=dtype, channels=num_channels, encoding="raw",
                              resolution=resolution, chunk_size=chunk, size=size, voxel_offset=voxel_offset)  # fmt: skip


def ours_create(
    layer: Path,
    *,
    dtype: str,
    num_channels: int,
    voxel_offset: list[int],
    size: list[int],
    max_mip: int = 0,
    layer_type: str = "image",
    **options: Any,
) -> CloudVolume:
    info = CloudVolume.create_new_info(
        num_channels, layer_type, dtype, "raw", RESOLUTION, voxel_offset, size,
        chunk_size=CHUNK, max_mip=max_mip,
    )  # fmt: skip
    vol = CloudVolume(str(layer), info=info, progress=False, **options)
    vol.commit_info()
    return vol


def box(offset: list[int], size: list[int]) -> tuple[slice, slice, slice]:
    return tuple(slice(o, o + s) for o, s in zip(offset, size))  # type: ignore[return-value]


# --- data types ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensorstore_reads_what_we_write(tmp_path: Path, dtype: str) -> None:
    layer = tmp_path / "ds" / "layer"
    rng = np.random.default_rng(100 + DTYPES.index(dtype))
    size = [70, 50, 20]
    data = random_volume(rng, (*size, 1), dtype)
    vol = ours_create(layer, dtype=dtype, num_channels=1, voxel_offset=[0, 0, 0], size=size)
    vol[0:70, 0:50, 0:20] = data

    # Uncompressed writes use the bare chunk names, the only ones tensorstore reads from disk.
    assert chunk_files(layer, "4_4_40") == sorted(
        f"{x}_{y}_{z}"
        for x in ("0-32", "32-64", "64-70")
        for y in ("0-32", "32-50")
        for z in ("0-16", "16-20")
    )
    store = ts_open(layer)
    assert store.dtype.numpy_dtype == np.dtype(dtype)
    assert list(store.domain.inclusive_min) == [0, 0, 0, 0]
    assert list(store.domain.exclusive_max) == [70, 50, 20, 1]
    assert_same_voxels(store.read().result(), data)
    # A cutout that crosses chunk borders, read by tensorstore.
    assert_same_voxels(store[5:41, 30:33, 15:17].read().result(), data[5:41, 30:33, 15:17])


@pytest.mark.parametrize("dtype", DTYPES)
def test_we_read_what_tensorstore_writes(tmp_path: Path, dtype: str) -> None:
    layer = tmp_path / "ds" / "layer"
    rng = np.random.default_rng(200 + DTYPES.index(dtype))
    size = [70, 50, 20]
    data = random_volume(rng, (*size, 1), dtype)
    store = ts_create(layer, dtype=dtype, num_channels=1, resolution=RESOLUTION,
                      voxel_offset=[0, 0, 0], size=size)  # fmt: skip
    store.write(data).result()

    vol = CloudVolume(str(layer), progress=False)
    assert vol.dtype == np.dtype(dtype)
    assert list(vol.shape) == [70, 50, 20, 1]
    assert_same_voxels(vol[:, :, :], data)
    assert_same_voxels(vol[5:41, 30:33, 15:17], data[5:41, 30:33, 15:17])
    assert_same_voxels(vol.download(np.s_[64:70, 0:50, 19:20]), data[64:70, 0:50, 19:20])


# --- channels --------------------------------------------------------------------------

CHANNEL_CASES = [pytest.param(3, "uint8", id="3ch-uint8"), pytest.param(2, "float32", id="2ch-float32")]


@pytest.mark.parametrize(("channels", "dtype"), CHANNEL_CASES)
def test_multichannel_we_write_tensorstore_reads(tmp_path: Path, channels: int, dtype: str) -> None:
    layer = tmp_path / "ds" / "rgb"
    data = random_volume(np.random.default_rng(300 + channels), (40, 33, 18, channels), dtype)
    vol = ours_create(layer, dtype=dtype, num_channels=channels, voxel_offset=[0, 0, 0], size=[40, 33, 18])
    vol[:, :, :] = data

    store = ts_open(layer)
    assert list(store.domain.exclusive_max) == [40, 33, 18, channels]
    assert_same_voxels(store.read().result(), data)
    # one channel alone: the channel axis is the last one for both libraries
    assert_same_voxels(store[..., channels - 1].read().result(), data[..., channels - 1])


@pytest.mark.parametrize(("channels", "dtype"), CHANNEL_CASES)
def test_multichannel_tensorstore_writes_we_read(tmp_path: Path, channels: int, dtype: str) -> None:
    layer = tmp_path / "ds" / "rgb"
    data = random_volume(np.random.default_rng(400 + channels), (40, 33, 18, channels), dtype)
    store = ts_create(layer, dtype=dtype, num_channels=channels, resolution=RESOLUTION,
                      voxel_offset=[0, 0, 0], size=[40, 33, 18])  # fmt: skip
    store.write(data).result()

    vol = CloudVolume(str(layer), progress=False)
    assert vol.num_channels == channels
    assert_same_voxels(vol[:, :, :], data)
    assert_same_voxels(vol[3:35, 1:32, 2:17, channels - 1], data[3:35, 1:32, 2:17, channels - 1 :])


# --- geometry: voxel offsets and edge chunks --------------------------------------------

GEOMETRY_CASES = [
    pytest.param([0, 0, 0], [64, 64, 32], id="aligned"),
    pytest.param([13, -7, 5], [64, 64, 32], id="offset"),
    pytest.param([0, 0, 0], [100, 90, 37], id="ragged-size"),
    pytest.param([13, -7, 5], [100, 90, 37], id="offset-and-ragged-size"),
]


@pytest.mark.parametrize(("offset", "size"), GEOMETRY_CASES)
def test_geometry_we_write_tensorstore_reads(tmp_path: Path, offset: list[int], size: list[int]) -> None:
    layer = tmp_path / "ds" / "img"
    data = random_volume(np.random.default_rng(500), (*size, 1), "uint16")
    vol = ours_create(layer, dtype="uint16", num_channels=1, voxel_offset=offset, size=size)
    vol[box(offset, size)] = data

    store = ts_open(layer)
    assert list(store.domain.inclusive_min) == [*offset, 0]
    assert list(store.domain.exclusive_max) == [o + s for o, s in zip(offset, size)] + [1]
    assert_same_voxels(store.read().result(), data)
    # tensorstore indexes by voxel coordinates, as we do: a cutout at the far corner.
    hi = [o + s for o, s in zip(offset, size)]
    corner = store[hi[0] - 9 : hi[0], hi[1] - 40 : hi[1], hi[2] - 6 : hi[2]].read().result()
    assert_same_voxels(corner, data[-9:, -40:, -6:])


@pytest.mark.parametrize(("offset", "size"), GEOMETRY_CASES)
def test_geometry_tensorstore_writes_we_read(tmp_path: Path, offset: list[int], size: list[int]) -> None:
    layer = tmp_path / "ds" / "img"
    data = random_volume(np.random.default_rng(600), (*size, 1), "uint16")
    store = ts_create(layer, dtype="uint16", num_channels=1, resolution=RESOLUTION,
                      voxel_offset=offset, size=size)  # fmt: skip
    store.write(data).result()

    vol = CloudVolume(str(layer), progress=False)
    assert list(vol.voxel_offset) == offset
    assert list(vol.volume_size) == size
    assert list(vol.bounds.minpt) == offset
    assert_same_voxels(vol[:, :, :], data)
    assert_same_voxels(vol[box(offset, size)], data)
    hi = [o + s for o, s in zip(offset, size)]
    corner = vol[hi[0] - 9 : hi[0], hi[1] - 40 : hi[1], hi[2] - 6 : hi[2]]
    assert_same_voxels(corner, data[-9:, -40:, -6:])
    assert list(corner.bounds.minpt) == [hi[0] - 9, hi[1] - 40, hi[2] - 6]


# --- two mips ------------------------------------------------------------------------------

MIP_OFFSET, MIP_SIZE = [13, -7, 5], [100, 90, 37]
# cloud-volume's convention (and ours) for the (2, 2, 1) mip: offset floored, size ceiled.
MIP1_OFFSET, MIP1_SIZE = [6, -4, 5], [50, 45, 37]


# mip 1 with mip 0's chunk size (create_new_info(max_mip=1)) or its own (add_scale)
MIP1_CHUNKS = [pytest.param(None, id="max_mip=1"), pytest.param([16, 16, 8], id="add_scale-chunk-16x16x8")]


@pytest.mark.parametrize("mip1_chunk", MIP1_CHUNKS)
def test_two_mips_we_write_tensorstore_reads(tmp_path: Path, mip1_chunk: list[int] | None) -> None:
    layer = tmp_path / "ds" / "img"
    rng = np.random.default_rng(700)
    mip0 = random_volume(rng, (*MIP_SIZE, 2), "uint8")
    mip1 = random_volume(rng, (*MIP1_SIZE, 2), "uint8")  # unrelated to mip 0 on purpose
    if mip1_chunk is None:
        vol = ours_create(
            layer, dtype="uint8", num_channels=2, voxel_offset=MIP_OFFSET, size=MIP_SIZE, max_mip=1
        )
    else:
        vol = ours_create(layer, dtype="uint8", num_channels=2, voxel_offset=MIP_OFFSET, size=MIP_SIZE)
        vol.add_scale((2, 2, 1), chunk_size=mip1_chunk)
        vol.commit_info()
    assert list(vol.mip_chunk_size(1)) == (mip1_chunk or CHUNK)
    assert list(vol.mip_voxel_offset(1)) == MIP1_OFFSET
    assert list(vol.mip_volume_size(1)) == MIP1_SIZE
    vol[:, :, :] = mip0
    vol.mip = 1
    vol[:, :, :] = mip1

    scale0, scale1 = ts_open(layer, scale_index=0), ts_open(layer, scale_index=1)
    assert list(scale1.chunk_layout.read_chunk.shape) == [*(mip1_chunk or CHUNK), 2]
    assert list(scale1.domain.inclusive_min) == [*MIP1_OFFSET, 0]
    assert list(scale1.domain.exclusive_max) == [o + s for o, s in zip(MIP1_OFFSET, MIP1_SIZE)] + [2]
    assert_same_voxels(scale0.read().result(), mip0)
    assert_same_voxels(scale1.read().result(), mip1)


@pytest.mark.parametrize("mip1_chunk", MIP1_CHUNKS)
def test_two_mips_tensorstore_writes_we_read(tmp_path: Path, mip1_chunk: list[int] | None) -> None:
    layer = tmp_path / "ds" / "img"
    rng = np.random.default_rng(800)
    mip0 = random_volume(rng, (*MIP_SIZE, 2), "uint8")
    mip1 = random_volume(rng, (*MIP1_SIZE, 2), "uint8")
    common: dict[str, Any] = {"dtype": "uint8", "num_channels": 2}
    ts_create(layer, resolution=[4, 4, 40], voxel_offset=MIP_OFFSET, size=MIP_SIZE, **common).write(
        mip0
    ).result()
    ts_create(
        layer, resolution=[8, 8, 40], voxel_offset=MIP1_OFFSET, size=MIP1_SIZE, chunk=mip1_chunk or CHUNK,
        **common,
    ).write(mip1).result()  # fmt: skip

    vol = CloudVolume(str(layer), progress=False)
    assert list(vol.available_mips) == [0, 1]
    assert list(vol.mip_chunk_size(1)) == (mip1_chunk or CHUNK)
    assert list(vol.mip_resolution(1)) == [8, 8, 40]
    assert list(vol.mip_downsample_ratio(1)) == [2, 2, 1]
    assert_same_voxels(vol[:, :, :], mip0)
    vol.mip = 1
    assert_same_voxels(vol[:, :, :], mip1)
    assert_same_voxels(vol[20:50, -4:3, 30:42], mip1[14:44, 0:7, 25:37])
    # selecting the mip by resolution, as cloud-volume allows
    assert_same_voxels(CloudVolume(str(layer), mip=[8, 8, 40], progress=False)[:, :, :], mip1)


# --- partial writes into the other library's chunks ------------------------------------------


def test_non_aligned_write_into_tensorstore_volume_keeps_neighbours(tmp_path: Path) -> None:
    layer = tmp_path / "ds" / "img"
    rng = np.random.default_rng(900)
    original = random_volume(rng, (*MIP_SIZE, 2), "uint16")
    store = ts_create(layer, dtype="uint16", num_channels=2, resolution=RESOLUTION,
                      voxel_offset=MIP_OFFSET, size=MIP_SIZE)  # fmt: skip
    store.write(original).result()
    untouched = "4_4_40/77-109_57-83_37-42"  # far from the write below
    before = (layer / untouched).read_bytes()

    vol = CloudVolume(str(layer), non_aligned_writes=True, progress=False)
    # x 20..51, y 0..40, z 10..30: starts and ends inside chunks on every axis
    patch = random_volume(rng, (31, 40, 20, 2), "uint16")
    vol[20:51, 0:40, 10:30] = patch

    expected = original.copy()
    lo = [20 - 13, 0 + 7, 10 - 5]
    expected[lo[0] : lo[0] + 31, lo[1] : lo[1] + 40, lo[2] : lo[2] + 20] = patch
    assert_same_voxels(ts_open(layer).read().result(), expected)
    assert_same_voxels(CloudVolume(str(layer), progress=False)[:, :, :], expected)
    assert (layer / untouched).read_bytes() == before
    assert not any(name.endswith(".gz") for name in chunk_files(layer, "4_4_40"))


def test_tensorstore_non_aligned_write_into_our_volume(tmp_path: Path) -> None:
    layer = tmp_path / "ds" / "img"
    rng = np.random.default_rng(1000)
    original = random_volume(rng, (*MIP_SIZE, 1), "float32")
    vol = ours_create(layer, dtype="float32", num_channels=1, voxel_offset=MIP_OFFSET, size=MIP_SIZE)
    vol[:, :, :] = original

    patch = random_volume(rng, (31, 40, 20, 1), "float32")
    ts_open(layer)[20:51, 0:40, 10:30].write(patch).result()

    expected = original.copy()
    expected[7:38, 7:47, 5:25] = patch
    assert_same_voxels(CloudVolume(str(layer), progress=False)[:, :, :], expected)


def test_chunks_tensorstore_never_wrote(tmp_path: Path) -> None:
    """tensorstore fills unwritten chunks with 0; we raise unless fill_missing, then 0 too."""
    layer = tmp_path / "ds" / "img"
    data = random_volume(np.random.default_rng(1100), (32, 32, 16, 1), "int32")
    store = ts_create(layer, dtype="int32", num_channels=1, resolution=RESOLUTION,
                      voxel_offset=[0, 0, 0], size=[64, 64, 32])  # fmt: skip
    store[0:32, 0:32, 0:16].write(data).result()
    assert chunk_files(layer, "4_4_40") == ["0-32_0-32_0-16"]

    expected = np.zeros((64, 64, 32, 1), dtype=np.int32)
    expected[:32, :32, :16] = data
    assert_same_voxels(ts_open(layer).read().result(), expected)
    assert_same_voxels(CloudVolume(str(layer), fill_missing=True, progress=False)[:, :, :], expected)
    with pytest.raises(EmptyVolumeException):
        CloudVolume(str(layer), progress=False)[:, :, :]
    assert_same_voxels(CloudVolume(str(layer), progress=False)[0:32, 0:32, 0:16], data)
