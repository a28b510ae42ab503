"""The sharding specification of ``sharded.md``: which shard file and minishard holds an id.

Volumes key their chunks by compressed Morton code; meshes and skeletons key
theirs by segment id. Either way an id is shifted, hashed and split into a
minishard number and a shard number, as this class says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..exceptions import InfoValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

__all__ = [
    "DEFAULT_SHARD_BYTES",
    "SHARDING_TYPE",
    "ShardingSpec",
    "chunk_id_bits",
    "sharding_for_labels",
    "sharding_for_scale",
]

SHARDING_TYPE = "neuroglancer_uint64_sharded_v1"
_HASHES = ("identity", "murmurhash3_x86_128")
_ENCODINGS = ("raw", "gzip")
_MASK64 = (1 << 64) - 1

Encoding = Literal["raw", "gzip"]

#: Voxel bytes (before compression) a chosen shard holds: large enough that a
#: petascale layer has few files, small enough to rewrite one in seconds.
DEFAULT_SHARD_BYTES = 2**30
#: Chunks per minishard when shards are larger (tensorstore's choice): a minishard
#: index of 512 entries is 12 KiB, one small read per cutout.
_MINISHARD_CHUNKS_BITS = 9


def chunk_id_bits(size: Sequence[Any], chunk: Sequence[Any]) -> tuple[int, int, int]:
    """Bits of each axis's grid coordinate in the chunk ids of a scale (compressed Morton code).

    >>> chunk_id_bits([1000, 1000, 100], [64, 64, 64])
    (4, 4, 1)
    """
    x, y, z = (max(0, -(-int(n) // int(c)) - 1).bit_length() for n, c in zip(size, chunk))
    return x, y, z


def _bits(spec: dict[str, Any], name: str, where: str) -> int:
    value = spec.get(name)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= 64:
        raise InfoValidationError(f"{where}[{name!r}] must be an integer from 0 to 64, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class ShardingSpec:
    """A ``neuroglancer_uint64_sharded_v1`` specification.

    >>> spec = ShardingSpec.from_json({"@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 3,
    ...     "hash": "identity", "minishard_bits": 2, "shard_bits": 5})
    >>> spec.shard_key(7), spec.locate(np.array([0b10_11_000], dtype=np.uint64))
    ('07.shard', (array([2], dtype=uint64), array([3], dtype=uint64)))
    """

    preshift_bits: int
    hash: str
    minishard_bits: int
    shard_bits: int
    minishard_index_encoding: Encoding = "raw"
    data_encoding: Encoding = "raw"

    @classmethod
    def from_json(cls, spec: Any, where: str = "sharding") -> ShardingSpec:
        """Parse and check a ``"sharding"`` object; ``where`` names it in errors."""
        if not isinstance(spec, dict):
            raise InfoValidationError(f"{where} must be a sharding specification object")
        if spec.get("@type") != SHARDING_TYPE:
            raise InfoValidationError(
                f"{where}['@type'] is {spec.get('@type')!r}; the only sharded format is {SHARDING_TYPE!r}"
            )
        if spec.get("hash") not in _HASHES:
            raise InfoValidationError(f"{where}['hash'] must be one of {_HASHES}, got {spec.get('hash')!r}")
        encodings = []
        for name in ("minishard_index_encoding", "data_encoding"):
            value = spec.get(name, "raw")
            if value not in _ENCODINGS:
                raise InfoValidationError(f"{where}[{name!r}] must be 'raw' or 'gzip', got {value!r}")
            encodings.append(value)
        preshift, minishard, shard = (
            _bits(spec, name, where) for name in ("preshift_bits", "minishard_bits", "shard_bits")
        )
        if minishard + shard > 64:
            raise InfoValidationError(
                f"{where}: minishard_bits + shard_bits is {minishard + shard}; a hashed id has 64 bits"
            )
        return cls(preshift, spec["hash"], minishard, shard, *encodings)

    def to_json(self) -> dict[str, Any]:
        return {
            "@type": SHARDING_TYPE,
            "preshift_bits": self.preshift_bits,
            "hash": self.hash,
            "minishard_bits": self.minishard_bits,
            "shard_bits": self.shard_bits,
            "minishard_index_encoding": self.minishard_index_encoding,
            "data_encoding": self.data_encoding,
        }

    @property
    def num_minishards(self) -> int:
        return 1 << self.minishard_bits

    @property
    def shard_index_size(self) -> int:
        """Bytes of the shard index at the start of every shard file."""
        return 16 << self.minishard_bits

    def locate(self, ids: npt.ArrayLike) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """The shard number and minishard number of each id, as arrays."""
        flat = np.asarray(ids, dtype=np.uint64).reshape(-1).tolist()
        pairs = np.array([self.locate_one(i) for i in flat], dtype=np.uint64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def locate_one(self, chunk_id: int) -> tuple[int, int]:
        """The shard number and minishard number of one id.

        Plain ints: a cutout locates a few ids, for which numpy costs more than it saves.
        mmh3 is the C MurmurHash3 everyone uses (cloud-volume too); the shifted id is hashed
        as 8 little-endian bytes, and the low 8 bytes of the digest are the hashed id.
        """
        hashed = chunk_id >> self.preshift_bits
        if self.hash != "identity":
            import mmh3

            hashed = mmh3.hash128(hashed.to_bytes(8, "little"), 0, False) & _MASK64
        shard = (hashed >> self.minishard_bits) & ((1 << self.shard_bits) - 1)
        return shard, hashed & (self.num_minishards - 1)

    def shard_key(self, shard: int) -> str:
        """The file name of shard number ``shard``: lowercase hex, ``ceil(shard_bits / 4)`` digits."""
        return f"{int(shard):0{math.ceil(self.shard_bits / 4)}x}.shard"


def sharding_for_scale(
    scale: dict[str, Any], itemsize: int, num_channels: int, *, shard_bytes: int = DEFAULT_SHARD_BYTES
) -> ShardingSpec:
    """Good sharding parameters for a scale: shards of about ``shard_bytes`` voxel bytes.

    Identity hash, so each shard file holds one box of whole chunks (the shard
    grid that parallel work and ``CloudVolume.shard_boxes`` use); 512 chunks per
    minishard; the rest of the chunk id picks the shard. Minishard indexes are
    gzipped, and so are the chunks of ``raw`` and ``compressed_segmentation`` scales
    (jpeg and png are compressed already).

    >>> scale = {"size": [4096, 4096, 1024], "chunk_sizes": [[64, 64, 64]], "encoding": "raw"}
    >>> spec = sharding_for_scale(scale, 1, 1)
    >>> spec.preshift_bits, spec.minishard_bits, spec.shard_bits
    (9, 3, 4)
    """
    if isinstance(shard_bytes, bool) or not isinstance(shard_bytes, int | np.integer) or shard_bytes < 1:
        raise InfoValidationError(f"shard_bytes must be a positive number of bytes, got {shard_bytes!r}")
    chunk = [int(c) for c in scale["chunk_sizes"][0]]
    total = sum(chunk_id_bits(scale["size"], chunk))
    chunk_bytes = math.prod(chunk) * itemsize * num_channels
    within = min(total, max(0, round(math.log2(max(1.0, shard_bytes / chunk_bytes)))))
    preshift = min(within, _MINISHARD_CHUNKS_BITS)
    compressed = "raw" if scale.get("encoding") in ("jpeg", "png") else "gzip"
    return ShardingSpec(preshift, "identity", within - preshift, total - within, "gzip", compressed)  # type: ignore[arg-type]


def sharding_for_labels(
    num_labels: int,
    *,
    shard_index_bytes: int = 2**13,
    minishard_index_bytes: int = 2**15,
    min_shards: int = 1,
    minishard_index_encoding: Encoding = "gzip",
    data_encoding: Encoding = "gzip",
) -> ShardingSpec:
    """Sharding for about ``num_labels`` meshes or skeletons, keyed by hashed segment id.

    Ids are hashed (murmurhash3_x86_128), so they spread evenly: a shard index
    holds at most ``shard_index_bytes`` (16 bytes per minishard) and a minishard
    index about ``minishard_index_bytes`` (24 bytes per segment), as cloud-volume
    and igneous size them; ``min_shards`` forces more, smaller files.

    >>> spec = sharding_for_labels(100_000)
    >>> spec.minishard_bits, spec.shard_bits, spec.hash
    (7, 0, 'murmurhash3_x86_128')
    """
    for name, value in (("num_labels", num_labels), ("min_shards", min_shards)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value < (name == "min_shards")
        ):
            raise InfoValidationError(f"{name} must be a non-negative whole number, got {value!r}")
    per_minishard = max(1, minishard_index_bytes // 24)
    max_minishard_bits = max(0, int(math.log2(max(1, shard_index_bytes // 16))))
    minishards = max(1, -(-int(num_labels) // per_minishard))
    minishard_bits = min(max_minishard_bits, (minishards - 1).bit_length())
    shards = max(int(min_shards), -(-minishards // (1 << minishard_bits)))
    shard_bits = (shards - 1).bit_length()
    return ShardingSpec(
        0, "murmurhash3_x86_128", minishard_bits, shard_bits, minishard_index_encoding, data_encoding
    )
