"""Chunk codecs for precomputed.

Codecs are plugins: they are registered in ``pyproject.toml`` under the
``precomputed.codecs`` entry-point group, exactly as a third party's codec
would be, and imported only when a layer of their encoding is read or written.
"""

from __future__ import annotations

import logging

__all__: list[str] = []

# Silent unless the application configures logging (the library convention); see docs/logging.md.
logging.getLogger(__name__).addHandler(logging.NullHandler())
