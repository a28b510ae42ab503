"""Plan a read or write once: which chunks, and which window of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..geometry import Bbox, Chunk
    from ..interfaces import ChunkSpec
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

    chunk: Chunk
    window: tuple[slice, slice, slice]
    inner: tuple[slice, slice, slice] | None
    spec: ChunkSpec
    byte_range: tuple[int, int] | None = None


def plan(layout: ScaleLayout, bbox: Bbox, *, ranges: bool = False) -> list[Piece]:
    """The pieces of ``bbox`` (voxels at the layout's scale); ``ranges`` asks codecs for byte ranges.

    Plain int arithmetic: for the few chunks of a cutout it is cheaper than numpy,
    so planning many small cutouts costs little next to reading them.
    """
    chunks = layout.grid.cover(bbox)
    (ox, oy, oz), (ex, ey, ez) = bbox.minpt[:3].tolist(), bbox.maxpt[:3].tolist()
    specs: dict[tuple[int, int, int], ChunkSpec] = {}
    pieces = []
    for chunk in chunks.chunks():
        (x0, y0, z0), (x1, y1, z1) = chunk.lo, chunk.hi
        size = (x1 - x0, y1 - y0, z1 - z0)
        spec = specs.get(size) or specs.setdefault(size, layout.spec_of(size))
        a, b, c = max(x0, ox), max(y0, oy), max(z0, oz)
        d, e, f = min(x1, ex), min(y1, ey), min(z1, ez)
        window = (slice(a - ox, d - ox), slice(b - oy, e - oy), slice(c - oz, f - oz))
        inner = None
        byte_range = None
        if (a, b, c, d, e, f) != (x0, y0, z0, x1, y1, z1):
            inner = (slice(a - x0, d - x0), slice(b - y0, e - y0), slice(c - z0, f - z0))
            if ranges:
                lo, hi = (a - x0, b - y0, c - z0, 0), (d - x0, e - y0, f - z0, spec.shape[3])
                byte_range = layout.codec.byte_range(spec, lo, hi)
        pieces.append(Piece(chunk, window, inner, spec, byte_range))
    return pieces
