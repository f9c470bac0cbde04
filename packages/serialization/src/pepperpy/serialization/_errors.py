"""The errors raised by :mod:`pepperpy.serialization`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pepperpy.core.exceptions import (
    ConfigurationError,
    ErrorCatalogue,
    ErrorCode,
    ErrorDetail,
    InvalidArgumentError,
    ValidationError,
)

__all__ = [
    "ERRORS",
    "DecodeError",
    "EncodeError",
    "FormatUnavailableError",
    "StructureError",
    "UnsupportedTypeError",
]


class StructureError(ValidationError):
    """Data does not fit the requested type; :attr:`errors` lists *every* problem.

    Each :class:`~pepperpy.core.exceptions.ErrorDetail` carries a JSON-Pointer
    path into the input (``/items/3/price``), a stable ``code`` (``"type"``,
    ``"missing"``, ``"extra_forbidden"``, ``"invalid"``), the expected type and
    a truncated ``repr`` of the offending value.
    """

    code = "pepperpy.serialization.structure"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Iterable[ErrorDetail] = (),
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        details = list(errors)
        if message is None:
            count = len(details)
            message = f"{count} structuring error{'s' if count != 1 else ''}"
        super().__init__(
            message, errors=details, code=code, context=context, hint=hint, retryable=retryable
        )


class DecodeError(ValidationError):
    """Bytes or text are not valid in the given format (malformed JSON, TOML, ...).

    ``context`` holds ``format`` and, when the parser reports them, ``line``
    and ``column`` (1-based).
    """

    code = "pepperpy.serialization.decode"


class EncodeError(InvalidArgumentError):
    """A value cannot be represented in the requested format.

    For example ``None`` inside a TOML array, or a top-level TOML value that
    is not a table.
    """

    code = "pepperpy.serialization.encode"


class UnsupportedTypeError(InvalidArgumentError, TypeError):
    """No structure or unstructure hook exists for a type.

    The hint names the type and shows how to register a hook with
    :meth:`pepperpy.serialization.Converter.register_hook`.
    """

    code = "pepperpy.serialization.unsupported_type"


class FormatUnavailableError(ConfigurationError):
    """A format is unknown, or its optional dependency is not installed."""

    code = "pepperpy.serialization.format_unavailable"


ERRORS = ErrorCatalogue(
    "pepperpy.serialization",
    ErrorCode(
        "pepperpy.serialization.structure",
        StructureError,
        "Data does not fit the requested type; .errors lists every problem with its path.",
        "Fix the values at the paths listed (JSON Pointer into the input).",
    ),
    ErrorCode(
        "pepperpy.serialization.decode",
        DecodeError,
        "The bytes or text are not valid in the format (malformed, not UTF-8, nested too deeply).",
        "Fix the input at the line and column in .context, or check the format= chosen.",
    ),
    ErrorCode(
        "pepperpy.serialization.encode",
        EncodeError,
        "The value cannot be written in the format (None in TOML, a non-table document, "
        "nesting too deep).",
        "Change the value to fit the format, or pick another format.",
    ),
    ErrorCode(
        "pepperpy.serialization.duplicate_key",
        EncodeError,
        "Two keys of a mapping become the same string key ({1: ..., '1': ...}); a value "
        "would be lost.",
        "Keep a mapping's keys distinct as strings (e.g. all str or all int keys).",
    ),
    ErrorCode(
        "pepperpy.serialization.unsupported_type",
        UnsupportedTypeError,
        "No structure or unstructure hook exists for a type.",
        "Register one with Converter.register_hook(), or make the type an attrs class.",
    ),
    ErrorCode(
        "pepperpy.serialization.duplicate_field_key",
        UnsupportedTypeError,
        "Two fields of a record are written under the same key (rename policy, "
        "field_options(rename=...) or alias); a value would be lost.",
        "Rename one of the fields, or give it field_options(rename=...) with another key.",
    ),
    ErrorCode(
        "pepperpy.serialization.format_unavailable",
        FormatUnavailableError,
        "The format is unknown, or its optional dependency is not installed.",
        "Use one of available_formats(), or install the extra the message names.",
    ),
    ErrorCode(
        "pepperpy.serialization.invalid_path",
        InvalidArgumentError,
        "A file path given to load_file()/dump_file() is not a str or os.PathLike, or "
        "holds a NUL byte.",
        "Pass a str or pathlib.Path without NUL characters.",
    ),
)
"""The error codes pepperpy-serialization raises: code -> class, meaning and what to do.

The codes inside :attr:`StructureError.errors` and :attr:`DecodeError.errors`
(``"type"``, ``"missing"``, ``"syntax"`` ...) are per-problem *detail* codes,
listed in the docs, not error codes.
"""
