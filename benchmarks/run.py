"""Benchmarks: the same workloads through precomputed, cloud-volume and tensorstore.

Every measurement runs in a fresh subprocess, so peak memory is each implementation's
own; implementations are interleaved (A B C A B C ...) over the repetitions, and the
report gives medians, ratios and peak memory. It is written to docs/benchmarks.md.

    nox -s bench                 # the full run (about 25 minutes on 2 cores)
    nox -s bench -- --quick      # a small version, under a minute (printed, not written)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _impls import write_dataset  # noqa: E402
from _s3 import http_stand_in, remove, s3_stand_in  # noqa: E402

REPORT = HERE.parent / "docs" / "benchmarks.md"
PEERS = ["precomputed", "cloud-volume", "tensorstore"]
P2 = "precomputed, parallel=2"
#: The same after one untimed full call, which tells parallel=2 whether the GIL is the limit.
P2_SECOND = "precomputed, parallel=2, second call"
ON_S3 = ["precomputed", "cloud-volume"]
#: Remote voxels: every library, and precomputed with worker processes.
REMOTE = ["precomputed", P2, P2_SECOND, "cloud-volume", "tensorstore"]
#: The latency stand-ins' fixed wait per request, as a cloud region's round trip.
LATENCY_MS = 25
#: Where a dataset lives: a directory of the run, or a stand-in server.
REMOTE_STORAGE = ("s3", "s3-slow", "http-slow")
CACHED = ["precomputed", "cloud-volume", "precomputed, local disk, no cache"]
PARALLEL = ["precomputed", "precomputed, parallel=2", "cloud-volume", "cloud-volume, parallel=2"]
FLOORS = ["floor-1", "floor-2"]
IO_FLOOR = "floor-io-2"
#: gzip on local disk as cloud-volume lays it out (<chunk>.gz): tensorstore reads gzip only as
#: HTTP Content-Encoding, so it has no row here.
GZIP = ["precomputed, gzip", "precomputed, gzip, parallel=2", "cloud-volume, gzip"]
CLUSTER = "precomputed, Dask local cluster"
#: Workload j's sharding: 8 shards of 4x4x4 chunks, 8 minishards each (a 512^3 volume of 64^3
#: chunks has 9 bits of chunk id); chunks stored raw, so the libraries, not gzip, are measured.
SHARDING = {"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 3, "hash": "identity",
            "minishard_bits": 3, "shard_bits": 3, "minishard_index_encoding": "gzip",
            "data_encoding": "raw"}  # fmt: skip


@dataclass
class Workload:
    """One row group of the report."""

    key: str
    title: str
    kind: str  # write | read | random | big | patch | meshes | cached
    dataset: str  # which prepared volume it reads ("" for writes)
    impls: list[str]
    params: dict[str, Any] = field(default_factory=dict)  # the volume (see _impls) and workload options


def _volume(shape: tuple[int, int, int], **extra: Any) -> dict[str, Any]:
    return {"shape": list(shape), "dtype": "uint8", "encoding": "raw", "chunk": [64, 64, 64],
            "content": "noise", **extra}  # fmt: skip


def _size(shape: list[int], itemsize: int = 1) -> str:
    nbytes = shape[0] * shape[1] * shape[2] * itemsize
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


def _dims(data: dict[str, Any]) -> str:
    return "x".join(map(str, data["shape"]))


def workloads(quick: bool) -> tuple[list[Workload], dict[str, dict[str, Any]]]:
    q = quick
    raw = _volume((256, 256, 64) if q else (1024, 1024, 128))
    big = _volume((512, 512, 256) if q else (2048, 2048, 256))
    jpeg = _volume(
        (512, 512, 64) if q else (1024, 1024, 128), encoding="jpeg", chunk=[256, 256, 16], content="smooth"
    )
    seg = _volume(
        (256, 256, 64) if q else (512, 512, 128),
        dtype="uint64",
        encoding="compressed_segmentation",
        block=[8, 8, 8],
        content="labels",
    )
    blobs = {**seg, "content": "blobs"}
    compresso = {**seg, "encoding": "compresso"}
    gz = _volume((256, 256, 64) if q else (1024, 1024, 128), content="smooth", compress="gzip")
    par = _volume((512, 512, 128) if q else (1024, 1024, 512))
    s3 = _volume((256, 256, 128) if q else (512, 512, 512), storage="s3")
    shard = _volume((256, 256, 256) if q else (512, 512, 512), sharding=SHARDING)
    s3_shard = {**shard, "storage": "s3"}
    slow_s3 = _volume((256, 256, 128) if q else (512, 512, 256), storage="s3-slow")
    slow_http = {**slow_s3, "storage": "http-slow"}
    cutouts = 20 if q else 200
    meshes = _volume((256, 256, 64), dtype="uint64", content="labels", storage="s3", meshes=True,
                     format="legacy", segments=20 if q else 100, fragments=10)  # fmt: skip
    meshes_multires = {**meshes, "format": "multires-sharded"}
    cache_local = _volume((256, 256, 128) if q else (512, 512, 1024))
    cached = {**cache_local, "storage": "s3", "local_copy": "cache-local"}
    xfer = _volume((256, 256, 128) if q else (1024, 1024, 1024))
    datasets = {"raw": raw, "big": big, "jpeg": jpeg, "gzip": gz, "seg": seg, "seg-blobs": blobs, "par": par,
                "compresso": compresso, "s3": s3,
                "shard": shard, "s3-shard": s3_shard, "s3-slow": slow_s3, "http-slow": slow_http,
                "meshes-legacy": meshes,
                "meshes-multires": meshes_multires, "s3-cached": cached,
                "cache-local": cache_local, "xfer": xfer}  # fmt: skip
    random_shard = {"cutout": [100, 100, 50], "count": cutouts}
    s = "x".join(map(str, raw["shape"]))
    return [
        Workload("write", f"(a) full write, uint8 {s}, raw, 64^3 chunks", "write", "", [*PEERS, P2], raw),
        Workload(
            "write-c",
            "(a) full write of the same volume from a C-ordered array",
            "write",
            "",
            PEERS,
            {**raw, "order": "C"},
        ),
        Workload(
            "read", "(a) full read of the same volume", "read", "raw", [*PEERS, P2, *FLOORS, IO_FLOOR], raw
        ),
        Workload(
            "random",
            f"(b) {cutouts} random unaligned 100x100x50 cutouts of it",
            "random",
            "raw",
            PEERS + FLOORS,
            {**raw, "cutout": [100, 100, 50], "count": cutouts},
        ),
        Workload(
            "patch",
            f"(i) {cutouts} random unaligned 100x100x50 writes into it (non_aligned_writes)",
            "patch",
            "raw",
            PEERS,
            {**raw, "cutout": [100, 100, 50], "count": cutouts},
        ),
        Workload(
            "big",
            f"(c) one {_size(big['shape'])} cutout: memory",
            "big",
            "big",
            [*PEERS, "precomputed, parallel=2", "cloud-volume, parallel=2", *FLOORS],
            big,
        ),
        Workload(
            "par-write",
            f"(g) full write, uint8 {_dims(par)} ({_size(par['shape'])}), raw, 64^3 chunks",
            "write",
            "",
            PARALLEL,
            par,
        ),
        Workload("par-read", "(g) full read of the same volume", "read", "par", PARALLEL, par),
        Workload(
            "jpeg-write",
            f"(e) jpeg write, uint8 {'x'.join(map(str, jpeg['shape']))}, 256x256x16 chunks, quality 85",
            "write",
            "",
            [*PEERS, P2],
            jpeg,
        ),
        Workload(
            "jpeg-read", "(e) jpeg full read of the same volume", "read", "jpeg", [*PEERS, P2, *FLOORS], jpeg
        ),
        Workload(
            "gzip-write",
            f"(e2) gzip (compress='gzip', level 6) write, smooth uint8 {_dims(gz)}, raw, 64^3 chunks",
            "write",
            "",
            GZIP,
            gz,
        ),
        Workload("gzip-read", "(e2) gzip full read of the same volume", "read", "gzip", GZIP, gz),
        Workload(
            "seg-write",
            f"(f) compressed_segmentation write, uint64 box labels (11x7x5, axis-aligned) "
            f"{'x'.join(map(str, seg['shape']))}, 64^3 chunks, 8^3 blocks",
            "write",
            "",
            [*PEERS, P2],
            seg,
        ),
        Workload(
            "seg-read",
            "(f) compressed_segmentation full read of the same volume",
            "read",
            "seg",
            [*PEERS, P2, *FLOORS],
            seg,
        ),
        Workload(
            "blob-write",
            f"(f2) compressed_segmentation write, uint64 blob labels (Voronoi cells about 20-60 voxels "
            f"across) {'x'.join(map(str, blobs['shape']))}, 64^3 chunks, 8^3 blocks",
            "write",
            "",
            [*PEERS, P2],
            blobs,
        ),
        Workload(
            "blob-read",
            "(f2) compressed_segmentation full read of the same volume",
            "read",
            "seg-blobs",
            [*PEERS, P2, *FLOORS],
            blobs,
        ),
        Workload(
            "compresso-write",
            f"(p) compresso write, uint64 box labels {_dims(compresso)}, 64^3 chunks: a coder that holds "
            "the GIL",
            "write",
            "",
            ["precomputed", P2, P2_SECOND],
            compresso,
        ),
        Workload(
            "compresso-read",
            "(p) compresso full read of the same volume",
            "read",
            "compresso",
            ["precomputed", P2, P2_SECOND],
            compresso,
        ),
        Workload(
            "s3-write",
            f"(h) full write to S3 (moto on 127.0.0.1), uint8 {_dims(s3)} ({_size(s3['shape'])}), "
            "raw, 64^3 chunks",
            "write",
            "",
            REMOTE,
            s3,
        ),
        Workload("s3-read", "(h) full read of the same volume from S3", "read", "s3", [*REMOTE, "boto3"], s3),
        Workload(
            "s3-slow-read",
            f"(o) full read of a uint8 {_dims(slow_s3)} ({_size(slow_s3['shape'])}), raw, 64^3 chunks, "
            f"from S3 with {LATENCY_MS} ms per request",
            "read",
            "s3-slow",
            [*REMOTE, "boto3"],
            slow_s3,
        ),
        Workload(
            "http-slow-read",
            f"(o) full read of the same volume over HTTP with {LATENCY_MS} ms per request",
            "read",
            "http-slow",
            REMOTE,
            slow_http,
        ),
        Workload(
            "shard-read",
            f"(j) full read of a sharded uint8 {_dims(shard)}, raw, 64^3 chunks, 8 shards of 4x4x4 chunks",
            "read",
            "shard",
            PEERS,
            shard,
        ),
        Workload(
            "shard-random",
            f"(j) {cutouts} random unaligned 100x100x50 cutouts of it",
            "random",
            "shard",
            PEERS,
            {**shard, **random_shard},
        ),
        Workload(
            "s3-shard-read",
            "(j) full read of the same sharded volume from S3",
            "read",
            "s3-shard",
            PEERS,
            s3_shard,
        ),
        Workload(
            "s3-shard-random",
            f"(j) {cutouts} random unaligned 100x100x50 cutouts of it from S3",
            "random",
            "s3-shard",
            PEERS,
            {**s3_shard, **random_shard},
        ),
        Workload(
            "mesh-legacy",
            f"(k) fetch and merge {meshes['segments']} segments' legacy meshes from S3 "
            f"({meshes['fragments']} gzip fragments of 2,048 triangles each per segment)",
            "meshes",
            "meshes-legacy",
            ON_S3,
            meshes,
        ),
        Workload(
            "mesh-multires",
            "(k) the same segments from a sharded multi-resolution (Draco) layer on S3, finest level",
            "meshes",
            "meshes-multires",
            ON_S3,
            meshes_multires,
        ),
        Workload(
            "cache-read",
            f"(l) second read of one {_size(cached['shape'])} cutout (uint8 {_dims(cached)}, raw, 64^3 "
            "chunks) from S3 with the disk cache on, in a fresh process",
            "cached",
            "s3-cached",
            CACHED,
            cached,
        ),
        Workload(
            "transfer",
            f"(m) transfer_to of a uint8 {_dims(xfer)} ({_size(xfer['shape'])}) layer, raw 64^3 chunks, "
            "to another directory (a byte-for-byte copy)",
            "transfer",
            "xfer",
            ["precomputed", CLUSTER, "cloud-volume"],
            xfer,
        ),
        Workload(
            "downsample",
            "(n) downsample of the same layer: 2 new mips of 2x2x1, averaging",
            "downsample",
            "xfer",
            ["precomputed", CLUSTER],
            {**xfer, "mips": 2, "factor": [2, 2, 1]},
        ),
    ], datasets


def _measure(impl: str, work: Workload, path: str, kind: str | None = None, **extra: Any) -> dict[str, float]:
    kind = kind or ("read" if work.kind == "big" else work.kind)
    params = {**work.params, **extra}
    cmd = [sys.executable, str(HERE / "_worker.py"), impl, kind, path, json.dumps(params)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{impl} {work.key} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    root: str, reps: int, quick: bool, only: list[str]
) -> tuple[list[Workload], dict[tuple[str, str], list[dict[str, float]]]]:
    works, datasets = workloads(quick)
    if only:
        works = [w for w in works if w.key in only]
        wanted = {w.dataset for w in works} | {
            w.params["local_copy"] for w in works if "local_copy" in w.params
        }
        datasets = {k: v for k, v in datasets.items() if k in wanted}
    with contextlib.ExitStack() as stack:
        needs = {w.params.get("storage") for w in works}
        served = os.path.join(root, "served")
        os.makedirs(served)
        bases = {}  # one stand-in per storage: moto keeps a server's objects in its memory
        for storage in REMOTE_STORAGE:
            if storage in needs:
                latency = LATENCY_MS if storage.endswith("-slow") else 0
                if storage.startswith("s3"):
                    bucket = stack.enter_context(s3_stand_in(latency))
                    bases[storage] = Stand(bucket, os.environ["AWS_ENDPOINT_URL_S3"])
                else:
                    bases[storage] = Stand(stack.enter_context(http_stand_in(served, latency)), served)
        return works, _measure_all(works, datasets, root, bases, reps)


@dataclass
class Stand:
    """A running stand-in: the base of its URLs, and its S3 endpoint or served directory."""

    base: str
    where: str

    def point_at(self) -> None:
        """Send this process's S3 clients, and the workers it starts, to this stand-in."""
        if self.base.startswith("s3://"):
            os.environ["AWS_ENDPOINT_URL_S3"] = self.where


