"""The README's properties, info and provenance methods, and not-yet-available features."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume, Vec
from precomputed_core.exceptions import (
    InfoValidationError,
    ScaleUnavailableError,
)


def test_properties_and_mip_functions(make_volume):
    vol = make_volume(size=(100, 90, 37), chunk=(32, 32, 16), offset=(10, 20, 3), max_mip=2, channels=2)
    assert vol.shape == (100, 90, 37, 2)
    assert vol.volume_size.tolist() == [100, 90, 37]
    assert vol.num_channels == 2
    assert vol.layer_type == "image"
    assert vol.dtype == np.dtype("uint8")
    assert vol.encoding == "raw"
    assert vol.resolution.tolist() == [4, 4, 40]
    assert vol.downsample_ratio.tolist() == [1.0, 1.0, 1.0]
    assert vol.underlying.tolist() == [32, 32, 16]
    assert vol.key == "4_4_40"
    assert vol.bounds == Bbox((10, 20, 3), (110, 110, 40))
    assert vol.voxel_offset.tolist() == [10, 20, 3]
    assert list(vol.available_mips) == [0, 1, 2]
    assert vol.scales is vol.info["scales"]
    assert vol.scale is vol.info["scales"][0]
    assert vol.mip_resolution(2).tolist() == [16, 16, 40]
    assert vol.mip_volume_size(1).tolist() == [50, 45, 37]
    assert vol.mip_shape(1) == (50, 45, 37, 2)
    assert vol.mip_bounds(1) == Bbox((5, 10, 3), (55, 55, 40))
    assert vol.mip_key(2) == "16_16_40"
    assert vol.mip_underlying(1).tolist() == [32, 32, 16]
    assert vol.mip_downsample_ratio(2).tolist() == [4.0, 4.0, 1.0]
    assert vol.mip_scale([8, 8, 40])["key"] == "8_8_40"
    vol.mip = 1
    assert vol.downsample_ratio.tolist() == [2.0, 2.0, 1.0]
    assert vol.bounds == vol.mip_bounds(1)
    assert isinstance(vol.resolution, Vec)


def test_paths(make_volume, tmp_path):
    vol = make_volume()
    assert vol.dataset_name == "ds"
    assert vol.layer == "layer"
    assert vol.layer_cloudpath == f"file://{tmp_path}/ds/layer"
    assert vol.base_cloudpath == f"file://{tmp_path}/ds"
    assert vol.info_cloudpath == f"file://{tmp_path}/ds/layer/info"


def test_setting_layer_and_dataset_reopens(make_volume, tmp_path):
    first = make_volume(name="one", size=(64, 64, 16))
    make_volume(name="two", size=(32, 32, 16))
    first.layer = "two"
    assert first.layer_cloudpath == f"file://{tmp_path}/ds/two"
    assert first.volume_size.tolist() == [32, 32, 16]
    (tmp_path / "other").mkdir()
    (tmp_path / "ds" / "two").rename(tmp_path / "other" / "two")
    first.dataset_name = "other"
    assert first.layer_cloudpath == f"file://{tmp_path}/other/two"
    assert first.volume_size.tolist() == [32, 32, 16]


def test_commit_and_refresh_info(make_volume, tmp_path):
    vol = make_volume(size=(128, 128, 64), chunk=(64, 64, 64))
    new = vol.add_scale((2, 2, 1))
    assert new == {
        "encoding": "raw", "chunk_sizes": [[64, 64, 64]], "key": "8_8_40", "resolution": [8, 8, 40],
        "voxel_offset": [0, 0, 0], "size": [64, 64, 64],
    }  # fmt: skip
    assert CloudVolume(vol.cloudpath).available_mips == range(1)  # not committed yet
    vol.commit_info()
    stored = json.loads((tmp_path / "ds" / "layer" / "info").read_text())
    assert [s["key"] for s in stored["scales"]] == ["4_4_40", "8_8_40"]
    assert CloudVolume(vol.cloudpath).available_mips == range(2)
    vol.reset_scales()
    assert len(vol.info["scales"]) == 1
    assert vol.refresh_info()["scales"][1]["key"] == "8_8_40"
    assert len(vol.scales) == 2


def test_add_scale_with_encoding_and_chunk_size(make_volume):
    vol = make_volume(size=(128, 128, 64), chunk=(64, 64, 64))
    scale = vol.add_scale([4, 4, 2], chunk_size=[32, 32, 16])
    assert scale["chunk_sizes"] == [[32, 32, 16]]
    assert scale["size"] == [32, 32, 32]
    assert vol.mip_key(1) == "16_16_80"


def test_info_setter_validates(make_volume):
    vol = make_volume()
    with pytest.raises(InfoValidationError, match="lacks the required field 'scales'"):
        vol.info = {"type": "image", "data_type": "uint8", "num_channels": 1}
    assert vol.info["type"] == "image"


def test_bad_mip(make_volume):
    vol = make_volume(max_mip=1)
    with pytest.raises(ScaleUnavailableError, match=r"mip 5 is not defined; this layer has mips \[0, 1\]"):
        vol.mip = 5
    with pytest.raises(ScaleUnavailableError, match="no scale has resolution"):
        vol.mip = (3, 3, 3)
    with pytest.raises(ScaleUnavailableError):
        CloudVolume(vol.cloudpath, mip=2)


def test_provenance_commit_and_refresh(make_volume):
    vol = make_volume()
    assert vol.provenance == {"description": "", "sources": [], "owners": [], "processing": []}
    vol.provenance.description = "EM of a retina"
    vol.provenance.owners = ["me@lab.org"]
    vol.provenance.processing.append({"method": "align"})
    vol.commit_provenance()
    again = CloudVolume(vol.cloudpath)
    assert again.provenance.description == "EM of a retina"
    assert again.provenance["processing"] == [{"method": "align"}]
    vol.provenance.owners = "not a list"
    with pytest.raises(InfoValidationError, match=r"provenance\.owners must be a list of str"):
        vol.commit_provenance()
    assert again.refresh_provenance().owners == ["me@lab.org"]
    given = CloudVolume(vol.cloudpath, provenance={"description": "given"})
    assert given.provenance.description == "given"


def test_provenance_as_json_text(make_volume):
    import json

    vol = make_volume()
    vol.provenance.sources.append("gs://lab/raw")
    assert json.loads(vol.provenance.serialize()) == {
        "description": "", "sources": ["gs://lab/raw"], "owners": [], "processing": []
    }  # fmt: skip
    text = CloudVolume(vol.cloudpath, provenance='{"sources": ["wow"]}')
    assert text.provenance.sources == ["wow"]
    assert text.provenance.owners == []
    merged = text.provenance.from_json('{"owners": ["me@lab.org"]}')
    assert merged is text.provenance
    assert (merged.sources, merged.owners) == (["wow"], ["me@lab.org"])
    with pytest.raises(InfoValidationError, match=r"provenance\.sources must be a list of str"):
        CloudVolume(vol.cloudpath, provenance={"sources": 3})
    with pytest.raises(InfoValidationError, match="provenance is not valid JSON"):
        CloudVolume(vol.cloudpath, provenance="{not json")
    with pytest.raises(InfoValidationError, match="a dict or its JSON text"):
        CloudVolume(vol.cloudpath, provenance=[1, 2])


def test_slices_from_global_coords(make_volume):
    vol = make_volume(size=(128, 128, 64), chunk=(32, 32, 16), max_mip=2)
    vol.mip = 2
    assert vol.slices_from_global_coords(np.s_[10:50, 4:64, 3:9]) == (slice(2, 13), slice(1, 16), slice(3, 9))
    assert vol.bbox_to_mip(Bbox((2, 1, 3), (13, 16, 9)), 2, 0) == Bbox((8, 4, 3), (52, 64, 9))


def test_cache_mesh_and_skeleton_are_objects_the_volume_holds(make_volume):
    vol = make_volume()
    assert vol.cache is vol.cache
    assert vol.mesh is vol.mesh
    assert vol.skeleton is vol.skeleton
    assert vol.cache.enabled is False
    vol.cache.enabled = False  # turning off what is off is fine
    assert repr(vol.mesh) == f"<MeshSource of {vol.cloudpath}>"
    assert repr(vol.skeleton) == f"<SkeletonSource of {vol.cloudpath}>"


def test_parallel_setting(make_volume, monkeypatch):
    vol = make_volume(parallel=False)
    assert vol.parallel == 1
    vol.parallel = 4
    assert vol.parallel == 4
    with pytest.raises(ValueError, match="parallel must be"):
        vol.parallel = -1
    import precomputed_core.frontend._options as options

    monkeypatch.setattr(options, "usable_cores", lambda: 1)
    vol.parallel = True  # one usable core: True means one process
    assert vol.parallel == 1
    monkeypatch.setattr(options, "usable_cores", lambda: 3)
    vol.parallel = 0  # as cloud-volume: 0 means every usable core
    assert vol.parallel == 3
    assert vol.config.parallel == 3
    vol.config.parallel = 2
    assert vol.parallel == 2
    monkeypatch.setattr(options, "usable_cores", lambda: 3)
    vol.parallel = True
    assert vol.parallel == 3


def test_shared_memory_names(make_volume):
    vol = make_volume()
    first = vol.shared_memory_id
    assert first.startswith("precomputed-shm-")
    assert vol.generate_shared_memory_location() != first
    vol.shared_memory_id = "mine"
    assert vol.shared_memory_id == "mine"


def test_cdn_cache_and_compress_options(make_volume):
    from precomputed_core.frontend._options import cache_control

    assert cache_control(False) == "no-cache"
    assert cache_control(True) == "max-age=3600, s-max-age=3600"
    assert cache_control(60) == "max-age=60, s-max-age=60"
    assert cache_control("public, max-age=5") == "public, max-age=5"
    with pytest.raises(ValueError, match=">= 0"):
        cache_control(-1)
    vol = make_volume(compress=True)
    assert vol.compress is True  # as given, as cloud-volume keeps it (gzip is what is written)
    with pytest.raises(NotImplementedError, match="compress='lz4' is not a known compression"):
        vol.compress = "lz4"


@pytest.mark.parametrize(("method", "suffix"), [("br", ".br"), ("zstd", ".zstd"), ("gzip", ".gz")])
def test_writes_with_every_transfer_compression(make_volume, tmp_path, method, suffix):
    import brotli
    import zstandard

    vol = make_volume(size=(32, 32, 16), chunk=(32, 32, 16), compress=method)
    data = (np.arange(32 * 32 * 16).reshape(32, 32, 16) % 251).astype(np.uint8)
    vol[:, :, :] = data
    scale = tmp_path / "ds" / "layer" / "4_4_40"
    assert os.listdir(scale) == [f"0-32_0-32_0-16{suffix}"]
    blob = (scale / f"0-32_0-32_0-16{suffix}").read_bytes()
    plain = {"br": brotli.decompress, "zstd": zstandard.ZstdDecompressor().decompressobj().decompress,
             "gzip": gzip.decompress}[method](blob)  # fmt: skip
    assert plain == data.tobytes(order="F")
    np.testing.assert_array_equal(CloudVolume(vol.cloudpath)[:, :, :][..., 0], data)


def test_save_images(make_volume, tmp_path, monkeypatch):
    pil = pytest.importorskip("PIL.Image")
    vol = make_volume(size=(32, 24, 3), chunk=(32, 32, 16))
    data = np.arange(32 * 24 * 3, dtype=np.uint32).reshape(32, 24, 3) % 256
    vol[:] = data.astype(np.uint8)
    monkeypatch.chdir(tmp_path)
    directory = vol[:].save_images()
    assert directory == "saved_images/ds/layer/0/0-32_0-24_0-3"
    names = sorted((tmp_path / directory).iterdir())
    assert [p.name for p in names] == ["00000.png", "00001.png", "00002.png"]
    with pil.open(names[1]) as image:
        assert image.size == (32, 24)
        pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels, data[:, :, 1].T.astype(np.uint8))


def test_repr_and_context_manager(make_volume):
    vol = make_volume()
    assert repr(vol).startswith(f"CloudVolume('{vol.cloudpath}', mip=0, bounded=True")
    with CloudVolume(vol.cloudpath) as again:
        assert again.num_channels == 1


def test_coordinate_helpers_and_resolutions(make_volume):
    vol = make_volume(size=(128, 128, 64), chunk=(32, 32, 16), max_mip=2)
    vol.mip = 2
    assert vol.slices_to_global_coords(np.s_[2:13, 1:16, 3:9]) == (slice(8, 52), slice(4, 64), slice(3, 9))
    assert vol.point_to_mip((10, 7, 3), 0, 2).tolist() == [2, 1, 3]
    assert vol.point_to_mip((2, 1, 3), 2, 0).tolist() == [8, 4, 3]
    assert [r.tolist() for r in vol.available_resolutions] == [[4, 4, 40], [8, 8, 40], [16, 16, 40]]
    assert vol.ndim == 4
