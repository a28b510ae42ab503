"""What users of numpy, zarr and fsspec take for granted: ``np.asarray(vol)``,
``storage_options=``, ``python -m precomputed_core`` and ``__version__``."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import numpy as np
import pytest

import precomputed_core
from precomputed_core import CloudVolume
from precomputed_core.exceptions import FeatureUnavailableError, OutOfMemoryError
from precomputed_core.testing import random_array


def _layer(url: str, size=(40, 30, 20), channels=1, dtype="uint16") -> CloudVolume:
    info = CloudVolume.create_new_info(channels, "image", dtype, "raw", [4, 4, 40], [5, 6, 7], list(size),
                                       chunk_size=[16, 16, 8])  # fmt: skip
    vol = CloudVolume(url, info=info, progress=False)
    vol.commit_info()
    return vol


def test_asarray_reads_the_whole_volume_at_its_mip(tmp_path):
    vol = _layer(f"file://{tmp_path}/layer", channels=2)
    data = random_array((40, 30, 20, 2), "uint16", seed=11)
    vol[:, :, :] = data
    array = np.asarray(vol)
    assert type(array) is np.ndarray
    assert array.shape == (40, 30, 20, 2)
    assert array.dtype == np.uint16
    np.testing.assert_array_equal(array, data)
    np.testing.assert_array_equal(np.array(vol, dtype=np.float32), data.astype(np.float32))
    assert np.asarray(vol, dtype=np.float32).dtype == np.float32
    assert int(np.sum(vol)) == int(data.sum(dtype=np.int64))  # numpy functions take the volume too


def test_asarray_follows_the_mip(tmp_path):
    vol = _layer(f"file://{tmp_path}/layer")
    vol.add_scale((2, 2, 1), chunk_size=(16, 16, 8))
    vol.commit_info()
    data = random_array((20, 15, 20), "uint16", seed=3)
    vol.mip = 1
    vol[:, :, :] = data
    np.testing.assert_array_equal(np.asarray(vol)[..., 0], data)
    assert CloudVolume(f"file://{tmp_path}/layer", mip=1, progress=False).__array__().shape == (20, 15, 20, 1)


def test_asarray_cannot_avoid_the_copy(tmp_path):
    vol = _layer(f"file://{tmp_path}/layer")
    with pytest.raises(ValueError, match="copy cannot be avoided"):
        vol.__array__(copy=False)  # what numpy 2 calls for np.asarray(vol, copy=False)
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        with pytest.raises(ValueError, match="copy cannot be avoided"):
            np.asarray(vol, copy=False)
    vol[:, :, :] = 9
    assert vol.__array__(copy=True).shape == (40, 30, 20, 1)
    assert int(vol.__array__(copy=True).min()) == 9


def test_asarray_of_a_volume_larger_than_memory_is_a_clear_error(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint64", "raw", [1, 1, 1], [0, 0, 0],
                                       [2**20, 2**20, 2**20], chunk_size=[64, 64, 64])  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/huge", info=info, progress=False, fill_missing=True)
    with pytest.raises(OutOfMemoryError, match="memory"):
        np.asarray(vol)


@pytest.mark.parametrize("url", ["file://{tmp}/layer", "mem://conventions/{name}/layer"])
def test_storage_options_where_no_fsspec_file_system_takes_them(tmp_path, url, request):
    url = url.format(tmp=tmp_path, name=request.node.name.replace("[", "-").rstrip("]"))
    _layer(url)
    with pytest.raises(FeatureUnavailableError, match=r"storage_options=\['anon'\].*no effect"):
        CloudVolume(url, storage_options={"anon": True})
    assert CloudVolume(url, storage_options={}).shape == (40, 30, 20, 1)  # nothing given, nothing refused


def test_storage_options_must_be_a_dict(tmp_path):
    with pytest.raises(TypeError, match="storage_options must be a dict"):
        CloudVolume(f"file://{tmp_path}/layer", storage_options=[("anon", True)])


def test_python_dash_m_runs_the_command_line(tmp_path):
    _layer(f"file://{tmp_path}/layer")
    done = subprocess.run([sys.executable, "-m", "precomputed_core", "info", f"file://{tmp_path}/layer"],
                          check=False, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "uint16" in done.stdout
    assert "40" in done.stdout
    version = subprocess.run([sys.executable, "-m", "precomputed_core", "--version"],
                             check=False, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert version.stdout.strip() == f"precomputed {precomputed_core.__version__}"


def test_the_version_is_the_distribution_s():
    assert precomputed_core.__version__ == importlib.metadata.version("precomputed")
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        precomputed_core.nothing_here  # noqa: B018
