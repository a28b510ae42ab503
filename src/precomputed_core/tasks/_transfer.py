"""``vol.transfer_to``: copy a scale to another layer, as stored objects when nothing changes.

When the destination scale stores chunks as the source does (same encoding and
sharding), the objects are copied byte for byte through raw object access: a
compressed object is never decompressed and recompressed (unless another
``compress`` is asked for). Otherwise each block of the destination's work grid is
read, re-encoded and written, and only the source chunks that exist are written.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import TYPE_CHECKING, Any

from ..format import compress_bytes, decompress_bytes
from ..geometry import Bbox
from ..image import PrecomputedVolume
from ..interfaces import StoredObject
from ..parallel import open_recipe
from ._arrays import check_visible_to_workers, dask_modules, on_dask
from ._blocks import cell_blocks, grid_blocks
from ._running import run_calls

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..interfaces import ReadOptions, Store, Volume, WriteOptions
    from ..parallel import Recipe

__all__ = ["byte_copy_possible", "transfer"]

#: Keep the stored transfer compression of each object (cloud-volume's ``compress='auto'``).
AUTO = "auto"
#: Objects per byte-copy task when ``block_size`` is not given.
OBJECTS_PER_TASK = 64
#: Chunks the client looks at at once when it must list shard keys itself.
_LISTING_CHUNKS = 2**16
#: The most an object may expand to when its transfer compression is changed: a bound on
#: memory whatever the source holds (no chunk or shard of a sane layer comes near it).
TRANSCODE_LIMIT = 2**31


def _store(volume: Volume) -> Store:
    if not isinstance(volume, PrecomputedVolume):
        raise TypeError(
            f"{volume.url} is not a Precomputed layer in an object store; it cannot be transferred"
        )
    return volume.store


#: What a stored chunk's bytes mean besides the encoding: they must agree for a byte copy
#: (compressed_segmentation's block size is not stored in the chunk).
_DECODING = ("encoding", "sharding", "compressed_segmentation_block_size")


def byte_copy_possible(source: Volume, target: Volume, mip: int) -> bool:
    """Whether the scale's objects can be copied as they are: both Precomputed layers in object
    stores, with the same encoding, sharding and blocks."""
    if not (isinstance(source, PrecomputedVolume) and isinstance(target, PrecomputedVolume)):
        return False
    a, b = source.meta.scale(mip), target.meta.scale(mip)
    return all(a.get(field) == b.get(field) for field in _DECODING)


def copy_objects(source: Store, target: Store, keys: Sequence[str], compress: str | None) -> int:
    """Copy ``keys`` as stored (missing ones are skipped); ``compress`` other than ``"auto"``
    changes their transfer compression. Returns how many objects were copied."""
    found = source.get_stored_many(keys)
    copies: dict[str, StoredObject] = {}
    for key, stored in found.items():
        if stored is None:
            continue
        encoding = stored.metadata.content_encoding
        if compress in (AUTO, encoding):
            copies[key] = stored
            continue
        plain = decompress_bytes(stored.data, encoding, where=source.describe(key), limit=TRANSCODE_LIMIT)
        metadata = dataclasses.replace(stored.metadata, content_encoding=compress)
        copies[key] = StoredObject(compress_bytes(plain, compress), metadata)
    target.put_stored_many(copies)
    return len(copies)


#: Image encodings whose chunks are compressed already: a transfer compression gains nothing.
_COMPRESSED_ENCODINGS = ("jpeg", "png")


def stored_compression(source: Volume, target: Volume, mip: int, box: Bbox) -> str | None:
    """What ``compress='auto'`` means when chunks are re-encoded: the transfer compression the
    source's chunks are stored with (a sharded source's ``data_encoding``), sampled from the
    first stored one of 64 chunks spread over the box (a corner is often empty); gzip if none
    of them is stored; none for jpeg and png chunks, which are compressed already."""
    if target.meta.encoding(mip) in _COMPRESSED_ENCODINGS:
        return None
    if not isinstance(source, PrecomputedVolume):
        return "gzip"  # voxels from an array service: compress them, as cloud-volume does
    if source.meta.is_sharded(mip):
        data_encoding = source.meta.scale(mip)["sharding"].get("data_encoding", "raw")
        return "gzip" if data_encoding == "gzip" else None
    chunk_io = source.chunk_io(mip)  # type: ignore[attr-defined]
    lo, size = box.minpt, box.size3()
    probes: dict[str, Any] = {}
    for fractions in itertools.product((0.125, 0.375, 0.625, 0.875), repeat=3):
        point = [int(lo[a] + size[a] * f) for a, f in enumerate(fractions)]
        for chunk in chunk_io.grid.cover(Bbox(point, [p + 1 for p in point])).chunks():
            probes.setdefault(chunk.name, chunk)
    chunks = list(probes.values())
    present = chunk_io.exists_many(chunks)
    sample = [chunk.name for chunk in chunks if present[chunk.name]][:1]
    for stored in _store(source).get_stored_many(sample).values():
        if stored is not None:
            return stored.metadata.content_encoding
    return "gzip"


def copy_voxels(
    source: Volume, target: Volume, box: Bbox, mip: int, read: ReadOptions, write: WriteOptions
) -> int:
    """Re-encode the chunks of ``box`` that exist in the source; returns how many. A source
    that is not a Precomputed layer (an array service: the BOSS) has no chunks to look for:
    its box is copied unless it holds only zeros, which such a service reads where nothing
    was written."""
    if not isinstance(source, PrecomputedVolume):
        image = source.read(box, mip=mip, options=read)
        if not image.any():
            return 0
        target.write(box, image, mip=mip, options=write)
        return len(target.chunk_io(mip).grid.cover(box))  # type: ignore[attr-defined]
    chunks = source.chunk_io(mip).grid.cover(box).chunks()  # type: ignore[attr-defined]
    present = source.chunk_io(mip).exists_many(chunks)  # type: ignore[attr-defined]
    kept = [chunk for chunk in chunks if present[chunk.name]]
    if not kept:
        return 0
    boxes = [box] if len(kept) == len(chunks) else [Bbox(c.lo, c.hi) for c in kept]
    for part in boxes:
        image = source.read(part, mip=mip, options=read)
        target.write(part, image, mip=mip, options=write)
    return len(kept)


def copy_chunk_objects(source: Volume, target: Volume, box: Bbox, mip: int, compress: str | None) -> int:
    """Copy the objects that hold the chunks of ``box`` (voxels of ``mip``) as stored."""
    chunk_io = source.chunk_io(mip)  # type: ignore[attr-defined]
    keys = chunk_io.object_keys(chunk_io.grid.cover(box).chunks())
    return copy_objects(_store(source), _store(target), keys, compress)


def _copy_objects_task(
    source: Recipe, target: Recipe, mip: int, keys: list[str], compress: str | None
) -> int:
    return copy_objects(_store(open_recipe(source)), _store(open_recipe(target)), keys, compress)


def _copy_chunk_objects_task(
    source: Recipe, target: Recipe, mip: int, box: list[int], compress: str | None
) -> int:
    return copy_chunk_objects(open_recipe(source), open_recipe(target), Bbox(box[:3], box[3:]), mip, compress)


def _copy_voxels_task(
    source: Recipe, target: Recipe, mip: int, box: list[int], read: ReadOptions, write: WriteOptions
) -> int:
    return copy_voxels(open_recipe(source), open_recipe(target), Bbox(box[:3], box[3:]), mip, read, write)


def _blocks(target: Volume, box: Bbox, mip: int) -> list[Bbox]:
    """``box`` cut on the target's work grid (chunks, or shards), in blocks of about 64 MiB."""
    grid = target.work_grid(mip)
    assert grid is not None  # a PrecomputedVolume always has one
    return grid_blocks(box, grid, target.meta.num_channels, target.meta.dtype.itemsize)