def _measure_all(
    works: list[Workload], datasets: dict[str, dict[str, Any]], root: str, bases: dict[str, Stand], reps: int
) -> dict[tuple[str, str], list[dict[str, float]]]:
    def place(data: dict[str, Any], name: str) -> str:
        stand = bases.get(data.get("storage", ""))
        if stand is None:
            return os.path.join(root, name)
        stand.point_at()
        return f"{stand.base}/{name}"

    for name, data in datasets.items():
        path = place(data, name)
        if path.startswith("http://"):  # written where the server serves it from
            path = os.path.join(bases[data["storage"]].where, name)
        write_dataset(path, data)

    def cached(impl: str, work: Workload) -> dict[str, float]:
        """Workload l: the local copy without a cache, or the S3 layer through this impl's cache."""
        if "no cache" in impl:
            return _measure(impl, work, place(datasets[work.params["local_copy"]], work.params["local_copy"]))
        return _measure(impl, work, place(work.params, work.dataset), cache_dir=caches[impl])

    caches = {}
    for work in works:
        for impl in (i for i in work.impls if work.kind == "cached" and "no cache" not in i):
            caches[impl] = os.path.join(root, f"cache-{impl.replace(' ', '')}")
            _measure(impl, work, place(work.params, work.dataset), "cache-fill", cache_dir=caches[impl])
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for rep in range(reps):
        for work in works:
            # Interleaved, in a new order each repetition (a rotation would keep neighbours):
            # a process that just exited with gigabytes leaves the kernel work that slows the
            # next one, so no implementation may always follow the same one.
            order = list(work.impls)
            random.Random(rep * 7919 + len(work.key)).shuffle(order)
            for impl in order:
                if work.kind == "cached":
                    results.setdefault((work.key, impl), []).append(cached(impl, work))
                elif work.kind in ("write", "patch"):
                    path = place(work.params, f"w-{impl.replace(' ', '')}-{rep}")
                    if work.kind == "patch":  # a copy: the dataset stays as the readers expect
                        shutil.copytree(place(work.params, work.dataset), path)
                    results.setdefault((work.key, impl), []).append(_measure(impl, work, path))
                    remove(path) if "://" in path else shutil.rmtree(path, ignore_errors=True)
                else:
                    path = place(work.params, work.dataset)
                    results.setdefault((work.key, impl), []).append(_measure(impl, work, path))
                if results[(work.key, impl)][-1]["bytes"] >= 2**29:
                    time.sleep(1)  # let the kernel free the exited process's memory first
        print(f"repetition {rep + 1}/{reps} done", file=sys.stderr)
    return results


