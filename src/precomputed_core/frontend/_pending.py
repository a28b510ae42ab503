"""``vol.cache``, ``vol.mesh`` and ``vol.skeleton`` until their releases: objects that say so.

``CloudVolume`` holds one of each, as cloud-volume does; the issues that bring the
disk cache, meshes and skeletons replace these classes with the real services, in
their own packages. Until then every use raises :class:`FeatureUnavailableError`
naming the feature, instead of doing something else.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..exceptions import FeatureUnavailableError

__all__ = ["DisabledCache", "NotYetAvailable"]


class NotYetAvailable:
    """A feature of a later release: any public attribute raises, saying which and what to do."""

    def __init__(self, feature: str, hint: str) -> None:
        self._feature = feature
        self._hint = hint

    def _refuse(self) -> NoReturn:
        raise FeatureUnavailableError(
            f"{self._feature} is not available yet in this version of precomputed ({self._hint})"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy, pickle and introspection look for these
            raise AttributeError(name)
        self._refuse()

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
            return
        self._refuse()

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    def __repr__(self) -> str:
        return f"<{self._feature}: not available yet>"


class DisabledCache(NotYetAvailable):
    """``vol.cache`` while there is no disk cache: ``enabled`` is False and cannot be turned on."""

    def __init__(self) -> None:
        super().__init__("the local disk cache (vol.cache)", "use cache=False")

    @property
    def enabled(self) -> bool:
        return False

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if value:
            self._refuse()
