"""The README's API: ``CloudVolume`` and the ``VolumeCutout`` its reads return.

``CloudVolume`` is a facade: it parses the options and holds the parts that do
the work (voxel access, shared memory, the per-mip properties, and the
``cache``, ``mesh`` and ``skeleton`` objects). May import every layer below it:
``parallel``, ``image``, ``format``, ``plugins``, ``interfaces``, ``meta``,
``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._cloudvolume import CloudVolume
from ._cutout import VolumeCutout, save_images

__all__ = ["CloudVolume", "VolumeCutout", "save_images"]
