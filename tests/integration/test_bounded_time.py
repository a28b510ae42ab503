"""Remote reads end in bounded time and never return damaged bytes (issue: hung servers,
truncated bodies, checksums). A proxy in front of each stand-in misbehaves on chosen requests."""

from __future__ import annotations

import time

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import TransientStorageError
from precomputed_core.testing import random_array
from precomputed_drivers._retry import RetryPolicy
from precomputed_drivers.gcs import GCSStore
from precomputed_drivers.http import HTTPStore
from precomputed_drivers.s3 import S3Store
from stand_ins import CORRUPT, HANG, TRUNCATE, Fault, fault_proxy, serve_directory

SIZE = (128, 64, 32)
DATA = random_array(SIZE, "uint8", seed=11)
CHUNK = "0-64_0-64_0-32"
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


def _write(url):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], list(SIZE),
                                       chunk_size=(64, 64, 32))  # fmt: skip
    vol = CloudVolume(url, info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = DATA


def _on_chunk(method, path):
    return method == "GET" and path.endswith(CHUNK)


@pytest.fixture(
    params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in ("s3", "gcs", "http")]
)
def proxied(request, tmp_path, monkeypatch):
    """(proxy, open): a layer on a stand-in, and a function opening it through a fault proxy."""
    for store in (S3Store, GCSStore, HTTPStore):
        monkeypatch.setattr(store, "policy", FAST)
    name = request.param
    if name == "s3":
        endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
        _write(f"s3://{bucket}/img")
        with fault_proxy(endpoint) as proxy:
            yield proxy, lambda **o: CloudVolume(f"s3://{bucket}/img", endpoint_url=proxy.endpoint, **o)
    elif name == "gcs":
        endpoint, bucket = request.getfixturevalue("gcs_endpoint"), request.getfixturevalue("gcs_bucket")
        _write(f"gs://{bucket}/img")
        with fault_proxy(endpoint) as proxy:
            monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.endpoint)
            yield proxy, lambda **o: CloudVolume(f"gs://{bucket}/img", **o)
    else:
        _write(f"file://{tmp_path}/www/img")
        with serve_directory(tmp_path / "www") as server, fault_proxy(server.url()) as proxy:
            yield proxy, lambda **o: CloudVolume(f"{proxy.endpoint}/img", **o)


def _chunk_outcomes(proxy):
    return [entry[2] for entry in proxy.log if entry[0] == "GET" and entry[1].endswith(CHUNK)]


def test_a_truncated_body_is_retried(proxied):
    proxy, open_volume = proxied
    proxy.faults = [Fault(_on_chunk, TRUNCATE)]
    np.testing.assert_array_equal(open_volume(progress=False)[:, :, :][..., 0], DATA)
    assert _chunk_outcomes(proxy)[:1] == [TRUNCATE]
    assert _chunk_outcomes(proxy)[-1] == 200


def test_a_hung_request_is_given_up_and_retried(proxied):
    proxy, open_volume = proxied
    proxy.faults = [Fault(_on_chunk, HANG)]
    vol = open_volume(progress=False, request_timeout=0.5)
    start = time.monotonic()
    np.testing.assert_array_equal(vol[:, :, :][..., 0], DATA)
    assert time.monotonic() - start < 10
    assert _chunk_outcomes(proxy)[:1] == [HANG]


def test_a_server_that_never_answers_fails_within_the_total_time(proxied):
    proxy, open_volume = proxied
    proxy.faults = [Fault(_on_chunk, HANG, times=100)]
    vol = open_volume(progress=False, request_timeout=1, total_timeout=3)
    start = time.monotonic()
    with pytest.raises(TransientStorageError, match=f"{CHUNK}: no complete answer within 3 s") as caught:
        vol[0:64, 0:64, 0:32]
    assert time.monotonic() - start < 6
    assert "total_timeout=" in str(caught.value)


@pytest.mark.parametrize("proxied", [pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("s3", "gcs")],
                         indirect=True)  # fmt: skip
def test_a_damaged_body_fails_its_checksum_and_is_retried(proxied):
    """S3 sends the MD5 of a single-part object as its ETag, GCS sends x-goog-hash: a body
    changed in transit (the proxy flips a byte, headers kept) is caught, and read again."""
    proxy, open_volume = proxied
    proxy.faults = [Fault(_on_chunk, CORRUPT)]
    np.testing.assert_array_equal(open_volume(progress=False)[:, :, :][..., 0], DATA)
    assert _chunk_outcomes(proxy)[:1] == [CORRUPT]
    assert _chunk_outcomes(proxy)[-1] == 200


@pytest.mark.parametrize("proxied", [pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("s3", "gcs")],
                         indirect=True)  # fmt: skip
def test_a_body_damaged_every_time_is_an_error_naming_the_object(proxied):
    proxy, open_volume = proxied
    proxy.faults = [Fault(_on_chunk, CORRUPT, times=100)]
    with pytest.raises(TransientStorageError, match=f"{CHUNK}: it still failed after 4 attempts.*damaged"):
        open_volume(progress=False)[:, :, :]
    assert _chunk_outcomes(proxy).count(CORRUPT) == FAST.attempts


def test_the_default_limits_end_a_request_within_two_minutes():
    policy = RetryPolicy()
    assert (policy.timeout, policy.total) == (20.0, 90.0)
    assert policy.total < 120
    assert S3Store.policy == GCSStore.policy == HTTPStore.policy == policy


def test_time_limits_must_be_positive_numbers(tmp_path):
    with pytest.raises(ValueError, match="request_timeout must be a positive number of seconds"):
        CloudVolume(f"file://{tmp_path}/x", request_timeout=0)
    with pytest.raises(ValueError, match="total_timeout must be a positive number of seconds"):
        CloudVolume(f"file://{tmp_path}/x", total_timeout="soon")
