"""``VolumeCutout`` pickles: ones made by 0.1.0 still load, and new ones keep where the voxels came from."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from precomputed_core import Bbox, CloudVolume, VolumeCutout

OLD = Path(__file__).parent / "data" / "volume_cutout_0.1.0.pickle"


def test_a_cutout_pickled_by_0_1_0_still_loads():
    # Made with 0.1.0 (class path precomputed_core._cutout.VolumeCutout): vol[5:9, 6:13, 7:10] of a
    # 20x20x10x2 uint16 layer at offset (3, 4, 5) holding (arange(8000).reshape(20, 20, 10, 2) % 1000).
    assert b"precomputed_core._cutout" in OLD.read_bytes()
    cutout = pickle.loads(OLD.read_bytes())
    assert isinstance(cutout, VolumeCutout)
    full = (np.arange(20 * 20 * 10 * 2).reshape(20, 20, 10, 2) % 1000).astype(np.uint16)
    np.testing.assert_array_equal(cutout, full[2:6, 2:9, 2:5])
    assert cutout.dtype == np.uint16
    assert cutout.bounds is None  # 0.1.0 pickled the voxels only


def test_new_pickles_keep_the_attributes(tmp_path):
    info = CloudVolume.create_new_info(2, "image", "uint16", "raw", [4, 4, 40], [3, 4, 5], [20, 20, 10],
                                       chunk_size=[8, 8, 8])  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/ds/layer", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = (np.arange(8000).reshape(20, 20, 10, 2) % 1000).astype(np.uint16)
    cutout = vol[5:9, 6:13, 7:10]
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        again = pickle.loads(pickle.dumps(cutout, protocol=protocol))
        assert type(again) is VolumeCutout
        np.testing.assert_array_equal(again, cutout)
        assert again.flags.f_contiguous
        assert again.bounds == Bbox((5, 6, 7), (9, 13, 10))
        assert (again.mip, again.layer, again.dataset_name, again.layer_type) == (0, "layer", "ds", "image")
        assert again.resolution.tolist() == [4, 4, 40]
        assert again.cloudpath == vol.cloudpath
