"""boss://collection/experiment/channel through intern, against the stand-in BOSS of
tests/boss_server.py (intern runs unmodified; the server holds numpy arrays)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("intern", reason="the boss extra (in .[test])")
pytest.importorskip("blosc", reason="the boss extra (in .[test])")

from boss_server import FakeBoss
from precomputed_core import Bbox, CloudVolume, plugins
from precomputed_core.exceptions import (
    CredentialsError,
    FeatureUnavailableError,
    InfoUnavailableError,
    OutOfBoundsError,
    PermissionDeniedError,
)

TOKEN = "tok-3f9a7c"  # must never appear in a message


def _secret(config, **extra):
    folder = os.path.join(os.environ["CLOUD_VOLUME_DIR"], "secrets")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "boss-secret.json"), "w") as f:
        json.dump({**config, **extra}, f)


@pytest.fixture
def boss():
    with FakeBoss(token=TOKEN) as server:
        server.add_frame("aniso", start=(100, 40, 3), stop=(1125, 600, 35), voxel_size=(4, 4, 40))
        server.add_frame("micro", start=(0, 0, 0), stop=(301, 200, 97), voxel_size=(0.5, 0.5, 0.5),
                         unit="micrometers")  # fmt: skip
        server.add_experiment("coll", "exp", frame="aniso", levels=3, method="anisotropic")
        server.add_experiment("coll", "iso", frame="micro", levels=3, method="isotropic")
        server.add_channel("coll", "exp", "img", datatype="uint8", type="image")
        server.add_channel("coll", "exp", "img16", datatype="uint16", type="image")
        server.add_channel("coll", "exp", "seg", datatype="uint64", type="annotation")
        server.add_channel("coll", "exp", "ro", datatype="uint8", writable=False)
        server.add_channel("coll", "iso", "img", datatype="uint16")
        _secret(server.config)
        yield server


def _zyx(array_xyzc):
    return np.ascontiguousarray(array_xyzc[..., 0].T)


def test_registered_as_a_volume_driver_of_ours():
    entry = {e.key: e for e in plugins.driver_entries()}["boss"]
    assert entry.kind == "volume"
    assert entry.owner == "precomputed"
    assert entry.target == "precomputed_drivers.boss:BossVolume"
    # without the extra, opening a boss:// path says what to install
    assert entry.requires == ("intern", "blosc")
    assert entry.install == "precomputed[boss]"


def test_the_info_comes_from_the_channel_experiment_and_frame(boss):
    vol = CloudVolume("boss://coll/exp/img", progress=False)
    assert vol.layer_type == "image"
    assert vol.dtype == np.dtype("uint8")
    assert vol.num_channels == 1
    assert vol.bounds == Bbox((100, 40, 3), (1125, 600, 35))
    assert vol.shape == (1025, 560, 32, 1)
    assert vol.resolution.tolist() == [4, 4, 40]
    assert list(vol.available_mips) == [0, 1, 2]
    # anisotropic: (2, 2, 1) per level; bounds floor(start / f) .. ceil(stop / f)
    assert vol.mip_bounds(1) == Bbox((50, 20, 3), (563, 300, 35))
    assert vol.mip_bounds(2) == Bbox((25, 10, 3), (282, 150, 35))
    assert vol.mip_resolution(2).tolist() == [16, 16, 40]
    assert vol.chunk_size.tolist() == [512, 512, 16]
    assert vol.encoding == "raw"
    assert (vol.dataset_name, vol.layer) == ("exp", "img")
    assert CloudVolume("boss://coll/exp/seg").layer_type == "segmentation"
    assert CloudVolume("boss://coll/exp/img16").dtype == np.dtype("uint16")


def test_units_and_isotropic_levels(boss):
    vol = CloudVolume("boss://coll/iso/img", progress=False)
    assert vol.resolution.tolist() == [500, 500, 500]  # 0.5 micrometres, never 0
    assert vol.mip_resolution(1).tolist() == [1000, 1000, 1000]
    assert vol.mip_bounds(1) == Bbox((0, 0, 0), (151, 100, 49))
    assert vol.mip_bounds(2) == Bbox((0, 0, 0), (76, 50, 25))


def test_reads_and_writes_in_xyz_order_at_every_mip(boss):
    vol = CloudVolume("boss://coll/exp/img", progress=False)
    rng = np.random.default_rng(0)
    data = rng.integers(1, 255, size=(300, 200, 10, 1), dtype=np.uint8)
    vol[150:450, 100:300, 5:15] = data
    np.testing.assert_array_equal(boss.array("coll", "exp", "img", 0)[2:12, 60:260, 50:350], _zyx(data))
    np.testing.assert_array_equal(vol[150:450, 100:300, 5:15], data)
    np.testing.assert_array_equal(vol[150, 100:300, 5:15][:, :, :, 0], data[:1, :, :, 0])
    # mip 1 is resolution level 1
    small = rng.integers(1, 255, size=(40, 30, 4, 1), dtype=np.uint8)
    vol.mip = 1
    vol[60:100, 30:60, 3:7] = small
    np.testing.assert_array_equal(boss.array("coll", "exp", "img", 1)[0:4, 10:40, 10:50], _zyx(small))
    np.testing.assert_array_equal(vol.download(Bbox((60, 30, 3), (100, 60, 7)), mip=1), small)
    # regions never written read as zeros
    assert not vol[200:240, 200:230, 20:30].any()


@pytest.mark.parametrize("channel", ["seg", "img16"])
def test_wider_types_round_trip(boss, channel):
    vol = CloudVolume(f"boss://coll/exp/{channel}", progress=False)
    dtype = vol.dtype
    data = np.random.default_rng(1).integers(0, np.iinfo(dtype).max, size=(70, 50, 6, 1), dtype=dtype)
    vol[100:170, 40:90, 3:9] = data
    np.testing.assert_array_equal(vol[100:170, 40:90, 3:9], data)


def test_uint64_labels_whose_sum_wraps_to_zero_are_written(boss):
    vol = CloudVolume("boss://coll/exp/seg", progress=False)
    labels = np.zeros((4, 4, 1, 1), dtype=np.uint64)
    labels[0, 0] = labels[3, 3] = 2**63  # np.sum is 0 in uint64: intern alone would send nothing
    vol[100:104, 40:44, 3:4] = labels
    np.testing.assert_array_equal(vol[100:104, 40:44, 3:4], labels)
    # every half of this sums to 0 as well: it still goes in one POST
    values = np.arange(1, 8 * 8 * 2 + 1, dtype=np.uint64).reshape(8, 8, 2, 1)
    values[:, :, 1] = (2**64 - values[:, :, 0].astype(object)).astype(np.uint64)
    assert np.sum(values) == 0
    before = len(boss.requests)
    vol[100:108, 40:48, 3:5] = values
    assert [m for m, _, _ in boss.requests[before:]] == ["POST"]
    np.testing.assert_array_equal(vol[100:108, 40:48, 3:5], values)


def test_zeros_among_data_clear_what_was_there(boss):
    # The BOSS's POST keeps the voxels under zeros it carries (the stand-in does the same).
    vol = CloudVolume("boss://coll/exp/seg", progress=False)
    vol[100:200, 40:140, 3:8] = np.full((100, 100, 5), 9, np.uint64)
    mixed = np.zeros((100, 100, 5, 1), np.uint64)
    mixed[50:] = 4
    vol[100:200, 40:140, 3:8] = mixed
    np.testing.assert_array_equal(vol[100:200, 40:140, 3:8], mixed)


def test_writing_zeros_clears(boss):
    vol = CloudVolume("boss://coll/exp/img", progress=False)
    vol[100:200, 40:140, 3:8] = np.full((100, 100, 5), 9, np.uint8)
    vol[120:160, 60:100, 4:6] = np.zeros((40, 40, 2), np.uint8)
    got = vol[100:200, 40:140, 3:8][..., 0]
    assert not got[20:60, 20:60, 1:3].any()
    assert (got[:20] == 9).all()
    assert (boss.array("coll", "exp", "img")[1:3, 20:60, 20:60] == 0).all()
    assert any("to_black" in path for _, path, _ in boss.requests)


def test_bounds_are_kept(boss):
    vol = CloudVolume("boss://coll/exp/img", progress=False)
    vol[100:110, 40:50, 3:4] = np.full((10, 10, 1), 7, np.uint8)
    before = len(boss.requests)
    with pytest.raises(OutOfBoundsError):
        vol[90:110, 40:50, 3:4]
    with pytest.raises(OutOfBoundsError):
        vol[90:110, 40:50, 3:4] = np.ones((20, 10, 1), np.uint8)
    assert len(boss.requests) == before  # refused before any request
    vol.bounded = False
    outside = vol[90:110, 30:50, 0:4][..., 0]
    assert not outside[:10].any()
    assert not outside[:, :10].any()
    assert (outside[10:, 10:, 3] == 7).all()
    # nothing outside the frame was asked for
    for _, path, _ in boss.requests[before:]:
        x, y, z = (tuple(int(v) for v in part.split(":")) for part in path.rstrip("/").split("/")[-3:])
        assert min(x[0] - 100, y[0] - 40, z[0] - 3) >= 0, path
    vol.autocrop = True  # with bounded=False, as in cloud-volume
    assert vol[90:110, 30:50, 0:4].shape == (10, 10, 1, 1)


def test_a_cutout_larger_than_one_request_is_split_and_fetched_concurrently(boss, monkeypatch):
    monkeypatch.setenv("PRECOMPUTED_BOSS_MAX_VOXELS", str(128 * 128 * 16))
    boss.max_request_voxels = 128 * 128 * 16
    vol = CloudVolume("boss://coll/exp/img16", progress=False)
    data = np.random.default_rng(2).integers(0, 60000, size=(500, 400, 20, 1), dtype=np.uint16)
    vol[100:600, 40:440, 3:23] = data
    boss.delay = 0.02
    start = len(boss.requests)
    np.testing.assert_array_equal(vol[100:600, 40:440, 3:23], data)
    cutouts = [voxels for method, path, voxels in boss.requests[start:] if method == "GET" and voxels]
    assert len(cutouts) > 1
    assert max(cutouts) <= 128 * 128 * 16
    assert boss.most_in_flight >= 2


def test_the_byte_limit_counts_too(boss, monkeypatch):
    monkeypatch.setenv("PRECOMPUTED_BOSS_MAX_BYTES", str(64 * 64 * 16 * 8))
    boss.max_request_bytes = 64 * 64 * 16 * 8
    vol = CloudVolume("boss://coll/exp/seg", progress=False)
    data = np.arange(200 * 150 * 20, dtype=np.uint64).reshape(200, 150, 20, 1)
    vol[100:300, 40:190, 3:23] = data
    np.testing.assert_array_equal(vol[100:300, 40:190, 3:23], data)


def test_credentials_from_intern_settings(boss, monkeypatch, tmp_path):
    os.remove(os.path.join(os.environ["CLOUD_VOLUME_DIR"], "secrets", "boss-secret.json"))
    with pytest.raises(CredentialsError) as missing:
        CloudVolume("boss://coll/exp/img")
    text = str(missing.value)
    assert "boss-secret.json" in text
    assert "INTERN_TOKEN" in text
    assert "intern.cfg" in text
    monkeypatch.setenv("INTERN_TOKEN", TOKEN)
    monkeypatch.setenv("INTERN_HOST", boss.host)
    monkeypatch.setenv("INTERN_PROTOCOL", "http")
    assert CloudVolume("boss://coll/exp/img").shape == (1025, 560, 32, 1)
    for name in ("INTERN_TOKEN", "INTERN_HOST", "INTERN_PROTOCOL"):
        monkeypatch.delenv(name)
    cfg = tmp_path / "home" / ".intern" / "intern.cfg"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f"[Default]\nprotocol = http\nhost = {boss.host}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert CloudVolume("boss://coll/exp/img").dtype == np.dtype("uint8")
    # secrets= and endpoint_url= win
    vol = CloudVolume("boss://coll/exp/img", secrets={"token": TOKEN}, endpoint_url=f"http://{boss.host}")
    assert vol.layer_type == "image"


def test_refusals_say_what_to_do_and_never_show_the_token(boss):
    _secret(boss.config, token="wrong-token")
    with pytest.raises(CredentialsError, match=r"refused the token from .*boss-secret.json \(401\)") as bad:
        CloudVolume("boss://coll/exp/img")
    assert "wrong-token" not in str(bad.value)
    _secret(boss.config)
    vol = CloudVolume("boss://coll/exp/ro", progress=False)
    with pytest.raises(PermissionDeniedError, match="403"):
        vol[100:110, 40:50, 3:4] = np.ones((10, 10, 1), np.uint8)
    for path, missing in (("boss://nope/exp/img", "collection 'nope'"),
                          ("boss://coll/nope/img", "experiment 'nope'"),
                          ("boss://coll/exp/nope", "channel 'nope'")):  # fmt: skip
        with pytest.raises(InfoUnavailableError, match=missing):
            CloudVolume(path)
    assert TOKEN not in repr(vol._volume)
    assert TOKEN not in repr(vol)
    with pytest.raises(ValueError, match="boss://collection/experiment/channel"):
        CloudVolume("boss://coll/exp")


def test_exists_delete_and_metadata_edits(boss):
    vol = CloudVolume("boss://coll/exp/img", progress=False)
    vol[512:600, 40:100, 3:8] = np.full((88, 60, 5), 3, np.uint8)
    found = vol.exists(np.s_[400:700, 40:100, 3:8])
    key = vol.key
    assert found == {f"{key}/400-512_40-100_3-8": False, f"{key}/512-700_40-100_3-8": True}
    vol.delete(np.s_[512:600, 40:100, 3:8])
    assert not vol[512:600, 40:100, 3:8].any()
    vol.commit_info()  # unchanged: nothing to do
    vol.info["scales"][0]["resolution"] = [8, 8, 40]
    with pytest.raises(FeatureUnavailableError, match="intern"):
        vol.commit_info()
    with pytest.raises(FeatureUnavailableError, match="array service"):
        CloudVolume("boss://coll/exp/img", cache=True)


def test_parallel_workers_open_the_channel_themselves(boss, worker_processes):
    vol = CloudVolume("boss://coll/exp/img16", progress=False, parallel=2)
    data = np.random.default_rng(3).integers(0, 60000, size=(1025, 300, 20, 1), dtype=np.uint16)
    vol[100:1125, 40:340, 3:23] = data
    np.testing.assert_array_equal(boss.array("coll", "exp", "img16")[0:20, 0:300, 0:1025], _zyx(data))
    np.testing.assert_array_equal(vol[100:1125, 40:340, 3:23], data)


@pytest.mark.parametrize("reply", ["garbage", "short"])
def test_a_damaged_reply_is_an_error_not_garbage(boss, monkeypatch, reply):
    import blosc

    import boss_server
    from precomputed_core.exceptions import DecodingError

    def damaged(array):
        if reply == "garbage":
            return b"this is not a blosc stream"
        return blosc.compress(array.tobytes()[: array.nbytes // 2], typesize=array.itemsize)

    monkeypatch.setattr(boss_server, "_encode", damaged)
    vol = CloudVolume("boss://coll/exp/img16", progress=False)
    with pytest.raises(DecodingError, match=r"boss://coll/exp/img16 mip 0 100-164_40-104_3-7"):
        vol[100:164, 40:104, 3:7]


def test_a_server_that_stops_answering_is_reported(boss, monkeypatch):
    from precomputed_core.exceptions import TransientStorageError

    vol = CloudVolume("boss://coll/exp/img", progress=False, total_timeout=2, request_timeout=0.5)
    boss.delay = 3  # longer than a request may take
    with pytest.raises(TransientStorageError, match="try again later"):
        vol[100:110, 40:50, 3:4]


def test_a_channel_transfers_to_a_precomputed_layer_and_reads_as_dask(boss, tmp_path):
    vol = CloudVolume("boss://coll/exp/img16", progress=False)
    data = np.random.default_rng(4).integers(1, 60000, size=(600, 300, 20, 1), dtype=np.uint16)
    vol[100:700, 40:340, 3:23] = data
    copy = vol.transfer_to(f"file://{tmp_path}/copy")
    assert copy.info["scales"][0]["resolution"] == [4, 4, 40]
    assert copy.bounds == vol.bounds
    np.testing.assert_array_equal(copy[100:700, 40:340, 3:23], data)
    copy.fill_missing = True  # regions of zeros were not copied
    assert not copy[700:1125, 340:600, 23:35].any()
    # only the cuboids that hold data became chunks, gzipped (compress='auto')
    names = sorted(os.listdir(tmp_path / "copy" / copy.key))
    assert names
    assert all(n.endswith(".gz") for n in names)
    assert len(names) < len(copy.meta.grid(0).cover(copy.bounds))
    dask = pytest.importorskip("dask")
    array = vol.to_dask()
    assert array.shape == (1025, 560, 32, 1)
    np.testing.assert_array_equal(array[0:600, 0:300, 0:20].compute(scheduler="threads"), data)
    with pytest.raises(TypeError, match="cannot be transferred"):
        copy.transfer_to("boss://coll/exp/img16")
    assert dask is not None


def test_a_server_with_smaller_limits_is_met_by_halving_requests(boss):
    boss.max_request_voxels = 100 * 100 * 4  # below our requests; not told to the driver
    vol = CloudVolume("boss://coll/exp/img", progress=False)
    data = np.random.default_rng(5).integers(1, 255, size=(300, 200, 16, 1), dtype=np.uint8)
    vol[100:400, 40:240, 3:19] = data
    np.testing.assert_array_equal(vol[100:400, 40:240, 3:19], data)
    served = [v for _, _, v in boss.requests if v and v <= boss.max_request_voxels]
    assert served
    # after the first refusal the volume asks for no more than what passed
    assert vol._volume.limits.voxels <= 100 * 100 * 4 * 2


def test_settings_above_the_boss_limits_are_lowered(boss, monkeypatch):
    monkeypatch.setenv("PRECOMPUTED_BOSS_MAX_VOXELS", str(2**40))
    monkeypatch.setenv("PRECOMPUTED_BOSS_MAX_BYTES", str(10**12))
    limits = CloudVolume("boss://coll/exp/seg")._volume.limits
    assert limits.voxels == 64 * 2**20
    assert limits.request_voxels(8) == 500 * 10**6 // 8
    monkeypatch.setenv("PRECOMPUTED_BOSS_THREADS", "1")
    with pytest.raises(ValueError, match="PRECOMPUTED_BOSS_THREADS must be at least 2"):
        CloudVolume("boss://coll/exp/seg")


def test_a_host_given_as_a_url(boss):
    _secret({"token": TOKEN, "host": f"http://{boss.host}/"})
    assert CloudVolume("boss://coll/exp/img").dtype == np.dtype("uint8")
    _secret({"token": TOKEN, "host": f"{boss.host}/v1"})
    with pytest.raises(CredentialsError, match="name\\[:port\\]"):
        CloudVolume("boss://coll/exp/img")
