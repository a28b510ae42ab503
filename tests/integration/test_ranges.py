"""Byte ranges and stored bytes over HTTP: servers that honour ``Range`` and servers that do not.

(The S3 and GCS stores pass the same checks in ``StoreContract``, run by test_store_contract.py.)
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from precomputed_core import ByteRange, CloudVolume
from precomputed_core.exceptions import StorageError
from precomputed_drivers.http import HTTPStore
from stand_ins import serve_directory

pytestmark = pytest.mark.http

DATA = bytes(range(256)) * 40
ASKED = [(0, 10), (5000, 6000), (-16, None), (-20000, None), (10230, None), (7, 7), (20000, 30000)]


@pytest.fixture
def root(tmp_path):
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "obj").write_bytes(DATA)
    (tmp_path / "layer" / "zipped.gz").write_bytes(gzip.compress(DATA))
    return tmp_path


@pytest.mark.parametrize("ranges", [True, False], ids=["range-server", "whole-object-server"])
def test_ranges_are_slices_whatever_the_server_does(root, ranges):
    with serve_directory(root, ranges=ranges) as server:
        store = HTTPStore(server.url("layer"))
        requests = [ByteRange("obj", start, end) for start, end in ASKED]
        requests += [ByteRange("missing", 0, 4), ByteRange("obj", 0, 4, whole_size=len(DATA) + 1)]
        got = store.get_ranges(requests)
        store.close()
    assert got == [DATA[start:end] for start, end in ASKED] + [None, None]
    statuses = {int(status) for _, status, _ in server.requests_for("/layer/obj")}
    assert statuses == ({200, 206, 416} if ranges else {200})  # 200: the HEAD of the empty range


def test_ranges_are_requested_concurrently(root):
    with serve_directory(root, delay=0.2) as server:
        store = HTTPStore(server.url("layer"))
        got = store.get_ranges([ByteRange("obj", i * 100, i * 100 + 10) for i in range(8)])
        store.close()
    assert got == [DATA[i * 100 : i * 100 + 10] for i in range(8)]
    assert server.most_at_once > 1


def test_a_compressed_object_has_no_ranges_and_is_stored_compressed(root):
    with serve_directory(root) as server:
        store = HTTPStore(server.url("layer"))
        assert store.get_ranges([ByteRange("zipped", 0, 8, whole_size=len(DATA))]) == [None]
        with pytest.raises(StorageError, match="zipped"):
            store.get_ranges([ByteRange("zipped", 0, 8)])
        stored = store.get_stored("zipped")
        store.close()
    assert stored is not None
    assert stored.metadata.content_encoding == "gzip"
    assert gzip.decompress(stored.data) == DATA


def test_small_cutouts_of_raw_chunks_read_only_their_bytes(tmp_path):
    info = CloudVolume.create_new_info(1, "image", "uint16", "raw", [4, 4, 40], [0, 0, 0], [64, 64, 64],
                                       chunk_size=[64, 64, 64])  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/www/layer", info=info, progress=False)
    vol.commit_info()
    data = np.arange(64**3, dtype=np.uint16).reshape(64, 64, 64)
    vol[:] = data
    with serve_directory(tmp_path / "www") as server:
        remote = CloudVolume(server.url("layer"), progress=False)
        np.testing.assert_array_equal(remote[10:20, 5:9, 30:32][..., 0], data[10:20, 5:9, 30:32])
        remote.close()
    chunk_requests = server.requests_for("/layer/4_4_40/0-64_0-64_0-64")
    assert [int(status) for _, status, _ in chunk_requests] == [206]
