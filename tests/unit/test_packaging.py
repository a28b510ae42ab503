"""The install extras: each adds something the base install lacks, and every hint names one that exists."""

from __future__ import annotations

import re
from pathlib import Path

from precomputed_core import plugins

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _name(requirement: str) -> str:
    match = _NAME.match(requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


BASE = {_name(r) for r in PROJECT["dependencies"]}
EXTRAS = PROJECT["optional-dependencies"]
TOOLING = {"test", "emulators", "interop", "lint", "docs"}


def test_the_base_install_serves_the_cloud_and_the_common_codecs():
    assert {"gcsfs", "s3fs", "fsspec", "aiohttp", "pillow", "simplejpeg", "compressed-segmentation"} <= BASE


def test_no_user_extra_repeats_a_base_dependency():
    for extra, requirements in EXTRAS.items():
        if extra in TOOLING:
            continue
        repeated = {_name(r) for r in requirements} & BASE
        assert not repeated, f"extra {extra!r} repeats base dependencies {repeated}: it installs nothing new"
    assert set(EXTRAS) - TOOLING == {
        "png",
        "brotli",
        "zstd",
        "compresso",
        "crackle",
        "dask",
        "downsample",
        "boss",
        "all",
    }


def test_every_install_hint_names_an_extra_that_exists():
    named = set()
    for path in (ROOT / "src").rglob("*.py"):
        named |= set(re.findall(r"precomputed\[([A-Za-z0-9_-]+)\]", path.read_text()))
    for entry in [*plugins.driver_entries(), *plugins.codec_entries()]:
        if entry.install and entry.install.startswith("precomputed["):
            named.add(entry.install[len("precomputed[") : -1])
        elif entry.install:
            assert _name(entry.install) in BASE, f"{entry.key}: hint {entry.install!r} is not a dependency"
    assert named, "no hint found: the pattern is wrong"
    assert named <= set(EXTRAS), f"hints name extras that do not exist: {named - set(EXTRAS)}"
