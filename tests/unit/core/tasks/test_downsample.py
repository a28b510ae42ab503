"""vol.downsample: new scales computed from the one below, checked against numpy references."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import ScaleUnavailableError

pytest.importorskip("tinybrain", reason="the downsample extra (in .[test])")


def _mean_reference(image, factor, offset):
    """Mean over each factor-block of the absolute grid, rounded toward zero for integer types;
    ``offset`` is the image's voxel offset. A block reaching outside the volume repeats the
    nearest voxel inside, so an edge block is the mean of what it holds inside when its
    outside part is one voxel wide (as tinybrain treats odd edges)."""
    factor = np.asarray(factor)
    lo = (np.asarray(offset) // factor) * factor
    pad_before = np.asarray(offset) - lo
    total = pad_before + np.asarray(image.shape[:3])
    hi = -(-total // factor) * factor
    pad_after = hi - total
    widths = [(int(b), int(a)) for b, a in zip(pad_before, pad_after)] + [(0, 0)] * (image.ndim - 3)
    padded = np.pad(image.astype(np.float64), widths, mode="edge")
    x, y, z = (hi // factor).tolist()
    blocks = padded.reshape(x, factor[0], y, factor[1], z, factor[2], *image.shape[3:])
    mean = blocks.mean(axis=(1, 3, 5))
    if np.issubdtype(image.dtype, np.integer):
        mean = np.trunc(mean)
    return mean.astype(image.dtype), tuple(int(v) for v in (np.asarray(offset) // factor))


def _mode_reference(image, factor):
    """Most frequent label of each (aligned, whole) factor-block."""
    x, y, z = (np.asarray(image.shape[:3]) // np.asarray(factor)).tolist()
    blocks = image[: x * factor[0], : y * factor[1], : z * factor[2]].reshape(
        x, factor[0], y, factor[1], z, factor[2]
    )
    blocks = blocks.transpose(0, 2, 4, 1, 3, 5).reshape(x, y, z, -1)
    out = np.empty((x, y, z), dtype=image.dtype)
    for index in np.ndindex(x, y, z):
        values, counts = np.unique(blocks[index], return_counts=True)
        out[index] = values[np.argmax(counts)]
    return out


def _image_layer(tmp_path, size=(64, 48, 20), offset=(0, 0, 0), dtype="uint8", chunk=(16, 16, 8)):
    info = CloudVolume.create_new_info(1, "image", dtype, "raw", [4, 4, 40], offset, size, chunk_size=chunk)
    vol = CloudVolume(f"file://{tmp_path}/img", info=info, progress=False)
    vol.commit_info()
    x, y, z = np.meshgrid(*(np.arange(s) for s in size), indexing="ij")
    smooth = (100 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0) + 2 * z).astype(dtype)
    vol[:, :, :] = smooth
    return vol, smooth


@pytest.mark.parametrize("factor", [(2, 2, 1), (2, 2, 2)])
def test_images_are_averaged_over_several_mips(tmp_path, factor):
    vol, smooth = _image_layer(tmp_path)
    new = vol.downsample(num_mips=2, factor=factor)
    assert new == [1, 2]
    level1, _ = _mean_reference(smooth[..., np.newaxis], factor, (0, 0, 0))
    # each mip is the mean of the source voxels under it (tinybrain keeps the sums between
    # mips, so mip 2 is not rounded twice)
    level2, _ = _mean_reference(smooth[..., np.newaxis], tuple(f * f for f in factor), (0, 0, 0))
    again = CloudVolume(vol.cloudpath, progress=False)
    assert again.info["scales"][1]["resolution"] == [4 * factor[0], 4 * factor[1], 40 * factor[2]]
    np.testing.assert_array_equal(again.download(again.meta.bounds(1), mip=1), level1)
    np.testing.assert_array_equal(again.download(again.meta.bounds(2), mip=2), level2)


def test_an_offset_volume_of_odd_size(tmp_path):
    vol, smooth = _image_layer(
        tmp_path, size=(37, 30, 9), offset=(3, -5, 1), dtype="float32", chunk=(8, 8, 8)
    )
    (mip,) = vol.downsample(factor=(2, 2, 1))
    scale = vol.info["scales"][mip]
    assert scale["voxel_offset"] == [1, -3, 1]  # voxel_offset // factor
    assert scale["size"] == [19, 15, 9]  # ceil(size / factor)
    expected, corner = _mean_reference(smooth[..., np.newaxis], (2, 2, 1), (3, -5, 1))
    got = vol.download(vol.meta.bounds(mip), mip=mip)
    # the scale covers voxel_offset // 2 .. + ceil(size / 2); the reference the whole blocks
    np.testing.assert_allclose(got, expected[:19, :15, :9], rtol=1e-6)
    assert corner == (1, -3, 1)


@pytest.mark.parametrize("factor", [(2, 2, 1), (2, 2, 2)])
def test_segmentation_takes_the_mode(tmp_path, factor):
    rng = np.random.default_rng(5)
    coarse = rng.integers(1, 2**40, size=(8, 6, 4), dtype=np.uint64)
    step = np.asarray(factor) * 2
    labels = coarse.repeat(step[0], 0).repeat(step[1], 1).repeat(step[2], 2)
    noisy = labels.copy()
    # one voxel in each 2x2(x2) block takes another label: the block's mode is still its own
    noisy[:: factor[0], :: factor[1], :: factor[2]] = 7
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "compressed_segmentation", [4, 4, 40],
                                       (0, 0, 0), labels.shape, chunk_size=(16, 16, 8))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/seg", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = noisy
    vol.downsample(num_mips=2, factor=factor)
    level1 = _mode_reference(noisy, factor)
    np.testing.assert_array_equal(level1, labels[:: factor[0], :: factor[1], :: factor[2]])
    np.testing.assert_array_equal(vol.download(vol.meta.bounds(1), mip=1)[..., 0], level1)
    np.testing.assert_array_equal(
        vol.download(vol.meta.bounds(2), mip=2)[..., 0], _mode_reference(level1, factor)
    )


def test_missing_source_chunks_make_no_chunks(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (0, 0, 0), (64, 64, 16),
                                       chunk_size=(16, 16, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/sparse", info=info, progress=False, fill_missing=True)
    vol.commit_info()
    vol[0:32, 0:32, 0:16] = np.full((32, 32, 16), 8, np.uint8)
    vol.downsample(factor=(2, 2, 1))
    stored = sorted(p.name for p in (tmp_path / "sparse" / "8_8_40").iterdir())
    assert stored == ["0-16_0-16_0-16"]  # the rest of mip 1 has no source data
    assert (vol.download(vol.meta.bounds(1), mip=1)[:16, :16] == 8).all()


def test_downsample_from_a_chosen_mip_and_on_dask(tmp_path):
    pytest.importorskip("dask")
    vol, smooth = _image_layer(tmp_path)
    vol.downsample(factor=(2, 2, 1))
    new = vol.downsample(num_mips=1, factor=(2, 2, 2), mip=1, scheduler="threads")
    assert new == [2]
    assert vol.info["scales"][2]["resolution"] == [16, 16, 80]
    level1, _ = _mean_reference(smooth[..., np.newaxis], (2, 2, 1), (0, 0, 0))
    level2, _ = _mean_reference(level1, (2, 2, 2), (0, 0, 0))  # made from mip 1, as asked
    np.testing.assert_array_equal(vol.download(vol.meta.bounds(2), mip=2), level2)


def test_bad_arguments(tmp_path):
    vol, _ = _image_layer(tmp_path)
    with pytest.raises(ValueError, match="num_mips must be"):
        vol.downsample(num_mips=0)
    with pytest.raises(ValueError, match="factor must be three whole numbers"):
        vol.downsample(factor=(1, 1, 1))
    with pytest.raises(ValueError, match="factor must be three whole numbers"):
        vol.downsample(factor=(1.5, 2, 1))
    with pytest.raises(ScaleUnavailableError):
        vol.downsample(mip=4)


def test_sparse_source_with_an_offset_that_two_mips_do_not_nest(tmp_path):
    # x offset 2 with (2, 2, 1) twice: mip 1's chunk lines miss the blocks' edges.
    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (2, 0, 0), (100, 64, 8),
                                       chunk_size=(16, 16, 8))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/odd", info=info, progress=False, fill_missing=True)
    vol.commit_info()
    vol[2:66, 0:64, 0:8] = np.full((64, 64, 8), 50, np.uint8)  # the rest of the source is missing
    mips = vol.downsample(num_mips=2, factor=(2, 2, 1))
    level1 = vol.download(vol.meta.bounds(mips[0]), mip=mips[0])[..., 0]
    level2 = vol.download(vol.meta.bounds(mips[1]), mip=mips[1])[..., 0]
    assert vol.meta.voxel_offset(mips[0]).tolist() == [1, 0, 0]
    assert (level1[0:32, 0:32] == 50).all()  # x 1..32 covers source 2..65, all stored
    assert (level2[0:16, 0:16] == 50).all()


def test_passes_keep_each_tasks_read_within_the_memory_target(tmp_path):
    from precomputed_core.tasks import plan_passes

    info = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (0, 0, 0),
                                       (2**16, 2**16, 512), chunk_size=(64, 64, 64))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/big", info=info, progress=False)
    for level in range(1, 9):
        vol.add_scale((2**level, 2**level, 1))
    volume = vol._volume
    mips = list(range(1, 9))
    # One pass would read 64 * 2**8 squared by 64 voxels (16 GiB) per task; 256 MiB allows
    # five mips: 64 * 2**5 = 2048 squared by 64 voxels is exactly 256 MiB.
    passes = plan_passes(volume, 0, mips, (2, 2, 1), 256 * 2**20)
    assert passes == [(0, [1, 2, 3, 4, 5]), (5, [6, 7, 8])]
    assert plan_passes(volume, 0, mips, (2, 2, 1), 1) == [(m - 1, [m]) for m in mips]
    # a small source needs no split whatever the mips: a task reads no more than it holds
    small = CloudVolume.create_new_info(1, "image", "uint8", "raw", [4, 4, 40], (0, 0, 0), (100, 100, 8),
                                        chunk_size=(64, 64, 8))  # fmt: skip
    tiny = CloudVolume(f"file://{tmp_path}/small", info=small, progress=False)
    for level in range(1, 5):
        tiny.add_scale((2**level, 2**level, 1))
    assert plan_passes(tiny._volume, 0, [1, 2, 3, 4], (2, 2, 1), 2**20) == [(0, [1, 2, 3, 4])]


@pytest.mark.parametrize("scheduler", [None, "threads"])
def test_mips_made_in_passes_start_from_the_mip_below(tmp_path, scheduler):
    if scheduler:
        pytest.importorskip("dask")
    vol, smooth = _image_layer(tmp_path, size=(64, 64, 8), chunk=(8, 8, 8))
    # each task may read 4 KiB: 8x8x8 chunks at mip 2 need 32x32x8 = 8 KiB, so one mip a pass
    mips = vol.downsample(num_mips=3, factor=(2, 2, 1), memory_target=4096, scheduler=scheduler)
    assert mips == [1, 2, 3]
    expected = smooth[..., np.newaxis]
    for mip in mips:
        expected, _ = _mean_reference(expected, (2, 2, 1), (0, 0, 0))  # the rounded mip below
        np.testing.assert_array_equal(vol.download(vol.meta.bounds(mip), mip=mip), expected)
    seg_info = CloudVolume.create_new_info(1, "segmentation", "uint32", "compressed_segmentation",
                                           [4, 4, 40], (0, 0, 0), (64, 64, 8), chunk_size=(8, 8, 8))  # fmt: skip
    seg = CloudVolume(f"file://{tmp_path}/seg", info=seg_info, progress=False)
    seg.commit_info()
    rng = np.random.default_rng(2)
    labels = rng.integers(1, 5, size=(64, 64, 8), dtype=np.uint32)
    seg[:, :, :] = labels
    seg.downsample(num_mips=3, factor=(2, 2, 1), memory_target=4096, scheduler=scheduler)
    expected = labels
    for mip in (1, 2, 3):
        mode = _mode_reference(expected, (2, 2, 1))
        got = seg.download(seg.meta.bounds(mip), mip=mip)[..., 0]
        # a tie between labels has no single mode: where the block has one, it must win
        decided = _has_single_mode(expected, (2, 2, 1))
        np.testing.assert_array_equal(got[decided], mode[decided])
        expected = got


def _has_single_mode(image, factor):
    x, y, z = (np.asarray(image.shape[:3]) // np.asarray(factor)).tolist()
    blocks = image.reshape(x, factor[0], y, factor[1], z, factor[2]).transpose(0, 2, 4, 1, 3, 5)
    blocks = blocks.reshape(x, y, z, -1)
    out = np.empty((x, y, z), dtype=bool)
    for index in np.ndindex(x, y, z):
        _, counts = np.unique(blocks[index], return_counts=True)
        out[index] = (counts == counts.max()).sum() == 1
    return out


def test_memory_target_must_be_a_positive_number_of_bytes(tmp_path):
    vol, _ = _image_layer(tmp_path)
    with pytest.raises(ValueError, match="memory_target"):
        vol.downsample(memory_target=0)


def _exact_mean(image, block):
    """Each block's mean in Python integers, rounded toward zero (no overflow possible)."""
    x, y, z = (np.asarray(image.shape[:3]) // np.asarray(block)).tolist()
    values = image.astype(object).reshape(x, block[0], y, block[1], z, block[2])
    sums = values.sum(axis=(1, 3, 5))
    count = int(np.prod(block))
    toward_zero = np.vectorize(lambda s: abs(s) // count * (1 if s >= 0 else -1), otypes=[object])
    return toward_zero(sums).astype(image.dtype)


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint32", "int32", "uint64", "uint16"])
def test_integer_images_average_exactly_over_their_whole_range(tmp_path, dtype):
    limits = np.iinfo(dtype)
    rng = np.random.default_rng(11)
    data = rng.integers(limits.min, limits.max, size=(32, 32, 4), dtype=dtype, endpoint=True)
    data[:8, :8] = limits.max  # blocks at the very top of the range: sums that wrap in the type
    data[8:16, :8] = limits.min
    info = CloudVolume.create_new_info(1, "image", dtype, "raw", [4, 4, 40], (0, 0, 0), data.shape,
                                       chunk_size=(16, 16, 4))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/ints", info=info, progress=False)
    vol.commit_info()
    vol[:, :, :] = data
    vol.downsample(num_mips=2, factor=(2, 2, 1))
    for mip, block in ((1, (2, 2, 1)), (2, (4, 4, 1))):
        got = vol.download(vol.meta.bounds(mip), mip=mip)[..., 0]
        np.testing.assert_array_equal(got, _exact_mean(data, block))
    assert (vol.download(vol.meta.bounds(1), mip=1)[:4, :4] == limits.max).all()


def test_tasks_are_cut_within_a_small_memory_target(tmp_path, monkeypatch):
    from precomputed_core.tasks import _downsample

    boxes = []
    original = _downsample.downsample_block

    def spy(volume, source_mip, mips, factor, top_box, **kwargs):
        boxes.append((source_mip, tuple(mips), top_box.size3().tolist()))
        return original(volume, source_mip, mips, factor, top_box, **kwargs)

    monkeypatch.setattr(_downsample, "downsample_block", spy)
    vol, smooth = _image_layer(tmp_path, size=(64, 64, 8), chunk=(8, 8, 8))
    vol.downsample(num_mips=2, factor=(2, 2, 1), memory_target=8192)
    # two mips per task read 8x8x8 chunks x 4 x 4 = 8 KiB: one cell of mip 2 per task, not
    # the 64 MiB blocks the default would group
    assert {b[:2] for b in boxes} == {(0, (1, 2))}
    assert len(boxes) == 2 * 2  # mip 2 is 16 x 16 x 8 voxels
    assert all(size == [8, 8, 8] for _, _, size in boxes)
    level2, _ = _mean_reference(smooth[..., np.newaxis], (4, 4, 1), (0, 0, 0))
    np.testing.assert_array_equal(vol.download(vol.meta.bounds(2), mip=2), level2)


@pytest.mark.parametrize("dtype", ["int32", "uint32", "int16", "uint64"])
def test_odd_edges_repeat_the_last_voxel_of_each_level_as_tinybrain_does(dtype):
    import tinybrain

    from precomputed_core.tasks import pyramid

    values = np.asfortranarray(np.arange(1, 7 * 5 * 3 + 1, dtype=dtype).reshape(7, 5, 3, 1) * 3)
    ours = pyramid(values, (2, 2, 1), 2, segmentation=False, sparse=False)
    theirs = tinybrain.downsample_with_averaging(values.astype(np.uint16), (2, 2, 1), num_mips=2)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        if dtype == "uint64":  # padded once to whole top blocks: only the inner voxels agree
            np.testing.assert_array_equal(a[:-1, :-1], b[:-1, :-1])
        else:
            np.testing.assert_array_equal(a, b.astype(dtype))
