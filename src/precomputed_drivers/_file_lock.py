"""An advisory lock on a file path, across processes and threads, that leaves no file behind.

The lock is ``flock`` on a hidden lock file beside the object: ``flock`` belongs to
the open file, so two threads (each opening the file) exclude each other as two
processes do, and the kernel releases it when a holder dies. The holder deletes the
lock file before releasing it; a waiter that then gets the lock of a deleted file sees
that the path no longer names it and starts again on the new one.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["LOCK_SUFFIX", "file_lock", "is_lock_file"]

LOCK_SUFFIX = ".lock"

#: Descriptors of the lock files this process holds now.
_held: set[int] = set()


def _release_inherited() -> None:
    # A child forked during an update shares the open lock file, and the lock with it,
    # until it closes its copy: it must not keep the parent's lock.
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_release_inherited)


def lock_path(path: str) -> str:
    directory, name = os.path.split(path)
    return f"{directory}/.{name}{LOCK_SUFFIX}"


def is_lock_file(name: str) -> bool:
    """Whether a file name is one of these lock files (never listed as an object)."""
    return name.startswith(".") and name.endswith(LOCK_SUFFIX)


def _same_file(fd: int, path: str) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


@contextlib.contextmanager
def file_lock(path: str) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (its directory must exist).

    Without ``fcntl`` (Windows) there is no lock between processes; the caller's
    in-process lock still serialises this process's writers.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    name = lock_path(path)
    while True:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, name):
            break
        os.close(fd)  # the holder before us removed this lock file: take the new one
    _held.add(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        _held.discard(fd)
        os.close(fd)
