"""Edge cases found in review: forks, empty and odd boxes, broken plugins, batching, images."""

from __future__ import annotations

import multiprocessing
import os
import pickle

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume, ObjectMetadata, plugins
from precomputed_core.exceptions import (
    EmptyRequestError,
    EmptyVolumeException,
    GeometryError,
    OutOfBoundsError,
    PluginError,
    PluginWarning,
)
from precomputed_core.plugins import hookimpl
from precomputed_core.testing import random_array
from stores import MinimalStore

_FORKED: dict[str, CloudVolume] = {}


def _sum_in_child(_):
    return int(_FORKED["vol"][0:64, 0:64, 0:16].sum())


def test_reads_work_in_a_forked_child_after_the_parent_used_the_pool(make_volume):
    vol = make_volume(size=(512, 512, 32), chunk=(64, 64, 32))  # 8 MiB: big enough for the pool
    vol[:] = 1
    assert int(vol[:].sum()) == 512 * 512 * 32  # the parent's thread pool now exists
    _FORKED["vol"] = vol  # inherited by the forked child, not pickled
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            assert pool.apply_async(_sum_in_child, (0,)).get(timeout=60) == 64 * 64 * 16
    finally:
        _FORKED.clear()


def test_volumes_pickle_into_spawned_workers(make_volume):
    vol = make_volume(size=(64, 64, 16), chunk=(32, 32, 16), max_mip=1, fill_missing=True)
    vol[:] = 2
    vol.mip = 1
    # A bound method pickles its volume; the spawned child unpickles (reopens) it and reads.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        cutout = pool.apply_async(vol.__getitem__, (np.s_[:, :, :],)).get(timeout=60)
        mip_zero = pool.apply_async(vol.download, (np.s_[0:64, 0:64, 0:16], 0)).get(timeout=60)
    assert cutout.shape == (32, 32, 16, 1)
    assert int(cutout.sum()) == 0  # mip 1 was never written, and fill_missing came along
    assert int(mip_zero.sum()) == 2 * 64 * 64 * 16
    clone = pickle.loads(pickle.dumps(vol))
    assert (clone.mip, clone.fill_missing, clone.info) == (1, True, vol.info)


@pytest.mark.parametrize("index", [np.s_[5:5, :, :], np.s_[:, 3:2, :], np.s_[..., 1:0]])
def test_empty_requests_are_refused(make_volume, index):
    vol = make_volume(channels=2)
    with pytest.raises(EmptyRequestError, match="selects no voxels"):
        vol[index]


def test_empty_writes_do_nothing(make_volume):
    vol = make_volume()
    vol[5:5, :, :] = np.zeros((0, 90, 37), np.uint8)
    assert vol.exists(np.s_[0:32, 0:32, 0:16]) == {"4_4_40/0-32_0-32_0-16": False}


def test_autocrop_applies_only_when_unbounded(make_volume):
    vol = make_volume(bounded=True, autocrop=True, fill_missing=True)
    with pytest.raises(OutOfBoundsError):
        vol[-5:5, 0:5, 0:5]
    vol.bounded = False
    assert vol[-5:5, 0:5, 0:5].shape == (5, 5, 5, 1)


def test_non_aligned_write_onto_a_missing_chunk_needs_fill_missing(make_volume):
    vol = make_volume(non_aligned_writes=True)
    with pytest.raises(EmptyVolumeException, match=r"must patch chunk .*0-32_0-32_0-16, which is missing"):
        vol[5:10, 5:10, 5:10] = 1
    assert vol.exists(np.s_[0:32, 0:32, 0:16]) == {"4_4_40/0-32_0-32_0-16": False}


def test_float_voxel_boxes_are_truncated_like_cloudvolume(make_volume):
    vol = make_volume()
    data = random_array((100, 90, 37), "uint8")
    vol[:] = data
    cut = vol.download(Bbox((0.2, 0.7, 0), (9.9, 10, 10.5)))
    assert cut.bounds == Bbox((0, 0, 0), (9, 10, 10))
    np.testing.assert_array_equal(cut[..., 0], data[0:9, 0:10, 0:10])


