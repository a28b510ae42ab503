"""The ``info`` document: create, validate and add scales, as the Precomputed spec says."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..exceptions import InfoValidationError, UnsupportedDataTypeError
from ._sharding import DEFAULT_SHARD_BYTES, ShardingSpec, chunk_id_bits, sharding_for_scale

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "LAYER_TYPES",
    "SPEC_DATA_TYPES",
    "add_scale",
    "check_data_type",
    "create_info",
    "scale_key",
    "validate_info",
    "validate_layer",
]

#: Data types Neuroglancer and tensorstore read (tensorstore's neuroglancer_precomputed driver).
SPEC_DATA_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "float32")
LAYER_TYPES = ("image", "segmentation")
_MULTISCALE_TYPE = "neuroglancer_multiscale_volume"
_LEVEL_KEYS = {"jpeg": "jpeg_quality", "png": "png_level"}


def check_data_type(data_type: npt.DTypeLike) -> str:
    """The spec name of ``data_type``; refuse types Neuroglancer cannot read."""
    try:
        name = str(np.dtype(data_type.lower() if isinstance(data_type, str) else data_type).name)
    except TypeError as err:
        raise UnsupportedDataTypeError(
            f"{data_type!r} is not a data type; use one of {', '.join(SPEC_DATA_TYPES)}"
        ) from err
    if name not in SPEC_DATA_TYPES:
        raise UnsupportedDataTypeError(
            f"data type {name!r} is not allowed by the Precomputed format: Neuroglancer and "
            f"tensorstore cannot read it. Use one of {', '.join(SPEC_DATA_TYPES)} "
            "(e.g. float32 for float64, int32 or uint64 for int64, uint8 for bool)"
        )
    return name


def _precision(value: Any) -> int:
    # cloud-volume decides int-vs-float keys by the printed decimals; copy it so keys match.
    text = str(value)
    return len(text.split(".")[1]) if "." in text else 0


def _resolution_values(resolution: Sequence[Any]) -> list[Any]:
    as_float = max(_precision(r) for r in resolution) > 0
    return [float(r) if as_float else int(r) for r in resolution]


def scale_key(resolution: Sequence[Any]) -> str:
    """cloud-volume's scale key for a resolution: ``[4, 4, 40] -> '4_4_40'``."""
    return "_".join(str(r) for r in _resolution_values(resolution))


_LARGEST = 2**53  # beyond this, coordinates lose precision in JSON readers


def _triple(name: str, value: Any, *, positive: bool, integer: bool = True, exact: bool = False) -> list[Any]:
    """Three numbers (x, y, z); ``exact`` (stored infos) refuses 64.0 where an integer belongs."""
    try:
        values = list(np.asarray(value).tolist()) if np.ndim(value) == 1 else []
    except Exception as err:
        raise InfoValidationError(f"{name} must be 3 numbers (x, y, z), got {value!r}") from err
    ok = len(values) == 3 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    ok = ok and all(abs(v) < _LARGEST for v in values)
    if ok and integer:
        ok = all(isinstance(v, int) if exact else float(v).is_integer() for v in values)
    if ok and positive:
        ok = all(v > 0 for v in values)
    if not ok:
        kind = ("positive " if positive else "") + ("integers" if integer else "numbers")
        raise InfoValidationError(f"{name} must be 3 {kind} (x, y, z), got {value!r}")
    return [int(v) for v in values] if integer else values


def _validate_scale(index: int, scale: Any, keys: set[str]) -> None:
    """The fields every layer's scale has, whatever serves it."""
    where = f"info['scales'][{index}]"
    if not isinstance(scale, dict):
        raise InfoValidationError(f"{where} must be an object, got {type(scale).__name__}")
    for field in ("key", "size", "resolution"):
        if field not in scale:
            raise InfoValidationError(f"{where} lacks the required field {field!r}")
    key = scale["key"]
    if not isinstance(key, str) or not key:
        raise InfoValidationError(f"{where}['key'] must be a non-empty string, got {key!r}")
    if key in keys:
        raise InfoValidationError(f"{where}['key'] {key!r} is used by two scales; keys must differ")
    keys.add(key)
    _triple(f"{where}['size']", scale["size"], positive=True, exact=True)
    _triple(f"{where}['resolution']", scale["resolution"], positive=True, integer=False)
    _triple(f"{where}['voxel_offset']", scale.get("voxel_offset", [0, 0, 0]), positive=False, exact=True)


