"""``compresso``: seung-lab's lossless label format (boundaries plus a per-window label table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._label_codec import LabelCodec

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["CompressoCodec"]


class CompressoCodec(LabelCodec):
    """cloud-volume's ``compresso`` encoding, through the ``compresso`` package."""

    encoding = "compresso"
    # Measured: 2 threads encode no faster than one (worker processes pay there), and
    # decode 1.35x one, where worker processes were slower still (their shared memory).
    encode_releases_gil, decode_releases_gil = False, True
    package = "compresso"

    def _compress(self, labels: npt.NDArray[Any]) -> bytes:
        import compresso

        return bytes(compresso.compress(labels))

    def _header_size(self, data: bytes) -> tuple[int, int, int]:
        import compresso

        head = compresso.header(data)
        return int(head["sx"]), int(head["sy"]), int(head["sz"])

    def _decompress(self, data: bytes) -> npt.NDArray[Any]:
        import compresso

        labels: npt.NDArray[Any] = compresso.decompress(data)
        return labels
