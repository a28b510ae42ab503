"""Network failures end in one clear error within seconds, with each attempt counted once:
a host name that does not resolve (the reserved ``.invalid`` domain) and a closed loopback port."""

from __future__ import annotations

import logging
import time

import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import TransientStorageError
from stand_ins import free_port

#: RFC 2606 reserves .invalid: no resolver answers for it.
NOWHERE = "no-such-host.invalid"


def _opened(url: str, caplog, **options) -> tuple[str, float, list[str]]:
    """The error of opening ``url``, the seconds it took and the retry warnings logged."""
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="precomputed_drivers"),
        pytest.raises(TransientStorageError) as err,
    ):
        CloudVolume(url, progress=False, **options)
    took = time.monotonic() - started
    warnings = [r.getMessage() for r in caplog.records if r.name == "precomputed_drivers._retry"]
    return str(err.value), took, warnings


def _check_unresolved(message: str, took: float, warnings: list[str], where: str) -> None:
    assert message.startswith(f"cannot read {where}: the host name {NOWHERE} did not resolve (tried 2 times;")
    assert "Check its spelling" in message
    assert "network and DNS" in message
    assert took < 20
    assert len(warnings) == 1  # one retry: counted once, not multiplied by the client library's own
    assert warnings[0].startswith(f"read {where}: attempt 1 of 2 failed")


def _check_refused(message: str, took: float, warnings: list[str], where: str, port: int) -> None:
    assert message.startswith(f"cannot read {where}: it still failed after 6 attempts")
    assert f"nothing accepted the connection at 127.0.0.1:{port}" in message
    assert took < 30
    assert [w.split(" failed")[0] for w in warnings] == [
        f"read {where}: attempt {n} of 6" for n in range(1, 6)
    ]


@pytest.mark.http
def test_http_host_that_does_not_resolve(caplog):
    _check_unresolved(*_opened(f"http://{NOWHERE}/ds/layer", caplog), f"http://{NOWHERE}/ds/layer/info")


@pytest.mark.http
def test_http_closed_port(caplog):
    port = free_port()
    url = f"http://127.0.0.1:{port}/ds/layer"
    _check_refused(*_opened(url, caplog), f"{url}/info", port)


_KEYS = {"key": "testing", "secret": "testing"}


@pytest.mark.s3
def test_s3_endpoint_that_does_not_resolve(caplog):
    found = _opened(
        "s3://bucket/layer", caplog, storage_options={**_KEYS, "endpoint_url": f"http://{NOWHERE}:9000"}
    )
    _check_unresolved(*found, "s3://bucket/layer/info")


@pytest.mark.s3
def test_s3_closed_port(caplog):
    port = free_port()
    found = _opened(
        "s3://bucket/layer", caplog, endpoint_url=f"http://127.0.0.1:{port}", storage_options=_KEYS
    )
    _check_refused(*found, "s3://bucket/layer/info", port)


@pytest.mark.gcs
def test_gcs_endpoint_that_does_not_resolve(caplog, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://{NOWHERE}:4443")
    _check_unresolved(*_opened("gs://bucket/layer", caplog), "gs://bucket/layer/info")


@pytest.mark.gcs
def test_gcs_closed_port(caplog, monkeypatch):
    port = free_port()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    _check_refused(*_opened("gs://bucket/layer", caplog), "gs://bucket/layer/info", port)
