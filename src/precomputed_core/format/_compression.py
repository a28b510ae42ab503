"""Transfer compression of stored objects (gzip, and brotli/zstd where installed).

gzip is coded by ISA-L (the ``isal`` package, a dependency: Intel's igzip, several times
faster than zlib at both ends, with wheels for Linux x86_64 and aarch64, macOS and
Windows), else zlib-ng (``zlib_ng``) if installed, else the stdlib's zlib. All three
write and read plain gzip: any gzip reader decodes what each writes.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import zlib
from typing import Any

from ..exceptions import DecodingError, FeatureUnavailableError

__all__ = ["SUFFIXES", "compress_bytes", "decompress_bytes", "gzip_backend", "normalize_compress"]

_log = logging.getLogger(__name__)

#: File-name suffix cloud-volume gives each compression on storage without headers.
SUFFIXES = {"gzip": ".gz", "br": ".br", "zstd": ".zstd"}
_MODULES = {"br": ("brotli", "precomputed[brotli]"), "zstd": ("zstandard", "precomputed[zstd]")}
_GZIP_LEVEL = 6
#: zlib's levels 1-9 on ISA-L's 0-3, by compression ratio: level 6 (cloud-volume's and
#: ours by default) is ISA-L's 2, a little larger output than zlib's 6 at many times the speed.
_ISAL_LEVELS = {1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3}


@functools.lru_cache(maxsize=1)
def _gzip_coder() -> tuple[str, Any]:
    """The fastest installed zlib-compatible coder: (name, module with zlib's API)."""
    for name, module in (("isal", "isal.isal_zlib"), ("zlib-ng", "zlib_ng.zlib_ng")):
        try:
            coder = importlib.import_module(module)
        except ImportError:
            continue
        _log.debug("gzip is coded by %s", name)
        return name, coder
    _log.debug("gzip is coded by the stdlib's zlib (isal and zlib-ng are not installed)")
    return "zlib", zlib


def gzip_backend() -> str:
    """Which library codes gzip here: ``"isal"``, ``"zlib-ng"`` or ``"zlib"``."""
    return _gzip_coder()[0]


def _gzip(data: bytes, level: int) -> bytes:
    name, coder = _gzip_coder()
    stream = coder.compressobj(_ISAL_LEVELS[level] if name == "isal" else level, coder.DEFLATED, 31)
    return bytes(stream.compress(data) + stream.flush())


def normalize_compress(compress: Any) -> str | None:
    """The write compression for the README's ``compress`` option.

    None/False: none; True or "gzip": gzip; "br" and "zstd" as cloud-volume writes them
    (with the brotli or zstandard package). Only gzip is decoded by every reader:
    tensorstore reads neither br nor zstd, and Neuroglancer reads br only where the
    server sends ``Content-Encoding: br`` (cloud storage), not ``.br`` files.
    """
    if compress is None or compress is False or compress == "":
        return None
    if compress is True or compress in ("gzip", "gz"):
        return "gzip"
    if compress in ("br", "zstd"):
        _module(compress, "writing")
        return str(compress)
    raise FeatureUnavailableError(
        f"compress={compress!r} is not a known compression; use None, 'gzip' (what every reader "
        "decodes), 'br' or 'zstd'"
    )


def _module(method: str, action: str = "reading") -> Any:
    name, extra = _MODULES[method]
    if importlib.util.find_spec(name) is None:
        raise FeatureUnavailableError(
            f"{action} {method}-compressed chunks needs {name}: pip install '{extra}'"
        )
    return __import__(name)


def compress_bytes(data: bytes, method: str | None, *, level: int | None = None) -> bytes:
    """Compress ``data`` with ``method`` (None returns it unchanged); ``level`` is gzip's (1-9)."""
    if method is None:
        return data
    if method == "gzip":
        if level is not None and (
            isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9
        ):
            raise ValueError(f"a gzip compression level is 1 to 9, got {level!r}")
        return _gzip(data, _GZIP_LEVEL if level is None else level)
    if method == "br":
        return bytes(_module("br").compress(bytes(data)))
    if method == "zstd":
        return bytes(_module("zstd").ZstdCompressor().compress(bytes(data)))
    raise FeatureUnavailableError(f"unknown compression {method!r}; known: {', '.join(SUFFIXES)}")


class _Bomb(Exception):
    """Decompressed output went past its limit (raised as a ``DecodingError`` naming the object)."""


def _check(total: int, limit: int | None) -> None:
    if limit is not None and total > limit:
        raise _Bomb(f"it expands to more than {limit} bytes")


def _gunzip(data: bytes, limit: int | None) -> bytes:
    """Every gzip member of ``data``, stopping as soon as the output passes ``limit``."""
    coder = _gzip_coder()[1]
    out: list[bytes] = []
    total, rest = 0, data
    while True:
        stream = coder.decompressobj(wbits=31)
        pending = rest
        # The trailer's size (of the last member, mod 2**32) sizes the first output buffer:
        # a buffer as large as the limit costs ISA-L a quarter of its speed. Only a hint: a
        # wrong one just takes more calls, still within the limit.
        hint = int.from_bytes(rest[-4:], "little") + 1 if len(rest) >= 18 else 0
        while True:
            room = 0 if limit is None else limit - total + 1
            if hint:
                room, hint = (min(room, hint) if room else hint), 0
            piece = stream.decompress(pending, room)
            out.append(piece)
            total += len(piece)
            _check(total, limit)
            pending = stream.unconsumed_tail
            # A full buffer may leave output inside the decoder even with no input left.
            if stream.eof or (not pending and (room == 0 or len(piece) < room)):
                break
        if not stream.eof:
            raise EOFError("the gzip stream ends early")
        rest = stream.unused_data.lstrip(b"\0")  # zero padding between members, as gzip allows
        if not rest:
            break
    return out[0] if len(out) == 1 else b"".join(out)


#: Input fed per call where a decompressor cannot cap its output: at most this much
#: input is decoded past the limit (zstd expands a 4-byte block to 128 KiB at most).
_STEP = 1024


def _unbrotli(data: bytes, limit: int | None) -> bytes:
    brotli = _module("br")
    stream = brotli.Decompressor()
    if limit is None:
        return bytes(brotli.decompress(data))
    cap = limit + 1
    try:
        out = [stream.process(data, output_buffer_limit=cap)]
    except TypeError:  # brotli < 1.2 cannot cap its output: feed it a little at a time
        return _fed(stream.process, stream.is_finished, data, limit)
    total = len(out[0])
    while not stream.is_finished():
        _check(total, limit)
        piece = stream.process(b"", output_buffer_limit=cap)
        if not piece and stream.can_accept_more_data():
            raise EOFError("the brotli stream ends early")
        out.append(piece)
        total += len(piece)
    _check(total, limit)
    return b"".join(out)


def _fed(process: Any, finished: Any, data: bytes, limit: int) -> bytes:
    out, total, view = [], 0, memoryview(data)
    for start in range(0, len(view), _STEP):
        piece = process(bytes(view[start : start + _STEP]))
        out.append(piece)
        total += len(piece)
        _check(total, limit)
    if not finished():
        raise EOFError("the stream ends early")
    return b"".join(out)


def _unzstd(data: bytes, limit: int | None) -> bytes:
    """Every zstd frame of ``data``; a frame that declares its size is decoded in one call."""
    zstd = _module("zstd")
    out: list[bytes] = []
    total, rest = 0, data
    while rest:
        declared = zstd.frame_content_size(rest[:18])  # a frame header is at most 18 bytes
        if limit is not None and declared >= 0:
            _check(total + declared, limit)
        step = len(rest) if limit is None or declared >= 0 else _STEP
        stream = zstd.ZstdDecompressor().decompressobj()
        start = 0
        while start < len(rest) and not stream.eof:
            piece = bytes(stream.decompress(rest[start : start + step]))
            start += step
            out.append(piece)
            total += len(piece)
            _check(total, limit)
        if not stream.eof:
            raise EOFError("the zstd frame ends early")
        rest = stream.unused_data + rest[start:]  # the next frame: what this slice and the rest hold
    return out[0] if len(out) == 1 else b"".join(out)


_DECOMPRESSORS = {"gzip": _gunzip, "br": _unbrotli, "zstd": _unzstd}


def decompress_bytes(data: bytes, method: str | None, *, where: str, limit: int | None = None) -> bytes:
    """Decompress ``data``; corrupt or truncated input raises ``DecodingError`` naming ``where``.

    ``limit`` bounds the output: decompression stops, and raises, as soon as it passes
    that many bytes, so a small hostile object (a "decompression bomb") costs no more
    memory than a chunk of the right size.
    """
    if method is None:
        return data
    decompress = _DECOMPRESSORS.get(method)
    if decompress is None:
        raise FeatureUnavailableError(f"unknown compression {method!r} for {where}")
    try:
        return decompress(data, limit)
    except FeatureUnavailableError:
        raise
    except _Bomb as err:
        raise DecodingError(
            f"{where}: {err}, more than the chunk can hold; the object is corrupt or hostile "
            "(a decompression bomb): rewrite it or delete it"
        ) from None
    except Exception as err:
        raise DecodingError(
            f"{where} is not valid {method} data ({type(err).__name__}: {err}); "
            "the object is corrupt or truncated: rewrite it or delete it"
        ) from err
