"""Logging through the ``logging`` module: loggers named by module, silent by default, and
the records the docs promise (retries, credentials, plugins, workers, slow requests)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

import numpy as np
import pytest

from precomputed_core import CloudVolume, plugins
from precomputed_core.exceptions import PluginLoadError
from precomputed_drivers import _retry
from precomputed_drivers._retry import RetryPolicy, retrying

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def _records(caplog, prefix: str, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(prefix) and r.levelno == level]


@pytest.mark.parametrize("package", ["precomputed_core", "precomputed_drivers", "precomputed_codecs"])
def test_each_package_is_silent_until_the_application_configures_logging(package):
    __import__(package)
    handlers = logging.getLogger(package).handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_a_retry_prints_nothing_when_logging_is_not_configured():
    # Without the NullHandler, Python's last-resort handler would print the WARNING on stderr.
    code = (
        "import asyncio\n"
        "from precomputed_drivers._retry import RetryPolicy, retrying\n"
        "calls = []\n"
        "async def flaky():\n"
        "    calls.append(1)\n"
        "    if len(calls) < 2: raise ConnectionResetError('reset by peer')\n"
        "    return 'ok'\n"
        "print(asyncio.run(retrying(flaky, RetryPolicy(base=0.001), 'read', 's3://b/l/info')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert done.stderr == ""


def test_retries_log_a_warning_with_the_attempt_the_cause_and_the_object(caplog):
    failures = [ConnectionResetError("connection reset by peer"), TimeoutError("no answer")]

    async def flaky():
        if failures:
            raise failures.pop(0)
        return b"chunk"

    with caplog.at_level(logging.WARNING, logger="precomputed_drivers"):
        got = asyncio.run(
            retrying(flaky, RetryPolicy(base=0.001), "read", "s3://bucket/layer/1_1_1/0-64_0-64_0-64")
        )
    assert got == b"chunk"
    warnings = _records(caplog, "precomputed_drivers", logging.WARNING)
    assert [r.name for r in warnings] == ["precomputed_drivers._retry"] * 2
    first, second = (r.getMessage() for r in warnings)
    assert first.startswith("read s3://bucket/layer/1_1_1/0-64_0-64_0-64: attempt 1 of 6 failed")
    assert "ConnectionResetError: connection reset by peer" in first
    assert second.startswith("read s3://bucket/layer/1_1_1/0-64_0-64_0-64: attempt 2 of 6 failed")
    assert "TimeoutError: no answer" in second


def test_a_slow_request_logs_at_debug(caplog, monkeypatch):
    monkeypatch.setattr(_retry, "SLOW_REQUEST_SECONDS", 0.01)

    async def slow():
        await asyncio.sleep(0.03)
        return 1

    with caplog.at_level(logging.DEBUG, logger="precomputed_drivers"):
        asyncio.run(retrying(slow, RetryPolicy(), "read", "gs://bucket/layer/info"))
    (record,) = _records(caplog, "precomputed_drivers._retry", logging.DEBUG)
    assert record.getMessage().startswith("slow request: read gs://bucket/layer/info took ")


def test_the_choice_of_credentials_logs_at_info_and_never_the_secret(caplog, monkeypatch):
    from precomputed_drivers.s3 import S3Store

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.DEBUG):
        S3Store("bucket", "layer", storage_options={"key": "AKIDEXAMPLE", "secret": SECRET},
                endpoint_url="http://127.0.0.1:9")  # fmt: skip
        S3Store("bucket", "other", secrets={"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET},
                endpoint_url="http://127.0.0.1:9")  # fmt: skip
    infos = [r.getMessage() for r in _records(caplog, "precomputed_drivers", logging.INFO)]
    assert infos == [
        "s3://bucket/layer: credentials from storage_options (key, secret)",
        "s3://bucket/other: credentials from the secrets= argument",
    ]
    assert not any(SECRET in r.getMessage() or SECRET in str(r.args) for r in caplog.records)


def test_a_plugin_that_fails_to_load_logs_at_debug(plugin_dir, caplog):
    plugin_dir("fake")
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.plugins"), pytest.raises(PluginLoadError):
        plugins.get_codec("needs_missing_lib")
    (record,) = _records(caplog, "precomputed_core.plugins._registry", logging.DEBUG)
    assert record.getMessage() == (
        "codec 'needs_missing_lib' from precomputed-fake is missing a_module_that_is_not_installed"
    )


def test_worker_processes_log_their_start_and_stop(tmp_path, caplog, worker_processes):
    pytest.importorskip("compresso")  # its encoder holds the GIL, so parallel writes use the workers
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "compresso", [1, 1, 1], [0, 0, 0],
                                       [128, 64, 64], chunk_size=[64, 64, 64])  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="precomputed_core.parallel"):
        vol = CloudVolume(f"file://{tmp_path}/seg", info=info, parallel=2, progress=False)
        vol.commit_info()
        vol[:, :, :] = np.arange(128 * 64 * 64, dtype=np.uint64).reshape(128, 64, 64) // 1000
        vol.close()
    messages = [
        r.getMessage() for r in _records(caplog, "precomputed_core.parallel._scheduler", logging.DEBUG)
    ]
    assert messages[0].startswith("starting 2 worker processes (")
    assert messages[-1] == "stopping the 2 worker processes"
    reread = CloudVolume(f"file://{tmp_path}/seg", progress=False)[:, :, :][..., 0]
    np.testing.assert_array_equal(
        reread, np.arange(128 * 64 * 64, dtype=np.uint64).reshape(128, 64, 64) // 1000
    )
