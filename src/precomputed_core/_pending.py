"""README features that arrive in later releases: each says so instead of doing something else."""

from __future__ import annotations

import uuid
from typing import Any

from .exceptions import FeatureUnavailableError

__all__ = ["PendingFeatures"]


def _not_yet(feature: str, issue: str) -> FeatureUnavailableError:
    return FeatureUnavailableError(f"{feature} is not available yet in this version of precomputed ({issue})")


class PendingFeatures:
    """Mixin for ``CloudVolume``: cache, meshes, skeletons and the shared-memory calls."""

    _shared_memory_id: str

    @property
    def cache(self) -> Any:
        raise _not_yet("the local disk cache (vol.cache)", "use cache=False")

    @property
    def mesh(self) -> Any:
        raise _not_yet("mesh access (vol.mesh)", "meshes come in a later release")

    @property
    def skeleton(self) -> Any:
        raise _not_yet("skeleton access (vol.skeleton)", "skeletons come in a later release")

    @property
    def shared_memory_id(self) -> str:
        return self._shared_memory_id

    @shared_memory_id.setter
    def shared_memory_id(self, location: str) -> None:
        self._shared_memory_id = str(location)

    @staticmethod
    def generate_shared_memory_location() -> str:
        """A new unique shared memory name (no side effects)."""
        return f"precomputed-shm-{uuid.uuid4().hex}"

    def download_to_shared_memory(self, slices: Any, location: str | None = None) -> Any:
        raise _not_yet("download_to_shared_memory", "it arrives with the parallel scheduler")

    def upload_from_shared_memory(self, location: str, bbox: Any, order: str = "F") -> None:
        raise _not_yet("upload_from_shared_memory", "it arrives with the parallel scheduler")

    def unlink_shared_memory(self) -> None:
        raise _not_yet("unlink_shared_memory", "it arrives with the parallel scheduler")
