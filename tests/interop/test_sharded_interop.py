"""Sharded scales (``neuroglancer_uint64_sharded_v1``): precomputed <-> tensorstore and <-> cloud-volume.

A scale is sharded when its info has a ``"sharding"`` specification: every chunk
is then an item of a ``<key>/<shard>.shard`` file, found by the compressed Morton
code of its grid position, shifted, hashed and split into a minishard and a shard
number. Each test writes a layer with one library and reads it, voxel for voxel,
with another; the shard *file names* on disk are checked against the spec
(computed here independently, with ``mmh3`` for the murmur hash), so a layer with
several shards really has them.

The sharding cases cover both hashes, raw and gzip minishard indexes and chunk
data, a single shard and several, and an identity hash whose shards are boxes of
the chunk grid as well as one whose chunk ids have bits above the shard number
(shards that are not boxes: far-apart chunks share a file).

An open volume keeps shard indexes; the last test rewrites a shard behind its back
with tensorstore, to the same size, and the volume must notice (by the shard's version).
"""

from __future__ import annotations

import copy
import math
import os
from typing import TYPE_CHECKING, Any

import mmh3
import numpy as np
import pytest

from oracles import tensorstore_create, tensorstore_open
from precomputed_core import CloudVolume
from precomputed_core.exceptions import EmptyVolumeException

ts = pytest.importorskip("tensorstore")
cloudvolume = pytest.importorskip("cloudvolume")

if TYPE_CHECKING:
    from pathlib import Path

RESOLUTION = [4, 4, 40]
KEY = "4_4_40"
CHUNK = [32, 32, 16]
# Not a multiple of the chunk size and not at the origin: a grid of 5 x 5 x 3 chunks,
# the last ones on each axis partial (22 x 2 x 13 voxels); chunk ids have 3 + 3 + 2 bits.
OFFSET = [13, -7, 5]
SIZE = [150, 130, 45]
GRID = [5, 5, 3]


def sharding(preshift: int, hash_: str, minishard: int, shard: int, index: str, data: str) -> dict[str, Any]:
    return {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": preshift, "hash": hash_,
            "minishard_bits": minishard, "shard_bits": shard,
            "minishard_index_encoding": index, "data_encoding": data}  # fmt: skip


IDENTITY, MURMUR = "identity", "murmurhash3_x86_128"
# Identity hash, 2 + 2 bits within a shard: each shard is a box of 4 x 2 x 2 chunks
# (128 x 64 x 32 voxels), 2 x 3 x 2 of them over the grid (12 of the 16 shard numbers).
BOXES = sharding(2, IDENTITY, 2, 4, "raw", "raw")
ONE_BOX = sharding(3, IDENTITY, 5, 0, "gzip", "gzip")
# 1 + 2 + 2 bits of an 8-bit id: its top 3 bits are dropped, so the 4 shards are not boxes
WRAPPING = sharding(1, IDENTITY, 2, 2, "gzip", "raw")
MURMUR_8 = sharding(0, MURMUR, 3, 3, "gzip", "gzip")
MURMUR_1 = sharding(2, MURMUR, 1, 0, "raw", "gzip")
SHARDING_IDS = {
    "identity-12-shards-raw": BOXES,
    "identity-1-shard-gzip": ONE_BOX,
    "identity-wrapping-gzip-index": WRAPPING,
    "murmur-8-shards-gzip": MURMUR_8,
    "murmur-1-shard-gzip-data": MURMUR_1,
}


def shardings(*specs: dict[str, Any]) -> list[Any]:
    """pytest params of these specs (all of them by default), named by SHARDING_IDS."""
    return [pytest.param(spec, id=name) for name, spec in SHARDING_IDS.items() if not specs or spec in specs]


SHARDINGS = shardings()

# (encoding, dtype, channels, layer type)
Codec = tuple[str, str, int, str]
RAW_U16: Codec = ("raw", "uint16", 1, "image")
RAW_U8_3CH: Codec = ("raw", "uint8", 3, "image")
RAW_U64: Codec = ("raw", "uint64", 1, "segmentation")
JPEG_U8: Codec = ("jpeg", "uint8", 1, "image")
CSEG_U64: Codec = ("compressed_segmentation", "uint64", 1, "segmentation")
CSEG_U32: Codec = ("compressed_segmentation", "uint32", 1, "segmentation")
CODEC_IDS = {"raw-uint16": RAW_U16, "raw-uint8-3ch": RAW_U8_3CH, "raw-uint64": RAW_U64,
             "jpeg-uint8": JPEG_U8, "cseg-uint64": CSEG_U64, "cseg-uint32": CSEG_U32}  # fmt: skip


