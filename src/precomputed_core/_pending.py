"""README features that arrive in later releases: each says so instead of doing something else."""

from __future__ import annotations

from typing import Any

from .exceptions import FeatureUnavailableError

__all__ = ["PendingFeatures"]


def _not_yet(feature: str, issue: str) -> FeatureUnavailableError:
    return FeatureUnavailableError(f"{feature} is not available yet in this version of precomputed ({issue})")


class PendingFeatures:
    """Mixin for ``CloudVolume``: the disk cache, meshes and skeletons."""

    @property
    def cache(self) -> Any:
        raise _not_yet("the local disk cache (vol.cache)", "use cache=False")

    @property
    def mesh(self) -> Any:
        raise _not_yet("mesh access (vol.mesh)", "meshes come in a later release")

    @property
    def skeleton(self) -> Any:
        raise _not_yet("skeleton access (vol.skeleton)", "skeletons come in a later release")
