"""RFC 9457 problem details: one mapping from errors to responses, for every framework."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import attrs

from pepperpy.core import (
    ConflictError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
    ValidationError,
    redact_text,
    safe_str,
)
from pepperpy.web._errors import HTTPError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "Problem",
    "default_status",
    "problem_for",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
"""The media type of problem-details responses (RFC 9457)."""

INTERNAL_CODE = "pepperpy.web.internal"
"""The code of a response for an exception that is not a PepperPyError."""

_AUTHENTICATION = "pepperpy.security.authentication"
_AUTHORIZATION = "pepperpy.security.authorization"
_MAX_DETAIL = 500
_INTERNAL_DETAIL = "The server could not complete the request."
_TIMEOUT_DETAIL = "The server did not complete the request in time."


@attrs.frozen
class Problem:
    """One problem-details response: status, extra headers and the JSON body.

    Attributes:
        status: The HTTP status.
        code: The error's stable code (also in the body).
        detail: A safe, redacted explanation for the client.
        request_id: The request id (also in the body), when known.
        errors: For validation failures, every problem as
            ``{"pointer": ..., "detail": ..., "code": ...}``.
        headers: Extra response headers (``WWW-Authenticate`` for 401).
    """

    status: int
    code: str
    detail: str
    request_id: str | None = None
    errors: tuple[Mapping[str, Any], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def title(self) -> str:
        """The standard reason phrase of :attr:`status`."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: ``type``, ``title``, ``status``, ``detail``, ``code``, ``request_id``."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.request_id is not None:
            body["request_id"] = self.request_id
        if self.errors:
            body["errors"] = [dict(e) for e in self.errors]
        return body

    def body(self) -> bytes:
        """The JSON body, encoded."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    def response_headers(self) -> list[tuple[str, str]]:
        """Every response header: the content type and :attr:`headers`."""
        return [("content-type", PROBLEM_CONTENT_TYPE), *self.headers]


def default_status(exc: BaseException) -> int:
    """The documented default HTTP status for *exc*.

    ==================================================  ======
    error                                               status
    ==================================================  ======
    :class:`~pepperpy.web.HTTPError` (bad input)        its ``status`` (400, 413, 415)
    ``ValidationError``                                 422
    ``NotFoundError``                                   404
    ``ConflictError``                                   409
    pepperpy-security's ``AuthenticationError``         401 (with ``WWW-Authenticate``)
    pepperpy-security's ``AuthorizationError``          403
    ``OperationTimeoutError``                           504
    anything else                                       500
    ==================================================  ======

    The two security errors are recognised by their stable codes, so this
    module does not need pepperpy-security installed.
    """
    if isinstance(exc, HTTPError):
        return exc.status
    if isinstance(exc, ValidationError):
        return 422
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, PepperPyError):
        code = exc.code if isinstance(exc.code, str) else ""
        if code == _AUTHENTICATION or code.startswith(_AUTHENTICATION + "."):
            return 401
        if code == _AUTHORIZATION or code.startswith(_AUTHORIZATION + "."):
            return 403
    if isinstance(exc, OperationTimeoutError):
        return 504
    return 500


def _status_from(exc: BaseException, statuses: Mapping[type[BaseException], int]) -> int:
    for cls in type(exc).__mro__:
        status = statuses.get(cls)
        if status is not None:
            return status
    return default_status(exc)


def _pointer(path: str) -> str:
    return path if path.startswith("/") or path == "" else "/" + path


def problem_for(
    exc: BaseException,
    *,
    request_id: str | None = None,
    statuses: Mapping[type[BaseException], int] | None = None,
) -> Problem:
    """The problem details for *exc* escaping a handler.

    Client errors (4xx) carry the error's code and its message, redacted by
    pepperpy-core's shared redactor; validation errors list every problem
    with its JSON pointer. Server errors (5xx) carry the code and a fixed
    sentence: nothing from the server's internals. An exception that is not a
    :class:`~pepperpy.core.PepperPyError` is a 500 with code
    ``pepperpy.web.internal``.

    Args:
        exc: The exception.
        request_id: Put in the body as ``request_id``.
        statuses: Overrides of :func:`default_status` by exception class
            (the most derived class listed wins).
    """
    status = _status_from(exc, statuses or {})
    if not isinstance(exc, PepperPyError):
        return Problem(status, INTERNAL_CODE, _INTERNAL_DETAIL, request_id)
    code = exc.code if isinstance(exc.code, str) else INTERNAL_CODE
    if status >= 500:
        detail = _TIMEOUT_DETAIL if status == 504 else _INTERNAL_DETAIL
        return Problem(status, code, detail, request_id)
    detail = safe_str(redact_text(safe_str(exc.message)), _MAX_DETAIL)
    errors: tuple[Mapping[str, Any], ...] = ()
    if isinstance(exc, ValidationError):
        errors = tuple(
            {
                "pointer": _pointer(safe_str(e.path)),
                "detail": safe_str(redact_text(safe_str(e.message)), _MAX_DETAIL),
                "code": safe_str(e.code),
            }
            for e in exc.errors
        )
    headers: tuple[tuple[str, str], ...] = ()
    if status == 401:
        error = "invalid_request" if code == "pepperpy.web.bad_authorization" else "invalid_token"
        if code == "pepperpy.web.missing_credentials":
            headers = (("www-authenticate", "Bearer"),)
        else:
            headers = (("www-authenticate", f'Bearer error="{error}"'),)
    return Problem(status, code, detail, request_id, errors, headers)
