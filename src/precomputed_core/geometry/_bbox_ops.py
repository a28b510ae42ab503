"""A box's corners, and its arithmetic and chunk-grid alignment (split out to keep ``_bbox.py`` readable)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import GeometryError
from ._vec import Vec

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._bbox import Bbox

__all__ = ["BboxOperators", "BoxCorners", "ChunkAlignment"]


class BoxCorners:
    """A box's corners, their dtype and unit: the state ``Bbox`` and its helpers below share.

    ``Bbox.__init__`` fills them; the operator and alignment classes build on them.
    """

    __slots__ = ("_dtype", "maxpt", "minpt", "unit")

    minpt: Vec
    maxpt: Vec
    unit: str
    _dtype: np.dtype[Any]

    @property
    def dtype(self) -> np.dtype[Any]:
        """The corners' dtype: int64 or float64 unless the box was made with another."""
        return self._dtype

    def size(self) -> Vec:
        """The extent on every axis, ``maxpt - minpt``, of the box's dtype."""
        return Vec(*(self.maxpt - self.minpt), dtype=self.dtype)

    def _new(self, lo: Any, hi: Any, dtype: Any) -> Bbox:
        box: Bbox = type(self)(lo, hi, dtype=dtype, unit=self.unit)  # type: ignore[call-arg, assignment]
        return box


class ChunkAlignment(BoxCorners):
    """Growing, shrinking and rounding a box to a chunk grid that starts at ``offset``."""

    def _grid(self, chunk_size: npt.ArrayLike, offset: npt.ArrayLike) -> tuple[Any, Any, Any]:
        chunk = np.asarray(chunk_size, dtype=np.int64)
        off = np.asarray(offset, dtype=np.int64)
        if np.any(chunk <= 0):
            raise GeometryError(f"chunk size must be positive, got {chunk.tolist()}")
        return chunk, self.minpt - off, self.maxpt - off

    def _from_grid(self, lo: Any, hi: Any, offset: npt.ArrayLike) -> Bbox:
        off = np.asarray(offset, dtype=np.int64)
        return self._new(lo + off, hi + off, self.dtype)

    def expand_to_chunk_size(self, chunk_size: npt.ArrayLike, offset: npt.ArrayLike = (0, 0, 0)) -> Bbox:
        """Grow the box outwards to the grid lines of ``chunk_size`` starting at ``offset``."""
        chunk, lo, hi = self._grid(chunk_size, offset)
        return self._from_grid(np.floor_divide(lo, chunk) * chunk, -((-hi) // chunk) * chunk, offset)

    def shrink_to_chunk_size(self, chunk_size: npt.ArrayLike, offset: npt.ArrayLike = (0, 0, 0)) -> Bbox:
        """Shrink the box inwards to grid lines; collapses to a point inside one chunk."""
        chunk, lo, hi = self._grid(chunk_size, offset)
        new_lo = -((-lo) // chunk) * chunk
        new_hi = np.floor_divide(hi, chunk) * chunk
        if np.any(new_lo > new_hi):
            new_hi = new_lo.copy()
        return self._from_grid(new_lo, new_hi, offset)

    def round_to_chunk_size(self, chunk_size: npt.ArrayLike, offset: npt.ArrayLike = (0, 0, 0)) -> Bbox:
        """Move each face to the nearest grid line."""
        chunk, lo, hi = self._grid(chunk_size, offset)
        return self._from_grid(np.round(lo / chunk) * chunk, np.round(hi / chunk) * chunk, offset)

    def is_chunk_aligned(self, chunk_size: npt.ArrayLike, offset: npt.ArrayLike = (0, 0, 0)) -> bool:
        """Whether every face lies on a grid line of ``chunk_size`` starting at ``offset``."""
        return self.expand_to_chunk_size(chunk_size, offset) == self

    def num_chunks(self, chunk_size: npt.ArrayLike) -> int:
        """How many chunks of ``chunk_size`` tile this box (partial chunks count)."""
        chunk = np.asarray(chunk_size)
        return math.prod(math.ceil(s / c) for s, c in zip(self.size().tolist(), chunk.tolist()))


class BboxOperators(BoxCorners):
    """``+ - * / //`` with a scalar, a vector or another box; equality and hashing by value."""

    def _apply(self, op: Any, operand: Any) -> Bbox:
        if isinstance(operand, BoxCorners):
            lo, hi = op(self.minpt, operand.minpt), op(self.maxpt, operand.maxpt)
        else:
            lo, hi = op(self.minpt, operand), op(self.maxpt, operand)
        lo, hi = np.asarray(lo), np.asarray(hi)
        return self._new(lo, hi, np.result_type(lo, hi))

    def _assign(self, other: Bbox) -> Bbox:
        # In place when the dtype holds, as cloud-volume's: a Vec taken from minpt
        # before `bbox /= 3.0` sees the new corner.
        if other.dtype == self.dtype and other.minpt.shape == self.minpt.shape:
            self.minpt[...] = other.minpt
            self.maxpt[...] = other.maxpt
        else:
            self.minpt, self.maxpt, self._dtype = other.minpt, other.maxpt, other.dtype
        return self  # type: ignore[return-value]  # a mixin of Bbox

    def __add__(self, operand: Any) -> Bbox:
        return self._apply(np.add, operand)

    def __sub__(self, operand: Any) -> Bbox:
        return self._apply(np.subtract, operand)

    def __mul__(self, operand: Any) -> Bbox:
        return self._apply(np.multiply, operand)

    def __truediv__(self, operand: Any) -> Bbox:
        return self._apply(np.true_divide, operand)

    def __floordiv__(self, operand: Any) -> Bbox:
        return self._apply(np.floor_divide, operand).astype(np.int64)

    def __iadd__(self, operand: Any) -> Bbox:
        return self._assign(self + operand)

    def __isub__(self, operand: Any) -> Bbox:
        return self._assign(self - operand)

    def __imul__(self, operand: Any) -> Bbox:
        return self._assign(self * operand)

    def __itruediv__(self, operand: Any) -> Bbox:
        return self._assign(self / operand)

    def __ifloordiv__(self, operand: Any) -> Bbox:
        return self._assign(self // operand)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoxCorners):
            return NotImplemented
        return (
            np.array_equal(self.minpt, other.minpt)
            and np.array_equal(self.maxpt, other.maxpt)
            and self.unit == other.unit
        )

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash((tuple(self.minpt.tolist()), tuple(self.maxpt.tolist()), self.unit))

    def __repr__(self) -> str:
        norm = float if self.dtype.kind == "f" else int
        lo = [norm(x) for x in self.minpt.tolist()]
        hi = [norm(x) for x in self.maxpt.tolist()]
        return f"Bbox({lo},{hi}, dtype=np.{self.dtype}, unit='{self.unit}')"
