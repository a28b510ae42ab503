"""vol.transfer_to: byte-for-byte copies, re-encoding, sharding, existing destinations, Dask."""

from __future__ import annotations

import filecmp
import gzip
import json
import os

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume
from precomputed_core.exceptions import InfoValidationError

SIZE = (100, 70, 30)
OFFSET = (3, 0, -4)


def _source(tmp_path, compress="gzip", encoding="raw", dtype="uint32", sharding=None):
    info = CloudVolume.create_new_info(1, "segmentation", dtype, encoding, [4, 4, 40], OFFSET, SIZE,
                                       chunk_size=(32, 32, 16), max_mip=1)  # fmt: skip
    if sharding:
        info["scales"][0]["sharding"] = sharding
    vol = CloudVolume(f"file://{tmp_path}/src", info=info, compress=compress, progress=False)
    vol.commit_info()
    vol.provenance.description = "the source"
    vol.commit_provenance()
    data = (np.arange(np.prod(SIZE)).reshape(SIZE) // 700).astype(dtype)
    vol[:, :, :] = data
    return vol, data


def _files(path):
    return sorted(os.listdir(path))


def test_an_unchanged_scale_is_copied_byte_for_byte(tmp_path):
    src, data = _source(tmp_path)
    dst = src.transfer_to(f"file://{tmp_path}/dst")
    names = _files(tmp_path / "src" / "4_4_40")
    assert names == _files(tmp_path / "dst" / "4_4_40")
    assert all(name.endswith(".gz") for name in names)  # still gzip: never decompressed
    assert all(filecmp.cmp(tmp_path / "src" / "4_4_40" / n, tmp_path / "dst" / "4_4_40" / n, shallow=False)
               for n in names)  # fmt: skip
    np.testing.assert_array_equal(dst[:, :, :][..., 0], data)
    # the info keeps every scale and coordinate; the provenance says where it came from
    assert dst.info == src.info
    assert dst.provenance.description == "the source"
    assert dst.provenance.processing[-1] == {"method": "transfer_to", "source": src.cloudpath}


def test_compress_changes_only_the_transfer_compression(tmp_path):
    src, data = _source(tmp_path)
    src.transfer_to(f"file://{tmp_path}/plain", compress=False)
    names = _files(tmp_path / "plain" / "4_4_40")
    assert not any(n.endswith(".gz") for n in names)
    stored = (tmp_path / "plain" / "4_4_40" / names[0]).read_bytes()
    assert stored == gzip.decompress((tmp_path / "src" / "4_4_40" / (names[0] + ".gz")).read_bytes())
    np.testing.assert_array_equal(CloudVolume(f"file://{tmp_path}/plain")[:, :, :][..., 0], data)


@pytest.mark.parametrize(("encoding", "sharded"), [("compressed_segmentation", None), ("raw", True),
                                                   ("compressed_segmentation", True)])  # fmt: skip
def test_reencoding_and_resharding(tmp_path, encoding, sharded):
    src, data = _source(tmp_path)
    dst = src.transfer_to(f"file://{tmp_path}/dst", encoding=encoding, sharded=sharded)
    scale = dst.info["scales"][0]
    assert scale["encoding"] == encoding
    assert ("sharding" in scale) == bool(sharded)
    if encoding == "compressed_segmentation":
        assert scale["compressed_segmentation_block_size"] == [8, 8, 8]
    assert dst.info["scales"][1] == src.info["scales"][1]  # other scales untouched
    np.testing.assert_array_equal(dst[:, :, :][..., 0], data)
    again = CloudVolume(f"file://{tmp_path}/dst")
    np.testing.assert_array_equal(again[:, :, :][..., 0], data)


def test_a_sharded_source_unsharded_and_back(tmp_path):
    spec = {"@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 2,
            "minishard_bits": 1, "shard_bits": 2, "minishard_index_encoding": "gzip", "data_encoding": "gzip"}  # fmt: skip
    src, data = _source(tmp_path, sharding=spec)
    flat = src.transfer_to(f"file://{tmp_path}/flat", sharded=False)
    assert "sharding" not in flat.info["scales"][0]
    assert len(_files(tmp_path / "flat" / "4_4_40")) == 4 * 3 * 2
    np.testing.assert_array_equal(flat[:, :, :][..., 0], data)
    copy = src.transfer_to(f"file://{tmp_path}/copy")  # shard files copied as they are
    assert _files(tmp_path / "copy" / "4_4_40") == _files(tmp_path / "src" / "4_4_40")
    np.testing.assert_array_equal(copy[:, :, :][..., 0], data)


def test_a_box_copies_the_chunks_it_touches(tmp_path):
    src, data = _source(tmp_path)
    dst = src.transfer_to(f"file://{tmp_path}/dst", Bbox((10, 10, 0), (40, 40, 10)))
    assert _files(tmp_path / "dst" / "4_4_40") == [
        "3-35_0-32_-4-12.gz", "3-35_32-64_-4-12.gz", "35-67_0-32_-4-12.gz", "35-67_32-64_-4-12.gz",
    ]  # fmt: skip
    np.testing.assert_array_equal(dst[3:67, 0:64, -4:12][..., 0], data[0:64, 0:64, 0:16])
    # and re-encoded, only the chunks that exist in the source are written
    sparse = CloudVolume(f"file://{tmp_path}/dst", progress=False)
    out = sparse.transfer_to(f"file://{tmp_path}/cseg", encoding="compressed_segmentation")
    assert len(_files(tmp_path / "cseg" / "4_4_40")) == 4
    np.testing.assert_array_equal(out[3:67, 0:64, -4:12][..., 0], data[0:64, 0:64, 0:16])


def test_an_existing_destination_keeps_its_info(tmp_path):
    src, data = _source(tmp_path)
    dst = src.transfer_to(f"file://{tmp_path}/dst", encoding="compressed_segmentation", compress=False)
    dst.info["made_by"] = "me"
    dst.commit_info()
    dst.delete(dst.bounds)
    src.transfer_to(f"file://{tmp_path}/dst")  # re-encoded to the destination's own encoding
    stored = json.loads((tmp_path / "dst" / "info").read_text())
    assert stored["made_by"] == "me"
    assert stored["scales"][0]["encoding"] == "compressed_segmentation"
    np.testing.assert_array_equal(CloudVolume(f"file://{tmp_path}/dst")[:, :, :][..., 0], data)
    with pytest.raises(InfoValidationError, match="keeps its info; leave encoding unset"):
        src.transfer_to(f"file://{tmp_path}/dst", encoding="raw")
    other = CloudVolume.create_new_info(1, "segmentation", "uint32", "raw", [4, 4, 40], (0, 0, 0), SIZE,
                                        chunk_size=(32, 32, 16))  # fmt: skip
    CloudVolume(f"file://{tmp_path}/moved", info=other).commit_info()
    with pytest.raises(InfoValidationError, match="voxel_offset"):
        src.transfer_to(f"file://{tmp_path}/moved")


def test_another_mip_and_jpeg(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (0, 0, 0), (64, 64, 16),
                                       chunk_size=(32, 32, 16), max_mip=1)  # fmt: skip
    src = CloudVolume(f"file://{tmp_path}/img", info=info, progress=False, mip=1)
    src.commit_info()
    smooth = np.add.outer(np.arange(32), np.arange(32))[..., np.newaxis].repeat(16, 2).astype(np.uint8)
    src[:, :, :] = smooth
    dst = src.transfer_to(f"file://{tmp_path}/jpg", encoding="jpeg")
    assert dst.mip == 1
    assert dst.info["scales"][1]["encoding"] == "jpeg"
    assert dst.info["scales"][0]["encoding"] == "raw"
    assert np.abs(dst[:, :, :][..., 0].astype(int) - smooth).max() <= 3  # jpeg is lossy
    assert not (tmp_path / "jpg" / "4_4_40").exists()  # mip 0 was not asked for


def test_on_dask(tmp_path):
    pytest.importorskip("dask")
    src, data = _source(tmp_path)
    raw = src.transfer_to(f"file://{tmp_path}/raw", scheduler="threads", block_size=5)
    assert _files(tmp_path / "raw" / "4_4_40") == _files(tmp_path / "src" / "4_4_40")
    np.testing.assert_array_equal(raw[:, :, :][..., 0], data)
    cseg = src.transfer_to(f"file://{tmp_path}/cseg", encoding="compressed_segmentation", scheduler="sync")
    np.testing.assert_array_equal(cseg[:, :, :][..., 0], data)


@pytest.mark.timeout(300)
def test_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    src, data = _source(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster):  # fmt: skip
        copy = src.transfer_to(f"file://{tmp_path}/copy", block_size=4)
        shard = src.transfer_to(f"file://{tmp_path}/shard", sharded=True, encoding="compressed_segmentation")
    np.testing.assert_array_equal(copy[:, :, :][..., 0], data)
    np.testing.assert_array_equal(shard[:, :, :][..., 0], data)


def test_threads_never_import_dask(tmp_path):
    import subprocess
    import sys

    _source(tmp_path)
    code = (
        "import sys; from precomputed_core import CloudVolume; "
        f"CloudVolume('file://{tmp_path}/src').transfer_to('file://{tmp_path}/copy'); "
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # a client can only exist once distributed is imported


def test_compress_leaves_shard_files_as_they_are(tmp_path):
    spec = {"@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 2,
            "minishard_bits": 1, "shard_bits": 2, "minishard_index_encoding": "gzip", "data_encoding": "gzip"}  # fmt: skip
    src, data = _source(tmp_path, sharding=spec)
    copy = src.transfer_to(f"file://{tmp_path}/copy", compress="gzip", block_size=None)
    assert _files(tmp_path / "copy" / "4_4_40") == _files(tmp_path / "src" / "4_4_40")
    assert all(name.endswith(".shard") for name in _files(tmp_path / "copy" / "4_4_40"))
    np.testing.assert_array_equal(copy[:, :, :][..., 0], data)


def test_a_destination_with_other_blocks_is_reencoded(tmp_path):
    src, data = _source(tmp_path, encoding="compressed_segmentation", compress=None)
    info = json.loads(json.dumps(src.info))
    info["scales"][0]["compressed_segmentation_block_size"] = [4, 4, 4]
    CloudVolume(f"file://{tmp_path}/dst", info=info).commit_info()
    dst = src.transfer_to(f"file://{tmp_path}/dst")
    assert dst.info["scales"][0]["compressed_segmentation_block_size"] == [4, 4, 4]
    np.testing.assert_array_equal(CloudVolume(f"file://{tmp_path}/dst")[:, :, :][..., 0], data)


def test_a_locked_destination_mip_is_refused(tmp_path):
    from precomputed_core.exceptions import ReadOnlyException

    src, _ = _source(tmp_path)
    dst = src.transfer_to(f"file://{tmp_path}/dst")
    dst.meta.lock_mips(0)
    with pytest.raises(ReadOnlyException, match="write-locked"):
        src.transfer_to(f"file://{tmp_path}/dst")


def test_an_in_memory_layer_with_a_process_scheduler_is_refused(tmp_path):
    pytest.importorskip("dask")
    from precomputed_core.exceptions import FeatureUnavailableError

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (0, 0, 0), (32, 32, 16))
    vol = CloudVolume("mem://transfer-test/layer", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = np.ones((32, 32, 16), np.uint8)
    with pytest.raises(FeatureUnavailableError, match="memory"):
        vol.transfer_to(f"file://{tmp_path}/out", scheduler="processes")


def _record_key_listings(monkeypatch):
    """The number of chunks each ``object_keys`` call was asked about, in any chunk I/O."""
    from precomputed_core.format import ChunkIO, ShardedChunkIO

    asked: list[int] = []
    for cls in (ChunkIO, ShardedChunkIO):
        original = cls.object_keys

        def spy(self, chunks, _original=original):
            asked.append(len(chunks))
            return _original(self, chunks)

        monkeypatch.setattr(cls, "object_keys", spy)
    return asked


@pytest.mark.parametrize(("block_size", "most"), [(None, 4), (5, 4), (8, 8)])
def test_tasks_list_their_own_objects(tmp_path, monkeypatch, block_size, most):
    from precomputed_core.tasks import _transfer

    monkeypatch.setattr(_transfer, "OBJECTS_PER_TASK", 4)  # the default, made small
    src, data = _source(tmp_path)  # 4 x 3 x 2 = 24 chunks
    asked = _record_key_listings(monkeypatch)
    dst = src.transfer_to(f"file://{tmp_path}/dst", block_size=block_size)
    assert _files(tmp_path / "dst" / "4_4_40") == _files(tmp_path / "src" / "4_4_40")
    np.testing.assert_array_equal(dst[:, :, :][..., 0], data)
    # each call lists the chunks of one task's box: at most block_size of them (a power of
    # two), and together every chunk once; nothing lists the whole scale
    assert sum(asked) == 24
    assert max(asked) == most
    assert len(asked) >= 24 // most


def test_aligned_shards_are_one_box_per_task_and_hashed_ones_are_listed(tmp_path, monkeypatch):
    aligned = {"@type": "neuroglancer_uint64_sharded_v1", "hash": "identity", "preshift_bits": 2,
               "minishard_bits": 1, "shard_bits": 2, "minishard_index_encoding": "gzip", "data_encoding": "gzip"}  # fmt: skip
    src, data = _source(tmp_path, sharding=aligned)
    asked = _record_key_listings(monkeypatch)
    copy = src.transfer_to(f"file://{tmp_path}/copy")
    shards = _files(tmp_path / "src" / "4_4_40")
    assert _files(tmp_path / "copy" / "4_4_40") == shards
    assert len(asked) == len(shards)  # one task, and one listing, per shard
    np.testing.assert_array_equal(copy[:, :, :][..., 0], data)
    hashed = dict(aligned, hash="murmurhash3_x86_128")
    (tmp_path / "h").mkdir()
    src, data = _source(tmp_path / "h", sharding=hashed)
    asked.clear()
    copy = src.transfer_to(f"file://{tmp_path}/h/copy")
    assert _files(tmp_path / "h" / "copy" / "4_4_40") == _files(tmp_path / "h" / "src" / "4_4_40")
    assert asked == [24]  # a hashed shard gathers chunks from everywhere: listed in the parent
    np.testing.assert_array_equal(copy[:, :, :][..., 0], data)


@pytest.mark.parametrize("compress", ["gzip", None])
def test_reencoded_chunks_keep_the_sources_transfer_compression_under_auto(tmp_path, compress):
    src, data = _source(tmp_path, compress=compress)
    dst = src.transfer_to(f"file://{tmp_path}/dst", encoding="compressed_segmentation")
    names = _files(tmp_path / "dst" / "4_4_40")
    assert len(names) == 24
    assert all(n.endswith(".gz") == (compress == "gzip") for n in names)
    np.testing.assert_array_equal(dst[:, :, :][..., 0], data)
    # and an explicit compress wins
    dst = src.transfer_to(f"file://{tmp_path}/plain", encoding="compressed_segmentation", compress=False)
    assert not any(n.endswith(".gz") for n in _files(tmp_path / "plain" / "4_4_40"))


def test_auto_writes_jpeg_chunks_without_a_transfer_compression(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (0, 0, 0), (64, 64, 8),
                                       chunk_size=(32, 32, 8))  # fmt: skip
    src = CloudVolume(f"file://{tmp_path}/img", info=info, compress="gzip", progress=False)
    src.commit_info()
    x, y = np.meshgrid(np.arange(64), np.arange(64), indexing="ij")
    src[:, :, :] = np.repeat((x + y).astype(np.uint8)[..., np.newaxis], 8, axis=2)
    src.transfer_to(f"file://{tmp_path}/jpg", encoding="jpeg")
    names = _files(tmp_path / "jpg" / "4_4_40")
    assert len(names) == 4
    assert not any(n.endswith(".gz") for n in names)
    assert (tmp_path / "jpg" / "4_4_40" / names[0]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG stream


def test_auto_samples_chunks_spread_over_the_box(tmp_path):
    src, data = _source(tmp_path, compress="gzip")
    src.delete(src.bounds)  # an empty corner, and data only far from it
    src[67:103, 32:70, 12:26] = data[64:100, 32:70, 16:30]
    dst = src.transfer_to(f"file://{tmp_path}/dst", encoding="compressed_segmentation")
    names = _files(tmp_path / "dst" / "4_4_40")
    assert names
    assert all(n.endswith(".gz") for n in names)
    assert len(names) == 2 * 2 * 1
    np.testing.assert_array_equal(dst[67:103, 32:70, 12:26][..., 0], data[64:100, 32:70, 16:30])
