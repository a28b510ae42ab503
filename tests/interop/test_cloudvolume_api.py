"""The same user script through cloud-volume and through precomputed: the results must agree.

Each script below takes the ``CloudVolume`` class as its only parameter, which
is what a user changes when switching libraries (``from cloudvolume import
CloudVolume`` -> ``from precomputed_core import CloudVolume``). Results are
normalised to plain lists and strings (cloud-volume returns tuples and Vecs of
other dtypes) and compared. Info dicts are also compared as JSON, so ``4`` and
``4.0`` differ there as they would in the stored file.
"""

from __future__ import annotations

import copy
import json
import shutil
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from precomputed_core import CloudVolume

cloudvolume = pytest.importorskip("cloudvolume")

if TYPE_CHECKING:
    from pathlib import Path

CV = cloudvolume.CloudVolume
LIBRARIES = [pytest.param(CV, id="cloudvolume"), pytest.param(CloudVolume, id="precomputed")]

# cloud-volume's README example, with a small volume: its one chunk in x and y is
# clipped to 64 x 48 voxels, so writing the whole layer stays under 1 MB.
README_ARGS: dict[str, Any] = {
    "num_channels": 1,
    "layer_type": "segmentation",
    "data_type": "uint64",
    "encoding": "raw",
    "resolution": [4, 4, 40],
    "voxel_offset": [0, 0, 0],
    "mesh": "mesh",
    "chunk_size": [512, 512, 16],
    "volume_size": [64, 48, 20],
}
# a layer whose geometry exercises every rounding rule: odd negative offsets,
# sizes that are not multiples of the chunk size, fractional resolutions.
ODD_ARGS: dict[str, Any] = {
    "num_channels": 3,
    "layer_type": "image",
    "data_type": "uint8",
    "encoding": "raw",
    "resolution": [4.5, 4.5, 40],
    "voxel_offset": [13, -7, 5],
    "chunk_size": [32, 32, 16],
    "volume_size": [100, 90, 37],
}
INFO_CASES = [
    pytest.param(README_ARGS, id="readme"),
    pytest.param(ODD_ARGS, id="odd-geometry"),
    pytest.param({**ODD_ARGS, "max_mip": 2}, id="odd-geometry-max_mip=2"),
    pytest.param(
        {
            **README_ARGS,
            "data_type": "float32",
            "layer_type": "image",
            "resolution": [8, 8, 8],
            "factor": (2, 2, 2),
            "max_mip": 3,
            "mesh": True,
            "skeletons": True,
        },
        id="isotropic-max_mip=3-mesh-skeletons",
    ),
    pytest.param({**ODD_ARGS, "chunk_size": [1020, 96, 80], "volume_size": [2000, 300, 90]}, id="big-chunks"),
]


def plain(value: Any) -> Any:
    """Lists, ints, floats and strings, whatever vector or box type a library returns."""
    if hasattr(value, "minpt") and hasattr(value, "maxpt"):
        return [plain(value.minpt), plain(value.maxpt)]
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | tuple | list | range):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def without_type(info: dict[str, Any]) -> dict[str, Any]:
    """The info without the ``@type`` we add (cloud-volume's create_new_info omits it)."""
    return {k: v for k, v in info.items() if k != "@type"}


def assert_same_json(ours: Any, theirs: Any) -> None:
    assert ours == theirs
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)


# --- create_new_info and add_scale: pure functions of their arguments -----------------------


@pytest.mark.parametrize("args", INFO_CASES)
def test_create_new_info(cv_env: Path, args: dict[str, Any]) -> None:
    ours = CloudVolume.create_new_info(**copy.deepcopy(args))
    theirs = CV.create_new_info(**copy.deepcopy(args))
    assert ours["@type"] == "neuroglancer_multiscale_volume"
    assert_same_json(without_type(ours), theirs)


