"""Errors for bad HTTP input: each one becomes a problem-details response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pepperpy.core import PepperPyError

__all__ = [
    "BadRequestError",
    "HTTPError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
]


class HTTPError(PepperPyError):
    """A request the server refuses because of its shape; :attr:`status` is the HTTP status.

    Args:
        message: What was wrong with the request, safe to show the client.
        status: The HTTP status of the response (defaults to the class's).
        code: A stable dotted code such as ``pepperpy.web.malformed_json``.
        context: Facts about the refusal (limits, the header's name).
        hint: What the client should do about it.
    """

    code = "pepperpy.web.bad_request"
    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, code=code, context=context, hint=hint)
        if status is not None:
            self.status = status


class BadRequestError(HTTPError):
    """Malformed input: JSON, ``Authorization``, ``traceparent`` or a header value (400)."""

    code = "pepperpy.web.bad_request"
    status = 400


class PayloadTooLargeError(HTTPError):
    """The request body is larger than the configured limit (413)."""

    code = "pepperpy.web.body_too_large"
    status = 413


class UnsupportedMediaTypeError(HTTPError):
    """The request body is not of the content type the route reads (415)."""

    code = "pepperpy.web.unsupported_media_type"
    status = 415
