"""jx: a small, pure, functional array language embedded in Python."""