def _add_scale_script(lib: Any, layer: Path, args: dict[str, Any], factor: Any) -> dict[str, Any]:
    info = lib.create_new_info(**copy.deepcopy(args))
    vol = lib("file://" + str(layer), info=info, progress=False)
    vol.commit_info()
    scale = vol.add_scale(factor)
    vol.commit_info()
    reopened = lib("file://" + str(layer), progress=False)
    return {"scale": copy.deepcopy(scale), "info": without_type(copy.deepcopy(reopened.info))}


@pytest.mark.parametrize(
    ("args", "factor"),
    [
        pytest.param(README_ARGS, (2, 2, 1), id="readme-(2,2,1)"),
        pytest.param(README_ARGS, (4, 4, 2), id="readme-(4,4,2)"),
        pytest.param(ODD_ARGS, (2, 2, 1), id="odd-(2,2,1)"),
        pytest.param(ODD_ARGS, (8, 8, 4), id="odd-(8,8,4)"),
        pytest.param(ODD_ARGS, [2.0, 2.0, 1.0], id="odd-float-factor"),
        # the new chunk size is each axis' divisor closest to 64 (1020: 60 and 68 tie)
        pytest.param({**ODD_ARGS, "chunk_size": [1020, 504, 80]}, (2, 2, 1), id="divisors-(2,2,1)"),
        # 4.4 * 3 is 13.200000000000001 in floating point: the key must say so identically
        pytest.param({**ODD_ARGS, "resolution": [4.4, 4.4, 40]}, (3, 3, 1), id="float-resolution-(3,3,1)"),
    ],
)
def test_add_scale(cv_env: Path, tmp_path: Path, args: dict[str, Any], factor: Any) -> None:
    theirs = _add_scale_script(CV, tmp_path / "cv" / "layer", args, factor)
    ours = _add_scale_script(CloudVolume, tmp_path / "ours" / "layer", args, factor)
    assert_same_json(ours["scale"], theirs["scale"])
    assert_same_json(ours["info"], theirs["info"])


# --- one script, both libraries, the same path -----------------------------------------------

PROPERTIES = [
    "shape", "volume_size", "voxel_offset", "bounds", "underlying", "chunk_size", "key",
    "resolution", "downsample_ratio", "encoding", "scale", "mip", "dataset_name", "layer",
    "cloudpath", "layer_cloudpath", "base_cloudpath", "info_cloudpath", "available_mips",
    "num_channels", "layer_type", "dtype", "data_type",
]  # fmt: skip
# cloud-volume's mip_* functions that we also have (it has no mip_downsample_ratio;
# we have no mip_ndim or mip_compressed_segmentation_block_size).
MIP_FUNCTIONS = [
    "mip_shape", "mip_volume_size", "mip_voxel_offset", "mip_bounds", "mip_underlying",
    "mip_chunk_size", "mip_key", "mip_resolution", "mip_encoding", "mip_scale",
]  # fmt: skip


