"""The version of pepperpy-security."""

__version__ = "1.0.0"
