"""``Bbox``: an axis-aligned box ``[minpt, maxpt)``, with cloud-volume's interface.

Coordinates are voxels (``unit='vx'``) unless ``unit`` names a physical unit.
Integer boxes are int64 (cloud-volume used int32, which overflows on petascale
volumes). Helpers that make a box from another return a new box; the in-place
operators (``+=``) and ``adjust``/``grow``/``shrink`` mutate and return
``self``, as in cloud-volume, so ported code behaves the same.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import GeometryError, OutOfBoundsError
from ._bbox_ops import BboxOperators, ChunkAlignment
from ._slicing import reify_slices
from ._units import UNIT_SCALES, rescale
from ._vec import Vec, _is_floating

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

__all__ = ["Bbox", "UNIT_SCALES"]


_FLT = r"(-?\d+(?:\.\d+)?)"
_FILENAME_RE = re.compile(rf"{_FLT}-{_FLT}_{_FLT}-{_FLT}_{_FLT}-{_FLT}(?:\.gz|\.br|\.zstd)?$")


class Bbox(BboxOperators, ChunkAlignment):
    """An axis-aligned box from ``minpt`` (inclusive) to ``maxpt`` (exclusive).

    Examples
    --------
    >>> box = Bbox((0, 0, 0), (100, 64, 10))
    >>> box.size3().tolist()
    [100, 64, 10]
    >>> box.expand_to_chunk_size((64, 64, 64))
    Bbox([0, 0, 0],[128, 64, 64], dtype=np.int64, unit='vx')
    >>> Bbox.intersection(box, Bbox((50, 50, 5), (200, 200, 200))).to_filename()
    '50-100_50-64_5-10'
    >>> Bbox.from_slices(np.s_[0:10, 2:4, 5:6]).to_list()
    [0, 2, 5, 10, 4, 6]
    """

    def __init__(
        self,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        dtype: npt.DTypeLike | None = None,
        unit: str = "vx",
    ) -> None:
        a_list, b_list = np.asarray(a).tolist(), np.asarray(b).tolist()
        if len(a_list) != len(b_list):
            # Bbox((0, 0, 0), image.shape) drops the channel axis, as cloud-volume's zip does;
            # anything shorter than x, y, z is a mistake.
            if min(len(a_list), len(b_list)) < 3:
                raise GeometryError(f"Bbox corners differ in length: {a_list} and {b_list}")
            a_list, b_list = a_list[: len(b_list)], b_list[: len(a_list)]
        if dtype is None:
            floating = _is_floating(a_list) or _is_floating(b_list)
            dtype = np.float64 if floating else np.int64
        self.minpt = Vec(*[min(x, y) for x, y in zip(a_list, b_list)], dtype=dtype)
        """The lower corner, inside the box: the smaller of ``a`` and ``b`` on each axis."""
        self.maxpt = Vec(*[max(x, y) for x, y in zip(a_list, b_list)], dtype=dtype)
        """The upper corner, just outside the box: the larger of ``a`` and ``b`` on each axis."""
        self._dtype = np.dtype(dtype)
        self.unit = unit
        """``'vx'`` (voxels) or the physical unit of the coordinates (``'nm'``, ``'um'``...)."""

    # --- construction ------------------------------------------------------

    @classmethod
    def create(
        cls,
        obj: Any,
        context: Bbox | None = None,
        bounded: bool = False,
        autocrop: bool = False,
    ) -> Bbox:
        """Make a box from a Bbox (ours or cloud-volume's), slices, a 6-list, a Vec, a filename or a dict."""
        if isinstance(obj, Bbox):
            box = obj
        elif (
            isinstance(obj, list | tuple)
            and len(obj) == 6
            and all(isinstance(x, int | np.integer) for x in obj)
        ):
            box = cls.from_list(obj)
        elif isinstance(obj, list | tuple | slice):
            box = cls.from_slices(obj, context, bounded, autocrop)
        elif isinstance(obj, Vec):
            box = cls.from_vec(obj)
        elif isinstance(obj, str):
            box = cls.from_filename(obj)
        elif isinstance(obj, dict):
            box = cls.from_dict(obj)
        elif hasattr(obj, "minpt") and hasattr(obj, "maxpt"):  # cloud-volume's Bbox, and the like
            box = cls(obj.minpt, obj.maxpt, unit=getattr(obj, "unit", "vx"))
        else:
            raise GeometryError(f"{type(obj).__name__} cannot be converted to a Bbox")
        if context is not None and autocrop:
            box = cls.intersection(box, context)
        if context is not None and bounded and not context.contains_bbox(box):
            raise OutOfBoundsError(
                f"{box} is outside the volume bounds {context}; "
                "crop the request or open the volume with bounded=False"
            )
        return box

    @classmethod
    def from_delta(cls, minpt: npt.ArrayLike, plus: npt.ArrayLike) -> Bbox:
        """The box at ``minpt`` of size ``plus``: ``[minpt, minpt + plus)``."""
        return cls(minpt, np.asarray(minpt) + np.asarray(plus))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bbox:
        """The box of a ``to_dict`` dict: ``minpt``, ``maxpt`` and optionally ``dtype``; in voxels."""
        return cls(data["minpt"], data["maxpt"], dtype=data.get("dtype"))

    @classmethod
    def from_vec(cls, vec: npt.ArrayLike, dtype: npt.DTypeLike = np.int64) -> Bbox:
        """The box from the origin to ``vec`` (a box of size ``vec``), int64 unless ``dtype`` says."""
        return cls([0] * len(np.asarray(vec)), vec, dtype=dtype)

    @classmethod
    def from_filename(cls, filename: str, dtype: npt.DTypeLike = np.int64) -> Bbox:
        """Parse a chunk name such as ``0-64_0-64_0-64`` (optionally ``.gz``)."""
        name = os.path.basename(filename)
        match = _FILENAME_RE.search(name)
        if match is None:
            raise GeometryError(f"cannot read a bounding box from the file name {filename!r}")
        parse = float if any("." in g for g in match.groups()) else int
        x0, x1, y0, y1, z0, z1 = map(parse, match.groups())
        return cls((x0, y0, z0), (x1, y1, z1), dtype=dtype)

    @classmethod
    def from_slices(
        cls,
        slices: Any,
        context: Bbox | None = None,
        bounded: bool = False,
        autocrop: bool = False,
    ) -> Bbox:
        """Make a box from slices (e.g. ``np.s_[0:10, 0:10, 0:5]``); steps must be 1."""
        if context is not None:
            slices = context.reify_slices(slices, bounded=bounded, autocrop=autocrop)
        elif isinstance(slices, slice):
            slices = [slices]
        for slc in slices:
            if slc.step not in (None, 1):
                raise GeometryError(f"a box cannot have a step; got step {slc.step}")
        unit = context.unit if context is not None else "vx"
        return cls(
            [slc.start for slc in slices],
            [slc.start if slc.stop < slc.start else slc.stop for slc in slices],
            unit=unit,
        )

    @classmethod
    def from_list(cls, lst: Sequence[Any]) -> Bbox:
        """The first half of ``lst`` is ``minpt``, the second half ``maxpt``."""
        half = len(lst) // 2
        return cls(lst[:half], lst[half:])

    @classmethod
    def from_points(cls, arr: npt.ArrayLike) -> Bbox:
        """The smallest integer box holding every point of an ``(N, 3)`` array."""
        points = np.asarray(arr, dtype=np.float64)
        return cls(np.floor(points.min(axis=0)), np.floor(points.max(axis=0)) + 1, dtype=np.int64)

    @classmethod
    def deserialize(cls, data: str) -> Bbox:
        """The box of ``serialize``'s JSON text."""
        return cls.from_dict(json.loads(data))

    # --- conversion ----------------------------------------------------------

    def serialize(self) -> str:
        """The box as JSON text (``to_dict``; the unit is not kept)."""
        return json.dumps(self.to_dict())

    def to_filename(self, precision: int | None = None) -> str:
        """The chunk-name form ``x0-x1_y0-y1_z0-z1``."""

        def render(x: Any) -> str:
            if precision:
                return f"{round(float(x), precision):.{precision}f}"
            return str(x)

        return "_".join(
            f"{render(lo)}-{render(hi)}" for lo, hi in zip(self.minpt.tolist(), self.maxpt.tolist())
        )

    def to_slices(self) -> tuple[slice, ...]:
        """One ``slice(min, max)`` per axis, for indexing an array (float corners truncated to int)."""
        return tuple(slice(int(lo), int(hi)) for lo, hi in zip(self.minpt.tolist(), self.maxpt.tolist()))

    def to_list(self) -> list[Any]:
        """``minpt`` then ``maxpt`` as one list, ``[x0, y0, z0, x1, y1, z1]`` (``from_list``'s form)."""
        return [*self.minpt.tolist(), *self.maxpt.tolist()]

    def to_dict(self) -> dict[str, Any]:
        """``{"minpt": [...], "maxpt": [...], "dtype": name}``, for JSON (the unit is not kept)."""
        return {"minpt": self.minpt.tolist(), "maxpt": self.maxpt.tolist(), "dtype": self.dtype.name}

    def reify_slices(self, slices: Any, bounded: bool = True, autocrop: bool = False) -> list[slice]:
        """Fill in open slice ends (``:``, ``...``, ints) from this box.

        Ints become one-voxel slices; steps are kept. With ``bounded``, a slice
        reaching outside the box raises ``OutOfBoundsError``; with
        ``autocrop`` it is clipped to the box instead.
        """
        return reify_slices(self, slices, bounded=bounded, autocrop=autocrop)

    def convert_units(
        self,
        unit: str,
        resolution: npt.ArrayLike = (1, 1, 1),
        resolution_unit: str = "nm",
    ) -> Bbox:
        """Convert between voxels (``'vx'``) and physical units, or between physical units.

        A float box keeps its dtype (float32 stays float32). An integer box in voxels
        stays integer in physical units when the result is whole (integer resolutions in
        the same unit), and an integer box between physical units becomes float32, as in
        cloud-volume; voxels are always int64.
        """
        for name in {unit, self.unit, resolution_unit} - {"vx"}:
            if name not in UNIT_SCALES:
                raise GeometryError(f"unknown unit {name!r}; use 'vx' or one of {list(UNIT_SCALES)}")
        res = np.asarray(resolution, dtype=np.float64)
        if self.unit == "vx" and unit == "vx":
            return self.clone()
        floating = self.dtype.kind == "f"
        if self.unit == "vx":
            lo, hi = (rescale(p * res, resolution_unit, unit) for p in (self.minpt, self.maxpt))
            whole = not floating and bool(np.all(lo == np.round(lo)) and np.all(hi == np.round(hi)))
            dtype = self.dtype if floating else (np.int64 if whole else np.float64)
            return Bbox(lo, hi, dtype=dtype, unit=unit)
        if unit == "vx":
            lo, hi = (rescale(p, self.unit, resolution_unit) / res for p in (self.minpt, self.maxpt))
            # Both corners round down, as cloud-volume does, so the same nm box gives the same voxels.
            return Bbox(np.floor(lo), np.floor(hi), dtype=np.int64, unit="vx")
        lo, hi = (rescale(p, self.unit, unit) for p in (self.minpt, self.maxpt))
        return Bbox(lo, hi, dtype=self.dtype if floating else np.float32, unit=unit)

    # --- properties ----------------------------------------------------------

    @property
    def is_physical(self) -> bool:
        """Whether the coordinates are in a physical unit rather than voxels (``unit != 'vx'``)."""
        return self.unit != "vx"

    @property
    def ndim(self) -> int:
        """The number of axes, the corners' length: 3 for x, y, z; 4 with a channel axis."""
        return len(self.minpt)

    @property
    def dx(self) -> Any:
        """The box's extent along x, ``maxpt.x - minpt.x``, in its unit."""
        return self.maxpt[0] - self.minpt[0]

    @property
    def dy(self) -> Any:
        """The box's extent along y, ``maxpt.y - minpt.y``, in its unit."""
        return self.maxpt[1] - self.minpt[1]

    @property
    def dz(self) -> Any:
        """The box's extent along z, ``maxpt.z - minpt.z``, in its unit."""
        return self.maxpt[2] - self.minpt[2]

    def size3(self) -> Vec:
        """The extent along x, y and z only (``size`` has every axis), of the box's dtype."""
        return Vec(*(self.maxpt[:3] - self.minpt[:3]), dtype=self.dtype)

    def volume(self) -> Any:
        """Number of voxels (or the physical volume) inside the box."""
        if self.dtype.kind in "iu":
            # Python ints: an int64 difference of far-apart corners would wrap around.
            return math.prod(
                int(hi) - int(lo) for lo, hi in zip(self.minpt[:3].tolist(), self.maxpt[:3].tolist())
            )
        return float(np.prod(self.size3().tolist()))

    def center(self) -> Vec:
        """The midpoint ``(minpt + maxpt) / 2``, a float Vec."""
        return Vec(*((self.minpt + self.maxpt) / 2.0))

    def valid(self) -> bool:
        """Whether ``minpt <= maxpt`` on every axis (a box changed in place may break it)."""
        return bool(np.all(self.minpt <= self.maxpt))

    def empty(self) -> bool:
        """Whether the box holds no volume."""
        return bool((not self.valid()) or self.volume() < 20 * np.finfo(np.float32).eps)

    def subvoxel(self) -> bool:
        """Whether the box is smaller than one voxel."""
        return bool((not self.valid()) or self.volume() < 1)

    # --- set operations ------------------------------------------------------

    @classmethod
    def intersection(cls, bbx1: Bbox, bbx2: Bbox) -> Bbox:
        """The overlap of two boxes; an all-zero box when they do not overlap."""
        dtype = np.result_type(bbx1.dtype, bbx2.dtype)
        if not cls.intersects(bbx1, bbx2):
            return Bbox([0] * bbx1.ndim, [0] * bbx1.ndim, dtype=dtype, unit=bbx1.unit)
        return Bbox(
            np.maximum(bbx1.minpt, bbx2.minpt),
            np.minimum(bbx1.maxpt, bbx2.maxpt),
            dtype=dtype,
            unit=bbx1.unit,
        )

    @classmethod
    def intersects(cls, bbx1: Bbox, bbx2: Bbox) -> bool:
        """Whether the boxes share a voxel; boxes that only touch do not (they are half-open)."""
        return bool(np.all((bbx1.minpt < bbx2.maxpt) & (bbx1.maxpt > bbx2.minpt)))

    @classmethod
    def near_edge(cls, bbx1: Bbox, bbx2: Bbox, distance: int = 0) -> bool:
        """Whether, on some axis, the boxes' lower faces or their upper faces are within ``distance``."""
        return bool(
            np.any(np.abs(bbx1.minpt - bbx2.minpt) <= distance)
            or np.any(np.abs(bbx1.maxpt - bbx2.maxpt) <= distance)
        )

    @classmethod
    def expand(cls, *boxes: Bbox) -> Bbox:
        """The smallest box containing every box given (their union's hull)."""
        lo = np.min([b.minpt for b in boxes], axis=0)
        hi = np.max([b.maxpt for b in boxes], axis=0)
        return Bbox(lo, hi, dtype=boxes[0].dtype, unit=boxes[0].unit)

    @classmethod
    def clamp(cls, bbx0: Bbox, bbx1: Bbox) -> Bbox:
        """``bbx0`` with both corners clamped into ``bbx1``."""
        return Bbox(
            Vec.clamp(bbx0.minpt, bbx1.minpt, bbx1.maxpt),
            Vec.clamp(bbx0.maxpt, bbx1.minpt, bbx1.maxpt),
            dtype=bbx0.dtype,
            unit=bbx0.unit,
        )

    def contains(self, point: npt.ArrayLike) -> bool:
        """Whether ``point`` lies on or inside the box (both corners included)."""
        p = np.asarray(point)
        return bool(np.all(p >= self.minpt) and np.all(p <= self.maxpt))

    def contains_bbox(self, bbox: Bbox) -> bool:
        """Whether ``bbox`` lies within this box (it may reach this box's faces)."""
        return self.contains(bbox.minpt) and self.contains(bbox.maxpt)

    def overlaps_bbox(self, bbox: Bbox) -> bool:
        """Whether the boxes overlap or touch (unlike ``intersects``, touching counts)."""
        return not (np.any(self.maxpt < bbox.minpt) or np.any(self.minpt > bbox.maxpt))

    # --- mutation (cloud-volume semantics) -----------------------------------

    def adjust(self, amt: npt.ArrayLike) -> Bbox:
        """Grow (positive) or shrink (negative) every face by ``amt``, in place."""
        delta = np.asarray(amt)
        new_min, new_max = self.minpt - delta, self.maxpt + delta
        if np.any(new_min > new_max):
            raise GeometryError(
                f"cannot shrink {self} by {np.negative(delta).tolist()}: it would be inverted"
            )
        self.minpt, self.maxpt = Vec(*new_min, dtype=self.dtype), Vec(*new_max, dtype=self.dtype)
        return self

    def grow(self, amt: int | Sequence[int]) -> Bbox:
        """Move every face outwards by ``amt`` (one amount, or one per axis), in place; returns ``self``."""
        return self.adjust(amt)

    def shrink(self, amt: int | Sequence[int]) -> Bbox:
        """Move every face inwards by ``amt`` (non-negative), in place; returns ``self``.

        Raises ``GeometryError`` if the box would be inverted.
        """
        if np.any(np.asarray(amt) < 0):
            raise GeometryError(f"shrink takes a non-negative amount, got {amt}")
        return self.adjust(-np.asarray(amt))

    def clone(self) -> Bbox:
        """A copy, with its own corners, of the same dtype and unit."""
        return Bbox(self.minpt, self.maxpt, dtype=self.dtype, unit=self.unit)

    def astype(self, dtype: npt.DTypeLike) -> Bbox:
        """A copy with corners of ``dtype`` (converted as numpy's ``astype``: floats truncate)."""
        return Bbox(self.minpt.astype(dtype), self.maxpt.astype(dtype), dtype=dtype, unit=self.unit)

    def transpose(self) -> Bbox:
        """The box with its axes reversed: (x, y, z) becomes (z, y, x)."""
        return Bbox(self.minpt[::-1], self.maxpt[::-1], dtype=self.dtype, unit=self.unit)
