"""The version of pepperpy-security."""

__version__ = "0.1.1"
