"""Unit tests for ``precomputed_core.meta._paths`` (parse_cloudpath, CloudPath)."""

from __future__ import annotations

import dataclasses
import os
import pathlib

import numpy as np
import pytest

from precomputed_core import CloudPath, parse_cloudpath
from precomputed_core.exceptions import PluginError, UnsupportedProtocolError
from precomputed_core.meta._paths import KNOWN_FORMATS


def _fields(p: CloudPath) -> tuple[str, str, str, str]:
    return (p.protocol, p.bucket, p.path, p.format)


# --- cloud protocols -------------------------------------------------------


def test_gs():
    p = parse_cloudpath("gs://bucket/mouse/image")
    assert _fields(p) == ("gs", "bucket", "mouse/image", "precomputed")
    assert p.dataset == "mouse"
    assert p.layer == "image"
    assert p.url == "gs://bucket/mouse/image"
    assert p.base_url == "gs://bucket/mouse"
    assert p.child("info") == "gs://bucket/mouse/image/info"


def test_s3_deep_path():
    p = parse_cloudpath("s3://my-bucket/a/b/c/d")
    assert _fields(p) == ("s3", "my-bucket", "a/b/c/d", "precomputed")
    assert p.dataset == "c"
    assert p.layer == "d"
    assert p.base_url == "s3://my-bucket/a/b/c"
    assert p.child("4_4_40/0-64_0-64_0-64") == "s3://my-bucket/a/b/c/d/4_4_40/0-64_0-64_0-64"


def test_trailing_slashes_are_stripped():
    p = parse_cloudpath("gs://bucket/ds/layer/")
    assert p.path == "ds/layer"
    assert p.url == "gs://bucket/ds/layer"
    assert p.layer == "layer"


def test_names_keep_their_spaces():
    """A directory named "layer " is not "layer": trailing spaces are part of the name."""
    assert parse_cloudpath("gs://bucket/ds/layer ").url == "gs://bucket/ds/layer "
    assert parse_cloudpath("file:///data/layer ").local_path == "/data/layer "
    assert parse_cloudpath("/data/ layer /x ").local_path == "/data/ layer /x "
    assert parse_cloudpath("  gs://bucket/ds/layer").url == "gs://bucket/ds/layer"  # indentation only


