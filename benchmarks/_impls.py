"""The same workloads through each implementation: precomputed, cloud-volume, tensorstore, floor.

Arrays are (x, y, z) in Fortran order, the order all of them store and return, so every
implementation does the same work. "floor" is not a library: it reads the chunk files with
the cheapest calls we know, decodes them with the encoding's own library and places each
into one preallocated output array: the least work any implementation must do.

A dataset is described by a dict: ``shape``, ``dtype``, ``encoding``, ``chunk``,
``content`` (``noise``, ``smooth`` or ``labels``), for compressed_segmentation ``block``,
and for a sharded scale ``sharding`` (its specification).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

KEY = "8_8_8"


def make_info(data: dict[str, Any]) -> dict[str, Any]:
    scale: dict[str, Any] = {
        "key": KEY,
        "size": list(data["shape"]),
        "resolution": [8, 8, 8],
        "voxel_offset": [0, 0, 0],
        "chunk_sizes": [list(data["chunk"])],
        "encoding": data["encoding"],
    }
    if data["encoding"] == "jpeg":
        scale["jpeg_quality"] = 85
    if data["encoding"] == "compressed_segmentation":
        scale["compressed_segmentation_block_size"] = list(data["block"])
    if data.get("sharding"):
        scale["sharding"] = dict(data["sharding"])
    kind = "segmentation" if data["content"] == "labels" else "image"
    return {
        "@type": "neuroglancer_multiscale_volume",
        "type": kind,
        "data_type": data["dtype"],
        "num_channels": 1,
        "scales": [scale],
    }


def sample(data: dict[str, Any], seed: int = 0) -> np.ndarray[Any, Any]:
    """Deterministic voxels: random bytes, a smooth EM-like image, or blob labels."""
    shape, dtype = tuple(data["shape"]), np.dtype(data["dtype"])
    rng = np.random.default_rng(seed)
    if data["content"] == "noise":
        return np.asfortranarray(rng.integers(0, 255, size=shape, dtype=dtype))
    x, y, z = (np.arange(s, dtype=np.float32) for s in shape)
    if data["content"] == "smooth":
        image = 128 + 50 * np.sin(x[:, None, None] / 9) * np.cos(y[None, :, None] / 13)
        image = image + 30 * np.cos(z[None, None, :] / 5) + rng.normal(0, 4, size=shape)
        return np.asfortranarray(np.clip(image, 0, 255).astype(dtype))
    if data["content"] == "blobs":
        return blob_labels(shape, dtype, seed)
    # boxes: 11 x 7 x 5 voxels, regular and axis-aligned (an easy case for every codec)
    labels = (x[:, None, None] // 11) + 1000 * (y[None, :, None] // 7) + 10**6 * (z[None, None, :] // 5)
    return np.asfortranarray((labels.astype(np.uint64) * 2654435761 % 2**40).astype(dtype))


#: Seed spacing of the blob labels: cells come out about 20 to 60 voxels across.
BLOB_SPACING = 32


def blob_labels(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray[Any, Any]:
    """Voronoi cells of jittered seeds, one per 32^3 cell of a grid: round, irregular blobs
    20-60 voxels across meeting at slanted faces, mostly 1-3 labels per 8^3 block, as in a
    real supervoxel segmentation. Made once per shape and seed, then read from a .npy file
    (``PRECOMPUTED_BENCH_CACHE``, default the temporary directory)."""
    folder = os.environ.get("PRECOMPUTED_BENCH_CACHE", tempfile.gettempdir())
    path = os.path.join(folder, f"blobs-{'x'.join(map(str, shape))}-{np.dtype(dtype).name}-{seed}.npy")
    if os.path.exists(path):
        return np.asfortranarray(np.load(path))
    g = BLOB_SPACING
    rng = np.random.default_rng(seed)
    cells = [-(-s // g) + 1 for s in shape]
    seeds = np.indices(cells).reshape(3, -1).T * g + rng.uniform(0, g, size=(int(np.prod(cells)), 3))
    ids = rng.integers(1, 2**40, size=len(seeds), dtype=np.uint64)
    out = np.empty(shape, dtype=dtype, order="F")
    x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    for z in range(shape[2]):
        best = np.full(x.shape, np.inf, dtype=np.float32)
        label = np.zeros(x.shape, dtype=np.uint64)
        cx, cy, cz = x // g, y // g, z // g
        for dx, dy, dz in np.ndindex(3, 3, 3):  # the nearest seed is in a neighbouring cell
            ix, iy, iz = (
                np.clip(cx + dx - 1, 0, cells[0] - 1),
                np.clip(cy + dy - 1, 0, cells[1] - 1),
                min(max(cz + dz - 1, 0), cells[2] - 1),
            )
            index = (ix * cells[1] + iy) * cells[2] + iz
            point = seeds[index]
            d = (point[..., 0] - x) ** 2 + (point[..., 1] - y) ** 2 + (point[..., 2] - z) ** 2
            closer = d < best
            best = np.where(closer, d, best)
            label = np.where(closer, ids[index], label)
        out[:, :, z] = label.astype(dtype)
    np.save(path + ".tmp.npy", out)
    os.replace(path + ".tmp.npy", path)
    return out


def chunk_boxes(shape: tuple[int, ...], chunk: tuple[int, ...], box: tuple[slice, ...]) -> list[Any]:
    ranges = [range(b.start // c * c, b.stop, c) for b, c in zip(box, chunk)]
    return [
        ((x, y, z), (min(x + chunk[0], shape[0]), min(y + chunk[1], shape[1]), min(z + chunk[2], shape[2])))
        for z in ranges[2]
        for y in ranges[1]
        for x in ranges[0]
    ]


def write_dataset(path: str, data: dict[str, Any]) -> None:
    """Write a layer for the read workloads: raw with plain numpy and files, others with precomputed."""
    if data.get("meshes"):
        from _meshes import write_meshes

        write_meshes(path, data)
        return
    voxels = sample(data, seed=1)
    if data["encoding"] != "raw" or "://" in path or data.get("sharding") or data.get("compress"):
        from precomputed_core import CloudVolume

        vol = CloudVolume(path if "://" in path else f"file://{path}", info=make_info(data), progress=False,
                          compress=data.get("compress"))  # fmt: skip
        vol.commit_info()
        vol[:, :, :] = voxels
        return
    os.makedirs(os.path.join(path, KEY), exist_ok=True)
    with open(os.path.join(path, "info"), "w") as f:
        json.dump(make_info(data), f)
    for lo, hi in chunk_boxes(voxels.shape, tuple(data["chunk"]), tuple(slice(0, s) for s in voxels.shape)):
        name = "_".join(f"{a}-{b}" for a, b in zip(lo, hi))
        piece = voxels[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        with open(os.path.join(path, KEY, name), "wb") as f:
            f.write(piece.tobytes(order="F"))


class CloudVolumeAPI:
    """precomputed and cloud-volume take the same calls; only the import differs."""

    def __init__(self, name: str, module: str, **options: Any) -> None:
        self.name, self._module, self._options = name, module, options

    def open(self, path: str, info: dict[str, Any] | None = None, **extra: Any) -> Any:
        import importlib

        cls = importlib.import_module(self._module).CloudVolume
        url = path if "://" in path else f"file://{path}"
        vol = cls(url, info=info, progress=False, **self._options, **extra)
        if info is not None:
            vol.commit_info()
        return vol

    def write(self, vol: Any, data: np.ndarray[Any, Any]) -> None:
        vol[:, :, :] = data

    def write_part(self, vol: Any, data: np.ndarray[Any, Any]) -> None:
        """``data`` at the volume's corner (whole chunks)."""
        x, y, z = data.shape
        vol[:x, :y, :z] = data

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        return np.asarray(vol[box])

    def patch(self, vol: Any, box: tuple[slice, ...], data: np.ndarray[Any, Any]) -> None:
        """A write that covers chunks only in part: they are read, patched and written back."""
        vol.non_aligned_writes = True
        vol[box] = data

    def meshes(self, vol: Any, ids: list[int], multires: bool) -> Any:
        from _meshes import fetch_and_merge

        return fetch_and_merge(vol, self._module, ids, multires)


