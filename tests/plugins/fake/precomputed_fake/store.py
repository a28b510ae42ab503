"""A store keeping objects in a process-wide dict, written only against public API."""

from __future__ import annotations

from precomputed_core import ObjectMetadata, Store, StoredObject, decompress_bytes

OBJECTS: dict[str, tuple[bytes, ObjectMetadata]] = {}


class DictStore(Store):
    io_threads = 2

    def __init__(self, prefix):
        self.prefix = prefix

    @classmethod
    def from_cloudpath(cls, path, **options):
        return cls(f"{path.bucket}/{path.path}")

    @property
    def url(self):
        return f"dictstore://{self.prefix}"

    @property
    def stores_metadata(self):
        return True

    def get(self, key):
        found = OBJECTS.get(f"{self.prefix}/{key}")
        if found is None:
            return None
        return decompress_bytes(found[0], found[1].content_encoding, where=self.describe(key))

    def get_stored_many(self, keys):
        found = {key: OBJECTS.get(f"{self.prefix}/{key}") for key in keys}
        return {key: None if item is None else StoredObject(*item) for key, item in found.items()}

    def put(self, key, value, *, metadata=ObjectMetadata()):
        OBJECTS[f"{self.prefix}/{key}"] = (bytes(value), metadata)

    def delete(self, key):
        OBJECTS.pop(f"{self.prefix}/{key}", None)

    def exists(self, key):
        return f"{self.prefix}/{key}" in OBJECTS

    def list(self, prefix=""):
        start = f"{self.prefix}/"
        for name in sorted(OBJECTS):
            if name.startswith(start) and name[len(start) :].startswith(prefix):
                yield name[len(start) :]
