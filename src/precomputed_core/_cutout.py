"""Where ``VolumeCutout`` lived in 0.1.0: pickles made then name this module, so it stays."""

from __future__ import annotations

from .frontend._cutout import VolumeCutout

__all__ = ["VolumeCutout"]
