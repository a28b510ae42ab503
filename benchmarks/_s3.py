"""Remote stand-ins for the benchmarks, each a server in a process of its own on 127.0.0.1.

- S3: moto's server. Both libraries find it the way a user's MinIO would be found: the
  endpoint in ``AWS_ENDPOINT_URL_S3`` and the keys in ``$CLOUD_VOLUME_DIR/secrets/aws-secret.json``;
  tensorstore through its s3 kvstore's ``endpoint``.
- HTTP: a threaded static file server (HTTP/1.1, keep-alive) over a directory.

Either can add a fixed latency to every request, as a cloud region's round trip does:
the server sleeps that long before it answers, on the request's own thread, so many
requests wait at once and the client's concurrency decides the throughput.

    python _s3.py s3 PORT LATENCY_MS          # the server processes (started by the context managers)
    python _s3.py http PORT LATENCY_MS ROOT
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

BUCKET = "bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _server(*args: str) -> Iterator[int]:
    """Start ``python _s3.py KIND PORT ...`` and wait until it accepts connections."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, os.path.abspath(__file__), args[0], str(port), *args[1:]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {args[0]} stand-in did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(30)


@contextlib.contextmanager
def s3_stand_in(latency_ms: float = 0) -> Iterator[str]:
    """Start moto, make the bucket, point both libraries at it; yields ``s3://bench``."""
    with _server("s3", str(latency_ms)) as port, tempfile.TemporaryDirectory(prefix="bench-cv-") as home:
        saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL_S3", "CLOUD_VOLUME_DIR")}
        os.makedirs(os.path.join(home, "secrets"))
        with open(os.path.join(home, "secrets", "aws-secret.json"), "w") as f:
            json.dump({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}, f)
        os.environ["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{port}"
        os.environ["CLOUD_VOLUME_DIR"] = home
        try:
            client().mkdir(BUCKET)
            yield f"s3://{BUCKET}"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextlib.contextmanager
def http_stand_in(root: str, latency_ms: float) -> Iterator[str]:
    """Serve ``root`` over HTTP; yields its base URL."""
    with _server("http", str(latency_ms), root) as port:
        yield f"http://127.0.0.1:{port}"


def client():  # type: ignore[no-untyped-def]
    import s3fs

    return s3fs.S3FileSystem(key="bench", secret="bench", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
                             skip_instance_cache=True, use_listings_cache=False)  # fmt: skip


def remove(url: str) -> None:
    """Delete a layer written by a write measurement (moto keeps everything in memory)."""
    with contextlib.suppress(FileNotFoundError):
        client().rm(url.removeprefix("s3://"), recursive=True)


def _delayed(app: Any, seconds: float) -> Any:
    def delayed(environ: Any, start_response: Any) -> Any:
        time.sleep(seconds)
        return app(environ, start_response)

    return delayed


def _serve_s3(port: int, latency: float) -> None:
    from cheroot import wsgi
    from moto.server import DomainDispatcherApplication, create_backend_app

    app = _delayed(DomainDispatcherApplication(create_backend_app), latency)
    # Keep-alive, as S3 and every cloud front end: without it each request would pay for a
    # new connection on both sides. moto's own server (werkzeug's) closes every connection
    # after one answer, whatever the protocol version; cheroot keeps them open. Its threads
    # are the requests answered at once, which the latency workload needs many of.
    wsgi.Server(("127.0.0.1", port), app, numthreads=128, request_queue_size=512).start()


def _serve_http(port: int, latency: float, root: str) -> None:
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a cloud's front end

        def send_head(self) -> Any:
            time.sleep(latency)
            return super().send_head()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root)).serve_forever()


if __name__ == "__main__":
    kind, port_text, latency_text = sys.argv[1:4]
    if kind == "s3":
        _serve_s3(int(port_text), float(latency_text) / 1000)
    else:
        _serve_http(int(port_text), float(latency_text) / 1000, sys.argv[4])
