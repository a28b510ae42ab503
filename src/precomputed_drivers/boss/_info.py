"""A Precomputed-style info built from a BOSS channel, its experiment and coordinate frame.

mip m is the BOSS's resolution level m: the frame downsampled by (2, 2, 1) per level for an
``anisotropic`` experiment, (2, 2, 2) for ``isotropic``, cumulatively; its bounds are
``floor(start / f) .. ceil(stop / f)`` and its resolution the frame's voxel size times
``f``, in nanometres (a 0.5 micrometre voxel is 500 nm). The chunk size is the BOSS's
storage cuboid.
"""

from __future__ import annotations

import math
from typing import Any

from precomputed_core.exceptions import InfoValidationError

__all__ = ["CUBOID", "LAYER_TYPES", "UNIT_NM", "boss_info", "level_factor"]

#: The BOSS stores each resolution level in cuboids of this many voxels (x, y, z).
CUBOID = (512, 512, 16)

#: Nanometres per unit of a coordinate frame's ``voxel_unit``.
UNIT_NM = {"nanometers": 1, "micrometers": 10**3, "millimeters": 10**6, "centimeters": 10**7}

#: The layer type of each BOSS channel type.
LAYER_TYPES = {"image": "image", "annotation": "segmentation"}

_DTYPES = ("uint8", "uint16", "uint64")


def level_factor(method: str, level: int) -> tuple[int, int, int]:
    """How much coarser than level 0 level ``level`` is, per axis."""
    step = 2**level
    return (step, step, step) if method == "isotropic" else (step, step, 1)


def _nanometres(value: Any, unit: str, where: str) -> float | int:
    """``value`` ``unit``s in nanometres, as an int when it is whole (JSON stays tidy)."""
    nm = round(float(value) * UNIT_NM[unit], 6)
    if not math.isfinite(nm) or nm <= 0:
        raise InfoValidationError(f"{where} has voxel size {value!r} {unit}: it must be positive")
    return int(nm) if nm.is_integer() else nm


def boss_info(channel: Any, experiment: Any, frame: Any, where: str) -> dict[str, Any]:
    """The info of ``channel`` (intern resources of the channel, experiment and frame)."""
    datatype = str(channel.datatype)
    if datatype not in _DTYPES:
        raise InfoValidationError(f"{where} has data type {datatype!r}; the BOSS serves {', '.join(_DTYPES)}")
    kind = str(getattr(channel, "type", "image"))
    if kind not in LAYER_TYPES:
        raise InfoValidationError(
            f"{where} is a {kind!r} channel; only image and annotation channels hold voxels"
        )
    unit = str(frame.voxel_unit)
    if unit not in UNIT_NM:
        raise InfoValidationError(
            f"{where}'s coordinate frame has voxel_unit {unit!r}, not one of {sorted(UNIT_NM)}"
        )
    method = str(experiment.hierarchy_method or "anisotropic")
    if method not in ("anisotropic", "isotropic"):
        raise InfoValidationError(f"{where}'s experiment has hierarchy_method {method!r}")
    levels = int(experiment.num_hierarchy_levels or 1)
    if levels < 1:
        raise InfoValidationError(f"{where}'s experiment has {levels} hierarchy levels")
    start = [int(frame.x_start), int(frame.y_start), int(frame.z_start)]
    stop = [int(frame.x_stop), int(frame.y_stop), int(frame.z_stop)]
    if any(b <= a for a, b in zip(start, stop)):
        raise InfoValidationError(f"{where}'s coordinate frame is empty: start {start}, stop {stop}")
    sizes = (frame.x_voxel_size, frame.y_voxel_size, frame.z_voxel_size)
    voxel = [_nanometres(v, unit, where) for v in sizes]
    scales = []
    for level in range(levels):
        factor = level_factor(method, level)
        lo = [a // f for a, f in zip(start, factor)]
        hi = [-(-b // f) for b, f in zip(stop, factor)]
        resolution = [v * f for v, f in zip(voxel, factor)]
        scales.append({
            "key": "_".join(str(r) for r in resolution),
            "resolution": resolution,
            "voxel_offset": lo,
            "size": [b - a for a, b in zip(lo, hi)],
            "chunk_sizes": [list(CUBOID)],
            "encoding": "raw",
        })  # fmt: skip
    return {
        "@type": "neuroglancer_multiscale_volume",
        "type": LAYER_TYPES[kind],
        "data_type": datatype,
        "num_channels": 1,
        "scales": scales,
    }
