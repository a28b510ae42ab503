"""The BOSS stand-in answers intern's real ``BossRemote`` as the BOSS does: resources, cutouts, errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import requests

from boss_server import FakeBoss

pytest.importorskip("blosc")
BossRemote = pytest.importorskip("intern.remote.boss").BossRemote

TOKEN = "secret-token"


@pytest.fixture
def boss(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with FakeBoss(token=TOKEN) as server:
        server.add_frame("frame1", start=(0, 0, 0), stop=(1000, 800, 50), voxel_size=(4, 4, 40))
        server.add_frame(
            "iso", start=(0, 0, 0), stop=(1001, 800, 51), voxel_size=(0.5, 0.5, 0.5), unit="micrometers"
        )
        server.add_experiment("coll", "exp", frame="frame1", levels=3, method="anisotropic")
        server.add_experiment("coll", "isoexp", frame="iso", levels=2, method="isotropic")
        server.add_channel("coll", "exp", "img", datatype="uint8", type="image")
        server.add_channel("coll", "exp", "seg", datatype="uint64", type="annotation")
        server.add_channel("coll", "exp", "ro", datatype="uint8", writable=False)
        server.add_channel("coll", "exp", "hidden", datatype="uint8", readable=False)
        server.add_channel("coll", "isoexp", "img", datatype="uint16")
        yield server


@pytest.fixture
def remote(boss):
    return BossRemote(boss.config)


def _get(boss, path, token=TOKEN):
    headers = {} if token is None else {"Authorization": f"Token {token}"}
    return requests.get(f"http://{boss.host}{path}", headers=headers, timeout=10)


def test_config_is_loopback(boss):
    assert boss.host.startswith("127.0.0.1:")
    assert boss.config == {"protocol": "http", "host": boss.host, "token": TOKEN}


def test_project_resources(remote):
    channel = remote.get_channel("img", "coll", "exp")
    assert (channel.name, channel.coll_name, channel.exp_name) == ("img", "coll", "exp")
    assert (channel.datatype, channel.type, channel.cutout_ready) == ("uint8", "image", True)
    assert (channel.base_resolution, channel.default_time_sample, channel.downsample_status) == (
        0,
        0,
        "NOT_DOWNSAMPLED",
    )
    assert remote.get_channel("seg", "coll", "exp").type == "annotation"
    experiment = remote.get_experiment("coll", "exp")
    assert (experiment.coord_frame, experiment.num_hierarchy_levels, experiment.hierarchy_method) == (
        "frame1",
        3,
        "anisotropic",
    )
    assert experiment.num_time_samples == 1
    frame = remote.get_coordinate_frame("frame1")
    assert (frame.x_start, frame.x_stop, frame.y_stop, frame.z_stop) == (0, 1000, 800, 50)
    assert (frame.x_voxel_size, frame.z_voxel_size, frame.voxel_unit) == (4, 40, "nanometers")
    iso = remote.get_coordinate_frame("iso")
    assert (iso.y_voxel_size, iso.voxel_unit) == (0.5, "micrometers")
    assert remote.get_project(remote.get_experiment("coll", "isoexp")).hierarchy_method == "isotropic"


def test_project_urls_with_and_without_trailing_slash(boss):
    for path in ("/v1/collection/coll", "/v1/collection/coll/"):
        reply = _get(boss, path)
        assert reply.status_code == 200
        assert reply.json()["experiments"] == ["exp", "isoexp"]
    assert _get(boss, "/v1/coord/frame1/").json()["x_stop"] == 1000


@pytest.mark.parametrize(("datatype", "name"), [("uint8", "img"), ("uint64", "seg")])
def test_cutouts_round_trip(boss, remote, datatype, name):
    channel = remote.get_channel(name, "coll", "exp")
    info = np.iinfo(datatype)
    data = np.random.default_rng(1).integers(1, info.max, size=(5, 40, 600), dtype=datatype, endpoint=True)
    remote.create_cutout(channel, 0, [300, 900], [10, 50], [14, 19], data)
    got = remote.get_cutout(channel, 0, [300, 900], [10, 50], [14, 19], parallel=False)
    assert got.dtype == np.dtype(datatype)
    np.testing.assert_array_equal(got, data)
    whole = boss.array("coll", "exp", name, level=0)
    assert whole.shape == (50, 800, 1000)
    np.testing.assert_array_equal(whole[14:19, 10:50, 300:900], data)
    assert np.count_nonzero(whole) == np.count_nonzero(data)
    assert boss.requests[-2:] == [
        ("POST", f"/v1/cutout/coll/exp/{name}/0/300:900/10:50/14:19/", data.size),
        ("GET", f"/v1/cutout/coll/exp/{name}/0/300:900/10:50/14:19/", data.size),
    ]


def test_unwritten_regions_read_zero_and_set_writes_directly(boss, remote):
    channel = remote.get_channel("img", "coll", "exp")
    assert not remote.get_cutout(channel, 1, [0, 500], [0, 400], [0, 50], parallel=False).any()
    block = np.full((2, 3, 4), 7, dtype=np.uint8)
    boss.set("coll", "exp", "img", 1, 498, 10, 20, block[:, :, :2])
    got = remote.get_cutout(channel, 1, [490, 500], [8, 14], [19, 23], parallel=False)
    assert got[1:3, 2:5, 8:10].tolist() == block[:, :, :2].tolist()
    assert got.sum() == 7 * 12
    assert boss.array("coll", "exp", "img", level=1).shape == (50, 400, 500)


def test_to_black_clears(boss, remote):
    channel = remote.get_channel("img", "coll", "exp")
    remote.create_cutout(channel, 0, [0, 64], [0, 64], [0, 4], np.ones((4, 64, 64), dtype=np.uint8))
    remote.create_cutout_to_black(channel, 0, [16, 32], [0, 64], [1, 3])
    got = remote.get_cutout(channel, 0, [0, 64], [0, 64], [0, 4], parallel=False)
    assert not got[1:3, :, 16:32].any()
    assert got.sum() == 4 * 64 * 64 - 2 * 64 * 16
    assert boss.requests[-2][0:2] == ("PUT", "/v1/cutout/to_black/coll/exp/img/0/16:32/0:64/1:3/")


def test_a_bad_or_missing_token_is_401(boss):
    with pytest.raises(requests.HTTPError) as caught:
        BossRemote({**boss.config, "token": "wrong"}).get_channel("img", "coll", "exp")
    assert caught.value.response.status_code == 401
    assert caught.value.response.json() == {"detail": "Invalid token."}
    missing = _get(boss, "/v1/collection/coll", token=None)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (("img", "nope", "exp"), "Collection nope not found"),
        (("img", "coll", "nope"), "Experiment nope not found"),
        (("nope", "coll", "exp"), "Channel nope not found"),
    ],
)
def test_unknown_resources_are_404(remote, names, message):
    with pytest.raises(requests.HTTPError) as caught:
        remote.get_channel(*names)
    assert caught.value.response.status_code == 404
    assert caught.value.response.json() == {"message": message}


def test_unknown_frame_is_404(remote):
    with pytest.raises(requests.HTTPError) as caught:
        remote.get_coordinate_frame("nope")
    assert caught.value.response.json() == {"message": "Coordinate frame nope not found"}


def test_boxes_outside_the_extent_or_levels_are_400(remote):
    channel = remote.get_channel("img", "coll", "exp")
    for level, x_range in [(0, [900, 1001]), (1, [0, 501]), (3, [0, 10])]:
        with pytest.raises(requests.HTTPError) as caught:
            remote.get_cutout(channel, level, x_range, [0, 10], [0, 1], parallel=False)
        assert caught.value.response.status_code == 400
        assert "detail" in caught.value.response.json()
    with pytest.raises(requests.HTTPError) as caught:
        remote.get_cutout(channel, 0, [5, 5], [0, 10], [0, 1], parallel=False)
    assert "Empty x range" in caught.value.response.json()["detail"]


def test_time_ranges_and_bad_bodies_are_400(boss, remote):
    channel = remote.get_channel("img", "coll", "exp")
    with pytest.raises(requests.HTTPError) as caught:
        remote.get_cutout(channel, 0, [0, 4], [0, 4], [0, 1], time_range=[0, 1], parallel=False)
    assert "Time ranges" in caught.value.response.json()["detail"]
    import blosc

    short = blosc.compress(np.ones(15, dtype=np.uint8).tobytes(), typesize=1)
    reply = requests.post(
        f"http://{boss.host}/v1/cutout/coll/exp/img/0/0:4/0:4/0:1/",
        data=short,
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/blosc"},
        timeout=10,
    )
    assert reply.status_code == 400
    assert "needs 16" in reply.json()["detail"]


def test_over_the_limit_is_413(boss, remote):
    channel = remote.get_channel("seg", "coll", "exp")
    boss.max_request_voxels = 1000
    with pytest.raises(requests.HTTPError) as caught:
        remote.get_cutout(channel, 0, [0, 10], [0, 10], [0, 11], parallel=False)
    assert caught.value.response.status_code == 413
    boss.max_request_voxels = 10**6
    boss.max_request_bytes = 7999
    with pytest.raises(requests.HTTPError) as caught:
        remote.create_cutout(channel, 0, [0, 10], [0, 10], [0, 10], np.ones((10, 10, 10), dtype=np.uint64))
    assert caught.value.response.status_code == 413
    assert remote.get_cutout(channel, 0, [0, 10], [0, 10], [0, 9], parallel=False).shape == (9, 10, 10)


def test_permissions_are_403(remote):
    read_only = remote.get_channel("ro", "coll", "exp")
    assert not remote.get_cutout(read_only, 0, [0, 4], [0, 4], [0, 1], parallel=False).any()
    for call in (
        lambda: remote.create_cutout(read_only, 0, [0, 4], [0, 4], [0, 1], np.ones((1, 4, 4), np.uint8)),
        lambda: remote.create_cutout_to_black(read_only, 0, [0, 4], [0, 4], [0, 1]),
        lambda: remote.get_cutout(remote.get_channel("hidden", "coll", "exp"), 0, [0, 4], [0, 4], [0, 1]),
    ):
        with pytest.raises(requests.HTTPError) as caught:
            call()
        assert caught.value.response.status_code == 403


def test_isotropic_level_extent(remote):
    channel = remote.get_channel("img", "coll", "isoexp")
    assert channel.datatype == "uint16"
    data = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4) + 1
    remote.create_cutout(channel, 1, [497, 501], [397, 400], [24, 26], data)  # ceil(1001/2), ceil(51/2)
    np.testing.assert_array_equal(
        remote.get_cutout(channel, 1, [497, 501], [397, 400], [24, 26], parallel=False), data
    )
    for x_range, z_range in [([0, 502], [0, 1]), ([0, 1], [0, 27])]:
        with pytest.raises(requests.HTTPError) as caught:
            remote.get_cutout(channel, 1, x_range, [0, 1], z_range, parallel=False)
        assert caught.value.response.status_code == 400


def test_a_huge_frame_costs_nothing_until_written(boss, remote):
    boss.add_frame("huge", start=(0, 0, 0), stop=(100_000, 100_000, 1000))
    boss.add_experiment("big", "exp", frame="huge", levels=1)
    boss.add_channel("big", "exp", "seg", datatype="uint64", type="annotation")
    channel = remote.get_channel("seg", "big", "exp")
    data = np.full((2, 2, 2), 2**63 + 5, dtype=np.uint64)
    remote.create_cutout(channel, 0, [99_998, 100_000], [511, 513], [999, 1000], data[:1])
    got = remote.get_cutout(channel, 0, [99_990, 100_000], [500, 520], [990, 1000], parallel=False)
    assert got[-1, 11:13, -2:].tolist() == [[2**63 + 5] * 2] * 2
    assert got.sum(dtype=np.float64) == 4 * float(2**63 + 5)
    assert boss.volume("big", "exp", "seg", 0).cuboid_count == 2


def test_concurrent_requests_are_seen(boss):
    boss.delay = 0.3
    barrier = threading.Barrier(2)
    errors = []

    def fetch():
        try:
            remote = BossRemote(boss.config)
            channel = remote.get_channel("img", "coll", "exp")
            barrier.wait(timeout=10)
            remote.get_cutout(channel, 0, [0, 8], [0, 8], [0, 1], parallel=False)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert boss.most_in_flight >= 2
