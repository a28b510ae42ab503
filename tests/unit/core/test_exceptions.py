"""Unit tests for the exception hierarchy in ``precomputed_core.exceptions``."""

from __future__ import annotations

import inspect
import warnings

import pytest

import precomputed_core
from precomputed_core import exceptions as exc

ERRORS = [
    name
    for name in exc.__all__
    if issubclass(getattr(exc, name), BaseException) and not issubclass(getattr(exc, name), Warning)
]
WARNINGS = [name for name in exc.__all__ if issubclass(getattr(exc, name), Warning)]


def test_all_lists_every_public_class():
    defined = sorted(
        name for name, obj in vars(exc).items() if inspect.isclass(obj) and obj.__module__ == exc.__name__
    )
    assert sorted(exc.__all__) == defined
    assert len(exc.__all__) == 48


def test_warnings_are_exactly_two():
    assert sorted(WARNINGS) == ["PluginWarning", "PrecomputedDeprecationWarning"]


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_is_a_precomputed_error(name):
    cls = getattr(exc, name)
    assert issubclass(cls, exc.PrecomputedError)
    assert issubclass(cls, Exception)


def test_root_is_a_plain_exception():
    assert exc.PrecomputedError.__bases__ == (Exception,)


@pytest.mark.parametrize("name", WARNINGS)
def test_warnings_are_not_errors(name):
    cls = getattr(exc, name)
    assert not issubclass(cls, exc.PrecomputedError)


def test_warning_bases():
    assert issubclass(exc.PluginWarning, UserWarning)
    assert issubclass(exc.PrecomputedDeprecationWarning, DeprecationWarning)


@pytest.mark.parametrize(
    ("name", "parents"),
    [
        # info
        ("InfoError", (exc.PrecomputedError, ValueError)),
        ("InfoUnavailableError", (exc.InfoError, ValueError)),
        ("InfoValidationError", (exc.InfoError, ValueError)),
        ("ScaleUnavailableError", (exc.InfoError, ValueError)),
        # geometry
        ("GeometryError", (exc.PrecomputedError, ValueError)),
        ("OutOfBoundsError", (exc.GeometryError, ValueError)),
        ("AlignmentError", (exc.GeometryError, ValueError)),
        ("EmptyRequestError", (exc.GeometryError, ValueError)),
        # storage
        ("StorageError", (exc.PrecomputedError, OSError)),
        ("EmptyVolumeException", (exc.StorageError, FileNotFoundError, OSError)),
        ("ReadOnlyError", (exc.StorageError, OSError)),
        ("PermissionDeniedError", (exc.StorageError, PermissionError, OSError)),
        # codecs
        ("CodecError", (exc.PrecomputedError, ValueError)),
        ("DecodingError", (exc.CodecError, ValueError)),
        ("EncodingError", (exc.CodecError, ValueError)),
        ("UnsupportedDataTypeError", (exc.CodecError, TypeError, ValueError)),
        # plugins
        ("PluginError", (exc.PrecomputedError,)),
        ("UnsupportedProtocolError", (exc.PluginError, ValueError)),
        ("UnsupportedEncodingError", (exc.PluginError, ValueError)),
        ("PluginLoadError", (exc.PluginError, ImportError)),
        ("PluginConflictError", (exc.PluginError,)),
        # other
        ("FeatureUnavailableError", (exc.PrecomputedError, NotImplementedError)),
        ("SharedMemoryError", (exc.PrecomputedError, OSError)),
        ("ParallelError", (exc.PrecomputedError, RuntimeError)),
        ("SkeletonAttributeMixingError", (exc.PrecomputedError, ValueError)),
        ("SkeletonDecodeError", (exc.DecodingError, ValueError)),
        ("SkeletonEncodeError", (exc.EncodingError, ValueError)),
        ("MeshDecodeError", (exc.DecodingError, ValueError)),
    ],
)
def test_parents(name, parents):
    cls = getattr(exc, name)
    for parent in parents:
        assert issubclass(cls, parent), f"{name} should subclass {parent.__name__}"


