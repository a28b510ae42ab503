from __future__ import annotations

import uuid

import pytest

from precomputed_core import parse_cloudpath
from precomputed_core.testing import StoreContract
from precomputed_drivers.memory import MemoryStore


class TestMemoryStoreContract(StoreContract):
    @pytest.fixture
    def store(self):
        return MemoryStore(f"bkt-{uuid.uuid4().hex[:8]}", "ds/layer")


def test_shared_between_stores_of_the_same_path():
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    one = MemoryStore.from_cloudpath(parse_cloudpath(f"mem://{bucket}/ds/img"))
    two = MemoryStore.from_cloudpath(parse_cloudpath(f"mem://{bucket}/ds/img"))
    one.put("info", b"{}")
    assert two.get("info") == b"{}"
    assert one.url == f"mem://{bucket}/ds/img"
    other = MemoryStore.from_cloudpath(parse_cloudpath(f"mem://{bucket}/ds/seg"))
    assert other.get("info") is None
