"""``python -m precomputed_core.cli``: the ``precomputed`` command line."""

import sys

from . import main

sys.exit(main())
