"""The destination of ``vol.transfer_to``: its info, made from the source's or checked against it."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InfoUnavailableError, InfoValidationError
from ..meta import sharding_for_scale

if TYPE_CHECKING:
    from ._cloudvolume import CloudVolume

__all__ = ["open_target"]

#: What a destination scale must share with the source for the chunks to land where they belong.
_GEOMETRY = ("key", "resolution", "size", "voxel_offset", "chunk_sizes")


def new_info(info: dict[str, Any], mip: int, encoding: str | None, sharded: bool | None) -> dict[str, Any]:
    """The source's info for a new destination: every scale and coordinate kept; at ``mip``
    the asked ``encoding`` and sharding (a write lock is not copied)."""
    info = copy.deepcopy(info)
    for scale in info["scales"]:
        scale.pop("locked", None)
    scale = info["scales"][mip]
    if encoding is not None and encoding != scale["encoding"]:
        scale["encoding"] = encoding
        if encoding == "compressed_segmentation":
            scale.setdefault("compressed_segmentation_block_size", [8, 8, 8])
        if "sharding" in scale:  # jpeg and png are compressed already; the others gain from gzip
            scale["sharding"]["data_encoding"] = "raw" if encoding in ("jpeg", "png") else "gzip"
    if sharded is True and "sharding" not in scale:
        itemsize = np.dtype(info["data_type"]).itemsize
        scale["sharding"] = sharding_for_scale(scale, itemsize, int(info["num_channels"])).to_json()
    elif sharded is False:
        scale.pop("sharding", None)
    return info


def _check_existing(target: CloudVolume, source: CloudVolume, mip: int, encoding: str | None,
                    sharded: bool | None) -> None:  # fmt: skip
    """An existing destination keeps its info (as cloud-volume's), if it can hold the scale."""
    where = f"{target.cloudpath}'s info"
    if len(target.info["scales"]) <= mip:
        raise InfoValidationError(
            f"{where} has no scale {mip} to transfer into; add it, or transfer elsewhere"
        )
    theirs, ours = target.info["scales"][mip], source.info["scales"][mip]
    for field in _GEOMETRY:
        if theirs.get(field) != ours.get(field):
            raise InfoValidationError(
                f"{where} has {field}={theirs.get(field)!r} at mip {mip}, the source {ours.get(field)!r}: "
                "the chunks would land in the wrong place; transfer to a new path"
            )
    for field in ("data_type", "num_channels"):
        if target.info[field] != source.info[field]:
            raise InfoValidationError(
                f"{where} has {field}={target.info[field]!r}, the source {source.info[field]!r}"
            )
    if encoding is not None and theirs["encoding"] != encoding:
        raise InfoValidationError(
            f"{where} stores mip {mip} as {theirs['encoding']!r}, not {encoding!r}: an existing destination "
            "keeps its info; leave encoding unset, or transfer to a new path"
        )
    if sharded is not None and ("sharding" in theirs) != sharded:
        stored = "sharded" if "sharding" in theirs else "unsharded"
        raise InfoValidationError(
            f"{where} stores mip {mip} {stored}, not as asked: an existing destination keeps its info; "
            "leave sharded unset, or transfer to a new path"
        )


def open_target(
    source: CloudVolume, cloudpath: str, mip: int, *, encoding: str | None, sharded: bool | None,
    compress: Any, options: dict[str, Any],
) -> CloudVolume:  # fmt: skip
    """The destination volume, created with the source's info (and provenance) if it has none."""
    from ._cloudvolume import CloudVolume

    try:
        target = CloudVolume(cloudpath, mip=mip, progress=False, compress=compress, **options)
    except InfoUnavailableError:
        info = new_info(source.info, mip, encoding, sharded)
        target = CloudVolume(cloudpath, mip=mip, info=info, progress=False, compress=compress, **options)
        target.commit_info()
        provenance = copy.deepcopy(dict(source.provenance))
        provenance.setdefault("processing", []).append({"method": "transfer_to", "source": source.cloudpath})
        target.provenance = provenance
        target.commit_provenance()
        return target
    _check_existing(target, source, mip, encoding, sharded)
    return target
