"""jpeg and png: the Precomputed image layout, parameters and bad data."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from precomputed_codecs.jpeg import JpegCodec
from precomputed_codecs.png import PngCodec
from precomputed_core import ChunkSpec, CloudVolume
from precomputed_core.exceptions import DecodingError, UnsupportedDataTypeError
from precomputed_core.testing import CodecContract, random_array


def smooth(shape, seed=0):
    """A smooth uint8 image: JPEG reproduces it closely, unlike noise."""
    x, y, z, c = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
    return (110 + 60 * np.sin(x / 5 + seed) * np.cos(y / 7) + 20 * np.cos(z / 3 + c)).astype(np.uint8)


class TestPngContract(CodecContract):
    dtypes = ("uint8", "uint16")
    channels = (1, 2, 3, 4)

    @pytest.fixture
    def codec(self):
        return PngCodec()


class TestJpegContract(CodecContract):
    dtypes = ("uint8",)
    channels = (1, 3)
    lossless = False
    tolerance = 140.0  # random bytes are JPEG's worst case; the smooth tests below are strict

    @pytest.fixture
    def codec(self):
        return JpegCodec()


def _spec(shape, dtype="uint8", **scale):
    return ChunkSpec(np.dtype(dtype), shape, scale)


@pytest.mark.parametrize(("codec", "fmt"), [(JpegCodec(), "JPEG"), (PngCodec(), "PNG")])
def test_image_is_x_wide_and_y_times_z_high_in_fortran_order(codec, fmt):
    shape = (16, 8, 4, 1)
    voxels = smooth(shape)
    data = codec.encode(voxels, _spec(shape))
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == fmt
        assert picture.size == (16, 32)
        rows = np.asarray(picture).astype(int)
    # row r of the image is y = r % 8, z = r // 8; x along the row
    expected = voxels[:, :, :, 0].transpose(2, 1, 0).reshape(32, 16).astype(int)
    if fmt == "PNG":
        np.testing.assert_array_equal(rows, expected)
    else:
        assert np.abs(rows - expected).mean() < 2


def test_jpeg_reproduces_smooth_images_closely_and_quality_matters():
    shape = (64, 64, 16, 3)
    voxels = smooth(shape)
    codec = JpegCodec()
    small = codec.encode(voxels, _spec(shape, jpeg_quality=40))
    large = codec.encode(voxels, _spec(shape, jpeg_quality=98))
    assert len(small) < len(large)
    back = codec.decode(large, _spec(shape, jpeg_quality=98))
    assert np.abs(back.astype(int) - voxels).mean() < 1.5


def test_png_16_bit_multichannel_keeps_all_bits():
    shape = (9, 5, 3, 3)
    voxels = random_array(shape, "uint16", seed=4)
    codec = PngCodec()
    np.testing.assert_array_equal(
        codec.decode(codec.encode(voxels, _spec(shape, "uint16")), _spec(shape, "uint16")), voxels
    )


@pytest.mark.parametrize(
    ("codec", "dtype", "channels"),
    [(JpegCodec(), "uint16", 1), (JpegCodec(), "uint8", 2), (JpegCodec(), "uint8", 4),
     (PngCodec(), "int16", 1), (PngCodec(), "float32", 1), (PngCodec(), "uint8", 5)],
)  # fmt: skip
def test_unsupported_combinations_are_refused(codec, dtype, channels):
    with pytest.raises(UnsupportedDataTypeError, match=f"{codec.encoding} holds"):
        codec.check(np.dtype(dtype), channels, {})


@pytest.mark.parametrize(
    ("encoding", "dtype", "channels"),
    [("jpeg", "uint16", 1), ("jpeg", "uint8", 2), ("png", "float32", 1), ("png", "uint32", 1)],
)
def test_create_new_info_validates_the_encoding(encoding, dtype, channels):
    with pytest.raises(UnsupportedDataTypeError, match=f"{encoding} holds"):
        CloudVolume.create_new_info(channels, "image", dtype, encoding, [1, 1, 1], [0, 0, 0], [64, 64, 64])


def test_jpeg_quality_is_validated_and_stored():
    info = CloudVolume.create_new_info(1, "image", "uint8", "jpeg", [1, 1, 1], [0, 0, 0], [64, 64, 64],
                                       encoding_level=92)  # fmt: skip
    assert info["scales"][0]["jpeg_quality"] == 92
    with pytest.raises(UnsupportedDataTypeError, match="jpeg_quality must be an integer 1 to 100"):
        CloudVolume.create_new_info(1, "image", "uint8", "jpeg", [1, 1, 1], [0, 0, 0], [64, 64, 64],
                                    encoding_level=0)  # fmt: skip


@pytest.mark.parametrize("codec", [JpegCodec(), PngCodec()])
@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "other_format"])
def test_bad_image_data_raises(codec, damage):
    shape = (16, 16, 4, 1)
    data = codec.encode(smooth(shape), _spec(shape))
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytes(range(256)) * 4
    elif damage == "empty":
        data = b""
    else:
        data = (PngCodec() if isinstance(codec, JpegCodec) else JpegCodec()).encode(
            smooth(shape), _spec(shape)
        )
    with pytest.raises(DecodingError):
        codec.decode(data, _spec(shape))


@pytest.mark.parametrize("codec", [JpegCodec(), PngCodec()])
def test_an_image_of_the_wrong_size_is_refused(codec):
    data = codec.encode(smooth((16, 16, 4, 1)), _spec((16, 16, 4, 1)))
    with pytest.raises(DecodingError, match=r"image is 16x64 with 1 channel\(s\), but a \(16, 16, 2\) chunk"):
        codec.decode(data, _spec((16, 16, 2, 1)))


def test_image_layers_end_to_end(tmp_path):
    info = CloudVolume.create_new_info(3, "image", "uint8", "jpeg", [4, 4, 40], [0, 0, 0], [100, 70, 20],
                                       chunk_size=(64, 64, 8), encoding_level=95)  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/rgb", info=info, progress=False)
    vol.commit_info()
    voxels = smooth((100, 70, 20, 3))
    vol[:] = voxels
    assert np.abs(vol[:].astype(int) - voxels).mean() < 2
    vol.add_scale((2, 2, 1), encoding="png")
    vol.commit_info()
    vol.mip = 1
    half = voxels[::2, ::2]
    vol[:] = half
    np.testing.assert_array_equal(vol[:], half)
    assert CloudVolume(f"file://{tmp_path}/rgb").mip_encoding(1) == "png"


@pytest.mark.parametrize("channels", [1, 3])
def test_pillow_fallback_reads_what_simplejpeg_writes_and_back(monkeypatch, channels):
    shape = (40, 24, 6, channels)
    voxels = smooth(shape)
    fast, plain = JpegCodec(), JpegCodec()
    monkeypatch.setattr(JpegCodec, "_simplejpeg", property(lambda self: None if self is plain else _sj()))
    spec = _spec(shape, jpeg_quality=95)
    by_fast, by_pillow = fast.encode(voxels, spec), plain.encode(voxels, spec)
    for data in (by_fast, by_pillow):
        a, b = fast.decode(data, spec), plain.decode(data, spec)
        assert np.abs(a.astype(int) - b).max() <= 1  # the same libjpeg-turbo underneath
        assert np.abs(a.astype(int) - voxels).mean() < 1.5


def _sj():
    import simplejpeg

    return simplejpeg