def _validate_storage(index: int, scale: dict[str, Any]) -> None:
    """The fields that say how a Precomputed scale is stored: chunks, encoding, sharding."""
    where = f"info['scales'][{index}]"
    for field in ("chunk_sizes", "encoding"):
        if field not in scale:
            raise InfoValidationError(f"{where} lacks the required field {field!r}")
    chunk_sizes = scale["chunk_sizes"]
    if not isinstance(chunk_sizes, list) or not chunk_sizes:
        raise InfoValidationError(f"{where}['chunk_sizes'] must be a list like [[64, 64, 64]]")
    for i, size in enumerate(chunk_sizes):
        _triple(f"{where}['chunk_sizes'][{i}]", size, positive=True, exact=True)
    encoding = scale["encoding"]
    if not isinstance(encoding, str) or not encoding:
        raise InfoValidationError(f"{where}['encoding'] must be a string such as 'raw'")
    has_block = "compressed_segmentation_block_size" in scale
    if encoding.lower() == "compressed_segmentation":
        if not has_block:
            raise InfoValidationError(
                f"{where} uses compressed_segmentation but lacks "
                "'compressed_segmentation_block_size' (e.g. [8, 8, 8])"
            )
        _triple(f"{where}['compressed_segmentation_block_size']",
                scale["compressed_segmentation_block_size"], positive=True, exact=True)  # fmt: skip
    if scale.get("sharding") is not None:  # null, as some writers put it, means unsharded
        _validate_sharding(where, scale)


def _validate_sharding(where: str, scale: dict[str, Any]) -> None:
    """A sharded scale: a valid specification, one chunk size, and chunk ids that fit 64 bits."""
    ShardingSpec.from_json(scale["sharding"], f"{where}['sharding']")
    if len(scale["chunk_sizes"]) != 1:
        raise InfoValidationError(f"{where} is sharded, so its 'chunk_sizes' must hold exactly one size")
    bits = chunk_id_bits(scale["size"], scale["chunk_sizes"][0])
    if sum(bits) > 64:
        raise InfoValidationError(
            f"{where} is sharded, but its grid of chunks needs chunk ids over 64 bits ({sum(bits)}); "
            "use larger chunks"
        )


def validate_layer(info: Any, *, for_write: bool = False) -> None:
    """Raise ``InfoValidationError`` naming the first thing ``info`` gets wrong as a layer.

    Checks what every volume's info has, whichever driver serves it: the layer
    type, data type, channels and each scale's key, size, resolution and offset.
    With ``for_write``, also refuse data types outside the Precomputed spec,
    which Neuroglancer and tensorstore cannot read, with
    ``UnsupportedDataTypeError``.
    """
    if not isinstance(info, dict):
        raise InfoValidationError(f"an info must be a JSON object (dict), got {type(info).__name__}")
    if info.get("@type", _MULTISCALE_TYPE) != _MULTISCALE_TYPE:
        raise InfoValidationError(
            f"info['@type'] is {info['@type']!r}; a volume's info has {_MULTISCALE_TYPE!r}"
        )
    for field in ("type", "data_type", "num_channels", "scales"):
        if field not in info:
            raise InfoValidationError(f"info lacks the required field {field!r}")
    if info["type"] not in LAYER_TYPES:
        raise InfoValidationError(f"info['type'] must be one of {LAYER_TYPES}, got {info['type']!r}")
    data_type = info["data_type"]
    try:
        if not isinstance(data_type, str) or np.dtype(data_type.lower()).kind not in "iuf":
            raise TypeError("not a numeric type name")
    except TypeError as err:
        raise InfoValidationError(
            f"info['data_type'] {data_type!r} is not a voxel data type; "
            f"use one of {', '.join(SPEC_DATA_TYPES)}"
        ) from err
    if for_write:
        check_data_type(info["data_type"])
    channels = info["num_channels"]
    if isinstance(channels, bool) or not isinstance(channels, int | np.integer) or channels < 1:
        raise InfoValidationError(f"info['num_channels'] must be a positive integer, got {channels!r}")
    scales = info["scales"]
    if not isinstance(scales, list) or not scales:
        raise InfoValidationError("info['scales'] must be a non-empty list of scales")
    keys: set[str] = set()
    for index, scale in enumerate(scales):
        _validate_scale(index, scale, keys)
    for field in ("mesh", "skeletons", "segment_properties"):
        if field in info and not isinstance(info[field], str):
            raise InfoValidationError(f"info[{field!r}] must be a directory name (string)")


