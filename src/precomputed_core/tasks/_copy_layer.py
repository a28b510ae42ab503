"""``precomputed cp``: a byte-identical copy of everything stored under a layer, resumable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..image import progress_bar
from ._transfer import AUTO, copy_objects

if TYPE_CHECKING:
    from ..interfaces import Store

__all__ = ["CopyReport", "copy_layer"]

#: Written last, so an interrupted copy never looks like a complete layer to a reader.
_LAST = ("info", "provenance")


@dataclass(frozen=True)
class CopyReport:
    copied: int
    skipped: int
    nbytes: int


#: About how many bytes one copy call holds in memory (a bigger object goes alone).
GROUP_BYTES = 64 * 2**20


def _groups(keys: list[str], sizes: dict[str, int], most: int) -> list[list[str]]:
    """``keys`` in runs of at most ``most`` objects and about ``GROUP_BYTES`` bytes, so the
    copies in flight stay bounded whatever the objects' sizes (shard files are large)."""
    groups: list[list[str]] = []
    current: list[str] = []
    held = 0
    for key in keys:
        if current and (len(current) >= most or held + sizes[key] > GROUP_BYTES):
            groups.append(current)
            current, held = [], 0
        current.append(key)
        held += sizes[key]
    if current:
        groups.append(current)
    return groups


def copy_layer(
    source: Store, target: Store, *, threads: int = 8, batch: int = 64, progress: bool = False
) -> CopyReport:
    """Copy every object under ``source`` (the info, provenance, every scale's chunks or
    shards, the mesh, skeleton and annotation directories...) to ``target`` as stored (a
    compressed object stays compressed). An object already in ``target`` with the same
    stored size is skipped, so rerunning an interrupted copy resumes it."""
    sizes = source.list_sizes("")
    present = target.list_sizes("")
    pending = [key for key, size in sizes.items() if present.get(key) != size]
    first = [key for key in pending if key not in _LAST]
    last = [key for key in _LAST if key in pending]
    groups = _groups(first, sizes, batch)
    with progress_bar(
        len(pending), desc="Copying", enabled=progress and len(pending) > 1, unit="object"
    ) as bar:
        with ThreadPoolExecutor(max(1, threads), thread_name_prefix="precomputed-cp") as pool:
            copies = pool.map(lambda keys: copy_objects(source, target, keys, AUTO), groups)
            for group, _ in zip(groups, copies):
                bar.update(len(group))
        if last:
            copy_objects(source, target, last, AUTO)
            bar.update(len(last))
    return CopyReport(
        copied=len(pending), skipped=len(sizes) - len(pending), nbytes=sum(sizes[k] for k in pending)
    )
