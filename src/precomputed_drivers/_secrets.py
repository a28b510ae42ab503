"""Credentials files the cloud-volume way: ``~/.cloudvolume/secrets/[BUCKET-]SERVICE-secret.json``.

``CLOUD_VOLUME_DIR`` moves ``~/.cloudvolume`` (and with it the secrets), as in
cloud-volume. A bucket-prefixed file (``ABC-google-secret.json``) is used for bucket
``ABC`` only and wins over the service's default file.

A ``Secret`` never shows its values: its repr names the file, and errors about a
broken file name the file and the problem, never the contents.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from precomputed_core.exceptions import CredentialsError

__all__ = ["Secret", "candidates", "find_secret", "looked_for", "secrets_dir"]


@dataclass(frozen=True)
class Secret:
    """Credentials and where they came from (``source``: a file path or a description)."""

    source: str
    values: dict[str, Any] = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"


def secrets_dir() -> Path:
    base = os.environ.get("CLOUD_VOLUME_DIR")
    return (Path(base) if base else Path.home() / ".cloudvolume") / "secrets"


def candidates(service: str, bucket: str | None) -> list[Path]:
    """The files looked at for ``service`` (google, aws, boss) and ``bucket``, in order."""
    folder = secrets_dir()
    names = ([f"{bucket}-{service}-secret.json"] if bucket else []) + [f"{service}-secret.json"]
    return [folder / name for name in names]


def _load(path: Path) -> Secret:
    try:
        values = json.loads(path.read_text())
    except OSError as err:
        raise CredentialsError(f"cannot read the credentials file {path}: {err.strerror}") from None
    except ValueError:
        raise CredentialsError(
            f"the credentials file {path} is not valid JSON; replace it with the key file your "
            "provider gave you"
        ) from None
    if not isinstance(values, dict):
        raise CredentialsError(f"the credentials file {path} must hold a JSON object")
    return Secret(str(path), values)


def find_secret(service: str, bucket: str | None, given: Any = None) -> Secret | None:
    """The credentials to use: ``given`` (a dict or a file path), else the first file found."""
    if isinstance(given, dict):
        return Secret("the secrets= argument", dict(given))
    if isinstance(given, (str, os.PathLike)):
        return _load(Path(given).expanduser())
    if given is not None:
        raise CredentialsError(f"secrets= takes a dict or a file path, not {type(given).__name__}")
    for path in candidates(service, bucket):
        if path.is_file():
            return _load(path)
    return None


def looked_for(service: str, bucket: str | None) -> str:
    """For error messages: the files that were (or would be) tried."""
    return ", ".join(str(p) for p in candidates(service, bucket))
