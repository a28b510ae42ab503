"""Byte layouts of the legacy Precomputed mesh fragment and Wavefront OBJ.

Pure functions between bytes and ``(vertices, faces[, normals])`` arrays, so
the ``Mesh`` class stays about geometry. Vertices are x, y, z in nanometres
(float32), faces are 0-based vertex indices (uint32). A decoder either returns
the whole mesh or raises ``DecodingError`` naming the object: a truncated
fragment must never become a smaller mesh.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import DecodingError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["decode_obj", "decode_precomputed", "encode_obj", "encode_precomputed"]

# 3 float32 per vertex and 3 uint32 per triangle.
_TRIPLE_BYTES = 12


def encode_precomputed(vertices: npt.NDArray[np.float32], faces: npt.NDArray[np.uint32]) -> bytes:
    """Write the legacy fragment: uint32le count, float32le xyz per vertex, uint32le faces."""
    return b"".join(
        (
            struct.pack("<I", vertices.shape[0]),
            np.ascontiguousarray(vertices, dtype="<f4").tobytes(),
            np.ascontiguousarray(faces, dtype="<u4").tobytes(),
        )
    )


def decode_precomputed(
    binary: bytes | bytearray | memoryview, *, where: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32]]:
    """Read a legacy fragment; raise ``DecodingError`` (naming ``where``) if it is damaged."""
    data = memoryview(binary).cast("B")
    size = len(data)
    if size < 4:
        raise DecodingError(f"{where}: {size} bytes is too short for a mesh fragment (needs 4 or more)")
    (num_vertices,) = struct.unpack_from("<I", data)
    vertex_end = 4 + _TRIPLE_BYTES * num_vertices
    if size < vertex_end:
        raise DecodingError(
            f"{where}: truncated mesh fragment: its header says {num_vertices} vertices "
            f"({vertex_end} bytes) but it has {size} bytes"
        )
    if (size - vertex_end) % _TRIPLE_BYTES:
        raise DecodingError(
            f"{where}: {size - vertex_end} bytes of triangles is not a multiple of 12; "
            "the mesh fragment is truncated or corrupt"
        )
    vertices = np.frombuffer(data, dtype="<f4", count=3 * num_vertices, offset=4).reshape(-1, 3)
    faces = np.frombuffer(data, dtype="<u4", offset=vertex_end).reshape(-1, 3)
    if faces.size and int(faces.max()) >= num_vertices:
        raise DecodingError(
            f"{where}: face index {int(faces.max())} is out of range for {num_vertices} vertices; "
            "the mesh fragment is corrupt"
        )
    return vertices.astype(np.float32), faces.astype(np.uint32)


def encode_obj(
    vertices: npt.NDArray[np.float32],
    faces: npt.NDArray[np.uint32],
    normals: npt.NDArray[np.float32] | None,
) -> bytes:
    """Write OBJ text (UTF-8 bytes) with 1-based faces and ``vn`` lines when there are normals."""
    # %.9g is the shortest format that brings every float32 back bit for bit
    # (cloud-volume's %.5f rounds away detail at nanometre scale).
    lines = [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in vertices.tolist()]
    one_based = (faces.astype(np.int64) + 1).tolist()
    if normals is not None and normals.shape[0] == vertices.shape[0] and normals.size:
        lines += [f"vn {x:.9g} {y:.9g} {z:.9g}" for x, y, z in normals.tolist()]
        lines += [f"f {a}//{a} {b}//{b} {c}//{c}" for a, b, c in one_based]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in one_based]
    return ("\n".join(lines) + "\n").encode("utf-8")


def decode_obj(
    text: str | bytes | bytearray | memoryview, *, where: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32], npt.NDArray[np.float32] | None]:
    """Read the ``v``, ``vn`` and ``f`` lines of an OBJ file; polygons become triangle fans.

    Normals are kept only when there is one ``vn`` per ``v`` (what per-vertex
    exporters write); other statements (``vt``, ``g``, ``usemtl`` ...) are skipped.
    """
    if not isinstance(text, str):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise DecodingError(f"{where}: an OBJ file must be UTF-8 text ({err})") from err
    vertices: list[tuple[float, float, float]] = []
    normals: list[tuple[float, float, float]] = []
    faces: list[int] = []
    # A trailing backslash continues a statement on the next line.
    logical = text.replace("\\\r\n", " ").replace("\\\n", " ")
    for lineno, line in enumerate(logical.splitlines(), start=1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        try:
            if parts[0] == "v":
                vertices.append(_xyz(parts))
            elif parts[0] == "vn":
                normals.append(_xyz(parts))
            elif parts[0] == "f":
                faces.extend(_fan(parts[1:], len(vertices)))
        except (ValueError, IndexError) as err:
            raise DecodingError(f"{where}: OBJ line {lineno} {line.strip()!r}: {err}") from err
    vertex_array = np.array(vertices, dtype=np.float32).reshape(-1, 3)
    face_array = np.array(faces, dtype=np.int64).reshape(-1, 3)
    if face_array.size and int(face_array.max()) >= len(vertices):
        raise DecodingError(
            f"{where}: OBJ face index {int(face_array.max()) + 1} is out of range "
            f"for {len(vertices)} vertices"
        )
    normal_array = None
    if normals and len(normals) == len(vertices):
        normal_array = np.array(normals, dtype=np.float32).reshape(-1, 3)
    return vertex_array, face_array.astype(np.uint32), normal_array


def _xyz(parts: list[str]) -> tuple[float, float, float]:
    # Extra values (a w coordinate, vertex colours) are allowed and ignored.
    if len(parts) < 4:
        raise ValueError(f"expected 3 coordinates, found {len(parts) - 1}")
    return float(parts[1]), float(parts[2]), float(parts[3])


def _fan(tokens: list[str], num_vertices: int) -> list[int]:
    """0-based triangle-fan indices of one ``f`` statement (``a``, ``a/b``, ``a/b/c``, ``a//c``)."""
    if len(tokens) < 3:
        raise ValueError(f"a face needs at least 3 vertices, found {len(tokens)}")
    corners = []
    for token in tokens:
        index = int(token.split("/", 1)[0])
        if index == 0:
            raise ValueError("OBJ indices start at 1; 0 is not a vertex")
        # A negative index counts back from the last vertex read so far.
        resolved = index - 1 if index > 0 else num_vertices + index
        if resolved < 0:
            raise ValueError(f"vertex index {index} points before the first vertex")
        corners.append(resolved)
    fan: list[int] = []
    for k in range(1, len(corners) - 1):
        fan += (corners[0], corners[k], corners[k + 1])
    return fan
