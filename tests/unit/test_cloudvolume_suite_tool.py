"""The import rewriting of tests/cloudvolume_suite/run.py (the tool that runs cloud-volume's tests on us)."""

from __future__ import annotations

from cloudvolume_suite.run import EXCLUDED, FILES, rewrite


def test_public_names_come_from_us_and_internals_from_cloudvolume():
    source = "\n".join([
        "import pytest",
        "from cloudvolume import CloudVolume, chunks, Skeleton",
        "from cloudvolume.lib import Bbox, Vec, yellow, mkdir, min2, xyz_internal",
        "from cloudvolume.exceptions import AlignmentError, ReadOnlyException, WriteLockReleaseError",
        "from cloudvolume.datasource.precomputed.common import cdn_cache_control",
        "import cloudvolume.lib as lib",
        "from cloudvolume import (",
        "  Vec, Storage",
        ")",
    ])  # fmt: skip
    assert rewrite(source).splitlines() == [
        "import pytest",
        "from precomputed_core import CloudVolume, Skeleton",
        "from cloudvolume import chunks",
        "from precomputed_core.lib import Bbox, Vec, yellow, mkdir, min2",
        "from cloudvolume.lib import xyz_internal",
        "from precomputed_core.exceptions import AlignmentError, ReadOnlyException",
        "from cloudvolume.exceptions import WriteLockReleaseError",
        "from cloudvolume.datasource.precomputed.common import cdn_cache_control",
        "import precomputed_core.lib as lib",
        "from precomputed_core import Vec",
        "from cloudvolume import Storage",
    ]
    assert rewrite("import cloudvolume\n") == "import precomputed_core as cloudvolume\n"


def test_every_excluded_test_is_in_a_file_that_runs():
    assert {name.split("::")[0] for name in EXCLUDED} <= set(FILES)
