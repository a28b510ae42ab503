"""compresso and crackle: cloud-volume's label encodings beyond the spec, as plugins."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import ChunkSpec, CloudVolume
from precomputed_core.exceptions import DecodingError, UnsupportedDataTypeError
from precomputed_core.plugins import get_codec

ENCODINGS = ["compresso", "crackle"]


def _blobs(shape, dtype, seed=0):
    """Blob-shaped labels: a few large ids on a coarse grid, upsampled."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 6, size=tuple(-(-s // 4) for s in shape))
    ids = np.asarray([0, 3, 255, 77, 2**7 + 1, 9], dtype=np.uint64).astype(dtype)
    coarse = ids[coarse]
    big = coarse.repeat(4, 0).repeat(4, 1).repeat(4, 2)
    return np.asfortranarray(big[: shape[0], : shape[1], : shape[2]])


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
@pytest.mark.parametrize("shape", [(16, 16, 8), (13, 7, 5)])
def test_round_trip(encoding, dtype, shape):
    codec = get_codec(encoding)
    spec = ChunkSpec(np.dtype(dtype), (*shape, 1), {})
    labels = _blobs(shape, dtype)
    data = codec.encode(labels[..., np.newaxis], spec)
    assert isinstance(data, bytes)
    out = codec.decode(data, spec)
    assert out.shape == (*shape, 1)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out[..., 0], labels)
    target = np.zeros((*shape, 1), dtype=dtype, order="F")
    assert codec.decode(data, spec, out=target) is target
    np.testing.assert_array_equal(target[..., 0], labels)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_c_ordered_input_encodes_the_same_voxels(encoding):
    codec = get_codec(encoding)
    spec = ChunkSpec(np.dtype("uint32"), (12, 10, 6, 1), {})
    labels = np.ascontiguousarray(_blobs((12, 10, 6), np.uint32, seed=4))
    out = codec.decode(codec.encode(labels[..., np.newaxis], spec), spec)
    np.testing.assert_array_equal(out[..., 0], labels)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_what_the_encoding_cannot_hold_is_refused(encoding):
    codec = get_codec(encoding)
    for dtype, channels in (("int32", 1), ("float32", 1), ("uint32", 2)):
        with pytest.raises(UnsupportedDataTypeError, match=f"{encoding} holds one channel"):
            codec.check(np.dtype(dtype), channels, {})


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_corrupt_truncated_and_misplaced_chunks_raise(encoding):
    codec = get_codec(encoding)
    spec = ChunkSpec(np.dtype("uint32"), (16, 16, 8, 1), {})
    data = codec.encode(_blobs((16, 16, 8), np.uint32)[..., np.newaxis], spec)
    with pytest.raises(DecodingError, match=f"not a {encoding} chunk"):
        codec.decode(b"garbage, not a chunk", spec)
    with pytest.raises(DecodingError):
        codec.decode(data[: len(data) // 2], spec)
    other = ChunkSpec(np.dtype("uint32"), (16, 16, 4, 1), {})
    with pytest.raises(DecodingError, match="says it is 16x16x8 voxels, but this chunk is 16x16x4"):
        codec.decode(data, other)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_layer_of_the_encoding(tmp_path, encoding):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", encoding, [4, 4, 40], [3, 0, 0],
                                       [70, 64, 20], chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/seg", info=info, progress=False, compress="gzip")
    vol.commit_info()
    labels = _blobs((70, 64, 20), np.uint64, seed=9)
    vol[:, :, :] = labels
    again = CloudVolume(f"file://{tmp_path}/seg", progress=False)
    np.testing.assert_array_equal(again[:, :, :][..., 0], labels)
    np.testing.assert_array_equal(again[10:40, 5:9, 14:18][..., 0], labels[7:37, 5:9, 14:18])
    assert again.unique(again.bounds) == set(np.unique(labels).tolist())
    assert (tmp_path / "seg" / "4_4_40" / "3-35_0-32_0-16.gz").exists()
