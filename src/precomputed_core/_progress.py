"""Progress bars, and the README's ``progress=INTERACTIVE`` default."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["INTERACTIVE", "progress_bar"]

#: True in an interactive interpreter (``python -i``, the REPL, IPython), else False.
INTERACTIVE = bool(getattr(sys, "ps1", sys.flags.interactive))


def progress_bar(total: int, *, desc: str, enabled: bool) -> Any:
    """A tqdm bar over ``total`` items, or a silent stand-in when disabled."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", disable=not enabled, leave=False)