def codecs(*chosen: Codec) -> list[Any]:
    """pytest params of these codecs (all of them by default), named by CODEC_IDS."""
    return [
        pytest.param(codec, id=name) for name, codec in CODEC_IDS.items() if not chosen or codec in chosen
    ]


ENCODINGS = codecs()


# --- helpers: the sharded format, computed independently ------------------------------------


def compressed_morton(position: tuple[int, int, int], grid: list[int]) -> int:
    """volume.md: the bits of x, y, z interleaved, an axis dropping out when it has no bits left."""
    bits = [max(0, n - 1).bit_length() for n in grid]
    code, out = 0, 0
    for i in range(max(bits)):
        for axis in range(3):
            if i < bits[axis]:
                code |= ((position[axis] >> i) & 1) << out
                out += 1
    return code


def shard_of(chunk_id: int, spec: dict[str, Any]) -> str:
    """sharded.md: the file name of the shard holding ``chunk_id``."""
    hashed = chunk_id >> spec["preshift_bits"]
    if spec["hash"] == MURMUR:
        # MurmurHash3_x86_128 of the 8 little-endian bytes, low 8 bytes of the digest
        hashed = mmh3.hash128(hashed.to_bytes(8, "little"), 0, False) & (2**64 - 1)
    shard = (hashed >> spec["minishard_bits"]) & ((1 << spec["shard_bits"]) - 1)
    return f"{shard:0{math.ceil(spec['shard_bits'] / 4)}x}.shard"


def grid_positions(grid: list[int]) -> list[tuple[int, int, int]]:
    return [(x, y, z) for x in range(grid[0]) for y in range(grid[1]) for z in range(grid[2])]


def shards_of_grid(spec: dict[str, Any], grid: list[int] = GRID) -> dict[str, list[tuple[int, int, int]]]:
    """Each shard file of the whole layer and the grid positions of the chunks it holds."""
    shards: dict[str, list[tuple[int, int, int]]] = {}
    for position in grid_positions(grid):
        shards.setdefault(shard_of(compressed_morton(position, grid), spec), []).append(position)
    return shards


def shard_files(layer: Path) -> list[str]:
    return sorted(os.listdir(layer / KEY))


def chunk_name(position: tuple[int, int, int], offset: list[int] = OFFSET, size: list[int] = SIZE) -> str:
    """The (unsharded) chunk name that exists() reports for a grid position."""
    ranges = []
    for p, o, s, c in zip(position, offset, size, CHUNK):
        lo = o + p * c
        ranges.append(f"{lo}-{min(lo + c, o + s)}")
    return f"{KEY}/{'_'.join(ranges)}"


