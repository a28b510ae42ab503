"""Declare our drivers to precomputed's plugin system (nothing is imported here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from precomputed_core.plugins import hookimpl

if TYPE_CHECKING:
    from precomputed_core.plugins import Registrar


@hookimpl
def precomputed_register_drivers(registry: Registrar) -> None:
    registry.add("file", "precomputed_drivers.local:LocalStore")
    registry.add("mem", "precomputed_drivers.memory:MemoryStore", requires=("fsspec",),
                 install="fsspec>=2024.2.0")  # fmt: skip
    registry.add("gs", "precomputed_drivers.gcs:GCSStore", requires=("gcsfs",), install="gcsfs>=2024.2.0")
    registry.add("s3", "precomputed_drivers.s3:S3Store", requires=("s3fs",), install="s3fs>=2024.2.0")
    for scheme in ("http", "https"):
        registry.add(scheme, "precomputed_drivers.http:HTTPStore", requires=("fsspec", "aiohttp"),
                     install="aiohttp>=3.9")  # fmt: skip
    # An array service, not a key-value store: it supplies a Volume (see docs/boss.md).
    registry.add("boss", "precomputed_drivers.boss:BossVolume", kind="volume", requires=("intern", "blosc"),
                 install="precomputed[boss]")  # fmt: skip
