"""Plain-text tables and sizes for the command line's output."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["chunk_count", "megabytes", "table", "xyz"]


def table(rows: list[list[str]], header: list[str]) -> str:
    """Left-aligned columns under a header and a rule."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def xyz(values: Any) -> str:
    return " x ".join(str(v) for v in list(values))


def chunk_count(size: list[int], chunk: list[int] | None) -> str:
    return "-" if chunk is None else str(math.prod(-(-s // c) for s, c in zip(size, chunk)))


def megabytes(nbytes: int) -> str:
    """Bytes as people read them: 532 B, 4.1 kB, 33.6 MB, 1.20 GB (powers of 1000, as MB/s)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.{2 if unit == 'GB' else 1}f} {unit}"
    return f"{nbytes} B"
