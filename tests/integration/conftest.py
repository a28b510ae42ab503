"""Backends for the integration tests: local disk, S3 (moto), GCS (fake-gcs-server), HTTP.

Every test that takes the ``backend`` fixture runs once per backend, marked ``local``,
``s3``, ``gcs`` or ``http``; each nox session selects its own with ``-m``. The servers
start once per session on 127.0.0.1 (a free port) and stop at the end.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from stand_ins import create_gcs_bucket, fake_gcs, moto_s3, s3_client, serve_directory

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# gcsfs's "extended" class would ask a gRPC API that the fake cannot answer; we use the
# core class, and this keeps anything else that imports gcsfs from trying.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

BACKENDS = ("local", "s3", "gcs", "http")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    with fake_gcs() as endpoint:
        yield endpoint


def new_bucket() -> str:
    return "bkt-" + uuid.uuid4().hex[:10]


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; the AWS variables point at moto (as a user would for MinIO)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    bucket = new_bucket()
    s3_client(s3_endpoint).mkdir(bucket)
    return bucket


@pytest.fixture
def gcs_bucket(gcs_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    bucket = new_bucket()
    create_gcs_bucket(gcs_endpoint, bucket)
    return bucket


@dataclass
class Backend:
    """Where a test writes a layer (``write_url``) and where it reads it back (``read_url``)."""

    name: str
    write_base: str
    read_base: str
    extra: dict[str, Any] = field(default_factory=dict)

    def write_url(self, layer: str) -> str:
        return f"{self.write_base}/{layer}"

    def read_url(self, layer: str) -> str:
        return f"{self.read_base}/{layer}"

    @property
    def writable(self) -> bool:
        return self.write_base == self.read_base


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in BACKENDS])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name = request.param
    if name == "local":
        yield Backend(name, f"file://{tmp_path}/data", f"file://{tmp_path}/data")
    elif name == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        yield Backend(name, f"s3://{bucket}/ds", f"s3://{bucket}/ds", {"bucket": bucket})
    elif name == "gcs":
        bucket = request.getfixturevalue("gcs_bucket")
        yield Backend(name, f"gs://{bucket}/ds", f"gs://{bucket}/ds", {"bucket": bucket})
    else:
        root = tmp_path / "www"
        root.mkdir()
        with serve_directory(root) as server:
            yield Backend(name, f"file://{root}/ds", server.url("ds"), {"server": server})
