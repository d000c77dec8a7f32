"""The version of jx."""

__version__ = "0.1.0"
