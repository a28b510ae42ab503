from __future__ import annotations

import pytest

from precomputed_core import CloudVolume, ObjectMetadata, Store, decompress_bytes


@pytest.fixture
def make_volume(tmp_path):
    """A committed local layer: make_volume(size=..., chunk=..., dtype=..., channels=..., offset=...)."""

    def make(size=(100, 90, 37), chunk=(32, 32, 16), dtype="uint8", channels=1, offset=(0, 0, 0),
             max_mip=0, name="layer", layer_type="image", **options):  # fmt: skip
        info = CloudVolume.create_new_info(
            channels, layer_type, dtype, "raw", [4, 4, 40], offset, size, chunk_size=chunk, max_mip=max_mip
        )
        options.setdefault("progress", False)
        vol = CloudVolume(f"file://{tmp_path}/ds/{name}", info=info, **options)
        vol.commit_info()
        return vol

    return make


class MinimalStore(Store):
    """Only the abstract surface: objects in a dict, decompressed on ``get``."""

    def __init__(self):
        self.objects: dict[str, tuple[bytes, ObjectMetadata]] = {}
        self.gets = 0

    @property
    def url(self):
        return "minimal://layer"

    def get(self, key):
        self.gets += 1
        found = self.objects.get(key)
        return None if found is None else decompress_bytes(found[0], found[1].content_encoding, where=key)

    def put(self, key, value, *, metadata=ObjectMetadata()):
        self.objects[key] = (bytes(value), metadata)

    def delete(self, key):
        self.objects.pop(key, None)

    def exists(self, key):
        return key in self.objects

    def list(self, prefix=""):
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))


@pytest.fixture
def minimal_store():
    """A store with only the abstract surface (what the batched defaults build on)."""
    return MinimalStore()
