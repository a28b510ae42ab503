"""``precomputed ls``: a layer's scales, with the objects each holds and their bytes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..exceptions import FeatureUnavailableError
from ..frontend import CloudVolume
from ..image import progress_bar
from ._text import megabytes, table, xyz

if TYPE_CHECKING:
    import argparse

__all__ = ["run_ls"]


def _expected(vol: CloudVolume, mip: int) -> int | None:
    """How many chunk files a complete unsharded scale holds (None for a sharded one)."""
    if vol.meta.is_sharded(mip):
        return None
    size, chunk = vol.meta.volume_size(mip).tolist(), vol.mip_chunk_size(mip).tolist()
    return int(math.prod(-(-s // c) for s, c in zip(size, chunk)))


def run_ls(args: argparse.Namespace) -> int:
    vol = CloudVolume(args.path, progress=False)
    store = vol._store()
    if store is None:
        raise FeatureUnavailableError(
            f"ls lists stored objects; {vol.layer_cloudpath} is served by an array service, which has "
            "none (precomputed info shows its scales)"
        )
    meta = vol.meta
    mips = list(meta.available_mips)
    rows, objects, nbytes = [], 0, 0
    # One listing per scale: the bar moves as each scale is listed (a large scale takes a while).
    with progress_bar(len(mips), desc="Listing scales", enabled=args.progress, unit="scale") as bar:
        for mip in mips:
            sizes = store.list_sizes(meta.key(mip).rstrip("/") + "/")
            expected = _expected(vol, mip)
            count, total = len(sizes), sum(sizes.values())
            objects, nbytes = objects + count, nbytes + total
            kind = "shards" if expected is None else "chunks"
            of = "-" if expected is None else f"{expected} ({100 * count / max(expected, 1):.0f}%)"
            rows.append([str(mip), meta.key(mip), xyz(meta.volume_size(mip)), vol.mip_encoding(mip) or "-",
                         kind, str(count), of, megabytes(total)])  # fmt: skip
            bar.update(1)
    print(f"layer  {vol.layer_cloudpath}")
    print(
        table(rows, ["mip", "key", "size (vx)", "encoding", "objects", "found", "of a full scale", "bytes"])
    )
    print(f"total  {objects} objects, {megabytes(nbytes)} in {len(mips)} scale{'s' * (len(mips) != 1)}")
    vol.close()
    return 0