def _byte_copy(
    source: Volume,
    source_recipe: Recipe,
    target: Volume,
    target_recipe: Recipe,
    mip: int,
    box: Bbox,
    *,
    compress: str | None,
    block_size: int | None,
    scheduler: Any,
    threads: int,
    progress: bool,
) -> int:
    """Copy the objects of ``box``'s chunks as stored. Each task is given a box of whole
    objects (``block_size`` chunks, or one shard) and finds their keys itself, so the
    parent never lists the keys of a whole scale; only a hashed sharding, whose shards
    each gather chunks from all over the scale, is listed here, shard by shard."""
    chunk_io = source.chunk_io(mip)  # type: ignore[attr-defined]
    src, dst = _store(source), _store(target)
    run = functools.partial(run_calls, scheduler=scheduler, threads=threads, progress=progress,
                            desc="Transferring")  # fmt: skip
    if source.meta.is_sharded(mip):
        # A shard file's chunks carry the spec's data_encoding: the file is copied as it is,
        # one per task (shards are large), whatever compress says.
        compress = AUTO
        if chunk_io.work_grid == chunk_io.grid:  # no box of chunks makes up a shard (hashed ids)
            # Listed here, a slab of chunks at a time: only the shard keys are kept.
            found: dict[str, None] = {}
            for slab in cell_blocks(box, chunk_io.grid, _LISTING_CHUNKS):
                found.update(dict.fromkeys(chunk_io.object_keys(chunk_io.grid.cover(slab).chunks())))
            keys = list(found)
            size = block_size or 1
            batches = [keys[i : i + size] for i in range(0, len(keys), size)]
            calls: list[tuple[Callable[..., int], tuple[Any, ...]]] = [
                (_copy_objects_task, (source_recipe, target_recipe, mip, b, compress)) for b in batches
            ]
            return run(calls, lambda args: copy_objects(src, dst, args[3], args[4]))
        blocks = cell_blocks(box, chunk_io.work_grid, block_size or 1)
    else:
        blocks = cell_blocks(box, chunk_io.grid, block_size or OBJECTS_PER_TASK)
    calls = [
        (_copy_chunk_objects_task, (source_recipe, target_recipe, mip, b.to_list(), compress)) for b in blocks
    ]

    def local(args: tuple[Any, ...]) -> int:
        return copy_chunk_objects(source, target, Bbox(args[3][:3], args[3][3:]), mip, args[4])

    return run(calls, local)


