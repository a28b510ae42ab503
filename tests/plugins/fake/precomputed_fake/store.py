"""A store keeping objects in a process-wide dict, written only against public API."""

from __future__ import annotations

from precomputed_core import ObjectMetadata, Store, decompress_bytes

OBJECTS: dict[str, tuple[bytes, str | None]] = {}


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

    def get(self, key):
        found = OBJECTS.get(f"{self.prefix}/{key}")
        if found is None:
            return None
        return decompress_bytes(found[0], found[1], where=self.describe(key))

    def put(self, key, value, *, metadata=ObjectMetadata()):
        OBJECTS[f"{self.prefix}/{key}"] = (bytes(value), metadata.content_encoding)

    def delete(self, key):
        OBJECTS.pop(f"{self.prefix}/{key}", None)

    def exists(self, key):
        return f"{self.prefix}/{key}" in OBJECTS

    def list(self, prefix=""):
        start = f"{self.prefix}/"
        for name in sorted(OBJECTS):
            if name.startswith(start) and name[len(start) :].startswith(prefix):
                yield name[len(start) :]
