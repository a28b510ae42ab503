"""precomputed: Neuroglancer Precomputed volumes with the CloudVolume API.

>>> from precomputed_core import CloudVolume, Bbox, Vec

Importing this package is cheap: drivers and codecs are plugins, found
through entry points the first time a volume needs one.

The package is layered, each layer importing only those below it (an
import-linter contract checks it): ``frontend`` (CloudVolume), ``tasks`` (Dask
arrays), ``parallel`` (worker processes), ``image`` (the read/write pipeline),
``format`` (chunk I/O, compression), ``plugins``, ``interfaces`` (Store, Codec,
Volume), ``meta`` (paths, info, provenance), ``geometry`` (Vec, Bbox, the chunk
grid) and ``exceptions``. This module re-exports the public API; plugins import only it,
``plugins``, ``exceptions`` and ``testing``.
"""

from __future__ import annotations

import logging

from . import exceptions
from .exceptions import (
    AlignmentError,
    EmptyRequestException,
    EmptyVolumeException,
    InfoUnavailableError,
    OutOfBoundsError,
    PrecomputedError,
    SkeletonDecodeError,
    SkeletonEncodeError,
    UnsupportedProtocolError,
)
from .format import compress_bytes, decompress_bytes
from .frontend import CloudVolume, VolumeCutout, save_images
from .geometry import Bbox, ChunkGrid, Vec
from .image import INTERACTIVE, PrecomputedVolume
from .interfaces import (
    ByteRange,
    ChunkSpec,
    Codec,
    ObjectMetadata,
    RangeRead,
    ReadOptions,
    Store,
    StoredObject,
    Update,
    Volume,
    WriteOptions,
    object_lock,
    object_locks,
)
from .meshes import Mesh
from .meta import SPEC_DATA_TYPES, CloudPath, LayerMeta, Provenance, ShardingSpec, parse_cloudpath
from .skeletons import Skeleton

# Silent unless the application configures logging (the library convention); see docs/logging.md.
logging.getLogger(__name__).addHandler(logging.NullHandler())

#: cloud-volume's other names for these classes.
PrecomputedSkeleton = Skeleton
DataLayerProvenance = Provenance


def __getattr__(name: str) -> str:
    # The version comes from the installed distribution's metadata (pyproject.toml is its one
    # source), looked up on first use so that importing the package stays cheap.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("precomputed")
        except PackageNotFoundError:  # a source tree on sys.path that was never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "INTERACTIVE",
    "SPEC_DATA_TYPES",
    "AlignmentError",
    "Bbox",
    "ByteRange",
    "ChunkGrid",
    "ChunkSpec",
    "CloudPath",
    "CloudVolume",
    "Codec",
    "EmptyVolumeException",
    "InfoUnavailableError",
    "LayerMeta",
    "Mesh",
    "ObjectMetadata",
    "OutOfBoundsError",
    "PrecomputedError",
    "PrecomputedVolume",
    "Provenance",
    "ReadOptions",
    "ShardingSpec",
    "Skeleton",
    "RangeRead",
    "Store",
    "StoredObject",
    "UnsupportedProtocolError",
    "Update",
    "Vec",
    "Volume",
    "VolumeCutout",
    "WriteOptions",
    "__version__",
    "compress_bytes",
    "decompress_bytes",
    "exceptions",
    "object_lock",
    "object_locks",
    "parse_cloudpath",
    "save_images",
    "EmptyRequestException",
    "SkeletonDecodeError",
    "SkeletonEncodeError",
    "PrecomputedSkeleton",
    "DataLayerProvenance",
]
