"""An S3 stand-in for the benchmarks: moto's server on 127.0.0.1, as the tests use it.

Both libraries find it the same way a user's MinIO would be found: the endpoint in
``AWS_ENDPOINT_URL_S3`` and the keys in ``$CLOUD_VOLUME_DIR/secrets/aws-secret.json``.
The server runs in the benchmark's parent process, which waits idle while a worker
process measures, so client and server share the machine's 2 cores as in any local test.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

BUCKET = "bench"


@contextlib.contextmanager
def s3_stand_in() -> Iterator[str]:
    """Start moto, make the bucket, point both libraries at it; yields ``s3://bench``."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL_S3", "CLOUD_VOLUME_DIR")}
    with tempfile.TemporaryDirectory(prefix="bench-cloudvolume-") as home:
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
            server.stop()


def client():  # type: ignore[no-untyped-def]
    import s3fs

    return s3fs.S3FileSystem(key="bench", secret="bench", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
                             skip_instance_cache=True, use_listings_cache=False)  # fmt: skip


def remove(url: str) -> None:
    """Delete a layer written by a write measurement (moto keeps everything in memory)."""
    with contextlib.suppress(FileNotFoundError):
        client().rm(url.removeprefix("s3://"), recursive=True)
