"""Unit tests for ``precomputed_core.meta._info`` and ``precomputed_core.meta._layer_meta.LayerMeta``."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from precomputed_core import Bbox, LayerMeta, Vec
from precomputed_core.exceptions import (
    CodecError,
    InfoError,
    InfoValidationError,
    ScaleUnavailableError,
    UnsupportedDataTypeError,
)
from precomputed_core.meta._info import (
    SPEC_DATA_TYPES,
    add_scale,
    check_data_type,
    create_info,
    scale_key,
    validate_info,
)

NG_MESSAGE = "Neuroglancer and tensorstore cannot read"


def _image(**kw):
    args = {
        "num_channels": 1, "layer_type": "image", "data_type": "uint8", "encoding": "raw",
        "resolution": [4, 4, 40], "voxel_offset": [0, 0, 0], "volume_size": [1024, 1024, 100],
    }  # fmt: skip
    args.update(kw)
    return create_info(**args)


def _scale(**kw):
    scale = {
        "key": "4_4_40",
        "size": [64, 64, 64],
        "resolution": [4, 4, 40],
        "chunk_sizes": [[64, 64, 64]],
        "encoding": "raw",
        "voxel_offset": [0, 0, 0],
    }
    scale.update(kw)
    return scale


def _info(**kw):
    info = {
        "@type": "neuroglancer_multiscale_volume",
        "type": "image",
        "data_type": "uint8",
        "num_channels": 1,
        "scales": [_scale()],
    }
    info.update(kw)
    return info


# --- check_data_type --------------------------------------------------------------


@pytest.mark.parametrize("name", SPEC_DATA_TYPES)
def test_check_data_type_accepts_spec_types(name):
    assert check_data_type(name) == name
    assert check_data_type(np.dtype(name)) == name
    assert check_data_type(getattr(np, name)) == name


def test_spec_data_types_exact():
    assert SPEC_DATA_TYPES == (
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "int8",
        "int16",
        "int32",
        "float32",
    )


@pytest.mark.parametrize(
    ("dtype", "name"),
    [
        (np.float64, "float64"),
        ("float64", "float64"),
        (np.int64, "int64"),
        (bool, "bool"),
        (np.bool_, "bool"),
        (np.float16, "float16"),
        (np.complex64, "complex64"),
    ],
)
def test_check_data_type_refuses_non_spec(dtype, name):
    with pytest.raises(UnsupportedDataTypeError) as err:
        check_data_type(dtype)
    msg = str(err.value)
    assert f"data type {name!r} is not allowed by the Precomputed format" in msg
    assert NG_MESSAGE in msg
    assert "uint8, uint16, uint32, uint64, int8, int16, int32, float32" in msg


def test_check_data_type_hints_replacements():
    with pytest.raises(UnsupportedDataTypeError, match=r"float32 for float64"):
        check_data_type("float64")


def test_check_data_type_not_a_type():
    with pytest.raises(UnsupportedDataTypeError, match="'notatype' is not a data type"):
        check_data_type("notatype")


def test_unsupported_data_type_is_type_and_value_error():
    with pytest.raises(TypeError):
        check_data_type("float64")
    with pytest.raises(ValueError):
        check_data_type("float64")
    with pytest.raises(CodecError):
        check_data_type("float64")


# --- scale_key ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "key"),
    [
        ([4, 4, 40], "4_4_40"),
        ((8, 8, 40), "8_8_40"),
        ([4.0, 4, 40], "4.0_4.0_40.0"),
        ([4.5, 4, 40], "4.5_4.0_40.0"),
        ([0.25, 0.25, 1], "0.25_0.25_1.0"),
        (np.array([16, 16, 16]), "16_16_16"),
        (np.array([16.0, 16.0, 16.0]), "16.0_16.0_16.0"),
    ],
)
def test_scale_key(resolution, key):
    assert scale_key(resolution) == key


# --- create_info ----------------------------------------------------------------------


def test_create_info_minimal_exact():
    info = _image()
    assert info == {
        "@type": "neuroglancer_multiscale_volume",
        "type": "image",
        "data_type": "uint8",
        "num_channels": 1,
        "scales": [
            {
                "encoding": "raw",
                "chunk_sizes": [[64, 64, 64]],
                "key": "4_4_40",
                "resolution": [4, 4, 40],
                "voxel_offset": [0, 0, 0],
                "size": [1024, 1024, 100],
            }
        ],
    }


def test_create_info_is_json_serialisable_with_python_types():
    info = _image(
        resolution=np.array([4, 4, 40]), voxel_offset=np.array([1, 2, 3]),
        volume_size=np.array([10, 20, 30]), chunk_size=np.array([8, 8, 8]),
        num_channels=np.int64(3), data_type=np.uint16,
    )  # fmt: skip
    text = json.dumps(info)
    assert json.loads(text) == info
    scale = info["scales"][0]
    assert scale["resolution"] == [4, 4, 40]
    assert scale["voxel_offset"] == [1, 2, 3]
    assert scale["size"] == [10, 20, 30]
    assert scale["chunk_sizes"] == [[8, 8, 8]]
    assert info["num_channels"] == 3
    assert type(info["num_channels"]) is int
    assert info["data_type"] == "uint16"


def test_create_info_float_resolution():
    info = _image(resolution=[4.5, 4, 40])
    scale = info["scales"][0]
    assert scale["resolution"] == [4.5, 4.0, 40.0]
    assert scale["key"] == "4.5_4.0_40.0"


def test_create_info_negative_voxel_offset_allowed():
    assert _image(voxel_offset=[-10, 0, 5])["scales"][0]["voxel_offset"] == [-10, 0, 5]


def test_create_info_mesh_skeletons_redirect():
    info = _image(layer_type="segmentation", data_type="uint64", mesh=True, skeletons=True,
                  redirect="gs://b/moved")  # fmt: skip
    assert info["mesh"] == "mesh"
    assert info["skeletons"] == "skeletons"
    assert info["redirect"] == "gs://b/moved"
    named = _image(layer_type="segmentation", data_type="uint32", mesh="meshes_v2", skeletons="sk")
    assert named["mesh"] == "meshes_v2"
    assert named["skeletons"] == "sk"


def test_create_info_without_mesh_has_no_keys():
    info = _image(mesh=None, skeletons=False)
    assert "mesh" not in info
    assert "skeletons" not in info
    assert "redirect" not in info


def test_create_info_encoding_levels():
    jpeg = _image(encoding="jpeg", encoding_level=85)
    assert jpeg["scales"][0]["jpeg_quality"] == 85
    png = _image(encoding="png", encoding_level=6)
    assert png["scales"][0]["png_level"] == 6
    raw = _image(encoding="raw", encoding_level=6)
    assert set(raw["scales"][0]) == {"encoding", "chunk_sizes", "key", "resolution", "voxel_offset", "size"}


def test_create_info_max_mip_builds_pyramid():
    info = _image(volume_size=[1025, 513, 101], voxel_offset=[3, 7, 11], max_mip=3,
                  chunk_size=(128, 128, 16))  # fmt: skip
    scales = info["scales"]
    assert [s["key"] for s in scales] == ["4_4_40", "8_8_40", "16_16_40", "32_32_40"]
    assert [s["resolution"] for s in scales] == [[4, 4, 40], [8, 8, 40], [16, 16, 40], [32, 32, 40]]
    assert [s["size"] for s in scales] == [[1025, 513, 101], [513, 257, 101], [257, 129, 101], [129, 65, 101]]
    assert [s["voxel_offset"] for s in scales] == [[3, 7, 11], [1, 3, 11], [0, 1, 11], [0, 0, 11]]
    # create_info passes its chunk size on to every mip
    assert all(s["chunk_sizes"] == [[128, 128, 16]] for s in scales)
    assert all(s["encoding"] == "raw" for s in scales)


def test_create_info_custom_factor():
    info = _image(max_mip=2, factor=(2, 2, 2))
    assert [s["key"] for s in info["scales"]] == ["4_4_40", "8_8_80", "16_16_160"]
    assert [s["size"] for s in info["scales"]] == [[1024, 1024, 100], [512, 512, 50], [256, 256, 25]]


def test_create_info_compressed_segmentation_block_size_in_every_scale():
    info = create_info(
        1,
        "segmentation",
        "uint32",
        "compressed_segmentation",
        [8, 8, 8],
        [0, 0, 0],
        [256, 256, 256],
        compressed_segmentation_block_size=(4, 4, 2),
        max_mip=2,
    )
    blocks = [s["compressed_segmentation_block_size"] for s in info["scales"]]
    assert blocks == [[4, 4, 2], [4, 4, 2], [4, 4, 2]]
    # the lists are copies: editing one scale does not edit another
    info["scales"][1]["compressed_segmentation_block_size"][0] = 16
    assert info["scales"][0]["compressed_segmentation_block_size"] == [4, 4, 2]
    assert info["scales"][2]["compressed_segmentation_block_size"] == [4, 4, 2]


def test_create_info_compressed_segmentation_default_block():
    info = create_info(1, "segmentation", "uint64", "compressed_segmentation", [8, 8, 8],
                       [0, 0, 0], [64, 64, 64])  # fmt: skip
    assert info["scales"][0]["compressed_segmentation_block_size"] == [8, 8, 8]


def test_create_info_raw_has_no_block_size():
    assert "compressed_segmentation_block_size" not in _image()["scales"][0]


@pytest.mark.parametrize("dtype", ["float64", np.int64, bool])
def test_create_info_refuses_unreadable_types(dtype):
    with pytest.raises(UnsupportedDataTypeError, match=NG_MESSAGE):
        _image(data_type=dtype)


def test_create_info_segmentation_refuses_float32():
    with pytest.raises(InfoValidationError, match="segmentation layer holds integer labels"):
        _image(layer_type="segmentation", data_type="float32")


def test_create_info_segmentation_refuses_two_channels():
    with pytest.raises(InfoValidationError, match="segmentation layer must have num_channels=1"):
        _image(layer_type="segmentation", data_type="uint64", num_channels=2)


def test_create_info_image_allows_three_channels():
    assert _image(num_channels=3)["num_channels"] == 3


def test_create_info_bad_layer_type():
    with pytest.raises(InfoValidationError, match=r"layer_type must be one of .*got 'mesh'"):
        _image(layer_type="mesh")


@pytest.mark.parametrize("channels", [0, -1, True, 1.0, "1"])
def test_create_info_bad_num_channels(channels):
    with pytest.raises(InfoValidationError, match="num_channels must be a positive integer"):
        _image(num_channels=channels)


@pytest.mark.parametrize("max_mip", [-1, True, 1.0])
def test_create_info_bad_max_mip(max_mip):
    with pytest.raises(InfoValidationError, match="max_mip must be a non-negative integer"):
        _image(max_mip=max_mip)


@pytest.mark.parametrize(
    "resolution",
    [
        [-4, 4, 40],
        [0, 4, 40],
        [4, 4],
        [4, 4, 40, 1],
        "4_4_40",
        [[4, 4], [40]],
        [None, 4, 40],
    ],
)
def test_create_info_bad_resolution(resolution):
    # a ragged list cannot even be read as numbers, hence the shorter wording
    with pytest.raises(InfoValidationError, match=r"resolution must be 3 (positive )?numbers \(x, y, z\)"):
        _image(resolution=resolution)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("volume_size", [0, 10, 10], "volume_size must be 3 positive integers"),
        ("volume_size", [10.5, 10, 10], "volume_size must be 3 positive integers"),
        ("voxel_offset", [0.5, 0, 0], "voxel_offset must be 3 integers"),
        ("voxel_offset", [0, 0], "voxel_offset must be 3 integers"),
        ("chunk_size", [64, 0, 64], "chunk_size must be 3 positive integers"),
        ("chunk_size", [64, 64], "chunk_size must be 3 positive integers"),
    ],
)
def test_create_info_bad_triples(field, value, message):
    with pytest.raises(InfoValidationError, match=message):
        _image(**{field: value})


def test_create_info_bad_block_size():
    with pytest.raises(InfoValidationError, match="compressed_segmentation_block_size must be 3 positive"):
        create_info(1, "segmentation", "uint32", "compressed_segmentation", [8, 8, 8], [0, 0, 0],
                    [64, 64, 64], compressed_segmentation_block_size=(8, 0, 8))  # fmt: skip


def test_create_info_identity_factor_refused():
    with pytest.raises(InfoValidationError, match="would replace mip 0"):
        _image(max_mip=1, factor=(1, 1, 1))


def test_create_info_result_validates():
    info = _image(max_mip=2)
    validate_info(info)
    validate_info(info, for_write=True)


# --- add_scale ------------------------------------------------------------------------


def test_add_scale_basic_and_appends():
    info = _image()
    scale = add_scale(info, (2, 2, 1))
    assert scale == {
        "encoding": "raw",
        "chunk_sizes": [[64, 64, 64]],
        "key": "8_8_40",
        "resolution": [8, 8, 40],
        "voxel_offset": [0, 0, 0],
        "size": [512, 512, 100],
    }
    assert info["scales"][1] is scale
    assert len(info["scales"]) == 2


def test_add_scale_rounds_size_up_and_offset_down():
    info = _image(volume_size=[1025, 513, 101], voxel_offset=[3, -3, 11])
    scale = add_scale(info, (4, 2, 2))
    assert scale["size"] == [257, 257, 51]
    assert scale["voxel_offset"] == [0, -2, 5]
    assert scale["key"] == "16_8_80"


def test_add_scale_existing_resolution_replaces():
    info = _image()
    add_scale(info, (2, 2, 1))
    add_scale(info, (4, 4, 1))
    replaced = add_scale(info, (2, 2, 1), encoding="jpeg")
    assert len(info["scales"]) == 3
    assert info["scales"][1] is replaced
    assert replaced["encoding"] == "jpeg"
    assert [s["key"] for s in info["scales"]] == ["4_4_40", "8_8_40", "16_16_40"]


def test_add_scale_identity_refuses_to_replace_mip0():
    info = _image()
    with pytest.raises(InfoValidationError, match=r"factor \[1, 1, 1\] would replace mip 0"):
        add_scale(info, (1, 1, 1))
    assert len(info["scales"]) == 1


@pytest.mark.parametrize(
    ("chunk", "expected"),
    [
        ((64, 64, 64), [64, 64, 64]),
        ((128, 96, 100), [64, 48, 50]),
        ((512, 256, 16), [64, 64, 16]),
        ((7, 1, 1000), [7, 1, 50]),
        ((97, 60, 72), [97, 60, 72]),
        # 127 is prime: 1 and 127 are equally far from 64; the larger one is kept
        ((127, 64, 64), [127, 64, 64]),
    ],
)
def test_add_scale_chunk_size_defaults_to_divisor_closest_to_64(chunk, expected):
    info = _image(chunk_size=chunk)
    assert add_scale(info, (2, 2, 1))["chunk_sizes"] == [expected]


def test_add_scale_explicit_chunk_size_flat_and_nested():
    info = _image()
    assert add_scale(info, (2, 2, 1), chunk_size=(32, 32, 16))["chunk_sizes"] == [[32, 32, 16]]
    assert add_scale(info, (4, 4, 1), chunk_size=[[16, 16, 8]])["chunk_sizes"] == [[16, 16, 8]]


def test_add_scale_bad_chunk_size():
    with pytest.raises(InfoValidationError, match="chunk_size must be 3 positive integers"):
        add_scale(_image(), (2, 2, 1), chunk_size=(0, 64, 64))


def test_add_scale_factor_rounding_and_validation():
    info = _image()
    assert add_scale(info, (1.6, 2.4, 1))["key"] == "8_8_40"
    with pytest.raises(InfoValidationError, match="factor must be 3 positive integers"):
        add_scale(info, (0.4, 2, 1))
    with pytest.raises(InfoValidationError, match="factor must be 3 positive integers"):
        add_scale(info, (2, 2))
    with pytest.raises(InfoValidationError, match="factor must be 3 positive integers"):
        add_scale(info, (-2, 2, 1))


def test_add_scale_float_resolution():
    info = _image(resolution=[4.5, 4, 40])
    scale = add_scale(info, (2, 2, 1))
    assert scale["resolution"] == [9.0, 8.0, 40.0]
    assert scale["key"] == "9.0_8.0_40.0"


def test_add_scale_encoding_and_level():
    info = _image()
    jpeg = add_scale(info, (2, 2, 1), encoding="jpeg", encoding_level=70)
    assert jpeg["encoding"] == "jpeg"
    assert jpeg["jpeg_quality"] == 70
    png = add_scale(info, (4, 4, 1), encoding="png", encoding_level=3)
    assert png["png_level"] == 3
    raw = add_scale(info, (8, 8, 1), encoding_level=3)
    assert "png_level" not in raw
    assert "jpeg_quality" not in raw


def test_add_scale_compressed_segmentation_block_size():
    info = _image(layer_type="segmentation", data_type="uint32")
    scale = add_scale(info, (2, 2, 1), encoding="compressed_segmentation")
    assert scale["compressed_segmentation_block_size"] == [8, 8, 8]
    seg = create_info(1, "segmentation", "uint32", "compressed_segmentation", [8, 8, 8], [0, 0, 0],
                      [64, 64, 64], compressed_segmentation_block_size=(4, 4, 4))  # fmt: skip
    assert add_scale(seg, (2, 2, 2))["compressed_segmentation_block_size"] == [4, 4, 4]


def test_add_scale_without_voxel_offset_in_mip0():
    info = _image()
    del info["scales"][0]["voxel_offset"]
    assert add_scale(info, (2, 2, 1))["voxel_offset"] == [0, 0, 0]


# --- validate_info ----------------------------------------------------------------------


def test_validate_info_accepts_minimal_and_missing_type_tag():
    validate_info(_info())
    info = _info()
    del info["@type"]
    validate_info(info)
    scale_without_offset = _scale()
    del scale_without_offset["voxel_offset"]
    validate_info(_info(scales=[scale_without_offset]))


@pytest.mark.parametrize("value", [[], "info", None, 3])
def test_validate_info_refuses_non_dict(value):
    with pytest.raises(
        InfoValidationError, match=f"must be a JSON object \\(dict\\), got {type(value).__name__}"
    ):
        validate_info(value)


def test_validate_info_bad_type_tag():
    with pytest.raises(InfoValidationError, match="info\\['@type'\\] is 'neuroglancer_annotations_v1'"):
        validate_info(_info(**{"@type": "neuroglancer_annotations_v1"}))


@pytest.mark.parametrize("field", ["type", "data_type", "num_channels", "scales"])
def test_validate_info_missing_top_level_field(field):
    info = _info()
    del info[field]
    with pytest.raises(InfoValidationError, match=f"info lacks the required field '{field}'"):
        validate_info(info)


def test_validate_info_bad_layer_type():
    with pytest.raises(InfoValidationError, match=r"info\['type'\] must be one of .*got 'mesh'"):
        validate_info(_info(type="mesh"))


def test_validate_info_bad_data_type():
    with pytest.raises(InfoValidationError, match=r"info\['data_type'\] 'uint7' is not a voxel data type"):
        validate_info(_info(data_type="uint7"))


@pytest.mark.parametrize("data_type", ["V1", "bool", "complex64", "S4", "object"])
def test_validate_info_refuses_non_numeric_types(data_type):
    with pytest.raises(InfoValidationError, match="is not a voxel data type"):
        validate_info(_info(data_type=data_type))


def test_data_type_names_are_case_insensitive_as_the_spec_says():
    validate_info(_info(data_type="UINT16"))
    assert LayerMeta(_info(data_type="Uint16")).dtype == np.dtype("uint16")
    assert check_data_type("UINT8") == "uint8"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", [[64, 64, 32]]),
        ("size", [64.0, 64, 32]),
        ("voxel_offset", [2**63 - 1, 0, 0]),
        ("resolution", [[4, 4, 40]]),
        ("chunk_sizes", [[[64, 64, 64]]]),
    ],
)
def test_validate_info_refuses_malformed_triples(field, value):
    info = _info()
    info["scales"][0][field] = value
    with pytest.raises(InfoValidationError):
        validate_info(info)


def test_validate_info_missing_data_type_value():
    # np.dtype(None) is float64, so a null data_type must not slip through
    with pytest.raises(InfoValidationError, match="data_type"):
        validate_info(_info(data_type=None))


def test_validate_info_float64_only_refused_for_write():
    validate_info(_info(data_type="float64"))
    with pytest.raises(UnsupportedDataTypeError, match=NG_MESSAGE):
        validate_info(_info(data_type="float64"), for_write=True)


@pytest.mark.parametrize("channels", [0, -2, True, "1", 1.0])
def test_validate_info_bad_num_channels(channels):
    with pytest.raises(InfoValidationError, match="num_channels'\\] must be a positive integer"):
        validate_info(_info(num_channels=channels))


@pytest.mark.parametrize("scales", [[], {}, "4_4_40"])
def test_validate_info_bad_scales_list(scales):
    with pytest.raises(InfoValidationError, match="info\\['scales'\\] must be a non-empty list"):
        validate_info(_info(scales=scales))


def test_validate_info_scale_not_a_dict():
    with pytest.raises(InfoValidationError, match=r"info\['scales'\]\[1\] must be an object, got list"):
        validate_info(_info(scales=[_scale(), [1, 2, 3]]))


@pytest.mark.parametrize("field", ["key", "size", "resolution", "chunk_sizes", "encoding"])
def test_validate_info_scale_missing_field(field):
    scale = _scale()
    del scale[field]
    with pytest.raises(
        InfoValidationError, match=rf"info\['scales'\]\[0\] lacks the required field '{field}'"
    ):
        validate_info(_info(scales=[scale]))


@pytest.mark.parametrize("key", ["", 4, None])
def test_validate_info_bad_key(key):
    with pytest.raises(InfoValidationError, match=r"\['key'\] must be a non-empty string"):
        validate_info(_info(scales=[_scale(key=key)]))


def test_validate_info_duplicate_keys():
    scales = [_scale(), _scale(resolution=[8, 8, 40], size=[32, 32, 64])]
    with pytest.raises(InfoValidationError) as err:
        validate_info(_info(scales=scales))
    msg = str(err.value)
    assert "info['scales'][1]['key'] '4_4_40' is used by two scales" in msg


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("size", [0, 64, 64], "['size'] must be 3 positive integers"),
        ("size", [64, 64], "['size'] must be 3 positive integers"),
        ("resolution", [4, -4, 40], "['resolution'] must be 3 positive numbers"),
        ("resolution", [4, 4, "40"], "['resolution'] must be 3 positive numbers"),
        ("voxel_offset", [0, 0.5, 0], "['voxel_offset'] must be 3 integers"),
    ],
)
def test_validate_info_bad_scale_triples(field, value, fragment):
    with pytest.raises(InfoValidationError) as err:
        validate_info(_info(scales=[_scale(**{field: value})]))
    assert fragment in str(err.value)
    assert "info['scales'][0]" in str(err.value)


@pytest.mark.parametrize("chunk_sizes", [[], [64, 64, 64], "64"])
def test_validate_info_bad_chunk_sizes_container(chunk_sizes):
    # [64, 64, 64] is a list, but its items are not triples
    with pytest.raises(InfoValidationError, match=r"chunk_sizes'\]"):
        validate_info(_info(scales=[_scale(chunk_sizes=chunk_sizes)]))


def test_validate_info_bad_chunk_size_item():
    with pytest.raises(InfoValidationError, match=r"\['chunk_sizes'\]\[1\] must be 3 positive integers"):
        validate_info(_info(scales=[_scale(chunk_sizes=[[64, 64, 64], [0, 1, 1]])]))


@pytest.mark.parametrize("encoding", ["", None, 3])
def test_validate_info_bad_encoding(encoding):
    with pytest.raises(InfoValidationError, match=r"\['encoding'\] must be a string such as 'raw'"):
        validate_info(_info(scales=[_scale(encoding=encoding)]))


@pytest.mark.parametrize("encoding", ["compressed_segmentation", "COMPRESSED_SEGMENTATION"])
def test_validate_info_compressed_segmentation_needs_block_size(encoding):
    with pytest.raises(InfoValidationError, match="lacks 'compressed_segmentation_block_size'"):
        validate_info(_info(type="segmentation", data_type="uint32", scales=[_scale(encoding=encoding)]))


def test_validate_info_compressed_segmentation_bad_block_size():
    scale = _scale(encoding="compressed_segmentation", compressed_segmentation_block_size=[8, 8])
    with pytest.raises(
        InfoValidationError, match="compressed_segmentation_block_size'\\] must be 3 positive"
    ):
        validate_info(_info(scales=[scale]))


SHARDING = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 1, "hash": "identity",
            "minishard_bits": 2, "shard_bits": 3}  # fmt: skip


def test_validate_info_sharding_must_be_object():
    validate_info(_info(scales=[_scale(sharding=SHARDING)]))
    validate_info(_info(scales=[_scale(sharding=None)]))  # null: unsharded, as some writers say it
    with pytest.raises(InfoValidationError, match="\\['sharding'\\] must be a sharding specification object"):
        validate_info(_info(scales=[_scale(sharding="yes")]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"@type": "neuroglancer_sharded"}, "the only sharded format"),
        ({"hash": "md5"}, "'hash'\\] must be one of"),
        ({"preshift_bits": -1}, "'preshift_bits'\\] must be an integer from 0 to 64"),
        ({"minishard_bits": "2"}, "'minishard_bits'\\] must be an integer"),
        ({"shard_bits": 63}, "minishard_bits \\+ shard_bits is 65"),
        ({"data_encoding": "zstd"}, "'data_encoding'\\] must be 'raw' or 'gzip'"),
        ({"minishard_index_encoding": "br"}, "'minishard_index_encoding'\\] must be 'raw' or 'gzip'"),
    ],
)
def test_validate_info_checks_the_sharding_specification(change, message):
    with pytest.raises(InfoValidationError, match=message):
        validate_info(_info(scales=[_scale(sharding={**SHARDING, **change})]))


def test_a_sharded_scale_has_one_chunk_size_and_ids_within_64_bits():
    with pytest.raises(InfoValidationError, match="exactly one size"):
        validate_info(_info(scales=[_scale(sharding=SHARDING, chunk_sizes=[[8, 8, 8], [16, 16, 1]])]))
    with pytest.raises(InfoValidationError, match="over 64 bits"):
        validate_info(
            _info(scales=[_scale(sharding=SHARDING, size=[2**40, 2**40, 2**40], chunk_sizes=[[1, 1, 1]])])
        )


@pytest.mark.parametrize("field", ["mesh", "skeletons", "segment_properties"])
def test_validate_info_directory_fields_must_be_strings(field):
    validate_info(_info(**{field: "dir"}))
    with pytest.raises(InfoValidationError, match=f"info\\['{field}'\\] must be a directory name"):
        validate_info(_info(**{field: True}))


def test_validation_errors_are_info_errors_and_value_errors():
    with pytest.raises(InfoError):
        validate_info([])
    with pytest.raises(ValueError):
        validate_info([])


# --- LayerMeta ---------------------------------------------------------------------------


@pytest.fixture
def meta():
    info = create_info(
        3,
        "image",
        "uint16",
        "raw",
        [4, 4, 40],
        [10, 20, 30],
        [1000, 500, 100],
        chunk_size=(128, 128, 16),
        max_mip=2,
    )
    return LayerMeta(info)


def test_meta_layer_wide(meta):
    assert meta.num_channels == 3
    assert meta.data_type == "uint16"
    assert meta.dtype == np.dtype(np.uint16)
    assert meta.layer_type == "image"
    assert meta.available_mips == range(3)
    assert len(meta.scales) == 3


def test_meta_per_mip(meta):
    assert meta.key(0) == "4_4_40"
    assert meta.key(2) == "16_16_40"
    assert meta.encoding(1) == "raw"
    assert meta.chunk_size(0).tolist() == [128, 128, 16]
    assert isinstance(meta.chunk_size(0), Vec)
    assert meta.voxel_offset(1).tolist() == [5, 10, 30]
    assert meta.volume_size(1).tolist() == [500, 250, 100]
    assert meta.resolution(2).tolist() == [16, 16, 40]
    assert meta.shape(0).tolist() == [1000, 500, 100, 3]
    assert meta.compressed_segmentation_block_size(0) is None
    assert meta.is_sharded(0) is False


def test_meta_downsample_ratio(meta):
    ratio = meta.downsample_ratio(2)
    assert ratio.dtype == np.float64
    assert ratio.tolist() == [4.0, 4.0, 1.0]
    assert meta.downsample_ratio(0).tolist() == [1.0, 1.0, 1.0]


def test_meta_bounds_and_bbox(meta):
    assert meta.bounds(0) == Bbox((10, 20, 30), (1010, 520, 130))
    assert meta.bounds(1) == Bbox((5, 10, 30), (505, 260, 130))
    assert meta.bbox(0).to_list() == [10, 20, 30, 0, 1010, 520, 130, 3]
    assert meta.bbox(0).ndim == 4


def test_meta_encoding_is_lowercased():
    info = _info(scales=[_scale(encoding="RAW")])
    assert LayerMeta(info).encoding(0) == "raw"


def test_meta_missing_voxel_offset_defaults_to_zero():
    scale = _scale()
    del scale["voxel_offset"]
    assert LayerMeta(_info(scales=[scale])).voxel_offset(0).tolist() == [0, 0, 0]


def test_meta_sharded_and_block_size():
    scale = _scale(encoding="compressed_segmentation", compressed_segmentation_block_size=[4, 4, 2],
                   sharding={"@type": "neuroglancer_uint64_sharded_v1"})  # fmt: skip
    meta = LayerMeta(_info(type="segmentation", data_type="uint64", scales=[scale]))
    assert meta.is_sharded(0) is True
    assert meta.compressed_segmentation_block_size(0).tolist() == [4, 4, 2]


def test_meta_sees_live_edits(meta):
    meta.info["scales"][0]["chunk_sizes"] = [[32, 32, 32]]
    assert meta.chunk_size(0).tolist() == [32, 32, 32]
    add_scale(meta.info, (8, 8, 1))
    assert meta.available_mips == range(4)
    assert meta.key(3) == "32_32_40"


def test_meta_scale_negative_raises(meta):
    with pytest.raises(ScaleUnavailableError, match="mip must be a non-negative integer, got -1"):
        meta.scale(-1)


@pytest.mark.parametrize("mip", [True, 1.0, "0", None])
def test_meta_scale_bad_type_raises(meta, mip):
    with pytest.raises(ScaleUnavailableError, match="mip must be a non-negative integer"):
        meta.scale(mip)


def test_meta_scale_too_high_lists_available(meta):
    with pytest.raises(ScaleUnavailableError, match=r"mip 3 is not defined; this layer has mips \[0, 1, 2\]"):
        meta.scale(3)
    with pytest.raises(ScaleUnavailableError, match="mip 5 is not defined"):
        meta.chunk_size(5)


def test_meta_scale_accepts_numpy_int(meta):
    assert meta.scale(np.int64(1))["key"] == "8_8_40"


def test_meta_to_mip_index(meta):
    assert meta.to_mip(0) == 0
    assert meta.to_mip(2) == 2
    assert meta.to_mip(np.int32(1)) == 1
    assert type(meta.to_mip(np.int32(1))) is int


def test_meta_to_mip_resolution(meta):
    assert meta.to_mip((4, 4, 40)) == 0
    assert meta.to_mip([8, 8, 40]) == 1
    assert meta.to_mip(Vec(16, 16, 40)) == 2
    assert meta.to_mip(np.array([16.0, 16.0, 40.0])) == 2


def test_meta_to_mip_unknown_resolution_lists_scales(meta):
    with pytest.raises(ScaleUnavailableError) as err:
        meta.to_mip((3, 3, 3))
    msg = str(err.value)
    assert "no scale has resolution [3.0, 3.0, 3.0]" in msg
    assert "[[4, 4, 40], [8, 8, 40], [16, 16, 40]]" in msg


def test_meta_to_mip_unknown_index(meta):
    with pytest.raises(
        ScaleUnavailableError, match="mip 7 is not defined; this layer has mips \\[0, 1, 2\\]"
    ):
        meta.to_mip(7)
    with pytest.raises(ScaleUnavailableError, match="got -1"):
        meta.to_mip(-1)


@pytest.mark.parametrize("mip", ["abc", True, None, 1.5])
def test_meta_to_mip_garbage(meta, mip):
    with pytest.raises(ScaleUnavailableError, match="mip must be an integer or a resolution"):
        meta.to_mip(mip)


def test_meta_to_mip_wrong_length_resolution_is_refused():
    # a 1-number "resolution" must not broadcast onto an isotropic scale
    meta = LayerMeta(create_info(1, "image", "uint8", "raw", [40, 40, 40], [0, 0, 0], [64, 64, 64]))
    with pytest.raises(ScaleUnavailableError):
        meta.to_mip((40,))


def test_meta_to_mip_two_numbers_is_a_scale_error(meta):
    # np.allclose([4, 4, 40], [4, 4]) raises a broadcasting ValueError
    with pytest.raises(ScaleUnavailableError):
        meta.to_mip((4, 4))


def test_meta_bbox_to_mip(meta):
    box = Bbox((1, 3, 5), (101, 101, 10))
    assert meta.bbox_to_mip(box, 0, 1) == Bbox((0, 1, 5), (51, 51, 10))
    assert meta.bbox_to_mip(Bbox((0, 1, 5), (51, 51, 10)), 1, 0) == Bbox((0, 2, 5), (102, 102, 10))
    assert meta.bbox_to_mip(box, 0, 2) == Bbox((0, 0, 5), (26, 26, 10))
    assert meta.bbox_to_mip(box, 0, 0) == box


def test_meta_validate(meta):
    meta.validate()
    meta.validate(for_write=True)
    broken = copy.deepcopy(meta.info)
    del broken["scales"][0]["key"]
    with pytest.raises(InfoValidationError, match="lacks the required field 'key'"):
        LayerMeta(broken).validate()
    float64 = copy.deepcopy(meta.info)
    float64["data_type"] = "float64"
    LayerMeta(float64).validate()
    with pytest.raises(UnsupportedDataTypeError):
        LayerMeta(float64).validate(for_write=True)


def test_meta_to_mip_accepts_integral_floats_like_cloudvolume():
    meta = LayerMeta(create_info(1, "image", "uint8", "raw", [4, 4, 40], [0, 0, 0], [64, 64, 64], max_mip=1))
    assert meta.to_mip(1.0) == 1
    with pytest.raises(ScaleUnavailableError):
        meta.to_mip(1.5)
