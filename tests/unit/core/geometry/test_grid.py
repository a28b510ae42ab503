from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from precomputed_core import Bbox, ChunkGrid

small = st.integers(1, 40)


@settings(max_examples=200, deadline=None, database=None)
@given(
    offset=st.tuples(*[st.integers(-50, 50)] * 3),
    size=st.tuples(small, small, small),
    chunk=st.tuples(*[st.integers(1, 16)] * 3),
    lo=st.tuples(*[st.integers(-80, 100)] * 3),
    extent=st.tuples(*[st.integers(0, 60)] * 3),
)
def test_cover_matches_brute_force(offset, size, chunk, lo, extent):
    grid = ChunkGrid("k", offset, size, chunk)
    box = Bbox(lo, [a + b for a, b in zip(lo, extent)])
    got = grid.cover(box)
    expected = []
    counts = [-(-s // c) for s, c in zip(size, chunk)]
    for gz, gy, gx in itertools.product(*(range(n) for n in reversed(counts))):
        g = (gx, gy, gz)
        c_lo = [o + i * c for o, i, c in zip(offset, g, chunk)]
        c_hi = [min(a + c, o + s) for a, c, o, s in zip(c_lo, chunk, offset, size)]
        if all(max(a, b) < min(c, d) for a, b, c, d in zip(c_lo, lo, c_hi, box.maxpt.tolist())):
            expected.append((tuple(c_lo), tuple(c_hi)))
    assert list(zip(got.lo, got.hi)) == expected
    assert len(set(got.names())) == len(expected)


def test_names_and_alignment():
    grid = ChunkGrid("4_4_40", (10, 0, 0), (100, 64, 64), (64, 64, 64))
    assert grid.cover(Bbox((0, 0, 0), (200, 1, 1))).names() == [
        "4_4_40/10-74_0-64_0-64",
        "4_4_40/74-110_0-64_0-64",
    ]
    assert grid.aligned(Bbox((20, 5, 5), (80, 6, 6))) == Bbox((10, 0, 0), (110, 64, 64))
    assert grid.is_aligned(Bbox((74, 0, 0), (110, 64, 64)))
    assert not grid.is_aligned(Bbox((74, 0, 0), (100, 64, 64)))


def test_from_meta_is_the_layers_grid():
    from precomputed_core import CloudVolume, LayerMeta

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [5, 0, 0], [100, 64, 64],
                                       chunk_size=(32, 32, 16))  # fmt: skip
    meta = LayerMeta(info)
    assert (
        ChunkGrid.from_meta(meta, 0)
        == meta.grid(0)
        == ChunkGrid("4_4_40", (5, 0, 0), (100, 64, 64), (32, 32, 16))
    )
