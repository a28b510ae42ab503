"""``vol.segment_properties`` and ``vol.commit_segment_properties``: the layer's segment properties.

The layer's info names their directory (``"segment_properties"``); its ``info``
holds them inline (segment_properties.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import FeatureUnavailableError, InfoValidationError
from ..format import ObjectDirectory
from ..meta import properties_by_id, properties_document, validate_segment_properties

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..interfaces import Store

__all__ = ["read_segment_properties", "write_segment_properties"]


def _directory(store: Store | None, path: str) -> ObjectDirectory:
    if store is None:
        raise FeatureUnavailableError(
            "this layer's storage holds no segment properties (it serves voxels only)"
        )

    def absent() -> dict[str, Any]:  # read only: writing sets the info before committing it
        raise InfoValidationError(
            f"the layer's info names segment properties at {store.describe(path.strip('/') + '/info')}, but "
            "there is no such file; write them with vol.commit_segment_properties(...)"
        )

    return ObjectDirectory(store, path, default_info=absent)


def read_segment_properties(store: Store | None, info: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """``{segid: {property: value}}``; empty when the layer's info names no properties."""
    path = info.get("segment_properties")
    if not path:
        return {}
    if not isinstance(path, str):
        raise InfoValidationError(f"the info's 'segment_properties' must be a directory name, got {path!r}")
    directory = _directory(store, path)
    document = directory.info
    validate_segment_properties(document, directory.describe("info"))
    return properties_by_id(document)


def write_segment_properties(
    store: Store | None, properties: Mapping[Any, Mapping[str, Any]] | dict[str, Any], path: str
) -> dict[str, Any]:
    """Validate ``properties`` and write them to ``path``/info; returns the document written."""
    document = properties_document(properties)
    directory = _directory(store, path)
    directory.info = document
    directory.commit_info()
    return document
