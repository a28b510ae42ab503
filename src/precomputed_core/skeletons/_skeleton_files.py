"""The Precomputed skeleton binary format, and the ``vertex_attributes`` it is read with.

Layout (spec ``skeletons.md``): uint32le vertex count, uint32le edge count,
float32le ``(N, 3)`` vertex positions, uint32le ``(E, 2)`` edges, then one
block per vertex attribute, in the order of the info's ``vertex_attributes``,
of ``N * num_components`` little-endian values. Pure functions on arrays, so
the data class and the storage layer can share them.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import (
    InfoValidationError,
    SkeletonDecodeError,
    SkeletonEncodeError,
    UnsupportedDataTypeError,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

__all__ = [
    "ATTRIBUTE_DATA_TYPES",
    "DEFAULT_VERTEX_ATTRIBUTES",
    "check_attribute_specs",
    "decode_precomputed",
    "encode_precomputed",
]

# The spec's list for vertex attributes: no 64-bit types, unlike volume data.
ATTRIBUTE_DATA_TYPES = ("float32", "int8", "uint8", "int16", "uint16", "int32", "uint32")

# cloud-volume's default info, and osteoid's reading when no layout is given.
DEFAULT_VERTEX_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {"id": "radius", "data_type": "float32", "num_components": 1},
    {"id": "vertex_types", "data_type": "uint8", "num_components": 1},
)

_HEADER = struct.Struct("<II")


def check_attribute_specs(
    specs: Sequence[dict[str, Any]], *, where: str = "vertex_attributes"
) -> list[dict[str, Any]]:
    """Return validated copies of ``specs`` with ``data_type`` spelt as numpy names it.

    Raises
    ------
    InfoValidationError
        An entry lacks a key, has an empty or repeated id, or ``num_components < 1``.
    """
    out: list[dict[str, Any]] = []
    for spec in specs:
        try:
            ident, data_type, components = spec["id"], spec["data_type"], spec["num_components"]
            name = np.dtype(data_type).name
        except (KeyError, TypeError) as err:
            raise InfoValidationError(
                f"{where}: each vertex attribute needs id, data_type and num_components, got {spec!r}"
            ) from err
        if not isinstance(ident, str) or not ident:
            raise InfoValidationError(
                f"{where}: a vertex attribute id must be a non-empty string, got {ident!r}"
            )
        if isinstance(components, bool) or int(components) != components or int(components) < 1:
            raise InfoValidationError(
                f"{where}: num_components of {ident!r} must be >= 1, got {components!r}"
            )
        if any(o["id"] == ident for o in out):
            raise InfoValidationError(f"{where}: vertex attribute id {ident!r} appears twice")
        out.append({"id": ident, "data_type": name, "num_components": int(components)})
    return out


def _spec_dtype(spec: dict[str, Any], where: str) -> np.dtype[Any]:
    if spec["data_type"] not in ATTRIBUTE_DATA_TYPES:
        raise UnsupportedDataTypeError(
            f"{where}: vertex attribute {spec['id']!r} is {spec['data_type']}; "
            f"Precomputed skeletons allow {', '.join(ATTRIBUTE_DATA_TYPES)}"
        )
    dtype: np.dtype[Any] = np.dtype(spec["data_type"]).newbyteorder("<")
    return dtype


def encode_precomputed(
    vertices: npt.NDArray[Any],
    edges: npt.NDArray[Any],
    attributes: Sequence[tuple[dict[str, Any], npt.NDArray[Any]]],
    *,
    where: str = "skeleton",
) -> bytes:
    """Return the spec's bytes for a skeleton; ``attributes`` pairs each spec with its array.

    Raises
    ------
    EncodingError
        An edge names a missing vertex, or an attribute array is not one row per vertex.
    UnsupportedDataTypeError
        An attribute's data type is not one the spec allows.
    """
    verts = np.asarray(vertices).reshape(-1, 3).astype("<f4", copy=False)
    n = verts.shape[0]
    raw_edges = np.asarray(edges).reshape(-1, 2)
    if raw_edges.size and (raw_edges.min() < 0 or raw_edges.max() >= n):
        raise SkeletonEncodeError(
            f"{where}: edges name vertices {raw_edges.min()}..{raw_edges.max()} "
            f"but there are {n}; consolidate() or fix the edges"
        )
    parts = [_HEADER.pack(n, raw_edges.shape[0]), verts.tobytes(), raw_edges.astype("<u4").tobytes()]
    for spec, arr in attributes:
        dtype = _spec_dtype(spec, where)
        values = np.asarray(arr)
        k = spec["num_components"]
        if values.size != n * k or (n and values.shape[0] != n):
            raise SkeletonEncodeError(
                f"{where}: vertex attribute {spec['id']!r} has shape {values.shape}, "
                f"expected {n} vertices x {k} components"
            )
        parts.append(np.ascontiguousarray(values).astype(dtype, copy=False).tobytes())
    return b"".join(parts)


def decode_precomputed(
    data: bytes | bytearray | memoryview,
    specs: Sequence[dict[str, Any]] | None,
    *,
    where: str = "skeleton",
) -> tuple[
    npt.NDArray[np.float32], npt.NDArray[np.uint32], list[dict[str, Any]], dict[str, npt.NDArray[Any]]
]:
    """Decode the spec's bytes into vertices, edges, the attribute specs read and their arrays.

    ``specs=None`` reads cloud-volume's legacy layout: radius then vertex_types,
    each optional (the bytes may stop after the edges, or after the radii). A
    given list must be matched exactly. Arrays are native-endian copies;
    single-component attributes are 1-D.

    Raises
    ------
    DecodingError
        The data is truncated, an edge names a missing vertex, or the bytes after
        the edges do not match the attributes; the message starts with ``where``.
    """
    buf = memoryview(data).cast("B")
    if buf.nbytes < _HEADER.size:
        raise SkeletonDecodeError(f"{where}: {buf.nbytes} bytes is too short for a skeleton header (8 bytes)")
    n, e = _HEADER.unpack_from(buf)
    geometry_end = _HEADER.size + 12 * n + 8 * e
    if buf.nbytes < geometry_end:
        raise SkeletonDecodeError(
            f"{where}: truncated: {buf.nbytes} bytes, but {n} vertices and {e} edges need {geometry_end}"
        )
    vertices = np.frombuffer(buf, dtype="<f4", count=3 * n, offset=8).reshape(n, 3).astype(np.float32)
    edges = np.frombuffer(buf, dtype="<u4", count=2 * e, offset=8 + 12 * n).reshape(e, 2).astype(np.uint32)
    if e and int(edges.max()) >= n:
        raise SkeletonDecodeError(
            f"{where}: an edge names vertex {int(edges.max())} but there are only {n} vertices"
        )
    layout = _match_layout(buf.nbytes - geometry_end, n, specs, where)
    arrays: dict[str, npt.NDArray[Any]] = {}
    offset = geometry_end
    for spec in layout:
        dtype = _spec_dtype(spec, where)
        k = spec["num_components"]
        values = np.frombuffer(buf, dtype=dtype, count=n * k, offset=offset)
        arrays[spec["id"]] = values.astype(dtype.newbyteorder("=")).reshape((n, k) if k > 1 else (n,))
        offset += n * k * dtype.itemsize
    return vertices, edges, layout, arrays


def _match_layout(
    remaining: int, n: int, specs: Sequence[dict[str, Any]] | None, where: str
) -> list[dict[str, Any]]:
    """The attribute specs whose data fills exactly ``remaining`` bytes, or a DecodingError."""
    if specs is None:
        # cloud-volume once wrote radii and vertex types only when it had them.
        defaults = [dict(s) for s in DEFAULT_VERTEX_ATTRIBUTES]
        for count in (2, 1, 0):
            if remaining == sum(_size(s, n) for s in defaults[:count]):
                return defaults[:count]
        expected = f"0, {4 * n} or {5 * n} (radius float32, vertex_types uint8)"
    else:
        layout = check_attribute_specs(specs, where=where)
        for spec in layout:
            _spec_dtype(spec, where)
        need = sum(_size(s, n) for s in layout)
        if remaining == need:
            return layout
        if remaining == 0:  # written without attributes (osteoid does so for a bare skeleton): none to read
            return []
        names = ", ".join(f"{s['id']} {s['data_type']}x{s['num_components']}" for s in layout) or "none"
        expected = f"{need} for the vertex attributes ({names})"
    raise SkeletonDecodeError(
        f"{where}: {remaining} bytes follow the {n} vertices and edges, expected {expected}; "
        "the data is truncated or the info's vertex_attributes do not match it"
    )


def _size(spec: dict[str, Any], n: int) -> int:
    return n * int(spec["num_components"]) * int(np.dtype(spec["data_type"]).itemsize)
