"""Find the driver of a cloud path and open the layer's ``Volume`` through it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cache import CachedStore, CacheSettings
from ..exceptions import FeatureUnavailableError, UnsupportedProtocolError
from ..meta import LayerMeta
from ..plugins import get_driver
from ._precomputed_volume import PrecomputedVolume

if TYPE_CHECKING:
    from ..interfaces import Volume
    from ..meta import CloudPath

__all__ = ["open_volume"]


def open_volume(
    path: CloudPath,
    *,
    info: dict[str, Any] | None,
    cache: CacheSettings | dict[str, Any] | None = None,
    **options: Any,
) -> Volume:
    """Open ``path``; read its info from storage (or the disk cache) unless ``info`` is given.

    A ``kind="volume"`` driver opens the volume itself; a ``kind="store"`` driver
    opens a store, which a ``PrecomputedVolume`` lays the layer out in, behind
    the disk cache ``cache`` describes (settings, or their ``to_json()`` in a worker).
    """
    try:
        entry, driver = get_driver(path.protocol)
    except UnsupportedProtocolError as err:
        raise UnsupportedProtocolError(f"{err} (in {path.url!r})") from None
    if isinstance(cache, dict):
        cache = CacheSettings(**cache)
    if entry.kind == "volume":
        if cache is not None and cache.enabled:
            raise FeatureUnavailableError(
                f"cache=True: {path.url} is served by an array service ({entry.target}), not stored "
                "objects, so the disk cache has nothing to keep; use cache=False"
            )
        if info is not None:
            options["info"] = info  # a new layer: the volume must not look for a stored info
        volume: Volume = driver.from_cloudpath(path, **options)
        if info is not None:
            try:
                volume.check_info(info)
            except BaseException:
                volume.close()
                raise
            volume.meta.info = info
        return volume
    store = driver.from_cloudpath(path, **options)
    if cache is not None:
        store = CachedStore(store, cache)
    try:
        if info is None:
            return PrecomputedVolume(store)
        meta = LayerMeta(info)
        meta.validate()
        return PrecomputedVolume(store, meta)
    except BaseException:
        store.close()
        raise
