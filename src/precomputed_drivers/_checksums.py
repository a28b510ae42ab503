"""Check a downloaded object against the checksum its store sent with it.

GCS sends ``x-goog-hash`` (crc32c, and md5 for objects not composed from parts); an
S3 object written in one part has the MD5 of its bytes as ETag (not when encrypted
with KMS or a customer key, nor for multipart uploads, whose ETag has a ``-``), and
S3 sends the CRC32 or CRC32C an upload was given when the GET asks for it. A
mismatch raises ``ChecksumMismatch``, which the retry loop treats as a damaged
transfer: retried, then reported naming the object.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import re
import zlib
from typing import TYPE_CHECKING, Any

from ._retry import ChecksumMismatch

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["crc32", "google_hashes", "s3_hashes", "verify"]

_MD5_HEX = re.compile(r'^"?([0-9a-fA-F]{32})"?$')


@functools.cache
def _crc32c() -> Callable[[bytes], bytes] | None:
    try:
        import google_crc32c  # google-cloud-storage's dependency, so gcsfs's too
    except ImportError:
        return None
    return lambda data: int(google_crc32c.value(data)).to_bytes(4, "big")


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def _as_stored(headers: Mapping[str, Any]) -> bool:
    # GCS decompresses gzip objects for clients that do not accept gzip, and still sends
    # the hash of the stored (compressed) bytes.
    stored = (headers.get("x-goog-stored-content-encoding") or "identity").lower()
    sent = (headers.get("Content-Encoding") or "identity").lower()
    return stored == sent


def google_hashes(headers: Mapping[str, Any]) -> dict[str, bytes]:
    """The digests in ``x-goog-hash`` headers (``crc32c=<b64>,md5=<b64>``), by name.

    None when the body is not the object as stored (GCS decompressed it on the way).
    """
    found: dict[str, bytes] = {}
    if not _as_stored(headers):
        return found
    values = headers.getall("x-goog-hash", []) if hasattr(headers, "getall") else [headers.get("x-goog-hash")]
    for value in values:
        for item in str(value or "").split(","):
            name, _, digest = item.strip().partition("=")
            if name in ("crc32c", "md5") and digest:
                try:
                    found[name] = base64.b64decode(digest, validate=True)
                except (binascii.Error, ValueError):
                    continue  # a header we cannot read checks nothing
    return found


def s3_hashes(response: Mapping[str, Any]) -> dict[str, bytes]:
    """The digests an S3 ``GetObject`` response carries: the whole object's CRC32 or CRC32C
    (sent when the request asked for them and the upload gave one), and the MD5 an ETag is."""
    found: dict[str, bytes] = {}
    for name, field in (("crc32", "ChecksumCRC32"), ("crc32c", "ChecksumCRC32C")):
        with contextlib.suppress(binascii.Error, ValueError):  # "<b64>-3": a multipart composite
            value = response.get(field)
            if value:
                found[name] = base64.b64decode(value, validate=True)
    if str(response.get("ServerSideEncryption") or "").startswith("aws:kms") or response.get(
        "SSECustomerAlgorithm"
    ):  # KMS (and DSSE-KMS) or customer-key encryption: the ETag is no MD5
        return found
    match = _MD5_HEX.match(str(response.get("ETag") or ""))
    if match:
        found["md5"] = bytes.fromhex(match.group(1))
    return found


def _fast_crc32() -> Callable[[bytes], int]:
    try:
        from isal.isal_zlib import crc32 as isal_crc32  # a dependency (gzip); ten times zlib's speed
    except ImportError:
        return zlib.crc32
    return isal_crc32  # type: ignore[no-any-return]


#: zlib's CRC32 (the one S3 uses), from ISA-L where it is installed.
crc32 = _fast_crc32()


def _crc32(data: bytes) -> bytes:
    return crc32(data).to_bytes(4, "big")


def verify(data: bytes, expected: Mapping[str, bytes]) -> None:
    """Raise ``ChecksumMismatch`` unless ``data`` has the digests ``expected`` (the fastest one)."""
    crc32c = _crc32c() if "crc32c" in expected else None
    if crc32c is not None:
        name, digest = "crc32c", crc32c
    elif "crc32" in expected:  # zlib's: about ten times the speed of MD5
        name, digest = "crc32", _crc32
    elif "md5" in expected:
        name, digest = "md5", _md5
    else:
        return
    actual = digest(data)
    if actual != expected[name]:
        raise ChecksumMismatch(
            f"the {len(data)} bytes received have {name} {actual.hex()}, but the store says "
            f"{expected[name].hex()}: the transfer was damaged"
        )
