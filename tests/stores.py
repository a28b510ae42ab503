"""Stores written in the tests, against the public API only (``pythonpath = ["tests"]``)."""

from __future__ import annotations

from precomputed_core import ObjectMetadata, Store, decompress_bytes


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
