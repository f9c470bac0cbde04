"""Errors raised by :mod:`pepperpy.storage` and the translation of backend failures."""

from __future__ import annotations

import errno as _errno
import sqlite3
from typing import Any

from pepperpy.core.exceptions import (
    ConfigurationError,
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
)

__all__ = [
    "ERRORS",
    "StorageError",
    "StorageKeyError",
    "StorageValueError",
    "VersionConflictError",
    "from_os_error",
    "from_sqlite_error",
    "opened_read_only",
]


class StorageError(ExternalError):
    """The storage backend failed: read-only or full disk, corrupted file, locked database.

    ``code`` tells which (``pepperpy.storage.read_only``, ``.disk_full``,
    ``.corrupted``, ``.locked``, ``.unavailable``, ``.schema``); ``context``
    holds the ``path`` and the ``operation``. Data committed before the error is
    never lost: a failed write changes nothing.
    """

    code = "pepperpy.storage.error"


class StorageKeyError(InvalidArgumentError):
    """A key is not usable: wrong type, empty, too long, or contains NUL/surrogates."""

    code = "pepperpy.storage.bad_key"


class StorageValueError(InvalidArgumentError):
    """A value cannot be stored (not serializable); ``context["path"]`` points at the culprit."""

    code = "pepperpy.storage.bad_value"


class VersionConflictError(ConflictError):
    """A conditional write found another version than expected (optimistic concurrency).

    ``context`` holds the ``key``, the ``expected`` and the ``actual`` version
    (``0`` means the key did not exist).
    """

    code = "pepperpy.storage.version_conflict"