def _script(lib: Any, cloudpath: str, args: dict[str, Any]) -> dict[str, Any]:
    """Create a layer with two mips, write part of it, and report what the API says."""
    results: dict[str, Any] = {}
    info = lib.create_new_info(**copy.deepcopy(args))
    vol = lib(cloudpath, info=info, progress=False)
    vol.add_scale((2, 2, 1))
    vol.commit_info()
    vol = lib(cloudpath, progress=False)

    rng = np.random.default_rng(7)
    dtype, channels = np.dtype(args["data_type"]), args["num_channels"]
    for mip in (0, 1):
        vol.mip = mip
        lo, hi = list(vol.bounds.minpt), list(vol.bounds.maxpt)
        results[f"exists-before-{mip}"] = vol.exists(np.s_[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]])
        results[f"properties-{mip}"] = {name: plain(getattr(vol, name)) for name in PROPERTIES}
        # write only the first chunk in z (chunk-aligned, as cloud-volume requires)
        z_top = min(hi[2], lo[2] + int(vol.underlying[2]))
        shape = (hi[0] - lo[0], hi[1] - lo[1], z_top - lo[2], channels)
        data = rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True)
        vol[lo[0] : hi[0], lo[1] : hi[1], lo[2] : z_top] = data
        results[f"written-{mip}"] = data
        results[f"exists-after-{mip}"] = vol.exists(np.s_[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]])
        results[f"read-{mip}"] = np.asarray(vol[lo[0] : hi[0], lo[1] : hi[1], lo[2] : z_top])
    results["mip_functions"] = {
        f"{name}({mip})": plain(getattr(vol, name)(mip)) for name in MIP_FUNCTIONS for mip in (0, 1)
    }
    results["coordinates"] = [
        plain(vol.slices_from_global_coords(np.s_[10:50, 4:40, 3:9])),
        plain(vol.slices_to_global_coords(np.s_[2:13, 1:16, 3:9])),
        plain(vol.point_to_mip((10, 7, 3), 0, 1)),
        plain(vol.point_to_mip((5, 3, 3), 1, 0)),
        plain(list(vol.available_resolutions)),
    ]
    results["info"] = without_type(copy.deepcopy(vol.info))
    return results


@pytest.mark.parametrize("args", [pytest.param(README_ARGS, id="readme"), pytest.param(ODD_ARGS, id="odd")])
def test_same_script_same_results(cv_env: Path, tmp_path: Path, args: dict[str, Any]) -> None:
    dataset = tmp_path / "dataset"
    cloudpath = "file://" + str(dataset / "layer")
    theirs = _script(CV, cloudpath, args)
    shutil.rmtree(dataset)  # the same path for both, so path properties can match
    ours = _script(CloudVolume, cloudpath, args)

    assert ours.keys() == theirs.keys()
    for mip in (0, 1):
        assert ours[f"properties-{mip}"] == theirs[f"properties-{mip}"]
        assert ours[f"exists-before-{mip}"] == theirs[f"exists-before-{mip}"]
        assert not any(theirs[f"exists-before-{mip}"].values())
        assert ours[f"exists-after-{mip}"] == theirs[f"exists-after-{mip}"]
        assert any(theirs[f"exists-after-{mip}"].values())
        np.testing.assert_array_equal(ours[f"written-{mip}"], theirs[f"written-{mip}"])
        np.testing.assert_array_equal(ours[f"read-{mip}"], ours[f"written-{mip}"])
        np.testing.assert_array_equal(theirs[f"read-{mip}"], theirs[f"written-{mip}"])
    assert ours["mip_functions"] == theirs["mip_functions"]
    assert ours["coordinates"] == theirs["coordinates"]
    assert_same_json(ours["info"], theirs["info"])
    assert ours["properties-0"]["dataset_name"] == "dataset"
    assert ours["properties-0"]["layer"] == "layer"


# --- each library on a layer the other wrote --------------------------------------------------


def _write_layer(lib: Any, cloudpath: str, args: dict[str, Any], seed: int) -> list[np.ndarray]:
    """Write every voxel of mips 0 and 1; return what was written."""
    info = lib.create_new_info(**copy.deepcopy(args), max_mip=1)
    vol = lib(cloudpath, info=info, progress=False)
    vol.commit_info()
    rng = np.random.default_rng(seed)
    written = []
    for mip in (0, 1):
        vol.mip = mip
        shape = (*(int(s) for s in vol.volume_size), args["num_channels"])
        data = rng.integers(0, 2**8, size=shape, dtype=args["data_type"])
        vol[:, :, :] = data
        written.append(data)
    return written


