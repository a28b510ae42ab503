"""Every error precomputed raises, under one root.

Each error also subclasses the builtin that cloud-volume raised in the same
situation, so ``except ValueError`` written for cloud-volume keeps working.
Plugins raise these (or subclasses), never a parallel hierarchy.
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "AuthenticationError",
    "CodecError",
    "CompressedRangeError",
    "CredentialsError",
    "CyclicRedirect",
    "CyclicRedirectError",
    "DecodingError",
    "EmptyRequestError",
    "EmptyRequestException",
    "EmptyVolumeException",
    "EncodingError",
    "FeatureUnavailableError",
    "GeometryError",
    "InfoError",
    "InfoUnavailableError",
    "InfoValidationError",
    "MeshDecodeError",
    "OutOfBoundsError",
    "OutOfMemoryError",
    "ParallelError",
    "PermissionDeniedError",
    "PluginConflictError",
    "PluginError",
    "PluginLoadError",
    "PluginWarning",
    "PrecomputedDeprecationWarning",
    "PrecomputedError",
    "ReadOnlyError",
    "ReadOnlyException",
    "RedirectError",
    "ScaleUnavailableError",
    "SegmentNotFoundError",
    "ShardError",
    "SharedMemoryError",
    "SkeletonAttributeMixingError",
    "SkeletonDecodeError",
    "SkeletonEncodeError",
    "SpecViolation",
    "StorageError",
    "SubvoxelVolumeError",
    "TooManyRedirects",
    "TooManyRedirectsError",
    "TransientStorageError",
    "UnsupportedDataTypeError",
    "UnsupportedEncodingError",
    "UnsupportedFormatError",
    "UnsupportedProtocolError",
]


class PrecomputedError(Exception):
    """Root of every error raised by precomputed and its plugins."""


# --- info ------------------------------------------------------------------


class InfoError(PrecomputedError, ValueError):
    """Something is wrong with a layer's ``info`` metadata."""


class InfoUnavailableError(InfoError):
    """The ``info`` file could not be found or read."""


class RedirectError(InfoError):
    """An info's ``redirect`` could not be followed to a layer."""


class TooManyRedirectsError(RedirectError):
    """More ``redirect`` hops than ``max_redirects`` allows."""


class CyclicRedirectError(RedirectError):
    """The ``redirect`` chain comes back to a layer it passed through."""


#: cloud-volume's names for the errors above, so its ``except`` clauses keep working.
TooManyRedirects = TooManyRedirectsError
CyclicRedirect = CyclicRedirectError


class InfoValidationError(InfoError):
    """The ``info`` file exists but does not follow the Precomputed spec."""


#: cloud-volume's name for an info (a sharding spec, say) that breaks the spec.
SpecViolation = InfoValidationError


class ScaleUnavailableError(InfoError):
    """A mip level (scale) was asked for that the ``info`` does not define."""


# --- geometry --------------------------------------------------------------


class GeometryError(PrecomputedError, ValueError):
    """A box, slice or array shape does not fit the volume."""


class OutOfBoundsError(GeometryError):
    """A request reaches outside the volume while ``bounded=True``."""


class AlignmentError(GeometryError):
    """A write or delete is not aligned to the chunk grid, or shapes disagree."""


class EmptyRequestError(GeometryError):
    """A request selects no voxels."""


#: cloud-volume's names for an empty request (and one that is empty after ``coord_resolution``).
EmptyRequestException = EmptyRequestError
SubvoxelVolumeError = EmptyRequestError


# --- storage ---------------------------------------------------------------


class StorageError(PrecomputedError, OSError):
    """Storage failed to read, write, list or delete an object."""


class CompressedRangeError(StorageError):
    """Byte ranges were asked of an object stored with transfer compression (they mean nothing)."""


class EmptyVolumeException(StorageError, FileNotFoundError):
    """A chunk inside the volume bounds is missing and ``fill_missing=False``."""


class SegmentNotFoundError(StorageError, FileNotFoundError, ValueError):
    """A segment has no stored mesh or skeleton (a ``ValueError`` too, as cloud-volume raises)."""


class ReadOnlyError(StorageError):
    """A write or delete was sent to storage that only allows reads."""


#: cloud-volume's name for ``ReadOnlyError``, so ``except ReadOnlyException`` keeps working.
ReadOnlyException = ReadOnlyError


class PermissionDeniedError(StorageError, PermissionError):
    """Storage refused access (missing or insufficient credentials)."""


class CredentialsError(PermissionDeniedError):
    """Credentials are missing, unreadable or malformed."""


#: cloud-volume's name for ``CredentialsError``.
AuthenticationError = CredentialsError


class TransientStorageError(StorageError):
    """Storage kept failing with errors worth retrying (5xx, 429, resets, timeouts) until retries ran out."""


# --- codecs ----------------------------------------------------------------


class CodecError(PrecomputedError, ValueError):
    """Encoding or decoding a chunk failed."""


class DecodingError(CodecError):
    """A stored chunk is corrupt, truncated or of the wrong size."""


class SkeletonDecodeError(DecodingError):
    """A stored skeleton (or SWC text) is corrupt or truncated (cloud-volume's name)."""


class MeshDecodeError(DecodingError):
    """A stored mesh fragment or manifest is corrupt or truncated (cloud-volume's name)."""


class ShardError(DecodingError):
    """A shard file is damaged: truncated, its index points past its end, or garbled."""


class EncodingError(CodecError):
    """An array could not be encoded into a chunk."""


class SkeletonEncodeError(EncodingError):
    """A skeleton cannot be written in the asked format (cloud-volume's name)."""


class UnsupportedDataTypeError(CodecError, TypeError):
    """A data type the Precomputed format (or this encoding) does not allow."""


# --- plugins ---------------------------------------------------------------


class PluginError(PrecomputedError):
    """Finding or loading a driver or codec plugin failed."""


class UnsupportedProtocolError(PluginError, ValueError):
    """No installed driver serves the protocol of a cloud path."""


#: cloud-volume's name for a path whose format (``zarr://``, ``graphene://``...) is not served.
UnsupportedFormatError = UnsupportedProtocolError


class UnsupportedEncodingError(PluginError, ValueError):
    """No installed codec provides a chunk encoding."""


class PluginLoadError(PluginError, ImportError):
    """A plugin is installed but its code or a dependency could not be imported."""


class PluginConflictError(PluginError):
    """Two plugins claim the same protocol or encoding."""


# --- features not yet available --------------------------------------------


class FeatureUnavailableError(PrecomputedError, NotImplementedError):
    """A README feature that this version of precomputed does not provide yet."""


class OutOfMemoryError(PrecomputedError, MemoryError):
    """A read needs more memory than the process may use; raised before any is allocated."""


class SharedMemoryError(PrecomputedError, OSError):
    """Creating, attaching or releasing shared memory failed."""


class ParallelError(PrecomputedError, RuntimeError):
    """A worker process of ``parallel=N`` died before finishing its work."""


class SkeletonAttributeMixingError(PrecomputedError, ValueError):
    """Skeletons to merge declare different vertex attributes (cloud-volume's name)."""


# --- warnings --------------------------------------------------------------


class PluginWarning(UserWarning):
    """A plugin failed to load; the others still work."""


class PrecomputedDeprecationWarning(DeprecationWarning):
    """A deprecated spelling or option was used."""
