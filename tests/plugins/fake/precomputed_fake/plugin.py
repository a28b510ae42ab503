"""Declares the ``dictstore://`` store, the ``blocks://`` volume and the ``zlib_raw`` encoding."""

from __future__ import annotations

from precomputed_core.plugins import hookimpl


@hookimpl
def precomputed_register_drivers(registry):
    registry.add("dictstore", "precomputed_fake.store:DictStore")
    registry.add("blocks", "precomputed_fake.volume:BlocksVolume", kind="volume")


@hookimpl
def precomputed_register_codecs(registry):
    registry.add("zlib_raw", "precomputed_fake.codec:ZlibRawCodec")
    registry.add("test_crash", "precomputed_fake.codec:CrashingRawCodec")
    registry.add(
        "needs_missing_lib",
        "precomputed_fake.codec:ZlibRawCodec",
        requires=("a_module_that_is_not_installed",),
        install="precomputed-fake[extra]",
    )
