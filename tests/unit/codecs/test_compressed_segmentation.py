"""compressed_segmentation: round trips, any block size, and no garbage from damaged chunks."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from precomputed_codecs.compressed_segmentation import CompressedSegmentationCodec
from precomputed_core import ChunkSpec, CloudVolume
from precomputed_core.exceptions import DecodingError, UnsupportedDataTypeError
from precomputed_core.testing import CodecContract


class TestCsegContract(CodecContract):
    dtypes = ("uint32", "uint64")
    channels = (1, 2)
    shapes = ((16, 16, 8), (13, 7, 5))
    scale: ClassVar[dict] = {"compressed_segmentation_block_size": [8, 8, 4]}

    @pytest.fixture
    def codec(self):
        return CompressedSegmentationCodec()


def blobs(shape, dtype="uint64", seed=0):
    """Labels in boxes of varying size, as a segmentation has: few values per block."""
    x, y, z, c = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
    labels = (x // 7) + 1000 * (y // 5) + 1_000_000 * (z // 3) + 10**9 * c + seed
    return np.asfortranarray(labels.astype(dtype))


def _spec(shape, dtype="uint64", block=(8, 8, 8)):
    return ChunkSpec(np.dtype(dtype), shape, {"compressed_segmentation_block_size": list(block)})


@pytest.mark.parametrize("block", [(8, 8, 8), (4, 4, 2), (5, 3, 7), (1, 1, 1), (16, 16, 16)])
@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
def test_round_trip_any_block_size(block, dtype):
    shape = (33, 17, 19, 2)
    codec = CompressedSegmentationCodec()
    for labels in (blobs(shape, dtype), np.random.default_rng(3).integers(0, 2**31, shape).astype(dtype)):
        data = codec.encode(labels, _spec(shape, dtype, block))
        np.testing.assert_array_equal(codec.decode(data, _spec(shape, dtype, block)), labels)


def test_compresses_segmentation_well():
    shape = (64, 64, 64, 1)
    data = CompressedSegmentationCodec().encode(blobs(shape), _spec(shape))
    assert len(data) < blobs(shape).nbytes / 8


def test_every_truncation_is_an_error_not_garbage():
    shape = (24, 16, 8, 2)
    spec = _spec(shape, block=(8, 8, 4))
    labels = blobs(shape)
    labels[::3, ::2] = np.arange(labels[::3, ::2].size).reshape(labels[::3, ::2].shape)  # many values
    data = CompressedSegmentationCodec().encode(labels, spec)
    for cut in range(len(data)):
        with pytest.raises(DecodingError):
            CompressedSegmentationCodec().decode(data[:cut], spec)


@settings(max_examples=200, deadline=None, database=None)
@given(position=st.integers(0, 10_000), value=st.integers(0, 255))
def test_damaged_headers_never_crash_and_never_pass_silently_out_of_bounds(position, value):
    shape = (16, 16, 8, 1)
    spec = _spec(shape, block=(8, 8, 4))
    data = bytearray(CompressedSegmentationCodec().encode(blobs(shape), spec))
    header_bytes = 4 * (1 + 2 * 8)
    data[position % header_bytes] = value
    try:
        decoded = CompressedSegmentationCodec().decode(bytes(data), spec)
    except DecodingError:
        return
    assert decoded.shape == shape  # a damage the structure cannot reveal still decodes in bounds


@pytest.mark.parametrize(
    ("dtype", "block", "message"),
    [("uint8", (8, 8, 8), "holds uint32 or uint64"), ("uint64", (128, 8, 8), "between 1 and the chunk size")],
)
def test_create_new_info_validates(dtype, block, message):
    with pytest.raises(UnsupportedDataTypeError, match=message):
        CloudVolume.create_new_info(1, "segmentation", dtype, "compressed_segmentation", [1, 1, 1], [0, 0, 0],
                                    [64, 64, 64], compressed_segmentation_block_size=block)  # fmt: skip


def test_segmentation_layer_end_to_end(tmp_path):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "compressed_segmentation", [8, 8, 40],
                                       [5, 0, 0], [70, 50, 21], chunk_size=(32, 32, 16),
                                       compressed_segmentation_block_size=(8, 8, 4), max_mip=1)  # fmt: skip
    assert info["scales"][1]["compressed_segmentation_block_size"] == [8, 8, 4]
    vol = CloudVolume(f"file://{tmp_path}/seg", info=info, progress=False, non_aligned_writes=True,
                      fill_missing=True)  # fmt: skip
    vol.commit_info()
    labels = blobs((70, 50, 21, 1))[..., 0]
    vol[:] = labels
    np.testing.assert_array_equal(vol[:][..., 0], labels)
    vol[10:20, 10:20, 3:9] = 7
    labels[5:15, 10:20, 3:9] = 7
    np.testing.assert_array_equal(vol[:][..., 0], labels)


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
def test_blocks_with_more_than_65536_labels_use_32_bits(dtype):
    """The C package cannot: these go through the numpy encoder and decoder."""
    from precomputed_codecs._cseg_layout import check_layout

    shape = (64, 64, 20, 2)
    rng = np.random.default_rng(5)
    labels = np.asfortranarray(rng.integers(1, 2**31, size=shape).astype(dtype))
    spec = _spec(shape, dtype, block=(64, 64, 20))
    codec = CompressedSegmentationCodec()
    data = codec.encode(labels, spec)
    check_layout(data, shape, (64, 64, 20), np.dtype(dtype).itemsize)
    words = np.frombuffer(data, "<u4")
    assert [int(words[words[c]] >> 24) for c in range(2)] == [32, 32]
    np.testing.assert_array_equal(codec.decode(data, spec), labels)
    with pytest.raises(DecodingError):
        codec.decode(data[:-8], spec)


def test_the_numpy_coder_matches_the_package_on_small_blocks():
    import compressed_segmentation as cseg

    from precomputed_codecs._cseg_numpy import decode_channel, encode_channel

    shape, block = (20, 13, 9), (8, 4, 4)
    labels = blobs((*shape, 1), "uint64")[..., 0]
    ours = encode_channel(labels, block)
    np.testing.assert_array_equal(
        cseg.decompress(np.array([1], "<u4").tobytes() + ours, shape, np.uint64, block, order="F"), labels
    )
    theirs = np.frombuffer(cseg.compress(labels, block_size=block, order="F"), "<u4")
    np.testing.assert_array_equal(decode_channel(theirs, 1, shape, block, np.dtype("uint64")), labels)


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
def test_the_gil_free_coder_is_used_here(dtype):
    """On Linux wheels of compressed-segmentation 2.3 the C++ functions are callable by ctypes."""
    from precomputed_codecs._cseg_native import native_decoder, native_encoder

    assert native_decoder(np.dtype(dtype)) is not None
    assert native_encoder(np.dtype(dtype)) is not None
    assert native_decoder(np.dtype(dtype).newbyteorder(">")) is None


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
def test_native_coder_matches_the_package_byte_for_byte(dtype):
    import compressed_segmentation as cseg

    from precomputed_codecs._cseg_native import native_decoder, native_encoder

    shape, block = (37, 21, 11), (8, 4, 4)
    rng = np.random.default_rng(11)
    for labels in (blobs((*shape, 1), dtype)[..., 0], rng.integers(0, 50, size=shape).astype(dtype)):
        theirs = cseg.compress(np.asfortranarray(labels), block_size=block, order="F")
        # C order, every other element of a larger array: strides the C++ walks itself.
        strided = np.zeros((2 * shape[0], *shape[1:]), dtype=dtype)[::2]
        strided[...] = labels
        assert native_encoder(np.dtype(dtype))(strided, block) == theirs[4:]
        out = np.full((shape[0] + 2, shape[1], shape[2], 3), 7, dtype=dtype, order="F")
        native_decoder(np.dtype(dtype))(np.frombuffer(theirs, "<u4")[1:], block, out[1:-1], 2)
        np.testing.assert_array_equal(out[1:-1, ..., 2], labels)
        assert (out[[0, -1]] == 7).all()
        assert (out[..., :2] == 7).all()


def test_decodes_straight_into_strided_views_and_encodes_strided_input():
    shape = (19, 23, 9, 2)
    spec = _spec(shape, block=(4, 8, 4))
    codec = CompressedSegmentationCodec()
    labels = blobs(shape)
    reference = codec.encode(np.asfortranarray(labels), spec)
    for view in (np.ascontiguousarray(labels), labels[::-1][::-1], np.flip(np.flip(labels, 0).copy(), 0)):
        assert codec.encode(view, spec) == reference
    big = np.zeros((40, 30, 12, 2), dtype=np.uint64, order="F")
    target = big[3:22, 2:25, 1:10]
    assert codec.decode(reference, spec, out=target) is target
    np.testing.assert_array_equal(target, labels)
    big[3:22, 2:25, 1:10] = 0
    assert not big.any()  # nothing was written outside the view


def test_the_package_api_fallback_gives_the_same_bytes(monkeypatch):
    import precomputed_codecs.compressed_segmentation as module

    shape = (24, 20, 10, 2)
    spec = _spec(shape, block=(8, 8, 4))
    labels = blobs(shape)
    codec = CompressedSegmentationCodec()
    fast = codec.encode(labels, spec)
    monkeypatch.setattr(module, "native_encoder", lambda dtype: None)
    monkeypatch.setattr(module, "native_decoder", lambda dtype: None)
    assert codec.encode(labels, spec) == fast
    np.testing.assert_array_equal(codec.decode(fast, spec), labels)


def test_native_coder_in_many_threads_at_once():
    from concurrent.futures import ThreadPoolExecutor

    shape = (32, 32, 32, 1)
    spec = _spec(shape)
    codec = CompressedSegmentationCodec()
    volumes = [blobs(shape, seed=s) for s in range(16)]

    def round_trip(labels):
        return codec.decode(codec.encode(labels, spec), spec)

    with ThreadPoolExecutor(4) as pool:
        for labels, back in zip(volumes, pool.map(round_trip, volumes)):
            np.testing.assert_array_equal(back, labels)


def test_a_table_overrun_is_caught_in_any_block_not_only_the_last():
    """Block 0's table moved next to the end, where its indices run past the data."""
    shape = (16, 8, 8, 1)
    labels = np.zeros(shape, dtype=np.uint64)
    labels[:8, :, :4, 0] = np.arange(4).repeat(8 * 8 * 4 // 4).reshape(8, 8, 4) + 10  # 5 labels with 0
    spec = _spec(shape)
    data = bytearray(CompressedSegmentationCodec().encode(labels, spec))
    words = np.frombuffer(data, "<u4").copy()
    end = len(words) - 1  # offsets count from the channel's start, after the 1-word channel table
    assert words[1] >> 24 == 4  # block 0 packs 4-bit indices (5 labels)
    assert words[3] >> 24 == 0  # block 1 holds one label
    words[1] = (4 << 24) | (end - 4)  # block 0's table: 5 entries of 2 words would need end + 6
    words[3] = end - 2  # block 1's table is the last region, and it is sound
    with pytest.raises(DecodingError, match="lookup table"):
        CompressedSegmentationCodec().decode(words.tobytes(), spec)
