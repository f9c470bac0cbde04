"""The error codes pepperpy-dev raises (it uses core's error classes only)."""

from __future__ import annotations

from pepperpy.core.exceptions import ErrorCatalogue, ErrorCode, InvalidArgumentError

__all__ = ["ERRORS"]

ERRORS = ErrorCatalogue(
    "pepperpy.dev",
    ErrorCode(
        "pepperpy.dev.progress",
        InvalidArgumentError,
        "progress() got a total, refresh, log_every, width or desc it cannot use, or was "
        "iterated the wrong way ('for' over an async source, or over nothing).",
        "Fix the argument the message names; use 'async for' for async sources and "
        "'with progress(total=n)' when there is nothing to iterate.",
    ),
)
"""The error codes pepperpy-dev raises: ``ERRORS[error.code]`` says what one means
and what to do."""
