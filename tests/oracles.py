"""tensorstore as an oracle: open or create a Precomputed layer on local disk (test-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def tensorstore_open(layer: Path, scale_index: int | None = None) -> Any:
    import tensorstore as ts

    spec: dict[str, Any] = {
        "driver": "neuroglancer_precomputed",
        "kvstore": {"driver": "file", "path": str(layer)},
    }
    if scale_index is not None:
        spec["scale_index"] = scale_index
    return ts.open(spec).result()


def tensorstore_create(
    layer: Path, *, layer_type: str, dtype: str, channels: int, **scale_metadata: Any
) -> Any:
    """Create (or add) one scale (``scale_metadata`` in tensorstore's names) and open it for writing."""
    import tensorstore as ts

    spec = {
        "driver": "neuroglancer_precomputed",
        "kvstore": {"driver": "file", "path": str(layer)},
        "multiscale_metadata": {"type": layer_type, "data_type": dtype, "num_channels": channels},
        "scale_metadata": scale_metadata,
        "create": True,
    }
    return ts.open(spec).result()
