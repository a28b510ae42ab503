"""The Store contract every driver passes, run against the S3 and GCS stand-ins.

One deliberate difference: an object store never hands back an empty object as data
(an empty body with a success status is an error, never a chunk of zeros), so the
contract's empty-value round trip is replaced by that check.
"""

from __future__ import annotations

import pytest

from precomputed_core.exceptions import StorageError
from precomputed_core.testing import StoreContract
from precomputed_drivers.gcs import GCSStore
from precomputed_drivers.s3 import S3Store


class _RemoteContract(StoreContract):
    def test_empty_value(self, store):
        store.put("empty", b"")
        assert store.exists("empty") is True
        with pytest.raises(StorageError, match="empty came back empty"):
            store.get("empty")


@pytest.mark.s3
class TestS3StoreContract(_RemoteContract):
    @pytest.fixture
    def store(self, s3_bucket):
        return S3Store(s3_bucket, "layer")


@pytest.mark.gcs
class TestGCSStoreContract(_RemoteContract):
    @pytest.fixture
    def store(self, gcs_bucket):
        return GCSStore(gcs_bucket, "layer")
