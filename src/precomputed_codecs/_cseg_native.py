"""Call the ``compressed-segmentation`` package's C++ coder without holding the GIL.

The package's Python wrapper (2.3.x) keeps the GIL while it codes and works on copies:
a thread pool gets no second core, and every chunk is copied once more than needed.
Its extension module also exports the C++ functions underneath:

- ``DecompressChannel<Label>(input, volume_size, block_size, strides, output, channel)``
  takes plain pointers and integers; the element strides let it write straight into a
  strided view of the read's output array.
- ``CompressChannel<Label>(input, strides, volume_size, block_size, vector<uint32>*)``
  reads a strided view of the caller's array and appends to a ``std::vector``. We hand
  it a vector whose storage is our own buffer with room for the worst case, so it never
  reallocates (the bound is ``_encode_bound``; it is checked after every call).

ctypes releases the GIL around foreign calls. This depends on the symbols' Itanium C++
ABI names and on ``std::vector`` being three pointers (libstdc++ and libc++), so the
functions are looked up, then proved on small chunks against the package's own Python
API before they are trusted; when anything is missing or differs, the codec keeps
using the Python API. The decoder trusts its input: callers check the layout first.
"""

from __future__ import annotations

import ctypes
import functools
import math
import sys
import threading
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from precomputed_core.exceptions import EncodingError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["native_decoder", "native_encoder"]

_DECODERS: dict[np.dtype[Any], str] = {
    np.dtype(np.uint32): "_ZN21compress_segmentation17DecompressChannelIjEEvPKjPKlS4_S4_PT_l",
    np.dtype(np.uint64): "_ZN21compress_segmentation17DecompressChannelImEEvPKjPKlS4_S4_PT_l",
}
_ENCODERS: dict[np.dtype[Any], str] = {
    np.dtype(np.uint32): "_ZN21compress_segmentation15CompressChannelIjEEiPKT_PKlS5_S5_PSt6vectorIjSaIjEE",
    np.dtype(np.uint64): "_ZN21compress_segmentation15CompressChannelImEEiPKT_PKlS5_S5_PSt6vectorIjSaIjEE",
}
_Triple = ctypes.c_ssize_t * 3
_Quad = ctypes.c_ssize_t * 4
_Vector = ctypes.c_void_p * 3  # begin, end, end of storage


class NativeEncode(Protocol):
    def __call__(self, labels: npt.NDArray[Any], block: tuple[int, int, int]) -> bytes: ...


class NativeDecode(Protocol):
    def __call__(
        self, words: npt.NDArray[np.uint32], block: tuple[int, int, int], out: npt.NDArray[Any], channel: int
    ) -> None: ...


