"""How failures of every client library are sorted: missing, denied, transient, conflict, fatal."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.http_exceptions import ContentLengthError
from botocore.exceptions import ClientError, FlexibleChecksumError
from s3fs.errors import translate_boto_error

from precomputed_core.exceptions import TransientStorageError
from precomputed_drivers._retry import Kind, RetryPolicy, WriteConflict, classify, retrying


def _s3_error(code: str, status: int, condition: str = "If-Match") -> OSError:
    response = {"Error": {"Code": code, "Message": code, "Condition": condition},
                "ResponseMetadata": {"HTTPStatusCode": status}}  # fmt: skip
    return translate_boto_error(ClientError(response, "PutObject"))


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


def test_a_failed_s3_precondition_is_a_conflict_though_s3fs_makes_it_an_oserror():
    error = _s3_error("PreconditionFailed", 412)
    assert isinstance(error, OSError)
    assert classify(error) is Kind.CONFLICT
    assert classify(_s3_error("PreconditionFailed", 412, condition="If-None-Match")) is Kind.CONFLICT
    assert classify(_s3_error("ConditionalRequestConflict", 409)) is Kind.CONFLICT


def test_gcsfs_reports_a_failed_generation_match_as_file_exists():
    assert classify(FileExistsError("gs://b/o")) is Kind.CONFLICT


def test_a_body_cut_short_is_transient_though_aiohttp_gives_it_code_400():
    cut = _chained(aiohttp.ClientPayloadError("Response payload is not completed"),
                   ContentLengthError("Not enough data to satisfy content length header."))  # fmt: skip
    assert classify(cut) is Kind.TRANSIENT


def test_a_checksum_failure_is_transient():
    assert classify(FlexibleChecksumError(error_msg="Expected checksum x did not match y")) is Kind.TRANSIENT


def test_a_conflict_is_not_retried_but_handed_back():
    calls = []

    async def put():
        calls.append(1)
        raise _s3_error("PreconditionFailed", 412)

    with pytest.raises(WriteConflict):
        asyncio.run(retrying(put, RetryPolicy(attempts=4, base=0.001), "write", "s3://b/k"))
    assert len(calls) == 1


def test_the_total_time_bounds_every_attempt():
    async def hang():
        await asyncio.sleep(60)

    policy = RetryPolicy(attempts=6, base=0.001, timeout=1, total=0.3)
    with pytest.raises(
        TransientStorageError, match=r"s3://b/k: no complete answer within 0.3 s \(1 attempt,"
    ):
        asyncio.run(retrying(hang, policy, "read", "s3://b/k"))


def test_timeouts_from_options():
    policy = RetryPolicy().with_options(request_timeout=5, total_timeout=30)
    assert (policy.timeout, policy.total, policy.attempts) == (5.0, 30.0, 6)
    assert RetryPolicy().with_options() == RetryPolicy()


def test_a_host_name_that_does_not_resolve_is_named_whichever_client_failed():
    import socket

    from botocore.exceptions import EndpointConnectionError

    from precomputed_drivers._retry import storage_error

    class NameResolutionError(OSError):  # urllib3's, under requests (the BOSS's client)
        pass

    boto = EndpointConnectionError(endpoint_url="http://minio.invalid:9000/bucket/key")
    boto.__cause__ = socket.gaierror(-2, "Name or service not known")
    urllib3 = NameResolutionError("<HTTPSConnection>: Failed to resolve 'api.boss.invalid' ([Errno -2] Name)")
    for err, host in ((boto, "minio.invalid"), (urllib3, "api.boss.invalid")):
        assert classify(err) is Kind.UNRESOLVED
        message = str(storage_error(err, "read", "s3://bucket/key", attempts=2))
        assert message.startswith(
            f"cannot read s3://bucket/key: the host name {host} did not resolve (tried 2 times;"
        )


def test_a_refused_connection_names_the_host_and_port():
    from precomputed_drivers._retry import storage_error

    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None),
        ConnectionRefusedError(111, "Connect call failed"),
    )
    assert classify(refused) is Kind.TRANSIENT
    message = str(storage_error(refused, "read", "http://127.0.0.1:9/l/info", attempts=6))
    assert "it still failed after 6 attempts" in message
    assert "nothing accepted the connection at 127.0.0.1:9: check the address and port" in message
