"""cloud-volume's ``cloudvolume.lib``: ``Bbox``, ``Vec`` and its small helpers.

Scripts written for cloud-volume import ``from cloudvolume.lib import Bbox, Vec``
and use a handful of its helpers (``mkdir``, ``jsonify``, ``xyzrange``,
``find_closest_divisor``...); this module lets them switch by changing that import
to ``precomputed_core.lib``. The helpers behave as cloud-volume 12's do, except
that ``divisors`` yields integers where cloud-volume yields some as floats.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import string
import types
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .exceptions import OutOfBoundsError
from .frontend import save_images
from .geometry import UNIT_SCALES, Bbox, Vec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = [
    "UNIT_SCALES",
    "Bbox",
    "NumpyEncoder",
    "Vec",
    "check_bounds",
    "clamp",
    "colorize",
    "divisors",
    "duplicates",
    "find_closest_divisor",
    "first",
    "floating",
    "generate_random_string",
    "green",
    "jsonify",
    "map2",
    "max2",
    "min2",
    "mkdir",
    "moving_average",
    "nvl",
    "red",
    "save_images",
    "scatter",
    "sip",
    "toabs",
    "toiter",
    "totalfn",
    "touch",
    "xyzrange",
    "yellow",
]

T = TypeVar("T")

COLORS = {
    "RESET": "\033[m",
    "YELLOW": "\033[1;93m",
    "RED": "\033[1;91m",
    "GREEN": "\033[1;92m",
}


class NumpyEncoder(json.JSONEncoder):
    """JSON for numpy arrays and scalars (as lists, ints and floats)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        return super().default(o)


