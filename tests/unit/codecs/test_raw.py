from __future__ import annotations

import numpy as np
import pytest

from precomputed_codecs.raw import RawCodec
from precomputed_core import ChunkSpec
from precomputed_core.exceptions import DecodingError
from precomputed_core.plugins import get_codec
from precomputed_core.testing import CodecContract


class TestRawContract(CodecContract):
    @pytest.fixture
    def codec(self):
        return RawCodec()


def test_layout_is_little_endian_fortran_order():
    array = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4, 1)
    spec = ChunkSpec(np.dtype("<u2"), (2, 3, 4, 1), {})
    data = RawCodec().encode(array, spec)
    assert len(data) == 48
    # x varies fastest: the first voxels are (0,0,0), (1,0,0), (0,1,0).
    first = np.frombuffer(data[:6], dtype="<u2").tolist()
    assert first == [int(array[0, 0, 0, 0]), int(array[1, 0, 0, 0]), int(array[0, 1, 0, 0])]


def test_decode_names_sizes_on_mismatch():
    spec = ChunkSpec(np.dtype("<u4"), (4, 4, 4, 1), {})
    with pytest.raises(DecodingError, match=r"has 10 bytes.*needs 256"):
        RawCodec().decode(b"\0" * 10, spec)


def test_registered_through_entry_point():
    codec = get_codec("raw")
    assert isinstance(codec, RawCodec)
    assert get_codec("RAW") is codec