class Tensorstore:
    name = "tensorstore"

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
        import tensorstore as ts

        if path.startswith("s3://"):  # the S3 stand-ins (benchmarks/_s3.py)
            bucket, _, prefix = path.removeprefix("s3://").partition("/")
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
            if info is not None:
                from _s3 import client

                client().pipe(f"{bucket}/{prefix}/info", json.dumps(info).encode())
            store = {"driver": "s3", "bucket": bucket, "path": prefix + "/", "aws_region": "us-east-1",
                     "endpoint": os.environ["AWS_ENDPOINT_URL_S3"]}  # fmt: skip
            return ts.open({"driver": "neuroglancer_precomputed", "kvstore": store}).result()
        if path.startswith("http://"):
            store = {"driver": "http", "base_url": path + "/"}
            return ts.open({"driver": "neuroglancer_precomputed", "kvstore": store}).result()
        if info is not None:
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, "info"), "w") as f:
                json.dump(info, f)
        spec = {"driver": "neuroglancer_precomputed", "kvstore": {"driver": "file", "path": path}}
        return ts.open(spec).result()

    def write(self, vol: Any, data: np.ndarray[Any, Any]) -> None:
        vol[:, :, :, 0].write(data).result()

    def write_part(self, vol: Any, data: np.ndarray[Any, Any]) -> None:
        x, y, z = data.shape
        vol[:x, :y, :z, 0].write(data).result()

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        # Fortran order: the same memory layout the others return (C order costs it a transpose).
        return vol[(*box, 0)].read(order="F").result()

    def patch(self, vol: Any, box: tuple[slice, ...], data: np.ndarray[Any, Any]) -> None:
        vol[(*box, 0)].write(data).result()