@pytest.mark.parametrize(
    ("name", "not_parent"),
    [
        ("OutOfBoundsError", OSError),
        ("OutOfBoundsError", exc.InfoError),
        ("EmptyVolumeException", ValueError),
        ("StorageError", ValueError),
        ("PluginError", ValueError),
        ("PluginConflictError", ValueError),
        ("InfoError", OSError),
        ("ReadOnlyError", FileNotFoundError),
        ("CodecError", TypeError),
        ("DecodingError", TypeError),
        ("AlignmentError", exc.OutOfBoundsError),
        ("UnsupportedDataTypeError", exc.InfoError),
    ],
)
def test_not_parents(name, not_parent):
    assert not issubclass(getattr(exc, name), not_parent)


def test_empty_volume_caught_by_file_not_found():
    with pytest.raises(FileNotFoundError, match="chunk 0-64_0-64_0-64 is missing"):
        raise exc.EmptyVolumeException("chunk 0-64_0-64_0-64 is missing")


def test_out_of_bounds_caught_by_value_error_and_root():
    with pytest.raises(ValueError, match="outside"):
        raise exc.OutOfBoundsError("outside")
    with pytest.raises(exc.PrecomputedError, match="outside"):
        raise exc.OutOfBoundsError("outside")


def test_permission_denied_caught_by_permission_error():
    with pytest.raises(PermissionError):
        raise exc.PermissionDeniedError("no credentials")


def test_plugin_load_error_caught_by_import_error():
    with pytest.raises(ImportError):
        raise exc.PluginLoadError("missing dependency")


def test_feature_unavailable_caught_by_not_implemented():
    with pytest.raises(NotImplementedError):
        raise exc.FeatureUnavailableError("not yet")


def test_oserror_subclass_keeps_message_and_args():
    err = exc.StorageError("cannot read gs://b/x")
    assert str(err) == "cannot read gs://b/x"
    assert err.args == ("cannot read gs://b/x",)


def test_oserror_subclass_errno_form():
    err = exc.EmptyVolumeException(2, "No such file", "/tmp/x")
    assert err.errno == 2
    assert err.strerror == "No such file"
    assert err.filename == "/tmp/x"


def test_every_error_instantiates_with_a_message():
    for name in ERRORS:
        err = getattr(exc, name)(f"message for {name}")
        assert str(err) == f"message for {name}"


def test_top_level_reexports_are_the_same_objects():
    for name in (
        "AlignmentError",
        "EmptyVolumeException",
        "InfoUnavailableError",
        "OutOfBoundsError",
        "PrecomputedError",
        "UnsupportedProtocolError",
    ):
        assert getattr(precomputed_core, name) is getattr(exc, name)
    assert precomputed_core.exceptions is exc


def test_warning_can_be_raised_as_warning():
    with pytest.warns(exc.PluginWarning, match="plugin 'x' failed"):
        warnings.warn("plugin 'x' failed", exc.PluginWarning, stacklevel=1)


@pytest.mark.parametrize(
    ("alias", "ours"),
    [
        ("ReadOnlyException", "ReadOnlyError"),
        ("TooManyRedirects", "TooManyRedirectsError"),
        ("CyclicRedirect", "CyclicRedirectError"),
        ("EmptyRequestException", "EmptyRequestError"),
        ("SubvoxelVolumeError", "EmptyRequestError"),
        ("SpecViolation", "InfoValidationError"),
        ("AuthenticationError", "CredentialsError"),
        ("UnsupportedFormatError", "UnsupportedProtocolError"),
    ],
)
def test_cloudvolume_names_are_aliases_of_ours(alias, ours):
    assert getattr(exc, alias) is getattr(exc, ours)


def test_top_level_cloudvolume_names():
    assert precomputed_core.PrecomputedSkeleton is precomputed_core.Skeleton
    assert precomputed_core.DataLayerProvenance is precomputed_core.Provenance
    assert precomputed_core.EmptyRequestException is exc.EmptyRequestError
    assert precomputed_core.SkeletonDecodeError is exc.SkeletonDecodeError
    assert precomputed_core.SkeletonEncodeError is exc.SkeletonEncodeError


def test_corrupt_skeletons_and_meshes_raise_their_own_errors():
    from precomputed_core import Mesh, Skeleton

    with pytest.raises(exc.SkeletonDecodeError, match="too short"):
        Skeleton.from_precomputed(b"\x01\x00")
    with pytest.raises(exc.SkeletonDecodeError):
        Skeleton.from_swc("1 0 0 0 0 1 7\n")  # a parent no row has
    with pytest.raises(exc.MeshDecodeError):
        Mesh.from_draco(b"not draco at all")
