"""vol.skeleton.meta: cloud-volume's ``skeleton_path`` and ``mip`` (the rest is in tests/integration)."""

from __future__ import annotations

import pytest

from precomputed_core.exceptions import InfoValidationError


@pytest.fixture
def segmentation(make_volume):
    def make(skeletons):
        vol = make_volume(layer_type="segmentation", dtype="uint32")
        vol.info["skeletons"] = skeletons
        vol.commit_info()
        return vol

    return make


def test_skeleton_path_is_the_directory_the_info_names(segmentation):
    vol = segmentation("skels")
    assert vol.skeleton.meta.skeleton_path == "skels" == vol.skeleton.path


@pytest.mark.parametrize(
    ("directory", "info_mip", "mip"),
    [
        ("skeletons", None, None),
        ("skeletons_mip_2", None, 2),  # Igneous's naming, which cloud-volume reads the mip from
        ("skeletons_mip_2", 3, 3),  # the info wins
        ("skeletons", 0, 0),
    ],
)
def test_mip_comes_from_the_info_or_the_directory_name(segmentation, directory, info_mip, mip):
    meta = segmentation(directory).skeleton.meta
    if info_mip is not None:
        meta.info["mip"] = info_mip
    assert meta.mip == mip


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_a_bad_mip_in_the_info_is_refused(segmentation, bad):
    meta = segmentation("skeletons").skeleton.meta
    meta.info["mip"] = bad
    with pytest.raises(InfoValidationError, match="mip must be an integer >= 0"):
        _ = meta.mip
