"""Progress bars, and the README's ``progress=INTERACTIVE`` default."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["INTERACTIVE", "progress_bar"]

#: True in an interactive interpreter (``python -i``, the REPL, IPython), else False.
INTERACTIVE = bool(getattr(sys, "ps1", sys.flags.interactive))


class _NoBar:
    """What ``progress_bar`` returns when disabled: building a tqdm costs ~100 us a call."""

    disable = True

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


_NO_BAR = _NoBar()


def progress_bar(total: int, *, desc: str, enabled: bool, unit: str = "chunk") -> Any:
    """A tqdm bar over ``total`` items, or a silent stand-in when disabled."""
    if not enabled:
        return _NO_BAR
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)
