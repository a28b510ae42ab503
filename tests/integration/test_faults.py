"""A proxy in front of the stand-ins fails chosen requests: retries, clear errors, no zeros."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import PermissionDeniedError, StorageError, TransientStorageError
from precomputed_core.testing import random_array
from precomputed_drivers._retry import RetryPolicy
from precomputed_drivers.gcs import GCSStore
from precomputed_drivers.http import HTTPStore
from precomputed_drivers.s3 import S3Store
from stand_ins import EMPTY, RESET, Fault, fault_proxy, serve_directory

SIZE = (128, 128, 32)
DATA = random_array(SIZE, "uint8", seed=7)
CHUNK = "0-64_0-64_0-32"
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


def _write(url, **options):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], list(SIZE),
                                       chunk_size=(64, 64, 32))  # fmt: skip
    vol = CloudVolume(url, info=info, progress=False, **options)
    vol.commit_info()
    vol[:, :, :] = DATA
    return vol


def _on_chunk(method="GET", name=CHUNK):
    return lambda m, path: m == method and path.endswith(name)


@pytest.fixture
def s3_proxy(s3_endpoint, s3_bucket, monkeypatch):
    """A layer on moto, and a proxy in front of moto that the volumes under test go through."""
    monkeypatch.setattr(S3Store, "policy", FAST)
    _write(f"s3://{s3_bucket}/img")
    with fault_proxy(s3_endpoint) as proxy:
        yield proxy, f"s3://{s3_bucket}/img"


@pytest.mark.s3
@pytest.mark.parametrize("fault", [503, 500, 429, RESET])
def test_transient_errors_are_retried(s3_proxy, fault):
    proxy, url = s3_proxy
    proxy.faults = [Fault(_on_chunk(), fault, times=2)]
    vol = CloudVolume(url, endpoint_url=proxy.endpoint, progress=False)
    np.testing.assert_array_equal(vol[:, :, :][..., 0], DATA)
    assert proxy.count(fault) == 2
    assert [entry for entry in proxy.log if entry[0] == "GET" and entry[1].endswith(CHUNK)][-1][2] == 200


@pytest.mark.s3
def test_retries_are_bounded_then_name_the_object(s3_proxy):
    proxy, url = s3_proxy
    proxy.faults = [Fault(_on_chunk(), 503, times=100)]
    vol = CloudVolume(url, endpoint_url=proxy.endpoint, progress=False)
    with pytest.raises(TransientStorageError, match=f"img/4_4_40/{CHUNK}: it still failed after 4 attempts"):
        vol[:, :, :]
    assert proxy.count(503) == FAST.attempts


@pytest.mark.s3
def test_writes_are_retried_and_land_whole(s3_proxy):
    proxy, url = s3_proxy
    proxy.faults = [Fault(_on_chunk("PUT"), 503), Fault(_on_chunk("PUT", "64-128_64-128_0-32"), RESET)]
    vol = CloudVolume(url, endpoint_url=proxy.endpoint, progress=False)
    vol[:, :, :] = DATA[::-1].copy()
    assert proxy.count(503) == 1
    assert proxy.count(RESET) == 1
    np.testing.assert_array_equal(vol[:, :, :][..., 0], DATA[::-1])


@pytest.mark.s3
def test_a_missing_chunk_is_asked_for_once(s3_proxy):
    proxy, url = s3_proxy
    CloudVolume(url, endpoint_url=proxy.endpoint, progress=False).delete(np.s_[0:64, 0:64, 0:32])
    vol = CloudVolume(url, endpoint_url=proxy.endpoint, progress=False, fill_missing=True)
    proxy.log.clear()
    block = vol[:, :, :][..., 0]
    assert not block[:64, :64].any()
    np.testing.assert_array_equal(block[64:], DATA[64:])
    assert [entry[2] for entry in proxy.log if entry[1].endswith(CHUNK)] == [404]


@pytest.mark.s3
def test_forbidden_is_an_error_naming_the_object_and_the_credentials(s3_proxy, monkeypatch):
    proxy, url = s3_proxy
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    proxy.faults = [Fault(_on_chunk(), 403, times=100)]
    vol = CloudVolume(url, endpoint_url=proxy.endpoint, progress=False)
    with pytest.raises(PermissionDeniedError, match=f"{CHUNK}.*access denied.*AWS_ACCESS_KEY_ID") as caught:
        vol[:, :, :]
    assert proxy.count(403) == 1  # not retried
    assert "very-secret-value" not in str(caught.value) + repr(vol) + repr(vol._volume.store)


@pytest.mark.s3
def test_an_empty_success_is_an_error_not_zeros(s3_proxy):
    proxy, url = s3_proxy
    proxy.faults = [Fault(_on_chunk(), EMPTY)]
    vol = CloudVolume(url, endpoint_url=proxy.endpoint, progress=False)
    with pytest.raises(StorageError, match=f"{CHUNK} came back empty"):
        vol[:, :, :]


@pytest.mark.http
@pytest.mark.parametrize("fault", [502, RESET])
def test_http_reads_are_retried(tmp_path, monkeypatch, fault):
    monkeypatch.setattr(HTTPStore, "policy", FAST)
    _write(f"file://{tmp_path}/www/img")
    with serve_directory(tmp_path / "www") as server, fault_proxy(server.url()) as proxy:
        proxy.faults = [Fault(_on_chunk(), fault, times=2)]
        vol = CloudVolume(f"{proxy.endpoint}/img", progress=False)
        np.testing.assert_array_equal(vol[:, :, :][..., 0], DATA)
        assert proxy.count(fault) == 2


@pytest.mark.gcs
def test_gcs_transient_errors_are_retried_and_counted_once(gcs_endpoint, gcs_bucket, monkeypatch):
    """Our retries, not gcsfs's on top of ours: N attempts are N requests."""
    monkeypatch.setattr(GCSStore, "policy", FAST)
    _write(f"gs://{gcs_bucket}/img")
    with fault_proxy(gcs_endpoint) as proxy:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.endpoint)
        proxy.faults = [Fault(lambda m, path: m == "GET" and CHUNK in path, 503)]
        vol = CloudVolume(f"gs://{gcs_bucket}/img", progress=False)
        np.testing.assert_array_equal(vol[:, :, :][..., 0], DATA)
        assert proxy.count(503) == 1
        proxy.faults = [Fault(lambda m, path: m == "GET" and CHUNK in path, 503, times=100)]
        with pytest.raises(TransientStorageError, match=f"{CHUNK}: it still failed after 4 attempts"):
            vol[:, :, :]
        assert proxy.count(503) == 1 + FAST.attempts