def jsonify(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that also takes numpy arrays and scalars."""
    return json.dumps(obj, cls=NumpyEncoder, **kwargs)


def nvl(*args: Any) -> Any:
    """The first argument that is not None (None if all are)."""
    return next((arg for arg in args if arg is not None), None)


def first(items: Any) -> Any:
    """The first element of a sequence, iterable or generator; None if it is empty."""
    if not isinstance(items, types.GeneratorType):
        try:
            return items[0]
        except IndexError:
            return None
        except (TypeError, KeyError):
            pass
    return next(iter(items), None)


def totalfn(iterator: Any, total: int | None) -> int | None:
    """``total`` if given, else the iterator's length when it has one (for progress bars)."""
    if total is not None:
        return total
    try:
        return len(iterator)
    except TypeError:
        return None


def sip(iterable: Iterable[T], block_size: int) -> Iterator[list[T]]:
    """Lists of ``block_size`` consecutive items (the last may be shorter)."""
    block: list[T] = []
    for item in iterable:
        block.append(item)
        if len(block) == block_size:
            yield block
            block = []
    if block:
        yield block


def toiter(obj: Any, is_iter: bool = False) -> Any:
    """``obj`` if iterable (strings and dicts are not), else ``[obj]``; with
    ``is_iter=True``, a pair (that, whether ``obj`` was iterable)."""
    iterable = not isinstance(obj, (str, bytes, dict))
    if iterable:
        try:
            iter(obj)
        except TypeError:
            iterable = False
    result = obj if iterable else [obj]
    return (result, iterable) if is_iter else result


def duplicates(items: Iterable[T]) -> set[T]:
    """The items that occur more than once."""
    seen: set[T] = set()
    dupes: set[T] = set()
    for item in items:
        (dupes if item in seen else seen).add(item)
    return dupes


def colorize(color: str, text: str) -> str:
    """``text`` wrapped in the ANSI colour codes of 'red', 'yellow' or 'green'."""
    return COLORS[color.upper()] + text + COLORS["RESET"]


def green(text: str) -> str:
    return colorize("green", text)


def yellow(text: str) -> str:
    return colorize("yellow", text)


def red(text: str) -> str:
    return colorize("red", text)


def generate_random_string(size: int = 6) -> str:
    """Random lowercase letters and digits, from the OS's secure source."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(size))


def toabs(path: str) -> str:
    """``path`` with ``~`` expanded, made absolute."""
    return os.path.abspath(os.path.expanduser(path))


def mkdir(path: str) -> str:
    """Create the directory and its parents if missing (racing creators are fine);
    returns its absolute path."""
    path = toabs(path)
    os.makedirs(path, exist_ok=True)
    return path


def touch(path: str) -> None:
    """Create an empty file (and its directory) if missing."""
    mkdir(os.path.dirname(toabs(path)))
    with open(path, "a"):
        pass


def divisors(n: int) -> Iterator[int]:
    """The divisors of ``n``, in pairs (i, n // i) for i up to sqrt(n)."""
    for i in range(1, math.isqrt(n) + 1):
        if n % i == 0:
            yield i
            if i * i != n:
                yield n // i


def find_closest_divisor(to_divide: Sequence[int], closest_to: Sequence[int]) -> list[int]:
    """Per axis, the divisor of ``to_divide`` nearest ``closest_to`` (ties to the
    smaller), e.g. a chunk size that tiles a volume of that size."""

    def closest(size: int, target: int) -> int:
        best, distance = int(size), abs(int(size) - target)
        for divisor in sorted(divisors(int(size))):
            if abs(divisor - target) < distance:
                best, distance = divisor, abs(divisor - target)
        return best

    return [closest(size, target) for size, target in zip(to_divide, closest_to)]


def scatter(sequence: Sequence[T], n: int) -> Iterator[Sequence[T]]:
    """``n`` interleaved slices of ``sequence`` (every n-th item from 0, 1, ...)."""
    for i in range(n):
        yield sequence[i::n]


def floating(values: Iterable[Any]) -> bool:
    """Whether any value is a Python float."""
    return any(isinstance(value, float) for value in values)


def xyzrange(
    start_vec: Sequence[float],
    end_vec: Sequence[float] | None = None,
    stride_vec: Sequence[float] = (1, 1, 1),
) -> Iterator[Vec]:
    """Grid points from ``start_vec`` (inclusive) to ``end_vec`` (exclusive), x fastest;
    with one argument, from the origin to it."""
    if end_vec is None:
        start_vec, end_vec = (0, 0, 0), start_vec
    dtype = float if floating(start_vec) or floating(end_vec) or floating(stride_vec) else int
    start = np.asarray(start_vec, dtype=dtype)
    end = np.asarray(end_vec, dtype=dtype)
    for z in np.arange(start[2], end[2], stride_vec[2], dtype=dtype):
        for y in np.arange(start[1], end[1], stride_vec[1], dtype=dtype):
            for x in np.arange(start[0], end[0], stride_vec[0], dtype=dtype):
                yield Vec(x, y, z, dtype=dtype)


def map2(fn: Callable[[Any, Any], Any], a: Sequence[Any], b: Sequence[Any]) -> Any:
    """``fn`` applied element-wise to two equal-length vectors (a Vec if either is one)."""
    if len(a) != len(b):
        raise ValueError(f"vector lengths do not match: {a!r} (len {len(a)}), {b!r} (len {len(b)})")
    result = np.array([fn(x, y) for x, y in zip(a, b)], dtype=float)
    return Vec(*result) if isinstance(a, Vec) or isinstance(b, Vec) else result


def max2(a: Any, b: Any) -> Any:
    """Element-wise maximum, in ``a``'s dtype."""
    return map2(max, a, b).astype(a.dtype)


def min2(a: Any, b: Any) -> Any:
    """Element-wise minimum, in ``a``'s dtype."""
    return map2(min, a, b).astype(a.dtype)


def clamp(val: Any, low: Any, high: Any) -> Any:
    return min(max(val, low), high)


def check_bounds(val: Any, low: Any, high: Any, index: Any) -> Any:
    """``val`` if within [low, high], else an OutOfBoundsError naming ``index``."""
    if val > high or val < low:
        raise OutOfBoundsError(f"value {val} (index={index}) is outside the inclusive range {low} to {high}")
    return val


def moving_average(a: np.ndarray[Any, Any], n: int, mode: str = "symmetric") -> np.ndarray[Any, Any]:
    """The running mean of ``a`` over the ``n`` samples ending at each one (along axis 0
    for 2D input), the start padded with ``np.pad(mode=mode)``; used to smooth skeletons."""
    if n <= 0:
        raise ValueError(f"window size ({n}) must be >= 1")
    if n == 1 or len(a) == 0:
        return a
    pad = [(n, n), (0, 0)] if a.ndim == 2 else [(n, n)]
    padded = np.pad(a, pad, mode=mode)  # type: ignore[call-overload]
    sums = np.cumsum(padded, dtype=float, axis=0)
    out: np.ndarray[Any, Any] = (sums[n:] - sums[:-n])[:-n] / float(n)
    return out
