"""The README's shared-memory calls: results other processes can map, and writes from them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ._volume import ReadOptions

if TYPE_CHECKING:
    from ._bbox import Bbox
    from ._cutout import VolumeCutout
    from ._dispatch import Dispatcher, Recipe
    from ._meta import LayerMeta
    from ._volume import Volume, WriteOptions

__all__ = ["SharedMemoryAPI"]


class SharedMemoryAPI:
    """Mixin for ``CloudVolume``.

    A segment made by ``download_to_shared_memory`` is like a file: it stays (in
    /dev/shm) after the call and after this process, until ``unlink_shared_memory()``.
    Segments precomputed makes for its own work are always removed.
    """

    _shared_memory_id: str
    _dispatch: Dispatcher
    _volume: Volume
    mip: int
    fill_missing: bool
    progress: bool
    num_channels: int

    if TYPE_CHECKING:

        @property
        def meta(self) -> LayerMeta: ...

        def _box(self, obj: Any, mip: int, *, bounded: bool) -> Bbox: ...

        def _recipe(self) -> Recipe: ...

        def _write_options(self) -> WriteOptions: ...

        def _cutout(self, image: Any, box: Bbox, mip: int) -> VolumeCutout: ...

        bounded: bool

    @property
    def shared_memory_id(self) -> str:
        """The default segment name for the calls below (no ``/dev/shm/`` prefix)."""
        return self._shared_memory_id

    @shared_memory_id.setter
    def shared_memory_id(self, location: str) -> None:
        self._shared_memory_id = str(location)

    @staticmethod
    def generate_shared_memory_location() -> str:
        """A new unique shared memory name (no side effects)."""
        return f"precomputed-shm-{uuid.uuid4().hex}"

    def download_to_shared_memory(
        self, slices: Any, location: str | None = None, mip: int | None = None
    ) -> VolumeCutout:
        """Read ``slices`` into the shared segment ``location`` (default ``vol.shared_memory_id``).

        Returns the (x, y, z, c) Fortran-ordered cutout backed by that segment. Another
        process can map it by name (``multiprocessing.shared_memory.SharedMemory(name)``).
        An existing segment of that name is replaced. Unlink it when done:
        ``vol.unlink_shared_memory()``.
        """
        location = self._shared_memory_id if location is None else str(location)
        mip = self.mip if mip is None else self.meta.to_mip(mip)
        box = self._box(slices, mip, bounded=self.bounded)
        from . import _shm

        _shm.unlink(location)
        options = ReadOptions(self.fill_missing, self.progress)
        image = self._dispatch.read(
            self._volume, self._recipe(), box, mip=mip, options=options, location=location
        )
        return self._cutout(image, box, mip)

    def upload_from_shared_memory(self, location: str, bbox: Any, order: str = "F") -> None:
        """Write the array in shared segment ``location`` (no ``/dev/shm/`` prefix) to ``bbox``.

        The segment holds the box's (x, y, z, c) voxels of the layer's dtype in
        ``order`` ('F' or 'C'); it is read in place, without a copy.
        """
        box = self._box(bbox, self.mip, bounded=True)
        shape = (*(int(s) for s in box.size3()), self.num_channels)
        self._dispatch.write_from(
            self._volume,
            self._recipe(),
            box,
            str(location),
            shape=shape,
            order=order,
            mip=self.mip,
            options=self._write_options(),
        )

    def unlink_shared_memory(self) -> bool:
        """Remove the segment named ``vol.shared_memory_id``; False if there was none.

        Arrays already mapped from it stay valid until they are freed.
        """
        from . import _shm

        return _shm.unlink(self._shared_memory_id)
