"""The errors raised by :mod:`pepperpy.net`.

::

    NetworkError (ExternalError)                 anything that went wrong on the wire
    ├── NetworkTimeoutError (OperationTimeoutError)   .phase says which limit fired
    │   ├── ConnectTimeoutError                   DNS + TCP/TLS connect took too long
    │   ├── ReadTimeoutError                      no bytes from the server for too long
    │   ├── TotalTimeoutError                     the whole request took too long
    │   ├── WriteTimeoutError                     the peer stopped accepting the body
    │   └── PoolTimeoutError                      no free connection slot in time
    ├── ConnectError                              the connection could not be opened
    ├── ConnectionClosedError                     the server dropped the connection
    ├── TLSError                                  certificate or handshake failure
    ├── HTTPStatusError                           raise_for_status() on a 4xx/5xx
    ├── ResponseTooLargeError                     the body exceeds the size limit
    ├── TooManyRedirectsError                     a redirect loop or chain too long
    ├── CircuitOpenError                          the host's circuit breaker is open
    ├── RateLimitExceededError                    the client-side rate limit refused
    ├── BlockedAddressError (SecurityError)       the SSRF guard refused an address
    └── WebSocketError
        ├── WebSocketClosedError                  the socket is closed for good
        └── WebSocketMessageTooLargeError         a message exceeded max_message_size
    HeaderInjectionError (InvalidArgumentError)   a header name/value is unsafe
    InvalidURLError (InvalidArgumentError)        a URL cannot be requested
    MissingDependencyError (ConfigurationError)   an optional sibling is not installed
"""

from __future__ import annotations

from typing import Any

from pepperpy.core.exceptions import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    OperationTimeoutError,
    SecurityError,
)

__all__ = [
    "BlockedAddressError",
    "CircuitOpenError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "HTTPStatusError",
    "HeaderInjectionError",
    "InvalidURLError",
    "MissingDependencyError",
    "NetworkError",
    "NetworkTimeoutError",
    "PoolTimeoutError",
    "RateLimitExceededError",
    "ReadTimeoutError",
    "ResponseTooLargeError",
    "TLSError",
    "TooManyRedirectsError",
    "TotalTimeoutError",
    "WebSocketClosedError",
    "WebSocketError",
    "WebSocketMessageTooLargeError",
    "WriteTimeoutError",
]


class NetworkError(ExternalError):
    """A request or connection failed; ``context`` names the method, URL and host."""

    code = "pepperpy.net.error"


class NetworkTimeoutError(NetworkError, OperationTimeoutError):
    """A network time limit fired; :attr:`phase` says which one.

    The phase is one of ``"connect"``, ``"read"``, ``"total"`` or ``"pool"``,
    matching the fields of :class:`~pepperpy.net.Timeout`.
    """

    code = "pepperpy.net.timeout"
    phase: str = "total"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault(
            "hint",
            f"Raise Timeout({self.phase}=...) for this request or client if the server "
            "is legitimately slow, or check that it is reachable.",
        )
        super().__init__(message, **kwargs)


class ConnectTimeoutError(NetworkTimeoutError):
    """Opening the connection (DNS, TCP and TLS handshakes) took too long."""

    code = "pepperpy.net.timeout.connect"
    phase = "connect"


class ReadTimeoutError(NetworkTimeoutError):
    """The server sent nothing for longer than the read timeout (headers or body)."""

    code = "pepperpy.net.timeout.read"
    phase = "read"


class TotalTimeoutError(NetworkTimeoutError):
    """The whole request, body included, took longer than the total timeout."""

    code = "pepperpy.net.timeout.total"
    phase = "total"


class WriteTimeoutError(NetworkTimeoutError):
    """The peer accepted no more of the request body for longer than the write timeout."""

    code = "pepperpy.net.timeout.write"
    phase = "write"


