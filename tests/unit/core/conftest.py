from __future__ import annotations

import pytest

from precomputed_core import CloudVolume
from stores import MinimalStore


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


@pytest.fixture
def minimal_store():
    """A store with only the abstract surface (what the batched defaults build on)."""
    return MinimalStore()
