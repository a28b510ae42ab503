"""``python -m precomputed_core``: the ``precomputed`` command line."""

import sys

from .cli import main

sys.exit(main())
