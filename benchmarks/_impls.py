"""The same workloads through each implementation: precomputed, cloud-volume, tensorstore, floor.

Arrays are (x, y, z) uint8 in Fortran order, the order all of them store and return,
so every implementation does the same work. "floor" is not a library: it reads the chunk
files with plain file reads and places each into one preallocated output array, the least
work any implementation must do.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

CHUNK = (64, 64, 64)
KEY = "8_8_8"


def make_info(shape: tuple[int, int, int]) -> dict[str, Any]:
    return {
        "@type": "neuroglancer_multiscale_volume",
        "type": "image",
        "data_type": "uint8",
        "num_channels": 1,
        "scales": [
            {
                "key": KEY,
                "size": list(shape),
                "resolution": [8, 8, 8],
                "voxel_offset": [0, 0, 0],
                "chunk_sizes": [list(CHUNK)],
                "encoding": "raw",
            }
        ],
    }


def sample(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray[Any, Any]:
    """Deterministic data that does not compress to nothing: random bytes, Fortran order."""
    rng = np.random.default_rng(seed)
    return np.asfortranarray(rng.integers(0, 255, size=shape, dtype=np.uint8))


def _chunks(shape: tuple[int, int, int], box: tuple[slice, ...]) -> list[tuple[tuple[int, ...], ...]]:
    ranges = [range(b.start // c * c, b.stop, c) for b, c in zip(box, CHUNK)]
    return [
        ((x, y, z), (min(x + CHUNK[0], shape[0]), min(y + CHUNK[1], shape[1]), min(z + CHUNK[2], shape[2])))
        for z in ranges[2]
        for y in ranges[1]
        for x in ranges[0]
    ]


def write_plain(path: str, data: np.ndarray[Any, Any]) -> None:
    """Write a layer with numpy and plain files (bare chunk names), for the read workloads."""
    shape = data.shape
    os.makedirs(os.path.join(path, KEY), exist_ok=True)
    with open(os.path.join(path, "info"), "w") as f:
        json.dump(make_info(shape), f)
    for lo, hi in _chunks(shape, tuple(slice(0, s) for s in shape)):
        name = "_".join(f"{a}-{b}" for a, b in zip(lo, hi))
        piece = data[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        with open(os.path.join(path, KEY, name), "wb") as f:
            f.write(piece.tobytes(order="F"))


class CloudVolumeAPI:
    """precomputed and cloud-volume take the same calls; only the import differs."""

    writes = True

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
    writes = True

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
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
        # Fortran order: the same memory layout the others return (C order costs it a transpose).
        return vol[(*box, 0)].read(order="F").result()


def _output(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """An uninitialised Fortran array in a huge-page-advised anonymous mapping (the fast way)."""
    import mmap

    nbytes = int(np.prod(shape))
    if nbytes < 4 * 2**20:
        return np.empty(shape, dtype=np.uint8, order="F")
    region = mmap.mmap(-1, nbytes)
    region.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(region, dtype=np.uint8).reshape(shape, order="F")


class Floor:
    """Plain file reads placed into one preallocated output, on ``threads`` threads.

    It uses the cheapest calls we know (one ``open``/``pread``/``close`` per file and a
    huge-page-advised output), so no library can do less work for the same result.
    """

    writes = False

    def __init__(self, threads: int) -> None:
        self.name, self.threads = f"floor ({threads} thread{'s' if threads > 1 else ''})", threads
        self._pool = ThreadPoolExecutor(threads)

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
        with open(os.path.join(path, "info")) as f:
            size = json.load(f)["scales"][0]["size"]
        return path, tuple(size)

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        path, shape = vol
        out = _output(tuple(b.stop - b.start for b in box))
        origin = [b.start for b in box]

        def place(lo_hi: tuple[tuple[int, ...], ...]) -> None:
            lo, hi = lo_hi
            name = "_".join(f"{a}-{b}" for a, b in zip(lo, hi))
            fd = os.open(f"{path}/{KEY}/{name}", os.O_RDONLY)
            try:
                data = os.pread(fd, (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]), 0)
            finally:
                os.close(fd)
            chunk = np.frombuffer(data, np.uint8).reshape([h - low for low, h in zip(lo, hi)], order="F")
            a = [max(low, b.start) for low, b in zip(lo, box)]
            z = [min(h, b.stop) for h, b in zip(hi, box)]
            target = tuple(slice(i - o, j - o) for i, j, o in zip(a, z, origin))
            out[target] = chunk[tuple(slice(i - low, j - low) for i, j, low in zip(a, z, lo))]

        chunks = _chunks(shape, box)
        n = self.threads

        def place_all(part: int) -> None:  # one contiguous share per thread: no per-chunk hand-offs
            for lo_hi in chunks[len(chunks) * part // n : len(chunks) * (part + 1) // n]:
                place(lo_hi)

        list(self._pool.map(place_all, range(n)))
        return out


IMPLEMENTATIONS: dict[str, Any] = {
    impl.name: impl
    for impl in (
        CloudVolumeAPI("precomputed", "precomputed_core"),
        # compress=False: the same uncompressed bare-name chunks the others write and read.
        CloudVolumeAPI("cloud-volume", "cloudvolume", compress=False),
        Tensorstore(),
    )
}
FLOORS = {f"floor-{n}": n for n in (1, 2)}


def implementation(name: str) -> Any:
    if name in FLOORS:
        return Floor(FLOORS[name])
    return IMPLEMENTATIONS[name]
