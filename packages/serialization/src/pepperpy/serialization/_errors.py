"""The errors raised by :mod:`pepperpy.serialization`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pepperpy.core.exceptions import (
    ConfigurationError,
    ErrorDetail,
    InvalidArgumentError,
    ValidationError,
)

__all__ = [
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
