"""Per-key locks for stores whose writes take more than one step."""

from __future__ import annotations

import threading

__all__ = ["KeyLocks"]


class KeyLocks:
    """A fixed set of locks picked by a key's hash (bounded memory, no cleanup).

    A write that renames its object into place and then removes the object's
    other stored variants must not interleave with another write of the same
    key in this process, or each could remove what the other just wrote.
    """

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def __call__(self, key: str) -> threading.Lock:
        return self._locks[hash(key) % len(self._locks)]
