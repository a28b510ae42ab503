"""Transfer compression: bounded decompression of gzip, brotli and zstd (issue: decompression bombs)."""

from __future__ import annotations

import gzip
import importlib
import zlib

import brotli
import numpy as np
import pytest
import zstandard

from precomputed_core import compress_bytes, decompress_bytes
from precomputed_core.exceptions import DecodingError

DATA = bytes(range(256)) * 1000


def _gzip_bomb(nbytes: int) -> bytes:
    """``nbytes`` of zeros, gzip-compressed a MiB at a time (never all in memory)."""
    coder = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(2**20)
    return b"".join(coder.compress(zeros) for _ in range(nbytes // 2**20)) + coder.flush()


COMPRESS = {
    "gzip": gzip.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    "zstd-unsized": lambda data: zstandard.ZstdCompressor(write_content_size=False).compress(data),
}


@pytest.mark.parametrize("method", list(COMPRESS))
def test_within_the_limit_everything_comes_back(method):
    packed = COMPRESS[method](DATA)
    name = method.split("-")[0]
    assert decompress_bytes(packed, name, where="x") == DATA
    assert decompress_bytes(packed, name, where="x", limit=len(DATA)) == DATA


@pytest.mark.parametrize("method", list(COMPRESS))
def test_past_the_limit_is_a_decoding_error_naming_the_object(method):
    packed = COMPRESS[method](DATA)
    with pytest.raises(DecodingError, match=r"^mem://b/chunk: it expands to more than 1000 bytes.*bomb"):
        decompress_bytes(packed, method.split("-")[0], where="mem://b/chunk", limit=1000)


@pytest.mark.parametrize("method", list(COMPRESS))
def test_truncated_streams_are_errors(method):
    packed = COMPRESS[method](DATA)
    with pytest.raises(DecodingError, match="corrupt or truncated"):
        decompress_bytes(packed[: len(packed) // 2], method.split("-")[0], where="x", limit=len(DATA))


def test_concatenated_gzip_members_and_zero_padding_are_read():
    packed = gzip.compress(b"ab") + gzip.compress(b"cd") + bytes(8)
    assert decompress_bytes(packed, "gzip", where="x", limit=4) == b"abcd"
    assert decompress_bytes(compress_bytes(DATA, "gzip"), "gzip", where="x", limit=len(DATA)) == DATA


def test_a_gzip_bomb_stops_at_the_limit_without_expanding():
    bomb = _gzip_bomb(2**30)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 1_100_000
    with pytest.raises(DecodingError, match="expands to more than 262144 bytes"):
        decompress_bytes(bomb, "gzip", where="x", limit=2**18)


def test_a_zstd_frame_that_declares_too_much_is_refused_before_decoding():
    packed = zstandard.ZstdCompressor().compress(bytes(2**24))
    with pytest.raises(DecodingError, match="expands to more than 1024 bytes"):
        decompress_bytes(packed, "zstd", where="x", limit=1024)


@pytest.mark.parametrize("sizes", [(3000, 1000), (1015, 3000), (5000, 5000, 7)])
def test_several_zstd_frames_without_declared_sizes_come_back_whole(sizes):
    """Unsized frames are fed in slices: a frame may end inside a slice, or on its edge."""
    parts = [bytes([i + 1]) * n for i, n in enumerate(sizes)]
    coder = zstandard.ZstdCompressor(write_content_size=False)
    packed = b"".join(coder.compress(part) for part in parts)
    whole = b"".join(parts)
    assert decompress_bytes(packed, "zstd", where="x", limit=len(whole)) == whole


def test_gzip_members_with_zero_padding_between_them():
    packed = gzip.compress(b"ab") + bytes(5) + gzip.compress(b"cd")
    assert decompress_bytes(packed, "gzip", where="x", limit=4) == gzip.decompress(packed) == b"abcd"


def test_a_brotli_older_than_1_2_is_fed_a_little_at_a_time(monkeypatch):
    """brotli < 1.2 cannot cap its output; the input then goes in 1 KiB at a time."""
    from precomputed_core.format import _compression

    class OldDecompressor:
        def __init__(self):
            self._real = brotli.Decompressor()

        def process(self, data):  # no output_buffer_limit
            return self._real.process(data)

        def is_finished(self):
            return self._real.is_finished()

    class OldBrotli:
        Decompressor = OldDecompressor
        decompress = staticmethod(brotli.decompress)

    monkeypatch.setattr(_compression, "_module", lambda method: OldBrotli)
    packed = brotli.compress(DATA)
    assert decompress_bytes(packed, "br", where="x", limit=len(DATA)) == DATA
    with pytest.raises(DecodingError, match="expands to more than 1000 bytes"):
        decompress_bytes(packed, "br", where="x", limit=1000)
    with pytest.raises(DecodingError, match="corrupt or truncated"):
        decompress_bytes(packed[:-3], "br", where="x", limit=len(DATA))


# --- the gzip coder ---------------------------------------------------------------------


def _smooth(n=64):
    x, y, z = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    return (100 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0) + 2 * z).astype(np.uint8).tobytes()


def test_gzip_is_coded_by_isal_a_dependency():
    from precomputed_core.format import gzip_backend

    assert gzip_backend() == "isal"


@pytest.mark.parametrize("backend", ["isal", "zlib-ng", "zlib"])
def test_every_coder_writes_plain_gzip_at_every_level(monkeypatch, backend):
    from precomputed_core.format import _compression

    module = {"isal": "isal.isal_zlib", "zlib-ng": "zlib_ng.zlib_ng", "zlib": "zlib"}[backend]
    pytest.importorskip(module.split(".")[0])
    coder = importlib.import_module(module)
    monkeypatch.setattr(_compression, "_gzip_coder", lambda: (backend, coder))
    data = _smooth()
    sizes = {}
    for level in range(1, 10):
        packed = compress_bytes(data, "gzip", level=level)
        assert packed[:2] == b"\x1f\x8b"
        assert gzip.decompress(packed) == data  # the stdlib reads it
        assert zlib.decompress(packed, wbits=31) == data
        assert decompress_bytes(packed, "gzip", where="x", limit=len(data)) == data
        sizes[level] = len(packed)
    assert sizes[9] <= sizes[1]  # higher levels compress at least as well
    assert sizes[6] < len(data) / 3  # a smooth image compresses well at the default level
    # and it reads what the stdlib writes
    assert decompress_bytes(gzip.compress(data, mtime=0), "gzip", where="x") == data


def test_a_gzip_level_outside_1_to_9_is_refused():
    with pytest.raises(ValueError, match="1 to 9"):
        compress_bytes(b"abc", "gzip", level=0)
