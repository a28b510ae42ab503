"""Storage drivers for precomputed: local files (``file://``), this process's memory
(``mem://``), Google Cloud Storage (``gs://``, gcsfs), S3 and S3-compatible stores
(``s3://``, s3fs) and read-only web servers (``http://``, ``https://``).

Each is a ``Store``. Drivers are plugins: they are registered in ``pyproject.toml``
under the ``precomputed.drivers`` entry-point group, exactly as a third party's driver
would be, and imported only when a volume of their protocol is opened. They use only
``precomputed_core``'s public API.
"""

from __future__ import annotations

import logging

__all__: list[str] = []

# Silent unless the application configures logging (the library convention); see docs/logging.md.
logging.getLogger(__name__).addHandler(logging.NullHandler())
