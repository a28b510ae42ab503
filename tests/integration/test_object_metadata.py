"""Object metadata on write (read back from the stand-in servers), and read-only HTTP."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import ReadOnlyError
from precomputed_core.testing import random_array
from stand_ins import s3_client, serve_directory

CHUNK = "4_4_40/0-64_0-64_0-16"


def _layer(url, **options):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [128, 64, 16],
                                       chunk_size=(64, 64, 16))  # fmt: skip
    vol = CloudVolume(url, info=info, progress=False, **options)
    vol.commit_info()
    vol[:, :, :] = random_array((128, 64, 16), "uint8", seed=1)
    return vol


def _s3_headers(endpoint, bucket, key):
    head = s3_client(endpoint).call_s3("head_object", Bucket=bucket, Key=key)
    return head.get("ContentType"), head.get("ContentEncoding"), head.get("CacheControl")


def _gcs_headers(endpoint, bucket, key):
    url = f"{endpoint}/storage/v1/b/{bucket}/o/{urllib.request.quote(key, safe='')}"
    with urllib.request.urlopen(url, timeout=10) as response:
        meta = json.load(response)
    return meta.get("contentType"), meta.get("contentEncoding"), meta.get("cacheControl")


CASES = [
    (
        {"compress": "gzip", "cdn_cache": True},
        ("application/octet-stream", "gzip", "max-age=3600, s-max-age=3600"),
    ),
    ({"compress": None, "cdn_cache": False}, ("application/octet-stream", None, "no-cache")),
    ({"compress": "gzip", "cdn_cache": 60}, ("application/octet-stream", "gzip", "max-age=60, s-max-age=60")),
    ({"cdn_cache": "public, max-age=7"}, ("application/octet-stream", None, "public, max-age=7")),
]


SERVICES = {"s3": ("s3", _s3_headers), "gcs": ("gs", _gcs_headers)}


@pytest.mark.parametrize(
    "service", [pytest.param(name, marks=getattr(pytest.mark, name)) for name in SERVICES]
)
@pytest.mark.parametrize(("options", "expected"), CASES)
def test_object_metadata(request, service, options, expected):
    endpoint, bucket = (
        request.getfixturevalue(f"{service}_endpoint"),
        request.getfixturevalue(f"{service}_bucket"),
    )
    scheme, headers = SERVICES[service]
    _layer(f"{scheme}://{bucket}/ds/img", **options)
    assert headers(endpoint, bucket, f"ds/img/{CHUNK}") == expected
    assert headers(endpoint, bucket, "ds/img/info")[0] == "application/json"


@pytest.mark.s3
def test_s3_gzip_objects_are_stored_compressed_and_read_plain(s3_endpoint, s3_bucket):
    vol = _layer(f"s3://{s3_bucket}/ds/img", compress="gzip")
    stored = s3_client(s3_endpoint).cat_file(f"{s3_bucket}/ds/img/{CHUNK}")
    assert stored[:2] == b"\x1f\x8b"  # S3 keeps what was sent: the reader must decode it
    np.testing.assert_array_equal(
        vol[0:64, 0:64, 0:16][..., 0], random_array((128, 64, 16), "uint8", seed=1)[:64]
    )


@pytest.mark.http
def test_http_is_read_only(tmp_path):
    root = tmp_path / "www"
    _layer(f"file://{root}/img")
    with serve_directory(root) as server:
        vol = CloudVolume(server.url("img"), progress=False)
        np.testing.assert_array_equal(vol[:, :, :][..., 0], random_array((128, 64, 16), "uint8", seed=1))
        with pytest.raises(ReadOnlyError, match="read-only"):
            vol[0:64, 0:64, 0:16] = np.zeros((64, 64, 16), np.uint8)
        with pytest.raises(ReadOnlyError, match="read-only"):
            vol.delete(np.s_[0:64, 0:64, 0:16])
        with pytest.raises(ReadOnlyError, match="read-only"):
            vol.commit_info()


@pytest.mark.gcs
def test_neuroglancer_https_urls_of_gcs_buckets_read_through_the_gcs_driver(gcs_bucket):
    written = _layer(f"gs://{gcs_bucket}/ds/img", compress="gzip")
    expected = written[:, :, :]
    for url in (f"https://storage.googleapis.com/{gcs_bucket}/ds/img", f"https://{gcs_bucket}.storage.googleapis.com/ds/img",
                f"precomputed://gs://{gcs_bucket}/ds/img"):  # fmt: skip
        vol = CloudVolume(url, progress=False)
        np.testing.assert_array_equal(vol[:, :, :], expected)
    with pytest.raises(ReadOnlyError):
        CloudVolume(f"https://storage.googleapis.com/{gcs_bucket}/ds/img", progress=False).commit_info()


@pytest.mark.gcs
def test_gcs_payload_with_the_multipart_boundary_survives(gcs_bucket):
    vol = _layer(f"gs://{gcs_bucket}/ds/img")
    payload = b"head\r\n--==0==\r\nmiddle\n--==0==--\ntail" * 50
    vol._volume.store.put("odd", payload)
    assert vol._volume.store.get("odd") == payload


@pytest.mark.s3
def test_endpoint_per_volume(s3_endpoint, s3_bucket, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a closed port: must not be used
    vol = _layer(f"s3://{s3_bucket}/ds/img", endpoint_url=s3_endpoint)
    assert vol._volume.store.endpoint == s3_endpoint
    np.testing.assert_array_equal(CloudVolume(f"s3://{s3_bucket}/ds/img", endpoint_url=s3_endpoint, progress=False)[:, :, :][..., 0],
                                  random_array((128, 64, 16), "uint8", seed=1))  # fmt: skip


def _store(url):
    from precomputed_core import parse_cloudpath
    from precomputed_core.plugins import get_driver

    return get_driver(parse_cloudpath(url).protocol)[1].from_cloudpath(parse_cloudpath(url))


def _copy(source, target):
    """Every object of ``source`` into ``target`` exactly as stored (no decoding, no re-encoding)."""
    keys = list(source.list())
    target.put_stored_many({key: found for key, found in source.get_stored_many(keys).items() if found})
    return keys


@pytest.mark.parametrize(
    "service", [pytest.param(name, marks=getattr(pytest.mark, name)) for name in SERVICES]
)
def test_a_layer_copies_byte_for_byte_with_its_metadata(request, service, tmp_path):
    protocol, headers_of = SERVICES[service]
    endpoint, bucket = (
        request.getfixturevalue(f"{service}_endpoint"),
        request.getfixturevalue(f"{service}_bucket"),
    )
    original = _layer(f"file://{tmp_path}/original", compress="gzip")
    files = {p.relative_to(tmp_path / "original"): p.read_bytes() for p in (tmp_path / "original").rglob("*")
             if p.is_file()}  # fmt: skip
    cloud = _store(f"{protocol}://{bucket}/copy")
    _copy(_store(original.cloudpath), cloud)
    assert headers_of(endpoint, bucket, f"copy/{CHUNK}")[1] == "gzip"  # still compressed, as on disk
    stored = cloud.get_stored(CHUNK)
    assert stored is not None
    assert (stored.data, stored.metadata.content_encoding) == (files[Path(f"{CHUNK}.gz")], "gzip")
    np.testing.assert_array_equal(CloudVolume(f"{protocol}://{bucket}/copy", progress=False)[:], original[:])
    # ...and back to disk: the same files, byte for byte
    _copy(cloud, _store(f"file://{tmp_path}/back"))
    back = {
        p.relative_to(tmp_path / "back"): p.read_bytes()
        for p in (tmp_path / "back").rglob("*")
        if p.is_file()
    }
    assert back == files


@pytest.mark.s3
@pytest.mark.gcs
def test_cloud_to_cloud_copies_keep_cache_control(s3_endpoint, s3_bucket, gcs_endpoint, gcs_bucket):
    source = _layer(f"s3://{s3_bucket}/layer", compress="gzip", cdn_cache=60)
    _copy(_store(source.cloudpath), _store(f"gs://{gcs_bucket}/layer"))
    assert _gcs_headers(gcs_endpoint, gcs_bucket, f"layer/{CHUNK}") == _s3_headers(
        s3_endpoint, s3_bucket, f"layer/{CHUNK}"
    )
    assert _gcs_headers(gcs_endpoint, gcs_bucket, f"layer/{CHUNK}")[1:] == (
        "gzip",
        "max-age=60, s-max-age=60",
    )
    np.testing.assert_array_equal(CloudVolume(f"gs://{gcs_bucket}/layer", progress=False)[:], source[:])
