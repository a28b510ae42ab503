"""JSON documents of a layer (info, provenance, mesh and skeleton infos, segment properties)."""

from __future__ import annotations

import json
from typing import Any

from ..exceptions import InfoValidationError

__all__ = ["json_bytes", "parse_json"]


def json_bytes(document: Any) -> bytes:
    """JSON of a document that may hold numpy values (a Vec offset, np.int64)."""

    def plain(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()
        raise InfoValidationError(f"{type(value).__name__} {value!r} cannot be stored in JSON")

    try:  # NaN and infinity are not JSON: Neuroglancer and tensorstore would refuse the file
        return json.dumps(document, indent=2, default=plain, allow_nan=False).encode()
    except ValueError as err:
        raise InfoValidationError(f"the document cannot be stored as JSON: {err}") from err


def parse_json(data: bytes, where: str) -> Any:
    """Parse stored JSON; anything else raises ``InfoValidationError`` naming ``where``."""
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InfoValidationError(f"{where} is not valid JSON ({err}); fix or rewrite it") from err
