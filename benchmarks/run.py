"""Benchmarks: the same workloads through precomputed, cloud-volume and tensorstore.

Each measurement runs in its own subprocess (so peak memory is per implementation),
interleaved A B C A B C over the repetitions; the report gives medians and ratios and is
written to docs/benchmarks.md. ``nox -s bench`` runs it; ``--quick`` is a small version.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "docs" / "benchmarks.md"
IMPLS = ["precomputed", "cloud-volume", "tensorstore"]


def _worker(impl: str, workload: str, path: str, shape: tuple[int, int, int]) -> dict[str, float]:
    cmd = [sys.executable, str(HERE / "_worker.py"), impl, workload, path, *map(str, shape)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


Results = dict[tuple[str, str], list[dict[str, float]]]


def measure(root: str, shape: tuple[int, int, int], reps: int) -> Results:
    results: Results = {}
    for rep in range(reps):
        for impl in IMPLS:
            path = os.path.join(root, f"{impl}-{rep}")
            results.setdefault((impl, "write"), []).append(_worker(impl, "write", path, shape))
            results.setdefault((impl, "read"), []).append(_worker(impl, "read", path, shape))
            shutil.rmtree(path)
    return results


def _machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {cpus} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def report(results: Results, shape: tuple[int, int, int],
           reps: int, command: str, root: str) -> str:  # fmt: skip
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {_machine()}. Storage: `{root}`. Command: `{command}`.",
        f"Volume: uint8 {shape[0]}x{shape[1]}x{shape[2]}, raw, 64^3 chunks, uncompressed. "
        f"{reps} repetitions, interleaved, each in a fresh process; medians.",
        "Throughput is uncompressed voxel MB/s; peak memory is the process's peak resident size "
        "above its size just before the timed work.",
        "",
        "| workload | implementation | MB/s (median) | precomputed / this | peak memory MiB |",
        "|---|---|---|---|---|",
    ]
    for workload in ("write", "read"):
        ours = statistics.median(r["bytes"] / r["seconds"] for r in results[("precomputed", workload)])
        for impl in IMPLS:
            runs = results[(impl, workload)]
            rate = statistics.median(r["bytes"] / r["seconds"] for r in runs)
            peak = statistics.median(r["peak_above_start"] for r in runs) / 2**20
            lines.append(f"| full {workload} | {impl} | {rate / 1e6:.0f} | {ours / rate:.2f}x | {peak:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small volume and 2 repetitions")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                        help="where the volumes are written (default /dev/shm)")  # fmt: skip
    parser.add_argument("--no-write-report", action="store_true")
    args = parser.parse_args()
    shape = (256, 256, 128) if args.quick else (1024, 1024, 128)
    reps = 2 if args.quick else args.reps
    root = tempfile.mkdtemp(prefix="precomputed-bench-", dir=args.dir)
    try:
        results = measure(root, shape, reps)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = "nox -s bench" + (" -- --quick" if args.quick else "")
    text = report(results, shape, reps, command, args.dir or tempfile.gettempdir())
    print(text)
    if not args.no_write_report:
        REPORT.write_text(text)


if __name__ == "__main__":
    main()