def _bind(library: ctypes.CDLL, symbol: str) -> NativeDecode:
    function = getattr(library, symbol)
    function.restype = None
    function.argtypes = [ctypes.c_void_p, _Triple, _Triple, _Quad, ctypes.c_void_p, ctypes.c_ssize_t]

    def decode(
        words: npt.NDArray[np.uint32], block: tuple[int, int, int], out: npt.NDArray[Any], channel: int
    ) -> None:
        """Decode one channel (``words`` start at its block headers) into ``out[..., channel]``."""
        strides = [s // out.itemsize for s in out.strides]
        function(words.ctypes.data, _Triple(*out.shape[:3]), _Triple(*block), _Quad(*strides),
                 out.ctypes.data, channel)  # fmt: skip

    return decode


#: Blocks up to this many voxels hold at most 2**16 labels, so 16-bit indices are the widest
#: the C++ encoder writes; larger blocks need 32-bit ones, which it cannot encode.
NATIVE_BLOCK_VOXELS = 2**16


def _encode_bound(shape: tuple[int, ...], block: tuple[int, int, int], itemsize: int) -> int:
    """Most uint32 words one channel can take, whatever the labels.

    Each of the ``nblocks`` blocks (edge blocks are encoded at full block size) has a
    2-word header, at most one 32-bit index per voxel (the encoder writes at most 16),
    and at most one table entry of ``itemsize / 4`` words per voxel (tables shared
    between blocks only make it smaller). The buffer is sized to this before the call,
    so the ``std::vector`` never grows past memory it does not own.
    """
    voxels = math.prod(block)
    nblocks = math.prod(-(-s // b) for s, b in zip(shape[:3], block))
    return nblocks * (2 + voxels + voxels * (itemsize // 4))


def _bind_encoder(library: ctypes.CDLL, symbol: str) -> NativeEncode:
    function = getattr(library, symbol)
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p, _Triple, _Triple, _Triple, ctypes.POINTER(_Vector)]
    scratch = threading.local()

    def encode(labels: npt.NDArray[Any], block: tuple[int, int, int]) -> bytes:
        """One channel's encoding (no channel table) of the (x, y, z) ``labels``."""
        if math.prod(block) > NATIVE_BLOCK_VOXELS or labels.ndim != 3 or min(block) < 1:
            raise EncodingError(
                f"the C++ encoder takes 3-d labels and blocks of 1 to 65536 voxels, not {block}"
            )
        needed = _encode_bound(labels.shape, block, labels.itemsize)
        buffer = getattr(scratch, "buffer", None)
        if buffer is None or len(buffer) < needed:
            buffer = scratch.buffer = np.empty(needed, dtype=np.uint32)
        start = buffer.ctypes.data
        vector = _Vector(start, start, start + 4 * len(buffer))
        strides = [s // labels.itemsize for s in labels.strides]
        error = function(labels.ctypes.data, _Triple(*strides), _Triple(*labels.shape), _Triple(*block),
                         ctypes.byref(vector))  # fmt: skip
        if vector[0] != start or vector[2] != start + 4 * len(buffer):
            raise EncodingError("compressed_segmentation outgrew its bounded output buffer")
        if error:
            raise EncodingError("compressed_segmentation tables passed 2**24 words; use smaller chunks")
        return buffer[: ((vector[1] or start) - start) // 4].tobytes()

    return encode


def _proves_itself(
    decoders: dict[np.dtype[Any], NativeDecode], encoders: dict[np.dtype[Any], NativeEncode]
) -> bool:
    import compressed_segmentation as cseg

    rng = np.random.default_rng(7)
    for dtype, decode in decoders.items():
        # Several blocks, partial edge blocks and 0-, 1- and 4-bit blocks.
        labels = rng.integers(0, 9, size=(11, 6, 5), dtype=dtype) * np.uint64(2**31 + 3).astype(dtype)
        labels[:4, :4, :2] = 5
        encoded = cseg.compress(np.asfortranarray(labels), block_size=(4, 4, 2), order="F")
        strided = np.zeros((22, 6, 5), dtype=dtype, order="C")[::2]
        strided[...] = labels
        if encoders[dtype](strided, (4, 4, 2)) != encoded[4:]:
            return False
        out = np.zeros((13, 6, 5, 2), dtype=dtype, order="F")
        decode(np.frombuffer(encoded, dtype="<u4")[1:], (4, 4, 2), out[1:12], 1)
        if not (np.array_equal(out[1:12, ..., 1], labels) and not out[..., 0].any() and not out[0].any()):
            return False
    return True


@functools.cache
def native_decoder(dtype: np.dtype[Any]) -> NativeDecode | None:
    """The GIL-free decoder for ``dtype`` labels, or None where it cannot be used."""
    coders = _coders()
    return None if coders is None else coders[0].get(np.dtype(dtype))


@functools.cache
def native_encoder(dtype: np.dtype[Any]) -> NativeEncode | None:
    """The GIL-free encoder for ``dtype`` labels, or None where it cannot be used."""
    coders = _coders()
    return None if coders is None else coders[1].get(np.dtype(dtype))


@functools.cache
def _coders() -> tuple[dict[np.dtype[Any], NativeDecode], dict[np.dtype[Any], NativeEncode]] | None:
    if sys.byteorder != "little":
        return None
    try:
        import compressed_segmentation as cseg

        library = ctypes.CDLL(cseg.__file__)
        decoders = {dtype: _bind(library, symbol) for dtype, symbol in _DECODERS.items()}
        encoders = {dtype: _bind_encoder(library, symbol) for dtype, symbol in _ENCODERS.items()}
        proven = _proves_itself(decoders, encoders)
    except Exception:
        return None
    return (decoders, encoders) if proven else None
