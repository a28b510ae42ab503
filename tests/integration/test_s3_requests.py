"""Chunk reads and writes on S3 go out as signed requests of their own, with the full client
(s3fs, aiobotocore) as the authority behind them: a redirect hands the bucket to it."""

from __future__ import annotations

import base64
import zlib

import numpy as np
import pytest
import s3fs

from precomputed_core import CloudVolume
from precomputed_core.exceptions import PermissionDeniedError, StorageError
from precomputed_core.testing import random_array
from precomputed_drivers._retry import RetryPolicy
from precomputed_drivers.s3 import S3Store
from stand_ins import Fault, fault_proxy, s3_client

pytestmark = pytest.mark.s3

SIZE = (128, 128, 32)
DATA = random_array(SIZE, "uint8", seed=5)
FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05)


def _info():
    return CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], list(SIZE),
                                       chunk_size=(64, 64, 32))  # fmt: skip


def test_chunks_are_read_and_written_without_the_full_client(s3_bucket, monkeypatch):
    calls = []
    real = s3fs.S3FileSystem._call_s3

    async def recorded(self, method, *args, **kwargs):
        calls.append(method)
        return await real(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", recorded)
    vol = CloudVolume(f"s3://{s3_bucket}/img", info=_info(), progress=False)
    vol.commit_info()
    vol[:, :, :] = DATA
    np.testing.assert_array_equal(CloudVolume(vol.cloudpath, progress=False)[:, :, :][..., 0], DATA)
    assert "get_object" not in calls
    assert "put_object" not in calls


def test_uploads_carry_their_crc32_and_reads_check_it(s3_bucket, s3_endpoint):
    store = S3Store(s3_bucket, "objects")
    data = bytes(range(256)) * 100
    store.put("chunk", data)
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip
    head = client.get_object(Bucket=s3_bucket, Key="objects/chunk", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert store.get("chunk") == data


def test_a_corrupt_body_is_caught_by_the_crc32(s3_bucket, s3_endpoint, monkeypatch):
    from stand_ins import CORRUPT

    monkeypatch.setattr(S3Store, "policy", FAST)
    S3Store(s3_bucket, "objects").put("chunk", b"\x01" * 4096)
    with fault_proxy(s3_endpoint) as proxy:
        proxy.faults = [Fault(lambda m, p: m == "GET" and p.endswith("/chunk"), CORRUPT, times=1)]
        store = S3Store(s3_bucket, "objects", endpoint_url=proxy.endpoint)
        assert store.get("chunk") == b"\x01" * 4096  # retried after the mismatch
        assert proxy.count(CORRUPT) == 1
        proxy.faults = [Fault(lambda m, p: m == "GET" and p.endswith("/chunk"), CORRUPT, times=10)]
        with pytest.raises(StorageError, match=r"crc32 .* the transfer was damaged"):
            store.get("chunk")


@pytest.mark.parametrize("status", [301, 307])
def test_a_redirect_hands_the_bucket_to_the_full_client(s3_bucket, s3_endpoint, monkeypatch, status):
    monkeypatch.setattr(S3Store, "policy", FAST)
    vol = CloudVolume(f"s3://{s3_bucket}/img", info=_info(), progress=False)
    vol.commit_info()
    vol[:, :, :] = DATA
    with fault_proxy(s3_endpoint) as proxy:
        proxy.faults = [Fault(lambda m, p: m == "GET" and "4_4_40" in p, status, times=1)]
        moved = CloudVolume(vol.cloudpath, endpoint_url=proxy.endpoint, progress=False)
        np.testing.assert_array_equal(moved[:, :, :][..., 0], DATA)
        assert proxy.count(status) == 1
        store = moved._volume.store.inner
        assert store._requests.uses_full_client(s3_bucket)
        moved[0:64, 0:64, 0:32] = np.zeros((64, 64, 32), np.uint8)  # writes go through it as well
        assert int(CloudVolume(vol.cloudpath, progress=False)[0:64, 0:64, 0:32].sum()) == 0


def test_an_upload_redirected_is_made_again_by_the_full_client(s3_bucket, s3_endpoint, monkeypatch):
    """The signed path's checksum headers stay its own: the full client's retry gets the upload's."""
    monkeypatch.setattr(S3Store, "policy", FAST)
    vol = CloudVolume(f"s3://{s3_bucket}/img", info=_info(), progress=False)
    vol.commit_info()
    with fault_proxy(s3_endpoint) as proxy:
        proxy.faults = [Fault(lambda m, p: m == "PUT" and "4_4_40" in p, 301, times=1)]
        moved = CloudVolume(vol.cloudpath, endpoint_url=proxy.endpoint, progress=False)
        moved[:, :, :] = DATA
        assert proxy.count(301) == 1
        assert moved._volume.store.inner._requests.uses_full_client(s3_bucket)
    np.testing.assert_array_equal(CloudVolume(vol.cloudpath, progress=False)[:, :, :][..., 0], DATA)


def test_a_missing_bucket_is_an_error_not_missing_chunks(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    store = S3Store("no-such-bucket-here", "layer")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        store.get("info")


def test_refused_keys_are_a_permission_error(s3_bucket, s3_endpoint, monkeypatch):
    monkeypatch.setattr(S3Store, "policy", FAST)
    S3Store(s3_bucket, "objects").put("chunk", b"x")
    with fault_proxy(s3_endpoint) as proxy:
        proxy.faults = [Fault(lambda m, p: m == "GET", 403, times=10)]
        store = S3Store(s3_bucket, "objects", endpoint_url=proxy.endpoint)
        with pytest.raises(PermissionDeniedError, match="objects/chunk"):
            store.get("chunk")


def test_keys_that_need_quoting_round_trip(s3_bucket):
    store = S3Store(s3_bucket, "odd path")
    for key in ("a b/c+d", "ünïcode/é", "x%2Fy", "semi;colon=1&q?"):
        store.put(key, key.encode())
        assert store.get(key) == key.encode()
    assert sorted(s3_client(store.endpoint).find(f"{s3_bucket}/odd path")) == sorted(
        f"{s3_bucket}/odd path/{k}" for k in ("a b/c+d", "ünïcode/é", "x%2Fy", "semi;colon=1&q?")
    )


def test_stores_of_one_configuration_share_a_client(s3_bucket, s3_endpoint, monkeypatch):
    first, again = S3Store(s3_bucket, "a"), S3Store(s3_bucket, "b")
    assert first._fs is again._fs  # a parallel worker reopening the layer pays no new client
    assert first._requests is again._requests
    keyed = S3Store(s3_bucket, "a", secrets={"AWS_ACCESS_KEY_ID": "other", "AWS_SECRET_ACCESS_KEY": "other"})
    assert keyed._fs is not first._fs
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "changed")  # what a client without given keys reads
    assert S3Store(s3_bucket, "a")._fs is not first._fs
