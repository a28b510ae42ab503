"""Checksums sent with objects: parsed from GCS and S3 responses, and checked."""

from __future__ import annotations

import base64
import hashlib
import zlib

import google_crc32c
import pytest
from multidict import CIMultiDict

from precomputed_drivers._checksums import google_hashes, s3_hashes, verify
from precomputed_drivers._retry import ChecksumMismatch, Kind, classify

DATA = b"precomputed chunk bytes" * 100
MD5 = hashlib.md5(DATA).digest()
CRC = int(google_crc32c.value(DATA)).to_bytes(4, "big")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_x_goog_hash_in_one_header_or_two():
    one = CIMultiDict({"x-goog-hash": f"crc32c={_b64(CRC)},md5={_b64(MD5)}"})
    two = CIMultiDict([("x-goog-hash", f"crc32c={_b64(CRC)}"), ("x-goog-hash", f"md5={_b64(MD5)}")])
    assert google_hashes(one) == google_hashes(two) == {"crc32c": CRC, "md5": MD5}
    assert google_hashes({"x-goog-hash": "crc32c=not base64!"}) == {}
    assert google_hashes({}) == {}


def test_an_s3_etag_is_an_md5_only_for_single_part_unencrypted_objects():
    etag = f'"{MD5.hex()}"'
    assert s3_hashes({"ETag": etag}) == {"md5": MD5}
    assert s3_hashes({"ETag": f'"{MD5.hex()}-3"'}) == {}  # multipart
    assert s3_hashes({"ETag": etag, "ServerSideEncryption": "aws:kms"}) == {}
    assert s3_hashes({"ETag": etag, "SSECustomerAlgorithm": "AES256"}) == {}


def test_an_s3_response_gives_its_crc32_and_crc32c_but_not_composite_ones():
    crc32 = zlib.crc32(DATA).to_bytes(4, "big")
    response = {"ETag": f'"{MD5.hex()}"', "ChecksumCRC32": _b64(crc32), "ChecksumCRC32C": _b64(CRC)}
    assert s3_hashes(response) == {"md5": MD5, "crc32": crc32, "crc32c": CRC}
    assert s3_hashes({"ChecksumCRC32": _b64(crc32) + "-3"}) == {}  # a multipart composite
    with pytest.raises(ChecksumMismatch, match=r"crc32 "):
        verify(DATA + b"!", {"crc32": crc32, "md5": MD5})  # the CRC is the one checked


@pytest.mark.parametrize("expected", [{"md5": MD5}, {"crc32c": CRC}, {"md5": MD5, "crc32c": CRC}, {}])
def test_matching_bytes_pass(expected):
    verify(DATA, expected)


@pytest.mark.parametrize("expected", [{"md5": MD5}, {"crc32c": CRC}])
def test_damaged_bytes_raise_a_transient_error(expected):
    damaged = DATA[:10] + b"X" + DATA[11:]
    with pytest.raises(ChecksumMismatch, match="transfer was damaged") as caught:
        verify(damaged, expected)
    assert classify(caught.value) is Kind.TRANSIENT


def test_a_body_gcs_decompressed_on_the_way_is_not_checked_against_the_stored_hash():
    headers = {"x-goog-hash": f"md5={_b64(MD5)}", "x-goog-stored-content-encoding": "gzip"}
    assert google_hashes(headers) == {}
    assert google_hashes({**headers, "Content-Encoding": "gzip"}) == {"md5": MD5}


def test_dsse_kms_etags_are_not_md5s():
    assert s3_hashes({"ETag": f'"{MD5.hex()}"', "ServerSideEncryption": "aws:kms:dsse"}) == {}
