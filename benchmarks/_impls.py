"""The same workloads through each implementation: precomputed, cloud-volume, tensorstore.

Arrays are (x, y, z) uint8 in Fortran order, the order all three store and return, so
every implementation does the same work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CHUNK = (64, 64, 64)


def make_info(shape: tuple[int, int, int]) -> dict[str, Any]:
    return {
        "@type": "neuroglancer_multiscale_volume",
        "type": "image",
        "data_type": "uint8",
        "num_channels": 1,
        "scales": [
            {
                "key": "8_8_8",
                "size": list(shape),
                "resolution": [8, 8, 8],
                "voxel_offset": [0, 0, 0],
                "chunk_sizes": [list(CHUNK)],
                "encoding": "raw",
            }
        ],
    }


def sample(shape: tuple[int, int, int]) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(0)
    return np.asfortranarray(rng.integers(0, 255, size=shape, dtype=np.uint8))


class CloudVolumeAPI:
    """precomputed and cloud-volume take the same calls; only the import differs."""

    def __init__(self, name: str, module: str, **options: Any) -> None:
        self.name, self._module, self._options = name, module, options

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
        import importlib

        cls = importlib.import_module(self._module).CloudVolume
        vol = cls(f"file://{path}", info=info, progress=False, **self._options)
        if info is not None:
            vol.commit_info()
        return vol

    def write(self, vol: Any, data: np.ndarray[Any, Any]) -> None:
        vol[:, :, :] = data

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        return np.asarray(vol[box])


class Tensorstore:
    name = "tensorstore"

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
        import json
        import os

        import tensorstore as ts

        if info is not None:
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, "info"), "w") as f:
                json.dump(info, f)
        spec = {"driver": "neuroglancer_precomputed", "kvstore": {"driver": "file", "path": path}}
        return ts.open(spec).result()

    def write(self, vol: Any, data: np.ndarray[Any, Any]) -> None:
        vol[:, :, :, 0].write(data).result()

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        # Fortran order: the same memory layout the other two return.
        return vol[(*box, 0)].read(order="F").result()


IMPLEMENTATIONS = {
    impl.name: impl
    for impl in (
        CloudVolumeAPI("precomputed", "precomputed_core"),
        # compress=False: the same uncompressed bare-name chunks the others write.
        CloudVolumeAPI("cloud-volume", "cloudvolume", compress=False),
        Tensorstore(),
    )
}
