"""Read a box: fetch the covering chunks and decode each into one preallocated array."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._executor import grouped
from .exceptions import CodecError, EmptyVolumeException

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from ._bbox import Bbox
    from ._chunks import ChunkSet
    from ._executor import TaskRunner
    from ._layout import ScaleLayout
    from ._volume import ReadOptions

__all__ = ["read_box"]


def _window(lo: Any, hi: Any, bbox: Bbox) -> tuple[Any, Any]:
    return np.maximum(lo, bbox.minpt[:3]), np.minimum(hi, bbox.maxpt[:3])


def _slices(lo: Any, hi: Any, origin: Any) -> tuple[slice, ...]:
    return tuple(slice(int(a), int(b)) for a, b in zip(lo - origin, hi - origin))


def _place(layout: ScaleLayout, data: bytes, index: int, chunks: ChunkSet, bbox: Bbox,
           out: npt.NDArray[Any]) -> None:  # fmt: skip
    lo, hi = chunks.lo[index], chunks.hi[index]
    win_lo, win_hi = _window(lo, hi, bbox)
    target = out[_slices(win_lo, win_hi, bbox.minpt[:3])]
    spec = layout.spec(lo, hi)
    try:
        if np.array_equal(win_lo, lo) and np.array_equal(win_hi, hi):
            layout.codec.decode(data, spec, out=target)
        else:
            target[...] = layout.codec.decode(data, spec)[_slices(win_lo, win_hi, lo)]
    except CodecError as err:
        layout.codec_failed(chunks.name(index), err)


def read_box(
    layout: ScaleLayout, bbox: Bbox, *, options: ReadOptions, runner: TaskRunner
) -> npt.NDArray[Any]:
    """The (x, y, z, c) Fortran-ordered voxels of ``bbox``; zeros outside the volume."""
    shape = (*(int(s) for s in bbox.size3()), layout.num_channels)
    out = np.zeros(shape, dtype=layout.dtype, order="F")
    chunks = layout.grid.cover(bbox)
    store = layout.store

    def task(indices: Iterator[int]) -> None:
        for group in grouped(indices, store.batch_size):
            found = store.get_many([chunks.name(index) for index in group])
            for index in group:
                data = found[chunks.name(index)]
                if data is None:
                    if options.fill_missing:
                        continue
                    raise EmptyVolumeException(
                        f"chunk {store.describe(chunks.name(index))} is missing; pass fill_missing=True "
                        "to read missing chunks as zeros"
                    )
                _place(layout, data, index, chunks, bbox, out)

    runner.run(task, len(chunks), progress=options.progress, desc="Downloading")
    return out
