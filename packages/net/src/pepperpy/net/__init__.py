"""PepperPy net: an HTTP and WebSocket client on aiohttp with strict, safe defaults.

:class:`HttpClient` owns one pooled aiohttp session and adds what production
code otherwise writes by hand: per-phase timeouts that name the phase that
fired, retries on idempotent requests that honour ``Retry-After`` within a
retry budget, per-host circuit breakers, rate limits and connection limits,
streaming uploads and downloads with progress, response size limits, header
injection checks, an opt-in SSRF guard, middleware, and request-id
propagation through pepperpy.context::

    async with HttpClient("https://api.example.com") as client:
        user = await client.get_json("/users/1", type_=User)
"""

from __future__ import annotations

from pepperpy.net._auth import Auth, BasicAuth, BearerAuth, TokenProvider
from pepperpy.net._breaker import CircuitBreaker, CircuitBreakerConfig, CircuitState
from pepperpy.net._client import HttpClient
from pepperpy.net._config import Limits, Timeout, TLSConfig
from pepperpy.net._errors import (
    ERRORS,
    BlockedAddressError,
    CircuitOpenError,
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    HeaderInjectionError,
    HTTPStatusError,
    InvalidURLError,
    MissingDependencyError,
    NetworkError,
    NetworkTimeoutError,
    PoolTimeoutError,
    RateLimitExceededError,
    ReadTimeoutError,
    ResponseTooLargeError,
    TLSError,
    TooManyRedirectsError,
    TotalTimeoutError,
    WebSocketClosedError,
    WebSocketError,
    WebSocketMessageTooLargeError,
    WriteTimeoutError,
)
from pepperpy.net._models import Handler, Middleware, Progress, ProgressCallback, Request, Response
from pepperpy.net._ratelimit import RateLimit, TokenBucket
from pepperpy.net._retry import IDEMPOTENT_METHODS, RETRY_STATUSES, Retry, RetryBudget
from pepperpy.net._ssrf import SSRFGuard
from pepperpy.net._stats import ClientStats, HostStats
from pepperpy.net._version import __version__
from pepperpy.net._websocket import Reconnect, WebSocketClient, WebSocketStats

__all__ = [
    "ERRORS",
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "BlockedAddressError",
    "CircuitBreaker",
    "CircuitBreakerConfig",
    "CircuitOpenError",
    "CircuitState",
    "ClientStats",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "HTTPStatusError",
    "Handler",
    "HeaderInjectionError",
    "HostStats",
    "HttpClient",
    "InvalidURLError",
    "Limits",
    "Middleware",
    "MissingDependencyError",
    "NetworkError",
    "NetworkTimeoutError",
    "PoolTimeoutError",
    "Progress",
    "ProgressCallback",
    "RateLimit",
    "RateLimitExceededError",
    "ReadTimeoutError",
    "Reconnect",
    "Request",
    "Response",
    "ResponseTooLargeError",
    "Retry",
    "RetryBudget",
    "SSRFGuard",
    "TLSConfig",
    "TLSError",
    "Timeout",
    "TokenBucket",
    "TokenProvider",
    "TooManyRedirectsError",
    "TotalTimeoutError",
    "WebSocketClient",
    "WebSocketClosedError",
    "WebSocketError",
    "WebSocketMessageTooLargeError",
    "WebSocketStats",
    "WriteTimeoutError",
    "__version__",
]
