"""Vec, Bbox, reify_slices and info creation compared directly with cloud-volume.

Known, intentional differences that are *not* compared here:
integer boxes are int64 (cloud-volume int32), Vec/Bbox hashes are tuple
based (cloud-volume's collide), our repr shows ``dtype=np.int64``, our info
carries ``@type``, and compressed_segmentation block sizes are copied into
every mip (cloud-volume writes them into mip 0 only, after the pyramid).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

cloudvolume = pytest.importorskip("cloudvolume")

from cloudvolume import CloudVolume as CV  # noqa: E402, N817
from cloudvolume.datasource.precomputed.metadata import PrecomputedMetadata  # noqa: E402
from cloudvolume.lib import Bbox as CVBbox  # noqa: E402
from cloudvolume.lib import Vec as CVVec  # noqa: E402
from cloudvolume.lib import find_closest_divisor  # noqa: E402

from precomputed_core import Bbox, Vec  # noqa: E402
from precomputed_core.geometry._slicing import reify_slices  # noqa: E402
from precomputed_core.meta._info import add_scale, create_info, scale_key  # noqa: E402

pytestmark = pytest.mark.interop

FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# small enough that cloud-volume's int32 boxes and float32 grid math are exact
coord = st.integers(min_value=-2000, max_value=2000)
point3 = st.tuples(coord, coord, coord)
chunk3 = st.tuples(*[st.integers(min_value=1, max_value=128)] * 3)
offset3 = st.tuples(*[st.integers(min_value=-200, max_value=200)] * 3)


def _ints(values):
    return [int(v) for v in values]


def _box_list(box):
    return [int(v) for v in list(box.minpt) + list(box.maxpt)]


def _slices(slices):
    return [(int(s.start), int(s.stop), int(s.step)) for s in slices]


def _drop_type(info):
    out = copy.deepcopy(info)
    out.pop("@type", None)
    return out


# --- Vec -------------------------------------------------------------------


def test_vec_basics_match():
    for args in [(1, 2, 3), (1.5, 2, 3), (0, 0, 0, 7)]:
        ours, theirs = Vec(*args), CVVec(*args)
        assert ours.tolist() == theirs.tolist()
        assert ours.dtype == theirs.dtype
        assert ours.length() == pytest.approx(theirs.length())
        assert float(ours.rectVolume()) == pytest.approx(float(theirs.rectVolume()))
        assert repr(ours) == repr(theirs)


def test_vec_clamp_matches():
    ours = Vec.clamp(Vec(-5, 5, 50), Vec(0, 0, 0), Vec(10, 10, 10))
    theirs = CVVec.clamp(CVVec(-5, 5, 50), CVVec(0, 0, 0), CVVec(10, 10, 10))
    assert ours.tolist() == theirs.tolist()


# --- chunk grid ---------------------------------------------------------------


@FAST
@given(a=point3, b=point3, chunk=chunk3, offset=offset3)
def test_expand_to_chunk_size_matches(a, b, chunk, offset):
    ours = Bbox(a, b).expand_to_chunk_size(chunk, offset)
    theirs = CVBbox(a, b).expand_to_chunk_size(chunk, offset)
    assert _box_list(ours) == _box_list(theirs)


@FAST
@given(a=point3, b=point3, chunk=chunk3, offset=offset3)
def test_shrink_to_chunk_size_matches(a, b, chunk, offset):
    ours = Bbox(a, b).shrink_to_chunk_size(chunk, offset)
    theirs = CVBbox(a, b).shrink_to_chunk_size(chunk, offset)
    assert _box_list(ours) == _box_list(theirs)


@FAST
@given(a=point3, b=point3, chunk=chunk3, offset=offset3)
def test_round_to_chunk_size_matches(a, b, chunk, offset):
    ours = Bbox(a, b).round_to_chunk_size(chunk, offset)
    theirs = CVBbox(a, b).round_to_chunk_size(chunk, offset)
    assert _box_list(ours) == _box_list(theirs)


@FAST
@given(a=point3, b=point3, chunk=chunk3, offset=offset3)
def test_is_chunk_aligned_matches(a, b, chunk, offset):
    assert Bbox(a, b).is_chunk_aligned(chunk, offset) == bool(CVBbox(a, b).is_chunk_aligned(chunk, offset))


@FAST
@given(a=point3, b=point3, chunk=chunk3)
def test_num_chunks_matches(a, b, chunk):
    assert Bbox(a, b).num_chunks(chunk) == CVBbox(a, b).num_chunks(chunk)


def test_expand_to_chunk_size_fixed_cases_match():
    for a, b, chunk, offset in [
        ((0, 0, 0), (100, 64, 10), (64, 64, 64), (0, 0, 0)),
        ((5, 5, 5), (70, 70, 70), (64, 64, 64), (3, 3, 3)),
        ((-10, -64, -65), (-1, 0, 1), (64, 64, 64), (0, 0, 0)),
        ((1, 2, 3), (4, 5, 6), (128, 128, 16), (-7, 11, 0)),
    ]:
        assert _box_list(Bbox(a, b).expand_to_chunk_size(chunk, offset)) == _box_list(
            CVBbox(a, b).expand_to_chunk_size(chunk, offset)
        )


# --- set operations ---------------------------------------------------------------


@FAST
@given(a1=point3, a2=point3, b1=point3, b2=point3)
def test_intersection_and_intersects_match(a1, a2, b1, b2):
    ours = Bbox.intersection(Bbox(a1, a2), Bbox(b1, b2))
    theirs = CVBbox.intersection(CVBbox(a1, a2), CVBbox(b1, b2))
    assert _box_list(ours) == _box_list(theirs)
    assert Bbox.intersects(Bbox(a1, a2), Bbox(b1, b2)) == bool(
        CVBbox.intersects(CVBbox(a1, a2), CVBbox(b1, b2))
    )


@FAST
@given(a1=point3, a2=point3, b1=point3, b2=point3)
def test_expand_clamp_contains_overlaps_match(a1, a2, b1, b2):
    a, b, ca, cb = Bbox(a1, a2), Bbox(b1, b2), CVBbox(a1, a2), CVBbox(b1, b2)
    assert _box_list(Bbox.expand(a, b)) == _box_list(CVBbox.expand(ca, cb))
    assert _box_list(Bbox.clamp(a, b)) == _box_list(CVBbox.clamp(ca, cb))
    assert a.contains_bbox(b) == bool(ca.contains_bbox(cb))
    assert a.overlaps_bbox(b) == bool(ca.overlaps_bbox(cb))
    assert a.contains(b1) == bool(ca.contains(np.asarray(b1)))


@FAST
@given(a=point3, b=point3)
def test_size_volume_center_match(a, b):
    ours, theirs = Bbox(a, b), CVBbox(a, b)
    assert ours.size().tolist() == theirs.size().tolist()
    assert ours.volume() == theirs.volume()
    assert ours.center().tolist() == theirs.center().tolist()
    assert bool(ours.empty()) == bool(theirs.empty())
    assert bool(ours.subvoxel()) == bool(theirs.subvoxel())


# --- names and conversions -------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "0-64_0-64_0-64",
        "0-64_0-64_0-64.gz",
        "128-192_64-128_10-20.br",
        "-64-0_-5--3_0-1.zstd",
        "gs://bucket/layer/4_4_40/1024-1088_0-64_0-64",
    ],
)
def test_from_filename_matches(name):
    assert _box_list(Bbox.from_filename(name)) == _box_list(CVBbox.from_filename(name))


@FAST
@given(a=point3, b=point3)
def test_to_filename_matches(a, b):
    assert Bbox(a, b).to_filename() == CVBbox(a, b).to_filename()


def test_float_to_filename_with_precision_matches():
    a, b = (0.123, 1.5, 2.0), (1.987, 3.25, 4.0)
    ours = Bbox(a, b).to_filename(precision=2)
    theirs = CVBbox(a, b, dtype=np.float64).to_filename(precision=2)
    assert ours == theirs


@FAST
@given(a=point3, b=point3)
def test_to_slices_to_list_to_dict_match(a, b):
    ours, theirs = Bbox(a, b), CVBbox(a, b)
    assert ours.to_slices() == theirs.to_slices()
    assert ours.to_list() == [int(v) for v in theirs.to_list()]
    d_ours, d_theirs = ours.to_dict(), theirs.to_dict()
    assert d_ours["minpt"] == d_theirs["minpt"]
    assert d_ours["maxpt"] == d_theirs["maxpt"]


def test_from_slices_and_from_points_match():
    slices = np.s_[0:10, 2:4, 5:6]
    assert _box_list(Bbox.from_slices(slices)) == _box_list(CVBbox.from_slices(slices))
    points = [[0.5, 1.2, 3.0], [2.7, 0.0, 1.0], [9.9, 4.4, 0.1]]
    assert _box_list(Bbox.from_points(points)) == _box_list(CVBbox.from_points(points))


def test_arithmetic_matches_for_integer_boxes():
    ours, theirs = Bbox((2, 4, 6), (8, 10, 12)), CVBbox((2, 4, 6), (8, 10, 12))
    assert _box_list(ours + 3) == _box_list(theirs + 3)
    assert _box_list(ours - Vec(1, 2, 3)) == _box_list(theirs - CVVec(1, 2, 3))
    assert _box_list(ours * 2) == _box_list(theirs * 2)
    assert _box_list(ours // 4) == _box_list(theirs // 4)
    # not compared: cloud-volume's int box / 4 truncates back to int32 (its
    # astype clones with the old dtype); ours gives the true quotient


def test_adjust_grow_shrink_match():
    ours, theirs = Bbox((5, 5, 5), (20, 20, 20)), CVBbox((5, 5, 5), (20, 20, 20))
    assert _box_list(ours.clone().grow(3)) == _box_list(theirs.clone().grow(3))
    assert _box_list(ours.clone().shrink(2)) == _box_list(theirs.clone().shrink(2))
    assert _box_list(ours.clone().adjust((1, 2, 3))) == _box_list(theirs.clone().adjust((1, 2, 3)))


# --- reify_slices ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        5,
        np.int64(3),
        Ellipsis,
        slice(2, 7),
        np.s_[:, :, :],
        np.s_[1:3, ..., 5],
        np.s_[..., 4],
        np.s_[2, 3],
        np.s_[2, 3, 4],
        np.s_[::2, 1:19:3],
        np.s_[:, :, :, :],
        np.s_[:, :, :, 0:1],
    ],
)
def test_reify_slices_matches(index):
    minpt, maxpt = (0, 0, 0), (10, 20, 30)
    ours = reify_slices(Bbox(minpt, maxpt), index)
    theirs = CVBbox(minpt, maxpt).reify_slices(index)
    assert _slices(ours) == _slices(theirs)


@pytest.mark.parametrize("index", [np.s_[-5:15, 3:100, 10:20], np.s_[100:200], np.s_[..., 2]])
def test_reify_slices_autocrop_matches(index):
    ours = reify_slices(Bbox((0, 0, 0), (10, 20, 30)), index, autocrop=True)
    theirs = CVBbox((0, 0, 0), (10, 20, 30)).reify_slices(index, autocrop=True)
    assert _slices(ours) == _slices(theirs)


def test_reify_slices_with_offset_box_matches():
    index = np.s_[110:120, ..., 305]
    ours = reify_slices(Bbox((100, 200, 300), (164, 264, 332)), index)
    theirs = CVBbox((100, 200, 300), (164, 264, 332)).reify_slices(index)
    assert _slices(ours) == _slices(theirs)


def test_reify_slices_both_refuse_out_of_bounds():
    with pytest.raises(ValueError):
        CVBbox((0, 0, 0), (10, 10, 10)).reify_slices(np.s_[0:11])
    with pytest.raises(ValueError):
        reify_slices(Bbox((0, 0, 0), (10, 10, 10)), np.s_[0:11])


# --- info: keys, create_new_info, add_scale --------------------------------------------------


@pytest.mark.parametrize(
    "resolution",
    [
        [4, 4, 40],
        [8, 8, 8],
        [4.5, 4, 40],
        [4.0, 4.0, 40.0],
        [0.25, 0.25, 1],
        np.array([16, 16, 16]),
        np.array([3.5, 3.5, 30.0]),
    ],
)
def test_scale_key_matches_create_new_info(resolution):
    theirs = CV.create_new_info(1, "image", "uint8", "raw", resolution, [0, 0, 0], [64, 64, 64])
    assert scale_key(resolution) == theirs["scales"][0]["key"]
    ours = create_info(1, "image", "uint8", "raw", resolution, [0, 0, 0], [64, 64, 64])
    assert ours["scales"][0]["key"] == theirs["scales"][0]["key"]
    assert ours["scales"][0]["resolution"] == theirs["scales"][0]["resolution"]


def test_scale_key_int_resolution_is_4_4_40():
    theirs = CV.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [64, 64, 64])
    assert theirs["scales"][0]["key"] == "4_4_40"
    assert scale_key([4, 4, 40]) == "4_4_40"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_mip": 3},
        {"max_mip": 2, "factor": (2, 2, 2)},
        {"max_mip": 2, "chunk_size": (128, 128, 16)},
        # redirect is not compared: CloudVolume.create_new_info drops it on the way
        # to PrecomputedMetadata.create_info
        {"mesh": True, "skeletons": "sk"},
    ],
)
@pytest.mark.parametrize(
    ("resolution", "offset", "size"),
    [
        ([4, 4, 40], [0, 0, 0], [1024, 1024, 100]),
        ([4, 4, 40], [3, 7, 11], [1025, 513, 101]),
        ([4.5, 4, 40], [-3, -7, 0], [1001, 999, 77]),
    ],
)
def test_create_info_matches_create_new_info(kwargs, resolution, offset, size):
    ours = create_info(1, "image", "uint8", "raw", resolution, offset, size, **kwargs)
    theirs = CV.create_new_info(1, "image", "uint8", "raw", resolution, offset, size, **kwargs)
    assert ours["@type"] == "neuroglancer_multiscale_volume"
    assert _drop_type(ours) == theirs


def test_create_info_compressed_segmentation_mip0_matches():
    ours = create_info(1, "segmentation", "uint64", "compressed_segmentation", [8, 8, 8],
                       [0, 0, 0], [256, 256, 256], max_mip=2)  # fmt: skip
    theirs = CV.create_new_info(1, "segmentation", "uint64", "compressed_segmentation",
                                [8, 8, 8], [0, 0, 0], [256, 256, 256], max_mip=2)  # fmt: skip
    assert ours["scales"][0] == theirs["scales"][0]
    for mine, cv in zip(ours["scales"][1:], theirs["scales"][1:]):
        # cloud-volume writes a tuple (8, 8, 8) into the higher mips; values agree
        assert mine["compressed_segmentation_block_size"] == list(cv["compressed_segmentation_block_size"])
        for field in ("key", "size", "voxel_offset", "chunk_sizes", "resolution", "encoding"):
            assert mine[field] == cv[field]


@pytest.mark.parametrize("factor", [(2, 2, 1), (2, 2, 2), (4, 4, 1), (8, 8, 2), (1, 1, 2), (3, 3, 1)])
@pytest.mark.parametrize(
    ("resolution", "offset", "size"),
    [
        ([4, 4, 40], [0, 0, 0], [1024, 1024, 100]),
        ([4, 4, 40], [3, 7, 11], [1025, 513, 101]),
        ([4, 4, 40], [-3, -7, -11], [1025, 513, 101]),
        ([6, 6, 30], [1001, 333, 5], [4097, 2049, 17]),
        ([4.5, 4, 40], [5, 5, 5], [99, 99, 99]),
    ],
)
def test_add_scale_matches_cloudvolume(factor, resolution, offset, size, capsys):
    ours_info = create_info(1, "image", "uint8", "raw", resolution, offset, size)
    theirs_info = CV.create_new_info(1, "image", "uint8", "raw", resolution, offset, size)
    ours = add_scale(ours_info, factor)
    theirs = PrecomputedMetadata.add_scale(None, factor, info=theirs_info)
    capsys.readouterr()  # cloud-volume prints a warning for non-power-of-two factors
    for field in ("key", "size", "voxel_offset", "chunk_sizes", "resolution", "encoding"):
        assert ours[field] == theirs[field], field
    assert len(ours_info["scales"]) == len(theirs_info["scales"]) == 2


def test_add_scale_replacing_an_existing_mip_matches():
    ours_info = create_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [512, 512, 64], max_mip=2)
    theirs_info = CV.create_new_info(
        1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [512, 512, 64], max_mip=2
    )
    add_scale(ours_info, (2, 2, 1), encoding="jpeg")
    PrecomputedMetadata.add_scale(None, (2, 2, 1), encoding="jpeg", info=theirs_info)
    assert _drop_type(ours_info) == theirs_info


@pytest.mark.parametrize(
    "chunk",
    [
        (64, 64, 64),
        (128, 128, 16),
        (96, 100, 1000),
        (7, 1, 3),
        (256, 512, 1024),
        (60, 72, 80),
        (1, 2, 1023),
        (126, 130, 200),
    ],
)
def test_add_scale_default_chunk_size_matches(chunk):
    ours_info = create_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [2048, 2048, 2048],
                            chunk_size=chunk)  # fmt: skip
    theirs_info = CV.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0],
                                     [2048, 2048, 2048], chunk_size=chunk)  # fmt: skip
    ours = add_scale(ours_info, (2, 2, 1))
    theirs = PrecomputedMetadata.add_scale(None, (2, 2, 1), info=theirs_info)
    assert ours["chunk_sizes"] == theirs["chunk_sizes"]


def test_closest_divisor_matches_find_closest_divisor_up_to_1024():
    from precomputed_core.meta._info import _closest_divisor

    # 127 is a tie (1 and 127 are both 63 away from 64): cloud-volume keeps the
    # first divisor it meets (1), we keep the larger (127). It is the only
    # chunk size up to 1024 where the two differ.
    mismatched = [
        n for n in range(1, 1025) if _closest_divisor(n, 64) != int(find_closest_divisor([n], [64])[0])
    ]
    assert mismatched == [127]


def test_create_info_redirect_matches_metadata_create_info():
    args = (1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [512, 512, 64])
    ours = create_info(*args, chunk_size=(64, 64, 64), max_mip=1, redirect="gs://b/new")
    theirs = PrecomputedMetadata.create_info(*args, chunk_size=(64, 64, 64), max_mip=1,
                                             redirect="gs://b/new")  # fmt: skip
    assert theirs["redirect"] == "gs://b/new"
    assert _drop_type(ours) == theirs


@FAST
@given(
    lo=st.lists(st.integers(0, 5000), min_size=3, max_size=3),
    extent=st.lists(st.integers(1, 5000), min_size=3, max_size=3),
    res=st.sampled_from([(4, 4, 40), (8, 8, 8), (16, 16, 45)]),
)
def test_nm_to_voxel_conversion_matches_cloudvolume(lo, extent, res):
    hi = [a + b for a, b in zip(lo, extent)]
    ours = Bbox(lo, hi, unit="nm").convert_units("vx", res)
    theirs = CVBbox(lo, hi, unit="nm").convert_units("vx", res)
    assert ours.to_list() == [int(v) for v in theirs.to_list()]


def test_float_voxel_boxes_read_like_cloudvolume(tmp_path):
    from precomputed_core import CloudVolume

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [32, 32, 32])
    ours = CloudVolume(f"file://{tmp_path}/l", info=info, progress=False, fill_missing=True)
    ours.commit_info()
    ours[:] = np.arange(32**3, dtype=np.uint32).reshape(32, 32, 32).astype(np.uint8)
    theirs = CV(f"file://{tmp_path}/l", progress=False)
    for box in [((0.5, 0, 0), (10.5, 10, 10)), ((0.2, 0.7, 0), (9.9, 10, 10.5))]:
        a, b = ours.download(Bbox(*box)), theirs.download(CVBbox(*box))
        assert a.bounds.to_list() == [int(v) for v in b.bounds.to_list()]
        np.testing.assert_array_equal(a, b)
