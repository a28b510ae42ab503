"""What a layer is: its cloud path, its ``info`` (by mip) and its provenance.

``CloudPath`` names a layer for every driver; ``LayerMeta`` reads the info at a
mip; ``_info`` creates and validates info documents as the Precomputed spec
says (with ``validate_layer`` for what any driver's layer has). No I/O.
May import ``geometry`` and ``exceptions``.
"""

from __future__ import annotations

from ._info import (
    LAYER_TYPES,
    SPEC_DATA_TYPES,
    add_scale,
    check_data_type,
    create_info,
    scale_key,
    validate_info,
    validate_layer,
)
from ._json import json_bytes, parse_json
from ._layer_meta import LayerMeta
from ._paths import KNOWN_FORMATS, CloudPath, parse_cloudpath
from ._provenance import Provenance
from ._segids import segment_ids
from ._segment_properties import (
    SEGMENT_PROPERTIES_TYPE,
    properties_by_id,
    properties_document,
    validate_segment_properties,
)
from ._sharding import (
    DEFAULT_SHARD_BYTES,
    SHARDING_TYPE,
    ShardingSpec,
    chunk_id_bits,
    sharding_for_labels,
    sharding_for_scale,
)

__all__ = [
    "DEFAULT_SHARD_BYTES",
    "KNOWN_FORMATS",
    "LAYER_TYPES",
    "SEGMENT_PROPERTIES_TYPE",
    "SHARDING_TYPE",
    "SPEC_DATA_TYPES",
    "CloudPath",
    "LayerMeta",
    "Provenance",
    "ShardingSpec",
    "add_scale",
    "check_data_type",
    "chunk_id_bits",
    "create_info",
    "json_bytes",
    "parse_json",
    "properties_by_id",
    "properties_document",
    "parse_cloudpath",
    "scale_key",
    "segment_ids",
    "sharding_for_labels",
    "sharding_for_scale",
    "validate_info",
    "validate_layer",
    "validate_segment_properties",
]
