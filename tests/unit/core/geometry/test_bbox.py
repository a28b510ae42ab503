"""Unit tests for ``precomputed_core.geometry._bbox.Bbox``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precomputed_core import Bbox, Vec
from precomputed_core.exceptions import GeometryError, OutOfBoundsError

FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# --- strategies ----------------------------------------------------------------

coord = st.integers(min_value=-5000, max_value=5000)
point3 = st.tuples(coord, coord, coord)
chunk3 = st.tuples(*[st.integers(min_value=1, max_value=128)] * 3)
offset3 = st.tuples(*[st.integers(min_value=-300, max_value=300)] * 3)


@st.composite
def boxes(draw):
    a = draw(point3)
    b = draw(point3)
    return Bbox(a, b)


def _aligned(values, chunk, offset):
    return all((v - o) % c == 0 for v, c, o in zip(values, chunk, offset))


# --- construction -----------------------------------------------------------------


def test_corners_are_sorted_per_axis():
    box = Bbox((10, 0, 5), (0, 10, 2))
    assert box.minpt.tolist() == [0, 0, 2]
    assert box.maxpt.tolist() == [10, 10, 5]


def test_integer_box_is_int64():
    box = Bbox((0, 0, 0), (1, 2, 3))
    assert box.dtype == np.dtype(np.int64)
    assert box.minpt.dtype == np.int64
    assert box.maxpt.dtype == np.int64
    assert box.unit == "vx"


def test_float_box_is_float64():
    box = Bbox((0.5, 0, 0), (1, 2, 3))
    assert box.dtype == np.dtype(np.float64)
    assert box.minpt.tolist() == [0.5, 0.0, 0.0]


def test_numpy_array_corners():
    box = Bbox(np.array([1, 2, 3]), np.array([4, 5, 6]))
    assert box.to_list() == [1, 2, 3, 4, 5, 6]
    assert box.dtype == np.int64
    fbox = Bbox(np.array([1.0, 2.0, 3.0]), np.array([4, 5, 6]))
    assert fbox.dtype == np.float64


def test_explicit_dtype_and_unit():
    box = Bbox((0, 0, 0), (1, 2, 3), dtype=np.float32, unit="nm")
    assert box.dtype == np.dtype(np.float32)
    assert box.minpt.dtype == np.float32
    assert box.unit == "nm"
    assert box.is_physical is True
    assert Bbox((0, 0, 0), (1, 1, 1)).is_physical is False


def test_corner_length_mismatch_raises():
    with pytest.raises(GeometryError, match="differ in length"):
        Bbox((0, 0), (1, 1, 1))


def test_a_shape_with_channels_gives_the_xyz_box():
    # cloud-volume's idiom: Bbox((0, 0, 0), image.shape) with an (x, y, z, c) image.
    box = Bbox((0, 0, 0), (100, 100, 50, 1))
    assert box.minpt.tolist() == [0, 0, 0]
    assert box.maxpt.tolist() == [100, 100, 50]


def test_petascale_coordinates_do_not_overflow():
    big = 2**33
    box = Bbox((0, 0, 0), (big, 2, 2))
    assert box.maxpt.tolist() == [big, 2, 2]
    assert box.volume() == big * 4


def test_four_dimensional_box():
    box = Bbox((0, 0, 0, 0), (10, 20, 30, 3))
    assert box.ndim == 4
    assert box.size().tolist() == [10, 20, 30, 3]
    assert box.size3().tolist() == [10, 20, 30]
    assert box.volume() == 6000


# --- alternate constructors ----------------------------------------------------------


def test_from_delta():
    box = Bbox.from_delta((1, 2, 3), (10, 10, 10))
    assert box.to_list() == [1, 2, 3, 11, 12, 13]


def test_from_list():
    assert Bbox.from_list([1, 2, 3, 4, 5, 6]).to_list() == [1, 2, 3, 4, 5, 6]
    assert Bbox.from_list([0, 0, 5, 5]).to_list() == [0, 0, 5, 5]


def test_from_vec():
    box = Bbox.from_vec(Vec(4, 5, 6))
    assert box.to_list() == [0, 0, 0, 4, 5, 6]
    assert box.dtype == np.int64


def test_from_dict_and_to_dict_round_trip():
    box = Bbox((1, 2, 3), (4, 5, 6))
    d = box.to_dict()
    assert d == {"minpt": [1, 2, 3], "maxpt": [4, 5, 6], "dtype": "int64"}
    assert Bbox.from_dict(d) == box
    assert Bbox.from_dict(d).dtype == np.int64


def test_from_dict_without_dtype_infers_it():
    assert Bbox.from_dict({"minpt": [0, 0, 0], "maxpt": [1, 1, 1]}).dtype == np.int64
    assert Bbox.from_dict({"minpt": [0.5, 0, 0], "maxpt": [1, 1, 1]}).dtype == np.float64


def test_serialize_deserialize_round_trip():
    box = Bbox((1.5, 2, 3), (4, 5, 6.25))
    text = box.serialize()
    assert json.loads(text) == {
        "minpt": [1.5, 2.0, 3.0],
        "maxpt": [4.0, 5.0, 6.25],
        "dtype": "float64",
    }
    back = Bbox.deserialize(text)
    assert back == box
    assert back.dtype == np.float64


def test_from_points_floors_and_adds_one():
    box = Bbox.from_points([[0.5, 1.2, 3], [2.7, 0, 1]])
    assert box.to_list() == [0, 0, 1, 3, 2, 4]
    assert box.dtype == np.int64


def test_from_points_negative_fractions_floor_down():
    box = Bbox.from_points(np.array([[-0.5, 0, 0], [1, 1, 1]]))
    assert box.minpt.tolist() == [-1, 0, 0]
    assert box.maxpt.tolist() == [2, 2, 2]


def test_from_filename_plain_and_compressed():
    assert Bbox.from_filename("0-64_64-128_5-10").to_list() == [0, 64, 5, 64, 128, 10]
    for ext in (".gz", ".br", ".zstd"):
        assert Bbox.from_filename(f"0-64_0-64_0-64{ext}").to_list() == [0, 0, 0, 64, 64, 64]


def test_from_filename_uses_basename():
    box = Bbox.from_filename("gs://bucket/layer/4_4_40/128-192_0-64_10-20")
    assert box.to_list() == [128, 0, 10, 192, 64, 20]


def test_from_filename_negative_coordinates():
    assert Bbox.from_filename("-64-0_-5--3_0-1").to_list() == [-64, -5, 0, 0, -3, 1]


def test_from_filename_float_names():
    box = Bbox.from_filename("0.5-1.5_0-1_0-1", dtype=np.float64)
    assert box.minpt.tolist() == [0.5, 0.0, 0.0]
    assert box.maxpt.tolist() == [1.5, 1.0, 1.0]


def test_from_filename_float_name_with_a_single_decimal_point():
    # '0.5-1_0-1_0-1' matches the chunk-name pattern; os.path.splitext takes
    # '.5-1_0-1_0-1' for an extension, so the root '0' has no '.', the values
    # are parsed with int() and int('0.5') raises a bare ValueError.
    box = Bbox.from_filename("0.5-1_0-1_0-1", dtype=np.float64)
    assert box.minpt.tolist() == [0.5, 0.0, 0.0]
    assert box.maxpt.tolist() == [1.0, 1.0, 1.0]


def test_from_filename_bad_name_raises():
    with pytest.raises(GeometryError, match="cannot read a bounding box from the file name 'info'"):
        Bbox.from_filename("info")
    with pytest.raises(GeometryError, match="0-64_0-64"):
        Bbox.from_filename("0-64_0-64")


def test_to_filename():
    assert Bbox((0, 2, 4), (1, 3, 5)).to_filename() == "0-1_2-3_4-5"
    assert Bbox((-5, 0, 0), (5, 1, 1)).to_filename() == "-5-5_0-1_0-1"


def test_to_filename_float_precision():
    box = Bbox((0.123, 1, 2), (1.987, 3, 4))
    assert box.to_filename(precision=2) == "0.12-1.99_1.00-3.00_2.00-4.00"
    assert box.to_filename() == "0.123-1.987_1.0-3.0_2.0-4.0"


def test_filename_round_trip():
    box = Bbox((64, 128, 0), (128, 192, 64))
    assert Bbox.from_filename(box.to_filename()) == box


def test_to_slices_and_to_list():
    box = Bbox((1, 2, 3), (4, 5, 6))
    assert box.to_slices() == (slice(1, 4), slice(2, 5), slice(3, 6))
    assert all(type(s.start) is int and type(s.stop) is int for s in box.to_slices())
    assert box.to_list() == [1, 2, 3, 4, 5, 6]


def test_from_slices():
    box = Bbox.from_slices(np.s_[0:10, 2:4, 5:6])
    assert box.to_list() == [0, 2, 5, 10, 4, 6]
    assert box.unit == "vx"


def test_from_slices_single_slice():
    assert Bbox.from_slices(slice(3, 7)).to_list() == [3, 7]


def test_from_slices_inverted_collapses_to_start():
    assert Bbox.from_slices(np.s_[5:2, 0:1, 0:1]).to_list() == [5, 0, 0, 5, 1, 1]


def test_from_slices_step_raises():
    with pytest.raises(GeometryError, match="step 2"):
        Bbox.from_slices(np.s_[0:10:2, 0:10, 0:10])


def test_from_slices_with_context_fills_open_ends_and_keeps_unit():
    ctx = Bbox((0, 0, 0), (100, 200, 300), unit="nm")
    box = Bbox.from_slices(np.s_[10:20, :, 5], context=ctx)
    assert box.to_list() == [10, 0, 5, 20, 200, 6]
    assert box.unit == "nm"


def test_from_slices_with_context_bounded_raises():
    ctx = Bbox((0, 0, 0), (10, 10, 10))
    with pytest.raises(OutOfBoundsError, match="axis x range 0:20"):
        Bbox.from_slices(np.s_[0:20, :, :], context=ctx, bounded=True)


def test_from_slices_with_context_autocrop():
    ctx = Bbox((0, 0, 0), (10, 10, 10))
    box = Bbox.from_slices(np.s_[-5:20, 2:3, :], context=ctx, autocrop=True)
    assert box.to_list() == [0, 2, 0, 10, 3, 10]


# --- Bbox.create ------------------------------------------------------------------


def test_create_passes_a_bbox_through():
    box = Bbox((0, 0, 0), (1, 1, 1))
    assert Bbox.create(box) is box


def test_create_from_six_ints():
    assert Bbox.create([1, 2, 3, 4, 5, 6]).to_list() == [1, 2, 3, 4, 5, 6]
    assert Bbox.create(tuple(np.arange(6))).to_list() == [0, 1, 2, 3, 4, 5]


def test_create_from_slices_vec_string_dict():
    assert Bbox.create(np.s_[0:2, 0:3, 0:4]).to_list() == [0, 0, 0, 2, 3, 4]
    assert Bbox.create(Vec(2, 3, 4)).to_list() == [0, 0, 0, 2, 3, 4]
    assert Bbox.create("0-2_0-3_0-4").to_list() == [0, 0, 0, 2, 3, 4]
    assert Bbox.create({"minpt": [0, 0, 0], "maxpt": [2, 3, 4]}).to_list() == [0, 0, 0, 2, 3, 4]


def test_create_unconvertible_raises():
    with pytest.raises(GeometryError, match="float cannot be converted to a Bbox"):
        Bbox.create(3.5)
    with pytest.raises(GeometryError, match="ndarray cannot be converted"):
        Bbox.create(np.array([1, 2, 3]))


def test_create_bounded_out_of_context_raises():
    ctx = Bbox((0, 0, 0), (10, 10, 10))
    with pytest.raises(OutOfBoundsError, match="outside the volume bounds"):
        Bbox.create([0, 0, 0, 11, 5, 5], context=ctx, bounded=True)


def test_create_bounded_inside_context_ok():
    ctx = Bbox((0, 0, 0), (10, 10, 10))
    assert Bbox.create([0, 0, 0, 10, 5, 5], context=ctx, bounded=True).to_list() == [
        0,
        0,
        0,
        10,
        5,
        5,
    ]


def test_create_autocrop_intersects_with_context():
    ctx = Bbox((0, 0, 0), (10, 10, 10))
    box = Bbox.create([-5, 2, 3, 15, 5, 20], context=ctx, autocrop=True)
    assert box.to_list() == [0, 2, 3, 10, 5, 10]


# --- properties ------------------------------------------------------------------


def test_dx_dy_dz_size_volume_center():
    box = Bbox((1, 2, 3), (11, 22, 33))
    assert (int(box.dx), int(box.dy), int(box.dz)) == (10, 20, 30)
    assert box.size().tolist() == [10, 20, 30]
    assert box.size().dtype == np.int64
    assert box.volume() == 6000
    assert isinstance(box.volume(), int)
    assert box.center().tolist() == [6.0, 12.0, 18.0]
    assert box.center().dtype == np.float64


def test_volume_float_box():
    box = Bbox((0.0, 0, 0), (0.5, 2, 4))
    assert box.volume() == pytest.approx(4.0)
    assert isinstance(box.volume(), float)


def test_volume_exact_for_huge_boxes():
    box = Bbox((0, 0, 0), (2**30, 2**30, 2**30))
    assert box.volume() == 2**90


def test_valid_empty_subvoxel():
    assert Bbox((0, 0, 0), (1, 1, 1)).valid() is True
    # empty()/subvoxel() return numpy bools for valid boxes (as cloud-volume does)
    assert bool(Bbox((0, 0, 0), (1, 1, 1)).empty()) is False
    assert bool(Bbox((0, 0, 0), (0, 5, 5)).empty()) is True
    assert bool(Bbox((0, 0, 0), (1, 1, 1)).subvoxel()) is False
    assert bool(Bbox((0.0, 0, 0), (0.5, 1, 1)).subvoxel()) is True
    assert bool(Bbox((0.0, 0, 0), (0.5, 1, 1)).empty()) is False


def test_valid_false_for_hand_inverted_box():
    box = Bbox((0, 0, 0), (5, 5, 5))
    box.minpt = Vec(6, 0, 0)
    assert box.valid() is False
    assert box.empty() is True
    assert box.subvoxel() is True


# --- set operations ------------------------------------------------------------------


def test_intersection_overlapping():
    a = Bbox((0, 0, 0), (10, 10, 10))
    b = Bbox((5, -5, 2), (20, 7, 8))
    assert Bbox.intersection(a, b).to_list() == [5, 0, 2, 10, 7, 8]


def test_intersection_disjoint_is_all_zero():
    a = Bbox((0, 0, 0), (10, 10, 10))
    b = Bbox((20, 20, 20), (30, 30, 30))
    out = Bbox.intersection(a, b)
    assert out.to_list() == [0, 0, 0, 0, 0, 0]
    assert out.dtype == np.int64


def test_intersection_touching_faces_is_empty():
    a = Bbox((0, 0, 0), (10, 10, 10))
    b = Bbox((10, 0, 0), (20, 10, 10))
    assert Bbox.intersects(a, b) is False
    assert Bbox.intersection(a, b).to_list() == [0, 0, 0, 0, 0, 0]


def test_intersects():
    a = Bbox((0, 0, 0), (10, 10, 10))
    assert Bbox.intersects(a, Bbox((9, 9, 9), (11, 11, 11))) is True
    assert Bbox.intersects(a, Bbox((9, 9, 10), (11, 11, 11))) is False


def test_intersection_keeps_first_unit():
    a = Bbox((0, 0, 0), (10, 10, 10), unit="nm")
    b = Bbox((5, 5, 5), (20, 20, 20), unit="nm")
    assert Bbox.intersection(a, b).unit == "nm"


def test_near_edge():
    a = Bbox((0, 0, 0), (10, 10, 10))
    assert Bbox.near_edge(a, Bbox((0, 3, 3), (5, 5, 5))) is True
    assert Bbox.near_edge(a, Bbox((2, 2, 2), (8, 8, 8))) is False
    assert Bbox.near_edge(a, Bbox((2, 2, 2), (8, 8, 8)), distance=2) is True


def test_expand_is_hull():
    out = Bbox.expand(Bbox((0, 0, 0), (1, 1, 1)), Bbox((5, -2, 3), (6, 0, 9)), Bbox((2, 2, 2), (3, 3, 3)))
    assert out.to_list() == [0, -2, 0, 6, 3, 9]
    assert out.dtype == np.int64


def test_clamp():
    out = Bbox.clamp(Bbox((-5, 2, 3), (15, 8, 30)), Bbox((0, 0, 0), (10, 10, 10)))
    assert out.to_list() == [0, 2, 3, 10, 8, 10]


def test_contains_is_inclusive_of_both_corners():
    box = Bbox((0, 0, 0), (10, 10, 10))
    assert box.contains((0, 0, 0)) is True
    assert box.contains((10, 10, 10)) is True
    assert box.contains(Vec(5, 5, 5)) is True
    assert box.contains((10, 10, 11)) is False
    assert box.contains((-1, 0, 0)) is False


def test_contains_bbox():
    box = Bbox((0, 0, 0), (10, 10, 10))
    assert box.contains_bbox(Bbox((0, 0, 0), (10, 10, 10))) is True
    assert box.contains_bbox(Bbox((1, 1, 1), (5, 5, 5))) is True
    assert box.contains_bbox(Bbox((1, 1, 1), (5, 5, 11))) is False


def test_overlaps_bbox_is_inclusive():
    box = Bbox((0, 0, 0), (10, 10, 10))
    assert box.overlaps_bbox(Bbox((10, 10, 10), (20, 20, 20))) is True
    assert box.overlaps_bbox(Bbox((11, 0, 0), (20, 20, 20))) is False


# --- chunk grid --------------------------------------------------------------------------


def test_expand_to_chunk_size():
    box = Bbox((0, 0, 0), (100, 64, 10))
    assert box.expand_to_chunk_size((64, 64, 64)).to_list() == [0, 0, 0, 128, 64, 64]


def test_expand_to_chunk_size_with_offset():
    box = Bbox((5, 5, 5), (70, 70, 70))
    out = box.expand_to_chunk_size((64, 64, 64), offset=(3, 3, 3))
    assert out.to_list() == [3, 3, 3, 131, 131, 131]


def test_expand_to_chunk_size_negative_coordinates():
    box = Bbox((-10, -64, -65), (-1, 0, 1))
    assert box.expand_to_chunk_size((64, 64, 64)).to_list() == [-64, -64, -128, 0, 0, 64]


def test_expand_to_chunk_size_keeps_dtype_and_unit():
    box = Bbox((1, 1, 1), (2, 2, 2), unit="nm")
    out = box.expand_to_chunk_size((4, 4, 4))
    assert out.dtype == np.int64
    assert out.unit == "nm"


def test_expand_to_chunk_size_exact_for_huge_coordinates():
    # float32 arithmetic (cloud-volume) loses precision here; ours is exact integer math
    lo = 2**40 + 3
    box = Bbox((lo, 0, 0), (lo + 1, 1, 1))
    out = box.expand_to_chunk_size((64, 64, 64))
    assert out.to_list() == [2**40, 0, 0, 2**40 + 64, 64, 64]


def test_expand_to_chunk_size_float_box():
    box = Bbox((0.5, 0, 0), (63.5, 64, 65))
    out = box.expand_to_chunk_size((64, 64, 64))
    assert out.to_list() == [0.0, 0.0, 0.0, 64.0, 64.0, 128.0]
    assert out.dtype == np.float64


def test_shrink_to_chunk_size():
    box = Bbox((10, 0, 1), (200, 128, 129))
    assert box.shrink_to_chunk_size((64, 64, 64)).to_list() == [64, 0, 64, 192, 128, 128]


def test_shrink_to_chunk_size_with_offset():
    box = Bbox((0, 0, 0), (100, 100, 100))
    out = box.shrink_to_chunk_size((32, 32, 32), offset=(10, 10, 10))
    assert out.to_list() == [10, 10, 10, 74, 74, 74]


def test_shrink_to_chunk_size_inside_one_chunk_collapses_to_a_point():
    box = Bbox((10, 10, 10), (20, 20, 20))
    out = box.shrink_to_chunk_size((64, 64, 64))
    assert out.to_list() == [64, 64, 64, 64, 64, 64]


def test_round_to_chunk_size():
    box = Bbox((10, 40, 95), (100, 90, 97))
    assert box.round_to_chunk_size((64, 64, 64)).to_list() == [0, 64, 64, 128, 64, 128]


def test_round_to_chunk_size_ties_round_half_to_even():
    # numpy rounding, as in cloud-volume: 0.5 -> 0 and 1.5 -> 2
    box = Bbox((32, 96, 0), (32, 96, 0))
    assert box.round_to_chunk_size((64, 64, 64)).to_list() == [0, 128, 0, 0, 128, 0]


def test_is_chunk_aligned():
    assert Bbox((0, 0, 0), (64, 128, 64)).is_chunk_aligned((64, 64, 64)) is True
    assert Bbox((0, 0, 0), (64, 100, 64)).is_chunk_aligned((64, 64, 64)) is False
    assert Bbox((3, 3, 3), (67, 67, 67)).is_chunk_aligned((64, 64, 64), (3, 3, 3)) is True
    assert Bbox((3, 3, 3), (67, 67, 67)).is_chunk_aligned((64, 64, 64)) is False


@pytest.mark.parametrize("method", ["expand_to_chunk_size", "shrink_to_chunk_size", "round_to_chunk_size"])
@pytest.mark.parametrize("chunk", [(0, 64, 64), (64, -1, 64)])
def test_chunk_methods_refuse_non_positive_chunk(method, chunk):
    box = Bbox((0, 0, 0), (10, 10, 10))
    with pytest.raises(GeometryError, match="chunk size must be positive"):
        getattr(box, method)(chunk)


def test_num_chunks():
    assert Bbox((0, 0, 0), (100, 64, 10)).num_chunks((64, 64, 64)) == 2
    assert Bbox((0, 0, 0), (129, 129, 129)).num_chunks((64, 64, 64)) == 27
    assert Bbox((0, 0, 0), (0, 64, 64)).num_chunks((64, 64, 64)) == 0


# --- mutation -----------------------------------------------------------------------


def test_adjust_grows_in_place_and_returns_self():
    box = Bbox((5, 5, 5), (10, 10, 10))
    out = box.adjust(2)
    assert out is box
    assert box.to_list() == [3, 3, 3, 12, 12, 12]


def test_adjust_per_axis():
    box = Bbox((5, 5, 5), (10, 10, 10))
    box.adjust((1, 2, 0))
    assert box.to_list() == [4, 3, 5, 11, 12, 10]


def test_grow_and_shrink():
    box = Bbox((5, 5, 5), (10, 10, 10))
    assert box.grow(1).to_list() == [4, 4, 4, 11, 11, 11]
    assert box.shrink(2).to_list() == [6, 6, 6, 9, 9, 9]
    assert box.shrink((1, 0, 0)).to_list() == [7, 6, 6, 8, 9, 9]
    assert box.dtype == np.int64
    assert box.minpt.dtype == np.int64


def test_shrink_negative_raises():
    box = Bbox((5, 5, 5), (10, 10, 10))
    with pytest.raises(GeometryError, match="non-negative amount"):
        box.shrink(-1)
    with pytest.raises(GeometryError, match="non-negative amount"):
        box.shrink((1, -1, 0))


def test_shrink_past_zero_raises_and_leaves_box_untouched():
    box = Bbox((5, 5, 5), (10, 10, 10))
    with pytest.raises(GeometryError, match="it would be inverted"):
        box.shrink(3)
    assert box.to_list() == [5, 5, 5, 10, 10, 10]


def test_shrink_to_zero_volume_allowed():
    box = Bbox((5, 5, 5), (10, 11, 12))
    box.shrink((2, 3, 3))
    assert box.to_list() == [7, 8, 8, 8, 8, 9]


def test_clone_is_independent():
    box = Bbox((0, 0, 0), (5, 5, 5), unit="nm")
    c = box.clone()
    assert c == box
    assert c is not box
    assert c.unit == "nm"
    c.minpt[0] = 3
    assert box.minpt.tolist() == [0, 0, 0]


def test_astype():
    box = Bbox((0.5, 1.7, 2), (3.2, 4, 5), unit="nm")
    out = box.astype(np.int64)
    assert out.dtype == np.int64
    assert out.to_list() == [0, 1, 2, 3, 4, 5]
    assert out.unit == "nm"
    assert box.dtype == np.float64


def test_transpose():
    box = Bbox((1, 2, 3), (4, 5, 6), unit="um")
    out = box.transpose()
    assert out.to_list() == [3, 2, 1, 6, 5, 4]
    assert out.unit == "um"
    assert out.dtype == np.int64


# --- arithmetic ------------------------------------------------------------------------


def test_add_sub_scalar_and_vector():
    box = Bbox((0, 0, 0), (10, 10, 10))
    assert (box + 1).to_list() == [1, 1, 1, 11, 11, 11]
    assert (box - Vec(1, 2, 3)).to_list() == [-1, -2, -3, 9, 8, 7]
    assert (box + 1).dtype == np.int64
    assert box.to_list() == [0, 0, 0, 10, 10, 10]


def test_add_sub_bbox_adds_corners():
    a = Bbox((0, 0, 0), (10, 10, 10))
    b = Bbox((1, 2, 3), (4, 5, 6))
    assert (a + b).to_list() == [1, 2, 3, 14, 15, 16]
    assert (a - b).to_list() == [-1, -2, -3, 6, 5, 4]


def test_mul_and_div():
    box = Bbox((2, 4, 6), (8, 10, 12))
    assert (box * 2).to_list() == [4, 8, 12, 16, 20, 24]
    assert (box * 2).dtype == np.int64
    half = box / 4
    assert half.to_list() == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert half.dtype == np.float64
    floor = box // 4
    assert floor.to_list() == [0, 1, 1, 2, 2, 3]
    assert floor.dtype == np.int64


def test_mul_by_float_makes_float_box():
    out = Bbox((1, 1, 1), (3, 3, 3)) * 0.5
    assert out.dtype == np.float64
    assert out.to_list() == [0.5, 0.5, 0.5, 1.5, 1.5, 1.5]


def test_mul_keeps_unit():
    assert (Bbox((1, 1, 1), (3, 3, 3), unit="nm") * 2).unit == "nm"


def test_inplace_operators_mutate_self():
    box = Bbox((0, 0, 0), (10, 10, 10))
    ref = box
    box += 5
    assert box is ref
    assert box.to_list() == [5, 5, 5, 15, 15, 15]
    box -= Vec(5, 0, 0)
    assert box.to_list() == [0, 5, 5, 10, 15, 15]
    box *= 2
    assert box.to_list() == [0, 10, 10, 20, 30, 30]
    box //= 3
    assert box.to_list() == [0, 3, 3, 6, 10, 10]
    assert box is ref
    box /= 2
    assert box is ref
    assert box.dtype == np.float64
    assert box.to_list() == [0.0, 1.5, 1.5, 3.0, 5.0, 5.0]


# --- equality, hash, repr ------------------------------------------------------------


def test_equality():
    assert Bbox((0, 0, 0), (1, 1, 1)) == Bbox((0, 0, 0), (1, 1, 1))
    assert Bbox((0, 0, 0), (1, 1, 1)) != Bbox((0, 0, 0), (1, 1, 2))
    assert Bbox((0, 0, 0), (1, 1, 1)) != Bbox((0, 0, 0), (1, 1, 1), unit="nm")
    # values decide, not dtype
    assert Bbox((0, 0, 0), (1, 1, 1)) == Bbox((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))


def test_equality_with_other_types_is_false():
    box = Bbox((0, 0, 0), (1, 1, 1))
    assert (box == 5) is False
    assert (box != 5) is True
    assert (box == "0-1_0-1_0-1") is False


def test_hash_consistent_with_equality():
    a = Bbox((0, 0, 0), (1, 1, 1))
    b = Bbox((0, 0, 0), (1, 1, 1))
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert hash(Bbox((0, 0, 0), (1, 1, 1))) == hash(Bbox((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)))


def test_hash_does_not_collide_on_digit_concatenation():
    # cloud-volume hashes int(''.join(digits)): these two collide there
    a = Bbox((1, 2, 3), (12, 3, 45))
    b = Bbox((12, 3, 4), (12, 3, 45))
    assert hash(a) != hash(b)
    assert len({a, b}) == 2


def test_hash_includes_unit():
    assert len({Bbox((0, 0, 0), (1, 1, 1)), Bbox((0, 0, 0), (1, 1, 1), unit="nm")}) == 2


def test_repr():
    assert repr(Bbox((0, 0, 0), (128, 64, 64))) == (
        "Bbox([0, 0, 0],[128, 64, 64], dtype=np.int64, unit='vx')"
    )
    assert repr(Bbox((0.5, 0, 0), (1, 1, 1), unit="nm")) == (
        "Bbox([0.5, 0.0, 0.0],[1.0, 1.0, 1.0], dtype=np.float64, unit='nm')"
    )


# --- unit conversion -----------------------------------------------------------------


def test_convert_vx_to_vx_is_a_clone():
    box = Bbox((0, 0, 0), (10, 10, 10))
    out = box.convert_units("vx")
    assert out == box
    assert out is not box


def test_convert_vx_to_nm():
    out = Bbox((1, 2, 3), (10, 10, 10)).convert_units("nm", resolution=(4, 4, 40))
    assert out.unit == "nm"
    assert out.dtype == np.int64  # integral resolution: an integer box stays integer, as in cloud-volume
    assert out.to_list() == [4, 8, 120, 40, 40, 400]
    half = Bbox((1, 2, 3), (10, 10, 10)).convert_units("nm", resolution=(4.5, 4, 40))
    assert half.dtype == np.float64
    assert half.to_list() == [4.5, 8.0, 120.0, 45.0, 40.0, 400.0]


def test_convert_units_keeps_a_float_boxs_dtype():
    box = Bbox((1.5, 2, 3), (10, 10, 10), dtype=np.float32)
    nm = box.convert_units("nm", resolution=(4, 4, 40))
    assert nm.dtype == np.float32
    assert nm.to_list() == [6.0, 8.0, 120.0, 40.0, 40.0, 400.0]
    um = nm.convert_units("um")
    assert um.dtype == np.float32
    assert um.to_list() == pytest.approx([0.006, 0.008, 0.12, 0.04, 0.04, 0.4])


def test_convert_vx_to_um_scales_by_unit():
    out = Bbox((0, 0, 0), (10, 10, 10)).convert_units("um", resolution=(4, 4, 40))
    assert out.unit == "um"
    assert out.to_list() == pytest.approx([0.0, 0.0, 0.0, 0.04, 0.04, 0.4])


def test_convert_nm_to_vx_rounds_both_corners_down_like_cloudvolume():
    box = Bbox((2.0, 4.0, 30.0), (9.0, 8.0, 81.0), unit="nm")
    out = box.convert_units("vx", resolution=(4, 4, 40))
    assert out.unit == "vx"
    assert out.dtype == np.int64
    assert out.to_list() == [0, 1, 0, 2, 2, 2]


def test_convert_physical_to_physical():
    # An integer box becomes float32, as cloud-volume's; a float box keeps its dtype.
    out = Bbox((0, 0, 0), (1, 2, 3), unit="um").convert_units("nm")
    assert out.unit == "nm"
    assert out.dtype == np.float32
    assert out.to_list() == pytest.approx([0, 0, 0, 1000, 2000, 3000])
    exact = Bbox((0, 0, 0), (1, 2, 3), dtype=np.float64, unit="nm").convert_units("um")
    assert exact.dtype == np.float64
    assert exact.maxpt.tolist() == [0.001, 0.002, 0.003]


def test_in_place_arithmetic_updates_the_corner_vectors():
    box = Bbox((1, 1, 1), (10, 10, 10), dtype=np.float32)
    corner = box.minpt
    box /= 3.0
    third = np.float32(1) / np.float32(3)
    assert np.all(corner == third)
    assert box.dtype == np.float32
    grown = Bbox((1, 1, 1), (4, 4, 4))
    lo = grown.minpt
    grown /= 2  # int64 cannot hold the halves: the box becomes float, lo stays
    assert grown.dtype == np.float64
    assert lo.tolist() == [1, 1, 1]
    assert grown.minpt.tolist() == [0.5, 0.5, 0.5]


def test_vec_reductions_are_numpy_scalars():
    same = Vec(1, 1, 1, dtype=np.float32) == np.float32(1)
    assert repr(same) == "Vec(True,True,True, dtype=bool)"
    reduced = np.all(same)
    assert not isinstance(reduced, Vec)
    assert bool(reduced) is True
    assert repr(np.sum(Vec(1, 2, 3))) in ("6", "np.int64(6)")


def test_convert_um_to_nm_is_exact_for_whole_numbers():
    # 4 um is exactly 4000 nm; 1e-6 / 1e-9 == 999.9999999999999 in floating point
    out = Bbox((0, 0, 0), (4, 4, 4), unit="um").convert_units("nm")
    assert out.maxpt.tolist() == [4000.0, 4000.0, 4000.0]


def test_convert_um_to_vx_lower_corner_on_a_voxel_boundary():
    # 4 um at 4 nm voxels is voxel 1000 exactly; floor(999.9999999999999) gives 999
    box = Bbox((4, 4, 4), (8, 8, 8), unit="um")
    out = box.convert_units("vx", resolution=(4, 4, 4))
    assert out.to_list() == [1000, 1000, 1000, 2000, 2000, 2000]


def test_convert_unknown_unit_raises():
    with pytest.raises(GeometryError, match="unknown unit 'furlong'"):
        Bbox((0, 0, 0), (1, 1, 1)).convert_units("furlong")
    with pytest.raises(GeometryError, match="unknown unit 'parsec'"):
        Bbox((0, 0, 0), (1, 1, 1), unit="parsec").convert_units("vx")


# --- reify_slices method delegates ---------------------------------------------------


def test_reify_slices_method():
    box = Bbox((0, 0, 0), (10, 20, 30))
    assert box.reify_slices(np.s_[2:4, :, 5]) == [slice(2, 4, 1), slice(0, 20, 1), slice(5, 6, 1)]
    with pytest.raises(OutOfBoundsError):
        box.reify_slices(np.s_[0:11])
    assert box.reify_slices(np.s_[0:11], bounded=False)[0] == slice(0, 11, 1)


# --- properties (hypothesis) ---------------------------------------------------------------


@FAST
@given(box=boxes(), chunk=chunk3, offset=offset3)
def test_prop_expand_contains_is_aligned_and_minimal(box, chunk, offset):
    out = box.expand_to_chunk_size(chunk, offset)
    assert out.dtype == np.int64
    assert out.contains_bbox(box)
    assert _aligned(out.minpt.tolist(), chunk, offset)
    assert _aligned(out.maxpt.tolist(), chunk, offset)
    # minimal: one chunk less on any face would no longer contain the box
    for i in range(3):
        assert out.minpt[i] <= box.minpt[i] < out.minpt[i] + chunk[i]
        assert out.maxpt[i] - chunk[i] < box.maxpt[i] <= out.maxpt[i]
    assert out.is_chunk_aligned(chunk, offset)


@FAST
@given(box=boxes(), chunk=chunk3, offset=offset3)
def test_prop_expand_is_idempotent(box, chunk, offset):
    once = box.expand_to_chunk_size(chunk, offset)
    assert once.expand_to_chunk_size(chunk, offset) == once


@FAST
@given(box=boxes(), chunk=chunk3, offset=offset3)
def test_prop_shrink_is_inside_and_aligned(box, chunk, offset):
    out = box.shrink_to_chunk_size(chunk, offset)
    assert _aligned(out.minpt.tolist(), chunk, offset)
    assert _aligned(out.maxpt.tolist(), chunk, offset)
    assert out.valid()
    collapsed = out.minpt.tolist() == out.maxpt.tolist()
    if not collapsed:
        assert box.contains_bbox(out)
        # maximal: one more chunk on any face would leave the box
        for i in range(3):
            assert out.minpt[i] - chunk[i] < box.minpt[i] <= out.minpt[i]
            assert out.maxpt[i] <= box.maxpt[i] < out.maxpt[i] + chunk[i]


@FAST
@given(box=boxes(), chunk=chunk3, offset=offset3)
def test_prop_shrink_inside_expand(box, chunk, offset):
    small = box.shrink_to_chunk_size(chunk, offset)
    big = box.expand_to_chunk_size(chunk, offset)
    if small.minpt.tolist() != small.maxpt.tolist():
        assert big.contains_bbox(small)


@FAST
@given(box=boxes(), chunk=chunk3, offset=offset3)
def test_prop_round_is_aligned_and_within_half_a_chunk(box, chunk, offset):
    out = box.round_to_chunk_size(chunk, offset)
    assert _aligned(out.minpt.tolist(), chunk, offset)
    assert _aligned(out.maxpt.tolist(), chunk, offset)
    for i in range(3):
        assert abs(int(out.minpt[i]) - int(box.minpt[i])) * 2 <= chunk[i]
        assert abs(int(out.maxpt[i]) - int(box.maxpt[i])) * 2 <= chunk[i]


@FAST
@given(a=boxes(), b=boxes())
def test_prop_intersection_commutative_and_contained(a, b):
    ab = Bbox.intersection(a, b)
    ba = Bbox.intersection(b, a)
    assert ab == ba
    assert Bbox.intersects(a, b) == Bbox.intersects(b, a)
    if Bbox.intersects(a, b):
        assert a.contains_bbox(ab)
        assert b.contains_bbox(ab)
        assert ab.valid()
        if a.volume() > 0 and b.volume() > 0:
            assert ab.volume() > 0
    else:
        assert ab.to_list() == [0, 0, 0, 0, 0, 0]


@FAST
@given(a=boxes(), b=boxes())
def test_prop_expand_hull_contains_both(a, b):
    hull = Bbox.expand(a, b)
    assert hull.contains_bbox(a)
    assert hull.contains_bbox(b)
    assert hull == Bbox.expand(b, a)


@FAST
@given(box=boxes(), chunk=chunk3)
def test_prop_num_chunks_matches_grid_count(box, chunk):
    size = box.size().tolist()
    expected = 1
    for s, c in zip(size, chunk):
        expected *= -(-s // c)
    assert box.num_chunks(chunk) == expected


@FAST
@given(box=boxes())
def test_prop_filename_and_serialize_round_trip(box):
    assert Bbox.from_filename(box.to_filename()) == box
    assert Bbox.deserialize(box.serialize()) == box
    assert Bbox.from_list(box.to_list()) == box
    assert Bbox.from_slices(box.to_slices()) == box


def test_intersection_dtype_is_symmetric():
    ints = Bbox((0, 0, 0), (10, 10, 10))
    floats = Bbox((0.5, 0.5, 0.5), (5.5, 5.5, 5.5))
    assert Bbox.intersection(ints, floats) == Bbox.intersection(floats, ints)
    assert Bbox.intersection(ints, floats).minpt.tolist() == [0.5, 0.5, 0.5]


def test_floor_division_gives_an_integer_box_like_cloudvolume():
    box = Bbox((1.5, 3.0, 9.9), (4.5, 6.0, 10.1)) // 2
    assert box.dtype == np.dtype(np.int64)
    assert box.to_list() == [0, 1, 4, 2, 3, 5]
