"""The manifest of a multi-resolution mesh (``<segid>.index``): its octree and fragment sizes.

Layout (meshes.md, "Multi-resolution mesh manifest file format"), all little-endian:
``chunk_shape`` 3xf32, ``grid_origin`` 3xf32, ``num_lods`` u32, ``lod_scales``
num_lods x f32, ``vertex_offsets`` num_lods x 3 x f32 (C order),
``num_fragments_per_lod`` num_lods x u32, then per lod the fragment positions
(3 x n u32, x values then y then z) and the n fragment sizes (u32).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..exceptions import MeshDecodeError

__all__ = ["MultiLodManifest"]

#: More levels than any octree over a uint32 grid can have: a count past it is damage.
_MAX_LODS = 64


@dataclass(eq=False)
class MultiLodManifest:
    """One segment's octree: where its fragments are at each level of detail, and their sizes."""

    chunk_shape: npt.NDArray[np.float32]
    grid_origin: npt.NDArray[np.float32]
    lod_scales: npt.NDArray[np.float32]
    vertex_offsets: npt.NDArray[np.float32]  # (num_lods, 3)
    fragment_positions: list[npt.NDArray[np.uint32]]  # per lod, (n, 3)
    fragment_sizes: list[npt.NDArray[np.uint32]]  # per lod, (n,)

    @property
    def num_lods(self) -> int:
        return len(self.lod_scales)

    @property
    def data_size(self) -> int:
        """Bytes of the fragment data file (every fragment of every lod)."""
        return sum(int(sizes.sum(dtype=np.uint64)) for sizes in self.fragment_sizes)

    def lod_span(self, lod: int) -> tuple[int, int]:
        """``[start, end)`` of level ``lod``'s fragments in the fragment data file."""
        start = sum(int(s.sum(dtype=np.uint64)) for s in self.fragment_sizes[:lod])
        return start, start + int(self.fragment_sizes[lod].sum(dtype=np.uint64))

    def to_bytes(self) -> bytes:
        n = self.num_lods
        parts = [
            np.asarray(self.chunk_shape, "<f4").reshape(3).tobytes(),
            np.asarray(self.grid_origin, "<f4").reshape(3).tobytes(),
            np.uint32(n).astype("<u4").tobytes(),
            np.asarray(self.lod_scales, "<f4").reshape(n).tobytes(),
            np.asarray(self.vertex_offsets, "<f4").reshape(n, 3).tobytes(),
            np.array([len(s) for s in self.fragment_sizes], "<u4").tobytes(),
        ]
        for positions, sizes in zip(self.fragment_positions, self.fragment_sizes):
            parts.append(np.asarray(positions, "<u4").reshape(-1, 3).T.tobytes())
            parts.append(np.asarray(sizes, "<u4").tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str) -> MultiLodManifest:
        """Parse a manifest; anything short, long or inconsistent raises ``DecodingError``."""
        if len(data) < 28:
            raise MeshDecodeError(f"{where}: a mesh manifest of {len(data)} bytes is truncated")
        num_lods = int(np.frombuffer(data, "<u4", 1, 24)[0])
        header = 28 + num_lods * 20
        if num_lods == 0 or num_lods > _MAX_LODS or len(data) < header:
            raise MeshDecodeError(
                f"{where}: the mesh manifest declares {num_lods} levels of detail in {len(data)} bytes; "
                "it is truncated or damaged"
            )
        counts = np.frombuffer(data, "<u4", num_lods, 28 + num_lods * 16).astype(np.int64)
        if len(data) != header + 16 * int(counts.sum()):
            raise MeshDecodeError(
                f"{where}: the mesh manifest is {len(data)} bytes, but its {int(counts.sum())} fragments "
                f"need {header + 16 * int(counts.sum())}; it is truncated or damaged"
            )
        positions, sizes = [], []
        offset = header
        for count in counts.tolist():
            positions.append(
                np.frombuffer(data, "<u4", 3 * count, offset).reshape(3, count).T.astype(np.uint32)
            )
            offset += 12 * count
            sizes.append(np.frombuffer(data, "<u4", count, offset).astype(np.uint32))
            offset += 4 * count
        manifest = cls(
            chunk_shape=np.frombuffer(data, "<f4", 3, 0).astype(np.float32),
            grid_origin=np.frombuffer(data, "<f4", 3, 12).astype(np.float32),
            lod_scales=np.frombuffer(data, "<f4", num_lods, 28).astype(np.float32),
            vertex_offsets=np.frombuffer(data, "<f4", 3 * num_lods, 28 + 4 * num_lods)
            .reshape(num_lods, 3)
            .astype(np.float32),
            fragment_positions=positions,
            fragment_sizes=sizes,
        )
        numbers = (manifest.chunk_shape, manifest.grid_origin, manifest.lod_scales, manifest.vertex_offsets)
        if not all(np.isfinite(a).all() for a in numbers) or (manifest.chunk_shape <= 0).any():
            raise MeshDecodeError(
                f"{where}: the mesh manifest's chunk shape, grid origin, scales or offsets are not finite "
                f"positive numbers (chunk_shape {manifest.chunk_shape.tolist()}); it is damaged"
            )
        return manifest

    def node_origin(self, lod: int) -> npt.NDArray[np.float64]:
        """The stored-model origin of each fragment's octree node at ``lod``, (n, 3)."""
        size = self.chunk_shape.astype(np.float64) * 2.0**lod
        origins: npt.NDArray[np.float64] = (
            self.grid_origin.astype(np.float64)
            + self.vertex_offsets[lod].astype(np.float64)
            + size * self.fragment_positions[lod].astype(np.float64)
        )
        return origins
