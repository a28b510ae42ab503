"""``precomputed_core.lib``: cloud-volume's ``cloudvolume.lib`` names, checked against it too."""

from __future__ import annotations

import json

import numpy as np
import pytest

from precomputed_core import Bbox, Vec, lib


def test_bbox_and_vec_are_ours():
    assert lib.Bbox is Bbox
    assert lib.Vec is Vec


def test_sequence_helpers():
    assert lib.nvl(None, 0, 3) == 0
    assert lib.nvl(None, None) is None
    assert lib.first([4, 5]) == 4
    assert lib.first({9}) == 9
    assert lib.first(x for x in [7, 8]) == 7
    assert lib.first([]) is None
    assert lib.first(iter(())) is None
    assert list(lib.sip(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert lib.toiter("abc") == ["abc"]
    assert lib.toiter({"a": 1}) == [{"a": 1}]
    assert lib.toiter(5, is_iter=True) == ([5], False)
    assert lib.toiter([1, 2], is_iter=True) == ([1, 2], True)
    assert lib.duplicates([1, 2, 2, 3, 3, 3]) == {2, 3}
    assert [list(part) for part in lib.scatter([0, 1, 2, 3, 4], 2)] == [[0, 2, 4], [1, 3]]
    assert lib.totalfn([1, 2], None) == 2
    assert lib.totalfn(iter([1]), None) is None
    assert lib.totalfn([], 9) == 9


def test_arithmetic_helpers():
    assert sorted(lib.divisors(36)) == [1, 2, 3, 4, 6, 9, 12, 18, 36]
    assert all(isinstance(d, int) for d in lib.divisors(258))
    assert lib.find_closest_divisor((128, 240, 73), (64, 64, 64)) == [64, 60, 73]
    assert lib.clamp(12, 0, 10) == 10
    assert lib.max2(Vec(1, 5, 3), Vec(4, 2, 3)).tolist() == [4, 5, 3]
    assert lib.min2(np.array([1, 5]), np.array([4, 2])).tolist() == [1, 2]
    with pytest.raises(ValueError, match="lengths do not match"):
        lib.map2(max, [1, 2], [1])
    with pytest.raises(lib.OutOfBoundsError, match="index=2"):
        lib.check_bounds(11, 0, 10, 2)
    assert lib.floating([1, 2.0]) is True
    assert lib.floating([1, 2]) is False
    grid = [v.tolist() for v in lib.xyzrange((2, 2, 1))]
    assert grid == [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]
    assert [v.tolist() for v in lib.xyzrange((0, 0, 0), (1, 1, 1.0), (0.5, 1, 1))] == [
        [0.0, 0, 0],
        [0.5, 0, 0],
    ]
    assert lib.moving_average(np.array([1.0, 2.0, 3.0]), 1).tolist() == [1.0, 2.0, 3.0]
    smooth = lib.moving_average(np.arange(10, dtype=float), 3)
    assert smooth.shape == (10,)
    assert smooth[5] == pytest.approx(4.0)  # the mean of samples 3, 4 and 5
    with pytest.raises(ValueError, match="window size"):
        lib.moving_average(np.arange(3.0), 0)


def test_text_and_file_helpers(tmp_path):
    assert lib.jsonify({"z": np.int32(5), "x": np.arange(3, dtype=np.uint64), "f": np.float32(0.5)},
                       sort_keys=True) == '{"f": 0.5, "x": [0, 1, 2], "z": 5}'  # fmt: skip
    assert lib.red("x") == "\033[1;91mx\033[m"
    assert lib.green("x").endswith("x\033[m")
    assert lib.yellow("x").startswith("\033[1;93m")
    name = lib.generate_random_string(8)
    assert len(name) == 8
    assert name.isalnum()
    made = lib.mkdir(str(tmp_path / "a" / "b"))
    assert made == str(tmp_path / "a" / "b")
    assert lib.mkdir(made) == made  # again: fine
    lib.touch(str(tmp_path / "c" / "f.txt"))
    assert (tmp_path / "c" / "f.txt").read_bytes() == b""
    assert json.loads(lib.jsonify([np.float64(1.5)])) == [1.5]


@pytest.fixture
def cvlib():
    """cloud-volume's module (the interop oracle; the interop session installs it)."""
    import cloudvolume.lib

    return cloudvolume.lib


@pytest.mark.interop
def test_helpers_agree_with_cloudvolume(cvlib):
    for n in (1, 36, 128, 258, 997):
        assert sorted(lib.divisors(n)) == sorted(int(d) for d in cvlib.divisors(n))
    for size in ((128, 128, 128), (240, 224, 73), (1000, 17, 96)):
        assert lib.find_closest_divisor(size, (64, 64, 64)) == cvlib.find_closest_divisor(size, (64, 64, 64))
    for args in (((3, 2, 2),), ((1, 1, 1), (4, 3, 2)), ((0, 0, 0), (2, 2, 2), (1, 2, 1))):
        assert [v.tolist() for v in lib.xyzrange(*args)] == [v.tolist() for v in cvlib.xyzrange(*args)]
    for items in ([1, 2], "ab", {"a": 1}, 5, (x for x in [1])):
        ours, theirs = lib.toiter(items, True), cvlib.toiter(items, True)
        assert ours[1] == theirs[1]
    obj = {"x": [np.array([1, 2], np.uint64)], "y": np.float32(0.25), "z": np.int16(3)}
    assert lib.jsonify(obj, sort_keys=True) == cvlib.jsonify(obj, sort_keys=True)
    assert list(lib.sip(range(7), 3)) == list(cvlib.sip(range(7), 3))
    assert lib.colorize("red", "a") == cvlib.colorize("red", "a")
    wave = np.sin(np.linspace(0, 6, 40))
    for n in (1, 2, 5):
        np.testing.assert_allclose(lib.moving_average(wave, n), cvlib.moving_average(wave, n))
    pts = np.stack([wave, wave * 2], axis=1)
    np.testing.assert_allclose(lib.moving_average(pts, 4), cvlib.moving_average(pts, 4))
