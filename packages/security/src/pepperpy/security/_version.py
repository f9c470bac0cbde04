"""The version of pepperpy-security."""

__version__ = "1.1.0"
