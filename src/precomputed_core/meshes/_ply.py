"""The PLY mesh format: cloud-volume's binary writer and a general reader.

The writer produces the bytes cloud-volume's ``Mesh.to_ply`` does (binary
little-endian, ``float x, y, z`` and ``list int int vertex_indices``), adding
``nx, ny, nz`` when the mesh has normals. The reader accepts what other tools
write: ASCII or either byte order, any scalar and list-count types, extra
properties and elements (read past and dropped) and polygons (split into
triangle fans).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import DecodingError

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy.typing as npt

    # One property's values: an array (same-length rows) or one array per row (lists of varying length).
    _Column: TypeAlias = npt.NDArray[np.generic] | list[npt.NDArray[np.generic]]

__all__ = ["decode_ply", "encode_ply"]

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip
_BYTE_ORDER = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": "<"}
_END_HEADER = re.compile(rb"end_header[ \t]*\r?\n")
_FACE_LISTS = ("vertex_indices", "vertex_index")


@dataclass(frozen=True, slots=True)
class _Property:
    name: str
    dtype: str  # numpy type code of the value (of each item, for a list)
    count_dtype: str | None = None  # numpy type code of a list's length; None for a scalar


@dataclass(frozen=True, slots=True)
class _Element:
    name: str
    count: int
    properties: tuple[_Property, ...]


def encode_ply(
    vertices: npt.NDArray[np.float32],
    faces: npt.NDArray[np.uint32],
    normals: npt.NDArray[np.float32] | None,
) -> bytes:
    """Write binary little-endian PLY; faces are written as ``3 a b c`` in 4-byte ints."""
    normal_props, vertex_rows = "", vertices
    if normals is not None and normals.size > 0 and normals.shape[0] == vertices.shape[0]:
        normal_props = "property float nx\nproperty float ny\nproperty float nz\n"
        vertex_rows = np.hstack([vertices, normals])
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {vertices.shape[0]}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"{normal_props}"
        f"element face {faces.shape[0]}\n"
        "property list int int vertex_indices\nend_header\n"
    )
    face_rows = np.insert(faces.astype("<u4"), 0, 3, axis=1)
    return header.encode("ascii") + vertex_rows.astype("<f4").tobytes() + face_rows.tobytes()


def decode_ply(
    binary: bytes | bytearray | memoryview, *, where: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32], npt.NDArray[np.float32] | None]:
    """Read vertices, triangles and (if present) ``nx, ny, nz`` normals from a PLY file."""
    data = bytes(binary)
    try:
        fmt, elements, body = _parse_header(data)
        reader = _AsciiBody(data[body:]) if fmt == "ascii" else _BinaryBody(data, body, _BYTE_ORDER[fmt])
        columns: dict[tuple[str, str], _Column] = {}
        for element in elements:
            for prop, values in reader.read(element).items():
                columns[element.name, prop] = values
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as err:
        raise DecodingError(f"{where}: not a readable PLY mesh: {err}") from err
    vertices = _stack(columns, ("x", "y", "z"))
    if vertices is None:
        vertices = np.zeros((0, 3), dtype=np.float32)
    normals = _stack(columns, ("nx", "ny", "nz"))
    lists = [columns[key] for key in (("face", name) for name in _FACE_LISTS) if key in columns]
    faces = _triangulate(lists[0], where) if lists else np.zeros((0, 3), dtype=np.int64)
    if faces.size and (int(faces.min()) < 0 or int(faces.max()) >= vertices.shape[0]):
        raise DecodingError(
            f"{where}: PLY face indices span {int(faces.min())}..{int(faces.max())}, "
            f"out of range for {vertices.shape[0]} vertices"
        )
    return vertices, faces.astype(np.uint32), normals


def _parse_header(data: bytes) -> tuple[str, list[_Element], int]:
    end = _END_HEADER.search(data)
    if not data.startswith(b"ply") or end is None:
        raise ValueError("no 'ply' magic line or no 'end_header'")
    fmt, elements = "", []
    for line in data[: end.start()].decode("ascii").splitlines()[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            fmt = words[1]
            if fmt not in _BYTE_ORDER:
                raise ValueError(f"unknown PLY format {fmt!r}")
        elif words[0] == "element":
            elements.append(_Element(words[1], int(words[2]), ()))
        elif words[0] == "property" and words[1] == "list":
            prop = _Property(words[4], _TYPES[words[3]], _TYPES[words[2]])
            elements[-1] = _Element(elements[-1].name, elements[-1].count, (*elements[-1].properties, prop))
        elif words[0] == "property":
            prop = _Property(words[2], _TYPES[words[1]])
            elements[-1] = _Element(elements[-1].name, elements[-1].count, (*elements[-1].properties, prop))
        else:
            raise ValueError(f"unexpected header line {line!r}")
    if not fmt:
        raise ValueError("the header has no 'format' line")
    return fmt, elements, end.end()


class _BinaryBody:
    """Walks the binary body element by element; a list property makes rows variable-sized."""

    def __init__(self, data: bytes, offset: int, order: str) -> None:
        self._data, self._offset, self._order = data, offset, order

    def read(self, element: _Element) -> dict[str, _Column]:
        if not element.count:
            return {}
        # Fast path: every list in the element has the length of the first row's (all triangles).
        lengths = self._first_row_lengths(element)
        fields: list[tuple[Any, ...]] = []
        for prop, length in zip(element.properties, lengths):
            if prop.count_dtype is not None:
                fields.append((f"{prop.name}__count", self._order + prop.count_dtype))
                fields.append((prop.name, self._order + prop.dtype, (length,)))
            else:
                fields.append((prop.name, self._order + prop.dtype))
        rows = np.dtype(fields)
        if len(self._data) - self._offset >= rows.itemsize * element.count:
            table = np.frombuffer(self._data, dtype=rows, count=element.count, offset=self._offset)
            counts_ok = all(
                np.all(table[f"{p.name}__count"] == n)
                for p, n in zip(element.properties, lengths)
                if p.count_dtype is not None
            )
            if counts_ok:
                self._offset += rows.itemsize * element.count
                return {p.name: table[p.name] for p in element.properties}
        return self._read_rows(element)

    def _scalar(self, dtype: str) -> npt.NDArray[np.generic]:
        value = np.frombuffer(self._data, dtype=self._order + dtype, count=1, offset=self._offset)
        self._offset += value.itemsize
        return value

    def _first_row_lengths(self, element: _Element) -> list[int]:
        start, lengths = self._offset, []
        for prop in element.properties:
            length = 1 if prop.count_dtype is None else int(self._scalar(prop.count_dtype)[0])
            self._offset += np.dtype(prop.dtype).itemsize * length
            lengths.append(length)
        self._offset = start
        return lengths

    def _read_rows(self, element: _Element) -> dict[str, _Column]:
        values: dict[str, list[npt.NDArray[np.generic]]] = {p.name: [] for p in element.properties}
        for _ in range(element.count):
            for prop in element.properties:
                length = 1 if prop.count_dtype is None else int(self._scalar(prop.count_dtype)[0])
                items = np.frombuffer(self._data, self._order + prop.dtype, count=length, offset=self._offset)
                self._offset += items.nbytes
                values[prop.name].append(items)
        return dict(values)


class _AsciiBody:
    """Reads whitespace-separated values; rows need not be one per line."""

    def __init__(self, body: bytes) -> None:
        self._tokens, self._pos = body.split(), 0

    def read(self, element: _Element) -> dict[str, _Column]:
        props = element.properties
        if all(p.count_dtype is None for p in props):
            size = element.count * len(props)
            if self._pos + size > len(self._tokens):
                raise ValueError(f"the {element.name!r} element is truncated")
            block = np.array(self._tokens[self._pos : self._pos + size], dtype=np.float64)
            self._pos += size
            table = block.reshape(element.count, len(props))
            return {p.name: table[:, i].astype(p.dtype) for i, p in enumerate(props)}
        values: dict[str, list[npt.NDArray[np.generic]]] = {p.name: [] for p in props}
        for _ in range(element.count):
            for prop in props:
                if self._pos >= len(self._tokens):
                    raise ValueError(f"the {element.name!r} element is truncated")
                length = 1 if prop.count_dtype is None else int(self._tokens[self._pos])
                self._pos += prop.count_dtype is not None
                items = self._tokens[self._pos : self._pos + length]
                if len(items) < length:
                    raise ValueError(f"the {element.name!r} element is truncated")
                values[prop.name].append(np.array(items, dtype=np.float64).astype(prop.dtype))
                self._pos += length
        return dict(values)


def _stack(
    columns: dict[tuple[str, str], _Column],
    names: tuple[str, str, str],
) -> npt.NDArray[np.float32] | None:
    if not all(("vertex", name) in columns for name in names):
        return None
    parts = [np.asarray(columns["vertex", name], dtype=np.float32).reshape(-1) for name in names]
    return np.stack(parts, axis=1)


def _triangulate(lists: _Column, where: str) -> npt.NDArray[np.int64]:
    """Split each polygon ``(a, b, c, d, ...)`` into the fan ``(a, b, c), (a, c, d), ...``."""
    polygons = [lists] if isinstance(lists, np.ndarray) else [np.asarray(p) for p in lists]
    triangles = []
    for group in polygons:
        width = group.shape[-1]
        if width < 3:
            raise DecodingError(f"{where}: a PLY face has {width} vertices; a face needs 3 or more")
        rows = group.astype(np.int64).reshape(-1, width)
        fan = [rows[:, [0, k, k + 1]] for k in range(1, rows.shape[1] - 1)]
        triangles.append(np.stack(fan, axis=1).reshape(-1, 3))
    return np.concatenate(triangles).astype(np.int64) if triangles else np.zeros((0, 3), dtype=np.int64)
