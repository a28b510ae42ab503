"""compressed_segmentation, png and jpeg chunks: precomputed <-> tensorstore and <-> cloud-volume.

Every codec is checked in both directions against both peers: we write and the
peer reads, the peer writes and we read. The lossless codecs must give back every
voxel exactly; jpeg must stay within JPEG's error of the original, and where two
libraries decode the *same* chunk files (all of them use libjpeg-turbo) their
results must agree to within 1 (they are in fact identical today).

What each peer supports (tensorstore 0.1.86, cloud-volume 12.15.2), as found and
asserted below:

* tensorstore: compressed_segmentation uint32/uint64 with any block size and any
  number of channels; png uint8/uint16 with 1-4 channels; jpeg uint8 with 1 or 3
  channels. It reads and writes all of them correctly.
* cloud-volume, compressed_segmentation: reads 1 and 2 channels; writes only 1
  (with 2 channels its encoder calls ``np.squeeze(axis=3)`` and raises ValueError).
  It gzips these chunks on disk (``.gz``), which we read and tensorstore does not.
  Blocks of more than 65536 voxels can hold more than 2**16 labels, which only the
  32-bit encoding stores; tensorstore writes and reads it, while the
  ``compressed-segmentation`` package (ours and cloud-volume's) decodes every voxel
  of such a block as its smallest label (lookup-table entry 0) and never finishes
  encoding one.
* cloud-volume, jpeg: writes 1 and 3 channels correctly, reads 1 channel
  correctly, but reads 3 channels with the channels scrambled: it reshapes the
  decoded, channel-interleaved pixels as if they were stored channel after channel
  (``ravel().reshape(shape, order="F")``). The tests assert exactly that
  permutation, so they show that the decoded bytes are right and only
  cloud-volume's layout is wrong.
* cloud-volume, png: needs the optional package ``pyspng-seunglab`` (cloud-volume's
  ``png`` extra), which ``.[interop]`` does not install. Without it every png read
  and write raises ImportError, which is what the tests then assert. With it:
  uint8 1 channel works both ways; uint8 2-4 and uint16 2 and 4 channels are
  written correctly but read with the same channel scrambling as jpeg; uint16 with
  1 or 3 channels can be neither written (libspng: TypeError "unsupported") nor
  read (pyspng decodes them to another pixel format: ValueError from reshape).

Writes of ours that can crash the interpreter or hang in the C encoder (the
``compressed-segmentation`` package's 4-d path segfaults, its 32-bit path loops
forever) run in a child process with a timeout, so such a failure is reported as a
failing test instead of ending or stalling the whole pytest run.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from oracles import tensorstore_create, tensorstore_open
from precomputed_core import CloudVolume

ts = pytest.importorskip("tensorstore")
cloudvolume = pytest.importorskip("cloudvolume")

if TYPE_CHECKING:
    from pathlib import Path

RESOLUTION = [4, 4, 40]
KEY = "4_4_40"
CHUNK = [32, 32, 16]
# An offset and a size that are not multiples of the chunk size: 3 x 2 x 2 chunks,
# the last ones on each axis partial (6 x 18 x 5 voxels).
OFFSET = [13, -7, 5]
SIZE = [70, 50, 21]
# cloud-volume's png decoder is an optional extra (pyspng-seunglab)
CV_HAS_PNG = importlib.util.find_spec("pyspng") is not None
CHILD_TIMEOUT = 6.0  # seconds; the child writes these small volumes in well under one


# --- helpers: creating, writing and reading layers ------------------------------------------


def make_info(
    encoding: str,
    dtype: str,
    channels: int,
    *,
    size: list[int] = SIZE,
    chunk: list[int] = CHUNK,
    offset: list[int] = OFFSET,
    layer_type: str = "image",
    **options: Any,
) -> dict[str, Any]:
    return CloudVolume.create_new_info(
        channels, layer_type, dtype, encoding, RESOLUTION, offset, size, chunk_size=chunk, **options
    )


def ours_write(layer: Path, info: dict[str, Any], data: np.ndarray) -> CloudVolume:
    vol = CloudVolume("file://" + str(layer), info=copy.deepcopy(info), progress=False)
    vol.commit_info()
    vol[:, :, :] = data
    return vol


_CHILD_WRITE = """
import json, sys
import numpy as np
from precomputed_core import CloudVolume
layer, info_path, data_path = sys.argv[1:4]
with open(info_path) as f:
    info = json.load(f)
