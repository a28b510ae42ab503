"""Workloads m and n: transfer_to and downsample of a 1 GiB volume, on threads and on a Dask
LocalCluster (two single-threaded worker processes on 127.0.0.1, started before the timing)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Any

import numpy as np

#: The implementation rows that run their work on a dask.distributed LocalCluster.
CLUSTER = "precomputed, Dask local cluster"


@contextlib.contextmanager
def cluster_for(impl_name: str) -> Any:
    """A running LocalCluster and its client for the cluster row; nothing otherwise."""
    if impl_name != CLUSTER:
        yield
        return
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        client.run(lambda: __import__("precomputed_core"))  # warm: imports in the workers
        yield


def prepare(impl: Any, workload: str, path: str, params: dict[str, Any]) -> tuple[Any, int, Any]:
    """(the timed work, the bytes it moves, a clean-up run after the timing)."""
    shape = tuple(params["shape"])
    nbytes = int(np.prod(shape)) * np.dtype(params["dtype"]).itemsize
    scratch = tempfile.mkdtemp(prefix="scale-out-", dir=os.path.dirname(path))
    if workload == "transfer":
        vol = impl.open(path)
        target = f"file://{scratch}/copy"
        if impl.name.startswith("cloud-volume"):
            work = lambda: vol.transfer_to(target, vol.bounds)  # noqa: E731
        else:
            work = lambda: vol.transfer_to(target)  # noqa: E731
    else:  # downsample a copy: the dataset stays as the next measurement expects it
        copy = os.path.join(scratch, "layer")
        shutil.copytree(path, copy)
        vol = impl.open(copy)
        factor = tuple(params["factor"])
        work = lambda: vol.downsample(num_mips=params["mips"], factor=factor)  # noqa: E731
    return work, nbytes, lambda: shutil.rmtree(scratch, ignore_errors=True)
