"""Errors raised by :mod:`pepperpy.resources`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pepperpy.core.exceptions import (
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
    SecurityError,
)

__all__ = [
    "ERRORS",
    "CleanupError",
    "PoolCheckError",
    "PoolTimeoutError",
    "ResourceNotFoundError",
    "add_note",
]


def add_note(error: BaseException, note: str) -> None:
    """Attach *note* to *error* (``BaseException.add_note`` on 3.11+, emulated on 3.10)."""
    adder = getattr(error, "add_note", None)
    if adder is None:  # pragma: no cover - Python 3.10 only (3.11+ has add_note); 3.10 CI runs it
        notes = getattr(error, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
            try:
                error.__notes__ = notes  # type: ignore[attr-defined]
            except AttributeError:  # exotic exception without a dict
                return
        notes.append(note)
        return
    adder(note)


class CleanupError(PepperPyError):
    """One or more resources failed to close; :attr:`errors` holds *every* failure.

    Attributes:
        errors: ``(name, exception)`` pairs in the order the resources were closed.
    """

    code = "pepperpy.resources.cleanup"

    def __init__(
        self,
        errors: Iterable[tuple[str, BaseException]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        pairs = list(errors)
        names = [name for name, _ in pairs]
        summary = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in pairs)
        super().__init__(
            f"{len(pairs)} resource(s) failed to close: {summary}",
            context={"resources": names, **dict(context or {})},
            hint="Each failure is listed in .errors; the other resources were still closed.",
        )
        self.errors: list[tuple[str, BaseException]] = pairs


class PoolTimeoutError(OperationTimeoutError):
    """No pooled item became available within the acquire timeout."""

    code = "pepperpy.resources.pool_timeout"


class PoolCheckError(ExternalError):
    """Freshly created items kept failing the pool's health check, so acquire gave up.

    ``context["rejected"]`` counts the items the check rejected during the call.
    """

    code = "pepperpy.resources.pool_check_failed"


class ResourceNotFoundError(NotFoundError):
    """A named resource (registered object or package data file) does not exist."""

    code = "pepperpy.resources.not_found"


ERRORS = ErrorCatalogue(
    "pepperpy.resources",
    ErrorCode(
        "pepperpy.resources.cleanup",
        CleanupError,
        "One or more resources failed to close; `errors` lists every failure.",
        "Handle each (name, exception) pair in `errors`; the others were still closed.",
    ),
    ErrorCode(
        "pepperpy.resources.pool_timeout",
        PoolTimeoutError,
        "No pooled item became available within the acquire timeout.",
        "Retry later, raise the pool's max_size or acquire timeout, or release items sooner.",
    ),
    ErrorCode(
        "pepperpy.resources.pool_check_failed",
        PoolCheckError,
        "Freshly created items kept failing the pool's health check.",
        "Check the service the items connect to; context['rejected'] counts the failures.",
    ),
    ErrorCode(
        "pepperpy.resources.duplicate_item",
        InvalidArgumentError,
        "A pool's factory returned an object the pool already holds.",
        "Return a new object from each factory call.",
    ),
    ErrorCode(
        "pepperpy.resources.not_found",
        ResourceNotFoundError,
        "A registered resource, a package, or a data file of that name does not exist.",
        "Check the name and that the package is installed; register the resource first.",
    ),
    ErrorCode(
        "pepperpy.resources.unsafe_name",
        SecurityError,
        "A data file name is absolute or has '..' segments that leave the package.",
        "Refuse the input; names are relative paths inside the package.",
    ),
    ErrorCode(
        "pepperpy.resources.bad_json",
        InvalidArgumentError,
        "A package data file read as JSON is not valid JSON.",
        "Fix the data file at the line and column in context.",
    ),
)
"""The error codes pepperpy-resources raises: code -> class, meaning and what to do."""
