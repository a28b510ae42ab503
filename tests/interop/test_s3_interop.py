"""On the S3 stand-in (moto): we read what cloud-volume and tensorstore write, and they read ours.

cloud-volume uploads gzip chunks under their bare names with ``Content-Encoding: gzip``
(its default for raw layers on buckets); tensorstore writes plain chunks. Both find the
server the way a MinIO user would: ``AWS_ENDPOINT_URL_S3`` and a secrets file.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.testing import random_array
from stand_ins import moto_s3, s3_client

cloudvolume = pytest.importorskip("cloudvolume")
ts = pytest.importorskip("tensorstore")
pytest.importorskip("moto")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SIZE = (96, 80, 24)
INFO = CloudVolume.create_new_info(1, "image", "uint16", "raw", [4, 4, 40], [8, -4, 0], list(SIZE),
                                   chunk_size=(32, 32, 16))  # fmt: skip


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def bucket(endpoint: str, cv_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import cloudfiles

    secrets = cv_env / "cloud_volume_dir" / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "aws-secret.json").write_text(json.dumps({"AWS_ACCESS_KEY_ID": "testing",
                                                         "AWS_SECRET_ACCESS_KEY": "testing"}))  # fmt: skip
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    cloudfiles.reset_connection_pools()
    name = f"interop-{np.random.default_rng().integers(1 << 30)}"
    s3_client(endpoint).mkdir(name)
    return name


KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _cv(url: str, **options: object) -> object:
    # cloud-files reads its secrets folder when imported, so the keys go in directly.
    return cloudvolume.CloudVolume(url, progress=False, secrets=KEYS, **options)


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_cloud_volume_reads_ours(bucket: str, endpoint: str, compress: str | None) -> None:
    data = random_array(SIZE, "uint16", seed=1)
    vol = CloudVolume(f"s3://{bucket}/img", info=INFO, progress=False, compress=compress)
    vol.commit_info()
    vol[8:104, -4:76, 0:24] = data
    head = s3_client(endpoint).call_s3("head_object", Bucket=bucket, Key="img/4_4_40/8-40_-4-28_0-16")
    assert head.get("ContentEncoding") == compress
    np.testing.assert_array_equal(np.asarray(_cv(f"s3://{bucket}/img")[8:104, -4:76, 0:24])[..., 0], data)


def test_we_read_cloud_volumes_gzip_upload(bucket: str, endpoint: str) -> None:
    data = random_array(SIZE, "uint16", seed=2)
    theirs = _cv(f"s3://{bucket}/img", info=INFO)  # compress=None: cloud-volume gzips raw chunks
    theirs.commit_info()
    theirs[8:104, -4:76, 0:24] = data
    head = s3_client(endpoint).call_s3("head_object", Bucket=bucket, Key="img/4_4_40/8-40_-4-28_0-16")
    assert head.get("ContentEncoding") == "gzip"
    np.testing.assert_array_equal(
        CloudVolume(f"s3://{bucket}/img", progress=False)[8:104, -4:76, 0:24][..., 0], data
    )


def _tensorstore(bucket: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    spec = {"driver": "neuroglancer_precomputed",
            "kvstore": {"driver": "s3", "bucket": bucket, "path": "img/", "endpoint": endpoint,
                        "aws_region": "us-east-1"},
            "context": {"aws_credentials": {"type": "environment"}}}  # fmt: skip
    return ts.open(spec).result()


def test_tensorstore_reads_ours_and_we_read_tensorstores(
    bucket: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = random_array(SIZE, "uint16", seed=3)
    vol = CloudVolume(f"s3://{bucket}/img", info=INFO, progress=False)
    vol.commit_info()
    vol[8:104, -4:76, 0:24] = data
    store = _tensorstore(bucket, endpoint, monkeypatch)
    np.testing.assert_array_equal(store[8:104, -4:76, 0:24, 0].read().result(), data)
    store[8:104, -4:76, 0:24, 0].write(data[::-1]).result()
    np.testing.assert_array_equal(
        CloudVolume(f"s3://{bucket}/img", progress=False)[8:104, -4:76, 0:24][..., 0], data[::-1]
    )