@pytest.mark.parametrize(
    ("writer", "reader"), [(CV, CloudVolume), (CloudVolume, CV)], ids=["cv->ours", "ours->cv"]
)
@pytest.mark.parametrize("args", [pytest.param(README_ARGS, id="readme"), pytest.param(ODD_ARGS, id="odd")])
def test_read_the_other_librarys_layer(
    cv_env: Path, tmp_path: Path, writer: Any, reader: Any, args: dict[str, Any]
) -> None:
    cloudpath = "file://" + str(tmp_path / "dataset" / "layer")
    written = _write_layer(writer, cloudpath, args, seed=11)
    for mip, data in enumerate(written):
        vol = reader(cloudpath, mip=mip, progress=False)
        np.testing.assert_array_equal(np.asarray(vol[:, :, :]), data)
        lo = [int(v) for v in vol.bounds.minpt]
        cut = np.asarray(vol[lo[0] + 3 : lo[0] + 20, lo[1] + 1 : lo[1] + 9, lo[2] + 2 : lo[2] + 19])
        np.testing.assert_array_equal(cut, data[3:20, 1:9, 2:19])


@pytest.mark.parametrize("writer", LIBRARIES)
@pytest.mark.parametrize("args", [pytest.param(README_ARGS, id="readme"), pytest.param(ODD_ARGS, id="odd")])
def test_properties_of_the_same_layer(
    cv_env: Path, tmp_path: Path, writer: Any, args: dict[str, Any]
) -> None:
    """Both libraries open one layer (written by either) and describe it the same way."""
    cloudpath = "file://" + str(tmp_path / "dataset" / "layer")
    _write_layer(writer, cloudpath, args, seed=12)
    theirs, ours = CV(cloudpath, progress=False), CloudVolume(cloudpath, progress=False)
    for mip in (0, 1):
        theirs.mip = ours.mip = mip
        for name in PROPERTIES:
            assert plain(getattr(ours, name)) == plain(getattr(theirs, name)), name
        for name in MIP_FUNCTIONS:
            assert plain(getattr(ours, name)(mip)) == plain(getattr(theirs, name)(mip)), name
        lo = [int(v) for v in ours.bounds.minpt]
        box = np.s_[lo[0] + 2 : lo[0] + 21, lo[1] + 1 : lo[1] + 15, lo[2] + 3 : lo[2] + 17]
        assert plain(ours.bbox_to_mip(box, mip, 1 - mip)) == plain(theirs.bbox_to_mip(box, mip, 1 - mip))
        assert ours.exists(box) == theirs.exists(box)


# --- VolumeCutout book-keeping -----------------------------------------------------------------

CUTOUT_ATTRIBUTES = ("shape", "dtype", "bounds", "layer", "mip", "layer_type", "resolution", "cloudpath")


@pytest.mark.parametrize("writer", LIBRARIES)
def test_cutouts_carry_the_same_metadata(cv_env: Path, tmp_path: Path, writer: Any) -> None:
    cloudpath = "file://" + str(tmp_path / "dataset" / "layer")
    _write_layer(writer, cloudpath, ODD_ARGS, seed=13)
    theirs, ours = CV(cloudpath, progress=False), CloudVolume(cloudpath, progress=False)
    for mip in (0, 1):
        theirs.mip = ours.mip = mip
        for box in (np.s_[20:45, -3:30, 6:30], np.s_[20:45:2, -3:30, 6]):
            ours_cut, their_cut = ours[box], theirs[box]
            for name in CUTOUT_ATTRIBUTES:
                assert plain(getattr(ours_cut, name)) == plain(getattr(their_cut, name)), name
            np.testing.assert_array_equal(ours_cut, their_cut)
            # cloud-volume's __getitem__ loses dataset_name (its __array_finalize__ reads
            # ``obj.dataset``); ours keeps it. download() keeps it in both:
            assert ours_cut.dataset_name == "dataset"
        downloads = ours.download(np.s_[20:45, -3:30, 6:30]), theirs.download(np.s_[20:45, -3:30, 6:30])
        for name in (*CUTOUT_ATTRIBUTES, "dataset_name"):
            assert plain(getattr(downloads[0], name)) == plain(getattr(downloads[1], name)), name
        assert downloads[1].dataset_name == "dataset"
        np.testing.assert_array_equal(*downloads)