class PoolTimeoutError(NetworkTimeoutError):
    """No connection slot for the host became free within the pool timeout."""

    code = "pepperpy.net.timeout.pool"
    phase = "pool"
    retryable = False

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault(
            "hint",
            "Too many requests are in flight: raise Limits(max_connections=..., "
            "max_connections_per_host=...) or Timeout(pool=...), or send fewer at once.",
        )
        super().__init__(message, **kwargs)


class ConnectError(NetworkError):
    """The connection could not be opened (refused, unreachable, DNS failure)."""

    code = "pepperpy.net.connect"


class ConnectionClosedError(NetworkError):
    """The server closed the connection before the response was complete."""

    code = "pepperpy.net.connection_closed"


class TLSError(NetworkError):
    """The TLS handshake or certificate verification failed."""

    code = "pepperpy.net.tls"
    retryable = False
    hint = (
        "Check the server certificate; pass TLSConfig(ca_file=...) for a private CA. "
        "Turning verification off is never the fix."
    )


class HTTPStatusError(NetworkError):
    """The response has an error status (raised by ``Response.raise_for_status()``).

    Attributes:
        status: The HTTP status code.
    """

    code = "pepperpy.net.status"

    def __init__(self, message: str, *, status: int, **kwargs: Any) -> None:
        kwargs.setdefault("retryable", status in (429, 502, 503, 504))
        super().__init__(message, **kwargs)
        self.status = status


class ResponseTooLargeError(NetworkError):
    """The response body is larger than the configured limit."""

    code = "pepperpy.net.too_large"
    retryable = False
    hint = "Raise max_response_size for this request, or stream the body with client.stream()."


class TooManyRedirectsError(NetworkError):
    """More redirects than ``max_redirects`` were followed."""

    code = "pepperpy.net.redirects"
    retryable = False
    hint = "Check the URL for a redirect loop, or raise max_redirects."


class CircuitOpenError(NetworkError):
    """The host's circuit breaker is open: recent calls failed, so this one was not sent."""

    code = "pepperpy.net.circuit_open"
    hint = "The host is failing; wait for the breaker's recovery time, then try again."


class RateLimitExceededError(NetworkError):
    """The client-side rate limit would have to wait longer than allowed."""

    code = "pepperpy.net.rate_limited"
    hint = "Send fewer requests, or raise RateLimit(rate=..., max_wait=...)."


class BlockedAddressError(NetworkError, SecurityError):
    """The SSRF guard refused a private, loopback, link-local or reserved address."""

    code = "pepperpy.net.blocked_address"
    retryable = False
    hint = (
        "The URL points into a private network. If this host is trusted, add it to "
        "SSRFGuard(allow=[...]); never fetch user-supplied URLs without the guard."
    )


class WebSocketError(NetworkError):
    """A WebSocket connection or message failed."""

    code = "pepperpy.net.websocket"


class WebSocketClosedError(WebSocketError):
    """The WebSocket is closed and will not reconnect."""

    code = "pepperpy.net.websocket.closed"
    retryable = False


class WebSocketMessageTooLargeError(WebSocketError):
    """A WebSocket message was larger than the socket's ``max_message_size``.

    The peer's connection is closed with code 1009 (message too big), as
    aiohttp does; a :class:`~pepperpy.net.Reconnect` policy reconnects.
    """

    code = "pepperpy.net.websocket.message_too_large"
    retryable = False
    hint = (
        "Raise client.websocket(..., max_message_size=...) if such messages are "
        "expected, or ask the peer to send smaller ones."
    )


class HeaderInjectionError(InvalidArgumentError):
    """A header name or value contains characters that could inject headers."""

    code = "pepperpy.net.header_injection"
    hint = "Header names must be RFC 9110 tokens; values must not contain CR, LF or NUL."


class InvalidURLError(InvalidArgumentError):
    """A URL is malformed, relative without a base URL, or uses an unsupported scheme."""

    code = "pepperpy.net.invalid_url"
    hint = "Pass an absolute http(s) URL, or a path relative to the client's base_url."


class MissingDependencyError(ConfigurationError):
    """An optional PepperPy sibling needed for this call is not installed."""

    code = "pepperpy.net.missing_dependency"
