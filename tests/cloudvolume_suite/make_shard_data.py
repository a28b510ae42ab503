"""A stand-in for the sharded test layer that a cloud-volume snapshot may lack.

    python tests/cloudvolume_suite/make_shard_data.py /path/to/cloud-volume OUT_DIR

cloud-volume's ``test/test_cv_sharded`` holds a compresso-encoded sharded layer
(``8_8_40/0.shard``, one large file) and its labels
(``connectomics_mip_1.npy.cpso``); a shallow snapshot may lack both. This writes a
smaller layer with the same scale (encoding, chunk size, sharding) filled with
blob-shaped labels, written by cloud-volume itself so the shard is an independent
one, and the matching ``.cpso`` file, into ``OUT_DIR/test_cv_sharded`` for
``run.py --overlay OUT_DIR``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cloudvolume
import compresso
import numpy as np


def main() -> None:
    checkout, out = Path(sys.argv[1]), Path(sys.argv[2]) / "test_cv_sharded"
    info_path = checkout / "test" / "test_cv_sharded" / "info"
    if info_path.exists():
        info = json.loads(info_path.read_text())
    else:
        text = subprocess.run(["git", "-C", str(checkout), "show", "HEAD:test/test_cv_sharded/info"],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
        info = json.loads(text)
    info["scales"][0]["size"] = [256, 256, 128]  # one shard of eight 128x128x64 chunks
    rng = np.random.default_rng(7)
    coarse = rng.integers(1, 4000, size=(16, 16, 8)).astype(np.uint32)
    coarse[rng.random(coarse.shape) < 0.1] = 0
    labels = np.asfortranarray(coarse.repeat(16, 0).repeat(16, 1).repeat(16, 2))
    with tempfile.TemporaryDirectory() as tmp:
        layer = cloudvolume.CloudVolume(f"file://{tmp}/layer", info=info, progress=False)
        layer.commit_info()
        layer[:, :, :] = labels[..., np.newaxis]
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(f"{tmp}/layer", out)
    (out / "connectomics_mip_1.npy.cpso").write_bytes(compresso.compress(labels))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
