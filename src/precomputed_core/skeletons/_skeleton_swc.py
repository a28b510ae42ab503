"""SWC text, as osteoid (cloud-volume's ``Skeleton``) writes and reads it.

A row is ``id type x y z radius parent``: ids are 1-based and numbered in
depth-first order so a parent always comes before its children; a root's
parent is -1. Each connected component is one tree. The header is osteoid's
list of ``#`` fields, including ``SCALE`` (the transform's diagonal).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import SkeletonDecodeError
from ._skeleton_graph import component_labels, dfs_rows, simple_edges

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["decode_swc", "encode_swc"]

_HEADER_FIELDS = (
    "CREATURE",
    "REGION",
    "FIELD/LAYER",
    "TYPE",
    "CONTRIBUTOR {contributors}",
    "REFERENCE",
    "RAW",
    "EXTRAS",
    "SOMA_AREA",
    "SHINKAGE_CORRECTION",  # sic: the field name osteoid (and the SWC header it copies) uses
    "VERSION_NUMBER {version}",
    "VERSION_DATE {date}",
    "SCALE {sx:.6f} {sy:.6f} {sz:.6f}",
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("precomputed")
    except PackageNotFoundError:
        return "unknown"


def _number(value: Any) -> str:
    """Six decimals as osteoid writes, or more where six would change the float32."""
    v = np.float32(value)
    text = f"{v:.6f}"
    if np.float32(text) == v:
        return text
    return np.format_float_positional(v, unique=True, trim="-")


def encode_swc(
    vertices: npt.NDArray[Any],
    edges: npt.NDArray[Any],
    radius: npt.NDArray[Any],
    vertex_types: npt.NDArray[Any],
    *,
    scale: tuple[float, float, float],
    contributors: str = "",
    soma_threshold: float = float("inf"),
) -> str:
    """Return SWC text for one skeleton; isolated vertices become single-row trees."""
    n = vertices.shape[0]
    version = _version()
    lines = [f"# ORIGINAL_SOURCE precomputed {version}"]
    date = datetime.datetime.now(datetime.timezone.utc).isoformat()
    sx, sy, sz = scale
    for field in _HEADER_FIELDS:
        lines.append(
            "# " + field.format(contributors=contributors, version=version, date=date, sx=sx, sy=sy, sz=sz)
        )
    rows = dfs_rows(edges, n, _roots(edges, n, radius, soma_threshold))
    number = np.empty(n, dtype=np.int64)
    number[[v for v, _ in rows]] = np.arange(1, len(rows) + 1)
    lines.append("")
    for v, p in rows:
        x, y, z = (_number(c) for c in vertices[v])
        parent = -1 if p < 0 else int(number[p])
        lines.append(f"{number[v]} {int(vertex_types[v])} {x} {y} {z} {_number(radius[v])} {parent}")
    return "\n".join(lines)


def _roots(edges: npt.NDArray[Any], n: int, radius: npt.NDArray[Any], soma_threshold: float) -> list[int]:
    """Each component's lowest vertex, or its widest one when that reaches ``soma_threshold``."""
    e = simple_edges(edges)
    labels = component_labels(e, n)
    connected = np.zeros(n, dtype=bool)
    connected[e.ravel()] = True
    comps = np.unique(labels[connected])
    if soma_threshold == float("inf"):
        return [int(c) for c in comps]
    widths = np.asarray(radius, dtype=np.float64).reshape(n)
    order = np.lexsort((-widths, labels))  # by component, widest first
    _, first = np.unique(labels[order], return_index=True)
    widest = order[first]  # one per label, labels ascending
    widest = widest[np.isin(labels[widest], comps)]
    return [int(r) for r in np.where(widths[widest] >= soma_threshold, widest, comps)]


def decode_swc(
    text: str, *, where: str = "swc"
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32], npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """Parse SWC into vertices, edges, radii and vertex types, in row order.

    Comments (``#`` to the end of a line) and blank lines are skipped; columns
    may be separated by any whitespace. A radius that is not a number (``NA``)
    reads as -1, as in osteoid. Each edge is stored as osteoid stores it: the
    row with the smaller SWC id first.

    Raises
    ------
    DecodingError
        A row does not have 7 columns or a number is malformed, an id repeats, a
        parent id names no row, or a vertex type is outside 0..255.
    """
    ids: list[int] = []
    parents: list[int] = []
    coords: list[tuple[float, float, float]] = []
    radii: list[float] = []
    types: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 7:
            raise SkeletonDecodeError(
                f"{where}: line {lineno} has {len(fields)} columns, SWC rows have 7: {line!r}"
            )
        try:
            ids.append(int(fields[0]))
            types.append(int(fields[1]))
            coords.append((float(fields[2]), float(fields[3]), float(fields[4])))
            parents.append(int(fields[6]))
        except ValueError as err:
            raise SkeletonDecodeError(f"{where}: line {lineno} is not an SWC row ({err}): {line!r}") from err
        radii.append(_radius(fields[5]))
        if not 0 <= types[-1] <= 255:
            raise SkeletonDecodeError(f"{where}: line {lineno}: vertex type {types[-1]} is outside 0..255")
    row_of = {vid: row for row, vid in enumerate(ids)}
    if len(row_of) != len(ids):
        raise SkeletonDecodeError(f"{where}: SWC ids repeat; each row needs its own id")
    edges = []
    for vid, parent in zip(ids, parents):
        if parent < 0:
            continue
        if parent not in row_of:
            raise SkeletonDecodeError(f"{where}: row {vid} names parent {parent}, which no row has")
        edges.append((row_of[min(vid, parent)], row_of[max(vid, parent)]))
    return (
        np.array(coords, dtype=np.float32).reshape(-1, 3),
        np.array(edges, dtype=np.uint32).reshape(-1, 2),
        np.array(radii, dtype=np.float32),
        np.array(types, dtype=np.uint8),
    )


def _radius(field: str) -> float:
    try:
        return float(field)
    except ValueError:
        return -1.0
