"""The error codes pepperpy-testing raises (it uses core's error classes only)."""

from __future__ import annotations

from pepperpy.core.exceptions import ErrorCatalogue, ErrorCode, InvalidArgumentError

__all__ = ["ERRORS"]

ERRORS = ErrorCatalogue(
    "pepperpy.testing",
    ErrorCode(
        "pepperpy.testing.virtual_time",
        InvalidArgumentError,
        "Virtual time was asked to move by a negative, infinite or non-numeric amount.",
        "Pass seconds as a non-negative int or float, e.g. advance(60).",
    ),
)
"""The error codes pepperpy-testing raises: ``ERRORS[error.code]`` says what one
means and what to do."""