@pytest.mark.gcs
@pytest.mark.parametrize(("fault", "error", "message"), [
    (403, PermissionDeniedError, "access denied.*STORAGE_EMULATOR_HOST"),
    (EMPTY, StorageError, "came back empty"),
])  # fmt: skip
def test_gcs_refusals_and_empty_bodies_are_errors(
    gcs_endpoint, gcs_bucket, monkeypatch, fault, error, message
):
    _write(f"gs://{gcs_bucket}/img")
    with fault_proxy(gcs_endpoint) as proxy:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.endpoint)
        proxy.faults = [Fault(lambda m, path: m == "GET" and CHUNK in path, fault, times=100)]
        vol = CloudVolume(f"gs://{gcs_bucket}/img", progress=False)
        with pytest.raises(error, match=f"{CHUNK}.*{message}"):
            vol[:, :, :]
        assert proxy.count(fault) == 1  # neither is retried


@pytest.mark.s3
def test_the_generic_aws_endpoint_variable(s3_endpoint, s3_bucket, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    vol = _write(f"s3://{s3_bucket}/img")
    assert vol._volume.store.endpoint == s3_endpoint
    np.testing.assert_array_equal(CloudVolume(f"s3://{s3_bucket}/img", progress=False)[:, :, :][..., 0], DATA)


@pytest.mark.http
def test_http_unreachable_is_not_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(HTTPStore, "policy", FAST)
    _write(f"file://{tmp_path}/www/img")
    with serve_directory(tmp_path / "www") as server, fault_proxy(server.url()) as proxy:
        vol = CloudVolume(f"{proxy.endpoint}/img", progress=False)
        proxy.faults = [Fault(lambda m, path: m == "HEAD", RESET, times=1000)]
        with pytest.raises(TransientStorageError, match="look up"):
            vol.exists(np.s_[0:64, 0:64, 0:32])


@pytest.mark.http
def test_http_corrupt_gzip_is_a_decoding_error_not_retried(tmp_path, monkeypatch):
    from precomputed_core.exceptions import DecodingError

    monkeypatch.setattr(HTTPStore, "policy", FAST)
    _write(f"file://{tmp_path}/www/img", compress="gzip")
    chunk = tmp_path / "www" / "img" / "4_4_40" / f"{CHUNK}.gz"
    chunk.write_bytes(chunk.read_bytes()[:100])
    with serve_directory(tmp_path / "www") as server:
        vol = CloudVolume(server.url("img"), progress=False)
        with pytest.raises(DecodingError, match=CHUNK):
            vol[:, :, :]
        assert len(server.requests_for(f"/img/4_4_40/{CHUNK}")) == 1


@pytest.mark.s3
def test_a_missing_bucket_is_an_error_even_with_fill_missing(s3_endpoint, s3_bucket):
    info = CloudVolume(
        f"s3://{s3_bucket}/img", info=_write(f"s3://{s3_bucket}/img").info, progress=False
    ).info
    vol = CloudVolume("s3://no-such-bucket-here/img", info=info, progress=False, fill_missing=True)
    with pytest.raises(StorageError, match="bucket does not exist"):
        vol[:, :, :]
