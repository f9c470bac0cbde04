"""Errors for bad HTTP input: each one becomes a problem-details response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pepperpy.core import InvalidArgumentError, PepperPyError
from pepperpy.core.exceptions import ErrorCatalogue, ErrorCode

__all__ = [
    "ERRORS",
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
    """Malformed input: JSON, ``Authorization``, ``traceparent`` or a header value (400).

    Its default code is :class:`HTTPError`'s, ``pepperpy.web.bad_request``.
    """

    status = 400


class PayloadTooLargeError(HTTPError):
    """The request body is larger than the configured limit (413)."""

    code = "pepperpy.web.body_too_large"
    status = 413


class UnsupportedMediaTypeError(HTTPError):
    """The request body is not of the content type the route reads (415)."""

    code = "pepperpy.web.unsupported_media_type"
    status = 415


ERRORS = ErrorCatalogue(
    "pepperpy.web",
    # -- bad requests: answered as problem details, never raised to the caller's code
    ErrorCode(
        "pepperpy.web.bad_request",
        HTTPError,
        "The request was refused because of its shape (the default of HTTPError, 400).",
        "Fix the request as the response's detail and hint say.",
    ),
    ErrorCode(
        "pepperpy.web.malformed_json",
        BadRequestError,
        "The JSON body is not UTF-8, not well-formed, or holds NaN/Infinity or deep nesting (400).",
        "Send a well-formed UTF-8 JSON document.",
    ),
    ErrorCode(
        "pepperpy.web.bad_header",
        BadRequestError,
        "A header value holds CR, LF or NUL, or Content-Length is not a number (400).",
        "Send header values without control characters and a decimal Content-Length.",
    ),
    ErrorCode(
        "pepperpy.web.bad_traceparent",
        BadRequestError,
        "The traceparent header is not W3C Trace Context (400; Web(strict_traceparent=True)).",
        "Send 00-<32 hex>-<16 hex>-<2 hex> or no traceparent.",
    ),
    ErrorCode(
        "pepperpy.web.body_too_large",
        PayloadTooLargeError,
        "The request body is larger than Web(max_body_size=...) (413).",
        "Send a smaller body, or raise max_body_size on the server.",
    ),
    ErrorCode(
        "pepperpy.web.unsupported_media_type",
        UnsupportedMediaTypeError,
        "The body is not application/json or application/*+json in UTF-8 (415).",
        "Send the body as UTF-8 JSON with Content-Type: application/json.",
    ),
    ErrorCode(
        "pepperpy.web.bad_authorization",
        HTTPError,
        "The Authorization header is not 'Bearer <token>' (401, with WWW-Authenticate).",
        "Send 'Authorization: Bearer <token>'.",
    ),
    ErrorCode(
        "pepperpy.web.missing_credentials",
        HTTPError,
        "A route that needs a principal got no bearer token (401, with WWW-Authenticate).",
        "Send 'Authorization: Bearer <token>'.",
    ),
    # -- programming errors: raised where the service is built or misconfigured
    ErrorCode(
        "pepperpy.web.max_body_size",
        InvalidArgumentError,
        "Web(max_body_size=...) is not an int >= 0.",
        "Pass a number of bytes, e.g. 1_048_576.",
    ),
    ErrorCode(
        "pepperpy.web.statuses",
        InvalidArgumentError,
        "Web(statuses=...) maps an exception class to something other than a 4xx/5xx int.",
        "Map each error class to a status such as 404 or 503.",
    ),
    ErrorCode(
        "pepperpy.web.flag",
        InvalidArgumentError,
        "A Web switch (strict_traceparent, ready_on_startup, observe_builtins) is not a bool.",
        "Pass True or False.",
    ),
    ErrorCode(
        "pepperpy.web.app",
        InvalidArgumentError,
        "PepperPyMiddleware was given an app that is not an ASGI callable.",
        "Pass the ASGI application (or use app.add_middleware(PepperPyMiddleware, web=...)).",
    ),
    ErrorCode(
        "pepperpy.web.web",
        InvalidArgumentError,
        "A middleware was given something other than a pepperpy.web.Web.",
        "Pass web=Web(...).",
    ),
    ErrorCode(
        "pepperpy.web.action",
        InvalidArgumentError,
        "requires()/permission() was given an action that is not a non-empty str.",
        'Name the action the policy checks, e.g. "docs:write".',
    ),
    ErrorCode(
        "pepperpy.web.no_security",
        InvalidArgumentError,
        "A permission check ran with no Web(security=...) serving the request (a 500).",
        "Pass security=Security(...) to the Web given to the middleware.",
    ),
)
"""The error codes pepperpy-web raises: code -> class, meaning and what to do.

Bad requests become problem-details responses with these codes; the
``InvalidArgumentError`` codes are raised where the service is put together.
Errors of other packages escaping a handler keep their own codes.
"""
