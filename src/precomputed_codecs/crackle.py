"""``crackle``: seung-lab's lossless label format (crack codes of the boundaries, labels per component)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._label_codec import LabelCodec

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["CrackleCodec"]


class CrackleCodec(LabelCodec):
    """cloud-volume's ``crackle`` encoding, through the ``crackle-codec`` package.

    One thread per chunk: the volume already decodes chunks on its own threads.
    """

    encoding = "crackle"
    # Measured: 2 threads code 1.9-2x one.
    encode_releases_gil = decode_releases_gil = True
    package = "crackle-codec"

    def _compress(self, labels: npt.NDArray[Any]) -> bytes:
        import crackle

        return bytes(crackle.compress(labels, parallel=1))

    def _header_size(self, data: bytes) -> tuple[int, int, int]:
        import crackle

        head = crackle.header(data)
        return int(head.sx), int(head.sy), int(head.sz)

    def _decompress(self, data: bytes) -> npt.NDArray[Any]:
        import crackle

        labels: npt.NDArray[Any] = crackle.decompress(data, parallel=1)
        return labels
