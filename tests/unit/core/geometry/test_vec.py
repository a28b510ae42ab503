"""Unit tests for ``precomputed_core.geometry._vec.Vec``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from precomputed_core import Vec

# --- construction and dtype -------------------------------------------------


def test_integer_components_are_int64():
    v = Vec(1, 2, 3)
    assert v.dtype == np.int64
    assert v.tolist() == [1, 2, 3]
    assert v.shape == (3,)


def test_any_float_component_makes_float64():
    v = Vec(1.5, 2, 3)
    assert v.dtype == np.float64
    assert v.tolist() == [1.5, 2.0, 3.0]


def test_numpy_float_scalar_makes_float64():
    v = Vec(np.float32(0.5), 1)
    assert v.dtype == np.float64
    assert v.tolist() == [0.5, 1.0]


def test_numpy_int_scalars_stay_integer():
    v = Vec(np.int32(7), np.uint8(3), 2)
    assert v.dtype == np.int64
    assert v.tolist() == [7, 3, 2]


def test_explicit_dtype_wins():
    v = Vec(1, 2, 3, dtype=np.float32)
    assert v.dtype == np.float32
    assert v.tolist() == [1.0, 2.0, 3.0]
    w = Vec(1.9, 2.2, dtype=np.int64)
    assert w.dtype == np.int64
    assert w.tolist() == [1, 2]


def test_four_components_and_empty_vector():
    assert Vec(1, 2, 3, 4).shape == (4,)
    empty = Vec()
    assert empty.shape == (0,)
    assert empty.tolist() == []


def test_is_a_numpy_ndarray_subclass():
    v = Vec(1, 2, 3)
    assert isinstance(v, np.ndarray)
    assert isinstance(v, Vec)


def test_large_int64_values_do_not_overflow():
    big = 2**40
    v = Vec(big, 1, 1)
    assert v.tolist() == [big, 1, 1]
    assert (v * 2).tolist() == [2**41, 2, 2]


# --- accessors ----------------------------------------------------------------


def test_xyzw_accessors_read():
    v = Vec(10, 20, 30, 40)
    assert (int(v.x), int(v.y), int(v.z), int(v.w)) == (10, 20, 30, 40)


def test_rgba_aliases_read():
    v = Vec(10, 20, 30, 40)
    assert (int(v.r), int(v.g), int(v.b), int(v.a)) == (10, 20, 30, 40)


def test_accessors_write_in_place():
    v = Vec(1, 2, 3, 4)
    v.x = 7
    v.y = 8
    v.z = 9
    v.w = 10
    assert v.tolist() == [7, 8, 9, 10]
    v.r = 0
    assert v.tolist() == [0, 8, 9, 10]


def test_w_on_three_vector_raises_indexerror():
    with pytest.raises(IndexError):
        _ = Vec(1, 2, 3).w


# --- arithmetic stays numpy-like ----------------------------------------------


def test_arithmetic_elementwise():
    a = Vec(1, 2, 3)
    b = Vec(4, 5, 6)
    assert (a + b).tolist() == [5, 7, 9]
    assert (b - a).tolist() == [3, 3, 3]
    assert (a * b).tolist() == [4, 10, 18]
    assert (b // a).tolist() == [4, 2, 2]
    assert (a / 2).tolist() == [0.5, 1.0, 1.5]


def test_arithmetic_result_is_vec():
    assert isinstance(Vec(1, 2, 3) + 1, Vec)
    assert isinstance(Vec(1, 2, 3)[:2], Vec)
    assert Vec(1, 2, 3)[:2].tolist() == [1, 2]


def test_equality_is_elementwise():
    assert (Vec(1, 2, 3) == Vec(1, 5, 3)).tolist() == [True, False, True]


# --- methods -------------------------------------------------------------------


def test_clamp_component_wise():
    out = Vec.clamp(Vec(-5, 5, 50), Vec(0, 0, 0), Vec(10, 10, 10))
    assert isinstance(out, Vec)
    assert out.tolist() == [0, 5, 10]
    assert out.dtype == np.int64


def test_clamp_accepts_plain_sequences_and_floats():
    out = Vec.clamp([0.5, 20.0, -3.0], [1, 1, 1], [10, 10, 10])
    assert out.dtype == np.float64
    assert out.tolist() == [1.0, 10.0, 1.0]


def test_clone_is_independent_copy_with_same_dtype():
    v = Vec(1, 2, 3, dtype=np.float32)
    c = v.clone()
    assert isinstance(c, Vec)
    assert c.dtype == np.float32
    assert c.tolist() == [1.0, 2.0, 3.0]
    c[0] = 99
    assert v.tolist() == [1.0, 2.0, 3.0]


def test_dot_length2_length():
    v = Vec(3, 4, 12)
    assert v.dot(Vec(1, 1, 1)) == 19
    assert v.dot([2, 0, 0]) == 6
    assert v.length2() == 169
    assert v.length() == 13.0
    assert isinstance(v.length(), float)


def test_null():
    assert bool(Vec(0, 0, 0).null()) is True
    assert bool(Vec(0.0, 1e-9, 0.0).null()) is True
    assert bool(Vec(0, 0, 1).null()) is False
    assert bool(Vec(1e-3, 0.0, 0.0).null()) is False


def test_rect_volume_integer_is_exact_python_int():
    v = Vec(2, 3, 4)
    assert v.rectVolume() == 24
    # int64 would overflow here; the product must stay exact
    huge = Vec(2**31, 2**31, 2**31)
    assert huge.rectVolume() == 2**93


def test_rect_volume_float():
    assert Vec(1.5, 2.0, 4.0).rectVolume() == pytest.approx(12.0)
    assert Vec(0.5, 0.5).rectVolume() == 0.25


# --- hash and repr ---------------------------------------------------------------


def test_hash_matches_tuple_hash():
    assert hash(Vec(1, 2, 3)) == hash((1, 2, 3))


def test_hash_does_not_collide_on_digit_concatenation():
    # cloud-volume joined the digits: (1, 23) and (12, 3) both hashed to 123.
    assert hash(Vec(1, 23)) != hash(Vec(12, 3))
    assert hash(Vec(1, 2, 34)) != hash(Vec(12, 3, 4))


def test_hash_equal_for_equal_values():
    assert hash(Vec(4, 5, 6)) == hash(Vec(4, 5, 6))
    assert hash(Vec(4.0, 5.0, 6.0)) == hash(Vec(4, 5, 6))


def test_hash_works_with_negative_values():
    # cloud-volume's int(''.join(...)) fails on ('-1', '-2'); ours must not.
    assert hash(Vec(-1, -2, 3)) == hash((-1, -2, 3))


def test_usable_as_dict_key_by_hash():
    d = {hash(Vec(1, 2, 3)): "a"}
    assert d[hash(Vec(1, 2, 3))] == "a"


def test_repr():
    assert repr(Vec(1, 2, 3)) == "Vec(1,2,3, dtype=int64)"
    assert repr(Vec(1.5, 2, 3)) == "Vec(1.5,2.0,3.0, dtype=float64)"
    assert repr(Vec(1, 2, dtype=np.float32)) == "Vec(1.0,2.0, dtype=float32)"


def test_length_of_float_vector():
    assert math.isclose(Vec(1.0, 1.0).length(), math.sqrt(2.0))
