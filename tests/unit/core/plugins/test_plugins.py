"""Third-party plugins are found through real entry points, without touching our code."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume, plugins
from precomputed_core.cli import main
from precomputed_core.exceptions import (
    PluginLoadError,
    PluginWarning,
    UnsupportedEncodingError,
    UnsupportedProtocolError,
)


def _info(encoding="raw"):
    return CloudVolume.create_new_info(1, "image", "uint16", encoding, [4, 4, 40], [0, 0, 0], [40, 30, 20],
                                       chunk_size=(16, 16, 8))  # fmt: skip


def test_our_plugins_are_registered_like_a_third_party(plugin_dir):
    drivers = {e.key: e for e in plugins.driver_entries()}
    codecs = {e.key: e for e in plugins.codec_entries()}
    assert drivers["file"].owner == "precomputed"
    assert drivers["file"].target == "precomputed_drivers.local:LocalStore"
    assert drivers["mem"].kind == "store"
    assert codecs["raw"].target == "precomputed_codecs.raw:RawCodec"


def test_third_party_driver_and_codec_found_through_entry_points(plugin_dir):
    plugin_dir("fake")
    drivers = {e.key: e for e in plugins.driver_entries()}
    codecs = {e.key: e for e in plugins.codec_entries()}
    assert drivers["dictstore"].owner == "precomputed-fake"
    assert codecs["zlib_raw"].owner == "precomputed-fake"
    info = _info("zlib_raw")
    vol = CloudVolume("dictstore://bucket/ds/layer", info=info, progress=False)
    vol.commit_info()
    data = np.random.default_rng(1).integers(0, 60000, size=(40, 30, 20), dtype=np.uint16)
    vol[:, :, :] = data
    again = CloudVolume("precomputed://dictstore://bucket/ds/layer", progress=False)
    np.testing.assert_array_equal(again[:, :, :][..., 0], data)
    assert again.info == info
    from precomputed_fake.store import OBJECTS  # the plugin's own storage holds our chunks

    assert "bucket/ds/layer/4_4_40/0-16_0-16_0-8" in OBJECTS


def test_plugins_are_not_imported_until_used(plugin_dir):
    import sys

    plugin_dir("fake")
    plugins.driver_entries()  # discovery imports the small plugin module only
    assert "precomputed_fake.plugin" in sys.modules
    assert "precomputed_fake.store" not in sys.modules
    assert "precomputed_fake.codec" not in sys.modules
    plugins.get_codec("zlib_raw")
    assert "precomputed_fake.codec" in sys.modules
    assert "precomputed_fake.store" not in sys.modules


def test_cli_lists_third_party_plugins(plugin_dir, capsys):
    plugin_dir("fake")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines() if line.strip()}
    assert rows["dictstore"] == ["store", "precomputed-fake", "precomputed_fake.store:DictStore"]
    assert rows["blocks"] == ["volume", "precomputed-fake", "precomputed_fake.volume:BlocksVolume"]
    assert "zlib_raw" in out
    assert "needs a_module_that_is_not_installed (pip install 'precomputed-fake[extra]')" in out


def test_missing_dependency_names_the_install_command(plugin_dir):
    plugin_dir("fake")
    with pytest.raises(
        PluginLoadError,
        match=r"needs a_module_that_is_not_installed: pip install 'precomputed-fake\[extra\]'",
    ):
        plugins.get_codec("needs_missing_lib")


def test_unknown_protocol_names_what_is_installed():
    with pytest.raises(UnsupportedProtocolError) as err:
        CloudVolume("az://bucket/ds/layer")
    message = str(err.value)
    assert "no driver for 'az'" in message
    assert "Installed: boss, file, gs, http, https, mem, s3" in message
    assert "az://bucket/ds/layer" in message
    assert isinstance(err.value, ValueError)


def test_unknown_encoding_names_what_is_installed():
    with pytest.raises(
        UnsupportedEncodingError,
        match=r"no codec for 'webp'\. Installed: compressed_segmentation, compresso, crackle, jpeg, png, raw\.",
    ):
        CloudVolume.create_new_info(1, "image", "uint8", "webp", [1, 1, 1], [0, 0, 0], [8, 8, 8])


def test_unknown_encoding_in_a_stored_info_fails_on_read(tmp_path):
    info = _info()
    info["scales"][0]["encoding"] = "webp"
    vol = CloudVolume(f"file://{tmp_path}/l", info=info, progress=False)
    with pytest.raises(UnsupportedEncodingError, match="webp"):
        vol[0:1, 0:1, 0:1]


def test_a_broken_plugin_warns_and_the_others_still_load(plugin_dir):
    plugin_dir("broken")
    with pytest.warns(PluginWarning, match="precomputed-broken"):
        entries = plugins.driver_entries()
    assert {"file", "mem"} <= {e.key for e in entries}
    assert [owner for owner, _ in plugins.load_failures()] == ["precomputed-broken"]
    with pytest.raises(
        UnsupportedProtocolError, match=r"Failed to load: precomputed-broken \(ModuleNotFoundError"
    ):
        CloudVolume("nothing://b/d/l")


def test_conflicting_claim_is_refused_and_the_first_stays(plugin_dir):
    plugin_dir("conflict")
    with pytest.warns(
        PluginWarning, match=r"'raw' is claimed by both precomputed .* and precomputed-conflict"
    ):
        codec = plugins.get_codec("raw")
    assert type(codec).__module__ == "precomputed_codecs.raw"


def test_direct_registration_for_embedding(plugin_dir):
    from precomputed_core.plugins import hookimpl

    class Plugin:
        @hookimpl
        def precomputed_register_codecs(self, registry):
            registry.add("raw_alias", "precomputed_codecs.raw:RawCodec")

    plugin_dir  # noqa: B018 - the fixture refreshes plugins afterwards
    plugins.register(Plugin(), name="embedded")
    assert {e.key: e.owner for e in plugins.codec_entries()}["raw_alias"] == "embedded"


def test_autoload_can_be_disabled(monkeypatch, plugin_dir):
    monkeypatch.setenv(plugins.DISABLE_AUTOLOAD_ENV, "1")
    plugins.refresh_plugins()
    assert plugins.driver_entries() == []
    with pytest.raises(UnsupportedProtocolError, match="Installed: none"):
        plugins.get_driver("file")
