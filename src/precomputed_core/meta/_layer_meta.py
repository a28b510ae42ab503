"""Mip-taking accessors over an ``info`` dict (cloud-volume's ``meta.chunk_size(mip)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import FeatureUnavailableError, ReadOnlyError, ScaleUnavailableError
from ..geometry import Bbox, ChunkGrid, Vec
from . import _info

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["LayerMeta"]


class LayerMeta:
    """Read access to one layer's info, by mip level.

    Coordinates are voxels at the mip asked for, in x, y, z order; the
    resolution is in nanometers. ``info`` is the live dict: edits made to it
    are seen by every accessor.
    """

    __slots__ = ("_contexts", "editor", "info")

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self._contexts: dict[int, tuple[Any, Bbox]] = {}
        #: Applies an edit to the stored info (re-read, edit, commit), set by the volume that
        #: stores it; None for an info held only in memory.
        self.editor: Callable[[Callable[[dict[str, Any]], None]], None] | None = None

    # --- cloud-volume's write locks: ``"locked": true`` in a scale ------------

    def locked_mips(self) -> set[int]:
        """The mips whose scale is write-locked."""
        return {i for i, scale in enumerate(self.scales) if scale.get("locked", False)}

    def lock_mips(self, mips: int | Iterable[int]) -> None:
        """Write-lock mips: their scales get ``"locked": true`` in the stored info (re-read
        first, so others' edits are kept), and writes and deletes there raise
        ``ReadOnlyException`` until ``unlock_mips``."""
        self._set_locked(mips, True)

    def unlock_mips(self, mips: int | Iterable[int]) -> None:
        """Release the write lock of mips (in the stored info)."""
        self._set_locked(mips, False)

    def _set_locked(self, mips: int | Iterable[int], locked: bool) -> None:
        wanted = [int(mips)] if isinstance(mips, int | np.integer) else [int(m) for m in mips]
        top = len(self.scales) - 1
        if not wanted or max(wanted) > top or min(wanted) < 0:
            raise ValueError(f"cannot {'' if locked else 'un'}lock mips {wanted}: the mips are 0 to {top}")
        if self.editor is None:
            raise FeatureUnavailableError("this info is not stored anywhere, so no lock can be written to it")

        def edit(info: dict[str, Any]) -> None:
            for mip in wanted:
                info["scales"][mip]["locked"] = locked

        self.editor(edit)

    def check_unlocked(self, mip: int, action: str) -> None:
        """Raise ``ReadOnlyException`` if ``mip`` is write-locked."""
        if self.scale(mip).get("locked", False):
            raise ReadOnlyError(
                f'cannot {action}: mip {mip} is write-locked (its scale says "locked": true); '
                f"if it should not be, run vol.meta.unlock_mips({mip})"
            )

    # --- layer-wide --------------------------------------------------------

    @property
    def scales(self) -> list[dict[str, Any]]:
        scales: list[dict[str, Any]] = self.info["scales"]
        return scales

    @property
    def available_mips(self) -> range:
        return range(len(self.scales))

    @property
    def num_channels(self) -> int:
        return int(self.info["num_channels"])

    @property
    def data_type(self) -> str:
        # The spec compares data types case-insensitively.
        return str(self.info["data_type"]).lower()

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.data_type)

    @property
    def layer_type(self) -> str:
        return str(self.info["type"])

    # --- per mip -------------------------------------------------------------

    def scale(self, mip: int) -> dict[str, Any]:
        if isinstance(mip, bool) or not isinstance(mip, int | np.integer) or mip < 0:
            raise ScaleUnavailableError(f"mip must be a non-negative integer, got {mip!r}")
        if mip >= len(self.scales):
            raise ScaleUnavailableError(
                f"mip {mip} is not defined; this layer has mips "
                f"{list(self.available_mips)} (add one with add_scale and commit_info)"
            )
        scale: dict[str, Any] = self.scales[mip]
        return scale

    def key(self, mip: int) -> str:
        return str(self.scale(mip)["key"])

    # Precomputed storage keys: a volume served by another driver may lack them.

    def encoding(self, mip: int) -> str:
        return str(self.scale(mip)["encoding"]).lower()

    def chunk_size(self, mip: int) -> Vec:
        return Vec(*self.scale(mip)["chunk_sizes"][0])

    def voxel_offset(self, mip: int) -> Vec:
        return Vec(*self.scale(mip).get("voxel_offset", (0, 0, 0)))

    def volume_size(self, mip: int) -> Vec:
        return Vec(*self.scale(mip)["size"])

    def resolution(self, mip: int) -> Vec:
        return Vec(*self.scale(mip)["resolution"])

    def downsample_ratio(self, mip: int) -> Vec:
        """How many mip-0 voxels one voxel of ``mip`` spans, per axis."""
        ratio = np.asarray(self.resolution(mip), float) / np.asarray(self.resolution(0), float)
        return Vec(*ratio, dtype=np.float64)

    def bounds(self, mip: int) -> Bbox:
        """The volume's box at ``mip``: ``[voxel_offset, voxel_offset + size)``."""
        offset = self.voxel_offset(mip)
        return Bbox(offset, offset + self.volume_size(mip))

    def bbox(self, mip: int) -> Bbox:
        """``bounds(mip)`` with the channel axis appended (x, y, z, c)."""
        box = self.bounds(mip)
        return Bbox([*box.minpt.tolist(), 0], [*box.maxpt.tolist(), self.num_channels])

    def context(self, mip: int) -> Bbox:
        """``bbox(mip)``, cached while the scale's geometry is unchanged; do not mutate it.

        Slicing needs this box on every read; building it costs more than a small read's
        planning, and the info may be edited in place, so the cache is keyed on its values.
        """
        scale = self.scale(mip)
        key = repr((scale.get("voxel_offset"), scale["size"], self.info["num_channels"]))
        cached = self._contexts.get(mip)
        if cached is not None and cached[0] == key:
            return cached[1]
        box = self.bbox(mip)
        self._contexts[mip] = (key, box)
        return box

    def shape(self, mip: int) -> Vec:
        return Vec(*self.volume_size(mip), self.num_channels)

    def compressed_segmentation_block_size(self, mip: int) -> Vec | None:
        block = self.scale(mip).get("compressed_segmentation_block_size")
        return None if block is None else Vec(*block)

    def is_sharded(self, mip: int) -> bool:
        return self.scale(mip).get("sharding") is not None

    def grid(self, mip: int) -> ChunkGrid:
        """The chunk grid of a Precomputed scale (from its ``chunk_sizes``)."""
        x, y, z = (int(v) for v in self.voxel_offset(mip))
        sx, sy, sz = (int(v) for v in self.volume_size(mip))
        cx, cy, cz = (int(v) for v in self.chunk_size(mip))
        return ChunkGrid(self.key(mip), offset=(x, y, z), size=(sx, sy, sz), chunk=(cx, cy, cz))

    # --- conversions ---------------------------------------------------------

    def to_mip(self, mip: float | Iterable[Any]) -> int:
        """A mip index from an index or a resolution ``(x, y, z)`` in nanometers."""
        if isinstance(mip, float) and float(mip).is_integer():
            mip = int(mip)
        if isinstance(mip, int | np.integer) and not isinstance(mip, bool):
            self.scale(int(mip))
            return int(mip)
        try:
            wanted = np.asarray(list(mip), dtype=np.float64)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            wanted = np.zeros(0)
        if wanted.shape != (3,):
            raise ScaleUnavailableError(f"mip must be an integer or a resolution (x, y, z), got {mip!r}")
        for index, scale in enumerate(self.scales):
            if np.allclose(np.asarray(scale["resolution"], dtype=np.float64), wanted):
                return index
        known = [s["resolution"] for s in self.scales]
        raise ScaleUnavailableError(f"no scale has resolution {wanted.tolist()}; scales have {known}")

    def bbox_to_mip(self, bbox: Bbox, mip: int, to_mip: int) -> Bbox:
        """Convert a voxel box from ``mip`` to ``to_mip``, growing it to whole voxels."""
        ratio = np.asarray(self.resolution(mip), float) / np.asarray(self.resolution(to_mip), float)
        lo = np.floor(np.asarray(bbox.minpt[:3], float) * ratio)
        hi = np.ceil(np.asarray(bbox.maxpt[:3], float) * ratio)
        return Bbox(lo.astype(np.int64), hi.astype(np.int64))

    def validate(self, *, for_write: bool = False) -> None:
        """Check the info as a Precomputed layer's (chunk sizes and encodings included)."""
        _info.validate_info(self.info, for_write=for_write)

    def validate_layer(self, *, for_write: bool = False) -> None:
        """Check only what every layer's info has, whichever driver serves it."""
        _info.validate_layer(self.info, for_write=for_write)
