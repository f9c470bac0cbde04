"""Errors raised by :mod:`pepperpy.state`."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
)

__all__ = [
    "ERRORS",
    "ConcurrentWriterError",
    "GuardRejectedError",
    "LockLostError",
    "LockUnavailableError",
    "SliceNotFoundError",
    "StaleTokenError",
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


class LockLostError(ConflictError):
    """The lease ran out and the lock is no longer this holder's (released or taken over).

    Whatever the holder did after losing it may conflict with the next
    holder; resources guarded by a :class:`Fence` refuse its writes.
    """

    code = "pepperpy.state.lock_lost"


class StaleTokenError(ConflictError):
    """A write carried a fencing token older than one the resource has already seen."""

    code = "pepperpy.state.stale_token"


class LockUnavailableError(ExternalError):
    """Redis could not be reached or failed a lock command (retryable)."""

    code = "pepperpy.state.lock_unavailable"


ERRORS = ErrorCatalogue(
    "pepperpy.state",
    ErrorCode(
        "pepperpy.state.slice_not_found",
        SliceNotFoundError,
        "No state slice has the requested name.",
        "Register the slice first (state.register(name, ...)), or check the name.",
    ),
    ErrorCode(
        "pepperpy.state.path_not_found",
        SliceNotFoundError,
        "select() found nothing at the dotted path inside a slice.",
        "Check the path, or pass a default: state.select(path, None).",
    ),
    ErrorCode(
        "pepperpy.state.version_conflict",
        VersionConflictError,
        "A compare-and-set or transaction found a newer version than it expected.",
        "Nothing changed: read the slice again and retry on top of it.",
    ),
    ErrorCode(
        "pepperpy.state.persistence",
        StatePersistenceError,
        "The state store failed to load or record a change; memory was left unchanged.",
        "Read the chained cause (disk, database); retry once the store works again.",
    ),
    ErrorCode(
        "pepperpy.state.concurrent_writer",
        ConcurrentWriterError,
        "Another StateManager committed to the same store since this one loaded it.",
        "Stop this manager and start a new one, or give each manager its own prefix.",
    ),
    ErrorCode(
        "pepperpy.state.transition_not_allowed",
        TransitionNotAllowedError,
        "A state machine event has no transition from the current state.",
        "Send an event the current state accepts; machine.allowed_events() lists them.",
    ),
    ErrorCode(
        "pepperpy.state.guard_rejected",
        GuardRejectedError,
        "Every transition for the event was rejected by its guards.",
        "Change what the guards check, or send another event.",
    ),
    ErrorCode(
        "pepperpy.state.unknown_event",
        TransitionNotAllowedError,
        "A state machine was sent an event it does not declare.",
        "Send one of the declared events (machine.events()).",
    ),
    ErrorCode(
        "pepperpy.state.invalid_machine",
        ConfigurationError,
        "A Machine subclass is malformed: no initial state, a foreign state, a missing method.",
        "Fix the class body as the message says; states come from one Enum.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_state",
        InvalidArgumentError,
        "A Machine was created with a state that is not a member of its states Enum.",
        "Pass a member of the machine's states Enum, or no state.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_snapshot",
        InvalidArgumentError,
        "restore() got data that is not a snapshot of this machine.",
        "Pass what Machine.snapshot() (or its to_dict()) returned for this machine class.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_hook",
        InvalidArgumentError,
        "on_enter()/on_exit() was used without naming any state.",
        "Name the states: @on_enter(MyStates.DONE).",
    ),
    ErrorCode(
        "pepperpy.state.invalid_option",
        InvalidArgumentError,
        "A StateManager option (store, snapshot_every) has the wrong type or value.",
        "Fix the option the message names.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_name",
        InvalidArgumentError,
        "A slice name contains '.', which separates path segments.",
        "Name slices without dots; update nested values through the slice.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_path",
        InvalidArgumentError,
        "A state path is empty or has an empty segment.",
        "Write a slice name, optionally followed by dotted segments: 'user.address.city'.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_observer",
        InvalidArgumentError,
        "subscribe() got an observer that is not callable.",
        "Pass a function or coroutine function taking a Change.",
    ),
    ErrorCode(
        "pepperpy.state.wrong_type",
        InvalidArgumentError,
        "A value of the wrong class was set on a typed slice.",
        "Pass an instance of the slice's type.",
    ),
    ErrorCode(
        "pepperpy.state.not_json",
        InvalidArgumentError,
        "A state value cannot be persisted (not JSON-like, or NaN/infinity).",
        "Use JSON-like values, attrs classes, or types pepperpy-serialization knows.",
    ),
    ErrorCode(
        "pepperpy.state.transaction_closed",
        InvalidArgumentError,
        "A transaction was used after it committed or rolled back.",
        "Start a new 'async with state.transaction()' block.",
    ),
    ErrorCode(
        "pepperpy.state.no_redis_url",
        ConfigurationError,
        "RedisLock got no client or URL and PEPPERPY_REDIS_URL is unset.",
        "Pass a redis:// URL or a redis.asyncio.Redis, or set PEPPERPY_REDIS_URL.",
    ),
    ErrorCode(
        "pepperpy.state.invalid_lock_name",
        InvalidArgumentError,
        "A RedisLock name is not a non-empty string.",
        "Pass a non-empty str naming the lock.",
    ),
    ErrorCode(
        "pepperpy.state.lock_not_held",
        InvalidArgumentError,
        "release() or extend() was called on a RedisLock this object does not hold.",
        "Acquire the lock first; a lost lease raises lock_lost instead.",
    ),
    ErrorCode(
        "pepperpy.state.lock_not_reentrant",
        InvalidArgumentError,
        "acquire() was called on a RedisLock this object already holds.",
        "Release it first, or use one RedisLock object per holder.",
    ),
    ErrorCode(
        "pepperpy.state.lock_lost",
        LockLostError,
        "The lease ran out and the lock is no longer this holder's.",
        "Stop the guarded work; acquire the lock again before writing.",
    ),
    ErrorCode(
        "pepperpy.state.stale_token",
        StaleTokenError,
        "A Fence refused a write carrying an older fencing token than one it has seen.",
        "Drop the write: a newer holder owns the resource; acquire the lock again.",
    ),
    ErrorCode(
        "pepperpy.state.lock_unavailable",
        LockUnavailableError,
        "Redis could not be reached or failed a lock command.",
        "Retry later; check that Redis is up (the cause is chained).",
    ),
)
"""The error codes pepperpy-state raises: code -> class, meaning and what to do."""
