"""What every chunk operation at one scale needs, bundled once per call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ._chunks import ChunkGrid
from ._codec import ChunkSpec
from .exceptions import CodecError, FeatureUnavailableError
from .plugins import get_codec

if TYPE_CHECKING:
    from ._codec import Codec
    from ._meta import LayerMeta
    from ._store import Store

__all__ = ["ScaleLayout"]


@dataclass(frozen=True, slots=True)
class ScaleLayout:
    """The store, grid, codec and voxel type of one scale."""

    store: Store
    grid: ChunkGrid
    codec: Codec
    dtype: np.dtype[Any]
    num_channels: int
    scale: dict[str, Any]

    @staticmethod
    def require_unsharded(store: Store, meta: LayerMeta, mip: int) -> None:
        if meta.is_sharded(mip):
            raise FeatureUnavailableError(
                f"scale {meta.key(mip)!r} of {store.url} uses the sharded format, which this "
                "version of precomputed cannot read or write yet"
            )

    @classmethod
    def of(cls, store: Store, meta: LayerMeta, mip: int) -> ScaleLayout:
        cls.require_unsharded(store, meta, mip)
        return cls(
            store=store,
            grid=ChunkGrid.from_meta(meta, mip),
            codec=get_codec(meta.encoding(mip)),
            dtype=meta.dtype,
            num_channels=meta.num_channels,
            scale=meta.scale(mip),
        )

    def spec(self, lo: Any, hi: Any) -> ChunkSpec:
        x, y, z = (int(v) for v in np.subtract(hi, lo))
        return self.spec_of((x, y, z))

    def spec_of(self, size: tuple[int, int, int]) -> ChunkSpec:
        """The spec of a chunk of ``size`` (x, y, z) voxels."""
        return ChunkSpec(self.dtype.newbyteorder("<"), (*size, self.num_channels), self.scale)

    def codec_failed(self, key: str, err: CodecError) -> NoReturn:
        """Re-raise a codec error with the chunk's full path in it."""
        raise type(err)(f"chunk {self.store.describe(key)}: {err}") from err
