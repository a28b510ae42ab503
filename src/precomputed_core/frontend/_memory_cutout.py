"""``vol.memory_cutout``: a disposable in-memory (``mem://``) copy of one region of a layer."""

from __future__ import annotations

import copy
import uuid
import weakref
from typing import TYPE_CHECKING, Any

from ..geometry import Bbox

if TYPE_CHECKING:
    from ..geometry import ChunkGrid
    from ..interfaces import Store
    from ._cloudvolume import CloudVolume

__all__ = ["memory_copy"]


def realized_box(box: Bbox, grid: ChunkGrid, bounds: Bbox) -> Bbox:
    """``box`` grown to whole chunks (clipped to the volume), so the copy's chunks are whole."""
    grown = box.expand_to_chunk_size(grid.chunk, offset=grid.offset)
    return Bbox.intersection(grown, bounds)


def copy_info(info: dict[str, Any], mip: int, encoding: str | None) -> dict[str, Any]:
    """The source's info for an unsharded copy, with ``encoding`` at ``mip`` if given."""
    info = copy.deepcopy(info)
    for scale in info["scales"]:
        scale.pop("sharding", None)
        scale.pop("locked", None)
    if encoding is not None:
        scale = info["scales"][mip]
        scale["encoding"] = encoding
        if encoding == "compressed_segmentation":
            scale.setdefault("compressed_segmentation_block_size", [8, 8, 8])
    return info


def _delete_everything(store: Store) -> None:
    store.delete_many(list(store.list("")))


def memory_copy(
    source: CloudVolume,
    box: Bbox,
    mip: int,
    *,
    encoding: str | None,
    compress: Any,
    compress_level: int | None,
) -> CloudVolume:
    """A new ``mem://`` layer holding ``box`` (grown to whole chunks) of ``source`` at ``mip``;
    its objects are deleted when the returned volume is garbage collected."""
    from ._cloudvolume import CloudVolume

    region = realized_box(box, source.meta.grid(mip), source.meta.bounds(mip))
    path = f"mem://precomputed-memory-cutout/{uuid.uuid4().hex}"
    info = copy_info(source.info, mip, encoding)
    target = CloudVolume(
        path, info=info, mip=mip, progress=False, compress=compress, compress_level=compress_level
    )
    target.commit_info()
    store = target._store()
    if store is not None:
        weakref.finalize(target, _delete_everything, store)
    target[region.to_slices()] = source.download(region, mip=mip)
    return target
