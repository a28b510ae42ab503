"""Physical length units for boxes, converted exactly by powers of ten."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["UNIT_SCALES", "rescale"]

UNIT_SCALES = {
    "pm": 1e-12, "nm": 1e-9, "um": 1e-6, "mm": 1e-3, "m": 1.0,
    "km": 1e3, "Mm": 1e6, "Gm": 1e9, "Tm": 1e12,
}  # fmt: skip

_EXPONENTS = {"pm": -12, "nm": -9, "um": -6, "mm": -3, "m": 0, "km": 3, "Mm": 6, "Gm": 9, "Tm": 12}


def rescale(values: Any, unit: str, to_unit: str) -> Any:
    # Powers of ten kept exact: 1e-6 / 1e-9 is 999.9999999999999, which floors onto the wrong voxel.
    exponent = _EXPONENTS[unit] - _EXPONENTS[to_unit]
    values = np.asarray(values, dtype=np.float64)
    return values * 10**exponent if exponent >= 0 else values / 10 ** (-exponent)
