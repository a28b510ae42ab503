"""Check an array or scalar given to ``vol[...] = value`` before anything is written."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..exceptions import AlignmentError, UnsupportedDataTypeError

__all__ = ["as_write_array", "check_dtype_for_write"]


def _castable(source: np.dtype[Any], target: np.dtype[Any]) -> bool:
    if source.kind == "f" and target.kind == "f":
        # float64 into a float32 layer rounds, it never wraps; overflow is checked by value.
        return True
    return bool(np.can_cast(source, target, casting="safe"))


def _refuse(what: str, target: np.dtype[Any]) -> UnsupportedDataTypeError:
    return UnsupportedDataTypeError(
        f"cannot write {what} into a {target.name} layer without changing values "
        f"(numpy would wrap, round or truncate them); convert it yourself first, e.g. "
        f"np.clip(a, lo, hi).astype(np.{target.name})"
    )


def check_dtype_for_write(source: Any, target: np.dtype[Any]) -> None:
    """Refuse an array type whose values would change in a ``target`` layer (for arrays whose
    values are not at hand yet, such as a dask array; float ranges are not checked)."""
    if source is None:
        raise UnsupportedDataTypeError("from_dask takes an array with a dtype (a dask or numpy array)")
    source = np.dtype(source)
    if source.kind not in "biuf" or (source != target and not _castable(source, target)):
        raise _refuse(f"an array of {source}", target)


def _scalar_fits(value: Any, dtype: np.dtype[Any]) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, int | np.integer):
        if dtype.kind in "iu":
            limits = np.iinfo(dtype)
            return bool(limits.min <= int(value) <= limits.max)
        try:
            with np.errstate(over="ignore"):
                stored = dtype.type(value)
        except OverflowError:
            return False
        return bool(np.isfinite(stored) and int(stored) == int(value))  # exactly representable
    if isinstance(value, float | np.floating) and dtype.kind == "f":
        return bool(not np.isfinite(value) or abs(float(value)) <= float(np.finfo(dtype).max))
    return False


def _check_float_range(array: npt.NDArray[Any], dtype: np.dtype[Any]) -> None:
    if array.dtype.kind != "f" or dtype.kind != "f" or array.dtype.itemsize <= dtype.itemsize:
        return
    limit = float(np.finfo(dtype).max)
    with np.errstate(invalid="ignore"):
        too_big = np.any((np.abs(array) > limit) & np.isfinite(array))
    if too_big:
        raise _refuse(f"{array.dtype} values beyond ±{limit:.3g}", dtype)


def as_write_array(value: Any, shape: tuple[int, int, int, int], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """``value`` as an (x, y, z, c) array of ``shape`` whose values fit ``dtype``.

    Scalars are broadcast (checked by value); arrays are checked by type, so
    an int64 array is refused for a uint8 layer even if its values are small.
    A 3-d array is accepted for one-channel layers. Raises
    ``UnsupportedDataTypeError`` for unsafe casts and
    ``AlignmentError`` for a shape that does not match the box.
    """
    if np.isscalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        scalar = value[()] if isinstance(value, np.ndarray) else value
        if not _scalar_fits(scalar, dtype):
            raise _refuse(f"the value {scalar!r}", dtype)
        # A read-only broadcast view: filling a huge box with one value costs no memory.
        return np.broadcast_to(np.asarray(scalar, dtype=dtype), shape)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or (array.dtype != dtype and not _castable(array.dtype, dtype)):
        raise _refuse(f"an array of {array.dtype}", dtype)
    _check_float_range(array, dtype)
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
