"""Credentials files against the S3 stand-in: a bucket-prefixed secret serves its bucket only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import TransientStorageError
from precomputed_core.testing import random_array
from precomputed_drivers._retry import RetryPolicy
from precomputed_drivers.s3 import S3Store


@pytest.mark.s3
def test_bucket_prefixed_secret_with_its_own_endpoint(s3_endpoint, s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setattr(S3Store, "policy", RetryPolicy(attempts=2, base=0.01))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name)
    folder = tmp_path / "cvdir" / "secrets"
    folder.mkdir(parents=True)
    monkeypatch.setenv("CLOUD_VOLUME_DIR", str(tmp_path / "cvdir"))
    (folder / f"{s3_bucket}-aws-secret.json").write_text(json.dumps(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY_ID": "testing", "AWS_ENDPOINT_URL": s3_endpoint}))  # fmt: skip
    (folder / "aws-secret.json").write_text(json.dumps(
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}))  # fmt: skip

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [64, 64, 8],
                                       chunk_size=(32, 32, 8))  # fmt: skip
    vol = CloudVolume(f"s3://{s3_bucket}/img", info=info, progress=False)
    vol.commit_info()
    data = random_array((64, 64, 8), "uint8", seed=3)
    vol[:, :, :] = data
    np.testing.assert_array_equal(CloudVolume(f"s3://{s3_bucket}/img", progress=False)[:, :, :][..., 0], data)
    assert f"{s3_bucket}-aws-secret.json" in vol._volume.store.credentials
    with pytest.raises(TransientStorageError, match=r"s3://other-bucket/img/info: it still failed"):
        CloudVolume("s3://other-bucket/img", progress=False)  # the default file's (dead) endpoint
