"""Errors raised by :mod:`pepperpy.resources`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pepperpy.core.exceptions import (
    ExternalError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
)

__all__ = [
    "CleanupError",
    "PoolCheckError",
    "PoolTimeoutError",
    "ResourceNotFoundError",
    "add_note",
]


def add_note(error: BaseException, note: str) -> None:
    """Attach *note* to *error* (``BaseException.add_note`` on 3.11+, emulated on 3.10)."""
    adder = getattr(error, "add_note", None)
    if adder is not None:
        adder(note)
        return
    notes = getattr(error, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        try:
            error.__notes__ = notes  # type: ignore[attr-defined]
        except AttributeError:  # pragma: no cover - exotic exception without a dict
            return
    notes.append(note)


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
