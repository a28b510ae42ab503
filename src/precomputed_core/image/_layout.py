"""What every chunk operation at one scale needs, bundled once per scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ..interfaces import ChunkSpec
from ..plugins import get_codec

if TYPE_CHECKING:
    from ..exceptions import CodecError
    from ..format import ChunkIO
    from ..geometry import Chunk, ChunkGrid
    from ..interfaces import Codec
    from ..meta import LayerMeta

__all__ = ["ScaleLayout"]


@dataclass(frozen=True, slots=True)
class ScaleLayout:
    """The chunk I/O, codec and voxel type of one scale."""

    chunks: ChunkIO
    codec: Codec
    dtype: np.dtype[Any]
    num_channels: int
    scale: dict[str, Any]

    @classmethod
    def of(cls, chunks: ChunkIO, meta: LayerMeta, mip: int) -> ScaleLayout:
        return cls(
            chunks=chunks,
            codec=get_codec(meta.encoding(mip)),
            dtype=meta.dtype,
            num_channels=meta.num_channels,
            scale=meta.scale(mip),
        )

    @property
    def grid(self) -> ChunkGrid:
        return self.chunks.grid

    def spec(self, lo: Any, hi: Any) -> ChunkSpec:
        x, y, z = (int(v) for v in np.subtract(hi, lo))
        return self.spec_of((x, y, z))

    def spec_of(self, size: tuple[int, int, int]) -> ChunkSpec:
        """The spec of a chunk of ``size`` (x, y, z) voxels."""
        return ChunkSpec(self.dtype.newbyteorder("<"), (*size, self.num_channels), self.scale)

    def codec_failed(self, chunk: Chunk, err: CodecError) -> NoReturn:
        """Re-raise a codec error with the chunk's full path in it."""
        raise type(err)(f"chunk {self.chunks.describe(chunk)}: {err}") from err
