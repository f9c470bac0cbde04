"""The error codes pepperpy-logging raises, in one place (issue 24).

pepperpy-logging defines no error classes of its own: it raises pepperpy.core's
:class:`~pepperpy.core.exceptions.ValidationError`,
:class:`~pepperpy.core.exceptions.ConfigurationError` and
:class:`~pepperpy.core.exceptions.InvalidArgumentError` with the codes below. A
logging *call* never raises; these come from :func:`configure`,
:func:`get_logger` and :func:`level_no`.
"""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    ErrorCatalogue,
    ErrorCode,
    InvalidArgumentError,
    ValidationError,
)

__all__ = ["ERRORS"]


ERRORS = ErrorCatalogue(
    "pepperpy.logging",
    ErrorCode(
        "pepperpy.logging.config",
        ValidationError,
        "The logging configuration is not a mapping or has invalid keys (all listed in .errors).",
        "Fix each listed path (e.g. /files/0/rotation) in the [logging] section.",
    ),
    ErrorCode(
        "pepperpy.logging.file",
        ConfigurationError,
        "A file sink could not be opened (unwritable path or bad rotation/retention/compression).",
        "Make the path writable and use loguru's syntax ('10 MB', '7 days', 'gz'); "
        "the previous configuration stays in force.",
    ),
    ErrorCode(
        "pepperpy.logging.level",
        InvalidArgumentError,
        "A log level is neither a known name nor a number >= 0.",
        "Use TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL or a non-negative number.",
    ),
    ErrorCode(
        "pepperpy.logging.name",
        InvalidArgumentError,
        "A logger name is not a string.",
        "Pass a dotted name such as 'myapp.db', or nothing to use the module's name.",
    ),
)
"""The error codes pepperpy-logging raises: code -> class, meaning and what to do."""
