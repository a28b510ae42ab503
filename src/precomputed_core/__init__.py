"""precomputed: Neuroglancer Precomputed volumes with the CloudVolume API.

>>> from precomputed_core import CloudVolume, Bbox, Vec

Importing this package is cheap: drivers and codecs are plugins, found
through entry points the first time a volume needs one.
"""

from __future__ import annotations

from . import exceptions
from ._bbox import Bbox
from ._chunks import ChunkGrid
from ._codec import ChunkSpec, Codec
from ._compression import compress_bytes, decompress_bytes
from ._cutout import VolumeCutout, save_images
from ._frontend import CloudVolume
from ._info import SPEC_DATA_TYPES
from ._meta import LayerMeta
from ._paths import CloudPath, parse_cloudpath
from ._precomputed_volume import PrecomputedVolume
from ._progress import INTERACTIVE
from ._provenance import Provenance
from ._store import ObjectMetadata, Store
from ._vec import Vec
from ._volume import ReadOptions, Volume, WriteOptions
from .exceptions import (
    AlignmentError,
    EmptyVolumeException,
    InfoUnavailableError,
    OutOfBoundsError,
    PrecomputedError,
    UnsupportedProtocolError,
)

__version__ = "0.1.0"

__all__ = [
    "INTERACTIVE",
    "SPEC_DATA_TYPES",
    "AlignmentError",
    "Bbox",
    "ChunkGrid",
    "ChunkSpec",
    "CloudPath",
    "CloudVolume",
    "Codec",
    "EmptyVolumeException",
    "InfoUnavailableError",
    "LayerMeta",
    "ObjectMetadata",
    "OutOfBoundsError",
    "PrecomputedError",
    "PrecomputedVolume",
    "Provenance",
    "ReadOptions",
    "Store",
    "UnsupportedProtocolError",
    "Vec",
    "Volume",
    "VolumeCutout",
    "WriteOptions",
    "__version__",
    "compress_bytes",
    "decompress_bytes",
    "exceptions",
    "parse_cloudpath",
    "save_images",
]
