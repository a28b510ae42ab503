"""Segment ids as users give them: one id, or many (list, tuple, set, numpy array)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["segment_ids"]

_MAX_ID = 2**64 - 1


def segment_ids(segids: Any) -> list[int]:
    """The ids in ``segids`` as plain ints, in the order given, each once.

    >>> segment_ids(5), segment_ids([3, "7", np.uint64(3)])
    ([5], [3, 7])
    """
    if isinstance(segids, (int, np.integer, str, bytes)):
        segids = [segids]
    elif isinstance(segids, np.ndarray):
        segids = segids.reshape(-1).tolist()
    out: list[int] = []
    for value in segids:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, str, bytes)):
            raise TypeError(f"a segment id must be a whole number, got {value!r}")
        try:
            segid = int(value)
        except ValueError:
            raise ValueError(f"a segment id must be a whole number, got {value!r}") from None
        if not 0 <= segid <= _MAX_ID:
            raise ValueError(f"segment id {segid} is outside 0 to 2**64 - 1")
        out.append(segid)
    if not out:
        raise ValueError("no segment ids were given")
    return list(dict.fromkeys(out))
