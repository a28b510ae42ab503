"""``Skeleton.save`` and ``Skeleton.load``: one skeleton in a local file, named as osteoid names it.

The name picks the format and compression exactly as osteoid's ``util.save`` /
``util.load`` do, so files pass between the two: a name ending in ``swc`` holds
SWC text, any other the Precomputed binary (with cloud-volume's default
attributes); a final ``.gz`` is gzip and ``.xz``/``.lzma`` is LZMA. So
``cell.swc.gz`` holds the gzipped *binary*, as osteoid writes it.
"""

from __future__ import annotations

import gzip
import lzma
import mmap
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["SkeletonDisk"]

_OPENERS: dict[str, Any] = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open}


def _opener(filename: str) -> Any:
    return _OPENERS.get(os.path.splitext(filename)[1], open)


class SkeletonDisk:
    """Saving to and loading from a file; ``Skeleton`` supplies the formats."""

    if TYPE_CHECKING:

        def to_swc(self, contributors: str = "", soma_threshold: float = ...) -> str: ...
        def to_precomputed(self) -> bytes: ...
        @classmethod
        def from_swc(cls, swcstr: str | bytes) -> Self: ...
        @classmethod
        def from_precomputed(cls, data: bytes | bytearray | memoryview) -> Self: ...

    def save(self, filename: str | os.PathLike[str]) -> None:
        """Write the skeleton to ``filename``: SWC if the name ends in ``swc``, else the binary.

        A ``.gz`` name is gzipped and ``.xz``/``.lzma`` compressed with LZMA; see
        the module docstring for how ``.swc.gz`` is read.
        """
        name = os.fspath(filename)
        data = self.to_swc().encode("utf8") if name.endswith("swc") else self.to_precomputed()
        with _opener(name)(name, "wb") as f:
            f.write(data)

    @classmethod
    def load(cls, filename: str | os.PathLike[str], allow_mmap: bool = False) -> Self:
        """Read a skeleton written by ``save`` (or by osteoid).

        ``allow_mmap`` maps an uncompressed binary file instead of reading it
        (the arrays are copied out, so the file may change afterwards).

        Raises
        ------
        DecodingError
            The file does not hold a skeleton in the format its name says.
        """
        name = os.fspath(filename)
        opener = _opener(name)
        if allow_mmap and opener is open and not name.endswith("swc") and os.path.getsize(name):
            with (
                open(name, "rb") as f,
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
                memoryview(mapped) as view,
            ):
                return cls.from_precomputed(view)
        with opener(name, "rb") as f:
            data = f.read()
        if name.endswith("swc"):
            return cls.from_swc(data)
        return cls.from_precomputed(data)
