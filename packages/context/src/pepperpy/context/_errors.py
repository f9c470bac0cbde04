"""The error codes pepperpy-context raises (it uses core's error classes only)."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    InvalidArgumentError,
    NotFoundError,
    ValidationError,
)

__all__ = ["ERRORS"]

ERRORS = ErrorCatalogue(
    "pepperpy.context",
    ErrorCode(
        "pepperpy.context.key",
        InvalidArgumentError,
        "A context key is not a non-empty str.",
        "Use short snake_case str keys such as 'request_id'.",
    ),
    ErrorCode(
        "pepperpy.context.type",
        InvalidArgumentError,
        "A value bound to a typed Key is not of the Key's declared type.",
        "Bind a value of the type the Key declares.",
    ),
    ErrorCode(
        "pepperpy.context.key_conflict",
        ConflictError,
        "A Key name is declared again with a different type.",
        "Declare each key once and import it where needed.",
    ),
    ErrorCode(
        "pepperpy.context.unbound",
        NotFoundError,
        "Key.require() found no value bound for the key.",
        "Bind the key first (Key.bind() or scope()), or use Key.get() for its default.",
    ),
    ErrorCode(
        "pepperpy.context.scope",
        InvalidArgumentError,
        "scope() got values that are not a mapping.",
        "Pass keyword arguments, a dict or a Snapshot.",
    ),
    ErrorCode(
        "pepperpy.context.reentered",
        InvalidArgumentError,
        "One scope(...) object was entered a second time.",
        "Create a new scope(...) for each 'with' block.",
    ),
    ErrorCode(
        "pepperpy.context.serialize",
        ValidationError,
        "Snapshot.to_json(strict=True) met values that cannot be written as JSON.",
        "Bind JSON-friendly values, or call to_json() without strict to drop the others.",
    ),
    ErrorCode(
        "pepperpy.context.deserialize",
        ValidationError,
        "Snapshot.from_json() got text that is not a JSON object.",
        "Pass the string produced by Snapshot.to_json().",
    ),
    ErrorCode(
        "pepperpy.context.executor",
        InvalidArgumentError,
        "wrap_executor() got something that is not a concurrent.futures.Executor.",
        "Pass a ThreadPoolExecutor or ProcessPoolExecutor instance.",
    ),
)
"""The error codes pepperpy-context raises: ``ERRORS[error.code]`` says what one
means and what to do."""
