"""``cache=`` and ``vol.cache`` on local layers: settings, read/write-through, trust, flushes, limits."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.cache import cache_location
from precomputed_core.exceptions import EmptyVolumeException, StorageError
from precomputed_core.meta import parse_cloudpath
from precomputed_core.testing import random_array

SIZE = (64, 64, 32)
CHUNK = (32, 32, 16)  # 2 x 2 x 2 chunks at mip 0, 1 x 1 x 2 at mip 1
ALL = np.s_[0:64, 0:64, 0:32]


def _layer(tmp_path, name="layer", compress=None, max_mip=1, data=None, **options):
    """A committed two-mip uint16 layer on local disk, filled at mip 0 and mip 1."""
    info = CloudVolume.create_new_info(1, "image", "uint16", "raw", [4, 4, 40], [0, 0, 0], list(SIZE),
                                       chunk_size=CHUNK, max_mip=max_mip)  # fmt: skip
    url = f"file://{tmp_path}/remote/{name}"
    writer = CloudVolume(url, info=info, progress=False, compress=compress)
    writer.commit_info()
    data = random_array(SIZE, "uint16", seed=3) if data is None else data
    writer[ALL] = data
    if max_mip:
        writer.mip = 1
        writer[0:32, 0:32, 0:32] = data[::2, ::2, :]
    return url, data


def _cached(url, tmp_path, **options):
    options.setdefault("progress", False)
    return CloudVolume(url, cache=str(tmp_path / "cache"), **options)


def _chunk_files(vol, mip=0):
    return sorted(os.listdir(os.path.join(vol.cache.path, vol.meta.key(mip))))


# --- settings ---------------------------------------------------------------------------


def test_default_location_is_cloudvolumes(tmp_path):
    url, _ = _layer(tmp_path)
    vol = CloudVolume(url, cache=True, progress=False)
    home = os.path.expanduser("~")
    expected = os.path.join(
        home, ".cloudvolume", "cache", "file", str(tmp_path).strip("/"), "remote", "layer"
    )
    assert vol.cache.path == expected == vol.cache_path
    assert vol.cache.enabled is True
    assert vol.cache.compress is None
    assert vol.cache.max_bytes is None
    vol[ALL]
    assert os.path.isfile(os.path.join(expected, vol.key, "0-32_0-32_0-16"))


def test_cloud_volume_cache_dir_and_a_given_directory_choose_the_base(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUD_VOLUME_CACHE_DIR", str(tmp_path / "env"))
    vol = CloudVolume("mem://bucket/mouse/image", info=_info(), cache=True, progress=False)
    assert vol.cache.path == str(tmp_path / "env" / "mem" / "bucket" / "mouse" / "image")
    given = CloudVolume("mem://bkt/a/b/layer", info=_info(), cache=str(tmp_path / "mine"), progress=False)
    assert given.cache.path == str(tmp_path / "mine" / "mem" / "bkt" / "a" / "b" / "layer")
    # the same rule for every protocol (opening gs:// or s3:// here would need their servers)
    assert cache_location(parse_cloudpath("gs://bucket/mouse/image")) == str(
        tmp_path / "env" / "gs" / "bucket" / "mouse" / "image"
    )
    assert cache_location(parse_cloudpath("precomputed://s3://b/x/y"), tmp_path / "m") == str(
        tmp_path / "m" / "s3" / "b" / "x" / "y"
    )
    monkeypatch.delenv("CLOUD_VOLUME_CACHE_DIR")
    monkeypatch.setenv("CLOUD_VOLUME_DIR", str(tmp_path / "cvdir"))
    assert CloudVolume("mem://b/d/l", info=_info(), cache=True).cache.path == str(
        tmp_path / "cvdir" / "cache" / "mem" / "b" / "d" / "l"
    )


def _info():
    return CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [8, 8, 8])


def test_cache_off_by_default_and_nothing_written(tmp_path):
    url, data = _layer(tmp_path)
    vol = CloudVolume(url, progress=False)
    assert vol.cache.enabled is False
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    assert not os.path.exists(vol.cache.path)


def test_enabled_can_be_switched_on_and_off(tmp_path):
    url, data = _layer(tmp_path)
    vol = CloudVolume(url, progress=False)
    vol.cache.enabled = str(tmp_path / "later")
    assert vol.cache.path.startswith(str(tmp_path / "later"))
    vol[ALL]
    assert vol.cache.num_files() == 8
    vol.cache.enabled = False
    CloudVolume(url, progress=False).delete(ALL)
    with pytest.raises(EmptyVolumeException):
        vol[ALL]  # off: storage itself
    vol.cache.enabled = True
    np.testing.assert_array_equal(vol[ALL][..., 0], data)  # on: what the cache holds


def test_bad_settings_are_refused(tmp_path):
    url, _ = _layer(tmp_path)
    with pytest.raises(ValueError, match="cache must be True, False or a directory"):
        CloudVolume(url, cache=3)
    with pytest.raises(ValueError, match="cache compress"):
        CloudVolume(url, cache=True, compress_cache="gzip")
    with pytest.raises(ValueError, match="size limit"):
        CloudVolume(url, cache=True, cache_max_bytes=-1)
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    with pytest.raises(StorageError, match="cannot create the cache directory"):
        CloudVolume(url, cache=str(blocker))
    vol = CloudVolume(url, progress=False)
    with pytest.raises(ValueError, match="cache compress must be None"):
        vol.cache.compress = "gzip"


# --- read-through, write-through, trust -------------------------------------------------------


def test_reads_fill_the_cache_and_later_reads_never_ask_storage(tmp_path):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    assert vol.cache.list() == ["0-32_0-32_0-16", "0-32_0-32_16-32", "0-32_32-64_0-16", "0-32_32-64_16-32",
                                "32-64_0-32_0-16", "32-64_0-32_16-32", "32-64_32-64_0-16",
                                "32-64_32-64_16-32"]  # fmt: skip
    shutil.rmtree(tmp_path / "remote")  # storage gone: info and chunks come from the cache
    again = _cached(url, tmp_path)
    np.testing.assert_array_equal(again[ALL][..., 0], data)
    np.testing.assert_array_equal(again[10:20, 30:40, 5:25][..., 0], data[10:20, 30:40, 5:25])


def test_changes_behind_the_caches_back_are_not_seen_until_flushed(tmp_path):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    CloudVolume(url, progress=False)[0:32, 0:32, 0:16] = np.full((32, 32, 16), 7, np.uint16)
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    vol.cache.flush_region(np.s_[0:8, 0:8, 0:8], mips=[0])
    changed = vol[ALL][..., 0]
    assert (changed[:32, :32, :16] == 7).all()
    np.testing.assert_array_equal(changed[32:], data[32:])


def test_writes_go_to_storage_then_the_cache(tmp_path):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    new = (data + 1).astype(np.uint16)
    vol[ALL] = new
    assert vol.cache.num_files() == 8
    np.testing.assert_array_equal(CloudVolume(url, progress=False)[ALL][..., 0], new)  # storage first
    shutil.rmtree(tmp_path / "remote" / "layer" / vol.key)
    np.testing.assert_array_equal(vol[ALL][..., 0], new)  # then the cache


def test_non_aligned_writes_patch_storage_and_keep_the_cache_in_step(tmp_path):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path, non_aligned_writes=True)
    vol[ALL]
    vol[5:40, 6:20, 3:30] = np.full((35, 14, 27), 9, np.uint16)
    expected = data.copy()
    expected[5:40, 6:20, 3:30] = 9
    np.testing.assert_array_equal(CloudVolume(url, progress=False)[ALL][..., 0], expected)
    shutil.rmtree(tmp_path / "remote" / "layer" / vol.key)
    np.testing.assert_array_equal(vol[ALL][..., 0], expected)


def test_deletes_drop_cached_copies(tmp_path):
    url, _ = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    vol.delete(np.s_[0:32, 0:32, 0:16])
    assert "0-32_0-32_0-16" not in vol.cache.list()
    assert vol.cache.num_files() == 7
    vol.fill_missing = True
    assert (vol[0:32, 0:32, 0:16] == 0).all()


def test_writes_with_the_cache_off_still_drop_stale_copies(tmp_path):
    url, _data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    vol.cache.enabled = False
    vol[ALL] = np.zeros(SIZE, np.uint16)
    vol.cache.enabled = True
    assert (vol[ALL] == 0).all()


# --- as fetched, compressed or not ------------------------------------------------------------


def test_objects_are_kept_as_fetched(tmp_path):
    url, _data = _layer(tmp_path, compress="gzip")
    vol = _cached(url, tmp_path)
    vol[ALL]
    files = _chunk_files(vol)
    assert all(f.endswith(".gz") for f in files)
    assert len(files) == 8
    remote = tmp_path / "remote" / "layer" / vol.key / files[0]
    assert Path(vol.cache.path, vol.key, files[0]).read_bytes() == remote.read_bytes()
    assert vol.cache.list()[0] == files[0][:-3]


@pytest.mark.parametrize(("compress", "remote", "suffix"), [(False, "gzip", ""), (True, None, ".gz")])
def test_compress_decides_how_chunks_are_stored(tmp_path, compress, remote, suffix):
    url, data = _layer(tmp_path, compress=remote)
    vol = _cached(url, tmp_path, compress_cache=compress)
    assert vol.cache.compress is compress
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    files = _chunk_files(vol)
    assert files == sorted(name + suffix for name in vol.cache.list())
    raw = Path(vol.cache.path, vol.key, files[0]).read_bytes()
    body = gzip.decompress(raw) if suffix else raw
    assert len(body) == 32 * 32 * 16 * 2
    shutil.rmtree(tmp_path / "remote")
    np.testing.assert_array_equal(_cached(url, tmp_path)[ALL][..., 0], data)


# --- damage -------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "garbage", "same-size", "no-record"])
def test_a_damaged_cached_object_is_dropped_and_fetched_again(tmp_path, damage):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    path = Path(vol.cache.path, vol.key, "0-32_0-32_0-16")
    good = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a chunk")
    elif damage == "same-size":
        path.write_bytes(bytes(len(good)))
    else:
        Path(vol.cache.path, ".precomputed-cache", "sums", vol.key, "0-32_0-32_0-16").unlink()
        path.write_bytes(bytes(len(good)))
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    assert path.read_bytes() == good  # fetched again, and kept again


def test_a_damaged_cached_info_is_fetched_again(tmp_path):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    Path(vol.cache.path, "info").write_bytes(b"{ half")
    np.testing.assert_array_equal(_cached(url, tmp_path)[ALL][..., 0], data)


def test_no_temporary_files_are_left_behind(tmp_path):
    url, _ = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    vol[ALL] = np.ones(SIZE, np.uint16)
    leftovers = [f for _, _, files in os.walk(vol.cache.path) for f in files if ".tmp-" in f]
    assert leftovers == []


# --- info and provenance ------------------------------------------------------------------------


def test_info_is_cached_and_refresh_info_revalidates_it(tmp_path):
    url, _ = _layer(tmp_path, max_mip=0)
    vol = _cached(url, tmp_path)
    assert len(vol.available_mips) == 1
    writer = CloudVolume(url, progress=False)
    writer.add_scale((2, 2, 1))
    writer.commit_info()
    assert len(_cached(url, tmp_path).available_mips) == 1  # the cached info, trusted
    vol.refresh_info()
    assert len(vol.available_mips) == 2
    assert len(_cached(url, tmp_path).available_mips) == 2  # and the cache holds the new one


def test_flush_info_makes_the_next_open_read_storage(tmp_path):
    url, _ = _layer(tmp_path, max_mip=0)
    vol = _cached(url, tmp_path)
    writer = CloudVolume(url, progress=False)
    writer.add_scale((2, 2, 1))
    writer.commit_info()
    vol.cache.flush_info()
    assert not os.path.exists(os.path.join(vol.cache.path, "info"))
    assert len(_cached(url, tmp_path).available_mips) == 2


def test_provenance_is_cached_and_refreshed(tmp_path):
    url, _ = _layer(tmp_path)
    writer = CloudVolume(url, progress=False)
    writer.provenance.description = "first"
    writer.commit_provenance()
    vol = _cached(url, tmp_path)
    assert vol.provenance.description == "first"
    writer.provenance.description = "second"
    writer.commit_provenance()
    assert _cached(url, tmp_path).provenance.description == "first"
    assert vol.refresh_provenance().description == "second"
    writer.provenance.description = "third"
    writer.commit_provenance()
    vol.cache.flush_provenance()
    assert _cached(url, tmp_path).provenance.description == "third"


def test_commit_info_writes_through(tmp_path):
    url, _ = _layer(tmp_path, max_mip=0)
    vol = _cached(url, tmp_path)
    vol.add_scale((2, 2, 1))
    vol.commit_info()
    os.remove(tmp_path / "remote" / "layer" / "info")
    assert len(_cached(url, tmp_path).available_mips) == 2


# --- the cache API: listing, counting, flushing ---------------------------------------------------


def test_counts_per_mip(tmp_path):
    url, _ = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    assert vol.cache.num_files() == 0
    assert vol.cache.num_files(all_mips=True) == [0, 0]
    vol[ALL]
    vol.mip = 1
    vol[0:32, 0:32, 0:16]
    assert vol.cache.num_files() == 1
    assert vol.cache.num_files(all_mips=True) == [8, 1]
    assert vol.cache.list(mip=1) == ["0-32_0-32_0-16"] == vol.cache.list()
    assert vol.cache.num_bytes(all_mips=True) == [8 * 32 * 32 * 16 * 2, 32 * 32 * 16 * 2]
    assert vol.cache.num_bytes() == 32 * 32 * 16 * 2


def test_flush_empties_the_layers_cache(tmp_path):
    url, _ = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    other = _cached(url.replace("/layer", "/other"), tmp_path, info=vol.info)
    other.commit_info()
    vol.cache.flush()
    assert vol.cache.num_files(all_mips=True) == [0, 0]
    assert not os.path.exists(vol.cache.path)
    assert os.path.exists(other.cache.path)  # another layer's cache is its own


def test_flush_preserve_keeps_the_chunks_of_a_region_at_every_mip(tmp_path):
    url, _data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    vol.mip = 1
    vol[0:32, 0:32, 0:32]
    vol.mip = 0
    vol.cache.flush(preserve=Bbox((0, 0, 0), (20, 20, 10)))
    assert vol.cache.list(mip=0) == ["0-32_0-32_0-16"]
    assert vol.cache.list(mip=1) == ["0-32_0-32_0-16"]  # (0, 0, 0)-(10, 10, 10) at mip 1
    assert os.path.exists(os.path.join(vol.cache.path, "info"))
    vol.cache.flush(preserve=np.s_[40:64, 40:64, 20:32])
    assert vol.cache.list(mip=0) == []
    assert vol.cache.list(mip=1) == []


def test_flush_region_takes_mip0_voxels_and_defaults_to_every_mip(tmp_path):
    url, _ = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    vol[ALL]
    vol.mip = 1
    vol[0:32, 0:32, 0:32]
    vol.cache.flush_region(Bbox((40, 40, 0), (64, 64, 8)))  # mip 1: (20, 20, 0)-(32, 32, 8)
    assert vol.cache.list(mip=0) == ["0-32_0-32_0-16", "0-32_0-32_16-32", "0-32_32-64_0-16",
                                     "0-32_32-64_16-32", "32-64_0-32_0-16", "32-64_0-32_16-32",
                                     "32-64_32-64_16-32"]  # fmt: skip
    assert vol.cache.list(mip=1) == ["0-32_0-32_16-32"]
    vol.cache.flush_region(np.s_[0:64, 0:64, 16:32], mips=[1])
    assert vol.cache.list(mip=1) == []
    assert len(vol.cache.list(mip=0)) == 7


# --- the size limit ---------------------------------------------------------------------------------


def test_a_size_limit_evicts_the_least_recently_used(tmp_path):
    url, data = _layer(tmp_path)
    chunk_bytes = 32 * 32 * 16 * 2
    vol = _cached(url, tmp_path, cache_max_bytes=3 * chunk_bytes + 4096)
    assert vol.cache.max_bytes == 3 * chunk_bytes + 4096
    boxes = [np.s_[0:32, 0:32, 0:16], np.s_[32:64, 0:32, 0:16], np.s_[0:32, 32:64, 0:16],
             np.s_[32:64, 32:64, 0:16], np.s_[0:32, 0:32, 16:32]]  # fmt: skip
    for box in boxes[:3]:
        vol[box]
    vol[boxes[0]]  # used again: now the most recent
    for box in boxes[3:]:
        vol[box]
    assert vol.cache.list() == ["0-32_0-32_0-16", "0-32_0-32_16-32", "32-64_32-64_0-16"]
    assert sum(vol.cache.num_bytes(all_mips=True)) <= vol.cache.max_bytes
    assert os.path.exists(os.path.join(vol.cache.path, "info"))
    vol.cache.max_bytes = chunk_bytes + 4096  # takes effect at once
    assert vol.cache.list() == ["0-32_0-32_16-32"]
    np.testing.assert_array_equal(vol[ALL][..., 0], data)


# --- pickling, workers and other processes ------------------------------------------------------------


def test_pickled_volumes_keep_their_cache_settings(tmp_path):
    url, _ = _layer(tmp_path)
    vol = _cached(url, tmp_path, compress_cache=False, cache_max_bytes=10**9)
    vol.cache.path = str(tmp_path / "moved")
    copy = pickle.loads(pickle.dumps(vol))
    assert (copy.cache.enabled, copy.cache.path, copy.cache.compress, copy.cache.max_bytes) == (
        True, str(tmp_path / "moved"), False, 10**9,
    )  # fmt: skip
    copy[ALL]
    assert len(os.listdir(os.path.join(str(tmp_path / "moved"), vol.key))) == 8


def test_parallel_workers_fill_and_read_the_same_cache(tmp_path, worker_processes):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path, parallel=2)
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    assert vol.cache.num_files() == 8  # written by the workers, into the parent's path
    shutil.rmtree(tmp_path / "remote" / "layer" / vol.key)
    np.testing.assert_array_equal(vol[ALL][..., 0], data)
    vol.cache.enabled = False  # the setting travels to the workers with each task
    vol.fill_missing = True
    assert (vol[ALL] == 0).all()
    vol.close()


def test_two_processes_share_one_cache(tmp_path):
    url, data = _layer(tmp_path, name="shared", data=random_array(SIZE, "uint16", seed=11))
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from precomputed_core import CloudVolume
        vol = CloudVolume({url!r}, cache={str(tmp_path / "cache")!r}, progress=False)
        for _ in range(5):
            total = int(vol[0:64, 0:64, 0:32].astype(np.uint64).sum())
            vol.cache.flush_region(np.s_[0:32, 0:32, 0:16])
        print(total)
    """)
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == [str(int(data.astype(np.uint64).sum()))] * 2
    shutil.rmtree(tmp_path / "remote" / "shared" / "4_4_40")
    vol = _cached(url, tmp_path)
    vol.fill_missing = True
    np.testing.assert_array_equal(vol[32:64, 32:64, 16:32][..., 0], data[32:64, 32:64, 16:32])


