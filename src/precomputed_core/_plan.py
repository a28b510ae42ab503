"""Plan a read or write once, vectorised: which chunks, and which window of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._bbox import Bbox
    from ._codec import ChunkSpec
    from ._layout import ScaleLayout

__all__ = ["Piece", "plan"]


@dataclass(frozen=True, slots=True)
class Piece:
    """One chunk's share of a request.

    ``window`` indexes the request's (x, y, z) array; ``inner`` indexes the chunk,
    or is None when the request covers the whole chunk (decode straight into the
    window). ``byte_range`` is the part of the stored chunk that holds ``inner``,
    when the codec can decode from just that part.
    """

    key: str
    window: tuple[slice, slice, slice]
    inner: tuple[slice, slice, slice] | None
    spec: ChunkSpec
    byte_range: tuple[int, int] | None = None


def _slices(lo: list[int], hi: list[int]) -> tuple[slice, slice, slice]:
    return slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(lo[2], hi[2])


def plan(layout: ScaleLayout, bbox: Bbox, *, ranges: bool = False) -> list[Piece]:
    """The pieces of ``bbox`` (voxels at the layout's scale); ``ranges`` asks codecs for byte ranges.

    All arithmetic is done on arrays at once and turned into Python ints once, so
    planning many small cutouts costs little next to reading them.
    """
    chunks = layout.grid.cover(bbox)
    if len(chunks) == 0:
        return []
    origin, end = np.asarray(bbox.minpt[:3]), np.asarray(bbox.maxpt[:3])
    lo, hi = chunks.lo, chunks.hi
    win_lo, win_hi = np.maximum(lo, origin), np.minimum(hi, end)
    whole = np.all((win_lo == lo) & (win_hi == hi), axis=1).tolist()
    rows = zip(
        lo.tolist(), hi.tolist(), (win_lo - origin).tolist(), (win_hi - origin).tolist(),
        (win_lo - lo).tolist(), (win_hi - lo).tolist(), whole,
    )  # fmt: skip
    specs: dict[tuple[int, ...], ChunkSpec] = {}
    pieces = []
    for c_lo, c_hi, w_lo, w_hi, i_lo, i_hi, is_whole in rows:
        size = (c_hi[0] - c_lo[0], c_hi[1] - c_lo[1], c_hi[2] - c_lo[2])
        spec = specs.get(size) or specs.setdefault(size, layout.spec_of(size))
        key = f"{chunks.key}/{c_lo[0]}-{c_hi[0]}_{c_lo[1]}-{c_hi[1]}_{c_lo[2]}-{c_hi[2]}"
        inner = None if is_whole else _slices(i_lo, i_hi)
        byte_range = None
        if ranges and inner is not None:
            byte_range = layout.codec.byte_range(spec, (*i_lo, 0), (*i_hi, spec.shape[3]))
        pieces.append(Piece(key, _slices(w_lo, w_hi), inner, spec, byte_range))
    return pieces
