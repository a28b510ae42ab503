"""``storage_options=`` reaches the fsspec file system of S3, GCS and HTTP layers, as in zarr and xarray."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import CredentialsError, PermissionDeniedError
from precomputed_core.testing import random_array
from stand_ins import GzipHttpServer, _handler_for, serving


def _write(url: str, **options) -> np.ndarray:
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [48, 40, 16],
                                       chunk_size=(32, 32, 8))  # fmt: skip
    vol = CloudVolume(url, info=info, progress=False, **options)
    vol.commit_info()
    data = random_array((48, 40, 16), "uint8", seed=5)
    vol[:, :, :] = data
    return data


@pytest.mark.s3
def test_s3_keys_and_endpoint_in_storage_options(s3_endpoint, s3_bucket, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name)
    options = {"key": "testing", "secret": "testing", "endpoint_url": s3_endpoint,
               "client_kwargs": {"region_name": "us-east-1"}}  # fmt: skip
    url = f"s3://{s3_bucket}/img"
    data = _write(url, storage_options=options)
    vol = CloudVolume(url, progress=False, storage_options=options)
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
    assert vol._volume.store.credentials == "from storage_options (key, secret)"
    # The endpoint may come from endpoint_url= as well, if both agree.
    both = CloudVolume(url, progress=False, endpoint_url=s3_endpoint, storage_options=options)
    np.testing.assert_array_equal(both[0:4, 0:4, 0][..., 0, 0], data[0:4, 0:4, 0])
    with pytest.raises(ValueError, match="disagree"):
        CloudVolume(url, endpoint_url="http://127.0.0.1:9", storage_options=options)
    with pytest.raises(CredentialsError, match="given twice"):
        CloudVolume(
            url, secrets={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, storage_options=options
        )


@pytest.mark.gcs
def test_gcs_token_and_endpoint_in_storage_options(gcs_endpoint, gcs_bucket, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    options = {"token": "anon", "endpoint_url": gcs_endpoint}
    url = f"gs://{gcs_bucket}/img"
    data = _write(url, storage_options=options)
    vol = CloudVolume(url, progress=False, storage_options=options)
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
    assert vol._volume.store.credentials == "from storage_options (token)"


@contextlib.contextmanager
def _server_asking_for(root, header: str, value: str):
    """The test HTTP server, answering 403 to requests without ``header: value``."""
    state = GzipHttpServer(root=root, port=0, ranges=True, delay=0.0)
    serve = _handler_for(state)

    class Guarded(serve):  # type: ignore[misc, valid-type]
        def _respond(self, *, body: bool) -> None:
            if self.headers.get(header) != value:
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super()._respond(body=body)

    with serving(Guarded, "guarded-http") as port:
        state.port = port
        yield state


@pytest.mark.http
def test_http_headers_in_storage_options(tmp_path):
    root = tmp_path / "www"
    data = _write(f"file://{root}/img")
    with _server_asking_for(root, "X-Token", "sesame") as server:
        url = server.url("img")
        with pytest.raises(PermissionDeniedError, match="access denied"):
            CloudVolume(url, progress=False)
        for options in (
            {"headers": {"X-Token": "sesame"}},
            {"client_kwargs": {"headers": {"X-Token": "sesame"}}},
        ):
            vol = CloudVolume(url, progress=False, storage_options=options)
            np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
            np.testing.assert_array_equal(vol[3:9, 30:40, 5][..., 0, 0], data[3:9, 30:40, 5])  # ranged reads


@pytest.mark.s3
def test_s3_additional_kwargs_in_storage_options_reach_every_upload(s3_endpoint, s3_bucket):
    # Asked for per request: the full client adds it to the operations that take it (uploads).
    options = {"s3_additional_kwargs": {"StorageClass": "STANDARD_IA"}}
    url = f"s3://{s3_bucket}/infrequent"
    data = _write(url, storage_options=options)
    np.testing.assert_array_equal(
        CloudVolume(url, progress=False, storage_options=options)[:, :, :][..., 0], data
    )
    _write(f"s3://{s3_bucket}/plain")
    import boto3  # with the emulators (moto)

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    classes = {}
    for item in client.list_objects_v2(Bucket=s3_bucket)["Contents"]:
        head = client.head_object(Bucket=s3_bucket, Key=item["Key"])
        classes.setdefault(item["Key"].split("/")[0], set()).add(head.get("StorageClass", "STANDARD"))
    assert classes == {"infrequent": {"STANDARD_IA"}, "plain": {"STANDARD"}}
