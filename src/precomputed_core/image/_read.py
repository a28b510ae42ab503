"""Read a box: fetch the covering chunks and decode each into one preallocated array."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import CodecError, EmptyVolumeException, GeometryError
from ..format import ChunkPart
from ..plugins import get_codec
from ._buffers import zeros
from ._executor import run_batches
from ._memory import require_memory_for
from ._plan import plan

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..geometry import Bbox
    from ..interfaces import ReadOptions
    from ._executor import TaskRunner
    from ._layout import ScaleLayout
    from ._lru import ChunkLRU
    from ._plan import Piece

__all__ = ["read_box"]


def _fetch(layout: ScaleLayout, pieces: list[Piece]) -> list[tuple[bytes | None, bool]]:
    """Each piece's bytes, and whether they are only its byte range.

    Plain loops: with a store's ``batch_size`` of 1 this runs once per chunk of a cutout.
    """
    chunks = layout.chunks
    found: list[tuple[bytes | None, bool] | None] = [None] * len(pieces)
    ranged, parts = [], []
    for i, piece in enumerate(pieces):
        if piece.byte_range is not None:
            ranged.append(i)
            parts.append(ChunkPart(piece.chunk, *piece.byte_range, piece.spec.nbytes))
    if parts:
        for i, data in zip(ranged, chunks.read_parts(parts)):
            if data is not None:
                found[i] = (data, True)
    rest = [i for i, f in enumerate(found) if f is None]
    if rest:
        limits = [layout.codec.max_encoded_size(pieces[i].spec) for i in rest]
        for i, data in zip(rest, chunks.read_many([pieces[i].chunk for i in rest], limits=limits)):
            found[i] = (data, False)
    return found  # type: ignore[return-value]  # every slot is filled by now


def _place(layout: ScaleLayout, piece: Piece, data: bytes, partial: bool, out: npt.NDArray[Any]) -> None:
    codec, target = layout.codec, out[piece.window]
    try:
        if partial:
            assert piece.inner is not None
            lo = (*(s.start for s in piece.inner), 0)
            hi = (*(s.stop for s in piece.inner), piece.spec.shape[3])
            target[...] = codec.decode_range(data, piece.spec, lo, hi)
        elif piece.inner is None:
            codec.decode(data, piece.spec, out=target)
        else:
            target[...] = codec.decode(data, piece.spec)[piece.inner]
    except CodecError as err:
        layout.codec_failed(piece.chunk, err)


def _from_lru(layout: ScaleLayout, lru: ChunkLRU, piece: Piece, out: npt.NDArray[Any]) -> bool:
    """Place ``piece`` from the LRU if it holds the chunk; whether it did."""
    kept = lru.get(piece.chunk.name)
    if kept is None:
        return False
    form, value = kept
    if isinstance(value, bytes) and form == "same":
        _place(layout, piece, value, False, out)
        return True
    if isinstance(value, bytes):
        value = get_codec(form).decode(value, lru.spec_for(piece.spec))
    out[piece.window] = value if piece.inner is None else value[piece.inner]
    return True


def _place_kept(layout: ScaleLayout, lru: ChunkLRU, piece: Piece, data: bytes, out: npt.NDArray[Any]) -> None:
    """Decode a whole chunk, keep it in the LRU's form (voxels, or re-encoded) and place it."""
    try:
        voxels = layout.codec.decode(data, piece.spec)
    except CodecError as err:
        layout.codec_failed(piece.chunk, err)
    form, codec = lru.encoding, lru.codec
    kept = voxels if codec is None else codec.encode(voxels, lru.spec_for(piece.spec))
    lru.put(piece.chunk.name, kept, form)
    out[piece.window] = voxels if piece.inner is None else voxels[piece.inner]


def read_box(
    layout: ScaleLayout,
    bbox: Bbox,
    *,
    options: ReadOptions,
    runner: TaskRunner,
    out: npt.NDArray[Any] | None = None,
    zeroed: bool = False,
    lru: ChunkLRU | None = None,
) -> npt.NDArray[Any]:
    """The (x, y, z, c) Fortran-ordered voxels of ``bbox``; ``options.background`` (zeros)
    outside the volume and, with ``fill_missing``, where chunks are missing.

    With ``out`` they are written there (``zeroed``: it already holds only zeros).
    """
    shape = (*(int(s) for s in bbox.size3()), layout.num_channels)
    if out is None:
        require_memory_for(shape, layout.dtype)
        out = zeros(shape, layout.dtype)
        zeroed = True
    elif tuple(out.shape) != shape:
        raise GeometryError(f"out has shape {tuple(out.shape)}, the box needs {shape}")
    if options.background or not zeroed:
        out[...] = options.background
    # With an LRU, whole chunks are read, so what it keeps serves the next cutout too.
    pieces = plan(layout, bbox, ranges=layout.chunks.supports_partial_reads and lru is None)

    def load(batch: list[Piece]) -> None:
        if lru is not None:
            batch = [piece for piece in batch if not _from_lru(layout, lru, piece, out)]
        for piece, (data, partial) in zip(batch, _fetch(layout, batch)):
            if data is None:
                if options.fill_missing:
                    continue
                raise EmptyVolumeException(
                    f"chunk {layout.chunks.describe(piece.chunk)} is missing; pass fill_missing=True "
                    "to read missing chunks as zeros (or background_color)"
                )
            if lru is not None and lru.encoding != "same":
                _place_kept(layout, lru, piece, data, out)
                continue
            if lru is not None:
                lru.put(piece.chunk.name, data, "same")
            _place(layout, piece, data, partial, out)

    run_batches(layout, pieces, load, runner, writing=False, progress=options.progress, nbytes=out.nbytes)
    return out
