"""Errors raised by :mod:`pepperpy.state`."""

from __future__ import annotations

from pepperpy.core.exceptions import ConflictError, ExternalError, NotFoundError

__all__ = [
    "ConcurrentWriterError",
    "GuardRejectedError",
    "SliceNotFoundError",
    "StatePersistenceError",
    "TransitionNotAllowedError",
    "VersionConflictError",
]


class SliceNotFoundError(NotFoundError):
    """No state slice (or no value at a path) has the requested name."""

    code = "pepperpy.state.slice_not_found"


class VersionConflictError(ConflictError):
    """A compare-and-set or a transaction found a newer version than it expected.

    Nothing was changed; read the slice again and retry.
    """

    code = "pepperpy.state.version_conflict"


class StatePersistenceError(ExternalError):
    """The state store failed to load or record a change; memory was left unchanged."""

    code = "pepperpy.state.persistence"


class ConcurrentWriterError(ConflictError):
    """Another :class:`~pepperpy.state.StateManager` writes to the same store.

    A store has one writer at a time: a manager whose view of the store is
    no longer current (another manager committed since it loaded) cannot
    commit. Nothing was written or applied; stop this manager and start a
    new one to load the current state, or give each manager its own prefix.
    """

    code = "pepperpy.state.concurrent_writer"
    retryable = False


class TransitionNotAllowedError(ConflictError):
    """A state machine event has no transition from the current state."""

    code = "pepperpy.state.transition_not_allowed"
    retryable = False


class GuardRejectedError(TransitionNotAllowedError):
    """Every transition for the event was rejected by its guards."""

    code = "pepperpy.state.guard_rejected"
