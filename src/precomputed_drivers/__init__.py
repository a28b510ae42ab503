"""Storage drivers for precomputed: local files and in-memory storage.

Drivers are plugins: they are registered in ``pyproject.toml`` under the
``precomputed.drivers`` entry-point group, exactly as a third party's driver
would be, and imported only when a volume of their protocol is opened.
"""

from __future__ import annotations

__all__: list[str] = []
