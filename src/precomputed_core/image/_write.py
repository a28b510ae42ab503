"""Write a box: encode each covered chunk; patch edge chunks when allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import AlignmentError, CodecError, EmptyVolumeException
from ..format import ChunkEdit, compress_bytes
from ..geometry import Bbox
from ..interfaces import ObjectMetadata
from ._executor import run_batches
from ._plan import plan
from ._transpose import fortran_chunk

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..geometry import ChunkGrid
    from ..interfaces import WriteOptions
    from ._executor import TaskRunner
    from ._layout import ScaleLayout
    from ._plan import Piece

__all__ = ["check_alignment", "write_box"]


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


def _decoded(
    layout: ScaleLayout, piece: Piece, data: bytes | None, options: WriteOptions
) -> npt.NDArray[Any]:
    """A stored chunk as a writable array (background if it is missing and ``fill_missing``)."""
    if data is None:
        if not options.fill_missing:
            raise EmptyVolumeException(
                f"a non-aligned write must patch chunk {layout.chunks.describe(piece.chunk)}, which is "
                "missing; pass fill_missing=True to start missing chunks from zeros (or background_color)"
            )
        return np.full(piece.spec.shape, options.background, dtype=layout.dtype, order="F")
    try:
        return np.array(layout.codec.decode(data, piece.spec), dtype=layout.dtype, order="F")
    except CodecError as err:
        layout.codec_failed(piece.chunk, err)


def _removed(current: bytes | None) -> None:
    """The edit of a chunk that holds only background with ``delete_black``: remove it."""


def write_box(
    layout: ScaleLayout,
    bbox: Bbox,
    array: npt.NDArray[Any],
    *,
    options: WriteOptions,
    runner: TaskRunner,
) -> None:
    """Store ``array`` (x, y, z, c of the layer's dtype) at ``bbox``, chunk by chunk.

    Whole chunks are written as they are, with no lock. A chunk the box covers only
    in part is read, patched and written back as one edit of the chunk I/O, which
    loses no concurrent writer's voxels (per-object locks, file locks or conditional
    writes, as the store provides).
    """
    pieces = plan(layout, bbox)
    compress = layout.chunks.compression(options.compress)
    metadata = ObjectMetadata(
        content_type=layout.codec.content_type,
        content_encoding=compress,
        cache_control=options.cache_control,
    )

    def encode(piece: Piece, voxels: npt.NDArray[Any]) -> bytes:
        try:
            return compress_bytes(
                layout.codec.encode(voxels, piece.spec), compress, level=options.compress_level
            )
        except CodecError as err:
            layout.codec_failed(piece.chunk, err)

    def black(voxels: npt.NDArray[Any]) -> bool:
        return options.delete_black and not np.any(voxels != options.background)

    def edit(piece: Piece) -> ChunkEdit:
        assert piece.inner is not None
        inner = piece.inner

        def update(current: bytes | None) -> bytes | None:
            chunk = _decoded(layout, piece, current, options)
            chunk[inner] = fortran_chunk(array[piece.window])
            return None if black(chunk) else encode(piece, chunk)

        return ChunkEdit(piece.chunk, update, layout.codec.max_encoded_size(piece.spec))

    def shell(piece: Piece) -> npt.NDArray[Any]:
        """``overwrite_partial``: a partly covered chunk as background around the new voxels."""
        assert piece.inner is not None
        chunk = np.full(piece.spec.shape, options.background, dtype=layout.dtype, order="F")
        chunk[piece.inner] = fortran_chunk(array[piece.window])
        return chunk

    def store(batch: list[Piece]) -> None:
        whole, edits = [], []
        for p in batch:
            if p.inner is not None and not options.overwrite_partial:
                edits.append(edit(p))
                continue
            voxels = fortran_chunk(array[p.window]) if p.inner is None else shell(p)
            if black(voxels):
                edits.append(ChunkEdit(p.chunk, _removed))
            else:
                whole.append((p.chunk, encode(p, voxels)))
        layout.chunks.store_many(whole, edits, metadata=metadata)

    moved = sum(p.spec.nbytes for p in pieces)
    run_batches(layout, pieces, store, runner, writing=True, progress=options.progress, nbytes=moved)
