"""What transfer_to and from_dask write is read by tensorstore and cloud-volume, and the reverse."""

from __future__ import annotations

import cloudvolume
import numpy as np
import pytest

from oracles import tensorstore_create, tensorstore_open
from precomputed_core import CloudVolume

pytestmark = pytest.mark.interop

SIZE = (96, 64, 32)


def _labels():
    rng = np.random.default_rng(2)
    coarse = rng.integers(0, 50, size=(12, 8, 4)).astype(np.uint64)
    return np.asfortranarray(coarse.repeat(8, 0).repeat(8, 1).repeat(8, 2))


@pytest.mark.parametrize(("encoding", "sharded"), [("raw", None), ("compressed_segmentation", None),
                                                   ("compressed_segmentation", True), ("raw", True)])  # fmt: skip
def test_peers_read_what_transfer_writes(tmp_path, cv_env, encoding, sharded):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], (0, 0, 0), SIZE,
                                       chunk_size=(32, 32, 16))  # fmt: skip
    src = CloudVolume(f"file://{tmp_path}/src", info=info, progress=False)
    src.commit_info()
    src[:, :, :] = _labels()
    src.transfer_to(f"file://{tmp_path}/dst", encoding=encoding, sharded=sharded)
    got = tensorstore_open(tmp_path / "dst").read().result()
    np.testing.assert_array_equal(np.asarray(got)[..., 0], _labels())
    theirs = cloudvolume.CloudVolume(f"file://{tmp_path}/dst", progress=False)
    np.testing.assert_array_equal(np.asarray(theirs[:, :, :])[..., 0], _labels())


def test_we_transfer_what_tensorstore_writes(tmp_path):
    store = tensorstore_create(tmp_path / "ts", layer_type="segmentation", dtype="uint64", channels=1,
                               size=list(SIZE), resolution=[8, 8, 40], chunk_size=[32, 32, 16],
                               encoding="compressed_segmentation",
                               compressed_segmentation_block_size=[8, 8, 8])  # fmt: skip
    store[...] = _labels()[..., np.newaxis]
    copy = CloudVolume(f"file://{tmp_path}/ts", progress=False).transfer_to(f"file://{tmp_path}/copy")
    np.testing.assert_array_equal(copy[:, :, :][..., 0], _labels())
    assert sorted(p.name for p in (tmp_path / "copy" / "8_8_40").iterdir()) == sorted(
        p.name for p in (tmp_path / "ts" / "8_8_40").iterdir()
    )


def test_tensorstore_reads_what_from_dask_writes(tmp_path):
    da = pytest.importorskip("dask.array")
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "compressed_segmentation", [8, 8, 40],
                                       (0, 0, 0), SIZE, chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/d", info=info, progress=False)
    vol.commit_info()
    vol.from_dask(da.from_array(_labels(), chunks=(40, 30, 20)), (0, 0, 0))
    np.testing.assert_array_equal(
        np.asarray(tensorstore_open(tmp_path / "d").read().result())[..., 0], _labels()
    )


@pytest.mark.parametrize(("layer_type", "factor"), [("image", (2, 2, 1)), ("segmentation", (2, 2, 2))])
def test_peers_read_downsampled_scales(tmp_path, cv_env, layer_type, factor):
    pytest.importorskip("tinybrain")
    dtype = "uint8" if layer_type == "image" else "uint64"
    info = CloudVolume.create_new_info(1, layer_type, dtype, "raw", [8, 8, 40], (0, 0, 0), SIZE,
                                       chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/ds", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = (_labels() % 200).astype(dtype)
    mips = vol.downsample(num_mips=2, factor=factor)
    theirs = cloudvolume.CloudVolume(f"file://{tmp_path}/ds", progress=False)
    for mip in mips:
        ours = np.asarray(vol.download(vol.meta.bounds(mip), mip=mip))
        np.testing.assert_array_equal(
            np.asarray(tensorstore_open(tmp_path / "ds", mip).read().result()), ours
        )
        theirs.mip = mip
        np.testing.assert_array_equal(np.asarray(theirs[:, :, :]), ours)
