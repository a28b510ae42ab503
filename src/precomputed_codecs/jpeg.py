"""``jpeg``: uint8 chunks with 1 or 3 channels, through Pillow (libjpeg-turbo)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from precomputed_core import ChunkSpec, Codec
from precomputed_core.exceptions import DecodingError, UnsupportedDataTypeError

from ._image_layout import from_image, to_image

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["JpegCodec"]

_MODES = {1: "L", 3: "RGB"}


class JpegCodec(Codec):
    """Lossy; quality from the scale's ``jpeg_quality`` (cloud-volume's default, 85, otherwise)."""

    encoding = "jpeg"
    content_type: ClassVar[str] = "image/jpeg"

    def __init__(self, quality: int = 85) -> None:
        if not 1 <= quality <= 100:
            raise ValueError(f"jpeg quality must be 1 to 100, got {quality}")
        self.quality = quality

    def check(self, dtype: np.dtype[Any], num_channels: int, scale: dict[str, Any]) -> None:
        if dtype != np.uint8 or num_channels not in _MODES:
            raise UnsupportedDataTypeError(
                f"jpeg holds uint8 with 1 or 3 channels, not {dtype} with {num_channels}; "
                "use png or raw (lossless), or compressed_segmentation for labels"
            )
        quality = scale.get("jpeg_quality", self.quality)
        if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
            raise UnsupportedDataTypeError(f"jpeg_quality must be an integer 1 to 100, got {quality!r}")

    def encode(self, array: npt.NDArray[Any], spec: ChunkSpec) -> bytes:
        from PIL import Image

        self.check(spec.dtype, spec.shape[3], spec.scale)
        image = to_image(array, spec)
        mode = _MODES[spec.shape[3]]
        picture = Image.fromarray(image[..., 0] if mode == "L" else image, mode)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=int(spec.scale.get("jpeg_quality", self.quality)))
        return buffer.getvalue()

    def decode(self, data: bytes, spec: ChunkSpec, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as picture:
                picture.load()
                wanted = _MODES.get(spec.shape[3], "L")
                image = np.asarray(picture if picture.mode == wanted else picture.convert(wanted))
        except (OSError, SyntaxError, ValueError) as err:
            raise DecodingError(f"not a readable JPEG ({type(err).__name__}: {err})") from err
        voxels = from_image(image, spec, "jpeg")
        if out is None:
            return voxels
        out[...] = voxels
        return out
