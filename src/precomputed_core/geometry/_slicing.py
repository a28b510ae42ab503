"""Turn user indices (``vol[0:10, :, 5]``, ``np.s_[...]``, ``...``) into concrete slices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import GeometryError, OutOfBoundsError

if TYPE_CHECKING:
    from ._bbox import Bbox

__all__ = ["reify_slices"]

_AXES = "xyzc"
_INDEX_TYPES = (int, np.integer, float, np.floating)


def _as_list(box: Bbox, slices: Any) -> list[Any]:
    from ._bbox import Bbox

    if isinstance(slices, (_INDEX_TYPES, slice)):
        return [slices]
    if isinstance(slices, Bbox):
        return list(slices.to_slices())
    if slices is Ellipsis:
        return []
    if isinstance(slices, list | tuple):
        items = list(slices)
        ellipses = [i for i, s in enumerate(items) if s is Ellipsis]
        if len(ellipses) > 1:
            raise GeometryError("an index can only have a single ellipsis ('...')")
        if ellipses:
            at = ellipses[0]
            fill = max(box.ndim - len(items) + 1, 0)
            items = items[:at] + [slice(None)] * fill + items[at + 1 :]
        return items
    raise GeometryError(
        f"cannot index a volume with {type(slices).__name__}; use ints, slices, '...', np.s_[...] or a Bbox"
    )


def _droppable(item: Any) -> bool:
    """A trailing index beyond the box's axes that selects its one implicit element (``:``, 0, 0:1)."""
    if isinstance(item, _INDEX_TYPES):
        return int(item) == 0
    if not isinstance(item, slice):
        return False
    return item.start in (None, 0) and item.stop in (None, 1) and item.step in (None, 1)


def _trim(box: Bbox, items: list[Any]) -> list[Any]:
    while len(items) < box.ndim:
        items.append(slice(None))
    while len(items) > box.ndim:
        if not _droppable(items[-1]):
            raise GeometryError(f"too many indices {items} for a {box.ndim}-d volume {box}")
        items.pop()
    return items


def _one(
    box: Bbox, index: int, item: Any, limits: tuple[int, int], *, bounded: bool, autocrop: bool
) -> slice:
    lo, hi = limits
    if isinstance(item, _INDEX_TYPES):
        start, stop, step = int(item), int(item) + 1, 1
    elif isinstance(item, slice):
        start = lo if item.start is None else int(item.start)
        stop = hi if item.stop is None else int(item.stop)
        step = 1 if item.step is None else int(item.step)
    else:
        raise GeometryError(f"cannot index axis {_AXES[index]} with {item!r}")
    if step <= 0:
        raise GeometryError(
            f"step {step} on axis {_AXES[index]} is not supported; use a positive step "
            "and reverse the result with numpy (e.g. cutout[::-1])"
        )
    if autocrop:
        start, stop = min(max(start, lo), hi), min(max(stop, lo), hi)
    elif bounded and not (lo <= start <= hi and lo <= stop <= hi):
        raise OutOfBoundsError(
            f"axis {_AXES[index]} range {start}:{stop} is outside the volume bounds "
            f"{lo}:{hi} of {box}; request a range inside it, or open the volume "
            "with bounded=False (zeros outside) or autocrop=True"
        )
    return slice(start, stop, step)


def reify_slices(box: Bbox, slices: Any, *, bounded: bool = True, autocrop: bool = False) -> list[slice]:
    """Concrete ``slice(start, stop, step)`` per axis of ``box`` for a user index.

    Examples
    --------
    >>> from precomputed_core import Bbox
    >>> box = Bbox((0, 0, 0, 0), (10, 20, 30, 1))
    >>> reify_slices(box, np.s_[2:4, ..., 0])
    [slice(2, 4, 1), slice(0, 20, 1), slice(0, 30, 1), slice(0, 1, 1)]
    >>> reify_slices(box, 5)
    [slice(5, 6, 1), slice(0, 20, 1), slice(0, 30, 1), slice(0, 1, 1)]
    """
    items = _trim(box, _as_list(box, slices))
    limits = list(zip(box.minpt.tolist(), box.maxpt.tolist()))
    return [_one(box, i, item, limits[i], bounded=bounded, autocrop=autocrop) for i, item in enumerate(items)]
