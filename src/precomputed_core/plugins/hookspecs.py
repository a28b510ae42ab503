"""Hook specifications: what a driver or codec plugin declares.

They are registrar hooks (tox's ``tox_register_tox_env`` pattern): a plugin
*declares* what it provides by calling ``registry.add`` and does no work at
discovery. Implementations are named as ``"module:attr"`` strings and are only
imported when a volume first needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ._registry import Registrar

PROJECT = "precomputed"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["hookimpl", "hookspec", "precomputed_register_codecs", "precomputed_register_drivers"]


@hookspec
def precomputed_register_drivers(registry: Registrar) -> None:
    """Declare the storage protocols this plugin serves: one ``registry.add`` each.

    Called once, at the first use of any driver. ``registry.add(protocol,
    "module:attr", kind="store", requires=(...), install="...")`` names a class
    whose ``from_cloudpath(path, **options)`` opens the layer at a cloud path: a
    ``precomputed_core.Store`` subclass (``kind="store"``, the default; the
    layer is then laid out as Precomputed in it) or a
    ``precomputed_core.Volume`` subclass (``kind="volume"``, an array service
    such as the BOSS, which also receives ``info=`` when the user gives one).
    Must not import heavy dependencies: list them in ``requires`` instead.
    """


@hookspec
def precomputed_register_codecs(registry: Registrar) -> None:
    """Declare the chunk encodings this plugin provides: one ``registry.add`` each.

    Called once, at the first use of any codec. ``registry.add(encoding,
    "module:attr", requires=(...), install="...")`` names a
    ``precomputed_core.Codec`` subclass, instantiated without arguments.
    Must not import heavy dependencies: list them in ``requires`` instead.
    """
