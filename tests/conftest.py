from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The fake third-party plugins are put on sys.path by the tests that need them.
collect_ignore = ["plugins"]

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def plugin_dir(monkeypatch):
    """Install a fake plugin distribution (a dist-info dir with entry points) by name."""
    from precomputed_core.plugins import refresh_plugins

    added = []

    def install(name: str) -> Path:
        path = PLUGINS / name
        monkeypatch.syspath_prepend(str(path))
        added.append(path)
        refresh_plugins()
        return path

    yield install
    for module in [m for m in sys.modules if m.startswith(("precomputed_fake", "precomputed_conflict"))]:
        del sys.modules[module]
    monkeypatch.undo()
    refresh_plugins()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's ~/.cloudvolume and saved_images in the CWD."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLOUD_VOLUME_DIR", str(home / ".cloudvolume"))
    monkeypatch.setenv("CLOUD_FILES_DIR", str(home / ".cloudfiles"))
    monkeypatch.delenv("CLOUD_VOLUME_CACHE_DIR", raising=False)
    assert os.environ["HOME"] == str(home)


@pytest.fixture
def worker_processes(monkeypatch):
    """Make ``parallel`` use its worker processes from the first call, on local layers too.

    Local files with compiled codecs stay on the caller's threads, where processes cannot
    pay; tests of the process machinery itself use local files, so they claim the GIL.
    Work that holds the GIL goes to processes only once a threaded call showed the GIL to
    be the limit; tests of the workers need them on every call.
    """
    from precomputed_core.parallel import Dispatcher
    from precomputed_drivers.local import LocalStore

    monkeypatch.setattr(LocalStore, "holds_gil", True)
    monkeypatch.setattr(Dispatcher, "busy_share", 0.0)