def test_a_layer_whose_name_ends_in_a_space_is_written_there(tmp_path):
    from precomputed_core import CloudVolume

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [8, 8, 8])
    vol = CloudVolume(f"file://{tmp_path}/layer ", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.full((8, 8, 8), 3, np.uint8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer "]
    assert int(CloudVolume(str(tmp_path / "layer "), progress=False)[:, :, :].sum()) == 3 * 512


def test_scheme_is_case_insensitive_bucket_is_not():
    p = parse_cloudpath("GS://MyBucket/DS/Layer")
    assert _fields(p) == ("gs", "MyBucket", "DS/Layer", "precomputed")


def test_bucket_only():
    p = parse_cloudpath("gs://bucket")
    assert _fields(p) == ("gs", "bucket", "", "precomputed")
    assert p.layer == ""
    assert p.dataset == ""
    assert p.url == "gs://bucket"
    assert p.base_url == "gs://bucket"
    assert p.child("info") == "gs://bucket/info"


def test_single_component_has_no_dataset():
    p = parse_cloudpath("gs://bucket/layer")
    assert p.layer == "layer"
    assert p.dataset == ""
    assert p.base_url == "gs://bucket"


def test_http_with_host_and_port():
    p = parse_cloudpath("https://example.com:8080/a/b/c")
    assert _fields(p) == ("https", "example.com:8080", "a/b/c", "precomputed")
    assert p.dataset == "b"
    assert p.layer == "c"
    assert p.url == "https://example.com:8080/a/b/c"
    assert p.base_url == "https://example.com:8080/a/b"
    assert p.child("info") == "https://example.com:8080/a/b/c/info"


def test_plain_http():
    p = parse_cloudpath("http://localhost/ds/layer")
    assert _fields(p) == ("http", "localhost", "ds/layer", "precomputed")


def test_mem():
    p = parse_cloudpath("mem://bucket/ds/layer")
    assert _fields(p) == ("mem", "bucket", "ds/layer", "precomputed")
    assert p.url == "mem://bucket/ds/layer"


def test_boss():
    p = parse_cloudpath("boss://collection/experiment/channel")
    assert _fields(p) == ("boss", "collection", "experiment/channel", "precomputed")
    assert p.dataset == "experiment"
    assert p.layer == "channel"
    assert p.url == "boss://collection/experiment/channel"


def test_unknown_plain_scheme_is_left_for_a_plugin():
    p = parse_cloudpath("myproto://bkt/ds/layer")
    assert _fields(p) == ("myproto", "bkt", "ds/layer", "precomputed")


# --- format prefix -----------------------------------------------------------------


def test_precomputed_prefix():
    p = parse_cloudpath("precomputed://gs://bucket/mouse/image")
    assert _fields(p) == ("gs", "bucket", "mouse/image", "precomputed")
    assert p.url == "gs://bucket/mouse/image"
    assert "precomputed" in KNOWN_FORMATS


def test_precomputed_prefix_case_insensitive():
    p = parse_cloudpath("PRECOMPUTED://s3://b/d/l")
    assert _fields(p) == ("s3", "b", "d/l", "precomputed")


def test_precomputed_prefix_on_file_url():
    p = parse_cloudpath("precomputed://file:///data/ds/seg")
    assert _fields(p) == ("file", "", "data/ds/seg", "precomputed")


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("zarr://s3://b/x", "zarr"),
        ("zarr2://gs://b/x", "zarr2"),
        ("zarr3://gs://b/x", "zarr3"),
        ("n5://gs://b/x", "n5"),
        ("graphene://https://host.example/segmentation/table/x", "graphene"),
        ("nifti://https://host/vol.nii", "nifti"),
        ("python://volume", "python"),
        ("nggraph://x", "nggraph"),
    ],
)
def test_other_neuroglancer_formats_are_refused(url, fmt):
    with pytest.raises(UnsupportedProtocolError) as err:
        parse_cloudpath(url)
    msg = str(err.value)
    assert f"format {fmt!r}" in msg
    assert url in msg
    assert "precomputed://" in msg


def test_unknown_format_prefix_wrapping_a_url_is_refused():
    with pytest.raises(UnsupportedProtocolError, match="format 'foo'"):
        parse_cloudpath("foo://gs://bucket/x")


def test_unsupported_protocol_is_a_value_error():
    with pytest.raises(ValueError):
        parse_cloudpath("zarr://s3://b/x")
    with pytest.raises(PluginError):
        parse_cloudpath("zarr://s3://b/x")


# --- missing pieces ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["", "   ", "\n"])
def test_empty_path_raises(url):
    with pytest.raises(UnsupportedProtocolError, match="an empty path names no layer"):
        parse_cloudpath(url)


@pytest.mark.parametrize("url", ["gs://", "s3:///", "mem://"])
def test_no_bucket_raises(url):
    with pytest.raises(UnsupportedProtocolError, match="names no bucket"):
        parse_cloudpath(url)


def test_no_host_raises():
    with pytest.raises(UnsupportedProtocolError, match=r"names no host; use https://BUCKET"):
        parse_cloudpath("https://")


# --- local files ----------------------------------------------------------------


def test_file_url_absolute():
    p = parse_cloudpath("file:///data/ds/seg")
    assert _fields(p) == ("file", "", "data/ds/seg", "precomputed")
    assert p.dataset == "ds"
    assert p.layer == "seg"
    assert p.url == "file:///data/ds/seg"
    assert p.base_url == "file:///data/ds"
    assert p.local_path == "/data/ds/seg"
    assert p.child("info") == "file:///data/ds/seg/info"


def test_file_url_is_normalised():
    p = parse_cloudpath("file:///data/./ds/../ds/seg/")
    assert p.path == "data/ds/seg"
    assert p.url == "file:///data/ds/seg"


