"""Write a box: encode each covered chunk; patch edge chunks when allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._bbox import Bbox
from ._compression import compress_bytes
from ._executor import grouped
from ._store import ObjectMetadata
from .exceptions import AlignmentError, CodecError, EmptyVolumeException

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from ._chunks import ChunkGrid
    from ._executor import TaskRunner
    from ._layout import ScaleLayout
    from ._volume import WriteOptions

__all__ = ["check_alignment", "write_box"]


def _slices(lo: Any, hi: Any, origin: Any) -> tuple[slice, ...]:
    return tuple(slice(int(a), int(b)) for a, b in zip(lo - origin, hi - origin))


def check_alignment(grid: ChunkGrid, bbox: Bbox, *, mip: int, allowed: bool, action: str) -> None:
    """Refuse a box that does not cover whole chunks unless ``allowed``."""
    if allowed or grid.is_aligned(bbox):
        return
    aligned = grid.aligned(bbox)
    hint = " or non_aligned_writes=True" if action == "write" else ""
    raise AlignmentError(
        f"{action} box {Bbox(bbox.minpt[:3], bbox.maxpt[:3])} is not chunk-aligned at mip {mip} "
        f"(chunk size {list(grid.chunk)}, offset {list(grid.offset)}); "
        f"use {aligned}{hint}"
    )


def _patched(layout: ScaleLayout, key: str, lo: Any, hi: Any, *, fill_missing: bool) -> npt.NDArray[Any]:
    """The stored chunk as a writable array (zeros if it is missing and ``fill_missing``)."""
    spec = layout.spec(lo, hi)
    data = layout.store.get(key)
    if data is None:
        if not fill_missing:
            raise EmptyVolumeException(
                f"a non-aligned write must patch chunk {layout.store.describe(key)}, which is missing; "
                "pass fill_missing=True to start missing chunks from zeros"
            )
        return np.zeros(spec.shape, dtype=layout.dtype, order="F")
    try:
        return np.array(layout.codec.decode(data, spec), dtype=layout.dtype, order="F")
    except CodecError as err:
        layout.codec_failed(key, err)


def write_box(
    layout: ScaleLayout,
    bbox: Bbox,
    array: npt.NDArray[Any],
    *,
    options: WriteOptions,
    runner: TaskRunner,
) -> None:
    """Store ``array`` (x, y, z, c of the layer's dtype) at ``bbox``, chunk by chunk."""
    chunks = layout.grid.cover(bbox)
    origin = np.asarray(bbox.minpt[:3])
    box_hi = np.asarray(bbox.maxpt[:3])
    metadata = ObjectMetadata(
        content_type=layout.codec.content_type,
        content_encoding=options.compress,
        cache_control=options.cache_control,
    )

    def encode(index: int) -> bytes:
        key, lo, hi = chunks.name(index), chunks.lo[index], chunks.hi[index]
        win_lo, win_hi = np.maximum(lo, origin), np.minimum(hi, box_hi)
        piece = array[_slices(win_lo, win_hi, origin)]
        if not (np.array_equal(win_lo, lo) and np.array_equal(win_hi, hi)):
            chunk = _patched(layout, key, lo, hi, fill_missing=options.fill_missing)
            chunk[_slices(win_lo, win_hi, lo)] = piece
            piece = chunk
        try:
            return compress_bytes(layout.codec.encode(piece, layout.spec(lo, hi)), options.compress)
        except CodecError as err:
            layout.codec_failed(key, err)

    def task(indices: Iterator[int]) -> None:
        for group in grouped(indices, layout.store.batch_size):
            layout.store.put_many({chunks.name(i): encode(i) for i in group}, metadata=metadata)

    runner.run(task, len(chunks), progress=options.progress, desc="Uploading")
