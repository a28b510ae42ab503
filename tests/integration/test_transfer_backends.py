"""transfer_to between local disk and every backend: byte copies and re-encoding, both ways."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core import CloudVolume

SIZE = (90, 70, 20)


def _local_source(tmp_path, compress="gzip"):
    info = CloudVolume.create_new_info(1, "segmentation", "uint64", "raw", [8, 8, 40], (5, 0, 1), SIZE,
                                       chunk_size=(32, 32, 16))  # fmt: skip
    vol = CloudVolume(f"file://{tmp_path}/local-src", info=info, compress=compress, progress=False)
    vol.commit_info()
    data = (np.arange(np.prod(SIZE)).reshape(SIZE) // 333).astype(np.uint64)
    vol[:, :, :] = data
    return vol, data


@pytest.mark.parametrize(("encoding", "sharded"), [(None, None), ("compressed_segmentation", True)])
def test_to_and_from_a_backend(backend, tmp_path, encoding, sharded):
    src, data = _local_source(tmp_path)
    if backend.writable:
        dst = src.transfer_to(backend.write_url("copy"), encoding=encoding, sharded=sharded)
        np.testing.assert_array_equal(CloudVolume(backend.read_url("copy"))[:, :, :][..., 0], data)
        assert dst.info["scales"][0]["encoding"] == (encoding or "raw")
        remote = CloudVolume(backend.read_url("copy"), progress=False)
    else:  # HTTP is read-only: serve a copy and transfer from it
        src.transfer_to(backend.write_url("copy"), encoding=encoding, sharded=sharded)
        remote = CloudVolume(backend.read_url("copy"), progress=False)
    back = remote.transfer_to(f"file://{tmp_path}/back", encoding="raw", sharded=False)
    np.testing.assert_array_equal(back[:, :, :][..., 0], data)


def test_byte_copy_keeps_gzip_objects_compressed(backend, tmp_path):
    src, data = _local_source(tmp_path)
    key = "8_8_40/5-37_0-32_1-17"
    if backend.writable:
        dst = src.transfer_to(backend.write_url("gz"))
    else:  # from the HTTP server (which sends Content-Encoding: gzip) back to local disk
        src.transfer_to(backend.write_url("gz"))
        dst = CloudVolume(backend.read_url("gz"), progress=False).transfer_to(f"file://{tmp_path}/from-http")
    stored = dst._store().get_stored_many([key])[key]
    assert stored.metadata.content_encoding == "gzip"
    assert stored.data[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(dst[:, :, :][..., 0], data)
