"""cloud-volume's constructor options beyond the README: accepted with meaning, or refused by name."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from precomputed_core import CloudVolume, Skeleton
from precomputed_core.exceptions import (
    CyclicRedirect,
    CyclicRedirectError,
    FeatureUnavailableError,
    TooManyRedirects,
)
from precomputed_core.frontend._options import https_path


def _info():
    return CloudVolume.create_new_info(1, "segmentation", "uint16", "raw", [4, 4, 40], [0, 0, 0],
                                       [64, 64, 32], chunk_size=(64, 64, 32))  # fmt: skip


def _noise():
    return np.random.default_rng(3).integers(0, 4, size=(64, 64, 32), dtype=np.uint16)


@pytest.mark.parametrize("level", [1, 9])
def test_compress_level_sets_the_gzip_level(tmp_path, level):
    vol = CloudVolume(f"file://{tmp_path}/l{level}", info=_info(), compress=True, compress_level=level,
                      progress=False)  # fmt: skip
    vol.commit_info()
    vol[:, :, :] = _noise()
    stored = (tmp_path / f"l{level}" / "4_4_40" / "0-64_0-64_0-32.gz").read_bytes()
    assert stored == gzip.compress(_noise().tobytes(order="F"), compresslevel=level, mtime=0)
    assert vol.compress_level == level
    np.testing.assert_array_equal(vol[:, :, :][..., 0], _noise())


def test_compress_level_is_checked(tmp_path):
    with pytest.raises(ValueError, match="gzip level from 1 to 9"):
        CloudVolume(f"file://{tmp_path}/x", info=_info(), compress_level=10)


def test_attributes_keep_what_was_given(tmp_path):
    vol = CloudVolume(f"file://{tmp_path}/a", info=_info(), compress=True, progress=False)
    assert vol.compress is True
    vol.compress = "gzip"
    assert vol.compress == "gzip"
    vol.compress = False
    assert vol.compress is False
    copy = pickle.loads(pickle.dumps(CloudVolume(f"file://{tmp_path}/a", info=_info(), compress=True)))
    assert copy.compress is True


def test_graphene_and_spatial_index_options_are_refused_by_name(tmp_path):
    url = f"file://{tmp_path}/g"
    with pytest.raises(FeatureUnavailableError, match=r"agglomerate: this serves graphene"):
        CloudVolume(url, info=_info(), agglomerate=True)
    with pytest.raises(FeatureUnavailableError, match=r"timestamp: this serves graphene"):
        CloudVolume(url, info=_info(), timestamp=1700000000)
    with pytest.raises(FeatureUnavailableError, match=r"spatial_index_db: this serves spatial-index"):
        CloudVolume(url, info=_info(), spatial_index_db="sqlite:///x.db")
    vol = CloudVolume(url, info=_info(), agglomerate=False, timestamp=None, spatial_index_db=None)
    assert vol.layer == "g"


def test_green_threads_are_accepted_with_a_warning(tmp_path):
    with pytest.warns(RuntimeWarning, match="green_threads=True is accepted and ignored"):
        vol = CloudVolume(f"file://{tmp_path}/t", info=_info(), green_threads=True, progress=False)
    vol.commit_info()
    vol[:, :, :] = _noise()
    np.testing.assert_array_equal(vol[:, :, :][..., 0], _noise())


def test_codec_threads_are_accepted_and_checked(tmp_path):
    vol = CloudVolume(f"file://{tmp_path}/c", info=_info(), codec_threads=4)
    assert vol.codec_threads == 4
    assert CloudVolume(f"file://{tmp_path}/c", info=_info(), codec_threads=0).codec_threads >= 1
    with pytest.raises(ValueError, match="codec_threads"):
        CloudVolume(f"file://{tmp_path}/c", info=_info(), codec_threads=-1)


def test_use_https_reads_public_buckets_over_plain_https():
    assert https_path("gs://bucket/ds/layer") == "https://storage.googleapis.com/bucket/ds/layer"
    assert https_path("s3://bucket/ds/layer") == "https://s3.amazonaws.com/bucket/ds/layer"
    assert https_path("precomputed://gs://b/l") == "precomputed://https://storage.googleapis.com/b/l"
    assert https_path("file:///data/layer") == "file:///data/layer"
    vol = CloudVolume("gs://bucket/ds/layer", use_https=True, info=_info())
    assert vol.cloudpath == "https://storage.googleapis.com/bucket/ds/layer"
    assert vol.use_https is True


def test_mesh_dir_and_skel_dir_name_the_directories(tmp_path):
    info = _info()
    info["skeletons"] = "skeletons"
    vol = CloudVolume(f"file://{tmp_path}/s", info=info, progress=False, skel_dir="other_skeletons")
    vol.commit_info()
    assert vol.skeleton.path == "other_skeletons"
    skeleton = Skeleton([[0, 0, 0], [10, 0, 0]], [[0, 1]], segid=7)
    vol.skeleton.upload(skeleton)
    assert (tmp_path / "s" / "other_skeletons" / "7").exists()
    assert not (tmp_path / "s" / "skeletons").exists()
    assert vol.skeleton.get(7).vertices.tolist() == skeleton.vertices.tolist()
    meshes = CloudVolume(f"file://{tmp_path}/s", progress=False, mesh_dir="my_mesh")
    assert meshes.mesh.path == "my_mesh"
    assert pickle.loads(pickle.dumps(vol)).skeleton.path == "other_skeletons"


def _chain(tmp_path, names, last_redirect=None):
    """Layers ``names[0] -> names[1] -> ...``; the last holds data (and may redirect onward)."""
    for i, name in enumerate(names):
        info = _info()
        target = names[i + 1] if i + 1 < len(names) else last_redirect
        if target is not None:
            info["redirect"] = f"file://{tmp_path}/{target}"
        vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False)
        vol.commit_info()
        if target is None:
            vol[:, :, :] = _noise()


def test_redirects_are_followed_up_to_max_redirects(tmp_path):
    _chain(tmp_path, ["a", "b", "c"])
    vol = CloudVolume(f"file://{tmp_path}/a", progress=False)
    assert vol.cloudpath == f"file://{tmp_path}/c"
    np.testing.assert_array_equal(vol[:, :, :][..., 0], _noise())
    assert CloudVolume(f"file://{tmp_path}/a", max_redirects=2).layer == "c"
    with pytest.raises(TooManyRedirects, match="max_redirects=1"):
        CloudVolume(f"file://{tmp_path}/a", max_redirects=1)
    assert CloudVolume(f"file://{tmp_path}/a", max_redirects=0).layer == "a"  # not followed


def test_a_redirect_cycle_is_refused(tmp_path):
    _chain(tmp_path, ["x", "y"], last_redirect="x")
    with pytest.raises(CyclicRedirect, match="come back to") as err:
        CloudVolume(f"file://{tmp_path}/x")
    assert isinstance(err.value, CyclicRedirectError)
    assert isinstance(err.value, ValueError)  # an InfoError, as cloud-volume's RedirectError
    _chain(tmp_path, ["self"], last_redirect="self")
    assert CloudVolume(f"file://{tmp_path}/self").layer == "self"  # a layer naming itself