def _output(shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """An uninitialised Fortran array in a huge-page-advised private anonymous mapping (the fast way)."""
    import mmap

    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes < 4 * 2**20:
        return np.empty(shape, dtype=dtype, order="F")
    region = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    region.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(region, dtype=dtype).reshape(shape, order="F")


def _decoder(info: dict[str, Any]) -> Any:
    """The encoding's own library, called as plainly as possible: bytes, shape -> (x, y, z) array."""
    scale, dtype = info["scales"][0], np.dtype(info["data_type"])
    encoding = scale["encoding"]
    if encoding == "raw":
        return lambda data, shape: np.frombuffer(data, dtype).reshape(shape, order="F")
    if encoding == "jpeg":
        import simplejpeg  # the fastest libjpeg-turbo binding we know (Pillow is slower)

        def jpeg(data: bytes, shape: tuple[int, ...]) -> Any:
            rows = simplejpeg.decode_jpeg(data, colorspace="GRAY")
            return rows.reshape(shape[2], shape[1], shape[0]).transpose(2, 1, 0)

        return jpeg
    import compressed_segmentation as cseg

    block = tuple(scale["compressed_segmentation_block_size"])
    # Its Cython signature takes bytes only: one copy of the compressed chunk.
    return lambda data, shape: cseg.decompress(bytes(data), shape, dtype, block, order="F")


class Floor:
    """Chunk files read and decoded as plainly as possible, placed into one output.

    One ``open``/``preadv``/``close`` per file into a buffer each thread reuses (no
    allocation per chunk), a huge-page-advised output, and one contiguous share of the
    chunks per thread (no per-chunk hand-offs). With ``placed=False`` (raw only) each file
    is read straight into its own slot of the output, chunk after chunk: the I/O alone,
    with no placement into the volume's layout, so not the array a read must return.
    """

    def __init__(self, threads: int, placed: bool = True) -> None:
        self.name, self.threads = f"floor ({threads} thread{'s' if threads > 1 else ''})", threads
        self.placed = placed
        self._pool = ThreadPoolExecutor(threads)

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
        with open(os.path.join(path, "info")) as f:
            info = json.load(f)
        scale = info["scales"][0]
        return (
            path,
            tuple(scale["size"]),
            tuple(scale["chunk_sizes"][0]),
            np.dtype(info["data_type"]),
            _decoder(info),
        )

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        path, shape, chunk, dtype, decode = vol
        out = _output(tuple(b.stop - b.start for b in box), dtype)
        origin = [b.start for b in box]

        flat = memoryview(out.reshape(-1, order="A")).cast("B")
        slots = {(lo, hi): i for i, (lo, hi) in enumerate(chunk_boxes(shape, chunk, box))}
        local = threading.local()

        def place(lo: tuple[int, ...], hi: tuple[int, ...]) -> None:
            name = "_".join(f"{a}-{b}" for a, b in zip(lo, hi))
            fd = os.open(f"{path}/{KEY}/{name}", os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                if not self.placed:  # the I/O alone: into the chunk's slot of the output
                    start = slots[(lo, hi)] * size
                    os.preadv(fd, [flat[start : start + size]], 0)
                    return
                buffer = getattr(local, "buffer", None)
                if buffer is None or len(buffer) < size:
                    buffer = local.buffer = memoryview(bytearray(max(size, 2**18)))
                data = buffer[: os.preadv(fd, [buffer[:size]], 0)]
            finally:
                os.close(fd)
            voxels = decode(data, tuple(h - low for low, h in zip(lo, hi)))
            a = [max(low, b.start) for low, b in zip(lo, box)]
            z = [min(h, b.stop) for h, b in zip(hi, box)]
            target = tuple(slice(i - o, j - o) for i, j, o in zip(a, z, origin))
            out[target] = voxels[tuple(slice(i - low, j - low) for i, j, low in zip(a, z, lo))]

        chunks = chunk_boxes(shape, chunk, box)
        n = self.threads

        def place_all(part: int) -> None:
            for lo, hi in chunks[len(chunks) * part // n : len(chunks) * (part + 1) // n]:
                place(lo, hi)

        list(self._pool.map(place_all, range(n)))
        return out


class Boto3:
    """What a plain boto3 client costs: one GetObject per chunk from 16 threads, each chunk
    placed into one output array. No library: the yardstick for client CPU per request."""

    name = "boto3"

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(16)

    def open(self, path: str, info: dict[str, Any] | None = None) -> Any:
        import boto3
        import botocore.config

        bucket, _, prefix = path.removeprefix("s3://").partition("/")
        s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], aws_access_key_id="bench",
                          aws_secret_access_key="bench", region_name="us-east-1",
                          config=botocore.config.Config(max_pool_connections=16))  # fmt: skip
        info = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/info")["Body"].read())
        scale = info["scales"][0]
        shape, chunk = tuple(scale["size"]), tuple(scale["chunk_sizes"][0])
        return s3, bucket, prefix, shape, chunk, np.dtype(info["data_type"])

    def read(self, vol: Any, box: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        s3, bucket, prefix, shape, chunk, dtype = vol
        out = np.empty(tuple(b.stop - b.start for b in box), dtype=dtype, order="F")

        def place(lo: tuple[int, ...], hi: tuple[int, ...]) -> None:
            name = "_".join(f"{a}-{b}" for a, b in zip(lo, hi))
            data = s3.get_object(Bucket=bucket, Key=f"{prefix}/{KEY}/{name}")["Body"].read()
            voxels = np.frombuffer(data, dtype).reshape(tuple(h - low for low, h in zip(lo, hi)), order="F")
            a = [max(low, b.start) for low, b in zip(lo, box)]
            z = [min(h, b.stop) for h, b in zip(hi, box)]
            target = tuple(slice(i - b.start, j - b.start) for i, j, b in zip(a, z, box))
            out[target] = voxels[tuple(slice(i - low, j - low) for i, j, low in zip(a, z, lo))]

        list(self._pool.map(lambda c: place(*c), chunk_boxes(shape, chunk, box)))
        return out


IMPLEMENTATIONS: dict[str, Any] = {
    impl.name: impl
    for impl in (
        CloudVolumeAPI("precomputed", "precomputed_core"),
        CloudVolumeAPI("precomputed, parallel=2", "precomputed_core", parallel=2),
        CloudVolumeAPI("precomputed, parallel=2, second call", "precomputed_core", parallel=2),
        # compress=False: the same uncompressed bare-name chunks the others write and read.
        CloudVolumeAPI("cloud-volume", "cloudvolume", compress=False),
        CloudVolumeAPI("cloud-volume, parallel=2", "cloudvolume", compress=False, parallel=2),
        # Workload e2: gzip chunk files (<chunk>.gz), cloud-volume's cloud default, at level 6.
        CloudVolumeAPI("precomputed, gzip", "precomputed_core", compress="gzip"),
        CloudVolumeAPI("precomputed, gzip, parallel=2", "precomputed_core", compress="gzip", parallel=2),
        CloudVolumeAPI("cloud-volume, gzip", "cloudvolume", compress="gzip"),
        # Workload l's floor: the chunk files a cache holds, read from local disk with no cache.
        CloudVolumeAPI("precomputed, local disk, no cache", "precomputed_core"),
        # Workloads m and n: the same calls with a dask.distributed LocalCluster running.
        CloudVolumeAPI("precomputed, Dask local cluster", "precomputed_core"),
        Tensorstore(),
        Boto3(),
    )
}
FLOORS = {f"floor-{n}": n for n in (1, 2)}
#: The issue's stronger floor: the I/O alone, into slots of the output (raw full reads).
IO_FLOOR = "floor-io-2"


def implementation(name: str) -> Any:
    if name in FLOORS:
        return Floor(FLOORS[name])
    if name == IO_FLOOR:
        return Floor(2, placed=False)
    return IMPLEMENTATIONS[name]
