"""Run one workload through one implementation in a fresh process and print JSON.

Peak resident memory is the operating system's count for this process
(``ru_maxrss``), reported above the resident size just before the timed work.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from _impls import IMPLEMENTATIONS, make_info, sample


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    impl_name, workload, path, x, y, z = sys.argv[1:7]
    shape = (int(x), int(y), int(z))
    impl = IMPLEMENTATIONS[impl_name]
    if workload == "write":
        data = sample(shape)
        vol = impl.open(path, make_info(shape))
        before = _rss_bytes()
        start = time.perf_counter()
        impl.write(vol, data)
        seconds = time.perf_counter() - start
        nbytes = data.nbytes
    else:
        vol = impl.open(path)
        full = tuple(slice(0, s) for s in shape)
        impl.read(vol, tuple(slice(0, 64) for _ in shape))  # warm the import and the info read
        before = _rss_bytes()
        start = time.perf_counter()
        out = impl.read(vol, full)
        seconds = time.perf_counter() - start
        nbytes = int(np.asarray(out).nbytes)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "bytes": nbytes, "peak_above_start": max(0, peak - before)}))


if __name__ == "__main__":
    main()
