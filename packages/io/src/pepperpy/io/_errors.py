"""Errors raised by :mod:`pepperpy.io`, and the translation of :class:`OSError`."""

from __future__ import annotations

import errno as _errno
import os
from typing import Any

from pepperpy.core.exceptions import (
    ClosedError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
    SecurityError,
    safe_repr,
)

__all__ = [
    "ERRORS",
    "FileOperationError",
    "IncompleteReadError",
    "LockTimeoutError",
    "PathNotFoundError",
    "PathTraversalError",
    "StreamClosedError",
    "translate_os_error",
]


class FileOperationError(ExternalError):
    """A file system operation failed (permission, disk full, not a directory ...).

    ``context`` holds the ``operation``, the ``path`` and the ``errno`` name;
    the original :class:`OSError` is chained as ``__cause__``.
    """

    code = "pepperpy.io.file"


class PathNotFoundError(NotFoundError):
    """A file or directory does not exist."""

    code = "pepperpy.io.not_found"


class PathTraversalError(SecurityError):
    """A user-supplied path points outside the directory it must stay in."""

    code = "pepperpy.io.path_traversal"


class LockTimeoutError(OperationTimeoutError):
    """A file lock could not be acquired within its timeout."""

    code = "pepperpy.io.lock_timeout"


class StreamClosedError(ClosedError):
    """A stream or pipe was written to (or read from) after it was closed."""

    code = "pepperpy.io.stream_closed"


class IncompleteReadError(PepperPyError):
    """The stream ended before the requested number of bytes or separator was read.

    Attributes:
        partial: The bytes read before the end of the stream.
        expected: How many bytes were asked for (``None`` for a separator).
    """

    code = "pepperpy.io.incomplete_read"

    def __init__(self, partial: bytes, expected: int | None) -> None:
        what = f"{expected} bytes" if expected is not None else "the separator"
        super().__init__(
            f"stream ended after {len(partial)} bytes, before {what} could be read",
            context={"received": len(partial), "expected": expected},
            hint="The writer closed the stream early; check the producer or use read().",
        )
        self.partial = partial
        self.expected = expected


ERRORS = ErrorCatalogue(
    "pepperpy.io",
    ErrorCode(
        "pepperpy.io.file",
        FileOperationError,
        "A file system operation failed (permission, disk full, not a directory, ...).",
        "Read the hint and the errno in context; retry when `retryable` is true.",
    ),
    ErrorCode(
        "pepperpy.io.not_found",
        PathNotFoundError,
        "A file or directory does not exist.",
        "Check the path; create the parent directories first when writing.",
    ),
    ErrorCode(
        "pepperpy.io.path_traversal",
        PathTraversalError,
        "A user-supplied path points outside the directory it must stay in.",
        "Refuse the input; do not retry with the same path.",
    ),
    ErrorCode(
        "pepperpy.io.lock_timeout",
        LockTimeoutError,
        "A FileLock could not be acquired within its timeout.",
        "Retry later, or raise the timeout if the holder is expected to take longer.",
    ),
    ErrorCode(
        "pepperpy.io.stream_closed",
        StreamClosedError,
        "A stream or pipe was written to (or read from) after it was closed.",
        "Stop using the stream; open a new one.",
    ),
    ErrorCode(
        "pepperpy.io.incomplete_read",
        IncompleteReadError,
        "A stream ended before the requested bytes or separator arrived.",
        "Use `partial`; check why the writer closed the stream early.",
    ),
    ErrorCode(
        "pepperpy.io.invalid_path",
        InvalidArgumentError,
        "A path is not a str/bytes/PathLike, holds a NUL byte, or cannot be encoded.",
        "Pass a valid path; reject such names when they come from users.",
    ),
    ErrorCode(
        "pepperpy.io.invalid_mode",
        InvalidArgumentError,
        "A file mode is not one open() accepts.",
        "Use a mode such as 'r', 'rb', 'w', 'a' or 'r+b'.",
    ),
    ErrorCode(
        "pepperpy.io.invalid_argument",
        InvalidArgumentError,
        "A number of seconds (timeout, poll interval) is negative, NaN or not a number.",
        "Pass seconds >= 0 (or > 0 where the message says so), math.inf or None.",
    ),
    ErrorCode(
        "pepperpy.io.unknown_encoding",
        InvalidArgumentError,
        "An encoding or error handler name is unknown to Python's codecs.",
        "Use a codec such as 'utf-8' and a handler such as 'strict' or 'replace'.",
    ),
    ErrorCode(
        "pepperpy.io.encode",
        InvalidArgumentError,
        "Text cannot be encoded in the requested encoding.",
        "Pass an encoding that can hold the text, or errors='replace'.",
    ),
    ErrorCode(
        "pepperpy.io.decode",
        InvalidArgumentError,
        "A file or stream is not valid in the requested encoding.",
        "Pass the right encoding, or errors='replace' to substitute bad bytes.",
    ),
    ErrorCode(
        "pepperpy.io.bad_json",
        InvalidArgumentError,
        "read_json() found a file that is not valid UTF-8 JSON (or nested too deeply).",
        "Fix the file at the line and column in context.",
    ),
    ErrorCode(
        "pepperpy.io.not_json",
        InvalidArgumentError,
        "write_json() got a value JSON cannot represent.",
        "Convert it to dicts, lists, str, numbers, bools and None first.",
    ),
    ErrorCode(
        "pepperpy.io.line_too_long",
        InvalidArgumentError,
        "No separator arrived within the line limit of a pipe or reader.",
        "Raise the limit (or max_size), or read the data with read()/iter_chunks().",
    ),
)
"""The error codes pepperpy-io raises: code -> class, meaning and what to do."""