def test_a_cutout_inside_one_chunk_caches_the_whole_chunk(tmp_path):
    url, data = _layer(tmp_path)
    vol = _cached(url, tmp_path)
    np.testing.assert_array_equal(vol[5:10, 40:45, 20:22][..., 0], data[5:10, 40:45, 20:22])
    assert vol.cache.list() == ["0-32_32-64_16-32"]
    assert vol.cache.num_bytes() == 32 * 32 * 16 * 2
    shutil.rmtree(tmp_path / "remote" / "layer" / vol.key)
    np.testing.assert_array_equal(vol[0:32, 32:64, 16:32][..., 0], data[0:32, 32:64, 16:32])


def test_the_cache_follows_the_volume_to_another_layer_under_the_same_base(tmp_path):
    url, _ = _layer(tmp_path)
    other, _ = _layer(tmp_path, name="other")
    vol = CloudVolume(url, progress=False)
    vol.cache.enabled = str(tmp_path / "base")
    assert vol.cache.path == os.path.join(str(tmp_path / "base"), "file", str(tmp_path).strip("/"), "remote",
                                          "layer")  # fmt: skip
    vol.layer = "other"
    assert vol.cloudpath == other
    assert vol.cache.path == os.path.join(str(tmp_path / "base"), "file", str(tmp_path).strip("/"), "remote",
                                          "other")  # fmt: skip
    vol[ALL]
    assert vol.cache.num_files() == 8
    copy = pickle.loads(pickle.dumps(vol))
    copy.layer = "layer"
    assert copy.cache.path.startswith(str(tmp_path / "base"))
