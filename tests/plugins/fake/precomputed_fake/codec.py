"""raw voxels compressed with zlib: a made-up encoding for the plugin tests."""

from __future__ import annotations

import zlib

import numpy as np

from precomputed_core import Codec
from precomputed_core.exceptions import DecodingError, EncodingError


class ZlibRawCodec(Codec):
    encoding = "zlib_raw"

    def encode(self, array, spec):
        if tuple(array.shape) != spec.shape:
            raise EncodingError(f"shape {array.shape} is not {spec.shape}")
        return zlib.compress(np.asarray(array, dtype=spec.dtype).tobytes(order="F"))

    def decode(self, data, spec, out=None):
        stream = zlib.decompressobj()
        try:  # never more than the chunk holds: a small hostile chunk must not fill memory
            raw = stream.decompress(data, spec.nbytes + 1)
        except zlib.error as err:
            raise DecodingError(f"not zlib data: {err}") from err
        if len(raw) != spec.nbytes or not stream.eof:
            raise DecodingError(f"{len(raw)} bytes, expected {spec.nbytes}")
        voxels = np.frombuffer(raw, dtype=spec.dtype).reshape(spec.shape, order="F")
        if out is None:
            return voxels
        out[...] = voxels
        return out


class CrashingRawCodec(Codec):
    """raw, except that a chunk starting with b"CRASH" kills the decoding process.

    The parallel tests use it to kill a worker process at a known point of a read.
    """

    encoding = "test_crash"

    def encode(self, array, spec):
        return np.asarray(array, dtype=spec.dtype).tobytes(order="F")

    def decode(self, data, spec, out=None):
        if data[:5] == b"CRASH":
            import os

            os._exit(3)
        voxels = np.frombuffer(data, dtype=spec.dtype).reshape(spec.shape, order="F")
        if out is None:
            return voxels
        out[...] = voxels
        return out
