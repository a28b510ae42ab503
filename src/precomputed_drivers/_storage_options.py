"""``storage_options=``: keyword arguments for a driver's fsspec file system, as zarr, xarray
and dask take them.

The drivers' own arguments (timeouts, no internal retries, undecoded bodies) are the
defaults; the user's options override them, and the dictionaries of client, config and
session arguments are merged key by key, so ``{"client_kwargs": {"region_name": ...}}``
keeps the timeouts the driver set there.
"""

from __future__ import annotations

import json
from typing import Any

from precomputed_core.exceptions import CredentialsError, FeatureUnavailableError

__all__ = ["fs_arguments", "given_twice", "key_of", "refuse"]

#: fsspec arguments that are dictionaries of a client library's own arguments: merged, not replaced.
_NESTED = ("client_kwargs", "config_kwargs", "session_kwargs")


def fs_arguments(ours: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """``ours`` updated with ``given``, the nested argument dictionaries merged."""
    merged = dict(ours)
    for name, value in (given or {}).items():
        if name in _NESTED and isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = {**merged[name], **value}
        else:
            merged[name] = value
    return merged


def key_of(given: dict[str, Any] | None) -> str:
    """A stable text of the options, so that file systems are shared only between equal ones."""
    return json.dumps(given or {}, sort_keys=True, default=repr)


def refuse(url: str, given: dict[str, Any] | None, how: str) -> None:
    """A clear error if options were given to a driver that has no fsspec file system to take them."""
    if given:
        raise FeatureUnavailableError(
            f"storage_options={sorted(given)}: {url} is {how}, not through an fsspec file system, so "
            "these options would have no effect; leave storage_options out for this layer"
        )


def given_twice(names: list[str]) -> CredentialsError:
    return CredentialsError(
        f"credentials were given twice, with secrets= and in storage_options ({', '.join(names)}); "
        "give them one way"
    )
