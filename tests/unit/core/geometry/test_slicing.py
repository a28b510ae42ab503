"""Unit tests for ``precomputed_core.geometry._slicing.reify_slices``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precomputed_core import Bbox
from precomputed_core.exceptions import GeometryError, OutOfBoundsError
from precomputed_core.geometry._slicing import reify_slices

FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

BOX3 = Bbox((0, 0, 0), (10, 20, 30))
BOX4 = Bbox((0, 0, 0, 0), (10, 20, 30, 3))
OFFSET = Bbox((100, 200, 300), (164, 264, 332))


def _tuples(slices):
    return [(s.start, s.stop, s.step) for s in slices]


# --- open ends, ints, ellipsis ----------------------------------------------


def test_full_colon_fills_from_box():
    assert reify_slices(BOX3, np.s_[:, :, :]) == [slice(0, 10, 1), slice(0, 20, 1), slice(0, 30, 1)]


def test_missing_trailing_axes_are_filled():
    assert reify_slices(BOX3, np.s_[2:4]) == [slice(2, 4, 1), slice(0, 20, 1), slice(0, 30, 1)]


def test_single_slice_object():
    assert reify_slices(BOX3, slice(1, 3)) == [slice(1, 3, 1), slice(0, 20, 1), slice(0, 30, 1)]


def test_half_open_slices():
    assert reify_slices(OFFSET, np.s_[:110, 250:, 310:320]) == [
        slice(100, 110, 1),
        slice(250, 264, 1),
        slice(310, 320, 1),
    ]


def test_int_becomes_one_voxel_slice():
    assert reify_slices(BOX3, 5) == [slice(5, 6, 1), slice(0, 20, 1), slice(0, 30, 1)]
    assert reify_slices(BOX3, (1, 2, 3)) == [slice(1, 2, 1), slice(2, 3, 1), slice(3, 4, 1)]


def test_numpy_ints_and_floats_become_python_ints():
    out = reify_slices(BOX3, (np.int64(4), np.uint8(2), 7.9))
    assert _tuples(out) == [(4, 5, 1), (2, 3, 1), (7, 8, 1)]
    assert all(type(v) is int for s in out for v in (s.start, s.stop, s.step))


def test_numpy_slice_bounds_become_python_ints():
    out = reify_slices(BOX3, np.s_[np.int32(1) : np.int64(3)])
    assert out[0] == slice(1, 3, 1)
    assert type(out[0].start) is int
    assert type(out[0].stop) is int


def test_reified_ends_are_python_ints():
    out = reify_slices(OFFSET, np.s_[:])
    assert all(type(v) is int for s in out for v in (s.start, s.stop, s.step))


def test_ellipsis_alone():
    assert reify_slices(BOX4, Ellipsis) == [
        slice(0, 10, 1),
        slice(0, 20, 1),
        slice(0, 30, 1),
        slice(0, 3, 1),
    ]


def test_ellipsis_in_the_middle():
    assert reify_slices(BOX4, np.s_[2:4, ..., 0]) == [
        slice(2, 4, 1),
        slice(0, 20, 1),
        slice(0, 30, 1),
        slice(0, 1, 1),
    ]


def test_ellipsis_at_start():
    assert reify_slices(BOX4, np.s_[..., 1:3]) == [
        slice(0, 10, 1),
        slice(0, 20, 1),
        slice(0, 30, 1),
        slice(1, 3, 1),
    ]


def test_ellipsis_at_end():
    assert reify_slices(BOX3, np.s_[1, ...]) == [slice(1, 2, 1), slice(0, 20, 1), slice(0, 30, 1)]


def test_ellipsis_that_fills_nothing():
    assert reify_slices(BOX3, np.s_[1, 2, ..., 3]) == [
        slice(1, 2, 1),
        slice(2, 3, 1),
        slice(3, 4, 1),
    ]


def test_list_of_indices():
    assert reify_slices(BOX3, [slice(1, 2), 3]) == [slice(1, 2, 1), slice(3, 4, 1), slice(0, 30, 1)]


def test_bbox_as_index():
    sub = Bbox((1, 2, 3), (4, 5, 6))
    assert reify_slices(BOX3, sub) == [slice(1, 4, 1), slice(2, 5, 1), slice(3, 6, 1)]


def test_positive_steps_are_kept():
    assert reify_slices(BOX3, np.s_[::2, 1:9:3]) == [
        slice(0, 10, 2),
        slice(1, 9, 3),
        slice(0, 30, 1),
    ]


def test_negative_start_is_not_wrapped_when_unbounded():
    # negative coordinates are real coordinates (e.g. a one-voxel border), not from-the-end
    assert reify_slices(BOX3, np.s_[-1:5], bounded=False)[0] == slice(-1, 5, 1)


def test_bbox_method_matches_function():
    assert BOX4.reify_slices(np.s_[1:2, ..., 0]) == reify_slices(BOX4, np.s_[1:2, ..., 0])


# --- extra trailing indices ---------------------------------------------------


def test_extra_trailing_full_slice_is_dropped():
    assert reify_slices(BOX3, np.s_[1:2, :, :, :]) == [
        slice(1, 2, 1),
        slice(0, 20, 1),
        slice(0, 30, 1),
    ]


def test_extra_trailing_single_voxel_slice_is_dropped():
    assert reify_slices(BOX3, np.s_[:, :, :, 0:1]) == [
        slice(0, 10, 1),
        slice(0, 20, 1),
        slice(0, 30, 1),
    ]


def test_extra_trailing_int_is_dropped():
    assert reify_slices(BOX3, np.s_[:, :, :, 0]) == [
        slice(0, 10, 1),
        slice(0, 20, 1),
        slice(0, 30, 1),
    ]


def test_too_many_indices_raise():
    with pytest.raises(GeometryError, match="too many indices") as err:
        reify_slices(BOX3, np.s_[:, :, :, 0:2])
    assert "3-d volume" in str(err.value)


def test_too_many_indices_with_open_start_raise():
    with pytest.raises(GeometryError, match="too many indices"):
        reify_slices(BOX3, np.s_[:, :, :, :4])


# --- errors ----------------------------------------------------------------------


def test_two_ellipses_raise():
    with pytest.raises(GeometryError, match=r"single ellipsis \('\.\.\.'\)"):
        reify_slices(BOX4, (Ellipsis, 0, Ellipsis))


@pytest.mark.parametrize(
    ("index", "axis", "step"),
    [
        (np.s_[::-1], "x", -1),
        (np.s_[:, ::-2], "y", -2),
        (np.s_[:, :, ::0], "z", 0),
        (np.s_[:, :, :, ::-1], "c", -1),
    ],
)
def test_non_positive_step_raises_naming_the_axis(index, axis, step):
    with pytest.raises(GeometryError, match=f"step {step} on axis {axis} is not supported"):
        reify_slices(BOX4, index)


def test_non_positive_step_raises_even_when_unbounded_or_autocropped():
    with pytest.raises(GeometryError, match="step -1 on axis x"):
        reify_slices(BOX3, np.s_[::-1], bounded=False)
    with pytest.raises(GeometryError, match="step 0 on axis x"):
        reify_slices(BOX3, np.s_[::0], autocrop=True)


def test_step_error_is_not_out_of_bounds():
    with pytest.raises(GeometryError) as err:
        reify_slices(BOX3, np.s_[::-1])
    assert not isinstance(err.value, OutOfBoundsError)
    assert isinstance(err.value, ValueError)


def test_bad_index_type_raises():
    with pytest.raises(GeometryError, match="cannot index a volume with str"):
        reify_slices(BOX3, "0:10")
    with pytest.raises(GeometryError, match="cannot index a volume with dict"):
        reify_slices(BOX3, {"x": 1})


def test_bad_item_inside_tuple_raises_naming_the_axis():
    with pytest.raises(GeometryError, match="cannot index axis y with 'a'"):
        reify_slices(BOX3, (0, "a", 0))
    with pytest.raises(GeometryError, match="cannot index axis x with None"):
        reify_slices(BOX3, (None, 0, 0))


# --- bounds -------------------------------------------------------------------------


def test_out_of_bounds_raises_naming_the_range():
    with pytest.raises(OutOfBoundsError) as err:
        reify_slices(BOX3, np.s_[:, :, 0:50])
    msg = str(err.value)
    assert "axis z range 0:50 is outside the volume bounds 0:30" in msg
    assert "bounded=False" in msg
    assert "autocrop=True" in msg


def test_out_of_bounds_below_minimum():
    with pytest.raises(OutOfBoundsError, match="axis x range 99:110 is outside the volume bounds 100:164"):
        reify_slices(OFFSET, np.s_[99:110])


def test_out_of_bounds_int_index():
    with pytest.raises(OutOfBoundsError, match="axis y range 20:21 is outside the volume bounds 0:20"):
        reify_slices(BOX3, np.s_[0, 20, 0])


def test_out_of_bounds_is_value_error_and_geometry_error():
    with pytest.raises(ValueError):
        reify_slices(BOX3, np.s_[-1:5])
    with pytest.raises(GeometryError):
        reify_slices(BOX3, np.s_[-1:5])


def test_upper_edge_is_inclusive_for_stop():
    assert reify_slices(BOX3, np.s_[10:10])[0] == slice(10, 10, 1)


def test_unbounded_allows_anything():
    out = reify_slices(BOX3, np.s_[-5:15, 0:100, -3], bounded=False)
    assert out == [slice(-5, 15, 1), slice(0, 100, 1), slice(-3, -2, 1)]


def test_autocrop_clips_to_box():
    out = reify_slices(BOX3, np.s_[-5:15, 3:100, 10:20], autocrop=True)
    assert out == [slice(0, 10, 1), slice(3, 20, 1), slice(10, 20, 1)]


def test_autocrop_wins_over_bounded():
    out = reify_slices(BOX3, np.s_[-5:15], bounded=True, autocrop=True)
    assert out[0] == slice(0, 10, 1)


def test_autocrop_fully_outside_becomes_empty_slice_at_edge():
    out = reify_slices(OFFSET, np.s_[500:600], autocrop=True)
    assert out[0] == slice(164, 164, 1)
    out = reify_slices(OFFSET, np.s_[0:10], autocrop=True)
    assert out[0] == slice(100, 100, 1)


# --- properties ---------------------------------------------------------------------


@FAST
@given(
    lo=st.integers(-50, 50),
    hi=st.integers(-50, 50),
    size=st.integers(1, 40),
    origin=st.integers(-20, 20),
)
def test_prop_autocrop_result_is_inside_box(lo, hi, size, origin):
    box = Bbox((origin, 0, 0), (origin + size, 1, 1))
    out = reify_slices(box, np.s_[lo:hi], autocrop=True)[0]
    assert origin <= out.start <= origin + size
    assert origin <= out.stop <= origin + size
    assert out.start == min(max(lo, origin), origin + size)
    assert out.stop == min(max(hi, origin), origin + size)


@FAST
@given(
    lo=st.integers(-50, 50),
    hi=st.integers(-50, 50),
    size=st.integers(1, 40),
)
def test_prop_bounded_raises_iff_outside(lo, hi, size):
    box = Bbox((0, 0, 0), (size, 1, 1))
    inside = 0 <= lo <= size and 0 <= hi <= size
    if inside:
        assert reify_slices(box, np.s_[lo:hi])[0] == slice(lo, hi, 1)
    else:
        with pytest.raises(OutOfBoundsError, match=f"axis x range {lo}:{hi}"):
            reify_slices(box, np.s_[lo:hi])


def test_extra_trailing_index_must_select_the_implicit_element():
    box = Bbox((0, 0, 0), (3, 3, 3))
    assert reify_slices(box, np.s_[0:3, 0:3, 0:3, 0]) == [slice(0, 3, 1)] * 3
    assert reify_slices(box, np.s_[0:3, 0:3, 0:3, :]) == [slice(0, 3, 1)] * 3
    with pytest.raises(GeometryError, match="too many indices"):
        reify_slices(box, np.s_[0:3, 0:3, 0:3, 5])