def test_absolute_bare_path():
    p = parse_cloudpath("/data/ds/seg")
    assert _fields(p) == ("file", "", "data/ds/seg", "precomputed")
    assert p.url == "file:///data/ds/seg"


def test_relative_path_resolves_against_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = parse_cloudpath("ds/layer")
    expected = os.path.join(str(tmp_path), "ds", "layer")
    assert p.protocol == "file"
    assert p.bucket == ""
    assert p.local_path == expected
    assert p.url == "file://" + expected
    assert p.layer == "layer"
    assert p.dataset == "ds"


def test_relative_file_url_resolves_against_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = parse_cloudpath("file://ds/layer")
    assert p.local_path == os.path.join(str(tmp_path), "ds", "layer")


def test_relative_path_with_precomputed_prefix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = parse_cloudpath("precomputed://ds/layer")
    assert p.local_path == os.path.join(str(tmp_path), "ds", "layer")


def test_home_expansion(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    p = parse_cloudpath("~/ds/layer")
    assert p.local_path == os.path.join(str(home), "ds", "layer")
    q = parse_cloudpath("file://~/ds/layer")
    assert q.local_path == os.path.join(str(home), "ds", "layer")


def test_pathlike_is_accepted(tmp_path):
    p = parse_cloudpath(tmp_path / "ds" / "layer")
    assert p.local_path == str(tmp_path / "ds" / "layer")
    assert parse_cloudpath(pathlib.PurePosixPath("/x/y")).url == "file:///x/y"


def test_root_file_path():
    p = parse_cloudpath("file:///")
    assert _fields(p) == ("file", "", "", "precomputed")
    assert p.url == "file:///"
    assert p.local_path == "/"
    assert p.layer == ""


def test_file_base_url_of_top_level_dir():
    p = parse_cloudpath("file:///layer")
    assert p.base_url == "file:///"
    assert p.dataset == ""


# --- CloudPath helpers ---------------------------------------------------------------


def test_with_dataset():
    p = parse_cloudpath("gs://bucket/a/mouse/image")
    q = p.with_dataset("fly")
    assert q.url == "gs://bucket/a/fly/image"
    assert q.dataset == "fly"
    assert q.layer == "image"
    assert p.url == "gs://bucket/a/mouse/image"


def test_with_dataset_on_file_path():
    assert parse_cloudpath("file:///data/ds/seg").with_dataset("other").url == "file:///data/other/seg"


def test_with_dataset_without_dataset_raises():
    with pytest.raises(UnsupportedProtocolError, match="gs://bucket/layer has no dataset component"):
        parse_cloudpath("gs://bucket/layer").with_dataset("x")


def test_with_layer():
    p = parse_cloudpath("s3://b/ds/image")
    q = p.with_layer("segmentation")
    assert q.url == "s3://b/ds/segmentation"
    assert q.dataset == "ds"
    assert q.layer == "segmentation"
    assert p.layer == "image"


def test_with_layer_on_bucket_only():
    assert parse_cloudpath("gs://bucket").with_layer("x").url == "gs://bucket/x"


def test_cloudpath_is_frozen_and_comparable():
    p = parse_cloudpath("gs://bucket/ds/layer")
    assert p == CloudPath("gs", "bucket", "ds/layer", "precomputed")
    assert p == CloudPath("gs", "bucket", "ds/layer")
    assert hash(p) == hash(CloudPath("gs", "bucket", "ds/layer"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.bucket = "other"  # type: ignore[misc]


def test_direct_construction():
    p = CloudPath("mem", "b", "x/y/z")
    assert p.url == "mem://b/x/y/z"
    assert p.base_url == "mem://b/x/y"
    assert p.dataset == "y"
    assert p.layer == "z"
    assert p.format == "precomputed"


def test_empty_file_path_and_repeated_slashes():
    with pytest.raises(UnsupportedProtocolError, match="names no directory"):
        parse_cloudpath("file://")
    assert parse_cloudpath("gs://b//d//l/").url == "gs://b/d/l"
