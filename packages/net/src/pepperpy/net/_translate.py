"""Translating aiohttp exceptions into :mod:`pepperpy.net` errors at the boundary."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError
from pepperpy.net._errors import (
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    InvalidURLError,
    NetworkError,
    ReadTimeoutError,
    TLSError,
    TooManyRedirectsError,
    TotalTimeoutError,
)

if TYPE_CHECKING:
    from pepperpy.net._models import Request

__all__ = ["ConnectionDroppedError", "no_hidden_resend", "translate_error"]


class ConnectionDroppedError(aiohttp.ClientConnectionError):
    """The connection dropped while sending or awaiting the response.

    Raised in place of aiohttp's ``ServerDisconnectedError`` / ``ClientOSError``
    by :func:`no_hidden_resend`, so aiohttp does not silently send the request
    a second time; the original error is the ``__cause__``.
    """


async def no_hidden_resend(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """An aiohttp client middleware: a dropped connection is not resent behind our back.

    aiohttp resends an idempotent request once when its connection drops
    (RFC 9112 section 9.3.1); that send bypasses the client's retry policy,
    budget and counters. Raising an error aiohttp does not retry leaves the
    decision, and the count, to :class:`~pepperpy.net.Retry`.
    """
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # never resent by aiohttp anyway; keeps its ConnectError meaning
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        raise ConnectionDroppedError(str(exc) or type(exc).__name__) from exc


def _context(request: Request | None, exc: BaseException) -> dict[str, Any]:
    ctx: dict[str, Any] = {"cause": type(exc).__name__}
    if request is not None:
        ctx = {"method": request.method, "url": str(request.url), "host": request.host, **ctx}
    return ctx


def translate_error(exc: BaseException, request: Request | None) -> BaseException:
    """Return the :mod:`pepperpy.net` error for *exc* (PepperPy errors pass through).

    The order matters: aiohttp's timeout errors subclass :class:`TimeoutError`,
    and its connector errors subclass :class:`OSError`.
    """
    if isinstance(exc, PepperPyError) or not isinstance(exc, Exception):
        return exc
    where = f"{request.method} {request.url}" if request is not None else "request"
    ctx = _context(request, exc)
    timeout = request.timeout if request is not None else None
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        limit = timeout.connect if timeout else None
        return ConnectTimeoutError(
            f"{where}: connecting took longer than the connect timeout ({limit}s)",
            context={**ctx, "timeout": limit},
        )
    if isinstance(exc, aiohttp.ServerTimeoutError):
        limit = timeout.read if timeout else None
        return ReadTimeoutError(
            f"{where}: the server sent nothing for longer than the read timeout ({limit}s)",
            context={**ctx, "timeout": limit},
        )
    if isinstance(exc, asyncio.TimeoutError):
        limit = timeout.total if timeout else None
        return TotalTimeoutError(
            f"{where}: the request took longer than the total timeout ({limit}s)",
            context={**ctx, "timeout": limit},
        )
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return TLSError(f"{where}: TLS failed: {exc}", context=ctx)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"{where}: cannot connect: {exc}", context=ctx)
    if isinstance(
        exc,
        (
            ConnectionDroppedError,
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
        ),
    ):
        return ConnectionClosedError(
            f"{where}: the connection was closed before the response was complete ({exc})",
            context=ctx,
        )
    if isinstance(exc, aiohttp.TooManyRedirects):
        return TooManyRedirectsError(f"{where}: too many redirects", context=ctx)
    if isinstance(exc, aiohttp.InvalidURL):
        return InvalidURLError(
            f"{where}: invalid URL: {exc}", context=ctx, hint="Pass an absolute http(s) URL."
        )
    if isinstance(exc, aiohttp.ClientError):
        return NetworkError(f"{where}: {type(exc).__name__}: {exc}", context=ctx)
    if isinstance(exc, ConnectionError):
        return ConnectionClosedError(f"{where}: connection error: {exc}", context=ctx)
    if isinstance(exc, ValueError):  # aiohttp refusing a header, method or body combination
        return InvalidArgumentError(
            f"{where}: aiohttp refused the request: {exc}",
            code="pepperpy.net.invalid_request",
            context=ctx,
            hint="Check the method, headers and body of this request.",
        )
    return exc
