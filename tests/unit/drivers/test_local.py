from __future__ import annotations

import gzip
import os

import pytest

from precomputed_core import ByteRange, ObjectMetadata, parse_cloudpath
from precomputed_core.exceptions import DecodingError
from precomputed_core.testing import StoreContract
from precomputed_drivers.local import LocalStore


class TestLocalStoreContract(StoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return LocalStore(tmp_path / "layer")


def test_from_cloudpath_and_url(tmp_path):
    store = LocalStore.from_cloudpath(parse_cloudpath(f"file://{tmp_path}/ds/img"))
    assert store.root == f"{tmp_path}/ds/img"
    assert store.url == f"file://{tmp_path}/ds/img"
    assert store.describe("4_4_40/0-1_0-1_0-1") == f"file://{tmp_path}/ds/img/4_4_40/0-1_0-1_0-1"


def test_uncompressed_writes_use_the_bare_name(tmp_path):
    store = LocalStore(tmp_path)
    store.put("4_4_40/0-64_0-64_0-64", b"abc")
    assert sorted(os.listdir(tmp_path / "4_4_40")) == ["0-64_0-64_0-64"]


def test_gzip_writes_use_the_gz_suffix_and_replace_the_bare_file(tmp_path):
    store = LocalStore(tmp_path)
    store.put("k/c", b"raw")
    store.put("k/c", gzip.compress(b"zipped"), metadata=ObjectMetadata(content_encoding="gzip"))
    assert sorted(os.listdir(tmp_path / "k")) == ["c.gz"]
    assert gzip.decompress((tmp_path / "k" / "c.gz").read_bytes()) == b"zipped"
    assert store.get("k/c") == b"zipped"


@pytest.mark.parametrize(("suffix", "module"), [(".br", "brotli"), (".zstd", "zstandard")])
def test_reads_cloudvolume_brotli_and_zstd_names(tmp_path, suffix, module):
    lib = pytest.importorskip(module)
    payload = b"chunk bytes " * 100
    compressed = lib.compress(payload) if module == "brotli" else lib.ZstdCompressor().compress(payload)
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / f"c{suffix}").write_bytes(compressed)
    store = LocalStore(tmp_path)
    assert store.get("k/c") == payload
    assert store.exists("k/c") is True
    assert list(store.list("k/")) == ["k/c"]


def test_truncated_zstd_is_an_error(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    data = zstandard.ZstdCompressor().compress(b"x" * 10000)
    (tmp_path / "c.zstd").write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodingError, match=r"c\.zstd"):
        LocalStore(tmp_path).get("c")


def test_write_is_atomic_when_the_rename_fails(tmp_path, monkeypatch):
    store = LocalStore(tmp_path)
    store.put("k/c", b"original")

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        store.put("k/c", b"new data that never lands")
    monkeypatch.undo()
    assert store.get("k/c") == b"original"
    assert os.listdir(tmp_path / "k") == ["c"]  # no temp file left behind


def test_write_interrupted_mid_file_leaves_old_chunk(tmp_path, monkeypatch):
    store = LocalStore(tmp_path)
    store.put("k/c", b"original")
    real_write = os.write

    def interrupting_write(fd, data):
        real_write(fd, bytes(data[:3]))  # part of the new chunk reaches the disk, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupting_write)
    with pytest.raises(KeyboardInterrupt):
        store.put("k/c", b"replacement")
    monkeypatch.undo()
    assert store.get("k/c") == b"original"
    assert os.listdir(tmp_path / "k") == ["c"]


def test_ranged_reads(tmp_path):
    store = LocalStore(tmp_path)
    store.put("shard", bytes(range(100)))
    assert store.supports_ranges is True
    got = store.get_ranges([ByteRange("shard", 10, 15), ByteRange("shard", -3), ByteRange("missing", 0, 4)])
    assert got == [bytes(range(10, 15)), bytes([97, 98, 99]), None]


def test_relative_scale_keys_resolve_against_the_layer(tmp_path):
    store = LocalStore(tmp_path / "ds" / "layer")
    store.put("../shared_scale/0-1_0-1_0-1", b"z")
    assert (tmp_path / "ds" / "shared_scale" / "0-1_0-1_0-1").read_bytes() == b"z"
    assert store.get("../shared_scale/0-1_0-1_0-1") == b"z"


def test_permission_denied_is_reported(tmp_path):
    if os.geteuid() == 0:
        # root ignores file modes; use a path whose parent is a file instead.
        (tmp_path / "blocker").write_bytes(b"")
        store = LocalStore(tmp_path / "blocker")
        with pytest.raises(OSError, match="blocker"):
            store.put("k", b"1")
        return
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(PermissionError):
        LocalStore(locked).put("k", b"1")


@pytest.mark.parametrize(
    ("where", "error", "expected"),
    [
        ("open-read", OSError(5, "Input/output error"), "cannot read .*k/c: Input/output error"),
        ("open-write", OSError(28, "No space left on device"), "cannot write .*k/c: No space left"),
        (
            "makedirs",
            PermissionError(13, "Permission denied"),
            "cannot create the directory .*: permission denied",
        ),
    ],
)
def test_os_errors_become_storage_errors_naming_the_path(tmp_path, monkeypatch, where, error, expected):
    from precomputed_core.exceptions import StorageError

    store = LocalStore(tmp_path / "layer")
    store.put("k/c", b"data")

    def failing_write(fd, data):
        raise error

    def failing_makedirs(*args, **kwargs):
        raise error

    def failing_pread(*args, **kwargs):
        raise error

    if where == "makedirs":
        monkeypatch.setattr(os, "makedirs", failing_makedirs)
        action = lambda: LocalStore(tmp_path / "other").put("k/c", b"x")  # noqa: E731
    elif where == "open-read":
        monkeypatch.setattr(os, "pread", failing_pread)
        action = lambda: store.get("k/c")  # noqa: E731
    else:
        monkeypatch.setattr(os, "write", failing_write)
        action = lambda: store.put("k/c", b"new")  # noqa: E731
    with pytest.raises(StorageError, match=expected):
        action()
    monkeypatch.undo()
    assert [n for n in os.listdir(tmp_path / "layer" / "k") if n != "c"] == []