_HINTS: dict[int, str] = {
    _errno.EACCES: "Check the permissions of the file and of its directory.",
    _errno.EPERM: "Check the permissions of the file and of its directory.",
    _errno.EROFS: "The file system is read-only; write somewhere else.",
    _errno.ENOSPC: "The disk is full; free some space and retry.",
    _errno.EDQUOT: "The disk quota is exceeded; free some space and retry.",
    _errno.EISDIR: "The path is a directory; pass a file path.",
    _errno.ENOTDIR: "A parent of the path is a file, not a directory.",
    _errno.EEXIST: "The target already exists; remove it or choose another name.",
    _errno.ENOTEMPTY: "The directory is not empty.",
    _errno.EMFILE: "Too many open files; close some or raise the process limit.",
}

_RETRYABLE = {_errno.EAGAIN, _errno.EINTR, _errno.EBUSY, _errno.ENOSPC, _errno.EMFILE}


def translate_os_error(
    exc: OSError, operation: str, path: str | os.PathLike[str] | None, **context: Any
) -> PepperPyError:
    """Turn *exc* into the matching PepperPy error, naming the *operation* and *path*.

    The caller raises the result ``from exc``.
    """
    where = os.fspath(path) if path is not None else exc.filename
    code = exc.errno if exc.errno is not None else 0
    name = _errno.errorcode.get(code, str(code))
    ctx: dict[str, Any] = {"operation": operation, "path": where, "errno": name, **context}
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        return PathNotFoundError(
            f"cannot {operation} {where!r}: no such file or directory",
            context=ctx,
            hint="Check the path; create the parent directories first when writing.",
        )
    return FileOperationError(
        f"cannot {operation} {where!r}: {reason}",
        context=ctx,
        hint=_HINTS.get(code, "See the chained OSError for details."),
        retryable=code in _RETRYABLE,
    )


def check_path(path: Any, argument: str = "path") -> Any:
    """Return *path* unchanged if the OS can take it; else an ``InvalidArgumentError``.

    Refuses what ``open()`` and ``os.*`` would reject with raw exceptions: an
    object that is not a path (``TypeError``), a NUL byte (``ValueError``) and
    a lone surrogate that the file system encoding cannot encode
    (``UnicodeEncodeError``).
    """
    try:
        text = os.fspath(path)
    except TypeError:
        raise InvalidArgumentError(
            f"{argument} must be a str, bytes or os.PathLike, got {type(path).__name__}",
            code="pepperpy.io.invalid_path",
            context={argument: safe_repr(path)},
            hint="Pass a path such as 'data/file.txt' or a pathlib.Path.",
        ) from None
    try:
        raw = text if isinstance(text, bytes) else os.fsencode(text)
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(
            f"{argument} cannot be encoded for the file system: {exc.reason}",
            code="pepperpy.io.invalid_path",
            context={argument: safe_repr(path)},
            hint="Remove lone surrogates from the name (they are not valid Unicode).",
        ) from None
    if b"\x00" in raw:
        raise InvalidArgumentError(
            f"{argument} contains a NUL byte",
            code="pepperpy.io.invalid_path",
            context={argument: safe_repr(path)},
            hint="NUL bytes are never valid in file names; reject the input.",
        )
    return path


def check_seconds(argument: str, value: Any, *, zero: bool, none: bool = True) -> Any:
    """*value* if it is a number of seconds (``>= 0`` or ``> 0``), ``math.inf`` or ``None``.

    NaN is refused (every comparison with it is false, so it passed ``< 0`` checks).
    """
    if value is None and none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value < 0
        or (value == 0 and not zero)
    ):
        bound = ">= 0" if zero else "> 0"
        raise InvalidArgumentError(
            f"{argument} must be a number of seconds {bound}"
            + (" or None" if none else "")
            + f", got {safe_repr(value)}",
            code="pepperpy.io.invalid_argument",
            context={argument: safe_repr(value)},
            hint=f"Pass {argument} as seconds {bound}.",
        )
    return value