def grid_box(position: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """The voxels of a grid cell, as slices of the layer's array (clipped at its end)."""
    return tuple(slice(p * c, min((p + 1) * c, s)) for p, c, s in zip(position, CHUNK, SIZE))  # type: ignore[return-value]


def voxels(box: tuple[slice, ...], offset: list[int] = OFFSET) -> tuple[slice, ...]:
    """Slices of the layer's array -> the same box in voxel coordinates."""
    return tuple(slice(b.start + o, b.stop + o) for b, o in zip(box, offset))


# --- helpers: test data ---------------------------------------------------------------------


def make_data(encoding: str, dtype: str, channels: int, seed: int, size: list[int] = SIZE) -> np.ndarray:
    """(x, y, z, c) voxels each codec suits: noise for raw, blobs of labels, smooth jpeg images."""
    rng = np.random.default_rng(seed)
    shape = (*size, channels)
    if encoding == "raw":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    x, y, z = np.meshgrid(*(np.arange(n) for n in size), indexing="ij")
    if encoding == "jpeg":
        phase = rng.uniform(0, 2 * np.pi)
        value = 128 + 70 * np.sin(2 * np.pi * x / size[0] + phase) + 8 * np.cos(2 * np.pi * y / size[1]) + z
        return np.clip(value.round(), 0, 255).astype(np.uint8)[..., None]
    # segmentation: boxes of 7 x 5 x 3 voxels, each a random label of the whole dtype range
    blobs = (x // 7) + 100 * (y // 5) + 10000 * (z // 3)
    table = rng.integers(1, np.iinfo(dtype).max, size=int(blobs.max()) + 1, dtype=dtype, endpoint=True)
    return table[blobs][..., None]


def assert_same_voxels(actual: Any, expected: np.ndarray) -> None:
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def assert_jpeg_close(decoded: np.ndarray, original: np.ndarray) -> None:
    """Within JPEG's error on smooth data (quality 85: mean well under 1.5, max under 8)."""
    decoded = np.asarray(decoded)
    assert decoded.dtype == original.dtype == np.uint8
    assert decoded.shape == original.shape
    error = np.abs(decoded.astype(np.int16) - original.astype(np.int16))
    assert error.mean() < 1.5, f"mean abs error {error.mean():.2f}"
    assert error.max() <= 8, f"max abs error {error.max()}"


# --- helpers: the three libraries -----------------------------------------------------------


def make_info(
    encoding: str,
    dtype: str,
    channels: int,
    layer_type: str,
    spec: dict[str, Any],
    *,
    offset: list[int] = OFFSET,
    size: list[int] = SIZE,
) -> dict[str, Any]:
    info = CloudVolume.create_new_info(
        channels, layer_type, dtype, encoding, RESOLUTION, offset, size, chunk_size=CHUNK
    )
    info["scales"][0]["sharding"] = copy.deepcopy(spec)
    return info


def ours_create(layer: Path, info: dict[str, Any], **options: Any) -> CloudVolume:
    vol = CloudVolume("file://" + str(layer), info=copy.deepcopy(info), progress=False, **options)
    vol.commit_info()
    return vol


def ours_open(layer: Path, **options: Any) -> CloudVolume:
    return CloudVolume("file://" + str(layer), progress=False, **options)


def ours_read(layer: Path, **options: Any) -> np.ndarray:
    return np.asarray(ours_open(layer, **options)[:, :, :])


def ts_create(
    layer: Path,
    encoding: str,
    dtype: str,
    channels: int,
    layer_type: str,
    spec: dict[str, Any],
    *,
    offset: list[int] = OFFSET,
    size: list[int] = SIZE,
) -> Any:
    return tensorstore_create(layer, layer_type=layer_type, dtype=dtype, channels=channels, encoding=encoding,
                              resolution=RESOLUTION, chunk_size=CHUNK, size=size, voxel_offset=offset,
                              sharding=copy.deepcopy(spec))  # fmt: skip


def ts_read(layer: Path) -> np.ndarray:
    return np.asarray(tensorstore_open(layer).read().result())


def cv_read(layer: Path) -> np.ndarray:
    return np.asarray(cloudvolume.CloudVolume("file://" + str(layer), progress=False)[:, :, :])


def cv_write_shard_boxes(layer: Path, info: dict[str, Any], data: np.ndarray) -> int:
    """cloud-volume's own way for an identity hash: ``vol[box] = ...`` one whole shard at a time."""
    cv = cloudvolume.CloudVolume("file://" + str(layer), info=copy.deepcopy(info), progress=False)
    cv.commit_info()
    shape = [int(n) for n in cv.image.shard_shape(0)]
    writes = 0
    for x in range(0, SIZE[0], shape[0]):
        for y in range(0, SIZE[1], shape[1]):
            for z in range(0, SIZE[2], shape[2]):
                box = tuple(slice(lo, min(lo + n, s)) for lo, n, s in zip((x, y, z), shape, SIZE))
                cv[voxels(box)] = data[box]
                writes += 1
    return writes


def cv_write_hashed(layer: Path, info: dict[str, Any], data: np.ndarray) -> None:
    """cloud-volume for hashed shards: encode every chunk, then ``synthesize_shards`` the files."""
    from cloudfiles import CloudFiles
    from cloudvolume.datasource.precomputed.sharding import ShardingSpecification

    cv = cloudvolume.CloudVolume("file://" + str(layer), info=copy.deepcopy(info), progress=False)
    cv.commit_info()
    # all chunks at once: make_shard_chunks only asks that they share a shard of the spec given
    one_shard = ShardingSpecification.from_dict({**info["scales"][0]["sharding"], "shard_bits": 0})
    bounds = cloudvolume.Bbox(OFFSET, [o + s for o, s in zip(OFFSET, SIZE)])
    chunks = cv.image.make_shard_chunks(data, bounds, mip=0, spec=one_shard)
    assert len(chunks) == math.prod(GRID)
    spec = ShardingSpecification.from_dict(info["scales"][0]["sharding"])
    files = CloudFiles("file://" + str(layer / KEY), progress=False)
    files.puts(list(spec.synthesize_shards(chunks).items()), compress=None)


# --- 1. we write, tensorstore reads -----------------------------------------------------------


@pytest.mark.parametrize("spec", SHARDINGS)
@pytest.mark.parametrize("codec", ENCODINGS)
def test_tensorstore_reads_what_we_write(tmp_path: Path, codec: Codec, spec: dict[str, Any]) -> None:
    encoding, dtype, channels, layer_type = codec
    layer = tmp_path / "layer"
    data = make_data(encoding, dtype, channels, seed=1)
    ours_create(layer, make_info(encoding, dtype, channels, layer_type, spec))[:, :, :] = data

    assert shard_files(layer) == sorted(shards_of_grid(spec))
    store = tensorstore_open(layer)
    assert store.spec().to_json()["scale_metadata"]["sharding"] == spec
    assert list(store.domain.inclusive_min) == [*OFFSET, 0]
    theirs = np.asarray(store.read().result())
    cutout = np.s_[120:150, 20:60, 18:40]  # crosses chunk and shard borders on every axis
    theirs_cutout = np.asarray(store[voxels(cutout)].read().result())
    if encoding == "jpeg":
        assert_jpeg_close(theirs, data)
        # the same stored jpeg bytes, decoded by both: identical
        assert_same_voxels(ours_read(layer), theirs)
        assert_same_voxels(theirs_cutout, theirs[cutout])
    else:
        assert_same_voxels(theirs, data)
        assert_same_voxels(theirs_cutout, data[cutout])


GEOMETRIES = [
    pytest.param([0, 0, 0], [128, 128, 64], id="aligned-at-origin"),
    pytest.param([-40, 7, 1000], [96, 97, 17], id="offset-ragged"),
]


@pytest.mark.parametrize(("offset", "size"), GEOMETRIES)
@pytest.mark.parametrize("spec", shardings(BOXES, MURMUR_8))
def test_geometry_both_ways(tmp_path: Path, offset: list[int], size: list[int], spec: dict[str, Any]) -> None:
    data = make_data("raw", "uint32", 1, seed=2, size=size)
    whole = tuple(slice(o, o + s) for o, s in zip(offset, size))
    ours = tmp_path / "ours"
    info = make_info("raw", "uint32", 1, "image", spec, offset=offset, size=size)
    ours_create(ours, info)[whole] = data
    grid = [-(-s // c) for s, c in zip(size, CHUNK)]
    assert shard_files(ours) == sorted(shards_of_grid(spec, grid))
    assert_same_voxels(ts_read(ours), data)

    theirs = tmp_path / "theirs"
    ts_create(theirs, "raw", "uint32", 1, "image", spec, offset=offset, size=size).write(data).result()
    assert shard_files(theirs) == shard_files(ours)
    vol = ours_open(theirs)
    assert list(vol.voxel_offset) == offset
    assert_same_voxels(vol[whole], data)
    far = tuple(slice(o + s - 15, o + s) for o, s in zip(offset, size))
    assert_same_voxels(vol[far], data[-15:, -15:, -15:])


# --- 2. we write, cloud-volume reads ------------------------------------------------------------

CV_SHARDINGS = shardings(BOXES, WRAPPING, MURMUR_8, MURMUR_1)
CV_ENCODINGS = codecs(RAW_U16, RAW_U64, CSEG_U64, CSEG_U32)


@pytest.mark.parametrize("spec", CV_SHARDINGS)
@pytest.mark.parametrize("codec", CV_ENCODINGS)
def test_cloudvolume_reads_what_we_write(
    cv_env: Path, tmp_path: Path, codec: Codec, spec: dict[str, Any]
) -> None:
    encoding, dtype, channels, layer_type = codec
    layer = tmp_path / "layer"
    data = make_data(encoding, dtype, channels, seed=3)
    ours_create(layer, make_info(encoding, dtype, channels, layer_type, spec))[:, :, :] = data

    assert_same_voxels(cv_read(layer), data)
    cv = cloudvolume.CloudVolume("file://" + str(layer), progress=False)
    assert_same_voxels(np.asarray(cv[voxels(np.s_[100:150, 60:130, 30:45])]), data[100:150, 60:130, 30:45])


# --- 3. tensorstore or cloud-volume writes, we read ------------------------------------------------


@pytest.mark.parametrize("spec", SHARDINGS)
@pytest.mark.parametrize("codec", ENCODINGS)
def test_we_read_what_tensorstore_writes(tmp_path: Path, codec: Codec, spec: dict[str, Any]) -> None:
    encoding, dtype, channels, layer_type = codec
    layer = tmp_path / "layer"
    data = make_data(encoding, dtype, channels, seed=4)
    ts_create(layer, encoding, dtype, channels, layer_type, spec).write(data).result()
    assert shard_files(layer) == sorted(shards_of_grid(spec))

    vol = ours_open(layer)
    assert vol.info["scales"][0]["sharding"] == spec
    ours = np.asarray(vol[:, :, :])
    cutout = np.s_[120:150, 20:60, 18:40]
    if encoding == "jpeg":
        assert_jpeg_close(ours, data)
        assert_same_voxels(ours, ts_read(layer))
        assert_same_voxels(vol[voxels(cutout)], ours[cutout])
    else:
        assert_same_voxels(ours, data)
        assert_same_voxels(vol[voxels(cutout)], data[cutout])


@pytest.mark.parametrize("spec", shardings(BOXES, MURMUR_8))
def test_we_read_a_partly_written_tensorstore_layer(tmp_path: Path, spec: dict[str, Any]) -> None:
    """Chunks tensorstore never wrote: absent from their shards; exists() says so, reads need fill_missing."""
    layer = tmp_path / "layer"
    data = make_data("raw", "uint16", 1, seed=5)
    written = np.s_[30:100, 0:64, 16:45]  # grid x 0..3, y 0..1, z 1..2
    store = ts_create(layer, "raw", "uint16", 1, "image", spec)
    store[voxels(written)].write(data[written]).result()
    expected = np.zeros_like(data)
    expected[written] = data[written]
    present = {p for p in grid_positions(GRID) if p[0] <= 3 and p[1] <= 1 and p[2] >= 1}

    assert_same_voxels(ours_read(layer, fill_missing=True), expected)
    exists = ours_open(layer).exists(np.s_[:, :, :])
    assert exists == {chunk_name(p): p in present for p in grid_positions(GRID)}
    with pytest.raises(EmptyVolumeException):
        ours_read(layer)
    assert_same_voxels(ours_open(layer)[voxels(written)], data[written])


@pytest.mark.parametrize("spec", shardings(BOXES, ONE_BOX))
@pytest.mark.parametrize("codec", CV_ENCODINGS)
def test_we_read_what_cloudvolume_writes_shard_by_shard(
    cv_env: Path, tmp_path: Path, codec: Codec, spec: dict[str, Any]
) -> None:
    encoding, dtype, channels, layer_type = codec
    layer = tmp_path / "layer"
    data = make_data(encoding, dtype, channels, seed=6)
    writes = cv_write_shard_boxes(layer, make_info(encoding, dtype, channels, layer_type, spec), data)
    assert writes == len(shards_of_grid(spec))
    assert shard_files(layer) == sorted(shards_of_grid(spec))

    assert_same_voxels(ours_read(layer), data)
    assert_same_voxels(ts_read(layer), data)  # the oracle agrees about cloud-volume's files


@pytest.mark.parametrize("spec", shardings(MURMUR_8, MURMUR_1))
@pytest.mark.parametrize("codec", codecs(RAW_U16, CSEG_U64))
def test_we_read_what_cloudvolume_writes_hashed(
    cv_env: Path, tmp_path: Path, codec: Codec, spec: dict[str, Any]
) -> None:
    encoding, dtype, channels, layer_type = codec
    layer = tmp_path / "layer"
    data = make_data(encoding, dtype, channels, seed=7)
    cv_write_hashed(layer, make_info(encoding, dtype, channels, layer_type, spec), data)
    assert shard_files(layer) == sorted(shards_of_grid(spec))

    assert_same_voxels(ours_read(layer), data)
    assert_same_voxels(ts_read(layer), data)


# --- 4. partial writes into the other library's shards -----------------------------------------

# x 100..140, y 50..80, z 20..40 of the array: starts and ends inside chunks on every axis and
# crosses the shard boxes of BOXES (128 x 64 x 32 voxels) on every axis.
PATCH = np.s_[100:140, 50:80, 20:40]
PARTIAL_CASES = [
    pytest.param("raw", "uint16", BOXES, id="raw-identity-12-shards"),
    pytest.param("raw", "uint64", WRAPPING, id="raw-identity-wrapping"),
    pytest.param("raw", "uint16", MURMUR_8, id="raw-murmur-8-shards"),
    pytest.param("compressed_segmentation", "uint32", ONE_BOX, id="cseg-identity-1-shard"),
    pytest.param("compressed_segmentation", "uint64", MURMUR_1, id="cseg-murmur-1-shard"),
]


def patch_shards(spec: dict[str, Any]) -> set[str]:
    """The shard files holding a chunk that PATCH touches."""
    touched = {
        p
        for p in grid_positions(GRID)
        if all(b.start < (q + 1) * c and q * c < b.stop for b, q, c in zip(PATCH, p, CHUNK))
    }
    return {name for name, positions in shards_of_grid(spec).items() if touched & set(positions)}


@pytest.mark.parametrize(("encoding", "dtype", "spec"), PARTIAL_CASES)
def test_non_aligned_write_into_tensorstore_shards_keeps_every_other_voxel(
    tmp_path: Path, encoding: str, dtype: str, spec: dict[str, Any]
) -> None:
    layer = tmp_path / "layer"
    layer_type = "image" if encoding == "raw" else "segmentation"
    original = make_data(encoding, dtype, 1, seed=8)
    ts_create(layer, encoding, dtype, 1, layer_type, spec).write(original).result()
    untouched = sorted(set(shards_of_grid(spec)) - patch_shards(spec))
    before = {name: (layer / KEY / name).read_bytes() for name in untouched}

    patch = make_data(encoding, dtype, 1, seed=9, size=[40, 30, 20])
    ours_open(layer, non_aligned_writes=True)[voxels(PATCH)] = patch

    expected = original.copy()
    expected[PATCH] = patch
    assert_same_voxels(ts_read(layer), expected)
    assert_same_voxels(ours_read(layer), expected)
    assert shard_files(layer) == sorted(shards_of_grid(spec))
    assert {name: (layer / KEY / name).read_bytes() for name in untouched} == before
    if spec is BOXES:
        assert len(untouched) == 4  # the 8 shards around the patch's corner were rewritten, no other


def test_tensorstore_non_aligned_write_into_our_shards(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    original = make_data("raw", "uint16", 1, seed=10)
    ours_create(layer, make_info("raw", "uint16", 1, "image", MURMUR_8))[:, :, :] = original

    patch = make_data("raw", "uint16", 1, seed=11, size=[40, 30, 20])
    tensorstore_open(layer)[voxels(PATCH)].write(patch).result()

    expected = original.copy()
    expected[PATCH] = patch
    assert_same_voxels(ours_read(layer), expected)


def test_two_non_aligned_writes_of_ours_in_one_chunk(tmp_path: Path) -> None:
    """Our second partial write into a chunk keeps the first one's voxels (and tensorstore sees both)."""
    layer = tmp_path / "layer"
    original = make_data("raw", "uint16", 1, seed=12)
    ts_create(layer, "raw", "uint16", 1, "image", BOXES).write(original).result()
    vol = ours_open(layer, non_aligned_writes=True)
    vol[voxels(np.s_[3:9, 4:10, 2:5])] = 1
    vol[voxels(np.s_[6:12, 1:7, 4:8])] = 2

    expected = original.copy()
    expected[3:9, 4:10, 2:5] = 1
    expected[6:12, 1:7, 4:8] = 2
    assert_same_voxels(ts_read(layer), expected)


def test_aligned_write_of_part_of_a_tensorstore_shard_keeps_its_other_chunks(tmp_path: Path) -> None:
    """A chunk-aligned write (no non_aligned_writes) of 2 of a shard's 16 chunks rewrites only those."""
    layer = tmp_path / "layer"
    original = make_data("raw", "uint16", 1, seed=15)
    ts_create(layer, "raw", "uint16", 1, "image", BOXES).write(original).result()
    box = np.s_[32:64, 0:32, 0:32]  # grid x 1, y 0, z 0..1: inside shard 0 (grid x 0..3, y 0..1, z 0..1)
    patch = make_data("raw", "uint16", 1, seed=16, size=[32, 32, 32])
    ours_open(layer)[voxels(box)] = patch

    expected = original.copy()
    expected[box] = patch
    assert_same_voxels(ts_read(layer), expected)


@pytest.mark.parametrize("spec", shardings(WRAPPING, MURMUR_8))
def test_parallel_write_tensorstore_reads(tmp_path: Path, spec: dict[str, Any]) -> None:
    """Workers of parallel=4 write chunks of shards they share: no worker's chunks are lost."""
    layer = tmp_path / "layer"
    data = make_data("raw", "uint16", 1, seed=17)
    info = make_info("raw", "uint16", 1, "image", spec)
    ours_create(layer, info, parallel=4)[:, :, :] = data
    assert shard_files(layer) == sorted(shards_of_grid(spec))
    assert_same_voxels(ts_read(layer), data)


# mip 1 of OFFSET, SIZE at (2, 2, 1): offset floored, size ceiled; its own sharding
MIP1_OFFSET, MIP1_SIZE = [6, -4, 5], [75, 65, 45]


def test_two_sharded_mips_both_ways(tmp_path: Path) -> None:
    rng = np.random.default_rng(18)
    mip0 = rng.integers(0, 2**32 - 1, size=(*SIZE, 1), dtype=np.uint32)
    mip1 = rng.integers(0, 2**32 - 1, size=(*MIP1_SIZE, 1), dtype=np.uint32)
    ours = tmp_path / "ours"
    info = CloudVolume.create_new_info(1, "image", "uint32", "raw", RESOLUTION, OFFSET, SIZE, chunk_size=CHUNK,
                                       max_mip=1)  # fmt: skip
    info["scales"][0]["sharding"] = copy.deepcopy(MURMUR_8)
    info["scales"][1]["sharding"] = copy.deepcopy(WRAPPING)
    vol = ours_create(ours, info)
    assert (list(vol.mip_voxel_offset(1)), list(vol.mip_volume_size(1))) == (MIP1_OFFSET, MIP1_SIZE)
    vol[:, :, :] = mip0
    vol.mip = 1
    vol[:, :, :] = mip1
    assert sorted(os.listdir(ours / "8_8_40")) == sorted(shards_of_grid(WRAPPING, [3, 3, 3]))
    assert_same_voxels(tensorstore_open(ours, 0).read().result(), mip0)
    assert_same_voxels(tensorstore_open(ours, 1).read().result(), mip1)

    theirs = tmp_path / "theirs"
    ts_create(theirs, "raw", "uint32", 1, "image", MURMUR_8).write(mip0).result()
    tensorstore_create(theirs, layer_type="image", dtype="uint32", channels=1, encoding="raw",
                       resolution=[8, 8, 40], chunk_size=CHUNK, size=MIP1_SIZE, voxel_offset=MIP1_OFFSET,
                       sharding=copy.deepcopy(WRAPPING)).write(mip1).result()  # fmt: skip
    assert_same_voxels(ours_read(theirs), mip0)
    assert_same_voxels(ours_open(theirs, mip=1)[:, :, :], mip1)


# --- 5. deletes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", shardings(BOXES, WRAPPING, MURMUR_8))
def test_delete_removes_exactly_the_chunks_of_the_box(tmp_path: Path, spec: dict[str, Any]) -> None:
    layer = tmp_path / "layer"
    data = make_data("raw", "uint32", 1, seed=13)
    ts_create(layer, "raw", "uint32", 1, "image", spec).write(data).result()

    # grid x 2..4 (the last chunk partial), y 1..2, z 0..1: chunk-aligned, ending at the volume's end
    box = np.s_[64:150, 32:96, 0:32]
    vol = ours_open(layer)
    vol.delete(voxels(box))
    deleted = {p for p in grid_positions(GRID) if p[0] >= 2 and 1 <= p[1] <= 2 and p[2] <= 1}
    assert len(deleted) == 12

    expected = data.copy()
    expected[box] = 0
    assert_same_voxels(ts_read(layer), expected)  # tensorstore's fill value where chunks are gone
    assert_same_voxels(ours_read(layer, fill_missing=True), expected)
    assert ours_open(layer).exists(np.s_[:, :, :]) == {
        chunk_name(p): p not in deleted for p in grid_positions(GRID)
    }
    with pytest.raises(EmptyVolumeException):
        ours_open(layer)[voxels(box)]
    # shards whose chunks were all deleted are gone, the others stay
    remaining = {name for name, positions in shards_of_grid(spec).items() if set(positions) - deleted}
    assert shard_files(layer) == sorted(remaining)


@pytest.mark.parametrize("spec", shardings(BOXES, MURMUR_1))
def test_deleting_every_chunk_of_a_shard_removes_the_file(tmp_path: Path, spec: dict[str, Any]) -> None:
    layer = tmp_path / "layer"
    data = make_data("compressed_segmentation", "uint64", 1, seed=14)
    vol = ours_create(layer, make_info("compressed_segmentation", "uint64", 1, "segmentation", spec))
    vol[:, :, :] = data
    shards = shards_of_grid(spec)
    # a shard inside the volume: its grid cells make a box (all of them for one shard)
    name = shard_of(compressed_morton((1, 2, 1), GRID), spec)
    cells = np.array(shards[name])
    lo, hi = cells.min(axis=0), cells.max(axis=0) + 1
    assert len(cells) == math.prod(hi - lo)
    box = tuple(slice(a * c, min(b * c, s)) for a, b, c, s in zip(lo, hi, CHUNK, SIZE))
    others = {n: (layer / KEY / n).read_bytes() for n in shards if n != name}

    ours_open(layer).delete(voxels(box))

    assert shard_files(layer) == sorted(others)
    assert {n: (layer / KEY / n).read_bytes() for n in others} == others
    expected = data.copy()
    expected[box] = 0
    assert_same_voxels(ts_read(layer), expected)
    assert not any(ours_open(layer).exists(voxels(box)).values())


# --- an index kept while another writer rewrites the shard -----------------------------------------


def test_shard_rewritten_to_the_same_size_is_not_read_stale(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    store = ts_create(layer, "raw", "uint16", 1, "image", BOXES)
    a, b = voxels(np.s_[0:32, 0:32, 0:16]), voxels(np.s_[32:64, 0:32, 0:16])  # two chunks of shard 0
    store[a].write(np.full((32, 32, 16, 1), 1, np.uint16)).result()
    vol = ours_open(layer, fill_missing=True)
    assert_same_voxels(vol[a], np.full((32, 32, 16, 1), 1, np.uint16))  # caches shard 0's index
    assert_same_voxels(vol[b], np.zeros((32, 32, 16, 1), np.uint16))
    size = (layer / KEY / "0.shard").stat().st_size
    # tensorstore drops a chunk equal to the fill value: shard 0 now holds b alone, same size
    store[a].write(np.zeros((32, 32, 16, 1), np.uint16)).result()
    store[b].write(np.full((32, 32, 16, 1), 2, np.uint16)).result()
    assert (layer / KEY / "0.shard").stat().st_size == size

    assert_same_voxels(ours_open(layer, fill_missing=True)[b], np.full((32, 32, 16, 1), 2, np.uint16))
    assert_same_voxels(vol[a], np.zeros((32, 32, 16, 1), np.uint16))  # not b's voxels at a's offsets
    assert_same_voxels(vol[b], np.full((32, 32, 16, 1), 2, np.uint16))  # not zeros