vol = CloudVolume("file://" + layer, info=info, progress=False)
vol.commit_info()
vol[:, :, :] = np.load(data_path)
"""


def ours_write_in_child(layer: Path, info: dict[str, Any], data: np.ndarray) -> None:
    """``ours_write`` in a fresh interpreter: a crash or a hang there fails only this test."""
    work = layer.parent / f"{layer.name}-child"
    work.mkdir(parents=True)
    (work / "info.json").write_text(json.dumps(info))
    np.save(work / "data.npy", data)
    command = [sys.executable, "-X", "faulthandler", "-c", _CHILD_WRITE,
               str(layer), str(work / "info.json"), str(work / "data.npy")]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"our write of a {data.dtype} {data.shape} array did not finish in {CHILD_TIMEOUT} s")
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        pytest.fail(f"our write of a {data.dtype} {data.shape} array killed the process ({name}):\n"
                    f"{done.stderr[-3000:]}")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def ours_read(layer: Path, mip: int = 0) -> np.ndarray:
    return np.asarray(CloudVolume("file://" + str(layer), mip=mip, progress=False)[:, :, :])


def ts_create(
    layer: Path,
    encoding: str,
    dtype: str,
    channels: int,
    *,
    size: list[int] = SIZE,
    chunk: list[int] = CHUNK,
    offset: list[int] = OFFSET,
    resolution: list[int] = RESOLUTION,
    layer_type: str = "image",
    **scale_options: Any,
) -> Any:
    """Create (or add) one scale with tensorstore and return it open for writing."""
    return tensorstore_create(layer, layer_type=layer_type, dtype=dtype, channels=channels, resolution=resolution,
                              encoding=encoding, chunk_size=chunk, size=size, voxel_offset=offset,
                              **scale_options)  # fmt: skip


def ts_read(layer: Path, scale_index: int | None = None) -> np.ndarray:
    return np.asarray(tensorstore_open(layer, scale_index).read().result())


def cv_write(layer: Path, info: dict[str, Any], data: np.ndarray) -> None:
    cv = cloudvolume.CloudVolume("file://" + str(layer), info=copy.deepcopy(info), progress=False)
    cv.commit_info()
    cv[:, :, :] = data


def cv_read(layer: Path, mip: int = 0) -> np.ndarray:
    return np.asarray(cloudvolume.CloudVolume("file://" + str(layer), mip=mip, progress=False)[:, :, :])


def chunk_files(layer: Path, key: str = KEY) -> list[str]:
    return sorted(os.listdir(layer / key))


def assert_same_voxels(actual: Any, expected: np.ndarray) -> None:
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def chunk_boxes(shape: tuple[int, ...], chunk: list[int] = CHUNK) -> list[tuple[slice, slice, slice]]:
    """The chunks of a whole layer, as slices of the array of that layer (clipped at its end)."""
    return [
        (slice(x, min(x + chunk[0], shape[0])), slice(y, min(y + chunk[1], shape[1])),
         slice(z, min(z + chunk[2], shape[2])))
        for x in range(0, shape[0], chunk[0])
        for y in range(0, shape[1], chunk[1])
        for z in range(0, shape[2], chunk[2])
    ]  # fmt: skip


def cv_channel_misread(voxels: np.ndarray, chunk: list[int] = CHUNK) -> np.ndarray:
    """What cloud-volume's png/jpeg reader returns for ``voxels`` stored as image chunks.

    A chunk's image holds its (z, y, x) pixels with the channels interleaved;
    cloud-volume reshapes that buffer as (x, y, z, c) in Fortran order, i.e. as if
    the channels were stored one after the other. Channel 1 thus gets the same data
    as channel 0 does, and so on.
    """
    out = np.empty_like(voxels)
    for box in chunk_boxes(voxels.shape, chunk):
        block = voxels[box]
        x, y, z, c = block.shape
        pixels = np.ascontiguousarray(block.transpose(2, 1, 0, 3)).reshape(-1)
        out[box] = pixels.reshape((x, y, z, c), order="F")
    return out


def undo_cv_channel_misread(voxels: np.ndarray, chunk: list[int] = CHUNK) -> np.ndarray:
    """The inverse of ``cv_channel_misread``: the pixels cloud-volume actually decoded."""
    out = np.empty_like(voxels)
    for box in chunk_boxes(voxels.shape, chunk):
        block = voxels[box]
        x, y, z, c = block.shape
        pixels = block.reshape(-1, order="F").reshape(z, y, x, c)
        out[box] = pixels.transpose(2, 1, 0, 3)
    return out


# --- helpers: test data --------------------------------------------------------------------


def seg_labels(kind: str, dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """(x, y, z, c) labels: smooth "blobs" (few per block) or "random" (all distinct per block)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True)
    x, y, z = np.meshgrid(*(np.arange(n, dtype=np.uint64) for n in shape[:3]), indexing="ij")
    base = np.uint64(2**40 + 12345) if dtype == "uint64" else np.uint64(3_000_000_000)
    channels = []
    for c in range(shape[3]):
        # a different tiling per channel, so a channel mix-up cannot go unnoticed
        sx, sy, sz = (7, 5, 3) if c == 0 else (4, 9, 2)
        labels = x // sx + 100 * (y // sy) + 10000 * (z // sz) + base + np.uint64(77 * c)
        channels.append(labels)
    return np.stack(channels, axis=-1).astype(dtype)