def _sqlite_name(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(name, str):
        return name
    text = str(exc).lower()  # Python 3.10: no error code on the exception
    for needle, guess in (
        ("readonly", "SQLITE_READONLY"),
        ("read-only", "SQLITE_READONLY"),
        ("disk is full", "SQLITE_FULL"),
        ("not a database", "SQLITE_NOTADB"),
        ("malformed", "SQLITE_CORRUPT"),
        ("is locked", "SQLITE_BUSY"),
        ("unable to open", "SQLITE_CANTOPEN"),
        ("disk i/o error", "SQLITE_IOERR"),
    ):
        if needle in text:
            return guess
    return "SQLITE_ERROR"


def from_sqlite_error(
    exc: sqlite3.Error, operation: str, path: str, **context: Any
) -> StorageError:
    """Translate a :mod:`sqlite3` error into a :class:`StorageError` that says what to do."""
    name = _sqlite_name(exc)
    ctx = {"operation": operation, "path": path, "sqlite_error": name, **context}
    base = "_".join(name.split("_")[:2])
    if base == "SQLITE_READONLY":
        return StorageError(
            f"cannot {operation}: the database {path!r} is read-only",
            code="pepperpy.storage.read_only",
            context=ctx,
            hint="Make the file and its directory writable (SQLite also writes the -wal and "
            "-shm files beside it), or point data_dir somewhere writable; to only read it, "
            "open it with read_only=True. Nothing was lost.",
            retryable=False,
        )
    if base == "SQLITE_FULL":
        return StorageError(
            f"cannot {operation}: the disk holding {path!r} is full",
            code="pepperpy.storage.disk_full",
            context=ctx,
            hint="Free disk space and retry; data committed earlier is intact.",
            retryable=True,
        )
    if base in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return StorageError(
            f"cannot {operation}: {path!r} is not a valid SQLite database or is corrupted",
            code="pepperpy.storage.corrupted",
            context=ctx,
            hint="Move the file away and restore it from an export (Storage.import_jsonl), "
            "or point the store at another file.",
            retryable=False,
        )
    if base in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return StorageError(
            f"cannot {operation}: the database {path!r} stayed locked by another connection",
            code="pepperpy.storage.locked",
            context=ctx,
            hint="Another process holds a long write transaction; retry, or raise busy_timeout.",
            retryable=True,
        )
    if base in ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM"):
        return StorageError(
            f"cannot {operation}: the database {path!r} cannot be opened",
            code="pepperpy.storage.unavailable",
            context=ctx,
            hint="Check that the directory exists and is writable, and the path is a file; "
            "a store on a read-only directory opens with read_only=True (reads only).",
            retryable=False,
        )
    return StorageError(
        f"cannot {operation} in {path!r}: {exc}",
        code="pepperpy.storage.error",
        context=ctx,
        hint="See the chained sqlite3 error.",
    )


def from_os_error(exc: OSError, operation: str, path: str, **context: Any) -> StorageError:
    """Translate an :class:`OSError` from a file-based backend into a :class:`StorageError`."""
    code_no = exc.errno or 0
    ctx = {
        "operation": operation,
        "path": path,
        "errno": _errno.errorcode.get(code_no, str(code_no)),
        **context,
    }
    if code_no in (_errno.EACCES, _errno.EPERM, _errno.EROFS):
        return StorageError(
            f"cannot {operation}: {path!r} is not writable",
            code="pepperpy.storage.read_only",
            context=ctx,
            hint="Make the directory writable or choose another data_dir; to only read the "
            "store, open it with read_only=True. Nothing was lost.",
            retryable=False,
        )
    if code_no in (_errno.ENOSPC, _errno.EDQUOT):
        return StorageError(
            f"cannot {operation}: the disk holding {path!r} is full",
            code="pepperpy.storage.disk_full",
            context=ctx,
            hint="Free disk space and retry; data written earlier is intact.",
            retryable=True,
        )
    return StorageError(
        f"cannot {operation} {path!r}: {exc.strerror or exc}",
        code="pepperpy.storage.unavailable",
        context=ctx,
        hint="See the chained OSError.",
    )


def opened_read_only(location: str, operation: str = "write") -> StorageError:
    """The error every write gets from a store opened with ``read_only=True``."""
    return StorageError(
        f"cannot {operation}: the store at {location!r} was opened read-only",
        code="pepperpy.storage.read_only",
        context={"operation": operation, "path": location},
        hint="Open it without read_only=True (on a writable location) to change it; "
        "reads work as usual. Nothing was changed.",
        retryable=False,
    )


ERRORS = ErrorCatalogue(
    "pepperpy.storage",
    ErrorCode(
        "pepperpy.storage.bad_key",
        StorageKeyError,
        "A key is not usable: not a str, empty, too long, or holds NUL or a lone surrogate.",
        "Use a non-empty str key without NUL or surrogates, within the backend's length limit.",
    ),
    ErrorCode(
        "pepperpy.storage.bad_value",
        StorageValueError,
        "A value cannot be stored (not JSON-like, too deep, NaN); context['path'] points at it.",
        "Store JSON-like data or attrs instances made of it; fix the value at context['path'].",
    ),
    ErrorCode(
        "pepperpy.storage.version_conflict",
        VersionConflictError,
        "A conditional write found another version than expected (someone wrote first).",
        "Read the key again, redo the change on the new value and retry.",
    ),
    ErrorCode(
        "pepperpy.storage.error",
        StorageError,
        "The backend failed in a way with no more specific code; the cause is chained.",
        "Read the chained backend error; retry if error.retryable.",
    ),
    ErrorCode(
        "pepperpy.storage.read_only",
        StorageError,
        "A write reached a read-only store, file, directory or a role without write rights.",
        "Make the location writable (or grant the rights), or open the store with "
        "read_only=True to only read.",
    ),
    ErrorCode(
        "pepperpy.storage.disk_full",
        StorageError,
        "The disk holding the store is full; the write changed nothing.",
        "Free disk space and retry (retryable).",
    ),
    ErrorCode(
        "pepperpy.storage.corrupted",
        StorageError,
        "The database file, a store file or a stored value is damaged or not in the format.",
        "Restore from a backup or an export (import_jsonl), or delete/overwrite the key.",
    ),
    ErrorCode(
        "pepperpy.storage.locked",
        StorageError,
        "The database stayed locked, or PostgreSQL aborted colliding transactions.",
        "Retry (retryable); raise busy_timeout if another process holds long transactions.",
    ),
    ErrorCode(
        "pepperpy.storage.unavailable",
        StorageError,
        "The store cannot be opened or reached (missing directory, I/O error, server down).",
        "Check the path or the server; retry when error.retryable is true.",
    ),
    ErrorCode(
        "pepperpy.storage.schema",
        StorageError,
        "The store was written by a newer pepperpy-storage, or holds no store to open read-only.",
        "Upgrade pepperpy-storage, or check the path.",
    ),
    ErrorCode(
        "pepperpy.storage.closed",
        StorageError,
        "The storage backend is closed (or closing).",
        "Start the storage again (async with storage: ...) before using it.",
    ),
    ErrorCode(
        "pepperpy.storage.aborted",
        StorageError,
        "A queued write was aborted (shutdown or a failed writer); it may not be committed.",
        "Read the key back to see whether it landed before retrying.",
    ),
    ErrorCode(
        "pepperpy.storage.no_dsn",
        ConfigurationError,
        "The PostgreSQL backend was given no DSN (argument or environment variable).",
        "Pass dsn='postgresql://user@host:5432/db' or set PEPPERPY_POSTGRES_DSN.",
    ),
)
"""The error codes pepperpy-storage raises: code -> class, meaning and what to do."""
