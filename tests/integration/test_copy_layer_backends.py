"""Listing stored sizes, and ``precomputed cp`` (copy_layer) to and from every backend."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from precomputed_core import CloudVolume
from precomputed_core.exceptions import FeatureUnavailableError
from precomputed_core.tasks import copy_layer


def _layer(url):
    info = CloudVolume.create_new_info(1, "image", "uint16", "raw", [4, 4, 40], (0, 0, 0), (64, 32, 16),
                                       chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(url, info=info, compress="gzip", progress=False)
    vol.commit_info()
    data = (np.arange(64 * 32 * 16).reshape(64, 32, 16) % 1000).astype(np.uint16)
    vol[:, :, :] = data
    return vol, data


def test_list_sizes_are_the_stored_sizes(backend, tmp_path):
    _, data = _layer(backend.write_url("l"))
    reader = CloudVolume(backend.read_url("l"), progress=False)
    store = reader._store()
    if not backend.writable:
        with pytest.raises(FeatureUnavailableError, match="cannot list"):
            store.list_sizes("")
        return
    sizes = store.list_sizes("")
    assert sorted(sizes) == ["4_4_40/0-32_0-32_0-16", "4_4_40/32-64_0-32_0-16", "info"]
    stored = store.get_stored_many(["4_4_40/0-32_0-32_0-16"])["4_4_40/0-32_0-32_0-16"]
    assert sizes["4_4_40/0-32_0-32_0-16"] == len(stored.data)
    assert gzip.decompress(stored.data) == data[:32].tobytes(order="F")  # the gzip bytes' size
    assert store.list_sizes("4_4_40/3") == {"4_4_40/32-64_0-32_0-16": sizes["4_4_40/32-64_0-32_0-16"]}


def test_copy_layer_to_and_from_a_backend(backend, tmp_path):
    local, data = _layer(f"file://{tmp_path}/local")
    if backend.writable:
        target = CloudVolume(backend.write_url("copy"), info=local.info, progress=False)
        report = copy_layer(local._store(), target._store())
        assert (report.copied, report.skipped) == (3, 0)
        again = copy_layer(local._store(), target._store())
        assert (again.copied, again.skipped) == (0, 3)
        np.testing.assert_array_equal(CloudVolume(backend.read_url("copy"))[:, :, :][..., 0], data)
        back = CloudVolume(f"file://{tmp_path}/back", info=local.info, progress=False)
        copy_layer(target._store(), back._store())
        assert (tmp_path / "back" / "4_4_40" / "0-32_0-32_0-16.gz").read_bytes() == (
            tmp_path / "local" / "4_4_40" / "0-32_0-32_0-16.gz"
        ).read_bytes()
    else:
        _layer(backend.write_url("served"))
        source = CloudVolume(backend.read_url("served"), progress=False)
        target = CloudVolume(f"file://{tmp_path}/from-http", info=local.info, progress=False)
        with pytest.raises(FeatureUnavailableError, match="cannot list"):
            copy_layer(source._store(), target._store())
