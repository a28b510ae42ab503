"""Check an array or scalar given to ``vol[...] = value`` before anything is written."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .exceptions import AlignmentError, UnsupportedDataTypeError

__all__ = ["as_write_array"]


def _castable(source: np.dtype[Any], target: np.dtype[Any]) -> bool:
    if target.kind == "f":
        # Narrowing float64 to a float32 layer loses precision, never wraps around.
        return bool(np.can_cast(source, target, casting="same_kind"))
    return bool(np.can_cast(source, target, casting="safe"))


def _refuse(what: str, target: np.dtype[Any]) -> UnsupportedDataTypeError:
    return UnsupportedDataTypeError(
        f"cannot write {what} into a {target.name} layer without changing values "
        f"(numpy would wrap or truncate them); convert it yourself first, e.g. "
        f"np.clip(a, lo, hi).astype(np.{target.name})"
    )


def _scalar(value: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    smallest = np.min_scalar_type(value)
    if smallest.kind not in "biuf" or not _castable(smallest, dtype):
        raise _refuse(f"the value {value!r}", dtype)
    # A read-only broadcast view: filling a huge box with one value costs no memory.
    return np.broadcast_to(np.asarray(value, dtype=dtype), shape)


def as_write_array(value: Any, shape: tuple[int, int, int, int], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """``value`` as an (x, y, z, c) array of ``shape`` whose values fit ``dtype``.

    Scalars are broadcast; a 3-d array is accepted for one-channel layers.
    Raises :class:`UnsupportedDataTypeError` for unsafe casts and
    :class:`AlignmentError` for a shape that does not match the box.
    """
    if np.isscalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return _scalar(value.item() if isinstance(value, np.ndarray) else value, shape, dtype)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise _refuse(f"an array of {array.dtype}", dtype)
    if array.dtype != dtype and not _castable(array.dtype, dtype):
        raise _refuse(f"an array of {array.dtype}", dtype)
    given = tuple(array.shape)
    if array.ndim == 3 and shape[3] == 1:
        array = array[..., np.newaxis]
    if array.shape != shape:
        raise AlignmentError(
            f"the array's shape {given} does not match the box's (x, y, z, c) shape "
            f"{shape}; slice the box to the array's size (numpy arrays here are x, y, z, c: "
            "a z, y, x array needs .T)"
        )
    return array
