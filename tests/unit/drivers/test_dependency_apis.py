"""What the drivers use of s3fs and gcsfs beyond their documented API, checked for shape.

gcsfs has no public call for one raw request without its retry loop, so the GCS driver
calls ``GCSFileSystem._request`` unwrapped (its retries would multiply ours) and reads
``_location`` (the endpoint). The S3 driver reads two plain attributes of ``S3FileSystem``
(``req_kw``, ``s3_additional_kwargs``). If a new release changes them, these tests fail and
say what to update. Tested with the versions the ``lowest`` nox session pins and the newest.
"""

from __future__ import annotations

import inspect
import warnings

import s3fs

with warnings.catch_warnings():
    # google-api-core warns on import that it drops Python 3.10 (pytest makes warnings errors).
    warnings.simplefilter("ignore", FutureWarning)
    import gcsfs
    from gcsfs.core import GCSFileSystem

TESTED = "tested with gcsfs 2024.2.0 to 2026.10.0, s3fs 2024.2.0 to 2026.9.0"


def test_gcsfs_request_can_be_called_without_its_retries():
    request = getattr(GCSFileSystem._request, "__wrapped__", None)
    assert request is not None, (
        f"gcsfs {gcsfs.__version__}: GCSFileSystem._request is no longer wrapped by its retry decorator; "
        f"precomputed_drivers/gcs.py (GCSStore._call) calls the unwrapped function: update it ({TESTED})"
    )
    parameters = inspect.signature(request).parameters
    kinds = {p.kind for p in parameters.values()}
    assert list(parameters)[:3] == ["self", "method", "path"], (
        f"gcsfs {gcsfs.__version__}: GCSFileSystem._request{inspect.signature(request)} changed its "
        f"arguments; update precomputed_drivers/gcs.py (GCSStore._call) ({TESTED})"
    )
    assert {"headers", "data"} <= parameters.keys(), f"gcsfs {gcsfs.__version__}: _request lost headers/data"
    assert inspect.Parameter.VAR_POSITIONAL in kinds, f"gcsfs {gcsfs.__version__}: _request takes no *args"
    assert inspect.Parameter.VAR_KEYWORD in kinds, (
        f"gcsfs {gcsfs.__version__}: _request takes no query parameters"
    )
    assert inspect.iscoroutinefunction(request)


def test_gcsfs_location_is_the_endpoint(monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    fs = GCSFileSystem(token="anon", endpoint_url="http://127.0.0.1:4443", skip_instance_cache=True)
    assert fs._location == "http://127.0.0.1:4443", (
        f"gcsfs {gcsfs.__version__}: GCSFileSystem._location no longer gives the endpoint; "
        f"precomputed_drivers/gcs.py (GCSStore.store) builds upload URLs from it ({TESTED})"
    )


def test_s3fs_request_options():
    fs = s3fs.S3FileSystem(anon=True, requester_pays=True, s3_additional_kwargs={"StorageClass": "STANDARD_IA"},
                           skip_instance_cache=True)  # fmt: skip
    assert fs.req_kw == {"RequestPayer": "requester"}, f"s3fs {s3fs.__version__}: req_kw changed ({TESTED})"
    assert fs.s3_additional_kwargs == {"StorageClass": "STANDARD_IA"}, (
        f"s3fs {s3fs.__version__}: s3_additional_kwargs changed; precomputed_drivers/s3.py adds it ({TESTED})"
    )
    assert "set_session" in vars(s3fs.S3FileSystem), f"s3fs {s3fs.__version__}: no set_session ({TESTED})"
