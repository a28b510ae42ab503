"""``Vec``: a small numpy vector with x, y, z, w accessors, as in cloud-volume."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Vec"]


def _is_floating(values: Iterable[Any]) -> bool:
    return any(
        isinstance(v, float | np.floating)
        or (isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating))
        for v in values
    )


def _component(index: int, name: str, colour: str, note: str = "") -> Any:
    """A settable property for one component of a Vec (attribute docstrings repeat the
    docstring for the API reference, which reads the source)."""

    def get(self: Any) -> Any:
        return self[index]

    def put(self: Any, value: Any) -> None:
        self[index] = value

    return property(get, put, doc=f"Component {index}: {name}, or ``{colour}`` of a colour; settable{note}.")


class Vec(np.ndarray):  # type: ignore[type-arg]
    """A 1-D coordinate vector (voxels unless said otherwise), x, y, z[, w] order.

    Integer components are stored as int64 and floating ones as float64 unless
    ``dtype`` says otherwise.

    Examples
    --------
    >>> v = Vec(1, 2, 3)
    >>> int(v.x), int(v.y), int(v.z)
    (1, 2, 3)
    >>> (v * 2).tolist()
    [2, 4, 6]
    >>> Vec(1.5, 2, 3).dtype
    dtype('float64')
    """

    def __new__(cls, *args: Any, dtype: npt.DTypeLike | None = None) -> Vec:
        if dtype is None:
            dtype = np.float64 if _is_floating(args) else np.int64
        buffer = np.array(args, dtype=dtype)
        vec: Vec = super().__new__(cls, shape=(len(args),), buffer=buffer, dtype=buffer.dtype)
        return vec

    @classmethod
    def clamp(cls, val: npt.ArrayLike, minvec: npt.ArrayLike, maxvec: npt.ArrayLike) -> Vec:
        """Clamp ``val`` component-wise into ``[minvec, maxvec]``."""
        clamped = np.minimum(np.maximum(np.asarray(val), np.asarray(minvec)), np.asarray(maxvec))
        return Vec(*clamped)

    def clone(self) -> Vec:
        """A copy, of the same dtype."""
        return Vec(*self, dtype=self.dtype)

    def null(self) -> bool:
        """Whether the vector has (almost) zero length."""
        return bool(self.length() <= 10 * np.finfo(np.float32).eps)

    def dot(self, vec: npt.ArrayLike) -> Any:  # type: ignore[override]
        """The dot product with ``vec``, as a numpy scalar."""
        return np.sum(np.asarray(self) * np.asarray(vec))

    def length2(self) -> Any:
        """The squared Euclidean length, ``self.dot(self)``: an integer for an integer vector."""
        return self.dot(self)

    def length(self) -> float:
        """The Euclidean length, a float."""
        return math.sqrt(float(self.dot(self)))

    def rectVolume(self) -> Any:  # noqa: N802 - cloud-volume's name
        """Product of the components (the volume of a box of this size)."""
        return np.prod(np.asarray(self, dtype=np.float64 if self.dtype.kind == "f" else object))

    def __array_wrap__(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        # Reductions (np.all, np.sum...) give a numpy scalar, not a 0-d Vec.
        wrapped = super().__array_wrap__(array, *args, **kwargs)
        return wrapped[()] if isinstance(wrapped, np.ndarray) and wrapped.ndim == 0 else wrapped

    def __hash__(self) -> int:  # type: ignore[override]
        # cloud-volume joins the digits, so (1, 23) and (12, 3) collide; a tuple does not.
        return hash(tuple(self.tolist()))

    def __repr__(self) -> str:
        if self.ndim != 1:
            return f"Vec({np.asarray(self)!r})"
        values = ",".join(str(x) for x in self.tolist())
        return f"Vec({values}, dtype={self.dtype})"

    x = _component(0, "x", "r (red)")
    """Component 0: x, or ``r (red)`` of a colour; settable."""
    y = _component(1, "y", "g (green)")
    """Component 1: y, or ``g (green)`` of a colour; settable."""
    z = _component(2, "z", "b (blue)")
    """Component 2: z, or ``b (blue)`` of a colour; settable."""
    w = _component(3, "w", "a (alpha)", " (an ``IndexError`` on 3-vectors)")
    """Component 3: w, or ``a (alpha)`` of a colour; settable (an ``IndexError`` on 3-vectors)."""
    r = x
    """Component 0: x, or ``r (red)`` of a colour; settable."""
    g = y
    """Component 1: y, or ``g (green)`` of a colour; settable."""
    b = z
    """Component 2: z, or ``b (blue)`` of a colour; settable."""
    a = w
    """Component 3: w, or ``a (alpha)`` of a colour; settable (an ``IndexError`` on 3-vectors)."""
