"""The README's shared-memory calls: results other processes can map, and writes from them.

A segment made by ``download_to_shared_memory`` is like a file: it stays (in
/dev/shm) after the call and after this process, until ``unlink_shared_memory()``.
Segments precomputed makes for its own work are always removed.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

from ..exceptions import AlignmentError
from ..parallel import unlink_segment

if TYPE_CHECKING:
    from ._access import VoxelAccess
    from ._cutout import VolumeCutout
    from ._options import Settings

__all__ = ["SharedMemoryAccess", "new_location"]


def new_location() -> str:
    """A new unique shared memory name (no side effects)."""
    return f"precomputed-shm-{os.getpid()}-{uuid.uuid4().hex}"


class SharedMemoryAccess:
    """Reads into and writes from named shared memory, through a layer's ``VoxelAccess``."""

    def __init__(self, voxels: VoxelAccess) -> None:
        self._voxels = voxels

    def download(self, slices: Any, location: str, mip: int, settings: Settings) -> VolumeCutout:
        """Read ``slices`` at ``mip`` into the segment ``location`` (replacing one of that name)."""
        voxels = self._voxels
        box = voxels.box(slices, mip, bounded=settings.bounded, crop=settings.crop)
        unlink_segment(location)
        options = settings.read_options()
        image = voxels.dispatch.read(
            voxels.volume, voxels.recipe(), box, mip=mip, options=options, location=location
        )
        return voxels.cutout(image, box, mip)

    def upload(
        self, location: str, bbox: Any, order: str, settings: Settings, cutout_bbox: Any = None
    ) -> None:
        """Write the (x, y, z, c) array of the layer's dtype that segment ``location`` holds
        (covering ``bbox``), or only its part ``cutout_bbox`` (volume coordinates)."""
        voxels = self._voxels
        if order not in ("C", "F"):
            raise ValueError(f"order must be 'C' or 'F', got {order!r}")
        # The segment covers all of ``bbox``; only the part written is cropped, by autocrop
        # as every write is (bounded or not, as cloud-volume's writes).
        box = voxels.box(bbox, settings.mip, bounded=False, crop=False)
        wanted = bbox if cutout_bbox is None else cutout_bbox
        part = voxels.box(wanted, settings.mip, bounded=not settings.autocrop, crop=settings.autocrop)
        if part.subvoxel():
            return  # autocrop left nothing inside the volume
        if not box.contains_bbox(part):
            raise AlignmentError(
                f"cutout_bbox {part} is not inside the array's box {box}; give a cutout_bbox within it"
            )
        shape = (*(int(s) for s in box.size3()), voxels.meta.num_channels)
        voxels.dispatch.write_from(
            voxels.volume, voxels.recipe(), box, location, shape=shape, order=order,
            mip=settings.mip, options=settings.write_options(), part=part,
        )  # fmt: skip
