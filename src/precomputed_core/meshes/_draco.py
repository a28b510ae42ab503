"""Draco-encoded mesh fragments, through DracoPy (the decoder cloud-volume and igneous use).

A multi-resolution fragment holds integer positions in ``[0, 2**bits)``. Neuroglancer
reads them with Draco's own dequantization skipped, so we write them with a Draco
quantization that is the identity (origin 0, range ``2**bits - 1``), and when a
fragment carries its quantization parameters we undo Draco's dequantization to get
the integers Neuroglancer sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..exceptions import FeatureUnavailableError, MeshDecodeError

__all__ = ["decode_draco", "decode_fragment", "encode_fragment"]

#: Draco's compression level for fragments we write (0-10; 7 is Draco's own default speed/size).
COMPRESSION_LEVEL = 7


def _dracopy() -> Any:
    try:
        import DracoPy
    except ImportError:
        raise FeatureUnavailableError(
            "multi-resolution meshes are Draco-encoded and need DracoPy: pip install DracoPy"
        ) from None
    return DracoPy


def decode_draco(data: bytes, *, where: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32], Any]:
    """A Draco mesh's positions (as Draco dequantizes them), triangles and encoding options.

    A damaged stream, or a triangle naming a vertex that does not exist, raises
    ``DecodingError`` naming ``where``: no partial mesh is ever returned.
    """
    dracopy = _dracopy()
    try:
        mesh = dracopy.decode(bytes(data))
    except Exception as err:
        raise MeshDecodeError(f"{where}: not a readable Draco mesh ({err})") from err
    points = np.asarray(mesh.points, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(getattr(mesh, "faces", ()), dtype=np.int64).reshape(-1, 3)
    if len(faces) and (faces.min() < 0 or faces.max() >= len(points)):
        raise MeshDecodeError(f"{where}: a Draco triangle names a vertex past the {len(points)} decoded")
    return points, faces.astype(np.uint32), getattr(mesh, "encoding_options", None)


def decode_fragment(data: bytes, *, where: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32]]:
    """The integer positions (in fragment units, as Neuroglancer reads them) and triangles of a fragment."""
    points, faces, options = decode_draco(data, where=where)
    bits = getattr(options, "quantization_bits", 0) or 0
    if options is not None and bits > 0:
        span = float(options.quantization_range)
        origin = np.asarray(options.quantization_origin, dtype=np.float64).reshape(-1)[:3]
        if span > 0:
            points = np.rint((points - origin) * ((2.0**bits - 1) / span))
    return points, faces


def encode_fragment(
    positions: npt.NDArray[np.integer[Any]], faces: npt.NDArray[np.integer[Any]], bits: int
) -> bytes:
    """A Draco fragment of integer ``positions`` in ``[0, 2**bits)`` and its triangles."""
    if len(faces) == 0:
        return b""  # the spec's empty fragment: a node with nothing of its own at this level
    dracopy = _dracopy()
    top = 2**bits - 1
    return bytes(
        dracopy.encode(
            np.asarray(positions, dtype=np.float32).reshape(-1, 3),
            np.asarray(faces, dtype=np.uint32).reshape(-1, 3),
            quantization_bits=bits,
            quantization_range=float(top),
            quantization_origin=[0.0, 0.0, 0.0],
            compression_level=COMPRESSION_LEVEL,
        )
    )
