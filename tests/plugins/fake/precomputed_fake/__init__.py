"""A third-party plugin, installed only through its dist-info entry points."""