def smooth_image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """uint8 voxels that JPEG keeps well: gradients and low-frequency sinusoids, no clipping.

    A chunk's image stacks its z slices vertically, so the data vary mostly along x
    and only gently along y and z (a big jump from a slice's last row to the next
    slice's first row would be a sharp edge in the image).
    """
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    x, y, z = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape[:3]), indexing="ij")
    channels = []
    for c in range(shape[3]):
        value = (128 + 70 * np.sin(2 * np.pi * x / shape[0] + phase + 2.1 * c)
                 + 8 * np.cos(2 * np.pi * y / shape[1] + c) + 1.5 * z * (1 - c))  # fmt: skip
        channels.append(value)
    image: np.ndarray = np.clip(np.stack(channels, axis=-1).round(), 0, 255).astype(np.uint8)
    return image


def random_image(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(
        0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True
    )


# JPEG's error on smooth_image at quality >= 75 (measured: 1 channel mean 0.5, max 4;
# 3 channels, where 4:2:0 chroma subsampling blurs the colour, mean 1.4, max 13).
JPEG_MEAN_LIMIT = {1: 1.5, 3: 3.0}
JPEG_MAX_LIMIT = {1: 8, 3: 24}


def assert_jpeg_close(decoded: np.ndarray, original: np.ndarray, *, scale: float = 1.0) -> None:
    decoded = np.asarray(decoded)
    assert decoded.dtype == np.uint8
    assert decoded.shape == original.shape
    error = np.abs(decoded.astype(np.int16) - original.astype(np.int16))
    channels = original.shape[3]
    assert error.mean() < JPEG_MEAN_LIMIT[channels] * scale, f"mean abs error {error.mean():.2f}"
    assert error.max() <= JPEG_MAX_LIMIT[channels] * scale, f"max abs error {error.max()}"


def assert_same_decoding(first: np.ndarray, second: np.ndarray) -> None:
    """Two decoders of the same jpeg files: equal to within 1 (libjpeg-turbo on both sides)."""
    first, second = np.asarray(first), np.asarray(second)
    assert first.shape == second.shape
    assert first.dtype == second.dtype == np.uint8
    assert np.abs(first.astype(np.int16) - second.astype(np.int16)).max() <= 1


# --- helpers: the compressed_segmentation format itself --------------------------------------


def _encoded_bits(distinct: int) -> int:
    """Neuroglancer's rule: 0 bits for one value, else the smallest of 1, 2, 4, 8, 16, 32 that fits."""
    if distinct <= 1:
        return 0
    bits = 1
    while (1 << bits) < distinct:
        bits *= 2
    return bits


_RANGE = re.compile(r"^(-?\d+)-(-?\d+)$")


def _chunk_range(name: str) -> list[tuple[int, int]]:
    """'13-45_-7-25_5-21' -> [(13, 45), (-7, 25), (5, 21)]."""
    ranges = []
    for axis in name.split("_"):
        match = _RANGE.match(axis)
        assert match is not None, name
        ranges.append((int(match[1]), int(match[2])))
    return ranges


def stored_block_bits(
    data: bytes, shape: tuple[int, int, int], block: tuple[int, ...], channels: int
) -> list[list[int]]:
    """Each channel's per-block bit widths, read from the chunk's block headers."""
    words = np.frombuffer(data, dtype="<u4")
    nblocks = math.prod(-(-s // b) for s, b in zip(shape, block))
    result = []
    for c in range(channels):
        start = int(words[c])
        headers = words[start : start + 2 * nblocks].reshape(nblocks, 2)
        result.append((headers[:, 0] >> 24).astype(int).tolist())
    return result


def expected_block_bits(labels: np.ndarray, block: tuple[int, ...]) -> list[list[int]]:
    """The same, computed from the labels (blocks in x-fastest order, as the format has them)."""
    x, y, z, channels = labels.shape
    result = []
    for c in range(channels):
        bits = []
        for bz in range(0, z, block[2]):
            for by in range(0, y, block[1]):
                for bx in range(0, x, block[0]):
                    cell = labels[bx : bx + block[0], by : by + block[1], bz : bz + block[2], c]
                    bits.append(_encoded_bits(len(np.unique(cell))))
        result.append(bits)
    return result


def assert_block_headers(layer: Path, labels: np.ndarray, block: tuple[int, ...]) -> set[int]:
    """Check every chunk file's block headers against the labels; return the bit widths used."""
    used: set[int] = set()
    names = chunk_files(layer)
    assert len(names) == len(chunk_boxes(labels.shape))
    for name in names:
        ranges = _chunk_range(name)
        shape = (ranges[0][1] - ranges[0][0], ranges[1][1] - ranges[1][0], ranges[2][1] - ranges[2][0])
        lo = [start - o for (start, _), o in zip(ranges, OFFSET)]
        cell = labels[lo[0] : lo[0] + shape[0], lo[1] : lo[1] + shape[1], lo[2] : lo[2] + shape[2]]
        stored = stored_block_bits((layer / KEY / name).read_bytes(), shape, block, labels.shape[3])
        assert stored == expected_block_bits(cell, block), name
        used.update(bit for channel in stored for bit in channel)
    return used


# =============================================================================================
# compressed_segmentation
# =============================================================================================

CSEG_DTYPES = ["uint32", "uint64"]
CSEG_BLOCKS = [
    pytest.param((8, 8, 8), id="block-8x8x8"),
    pytest.param((4, 4, 2), id="block-4x4x2"),
    # divides the chunk, but not the partial edge chunks (6 x 18 x 5 voxels)
    pytest.param((8, 8, 4), id="block-8x8x4-partial-edges"),
    # divides neither the chunk nor the volume
    pytest.param((3, 5, 7), id="block-3x5x7-not-dividing"),
]
LABEL_KINDS = ["blobs", "random"]


def _largest_bits(block: tuple[int, ...]) -> int:
    """The widest encoding random labels need in a full block: all its voxels are distinct."""
    return _encoded_bits(math.prod(block))


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("block", CSEG_BLOCKS)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_we_write_tensorstore_reads(
    tmp_path: Path, dtype: str, block: tuple[int, ...], kind: str
) -> None:
    layer = tmp_path / "seg"
    labels = seg_labels(kind, dtype, (*SIZE, 1), seed=1)
    info = make_info("compressed_segmentation", dtype, 1, layer_type="segmentation",
                     compressed_segmentation_block_size=block)  # fmt: skip
    assert info["scales"][0]["compressed_segmentation_block_size"] == list(block)
    ours_write(layer, info, labels)

    assert chunk_files(layer) == sorted(
        f"{x}_{y}_{z}"
        for x in ("13-45", "45-77", "77-83")
        for y in ("-7-25", "25-43")
        for z in ("5-21", "21-26")
    )
    # the block headers hold the bit widths Neuroglancer's rule gives for these labels
    used = assert_block_headers(layer, labels, block)
    if kind == "random":
        assert max(used) == _largest_bits(block)  # 16 bits for 8x8x8 blocks, 8 for the others
    else:
        assert 0 in used or 1 in used
        assert max(used) <= 8

    assert_same_voxels(ts_read(layer), labels)
    # a cutout that crosses chunk and block borders
    store = ts.open(
        {"driver": "neuroglancer_precomputed", "kvstore": {"driver": "file", "path": str(layer)}}
    ).result()
    assert_same_voxels(store[40:50, -2:30, 18:24].read().result(), labels[27:37, 5:37, 13:19])


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("block", CSEG_BLOCKS)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_tensorstore_writes_we_read(
    tmp_path: Path, dtype: str, block: tuple[int, ...], kind: str
) -> None:
    layer = tmp_path / "seg"
    labels = seg_labels(kind, dtype, (*SIZE, 1), seed=2)
    ts_create(layer, "compressed_segmentation", dtype, 1, layer_type="segmentation",
              compressed_segmentation_block_size=list(block)).write(labels).result()  # fmt: skip
    used = assert_block_headers(layer, labels, block)
    if kind == "random":
        assert max(used) == _largest_bits(block)

    vol = CloudVolume("file://" + str(layer), progress=False)
    assert vol.dtype == np.dtype(dtype)
    stored_block = vol.meta.compressed_segmentation_block_size(0)
    assert stored_block is not None
    assert list(stored_block) == list(block)
    assert_same_voxels(vol[:, :, :], labels)
    assert_same_voxels(vol[40:50, -2:30, 18:24], labels[27:37, 5:37, 13:19])


@pytest.mark.parametrize(
    "block", [pytest.param((8, 8, 8), id="block-8x8x8"), pytest.param((3, 5, 7), id="block-3x5x7")]
)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_chunk_files_are_byte_identical_to_tensorstores(
    tmp_path: Path, dtype: str, block: tuple[int, ...]
) -> None:
    """Both encoders implement Neuroglancer's reference algorithm: same labels, same bytes.

    (The format would allow other bytes for the same labels; identical files show
    that the header, table and bit-packing layouts agree to the last word.)
    """
    labels = np.concatenate(
        [
            seg_labels("blobs", dtype, (35, *SIZE[1:], 1), 3),
            seg_labels("random", dtype, (35, *SIZE[1:], 1), 4),
        ]
    )
    ours_write(tmp_path / "ours", make_info("compressed_segmentation", dtype, 1, layer_type="segmentation",
                                            compressed_segmentation_block_size=block), labels)  # fmt: skip
    ts_create(tmp_path / "theirs", "compressed_segmentation", dtype, 1, layer_type="segmentation",
              compressed_segmentation_block_size=list(block)).write(labels).result()  # fmt: skip
    names = chunk_files(tmp_path / "ours")
    assert names == chunk_files(tmp_path / "theirs")
    for name in names:
        assert (tmp_path / "ours" / KEY / name).read_bytes() == (
            tmp_path / "theirs" / KEY / name
        ).read_bytes(), name


# --- two channels ---------------------------------------------------------------------------

MULTI_BLOCKS = [pytest.param((8, 8, 8), id="block-8x8x8"), pytest.param((4, 4, 2), id="block-4x4x2")]


def two_channel_labels(dtype: str, seed: int) -> np.ndarray:
    """Channel 0 blobs, channel 1 random: each channel needs its own tables and bit widths."""
    blobs = seg_labels("blobs", dtype, (*SIZE, 2), seed)
    blobs[..., 1] = seg_labels("random", dtype, (*SIZE, 1), seed)[..., 0]
    return blobs


@pytest.mark.parametrize("block", MULTI_BLOCKS)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_two_channels_tensorstore_writes_we_read(
    tmp_path: Path, dtype: str, block: tuple[int, ...]
) -> None:
    layer = tmp_path / "seg2"
    labels = two_channel_labels(dtype, seed=5)
    ts_create(layer, "compressed_segmentation", dtype, 2,
              compressed_segmentation_block_size=list(block)).write(labels).result()  # fmt: skip
    assert_block_headers(layer, labels, block)  # one offset word per channel, then each channel's blocks

    vol = CloudVolume("file://" + str(layer), progress=False)
    assert vol.num_channels == 2
    assert_same_voxels(vol[:, :, :], labels)
    assert_same_voxels(vol[40:50, -2:30, 18:24, 1], labels[27:37, 5:37, 13:19, 1:])


@pytest.mark.parametrize("block", MULTI_BLOCKS)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_two_channels_we_write_tensorstore_reads(
    tmp_path: Path, dtype: str, block: tuple[int, ...]
) -> None:
    layer = tmp_path / "seg2"
    labels = two_channel_labels(dtype, seed=6)
    info = make_info("compressed_segmentation", dtype, 2, compressed_segmentation_block_size=block)
    ours_write_in_child(layer, info, labels)
    assert_block_headers(layer, labels, block)
    assert_same_voxels(ts_read(layer), labels)


# --- blocks with more than 65536 labels: the 32-bit encoding ----------------------------------

# One 64 x 64 x 20 chunk and block of 81920 random labels: more than 2**16 distinct
# values in the block, so the only valid encoding is 32 bits per voxel.
BIG = [64, 64, 20]


@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_32bit_blocks_tensorstore_writes_we_read(tmp_path: Path, dtype: str) -> None:
    layer = tmp_path / "seg32"
    labels = random_image((*BIG, 1), dtype, seed=7)
    assert len(np.unique(labels)) > 2**16
    ts_create(layer, "compressed_segmentation", dtype, 1, size=BIG, chunk=BIG, offset=[0, 0, 0],
              layer_type="segmentation", compressed_segmentation_block_size=BIG).write(labels).result()  # fmt: skip
    data = (layer / KEY / "0-64_0-64_0-20").read_bytes()
    assert stored_block_bits(data, (64, 64, 20), tuple(BIG), 1) == [[32]]

    assert_same_voxels(ours_read(layer), labels)


@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_32bit_blocks_we_write_tensorstore_reads(tmp_path: Path, dtype: str) -> None:
    layer = tmp_path / "seg32"
    labels = random_image((*BIG, 1), dtype, seed=8)
    info = make_info("compressed_segmentation", dtype, 1, size=BIG, chunk=BIG, offset=[0, 0, 0],
                     layer_type="segmentation", compressed_segmentation_block_size=BIG)  # fmt: skip
    ours_write_in_child(layer, info, labels)
    data = (layer / KEY / "0-64_0-64_0-20").read_bytes()
    assert stored_block_bits(data, (64, 64, 20), tuple(BIG), 1) == [[32]]
    assert_same_voxels(ts_read(layer), labels)


# --- cloud-volume -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("block", CSEG_BLOCKS)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_we_write_cloudvolume_reads(
    cv_env: Path, tmp_path: Path, dtype: str, block: tuple[int, ...], kind: str
) -> None:
    layer = tmp_path / "seg"
    labels = seg_labels(kind, dtype, (*SIZE, 1), seed=9)
    ours_write(layer, make_info("compressed_segmentation", dtype, 1, layer_type="segmentation",
                                compressed_segmentation_block_size=block), labels)  # fmt: skip
    assert_same_voxels(cv_read(layer), labels)


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("block", CSEG_BLOCKS)
@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_cloudvolume_writes_we_read(
    cv_env: Path, tmp_path: Path, dtype: str, block: tuple[int, ...], kind: str
) -> None:
    layer = tmp_path / "seg"
    labels = seg_labels(kind, dtype, (*SIZE, 1), seed=10)
    cv_write(layer, make_info("compressed_segmentation", dtype, 1, layer_type="segmentation",
                              compressed_segmentation_block_size=block), labels)  # fmt: skip
    # cloud-volume gzips compressed_segmentation chunks on disk; we read those too
    names = chunk_files(layer)
    assert len(names) == 12
    assert all(name.endswith(".gz") for name in names)
    assert_same_voxels(ours_read(layer), labels)


@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_two_channels_cloudvolume_reads_but_cannot_write(
    cv_env: Path, tmp_path: Path, dtype: str
) -> None:
    """cloud-volume decodes multi-channel chunks, but its encoder squeezes a channel axis of 1."""
    labels = two_channel_labels(dtype, seed=11)
    theirs = tmp_path / "by-tensorstore"
    ts_create(theirs, "compressed_segmentation", dtype, 2,
              compressed_segmentation_block_size=[8, 8, 8]).write(labels).result()  # fmt: skip
    assert_same_voxels(cv_read(theirs), labels)
    assert_same_voxels(ours_read(theirs), labels)

    info = make_info("compressed_segmentation", dtype, 2, compressed_segmentation_block_size=(8, 8, 8))
    with pytest.raises(ValueError, match="squeeze"):
        cv_write(tmp_path / "by-cloudvolume", info, labels)


@pytest.mark.parametrize("dtype", CSEG_DTYPES)
def test_cseg_two_channels_we_write_cloudvolume_reads(cv_env: Path, tmp_path: Path, dtype: str) -> None:
    layer = tmp_path / "seg2"
    labels = two_channel_labels(dtype, seed=12)
    info = make_info("compressed_segmentation", dtype, 2, compressed_segmentation_block_size=(4, 4, 2))
    ours_write_in_child(layer, info, labels)
    assert_same_voxels(cv_read(layer), labels)


# =============================================================================================
# png
# =============================================================================================

PNG_CASES = [
    pytest.param(dtype, channels, id=f"{dtype}-{channels}ch")
    for dtype in ("uint8", "uint16")
    for channels in (1, 2, 3, 4)
]


@pytest.mark.parametrize(("dtype", "channels"), PNG_CASES)
def test_png_we_write_tensorstore_reads(tmp_path: Path, dtype: str, channels: int) -> None:
    layer = tmp_path / "img"
    data = random_image((*SIZE, channels), dtype, seed=20 + channels)
    ours_write(layer, make_info("png", dtype, channels), data)
    names = chunk_files(layer)
    assert len(names) == 12
    # real PNG files, of the bit depth of the layer
    header = (layer / KEY / names[0]).read_bytes()[:32]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert header[24] == 8 * np.dtype(dtype).itemsize  # IHDR bit depth
    assert header[25] == {1: 0, 2: 4, 3: 2, 4: 6}[channels]  # IHDR colour type: grey, grey+alpha, RGB, RGBA

    assert_same_voxels(ts_read(layer), data)


@pytest.mark.parametrize(("dtype", "channels"), PNG_CASES)
def test_png_tensorstore_writes_we_read(tmp_path: Path, dtype: str, channels: int) -> None:
    layer = tmp_path / "img"
    data = random_image((*SIZE, channels), dtype, seed=30 + channels)
    ts_create(layer, "png", dtype, channels).write(data).result()

    vol = CloudVolume("file://" + str(layer), progress=False)
    assert vol.dtype == np.dtype(dtype)
    assert_same_voxels(vol[:, :, :], data)
    assert_same_voxels(vol[40:83, 20:43, 5:9], data[27:70, 27:50, 0:4])


# cloud-volume with pyspng-seunglab: how it handles each png combination (see the module doc)
CV_PNG_WRITES = {("uint16", 1): "TypeError", ("uint16", 3): "TypeError"}  # every other one is correct
CV_PNG_READS = {
    ("uint8", 1): "exact",
    ("uint16", 1): "ValueError",
    ("uint16", 3): "ValueError",
}  # others: misread


@pytest.mark.parametrize(("dtype", "channels"), PNG_CASES)
def test_png_we_write_cloudvolume_reads(cv_env: Path, tmp_path: Path, dtype: str, channels: int) -> None:
    layer = tmp_path / "img"
    data = random_image((*SIZE, channels), dtype, seed=40 + channels)
    ours_write(layer, make_info("png", dtype, channels), data)
    assert_same_voxels(ours_read(layer), data)

    if not CV_HAS_PNG:
        # cloud-volume's png codec is its optional 'png' extra: without it nothing is read
        with pytest.raises(ImportError, match="pyspng-seunglab"):
            cv_read(layer)
        return
    outcome = CV_PNG_READS.get((dtype, channels), "misread")
    if outcome == "ValueError":
        # pyspng hands these back in another pixel format; cloud-volume's reshape fails
        with pytest.raises(ValueError, match="reshape"):
            cv_read(layer)
    elif outcome == "exact":
        assert_same_voxels(cv_read(layer), data)
    else:
        theirs = cv_read(layer)
        assert not np.array_equal(theirs, data)
        assert_same_voxels(theirs, cv_channel_misread(data))
        assert_same_voxels(undo_cv_channel_misread(theirs), data)


@pytest.mark.parametrize(("dtype", "channels"), PNG_CASES)
def test_png_cloudvolume_writes_we_read(cv_env: Path, tmp_path: Path, dtype: str, channels: int) -> None:
    layer = tmp_path / "img"
    data = random_image((*SIZE, channels), dtype, seed=50 + channels)
    info = make_info("png", dtype, channels)

    if not CV_HAS_PNG:
        with pytest.raises(ImportError, match="pyspng-seunglab"):
            cv_write(layer, info, data)
        return
    if CV_PNG_WRITES.get((dtype, channels)) == "TypeError":
        # libspng encodes neither 16-bit grey nor 16-bit RGB
        with pytest.raises(TypeError, match="unsupported"):
            cv_write(layer, info, data)
        return
    cv_write(layer, info, data)
    assert len(chunk_files(layer)) == 12
    assert not any(name.endswith(".gz") for name in chunk_files(layer))
    assert_same_voxels(ours_read(layer), data)
    assert_same_voxels(ts_read(layer), data)


# =============================================================================================
# jpeg
# =============================================================================================

JPEG_CHANNELS = [pytest.param(1, id="1ch"), pytest.param(3, id="3ch")]


def cv_read_jpeg(layer: Path, channels: int, mip: int = 0) -> np.ndarray:
    """cloud-volume's decoding of a jpeg layer, with its 3-channel layout error undone.

    Undoing is a pure permutation of each chunk's voxels: the values are the ones
    cloud-volume's decoder produced, so comparing them with another decoder's
    output is fair.
    """
    theirs = cv_read(layer, mip)
    return theirs if channels == 1 else undo_cv_channel_misread(theirs)


@pytest.mark.parametrize("channels", JPEG_CHANNELS)
def test_jpeg_we_write_tensorstore_reads(tmp_path: Path, channels: int) -> None:
    layer = tmp_path / "img"
    data = smooth_image((*SIZE, channels), seed=channels)
    ours_write(layer, make_info("jpeg", "uint8", channels), data)
    header = (layer / KEY / chunk_files(layer)[0]).read_bytes()[:3]
    assert header == b"\xff\xd8\xff"

    theirs = ts_read(layer)
    assert_jpeg_close(theirs, data)
    # the same files decoded by tensorstore and by us
    assert_same_decoding(ours_read(layer), theirs)


@pytest.mark.parametrize("channels", JPEG_CHANNELS)
def test_jpeg_tensorstore_writes_we_read(tmp_path: Path, channels: int) -> None:
    layer = tmp_path / "img"
    data = smooth_image((*SIZE, channels), seed=10 + channels)
    ts_create(layer, "jpeg", "uint8", channels, jpeg_quality=85).write(data).result()

    ours = ours_read(layer)
    assert_jpeg_close(ours, data)
    assert_same_decoding(ours, ts_read(layer))
    # a cutout decodes its chunks just as the whole read does
    vol = CloudVolume("file://" + str(layer), progress=False)
    np.testing.assert_array_equal(vol[40:83, 20:43, 5:9], ours[27:70, 27:50, 0:4])


@pytest.mark.parametrize("channels", JPEG_CHANNELS)
def test_jpeg_we_write_cloudvolume_reads(cv_env: Path, tmp_path: Path, channels: int) -> None:
    layer = tmp_path / "img"
    data = smooth_image((*SIZE, channels), seed=20 + channels)
    ours_write(layer, make_info("jpeg", "uint8", channels), data)

    theirs = cv_read(layer)
    if channels == 3:
        # cloud-volume's own 3-channel layout error (see cv_channel_misread): far from the data
        assert np.abs(theirs.astype(np.int16) - data).mean() > 20
    theirs = cv_read_jpeg(layer, channels)
    assert_jpeg_close(theirs, data)
    assert_same_decoding(ours_read(layer), theirs)


@pytest.mark.parametrize("channels", JPEG_CHANNELS)
def test_jpeg_cloudvolume_writes_we_read(cv_env: Path, tmp_path: Path, channels: int) -> None:
    layer = tmp_path / "img"
    data = smooth_image((*SIZE, channels), seed=30 + channels)
    cv_write(layer, make_info("jpeg", "uint8", channels), data)
    assert len(chunk_files(layer)) == 12
    assert not any(name.endswith(".gz") for name in chunk_files(layer))

    ours = ours_read(layer)
    assert_jpeg_close(ours, data)
    # the same files decoded by cloud-volume (simplejpeg), by tensorstore and by us
    assert_same_decoding(ours, cv_read_jpeg(layer, channels))
    assert_same_decoding(ours, ts_read(layer))


@pytest.mark.parametrize("channels", JPEG_CHANNELS)
def test_jpeg_quality_from_the_info_is_respected(cv_env: Path, tmp_path: Path, channels: int) -> None:
    data = smooth_image((*SIZE, channels), seed=40 + channels)
    layers = {}
    for level in (None, 50, 85, 95):
        layers[level] = tmp_path / f"quality-{level}"
        info = make_info("jpeg", "uint8", channels, encoding_level=level)
        assert info["scales"][0].get("jpeg_quality") == level
        ours_write(layers[level], info, data)

    def stored_bytes(layer: Path) -> int:
        return sum((layer / KEY / name).stat().st_size for name in chunk_files(layer))

    assert stored_bytes(layers[95]) > 1.4 * stored_bytes(layers[50])
    # without jpeg_quality in the info we encode at 85 (cloud-volume's default): the same bytes
    for name in chunk_files(layers[None]):
        assert (layers[None] / KEY / name).read_bytes() == (layers[85] / KEY / name).read_bytes()

    errors = {}
    for level in (50, 95):
        theirs = ts_read(layers[level])
        assert_jpeg_close(theirs, data, scale=1.0 if level == 95 else 1.7)
        ours = ours_read(layers[level])
        assert_same_decoding(ours, theirs)
        assert_same_decoding(ours, cv_read_jpeg(layers[level], channels))
        errors[level] = np.abs(theirs.astype(np.int16) - data).mean()
    assert errors[95] < 0.8 * errors[50]


# =============================================================================================
# a layer whose scales use different encodings
# =============================================================================================

MIXED_SIZE = [96, 64, 20]
MIXED_MIP1 = [48, 32, 20]
MIXED_MIP2 = [24, 16, 20]


def test_mixed_encodings_we_write_tensorstore_reads(tmp_path: Path) -> None:
    layer = tmp_path / "mixed"
    info = make_info("raw", "uint8", 3, size=MIXED_SIZE, offset=[0, 0, 0])
    vol = CloudVolume("file://" + str(layer), info=info, progress=False)
    vol.add_scale((2, 2, 1), encoding="jpeg")
    vol.add_scale((4, 4, 1), encoding="png")
    vol.commit_info()
    stored = json.loads((layer / "info").read_text())
    assert [scale["encoding"] for scale in stored["scales"]] == ["raw", "jpeg", "png"]
    assert [scale["key"] for scale in stored["scales"]] == ["4_4_40", "8_8_40", "16_16_40"]
    assert [scale["size"] for scale in stored["scales"]] == [MIXED_SIZE, MIXED_MIP1, MIXED_MIP2]

    # unrelated contents per mip, so a mip mix-up shows
    mip0 = random_image((*MIXED_SIZE, 3), "uint8", seed=60)
    mip1 = smooth_image((*MIXED_MIP1, 3), seed=61)
    mip2 = random_image((*MIXED_MIP2, 3), "uint8", seed=62)
    for mip, data in enumerate((mip0, mip1, mip2)):
        vol.mip = mip
        vol[:, :, :] = data
    assert (layer / "8_8_40" / "0-32_0-32_0-16").read_bytes()[:3] == b"\xff\xd8\xff"
    assert (layer / "16_16_40" / "0-24_0-16_0-16").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert_same_voxels(ts_read(layer, scale_index=0), mip0)
    theirs1 = ts_read(layer, scale_index=1)
    assert_jpeg_close(theirs1, mip1)
    assert_same_decoding(ours_read(layer, mip=1), theirs1)
    assert_same_voxels(ts_read(layer, scale_index=2), mip2)


def test_mixed_encodings_tensorstore_writes_we_read(tmp_path: Path) -> None:
    layer = tmp_path / "mixed"
    mip0 = random_image((*MIXED_SIZE, 3), "uint8", seed=70)
    mip1 = smooth_image((*MIXED_MIP1, 3), seed=71)
    mip2 = random_image((*MIXED_MIP2, 3), "uint8", seed=72)
    common: dict[str, Any] = {"offset": [0, 0, 0]}
    ts_create(layer, "raw", "uint8", 3, size=MIXED_SIZE, **common).write(mip0).result()
    ts_create(layer, "jpeg", "uint8", 3, size=MIXED_MIP1, resolution=[8, 8, 40], jpeg_quality=90,
              **common).write(mip1).result()  # fmt: skip
    ts_create(layer, "png", "uint8", 3, size=MIXED_MIP2, resolution=[16, 16, 40], **common).write(
        mip2
    ).result()

    vol = CloudVolume("file://" + str(layer), progress=False)
    assert list(vol.available_mips) == [0, 1, 2]
    assert [vol.meta.encoding(mip) for mip in range(3)] == ["raw", "jpeg", "png"]
    assert_same_voxels(ours_read(layer, 0), mip0)
    ours1 = ours_read(layer, 1)
    assert_jpeg_close(ours1, mip1)
    assert_same_decoding(ours1, ts_read(layer, scale_index=1))
    assert_same_voxels(ours_read(layer, 2), mip2)