def test_boxes_of_the_wrong_dimension_or_size(make_volume):
    vol = make_volume(bounded=False, fill_missing=True)
    with pytest.raises(GeometryError, match="has 4 axes"):
        vol.download(Bbox((0, 0, 0, 0), (1, 1, 1, 1)))
    with pytest.raises(GeometryError, match="far too many"):
        vol[-(2**62) : 2**62, 0:1, 0:1]


def test_a_plugin_whose_hook_fails_warns_and_the_rest_work(plugin_dir):
    class Broken:
        @hookimpl
        def precomputed_register_codecs(self, registry):
            registry.add("jxl")  # missing target: a TypeError in the plugin

    with pytest.warns(PluginWarning, match="broken-plugin: .*missing 1 required positional argument"):
        plugins.register(Broken(), name="broken-plugin")
    assert "raw" in {e.key for e in plugins.codec_entries()}
    assert [owner for owner, _ in plugins.load_failures()] == ["broken-plugin"]


def test_two_plugin_objects_with_one_name_both_register(plugin_dir):
    import types

    first, second = types.ModuleType("myplugin"), types.ModuleType("myplugin")

    @hookimpl
    def register_a(registry):
        registry.add("enc_a", "precomputed_codecs.raw:RawCodec")

    @hookimpl
    def register_b(registry):
        registry.add("enc_b", "precomputed_codecs.raw:RawCodec")

    first.precomputed_register_codecs = register_a
    second.precomputed_register_codecs = register_b
    plugins.register(first)
    plugins.register(second)
    assert {"enc_a", "enc_b"} <= {e.key for e in plugins.codec_entries()}
    with pytest.raises(PluginError, match="already registered"):
        plugins.register(first)


class _CountingStore(MinimalStore):
    """Records how many keys each batched call carries."""

    batch_size = 4
    io_threads = 2

    def __init__(self):
        super().__init__()
        self.get_batches: list[int] = []
        self.put_batches: list[int] = []

    def get_many(self, keys):
        self.get_batches.append(len(keys))
        return super().get_many(keys)

    def put_many(self, items, *, metadata=ObjectMetadata()):
        self.put_batches.append(len(items))
        super().put_many(items, metadata=metadata)


def test_the_pipeline_uses_batched_store_calls():
    from precomputed_core import LayerMeta, PrecomputedVolume, ReadOptions, WriteOptions

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [1, 1, 1], [0, 0, 0], [128, 128, 64],
                                       chunk_size=(32, 32, 32))  # fmt: skip
    store = _CountingStore()
    volume = PrecomputedVolume(store, LayerMeta(info))
    box = Bbox((0, 0, 0), (128, 128, 64))
    data = random_array((128, 128, 64, 1), "uint8")
    volume.write(box, data, mip=0, options=WriteOptions())
    np.testing.assert_array_equal(volume.read(box, mip=0, options=ReadOptions()), data)
    assert sum(store.put_batches) == 32
    assert max(store.put_batches) <= 4
    assert len(store.put_batches) >= 8
    assert sum(store.get_batches) == 32
    assert max(store.get_batches) <= 4
    volume.close()


@pytest.mark.parametrize(
    "dtype", ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "float32"]
)
def test_save_images_for_every_dtype(make_volume, tmp_path, monkeypatch, dtype):
    image = pytest.importorskip("PIL.Image")
    vol = make_volume(size=(20, 12, 2), chunk=(32, 32, 16), dtype=dtype)
    vol[:] = random_array((20, 12, 2), dtype)
    monkeypatch.chdir(tmp_path)
    directory = vol[:].save_images()
    names = sorted(os.listdir(tmp_path / directory))
    assert names == ["00000.png", "00001.png"]
    with image.open(tmp_path / directory / names[0]) as picture:
        assert picture.size == (20, 12)
