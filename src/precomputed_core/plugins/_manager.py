"""Plugin discovery: entry points found by importlib.metadata, hooks run by pluggy.

We do not use ``PluginManager.load_setuptools_entrypoints``: it imports every
plugin at once, names plugins by the bare entry-point name (so equal names in
two groups collide silently) and stops at the first plugin that fails to
import. Our loop records a failing plugin with a warning and loads the rest.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from ..exceptions import (
    PluginError,
    PluginWarning,
    UnsupportedEncodingError,
    UnsupportedProtocolError,
)
from . import hookspecs
from ._registry import Registrar, Registry

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUPS",
    "PluginState",
    "plugin_state",
    "refresh_plugins",
    "register",
]

_log = logging.getLogger(__name__)

ENTRY_POINT_GROUPS = {"drivers": "precomputed.drivers", "codecs": "precomputed.codecs"}
DISABLE_AUTOLOAD_ENV = "PRECOMPUTED_DISABLE_PLUGIN_AUTOLOAD"
_HOOKS = {
    "drivers": ("precomputed_register_drivers", ("store", "volume")),
    "codecs": ("precomputed_register_codecs", ("codec",)),
}
_LOCK = threading.RLock()


def _instantiate(cls: Any) -> Any:
    return cls()


def _identity(obj: Any) -> Any:
    return obj


@dataclass
class PluginState:
    """The plugin manager and the tables its plugins filled."""

    pm: pluggy.PluginManager
    owners: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)
    refused: list[tuple[str, BaseException]] = field(default_factory=list)
    drivers: Registry = field(init=False)
    codecs: Registry = field(init=False)

    def __post_init__(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Ask every registered plugin to declare what it provides, into fresh tables."""
        self.drivers = Registry("driver", UnsupportedProtocolError, _identity)
        self.codecs = Registry("codec", UnsupportedEncodingError, _instantiate)
        self.refused = []
        plugins = self.pm.get_plugins()
        for name, plugin in self.pm.list_name_plugin():
            others = [p for p in plugins if p is not plugin]
            owner = self.owners.get(name, name)
            for group, (hook_name, kinds) in _HOOKS.items():
                registry = self.drivers if group == "drivers" else self.codecs
                caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
                try:
                    caller(registry=Registrar(registry, owner, kinds))
                except Exception as err:
                    # A buggy, conflicting or malformed declaration loses; the others stay.
                    self.refused.append((owner, err))
                    _log.debug("plugin %s: its declarations were refused", owner, exc_info=err)
                    warnings.warn(f"precomputed plugin {owner}: {err}", PluginWarning, stacklevel=4)
        self.drivers.failures = self.codecs.failures = self.failures + self.refused

    def add_plugin(self, plugin: Any, *, name: str, owner: str) -> bool:
        """Register one plugin object; a plugin with a misspelt hook is refused."""
        if self.pm.is_registered(plugin) or self.pm.has_plugin(name):
            return False
        self.pm.register(plugin, name=name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as err:
            self.pm.unregister(plugin)
            raise PluginError(f"plugin {owner} declares an unknown hook: {err}") from err
        self.owners[name] = owner
        return True


def _discover(state: PluginState) -> None:
    for group in ENTRY_POINT_GROUPS.values():
        found = sorted(entry_points(group=group), key=lambda ep: ep.name)
        for ep in found:
            dist = getattr(ep, "dist", None)
            owner = dist.name if dist is not None else ep.name
            try:
                state.add_plugin(ep.load(), name=f"{group}:{ep.name}", owner=owner)
                _log.debug("plugin %s loaded (%s: %s)", owner, group, ep.value)
            except Exception as err:
                state.failures.append((owner, err))
                _log.debug("plugin %s (%s: %s) failed to load", owner, group, ep.value, exc_info=err)
                warnings.warn(
                    f"precomputed plugin {owner} ({group}: {ep.value}) failed to load and is "
                    f"skipped: {type(err).__name__}: {err}",
                    PluginWarning,
                    stacklevel=3,
                )


@functools.cache
def _cached_state() -> PluginState:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    state = PluginState(pm)
    if os.environ.get(DISABLE_AUTOLOAD_ENV, "") not in ("1", "true", "yes"):
        _discover(state)
        state.rebuild()
    return state


def plugin_state() -> PluginState:
    """The plugin state, discovered on first use (entry points are not scanned at import)."""
    with _LOCK:
        return _cached_state()


def refresh_plugins() -> None:
    """Forget discovered plugins so the next use scans the entry points again."""
    with _LOCK:
        _cached_state.cache_clear()


def register(plugin: Any, name: str | None = None) -> None:
    """Register a plugin object directly (for tests and embedding); no entry point needed."""
    with _LOCK:
        state = plugin_state()
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if not state.add_plugin(plugin, name=f"direct:{label}:{id(plugin)}", owner=label):
            raise PluginError(f"plugin {label} is already registered")
        state.rebuild()