def transfer(
    source: Volume,
    source_recipe: Recipe,
    target: Volume,
    target_recipe: Recipe,
    mip: int,
    box: Bbox,
    *,
    compress: str | None,
    block_size: int | None,
    read: ReadOptions,
    write: WriteOptions,
    scheduler: Any = None,
    threads: int = 8,
    progress: bool = False,
) -> int:
    """Copy the chunks of ``box`` (voxels of ``mip``) from ``source`` to ``target``, whose
    infos already describe the scale; returns how many objects (or re-encoded chunks)
    were written."""
    if on_dask(scheduler):
        dask, _ = dask_modules()
        check_visible_to_workers(source, dask, scheduler)
        check_visible_to_workers(target, dask, scheduler)
    # The checks a write makes: a read-only store, a write-locked mip.
    _store(target).require_writes("transfer chunks")
    target.meta.check_unlocked(mip, "transfer chunks")
    if byte_copy_possible(source, target, mip):
        return _byte_copy(source, source_recipe, target, target_recipe, mip, box, compress=compress,
                          block_size=block_size, scheduler=scheduler, threads=threads,
                          progress=progress)  # fmt: skip
    block_write = dataclasses.replace(write, progress=False, non_aligned_writes=True, overwrite_partial=False)
    if compress == AUTO:
        block_write = dataclasses.replace(block_write, compress=stored_compression(source, target, mip, box))
    block_read = dataclasses.replace(read, progress=False, fill_missing=True)
    blocks = _blocks(target, box, mip)
    calls = [
        (_copy_voxels_task, (source_recipe, target_recipe, mip, b.to_list(), block_read, block_write))
        for b in blocks
    ]

    def local(args: tuple[Any, ...]) -> int:
        return copy_voxels(source, target, Bbox(args[3][:3], args[3][3:]), mip, args[4], args[5])

    return run_calls(
        calls, local, scheduler=scheduler, threads=threads, progress=progress, desc="Transferring"
    )
