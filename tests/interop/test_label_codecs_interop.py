"""compresso and crackle layers: precomputed <-> cloud-volume (tensorstore reads neither).

cloud-volume is the reference for both encodings (they are its extensions of the
format). Each side writes a layer with edge chunks, gzip on and off, and the other
reads every voxel back; the stored chunk files also decode to the same labels with
the encoding's own package.
"""

from __future__ import annotations

import gzip

import cloudvolume
import numpy as np
import pytest

from precomputed_core import CloudVolume

pytestmark = pytest.mark.interop

CV = cloudvolume.CloudVolume
ENCODINGS = ["compresso", "crackle"]


def _blobs(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    ids = np.asarray([0, 12, 3000, 7, 2**31 + 5, 64], dtype=np.uint64).astype(dtype)
    coarse = ids[rng.integers(0, len(ids), size=tuple(-(-s // 5) for s in shape))]
    big = coarse.repeat(5, 0).repeat(5, 1).repeat(5, 2)
    return np.asfortranarray(big[: shape[0], : shape[1], : shape[2]])


def _info(encoding, dtype):
    return CloudVolume.create_new_info(1, "segmentation", dtype, encoding, [8, 8, 40], [5, 0, 2],
                                       [75, 64, 21], chunk_size=(32, 32, 16))  # fmt: skip


@pytest.mark.parametrize("compress", [None, "gzip"])
@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_cloudvolume_reads_what_we_write(tmp_path, cv_env, encoding, dtype, compress):
    labels = _blobs((75, 64, 21), dtype, seed=1)
    ours = CloudVolume(f"file://{tmp_path}/l", info=_info(encoding, dtype), compress=compress, progress=False)
    ours.commit_info()
    ours[:, :, :] = labels
    theirs = CV(f"file://{tmp_path}/l", progress=False)
    np.testing.assert_array_equal(np.asarray(theirs[:, :, :])[..., 0], labels)
    np.testing.assert_array_equal(np.asarray(theirs[40:80, 30:33, 3:20])[..., 0], labels[35:75, 30:33, 1:18])


@pytest.mark.parametrize("dtype", ["uint16", "uint64"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_we_read_what_cloudvolume_writes(tmp_path, cv_env, encoding, dtype):
    labels = _blobs((75, 64, 21), dtype, seed=2)
    theirs = CV(f"file://{tmp_path}/l", info=_info(encoding, dtype), progress=False)
    theirs.commit_info()
    theirs[:, :, :] = labels
    ours = CloudVolume(f"file://{tmp_path}/l", progress=False)
    np.testing.assert_array_equal(ours[:, :, :][..., 0], labels)
    assert ours.unique(ours.bounds) == set(np.unique(labels).tolist())
    # and the stored edge chunk is the encoding's own format
    stored = (tmp_path / "l" / "8_8_40" / "69-80_32-64_18-23.gz").read_bytes()
    raw = gzip.decompress(stored)
    if encoding == "compresso":
        import compresso

        decoded = compresso.decompress(raw)
    else:
        import crackle

        decoded = crackle.decompress(raw)
    np.testing.assert_array_equal(decoded, labels[64:75, 32:64, 16:21])
