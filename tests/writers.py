"""Writers that race on one chunk, for the lost-update tests (importable by spawned processes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from precomputed_core import CloudVolume

#: One chunk of 32^3 uint32, written by two writers: each owns one half (x < 16, x >= 16).
SIZE = (32, 32, 32)
HALF = SIZE[0] // 2


def info(*, sharded: bool = False) -> dict[str, Any]:
    """One chunk; or, ``sharded``, one shard of eight 16^3 chunks, so each writer's half is
    four whole chunks: aligned writes that still share a stored object, the shard."""
    chunk = [16, 16, 16] if sharded else list(SIZE)
    layer = CloudVolume.create_new_info(1, "segmentation", "uint32", "raw", [1, 1, 1], [0, 0, 0], list(SIZE),
                                        chunk_size=chunk)  # fmt: skip
    if sharded:
        layer["scales"][0]["sharding"] = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 3,
                                          "hash": "identity", "minishard_bits": 0, "shard_bits": 0}  # fmt: skip
    return layer


def value(round_: int, writer: int) -> int:
    return round_ * 2 + writer + 1


def write_half(vol: CloudVolume, round_: int, writer: int) -> None:
    """Writer 0 fills x < HALF, writer 1 x >= HALF, of the one chunk (a non-aligned write)."""
    x0 = writer * HALF
    vol[x0 : x0 + HALF, 0 : SIZE[1], 0 : SIZE[2]] = np.full(
        (HALF, *SIZE[1:]), value(round_, writer), np.uint32
    )


def lost_halves(vol: CloudVolume, round_: int) -> list[int]:
    """The writers whose last values are not (all) there after ``round_``."""
    block = vol[0 : SIZE[0], 0 : SIZE[1], 0 : SIZE[2]][..., 0]
    halves = (block[:HALF], block[HALF:])
    return [w for w, half in enumerate(halves) if not (half == value(round_, w)).all()]


def write_rounds(vol: CloudVolume, writer: int, rounds: int, barrier: Any) -> None:
    """Each round: wait for the others, write this writer's half, wait again.

    A failure breaks the barrier, so the reader and the other writer stop at once,
    not at the barrier's timeout.
    """
    try:
        for round_ in range(rounds):
            barrier.wait()
            write_half(vol, round_, writer)
            barrier.wait()
    except BaseException:
        barrier.abort()
        raise


def writer_process(url: str, writer: int, rounds: int, barrier: Any, env: dict[str, str]) -> None:
    """:func:`write_rounds` in a spawned process, with a volume of its own."""
    import os

    os.environ.update(env)
    try:
        vol = CloudVolume(url, non_aligned_writes=True, fill_missing=True, progress=False)
    except BaseException:
        barrier.abort()
        raise
    write_rounds(vol, writer, rounds, barrier)


def hold_the_lock_then_die(url: str, ready: Any) -> None:
    """Start an update of the chunk and stop inside it, holding the file lock, until killed."""
    import time

    store = CloudVolume(url, progress=False)._volume.store

    def update(current: Any) -> Any:
        ready.set()
        time.sleep(300)
        return current

    store.update_many({"1_1_1/0-32_0-32_0-32": update})
