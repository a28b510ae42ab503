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


def test_compress_level_sets_the_gzip_level(tmp_path):
    from precomputed_core import compress_bytes

    raw = _noise().tobytes(order="F")
    stored = {}
    for level in (1, 9):
        vol = CloudVolume(f"file://{tmp_path}/l{level}", info=_info(), compress=True, compress_level=level,
                          progress=False)  # fmt: skip
        vol.commit_info()
        vol[:, :, :] = _noise()
        stored[level] = (tmp_path / f"l{level}" / "4_4_40" / "0-64_0-64_0-32.gz").read_bytes()
        # the level's own output (the gzip coder is ISA-L's: not the stdlib's bytes), plain gzip
        assert stored[level] == compress_bytes(raw, "gzip", level=level)
        assert gzip.decompress(stored[level]) == raw
        assert vol.compress_level == level
        np.testing.assert_array_equal(vol[:, :, :][..., 0], _noise())
    assert len(stored[9]) < len(stored[1])  # the level was honoured


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
    # (opening the gs:// one would import gcsfs, which warns on Python 3.10: s3 shows the same)
    vol = CloudVolume("s3://bucket/ds/layer", use_https=True, info=_info())
    assert vol.cloudpath == "https://s3.amazonaws.com/bucket/ds/layer"
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


def _counted_reads(vol, monkeypatch):
    """The keys the volume's store is asked for from now on, as a list that grows."""
    store, keys_read = vol._volume.store, []
    real = store.get_stored_many

    def counting(keys):
        keys = list(keys)
        keys_read.extend(keys)
        return real(keys)

    monkeypatch.setattr(store, "get_stored_many", counting)
    return keys_read


def _small(tmp_path, name, **options):
    info = CloudVolume.create_new_info(1, "segmentation", "uint16", "raw", [4, 4, 40], [0, 0, 0],
                                       [64, 64, 32], chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/{name}", info=info, progress=False, **options)
    vol.commit_info()
    return vol


@pytest.mark.parametrize("sharded", [False, True])
def test_delete_black_uploads_removes_chunks_of_background(tmp_path, sharded):
    vol = _small(tmp_path, "b", delete_black_uploads=True, background_color=7, non_aligned_writes=True)
    if sharded:
        vol.info["scales"][0]["sharding"] = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 0,
                                             "hash": "identity", "minishard_bits": 0, "shard_bits": 3,
                                             "minishard_index_encoding": "raw", "data_encoding": "raw"}  # fmt: skip
        vol.commit_info()
    data = np.full((64, 64, 32), 7, np.uint16)
    data[0:32, 0:32, 0:16] = 1
    vol[:, :, :] = data
    assert vol.exists(np.s_[0:64, 0:64, 0:32]) == {
        name: name == "4_4_40/0-32_0-32_0-16" for name in vol.exists(np.s_[0:64, 0:64, 0:32])
    }
    vol.fill_missing = True
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)  # missing chunks read as background
    vol[0:10, 0:10, 0:10] = np.full((10, 10, 10), 7, np.uint16)  # a patch: still not all background
    assert vol.exists(np.s_[0:32, 0:32, 0:16])["4_4_40/0-32_0-32_0-16"]
    vol[0:32, 0:32, 0:16] = np.full((32, 32, 16), 7, np.uint16)
    assert not any(vol.exists(np.s_[0:64, 0:64, 0:32]).values())
    assert (vol[:, :, :] == 7).all()


def test_background_color_fills_missing_chunks_and_the_outside(tmp_path):
    vol = _small(tmp_path, "g", background_color=3, fill_missing=True, bounded=False)
    vol[0:32, 0:32, 0:16] = np.ones((32, 32, 16), np.uint16)
    image = vol[-4:40, 0:32, 0:16][..., 0]
    assert (image[0:4] == 3).all()  # outside the volume
    assert (image[4:36] == 1).all()
    assert (image[36:] == 3).all()  # a missing chunk
    assert vol.background_color == 3
    with pytest.raises(ValueError, match="background_color must be a number"):
        vol.background_color = "black"


def test_overwrite_partial_chunks_writes_shells_without_reading(tmp_path, monkeypatch):
    vol = _small(tmp_path, "o", non_aligned_writes=True, overwrite_partial_chunks=True, background_color=5)
    vol[0:32, 0:32, 0:16] = np.ones((32, 32, 16), np.uint16)
    reads = _counted_reads(vol, monkeypatch)
    vol[10:20, 10:20, 0:16] = np.full((10, 10, 16), 2, np.uint16)
    assert reads == []  # the partly covered chunk is not read
    image = CloudVolume(f"file://{tmp_path}/o")[0:32, 0:32, 0:16][..., 0]
    assert (image[10:20, 10:20] == 2).all()
    assert image.sum() == 2 * 10 * 10 * 16 + 5 * (32 * 32 * 16 - 10 * 10 * 16)  # the rest is background


@pytest.mark.parametrize("encoding", ["same", "raw"])
def test_lru_bytes_keeps_recent_chunks_in_memory(tmp_path, encoding, monkeypatch):
    writer = _small(tmp_path, "lru", compress="gzip")
    data = np.random.default_rng(5).integers(0, 1000, size=(64, 64, 32), dtype=np.uint16)
    writer[:, :, :] = data
    chunk = 32 * 32 * 16 * 2
    vol = CloudVolume(f"file://{tmp_path}/lru", progress=False, lru_bytes=3 * chunk, lru_encoding=encoding)
    assert vol.lru.max_bytes == 3 * chunk
    assert vol.lru.encoding == encoding
    np.testing.assert_array_equal(vol[0:40, 0:20, 0:10][..., 0], data[0:40, 0:20, 0:10])  # 2 chunks
    assert len(vol.lru) == 2
    fetched = _counted_reads(vol, monkeypatch)
    np.testing.assert_array_equal(vol[5:35, 3:9, 2:12][..., 0], data[5:35, 3:9, 2:12])
    assert fetched == []  # both chunks from memory
    np.testing.assert_array_equal(vol[:, :, :][..., 0], data)
    assert len(fetched) == 8 - 2
    assert len(vol.lru) == 3  # bounded: at most three chunks' bytes
    assert vol.lru.nbytes <= 3 * chunk
    vol[0:32, 0:32, 0:16] = np.zeros((32, 32, 16), np.uint16)  # a write drops the stale copy
    assert (vol[0:32, 0:32, 0:16] == 0).all()


def test_lru_settings_are_checked(tmp_path):
    _small(tmp_path, "x")
    with pytest.raises(ValueError, match="lru_encoding 'fpzip9' is not supported"):
        CloudVolume(f"file://{tmp_path}/x", lru_bytes=100, lru_encoding="fpzip9")
    with pytest.raises(ValueError, match="lru_bytes"):
        CloudVolume(f"file://{tmp_path}/x", lru_bytes=-1)
    off = CloudVolume(f"file://{tmp_path}/x").lru
    assert (off.max_bytes, off.active, len(off)) == (0, False, 0)
    copy = pickle.loads(pickle.dumps(CloudVolume(f"file://{tmp_path}/x", lru_bytes=1000, lru_encoding="raw")))
    assert (copy.lru.max_bytes, copy.lru.encoding) == (1000, "raw")
