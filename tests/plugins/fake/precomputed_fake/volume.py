"""``blocks://``: an array service of a third party, reached as a ``kind="volume"`` driver.

It keeps each scale in blocks of ``block`` voxels (its chunks), packed 2x2x2 to a file
(its storage unit): a write that touches part of a pack reads, patches and rewrites the
whole file, with no lock. Two processes writing one pack at once could lose each other's
voxels, so its work grid is the packs. Its info has no Precomputed storage keys: no
``chunk_sizes``, no ``encoding``. Every write appends ``pid pack ...`` to
``<layer>/writes.log``, so tests can see which call wrote which packs.

Written only against precomputed_core's public API.
"""

from __future__ import annotations

import itertools
import json
import os

import numpy as np

from precomputed_core import Bbox, ChunkGrid, LayerMeta, Volume
from precomputed_core.exceptions import EmptyVolumeException, InfoUnavailableError

PACK = (2, 2, 2)


def blocks_info(dtype, size, *, block=(16, 16, 8), channels=1, offset=(0, 0, 0), layer_type="image"):
    """An info for a new blocks:// layer: one scale, no chunk_sizes or encoding."""
    return {
        "@type": "neuroglancer_multiscale_volume",
        "type": layer_type,
        "data_type": np.dtype(dtype).name,
        "num_channels": channels,
        "scales": [
            {
                "key": "s0",
                "size": list(size),
                "voxel_offset": list(offset),
                "resolution": [8, 8, 8],
                "block": list(block),
            }
        ],
    }


class BlocksVolume(Volume):
    def __init__(self, root, info=None):
        self.root = root
        self.meta = LayerMeta(info if info is not None else {})
        if info is None:
            self.refresh_info()

    @classmethod
    def from_cloudpath(cls, path, *, info=None, **options):
        return cls("/" + "/".join(p for p in (path.bucket, path.path) if p), info)

    @property
    def url(self):
        return "blocks://" + self.root.lstrip("/")

    def _file(self, name):
        return os.path.join(self.root, name)

    def refresh_info(self):
        try:
            with open(self._file("info")) as f:
                info = json.load(f)
        except FileNotFoundError:
            raise InfoUnavailableError(f"no info at {self.url}") from None
        self.check_info(info)
        self.meta.info = info
        return info

    def commit_info(self):
        os.makedirs(self.root, exist_ok=True)
        with open(self._file("info"), "w") as f:
            json.dump(self.meta.info, f)

    def fetch_provenance(self):
        try:
            with open(self._file("provenance")) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def commit_provenance(self, provenance):
        with open(self._file("provenance"), "w") as f:
            json.dump(provenance, f)

    # --- how it is stored -------------------------------------------------------

    def chunk_grid(self, mip):
        scale = self.meta.scale(mip)
        offset, size = self.meta.voxel_offset(mip).tolist(), self.meta.volume_size(mip).tolist()
        return ChunkGrid(scale["key"], tuple(offset), tuple(size), tuple(scale["block"]))

    def work_grid(self, mip):
        return self.chunk_grid(mip).coarsened(PACK)

    def encoding(self, mip):
        return "npy"

    # --- packs ------------------------------------------------------------------

    def _pack_path(self, mip, lo):
        return self._file(f"{self.meta.key(mip)}/{'_'.join(map(str, lo))}.npz")

    def _load(self, mip, lo, hi):
        path = self._pack_path(mip, lo)
        if not os.path.exists(path):
            return None
        with np.load(path) as stored:
            return stored["voxels"], stored["written"]

    def _save(self, mip, lo, voxels, written):
        path = self._pack_path(mip, lo)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npz"
        np.savez(tmp, voxels=voxels, written=written)
        os.replace(tmp, path)

    def _packs(self, mip, bbox):
        cells = self.work_grid(mip).cover(bbox)
        return list(zip(cells.lo, cells.hi))

    def _blocks_written(self, mip, lo, hi, box):
        """Which blocks of the pack [lo, hi) ``box`` touches, as a boolean (2, 2, 2) mask."""
        block = self.chunk_grid(mip).chunk
        mask = np.zeros(PACK, dtype=bool)
        for i, j, k in itertools.product(range(2), range(2), range(2)):
            b_lo = [lo[a] + (i, j, k)[a] * block[a] for a in range(3)]
            b_hi = [min(b_lo[a] + block[a], hi[a]) for a in range(3)]
            inside = all(b_lo[a] < b_hi[a] for a in range(3))
            if inside and Bbox.intersects(Bbox(b_lo, b_hi), box):
                mask[i, j, k] = True
        return mask

    # --- voxels -----------------------------------------------------------------

    def read(self, bbox, *, mip, options, out=None, zeroed=False):
        shape = (*bbox.size3().tolist(), self.meta.num_channels)
        if out is None:
            out = np.zeros(shape, dtype=self.meta.dtype, order="F")
        elif not zeroed:
            out[...] = 0
        for lo, hi in self._packs(mip, bbox):
            loaded = self._load(mip, lo, hi)
            if loaded is None:
                if options.fill_missing:
                    continue
                raise EmptyVolumeException(f"{self.url}: pack {lo} is missing")
            inner = Bbox.intersection(Bbox(lo, hi), bbox)
            src = tuple(slice(a - p, b - p) for a, b, p in zip(inner.minpt, inner.maxpt, lo))
            dst = tuple(slice(a - o, b - o) for a, b, o in zip(inner.minpt, inner.maxpt, bbox.minpt))
            out[dst] = loaded[0][src]
        return out

    def write(self, bbox, array, *, mip, options):
        touched = []
        for lo, hi in self._packs(mip, bbox):
            loaded = self._load(mip, lo, hi)
            shape = (*(h - low for low, h in zip(lo, hi)), self.meta.num_channels)
            voxels, written = loaded or (np.zeros(shape, self.meta.dtype), np.zeros(PACK, bool))
            inner = Bbox.intersection(Bbox(lo, hi), bbox)
            dst = tuple(slice(a - p, b - p) for a, b, p in zip(inner.minpt, inner.maxpt, lo))
            src = tuple(slice(a - o, b - o) for a, b, o in zip(inner.minpt, inner.maxpt, bbox.minpt))
            voxels[dst] = array[src]
            self._save(mip, lo, voxels, written | self._blocks_written(mip, lo, hi, inner))
            touched.append("_".join(map(str, lo)))
        with open(self._file("writes.log"), "a") as log:
            log.write(f"{os.getpid()} {' '.join(touched)}\n")

    def exists(self, bbox, *, mip):
        grid = self.chunk_grid(mip)
        found = {}
        for lo, hi in self._packs(mip, bbox):
            loaded = self._load(mip, lo, hi)
            blocks = grid.cover(Bbox.intersection(Bbox(lo, hi), bbox))
            for b_lo, name in zip(blocks.lo, blocks.names()):
                index = tuple((b_lo[a] - lo[a]) // grid.chunk[a] for a in range(3))
                found[name] = loaded is not None and bool(loaded[1][index])
        return found

    def delete(self, bbox, *, mip):
        for lo, hi in self._packs(mip, bbox):
            loaded = self._load(mip, lo, hi)
            if loaded is None:
                continue
            voxels, written = loaded
            inner = Bbox.intersection(Bbox(lo, hi), bbox)
            voxels[tuple(slice(a - p, b - p) for a, b, p in zip(inner.minpt, inner.maxpt, lo))] = 0
            written = written & ~self._blocks_written(mip, lo, hi, inner)
            if written.any():
                self._save(mip, lo, voxels, written)
            else:
                os.remove(self._pack_path(mip, lo))
