from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from precomputed_core import Bbox, ChunkGrid
from precomputed_core.format import UnshardedChunkIO
from precomputed_core.image._layout import ScaleLayout
from precomputed_core.image._plan import plan
from precomputed_core.plugins import get_codec
from precomputed_core.testing import random_array


def _layout(channels=1, dtype="uint16"):
    grid = ChunkGrid("k", (3, -2, 0), (40, 30, 20), (16, 8, 8))
    return ScaleLayout(chunks=UnshardedChunkIO(None, grid), codec=get_codec("raw"), dtype=np.dtype(dtype),
                       num_channels=channels, scale={})  # fmt: skip


@settings(max_examples=150, deadline=None, database=None)
@given(
    lo=st.tuples(st.integers(3, 42), st.integers(-2, 27), st.integers(0, 19)),
    extent=st.tuples(st.integers(1, 30), st.integers(1, 30), st.integers(1, 20)),
    channels=st.sampled_from([1, 3]),
)
def test_pieces_reassemble_the_box_and_byte_ranges_decode_the_window(lo, extent, channels):
    layout = _layout(channels)
    box = Bbox(lo, [min(a + e, b) for a, e, b in zip(lo, extent, (43, 28, 20))])
    volume = random_array((40, 30, 20, channels), "uint16")
    origin = np.array(box.minpt)
    out = np.zeros((*box.size3().tolist(), channels), np.uint16)
    codec = layout.codec
    for piece in plan(layout, box, ranges=True):
        chunk_box = Bbox.from_filename(piece.chunk.name)
        assert (tuple(chunk_box.minpt.tolist()), tuple(chunk_box.maxpt.tolist())) == (
            piece.chunk.lo,
            piece.chunk.hi,
        )
        (x0, y0, z0), (x1, y1, z1) = chunk_box.minpt.tolist(), chunk_box.maxpt.tolist()
        chunk = volume[x0 - 3 : x1 - 3, y0 + 2 : y1 + 2, z0:z1]
        data = codec.encode(chunk, piece.spec)
        if piece.inner is None:
            out[piece.window] = codec.decode(data, piece.spec)
            assert piece.byte_range is None
        else:
            start, end = piece.byte_range
            lo4 = (*(s.start for s in piece.inner), 0)
            hi4 = (*(s.stop for s in piece.inner), channels)
            out[piece.window] = codec.decode_range(data[start:end], piece.spec, lo4, hi4)
            np.testing.assert_array_equal(out[piece.window], chunk[piece.inner])
    lo3 = origin - (3, -2, 0)
    hi3 = lo3 + box.size3()
    np.testing.assert_array_equal(out, volume[lo3[0] : hi3[0], lo3[1] : hi3[1], lo3[2] : hi3[2]])
