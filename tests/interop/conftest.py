"""Shared set-up for the interoperability tests against tensorstore and cloud-volume.

Every test collected from this directory gets the ``interop`` marker (select or
deselect the whole suite with ``-m interop`` / ``-m "not interop"``). No test
here is skipped behind the caller's back: each module imports its peers with a
visible ``pytest.importorskip`` at its top, and nothing else skips.

cloud-volume and cloud-files read ``CLOUD_VOLUME_DIR`` / ``CLOUD_FILES_DIR``
*when they are imported* (cloud-volume even creates the directory then), so a
per-test ``monkeypatch`` comes too late for them: ``pytest_configure`` below
points both variables at a private temporary directory before any test module
of this directory is imported, and restores them when the session ends. The
``cv_env`` fixture then also isolates each test for anything read at run time.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from stand_ins import GzipHttpServer, serve_directory

if TYPE_CHECKING:
    from collections.abc import Iterator

_HERE = Path(__file__).resolve().parent
_CV_VARIABLES = ("CLOUD_VOLUME_DIR", "CLOUD_FILES_DIR")
_saved_environment: dict[str, str | None] = {}
_session_cv_home: list[str] = []


# --- hooks ----------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Keep cloud-volume's import-time directories out of the user's home.

    When the run selects exactly the interop tests (``-m interop``, as the nox
    ``interop`` session does), missing peers are a usage error rather than a
    silently skipped module.
    """
    if str(getattr(config.option, "markexpr", "")).strip() == "interop":
        missing = [name for name in ("tensorstore", "cloudvolume") if importlib.util.find_spec(name) is None]
        if missing:
            raise pytest.UsageError(
                f"-m interop needs {' and '.join(missing)}: pip install -e '.[test,interop]'"
            )
    home = tempfile.mkdtemp(prefix="precomputed-interop-cloudvolume-")
    _session_cv_home.append(home)
    for name in _CV_VARIABLES:
        _saved_environment[name] = os.environ.get(name)
        os.environ[name] = os.path.join(home, name.lower())


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_environment.clear()
    while _session_cv_home:
        shutil.rmtree(_session_cv_home.pop(), ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this directory (only this one: the hook sees the whole session)."""
    for item in items:
        path = Path(str(item.path)).resolve()
        if path == _HERE or _HERE in path.parents:
            item.add_marker(pytest.mark.interop)


# --- cloud-volume isolation ---------------------------------------------------------


@pytest.fixture
def cv_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point cloud-volume's and cloud-files' home directories at this test's tmp dir."""
    home = tmp_path / "cloudvolume-home"
    home.mkdir()
    for name in _CV_VARIABLES:
        monkeypatch.setenv(name, str(home / name.lower()))
    return home


@pytest.fixture
def gzip_http_server(tmp_path: Path) -> Iterator[GzipHttpServer]:
    """Serve ``tmp_path / "www"`` on 127.0.0.1 (a free port) like a bucket with Content-Encoding."""
    root = tmp_path / "www"
    root.mkdir()
    with serve_directory(root) as server:
        yield server
