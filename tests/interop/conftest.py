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
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest

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


# --- a bucket-like HTTP server on the loopback interface ----------------------------


@dataclass
class GzipHttpServer:
    """A running loopback server for ``root``; ``served`` logs (path, status, encoding)."""

    root: Path
    port: int
    served: list[tuple[str, int, str | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def url(self, relative: str = "") -> str:
        """``http://127.0.0.1:PORT/relative`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}/{relative.strip('/')}".rstrip("/")

    def record(self, path: str, status: int, encoding: str | None) -> None:
        with self._lock:
            self.served.append((path, status, encoding))

    def requests_for(self, prefix: str) -> list[tuple[str, int, str | None]]:
        with self._lock:
            return [entry for entry in self.served if entry[0].startswith(prefix)]


def _handler_for(server: GzipHttpServer) -> type[BaseHTTPRequestHandler]:
    root = server.root.resolve()

    class Handler(BaseHTTPRequestHandler):
        """GET/HEAD ``P``: ``P.gz`` with ``Content-Encoding: gzip`` if present, else ``P``, else 404.

        This is what a bucket serves for objects uploaded with a Content-Encoding:
        the stored (compressed) bytes and a header telling the client to decode
        them. No PUT: tensorstore's and cloud-volume's http stores are read-only.
        """

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest's output clean

        def _resolve(self) -> Path | None:
            relative = unquote(urlsplit(self.path).path).lstrip("/")
            candidate = (root / relative).resolve()
            if candidate != root and root not in candidate.parents:
                return None  # no escaping the served directory with '..'
            return candidate

        def _respond(self, *, body: bool) -> None:
            target = self._resolve()
            url_path = urlsplit(self.path).path
            encoding: str | None = None
            if target is not None and Path(f"{target}.gz").is_file():
                target, encoding = Path(f"{target}.gz"), "gzip"
            if target is None or not target.is_file():
                server.record(url_path, HTTPStatus.NOT_FOUND, None)
                self.send_response(HTTPStatus.NOT_FOUND)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = target.read_bytes()
            server.record(url_path, HTTPStatus.OK, encoding)
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            if encoding is not None:
                self.send_header("Content-Encoding", encoding)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._respond(body=True)

        def do_HEAD(self) -> None:
            self._respond(body=False)

    return Handler


class _LoopbackServer(ThreadingHTTPServer):
    # Clients fetch many chunks at once; with socketserver's default backlog of 5 the
    # kernel drops extra SYNs and the client retries only after a second.
    request_queue_size = 128
    daemon_threads = True


@pytest.fixture
def gzip_http_server(tmp_path: Path) -> Iterator[GzipHttpServer]:
    """Serve ``tmp_path / "www"`` on 127.0.0.1 (a free port) like a bucket with Content-Encoding."""
    root = tmp_path / "www"
    root.mkdir()
    state = GzipHttpServer(root=root, port=0)
    httpd = _LoopbackServer(("127.0.0.1", 0), _handler_for(state))
    state.port = int(httpd.server_address[1])
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="gzip-http-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