def validate_info(info: Any, *, for_write: bool = False) -> None:
    """``validate_layer``, then what a Precomputed layer's scales need to be read from storage.

    Each scale's ``chunk_sizes`` and ``encoding`` (and its compressed_segmentation
    block size and sharding specification where they apply).
    """
    validate_layer(info, for_write=for_write)
    for index, scale in enumerate(info["scales"]):
        _validate_storage(index, scale)


def set_sharding(
    info: dict[str, Any],
    scale: dict[str, Any],
    sharding: bool | dict[str, Any] | None,
    *,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> None:
    """Make ``scale`` sharded: ``True`` chooses parameters for it (shards of about
    ``shard_bytes`` voxel bytes, ``sharding_for_scale``); a dict is a sharding
    specification, used as given; None or False leaves it unsharded."""
    if sharding is None or sharding is False:
        return
    if sharding is True:
        itemsize = np.dtype(str(info["data_type"])).itemsize
        chosen = sharding_for_scale(scale, itemsize, int(info["num_channels"]), shard_bytes=shard_bytes)
        scale["sharding"] = chosen.to_json()
        return
    scale["sharding"] = ShardingSpec.from_json(copy.deepcopy(sharding), "sharding").to_json()


def _closest_divisor(value: int, target: int) -> int:
    divisors = [d for d in range(1, value + 1) if value % d == 0]
    return min(divisors, key=lambda d: (abs(d - target), -d))


def add_scale(
    info: dict[str, Any],
    factor: npt.ArrayLike,
    *,
    encoding: str | None = None,
    chunk_size: Sequence[Any] | None = None,
    encoding_level: int | None = None,
    sharding: bool | dict[str, Any] | None = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> dict[str, Any]:
    """Add (or replace) the scale ``factor`` times coarser than mip 0; return it.

    As in cloud-volume: the size is rounded up and the offset down, the key
    is named from the new resolution, and without ``chunk_size`` each axis of
    mip 0's chunk size is replaced by its divisor closest to 64. ``sharding``
    (see ``set_sharding``) makes the scale sharded.
    """
    factors = _triple("factor", np.round(np.asarray(factor, dtype=np.float64)), positive=True)
    full = info["scales"][0]
    if chunk_size is None:
        chunk = [_closest_divisor(int(c), 64) for c in full["chunk_sizes"][0]]
    else:
        nested = np.asarray(chunk_size).reshape(-1, 3)[0] if np.ndim(chunk_size) > 1 else chunk_size
        chunk = _triple("chunk_size", nested, positive=True)
    resolution = [r * f for r, f in zip(full["resolution"], factors)]
    resolution = _resolution_values(resolution)
    offset = full.get("voxel_offset", [0, 0, 0])
    scale: dict[str, Any] = {
        "encoding": encoding or full["encoding"],
        "chunk_sizes": [chunk],
        "key": scale_key(resolution),
        "resolution": resolution,
        "voxel_offset": [int(o) // f for o, f in zip(offset, factors)],
        "size": [int(math.ceil(int(s) / f)) for s, f in zip(full["size"], factors)],
    }
    if encoding_level is not None and scale["encoding"] in _LEVEL_KEYS:
        scale[_LEVEL_KEYS[scale["encoding"]]] = int(encoding_level)
    if scale["encoding"] == "compressed_segmentation":
        scale["compressed_segmentation_block_size"] = copy.deepcopy(
            full.get("compressed_segmentation_block_size", [8, 8, 8])
        )
    set_sharding(info, scale, sharding, shard_bytes=shard_bytes)
    for index, existing in enumerate(info["scales"]):
        if np.allclose(np.asarray(existing["resolution"], dtype=float), resolution):
            if index == 0:
                raise InfoValidationError(f"factor {factors} would replace mip 0; use a factor > 1")
            info["scales"][index] = scale
            return scale
    info["scales"].append(scale)
    return scale


def create_info(
    num_channels: int,
    layer_type: str,
    data_type: npt.DTypeLike,
    encoding: str,
    resolution: Sequence[Any],
    voxel_offset: Sequence[Any],
    volume_size: Sequence[Any],
    *,
    mesh: str | bool | None = None,
    skeletons: str | bool | None = None,
    chunk_size: Sequence[Any] = (64, 64, 64),
    compressed_segmentation_block_size: Sequence[Any] = (8, 8, 8),
    max_mip: int = 0,
    factor: Sequence[Any] = (2, 2, 1),
    redirect: str | None = None,
    encoding_level: int | None = None,
    sharding: bool | dict[str, Any] | None = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> dict[str, Any]:
    """Build and validate a new info (see ``CloudVolume.create_new_info``)."""
    name = check_data_type(data_type)
    if layer_type not in LAYER_TYPES:
        raise InfoValidationError(f"layer_type must be one of {LAYER_TYPES}, got {layer_type!r}")
    if layer_type == "segmentation" and name == "float32":
        raise InfoValidationError("a segmentation layer holds integer labels; float32 is only for images")
    if isinstance(num_channels, bool) or not isinstance(num_channels, int | np.integer) or num_channels < 1:
        raise InfoValidationError(f"num_channels must be a positive integer, got {num_channels!r}")
    if layer_type == "segmentation" and num_channels != 1:
        raise InfoValidationError("a segmentation layer must have num_channels=1 (Precomputed spec)")
    if isinstance(max_mip, bool) or not isinstance(max_mip, int) or max_mip < 0:
        raise InfoValidationError(f"max_mip must be a non-negative integer, got {max_mip!r}")
    res = _resolution_values(_triple("resolution", resolution, positive=True, integer=False))
    scale: dict[str, Any] = {
        "encoding": encoding,
        "chunk_sizes": [_triple("chunk_size", chunk_size, positive=True)],
        "key": scale_key(res),
        "resolution": res,
        "voxel_offset": _triple("voxel_offset", voxel_offset, positive=False),
        "size": _triple("volume_size", volume_size, positive=True),
    }
    if encoding == "compressed_segmentation":
        scale["compressed_segmentation_block_size"] = _triple(
            "compressed_segmentation_block_size", compressed_segmentation_block_size, positive=True
        )
    if encoding_level is not None and encoding in _LEVEL_KEYS:
        scale[_LEVEL_KEYS[encoding]] = int(encoding_level)
    info: dict[str, Any] = {
        "@type": _MULTISCALE_TYPE,
        "type": layer_type,
        "data_type": name,
        "num_channels": int(num_channels),
        "scales": [scale],
    }
    if redirect is not None:
        info["redirect"] = str(redirect)
    if mesh:
        info["mesh"] = mesh if isinstance(mesh, str) else "mesh"
    if skeletons:
        info["skeletons"] = skeletons if isinstance(skeletons, str) else "skeletons"
    set_sharding(info, scale, sharding, shard_bytes=shard_bytes)
    factors = np.asarray(factor, dtype=np.float64)
    for mip in range(1, max_mip + 1):
        add_scale(info, factors**mip, encoding=encoding, chunk_size=chunk_size,
                  encoding_level=encoding_level, sharding=sharding, shard_bytes=shard_bytes)  # fmt: skip
    validate_info(info, for_write=True)
    return info
