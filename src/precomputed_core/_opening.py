"""Find the driver of a cloud path and open the layer's ``Volume`` through it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._meta import LayerMeta
from ._precomputed_volume import PrecomputedVolume
from .exceptions import UnsupportedProtocolError
from .plugins import get_driver

if TYPE_CHECKING:
    from ._paths import CloudPath
    from ._volume import Volume

__all__ = ["open_volume"]


def open_volume(path: CloudPath, *, info: dict[str, Any] | None, **options: Any) -> Volume:
    """Open ``path``; read its info from storage unless ``info`` is given."""
    try:
        entry, driver = get_driver(path.protocol)
    except UnsupportedProtocolError as err:
        raise UnsupportedProtocolError(f"{err} (in {path.url!r})") from None
    if entry.kind == "volume":
        volume: Volume = driver.from_cloudpath(path, **options)
        if info is not None:
            LayerMeta(info).validate()
            volume.meta.info = info
        return volume
    store = driver.from_cloudpath(path, **options)
    try:
        if info is None:
            return PrecomputedVolume(store)
        meta = LayerMeta(info)
        meta.validate()
        return PrecomputedVolume(store, meta)
    except BaseException:
        store.close()
        raise
