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
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    OperationTimeoutError,
    SecurityError,
    ValidationError,
)

__all__ = [
    "ERRORS",
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


ERRORS = ErrorCatalogue(
    "pepperpy.net",
    # ---- the error classes' own codes
    ErrorCode(
        "pepperpy.net.error",
        NetworkError,
        "A request or connection failed in a way no more specific code names.",
        "Read the message and context (method, URL, host); retry if it is transient.",
    ),
    ErrorCode(
        "pepperpy.net.timeout",
        NetworkTimeoutError,
        "A network time limit fired (the base of the per-phase timeout codes).",
        "Check error.phase; raise that Timeout field if the server is legitimately slow.",
    ),
    ErrorCode(
        "pepperpy.net.timeout.connect",
        ConnectTimeoutError,
        "Opening the connection (DNS, TCP, TLS) took longer than Timeout.connect.",
        "Check that the host is reachable, or raise Timeout(connect=...).",
    ),
    ErrorCode(
        "pepperpy.net.timeout.read",
        ReadTimeoutError,
        "The server sent nothing (headers or body) for longer than Timeout.read.",
        "Raise Timeout(read=...) for a slow server; idempotent requests are retried.",
    ),
    ErrorCode(
        "pepperpy.net.timeout.total",
        TotalTimeoutError,
        "The whole request, body included, took longer than Timeout.total.",
        "Raise Timeout(total=...), or stream large bodies with client.stream().",
    ),
    ErrorCode(
        "pepperpy.net.timeout.write",
        WriteTimeoutError,
        "The peer accepted no more of the request body for longer than Timeout.write.",
        "Check the server is reading the upload, or raise Timeout(write=...).",
    ),
    ErrorCode(
        "pepperpy.net.timeout.pool",
        PoolTimeoutError,
        "No connection slot became free within Timeout.pool (too many requests in flight).",
        "Send fewer requests at once, or raise Limits(max_connections...) or Timeout(pool=...).",
    ),
    ErrorCode(
        "pepperpy.net.connect",
        ConnectError,
        "The connection could not be opened (refused, unreachable, DNS failure).",
        "Check the host name, port and network; idempotent requests are retried.",
    ),
    ErrorCode(
        "pepperpy.net.connection_closed",
        ConnectionClosedError,
        "The server (or a stopping client) closed the connection before the response ended.",
        "Retry if the request is idempotent; read bodies before stopping the client.",
    ),
    ErrorCode(
        "pepperpy.net.tls",
        TLSError,
        "The TLS handshake or certificate verification failed.",
        "Fix the server certificate or pass TLSConfig(ca_file=...) for a private CA.",
    ),
    ErrorCode(
        "pepperpy.net.status",
        HTTPStatusError,
        "raise_for_status() (or get_json/post_json/download) met a 4xx or 5xx status.",
        "Check error.status: change the request for 4xx; 5xx may pass on retry.",
    ),
    ErrorCode(
        "pepperpy.net.too_large",
        ResponseTooLargeError,
        "The response body is larger than max_response_size; reading stopped there.",
        "Raise max_response_size for this request, or stream the body.",
    ),
    ErrorCode(
        "pepperpy.net.redirects",
        TooManyRedirectsError,
        "More redirects than max_redirects were followed (a loop or a long chain).",
        "Check the URL for a redirect loop, or raise max_redirects.",
    ),
    ErrorCode(
        "pepperpy.net.circuit_open",
        CircuitOpenError,
        "The host's circuit breaker is open after repeated failures; nothing was sent.",
        "Wait for the breaker's recovery time (context retry_in), then try again.",
    ),
    ErrorCode(
        "pepperpy.net.rate_limited",
        RateLimitExceededError,
        "The client-side rate limit would have to wait longer than RateLimit.max_wait.",
        "Send fewer requests, or raise RateLimit(rate=..., max_wait=...).",
    ),
    ErrorCode(
        "pepperpy.net.blocked_address",
        BlockedAddressError,
        "The SSRF guard refused a private, loopback, link-local or reserved address.",
        "Do not fetch that URL; if the host is trusted, add it to SSRFGuard(allow=[...]).",
    ),
    ErrorCode(
        "pepperpy.net.websocket",
        WebSocketError,
        "A WebSocket connection or message failed.",
        "Read the message; a Reconnect policy reconnects after transient failures.",
    ),
    ErrorCode(
        "pepperpy.net.websocket.closed",
        WebSocketClosedError,
        "The WebSocket is closed and will not reconnect.",
        "Open a new socket with client.websocket(...) if you need one.",
    ),
    ErrorCode(
        "pepperpy.net.websocket.message_too_large",
        WebSocketMessageTooLargeError,
        "A WebSocket message was larger than max_message_size (closed with 1009).",
        "Raise max_message_size if such messages are expected, or ask for smaller ones.",
    ),
    ErrorCode(
        "pepperpy.net.header_injection",
        HeaderInjectionError,
        "A header name is not an RFC 9110 token, or a value is not a str or holds CR/LF/NUL.",
        "Pass token names and single-line str values (never unchecked user input).",
    ),
    ErrorCode(
        "pepperpy.net.invalid_url",
        InvalidURLError,
        "A URL is malformed, relative without a base_url, or not http(s)/ws(s).",
        "Pass an absolute http(s) URL, or a path relative to the client's base_url.",
    ),
    ErrorCode(
        "pepperpy.net.missing_dependency",
        MissingDependencyError,
        "An optional PepperPy sibling needed for this call is not installed.",
        "Install the extra the message names (e.g. pepperpy-net[serialization]).",
    ),
    # ---- specific codes raised at call sites
    ErrorCode(
        "pepperpy.net.invalid_argument",
        InvalidArgumentError,
        "A client or WebSocket argument has the wrong type or value (the message names it).",
        "Fix the argument the message and context name.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_limit",
        InvalidArgumentError,
        "limits= is not a Limits, a Limits field is out of range, or max_response_size <= 0.",
        "Pass Limits(...) with positive values, and a positive max_response_size (or None).",
    ),
    ErrorCode(
        "pepperpy.net.invalid_timeout",
        InvalidArgumentError,
        "A Timeout field (or the timeout= seconds) is negative, NaN or not a number.",
        "Pass positive seconds, e.g. Timeout(connect=5, read=30).",
    ),
    ErrorCode(
        "pepperpy.net.invalid_retry",
        InvalidArgumentError,
        "A Retry setting (attempts, backoff, statuses, budget) is out of range.",
        "Fix the Retry(...) field the message names.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_breaker",
        InvalidArgumentError,
        "A CircuitBreakerConfig setting is out of range.",
        "Fix the CircuitBreakerConfig(...) field the message names.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_rate_limit",
        InvalidArgumentError,
        "A RateLimit setting (rate, burst, max_wait) is out of range.",
        "Fix the RateLimit(...) field the message names.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_metrics",
        InvalidArgumentError,
        "metrics= is not a pepperpy.telemetry.Metrics registry.",
        "Pass a pepperpy.telemetry.Metrics instance, or None.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_ssrf_allow",
        InvalidArgumentError,
        "An SSRFGuard allow entry is not an IP address, a CIDR network or ip:port.",
        "Use forms like '10.1.2.3', '10.0.0.0/8' or '127.0.0.1:8080'.",
    ),
    ErrorCode(
        "pepperpy.net.tls_config",
        InvalidArgumentError,
        "TLSConfig could not load its CA file or client certificate.",
        "Point ca_file / client_cert / client_key at readable PEM files.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_auth",
        InvalidArgumentError,
        "auth= is not an Auth hook or (user, password) pair, or its credentials are invalid.",
        "Use BearerAuth(token) or BasicAuth(user, password) with str values.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_headers",
        InvalidArgumentError,
        "headers= is not a mapping of names to values.",
        'Pass a dict such as {"Accept": "application/json"}.',
    ),
    ErrorCode(
        "pepperpy.net.invalid_params",
        InvalidArgumentError,
        "params= cannot become a query string.",
        "Pass a mapping of str keys to str, int or float values (or lists of them).",
    ),
    ErrorCode(
        "pepperpy.net.invalid_method",
        InvalidArgumentError,
        "The HTTP method is not an RFC 9110 token.",
        "Pass a method such as 'GET' or 'POST'.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_body",
        InvalidArgumentError,
        "The request body is invalid: several of json=/data=/content=, or one of an unusable type.",
        "Pass one body argument: json=, a data= mapping, or content= bytes/str/Path/iterable.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_json_body",
        InvalidArgumentError,
        "A value sent as JSON (json= or a WebSocket message) holds NaN, infinity, a lone "
        "surrogate or nests too deeply.",
        "Send JSON data: finite numbers, valid text, reasonable nesting.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_request",
        InvalidArgumentError,
        "aiohttp refused the request's method, header or body combination.",
        "Check the method, headers and body of the request.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_message",
        InvalidArgumentError,
        "A WebSocket message does not fit the socket's mode (str for text, bytes for bytes).",
        "Send str in mode='text', bytes in mode='bytes', JSON data in mode='json'.",
    ),
    ErrorCode(
        "pepperpy.net.invalid_json",
        ValidationError,
        "A response body is not JSON, or does not fit the type_ asked for.",
        "Check the server's answer (content type, status) before decoding it as JSON.",
    ),
    ErrorCode(
        "pepperpy.net.websocket.invalid_json",
        ValidationError,
        "A WebSocket message received in mode='json' is not valid JSON.",
        "Use mode='text' for non-JSON messages, or fix the peer.",
    ),
    ErrorCode(
        "pepperpy.net.websocket.backpressure",
        WebSocketError,
        "The WebSocket send queue is full (the peer reads slower than you send).",
        "Await ws.send(...) to wait for room, slow down, or raise send_queue_size.",
    ),
    ErrorCode(
        "pepperpy.net.websocket.receive_timeout",
        OperationTimeoutError,
        "No WebSocket message arrived within receive(timeout=...).",
        "Receive again, or raise the timeout if the peer is legitimately quiet.",
    ),
    ErrorCode(
        "pepperpy.net.websocket.flush_timeout",
        OperationTimeoutError,
        "Queued WebSocket messages were still unsent when the flush timeout ran out.",
        "Give the peer longer, or check that it is still reading.",
    ),
    ErrorCode(
        "pepperpy.net.redirect_body",
        NetworkError,
        "A 307/308 redirect would resend a streamed request body, which cannot be replayed.",
        "Send the body as bytes, or request the final URL directly.",
    ),
    ErrorCode(
        "pepperpy.net.ssrf_proxy",
        BlockedAddressError,
        "The SSRF guard refused a request through a proxy (the proxy would pick the address).",
        "Do not combine a proxy with the SSRF guard, or drop the proxy for untrusted URLs.",
    ),
)
"""The error codes pepperpy-net raises: code -> :class:`~pepperpy.core.exceptions.ErrorCode`.

``ERRORS[error.code]`` says which class carries a code, what it means and what
to do about it; the docs' Errors page is generated from it.
"""
