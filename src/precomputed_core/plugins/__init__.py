"""The plugin system: hook specifications, registries and lookups.

Third-party drivers and codecs implement ``hookspecs.precomputed_register_drivers``
or ``hookspecs.precomputed_register_codecs`` with ``hookimpl`` and
expose the module through the ``precomputed.drivers`` / ``precomputed.codecs``
entry-point groups. Public. May import ``interfaces`` (for types) and the layers
below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._manager import (
    DISABLE_AUTOLOAD_ENV,
    ENTRY_POINT_GROUPS,
    plugin_state,
    refresh_plugins,
    register,
)
from ._registry import Entry, Registrar
from .hookspecs import hookimpl, hookspec

if TYPE_CHECKING:
    from ..interfaces import Codec

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUPS",
    "Entry",
    "Registrar",
    "codec_entries",
    "driver_entries",
    "get_codec",
    "get_driver",
    "hookimpl",
    "hookspec",
    "load_failures",
    "refresh_plugins",
    "register",
]


def get_codec(encoding: str) -> Codec:
    """The codec instance for ``encoding``; raises ``UnsupportedEncodingError`` if none."""
    codec: Codec = plugin_state().codecs.load(encoding)
    return codec


def get_driver(protocol: str) -> tuple[Entry, Any]:
    """The entry and driver class serving ``protocol``; raises ``UnsupportedProtocolError``."""
    drivers = plugin_state().drivers
    return drivers.entry(protocol), drivers.load(protocol)


def driver_entries() -> list[Entry]:
    return plugin_state().drivers.entries()


def codec_entries() -> list[Entry]:
    return plugin_state().codecs.entries()


def load_failures() -> list[tuple[str, BaseException]]:
    """Plugins that failed to load or whose declarations were refused, as ``(owner, error)``."""
    state = plugin_state()
    return [*state.failures, *state.refused]
