"""Stored files and memory-mapped files: ``download_files``, ``download_to_file``, ``upload_from_file``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..exceptions import AlignmentError, FeatureUnavailableError
from ..format import ShardedChunkIO, opened_bytes
from ..geometry import Bbox
from ..image import PrecomputedVolume

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._access import VoxelAccess
    from ._cutout import VolumeCutout
    from ._options import Settings

__all__ = ["download_files", "download_to_file", "upload_from_file"]


def _precomputed(voxels: VoxelAccess, action: str) -> PrecomputedVolume:
    volume = voxels.volume
    if not isinstance(volume, PrecomputedVolume):
        raise FeatureUnavailableError(
            f"{action}: {volume.url} is served by an array service, which has no chunk files"
        )
    return volume


def _masked(volume: PrecomputedVolume, mip: int, chunk: Any, data: bytes, segids: set[int]) -> bytes:
    """A chunk's encoded bytes with every label outside ``segids`` set to 0."""
    layout = volume.layout(mip)
    spec = layout.spec(chunk.lo, chunk.hi)
    voxels = np.array(layout.codec.decode(data, spec), order="F")
    voxels[~np.isin(voxels, list(segids))] = 0
    return layout.codec.encode(voxels, spec)


def download_files(
    voxels: VoxelAccess,
    box: Bbox,
    mip: int,
    *,
    decompress: bool,
    segids: Iterable[int] | None,
    cache_only: bool,
) -> dict[Any, bytes | None]:
    """The stored chunks covering ``box``: ``{key: bytes or None if missing}``.

    Keys are the chunk files' keys (``4_4_40/0-64_0-64_0-64``), or in a sharded scale the
    chunks' Morton codes, as in cloud-volume. ``decompress`` removes transfer compression
    (gzip); the chunks stay in their encoding. ``segids`` keeps only those labels.
    """
    volume = _precomputed(voxels, "download_files")
    chunks_io = volume.chunk_io(mip)
    chunks = chunks_io.grid.cover(box).chunks()
    if isinstance(chunks_io, ShardedChunkIO):
        if not decompress:
            raise FeatureUnavailableError(
                "download_files(decompress=False) of a sharded scale: its chunks are items of shard "
                "files, stored in the shard's data_encoding; use decompress=True"
            )
        keys: list[Any] = chunks_io.chunk_ids(chunks)
        found: list[bytes | None] = chunks_io.read_many(chunks)
    else:
        keys = [chunk.name for chunk in chunks]
        store = volume.store
        stored = store.get_stored_many(keys)
        found = [
            None if (s := stored[k]) is None
            else opened_bytes(store, s, store.describe(k)) if decompress else s.data
            for k in keys
        ]  # fmt: skip
    if cache_only:
        return {}
    if segids is not None:
        wanted = {int(s) for s in segids}
        found = [None if d is None else _masked(volume, mip, c, d, wanted) for c, d in zip(chunks, found)]
    return dict(zip(keys, found))


def download_to_file(
    voxels: VoxelAccess, path: str | os.PathLike[str], slices: Any, settings: Settings
) -> VolumeCutout:
    """Read ``slices`` into a memory-mapped file at ``path`` (replaced) and return the array on it."""
    mip = settings.mip
    if isinstance(slices, Bbox):
        slices = voxels.voxel_box(slices, mip).to_slices()
    reified = voxels.meta.context(mip).reify_slices(slices, bounded=settings.bounded, autocrop=settings.crop)
    box = Bbox([s.start for s in reified[:3]], [max(s.start, s.stop) for s in reified[:3]])
    shape = (*(int(s) for s in box.size3()), voxels.meta.num_channels)
    target = os.path.abspath(os.fspath(path))
    out = np.memmap(target, dtype=voxels.meta.dtype, mode="w+", shape=shape, order="F")
    voxels.volume.read(box, mip=mip, options=settings.read_options(), out=out, zeroed=True)
    out.flush()
    sx, sy, sz, sc = (s.step for s in reified)
    image = out[::sx, ::sy, ::sz, reified[3].start : reified[3].stop : sc]
    return voxels.cutout(image, box, mip)


def upload_from_file(
    voxels: VoxelAccess,
    location: str | os.PathLike[str],
    bbox: Any,
    order: str,
    cutout_bbox: Any,
    settings: Settings,
) -> None:
    """Write the (x, y, z, c) array of the layer's dtype held in the file ``location`` (which
    covers ``bbox``), or only its part ``cutout_bbox`` (volume coordinates)."""
    mip = settings.mip
    box = voxels.box(bbox, mip, bounded=False, crop=False)
    cut = box if cutout_bbox is None else voxels.box(cutout_bbox, mip, bounded=False, crop=False)
    if not box.contains_bbox(cut):
        raise AlignmentError(
            f"cutout_bbox {cut} is not inside the array's box {box}; give a cutout_bbox within it"
        )
    shape = (*(int(s) for s in box.size3()), voxels.meta.num_channels)
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    layout: Literal["C", "F"] = "F" if order == "F" else "C"
    source = np.memmap(os.fspath(location), dtype=voxels.meta.dtype, mode="r", shape=shape, order=layout)
    lo, hi = (cut.minpt - box.minpt).tolist(), (cut.maxpt - box.minpt).tolist()
    part = source[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    voxels.write_slices(cut.to_slices(), part, settings)
