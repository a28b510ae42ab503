"""Tables of declared drivers and codecs, resolved lazily on first use."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import PluginConflictError, PluginError, PluginLoadError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["Entry", "Registrar", "Registry"]

_log = logging.getLogger(__name__)

KINDS = ("store", "volume", "codec")


@dataclass(frozen=True, slots=True)
class Entry:
    """One declared implementation: ``key`` served by ``target`` ("module:attr")."""

    key: str
    target: str
    owner: str
    kind: str
    requires: tuple[str, ...] = ()
    install: str | None = None

    def missing(self) -> list[str]:
        """Required top-level modules that are not installed (checked without importing)."""
        return [name for name in self.requires if importlib.util.find_spec(name) is None]


class Registry:
    """A table from key (protocol or encoding) to ``Entry``.

    ``unknown`` is the error raised for a key nobody declared; ``build`` turns
    the imported target into what callers get (a codec instance, a driver class).
    """

    def __init__(
        self,
        what: str,
        unknown: type[PluginError],
        build: Callable[[Any], Any],
    ) -> None:
        self.what = what
        self._unknown = unknown
        self._build = build
        self._entries: dict[str, Entry] = {}
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.failures: list[tuple[str, BaseException]] = []

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        key = entry.key.lower()
        if entry.kind not in KINDS:
            raise PluginError(f"{entry.owner}: kind must be one of {KINDS}, got {entry.kind!r}")
        if ":" not in entry.target:
            raise PluginError(f"{entry.owner}: target {entry.target!r} must look like 'module:attr'")
        previous = self._entries.get(key)
        if previous is not None and not replace and previous.owner != entry.owner:
            raise PluginConflictError(
                f"{self.what} {key!r} is claimed by both {previous.owner} ({previous.target}) "
                f"and {entry.owner} ({entry.target}); uninstall one, or register with replace=True"
            )
        self._entries[key] = entry
        self._loaded.pop(key, None)

    def keys(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[k] for k in self.keys()]

    def entry(self, key: str) -> Entry:
        found = self._entries.get(key.lower())
        if found is None:
            raise self._unknown(self.describe_unknown(key))
        return found

    def describe_unknown(self, key: str) -> str:
        installed = ", ".join(self.keys()) or "none"
        text = f"no {self.what} for {key!r}. Installed: {installed}."
        if self.failures:
            failed = "; ".join(f"{owner} ({type(err).__name__}: {err})" for owner, err in self.failures)
            text += f" Failed to load: {failed}."
        return text

    def load(self, key: str) -> Any:
        """Import (once) and build the implementation of ``key``."""
        entry = self.entry(key)
        with self._lock:
            if entry.key.lower() not in self._loaded:
                self._loaded[entry.key.lower()] = self._build(_import_target(entry, self.what))
            return self._loaded[entry.key.lower()]


def _import_target(entry: Entry, what: str) -> Any:
    missing = entry.missing()
    if missing:
        _log.debug("%s %r from %s is missing %s", what, entry.key, entry.owner, ", ".join(missing))
        hint = f": pip install '{entry.install}'" if entry.install else ""
        raise PluginLoadError(f"{what} {entry.key!r} (from {entry.owner}) needs {', '.join(missing)}{hint}")
    module_name, _, attr = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as err:
        _log.debug(
            "%s %r from %s failed to load %r", what, entry.key, entry.owner, entry.target, exc_info=err
        )
        raise PluginLoadError(
            f"{what} {entry.key!r} from {entry.owner} failed to load {entry.target!r}: {err}"
        ) from err


class Registrar:
    """What a plugin's ``precomputed_register_*`` hook receives: ``add`` records its owner."""

    def __init__(self, registry: Registry, owner: str, kinds: Sequence[str]) -> None:
        self._registry = registry
        self._owner = owner
        self._kinds = tuple(kinds)

    def add(
        self,
        key: str,
        target: str,
        *,
        kind: str | None = None,
        requires: Sequence[str] = (),
        install: str | None = None,
        replace: bool = False,
    ) -> None:
        """Declare that ``target`` ("module:attr") serves ``key``.

        ``requires`` lists top-level modules it imports (checked without
        importing them); ``install`` is the pip requirement that provides them.
        """
        kind = kind or self._kinds[0]
        if kind not in self._kinds:
            raise PluginError(f"{self._owner}: a {self._registry.what} kind must be one of {self._kinds}")
        entry = Entry(key, target, self._owner, kind, tuple(requires), install)
        self._registry.add(entry, replace=replace)