def _machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    system = f"Linux {platform.release()}, Python {platform.python_version()}"
    return f"{cpu}, {cpus} cores, {mem:.0f} GiB RAM, {system}"


def _versions() -> str:
    import importlib.metadata as md

    names = ["precomputed", "cloud-volume", "tensorstore", "numpy"]
    return ", ".join(f"{n} {md.version(n)}" for n in names)


def _label(impl: str) -> str:
    labels = {"floor-1": "floor, 1 thread", "floor-2": "floor, 2 threads",
              IO_FLOOR: "floor, 2 threads, I/O only (no placement)"}  # fmt: skip
    return labels.get(impl, impl)


CPU_COLUMN = " client CPU per request |"


def _requests(work: Workload) -> int:
    """The chunk requests of a full read or write of a remote (unsharded) layer; 0 otherwise."""
    params = work.params
    remote = params.get("storage") in REMOTE_STORAGE and "sharding" not in params
    if not remote or work.kind not in ("read", "write"):
        return 0
    return math.prod(-(-s // c) for s, c in zip(params["shape"], params["chunk"]))


def _paired(results: dict[tuple[str, str], list[dict[str, float]]], work: Workload, impl: str) -> str:
    """The range of the ratio within each repetition, where both ran minutes apart at most."""
    ours, theirs = results[(work.key, work.impls[0])], results[(work.key, impl)]
    ratios = sorted((a["bytes"] / a["seconds"]) / (b["bytes"] / b["seconds"]) for a, b in zip(ours, theirs))
    return f"{ratios[0]:.2f} to {ratios[-1]:.2f}"


def report(works: list[Workload], results: dict[tuple[str, str], list[dict[str, float]]], *,
           reps: int, command: str, storage: str) -> str:  # fmt: skip
    lines = [
        "# Benchmarks",
        "",
        "Written by `benchmarks/run.py`; do not edit by hand.",
        "",
        f"- Command: `{command}`",
        f"- Machine: {_machine()}",
        f"- Versions: {_versions()}",
        f"- Storage: {storage} (a RAM-backed file system: this measures the libraries, not a disk)",
        f"- {reps} repetitions, implementations interleaved in a new random order each repetition "
        "(so none always follows the same neighbour), each measurement in a fresh process, with a "
        "pause after any that held 512 MiB or more; the table gives medians (and the range). "
        "`precomputed is` divides the medians; in brackets, the range of the same ratio taken "
        "within each repetition, whose two measurements ran minutes apart at most: where it "
        "spans 1.0, the two did not finish in the same order in every repetition.",
        "- Throughput is uncompressed voxel bytes per second. Peak memory is the process's peak "
        "resident size during the timed work minus its resident size just before it "
        "(interpreter, libraries and the open volume already loaded); when worker processes "
        "ran (`parallel=2`, `cloud-volume, parallel=2`), whose result lives in shared memory that "
        "no single process owns, the peak of the private heap memory of the process and its "
        "workers plus the machine's shared memory (Anonymous from smaps_rollup + Shmem, sampled "
        "every 50 ms, less the chunk files written to /dev/shm), minus the same just before.",
        "- cloud-volume runs with `compress=False` and tensorstore reads in Fortran order, so all "
        "do the same work on the same chunk files (raw ones written once with plain numpy and file "
        "writes, jpeg and compressed_segmentation ones with precomputed). The floor rows are no "
        "library: they read each chunk file with one `preadv` into a buffer each thread reuses, "
        "decode it with the encoding's own library (simplejpeg, compressed-segmentation) and place "
        "it into one preallocated, huge-page-advised array, one share of the chunks per thread: the "
        "least work known that gives the array. The row `I/O only (no placement)` reads each file "
        "straight into its own slot of the output instead: the I/O alone, not the volume's layout.",
        "- Workloads h, j, k, l and o (S3 rows) run against moto's S3 application on 127.0.0.1, in a "
        "process of its own (a stand-in, not a cloud): precomputed, cloud-volume and boto3 find it "
        "through `AWS_ENDPOINT_URL_S3` and a secrets file, tensorstore through its s3 kvstore's "
        "`endpoint`; it is served by cheroot, which keeps connections alive as S3 does (moto's own "
        "werkzeug server closes each after one answer). Its Python shares the machine's "
        "2 cores with the client, so here a client's own CPU per request decides its speed. "
        "Workload o adds a fixed 25 ms before every answer, as a cloud region's round trip, on "
        "moto and on a threaded HTTP/1.1 file server, so that concurrency decides. The `client CPU "
        "per request` column is the CPU time (user + system) of the measuring process and its "
        "worker processes during the timed work, divided by the chunk requests. The boto3 row is "
        "no library: one `get_object` per chunk from 16 threads, each placed into one array. "
        "Workload j's shards are written by precomputed (identity hash, chunks stored raw, gzip "
        "minishard indexes).",
        "- Rows `parallel=2` are the same calls with `parallel=2`. Before each read or write the "
        "worker reads or writes two chunks untimed (imports, info, threads). precomputed uses its "
        "worker processes only where they can pay (docs/parallel.md): on local files with compiled "
        "codecs its `parallel=2` rows run on the caller's threads; work that holds the GIL runs on "
        "threads first, measured, and goes to the workers only after a call kept the process at "
        "least 85% of a core busy and the estimated gain is 1.3x or more, and stays there only while "
        "they move more bytes per second. A "
        "`parallel=2` row's timed call is its session's first large one, so it runs on threads; rows "
        "`parallel=2, second call` make two untimed full calls first (the first measured on threads, "
        "the second on threads too where the workers are still starting in the background) and "
        "time a third.",
        "- Workload k measures meshes: its MB/s are the bytes of the merged mesh (float32 vertices "
        "and uint32 triangles) per second of fetching and merging. The legacy meshes are merged "
        "with duplicate vertices removed (`vol.mesh.get(ids)`), the multi-resolution ones "
        "concatenated (`Mesh.concatenate` of `vol.mesh.get(ids, lod=0)`), in both libraries.",
        "- Workload l measures the disk cache: a first read of the S3 layer with `cache=<dir>` "
        "fills each library's cache in a process of its own (not timed); the figure is a second "
        "read, in a fresh process, as a user's next session would make it. The row `precomputed, "
        "local disk, no cache` reads the same raw chunk files from local disk with the cache off.",
        "- Workloads m and n scale out: `transfer_to` copies every chunk file of a layer to another "
        "directory (byte for byte in precomputed; cloud-volume's `transfer_to(path, vol.bounds)`), and "
        "`downsample` computes two new mips of a copy of it. The `Dask local cluster` row starts a "
        "`dask.distributed` LocalCluster of two single-threaded worker processes on 127.0.0.1 before "
        "the timing and runs the same call with its client active; the other precomputed row runs on "
        "the process's threads. MB/s are the source layer's bytes per second.",
        "- Workload e2 writes and reads gzip chunk files (`<chunk>.gz`, cloud-volume's layout on disk) "
        "at level 6 on the smooth image; precomputed codes gzip with ISA-L, cloud-volume with the "
        "stdlib's zlib. tensorstore decodes gzip only as HTTP Content-Encoding, so it has no row. "
        "Workload a's C-ordered row writes the same voxels from a C-ordered array, as `np.zeros`, "
        "`np.load` and tifffile give them. Workload f2's labels are Voronoi cells of jittered seeds "
        "(about 37 voxels across, 1 to 3 labels in 93% of 8^3 blocks); f's are regular 11x7x5 boxes.",
        "- How the numbers came about, and what limits them: [performance.md](performance.md).",
        "",
    ]
    for work in works:
        first = work.impls[0]  # precomputed, in the workload's configuration
        ours = statistics.median(r["bytes"] / r["seconds"] for r in results[(work.key, first)])
        nbytes = results[(work.key, first)][0]["bytes"]
        requests = _requests(work)
        lines += [
            f"## {work.title}",
            "",
            "| implementation | MB/s | precomputed is | peak memory |" + CPU_COLUMN * bool(requests),
            "|---|---|---|---|" + ("---|" * bool(requests)),
        ]
        for impl in work.impls:
            runs = results[(work.key, impl)]
            rates = sorted(r["bytes"] / r["seconds"] / 1e6 for r in runs)
            rate = statistics.median(rates)
            peak = statistics.median(r["peak_above_start"] for r in runs)
            ratio = "—" if impl == first else f"{ours / 1e6 / rate:.2f}x ({_paired(results, work, impl)})"
            cpu = ""
            if requests:
                cpu = f" {statistics.median(r['cpu'] for r in runs) / requests * 1e3:.2f} ms |"
            lines.append(
                f"| {_label(impl)} "
                f"| {rate:.0f} ({rates[0]:.0f} to {rates[-1]:.0f}) | {ratio} "
                f"| {peak / 2**20:.0f} MiB ({peak / nbytes:.2f}x the data) |{cpu}"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small volumes and 2 repetitions (under a minute)"
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the full run (default 5)")
    parser.add_argument("--only", nargs="*", default=[], help="workload keys to run (default: all)")
    parser.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                        help="where the volumes are written (default /dev/shm)")  # fmt: skip
    parser.add_argument(
        "--no-write-report", action="store_true", help="print only (--quick never writes the report)"
    )
    args = parser.parse_args()
    reps = 2 if args.quick else args.reps
    root = tempfile.mkdtemp(prefix="precomputed-bench-", dir=args.dir)
    start = time.perf_counter()
    try:
        works, results = measure(root, reps, args.quick, args.only)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = "nox -s bench" + (" -- --quick" if args.quick else "")
    text = report(works, results, reps=reps, command=command, storage=args.dir or tempfile.gettempdir())
    print(text)
    print(f"took {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if not (args.no_write_report or args.quick or args.only):
        REPORT.write_text(text)


if __name__ == "__main__":
    main()
