"""Transfer compression of stored objects (gzip, and brotli/zstd where installed)."""

from __future__ import annotations

import gzip
import importlib.util
from typing import Any

from ..exceptions import DecodingError, FeatureUnavailableError

__all__ = ["SUFFIXES", "compress_bytes", "decompress_bytes", "normalize_compress"]

#: File-name suffix cloud-volume gives each compression on storage without headers.
SUFFIXES = {"gzip": ".gz", "br": ".br", "zstd": ".zstd"}
_MODULES = {"br": ("brotli", "precomputed[brotli]"), "zstd": ("zstandard", "precomputed[zstd]")}
_GZIP_LEVEL = 6


def normalize_compress(compress: Any) -> str | None:
    """The write compression for the README's ``compress`` option.

    None/False: none; True or "gzip": gzip. Other methods are refused for
    writes: Neuroglancer and tensorstore decode only gzip.
    """
    if compress is None or compress is False or compress == "":
        return None
    if compress is True or compress in ("gzip", "gz"):
        return "gzip"
    raise FeatureUnavailableError(
        f"compress={compress!r} is not supported for writes; use None or 'gzip' "
        "(the only transfer compression Neuroglancer and tensorstore decode)"
    )


def _module(method: str) -> Any:
    name, extra = _MODULES[method]
    if importlib.util.find_spec(name) is None:
        raise FeatureUnavailableError(
            f"reading {method}-compressed chunks needs {name}: pip install '{extra}'"
        )
    return __import__(name)


def compress_bytes(data: bytes, method: str | None) -> bytes:
    """Compress ``data`` with ``method`` (None returns it unchanged)."""
    if method is None:
        return data
    if method == "gzip":
        return gzip.compress(data, compresslevel=_GZIP_LEVEL, mtime=0)
    if method == "br":
        return bytes(_module("br").compress(bytes(data)))
    if method == "zstd":
        return bytes(_module("zstd").ZstdCompressor().compress(bytes(data)))
    raise FeatureUnavailableError(f"unknown compression {method!r}; known: {', '.join(SUFFIXES)}")


def _unzstd(data: bytes) -> bytes:
    stream = _module("zstd").ZstdDecompressor().decompressobj()
    out = bytes(stream.decompress(data))
    if not stream.eof:
        raise EOFError("the zstd frame ends early")
    return out


def decompress_bytes(data: bytes, method: str | None, *, where: str) -> bytes:
    """Decompress ``data``; corrupt or truncated input raises ``DecodingError`` naming ``where``."""
    if method is None:
        return data
    try:
        if method == "gzip":
            return gzip.decompress(data)
        if method == "br":
            return bytes(_module("br").decompress(data))
        if method == "zstd":
            return _unzstd(data)
    except FeatureUnavailableError:
        raise
    except Exception as err:
        raise DecodingError(
            f"{where} is not valid {method} data ({type(err).__name__}: {err}); "
            "the object is corrupt or truncated: rewrite it or delete it"
        ) from err
    raise FeatureUnavailableError(f"unknown compression {method!r} for {where}")
