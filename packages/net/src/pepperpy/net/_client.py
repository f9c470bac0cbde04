"""The HTTP client: one pooled aiohttp session with timeouts, retries and guards."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
import warnings
import weakref
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, Lifecycle, Missing, system_clock
from pepperpy.net._auth import Auth, BasicAuth
from pepperpy.net._breaker import CircuitBreaker, CircuitBreakerConfig, CircuitState
from pepperpy.net._config import Limits, Timeout, TLSConfig, aiohttp_timeout
from pepperpy.net._connector import Connector
from pepperpy.net._errors import (
    CircuitOpenError,
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    InvalidURLError,
    NetworkError,
    NetworkTimeoutError,
    PoolTimeoutError,
    ReadTimeoutError,
    TLSError,
    TooManyRedirectsError,
    WriteTimeoutError,
)
from pepperpy.net._metrics import ClientMetrics
from pepperpy.net._models import (
    Body,
    Handler,
    Middleware,
    ProgressCallback,
    Request,
    Response,
    check_headers,
)
from pepperpy.net._ratelimit import RateLimit, TokenBucket
from pepperpy.net._retry import Retry, RetryBudget, parse_retry_after
from pepperpy.net._serial import context_injector, encode_json
from pepperpy.net._slots import Slots
from pepperpy.net._ssrf import SSRFGuard
from pepperpy.net._stats import ClientStats, HostStats
from pepperpy.net._streams import FileSink, coerce_content, with_progress
from pepperpy.net._translate import no_hidden_resend, translate_error
from pepperpy.net._version import __version__

if TYPE_CHECKING:
    from types import FrameType, TracebackType

    from aiohttp.abc import AbstractResolver

    from pepperpy.net._websocket import Reconnect, WebSocketClient

__all__ = ["HttpClient"]

T = TypeVar("T")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_RETRYABLE_ERRORS = (
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    WriteTimeoutError,
)
# Failures of the host, for its circuit breaker: every timeout counts (a hanging
# host must open the circuit), except waiting for a local connection slot.
_HOST_FAILURES = (ConnectError, ConnectionClosedError, TLSError, NetworkTimeoutError)
_WATCHED_BODY = 64 * 1024  # bytes bodies above this are sent in watched chunks
_PKG_DIR = os.path.dirname(__file__)
_CORE_DIR = os.path.join(os.path.dirname(_PKG_DIR), "core")
_DEFAULT_TIMEOUT = Timeout()
_DEFAULT_LIMITS = Limits()
_DEFAULT_RETRY = Retry()
_DEFAULT_BREAKER = CircuitBreakerConfig()
_DEFAULT_TLS = TLSConfig()


def _creation_site() -> str:
    """Return ``file:line in function`` of the first caller outside pepperpy (no file I/O)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((_PKG_DIR, _CORE_DIR)):
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "<unknown>"


class _Host:
    """Per-host state: slots, rate limiter, circuit breaker and counters."""

    __slots__ = (
        "breaker",
        "bucket",
        "errors",
        "in_flight",
        "metrics",
        "name",
        "rate_limited",
        "rejected_by_breaker",
        "requests",
        "responses",
        "retries",
        "retries_denied",
        "shared",
        "slots",
        "statuses",
    )

    def __init__(
        self,
        name: str,
        slots: Slots | None,
        shared: Slots,
        bucket: TokenBucket | None,
        breaker: CircuitBreaker | None,
        metrics: ClientMetrics | None,
    ) -> None:
        self.name = name
        self.slots = slots
        self.shared = shared
        self.bucket = bucket
        self.breaker = breaker
        self.metrics = metrics
        self.requests = self.responses = self.errors = 0
        self.retries = self.retries_denied = self.rejected_by_breaker = 0
        self.rate_limited = self.in_flight = 0
        self.statuses: Counter[int] = Counter()

    def finish(self, status: int, error: BaseException | None) -> None:
        """Record one response's outcome and give back its slots (``Response`` calls it).

        The outcome is recorded once the body is read (or abandoned), so a
        body that stalls or drops counts as the host failure it is, whether
        ``request()`` read it or the caller streamed it; *error* is what ended
        the read, ``None`` when it completed or the caller closed it early. A
        cancelled read is no verdict: a half-open trial slot is handed back.
        """
        breaker = self.breaker
        if isinstance(error, NetworkError):
            self.errors += 1
        if breaker is not None:
            if isinstance(error, _HOST_FAILURES):
                breaker.record(False)
            elif isinstance(error, asyncio.CancelledError):
                breaker.release()  # the caller gave up: no verdict on the host
            else:
                breaker.record(status not in breaker.config.failure_statuses)
        self.release()

    def release(self) -> None:
        """Give back the connection slots of one finished request."""
        self.in_flight -= 1
        if self.slots is not None:
            self.slots.release()
        self.shared.release()
        if self.metrics is not None:
            self.metrics.slots(self.name, self.in_flight)

    def snapshot(self) -> HostStats:
        return HostStats(
            requests=self.requests,
            responses=self.responses,
            errors=self.errors,
            retries=self.retries,
            retries_denied=self.retries_denied,
            rejected_by_breaker=self.rejected_by_breaker,
            rate_limited=self.rate_limited,
            in_flight=self.in_flight,
            circuit=self.breaker.state if self.breaker is not None else CircuitState.CLOSED,
            statuses=dict(self.statuses),
        )


class _Options:
    """Per-call options that do not travel on the Request."""

    __slots__ = ("auth", "follow", "force_retry", "retry")

    def __init__(
        self, auth: Auth | None, retry: Retry | None, force_retry: bool, follow: bool
    ) -> None:
        self.auth = auth
        self.retry = retry
        self.force_retry = force_retry
        self.follow = follow


class HttpClient(Lifecycle):
    """An HTTP client owning one pooled aiohttp session, with strict safe defaults.

    Use it as ``async with HttpClient(...) as client:`` (or ``start()`` /
    ``stop()``); requests on a client that is not running raise
    :class:`~pepperpy.core.ClosedError`. A client that is garbage collected
    while still open emits one :class:`ResourceWarning` naming the line that
    created it, then closes its connections.

    Every request gets, in order: the base URL and default headers, the
    pepperpy.context request-id headers (when pepperpy-context is installed),
    header-injection checks, the SSRF guard, the per-host circuit breaker,
    rate limiter and connection slot (bounded by the pool timeout), the
    auth hook and the middleware chain, then aiohttp. Failed attempts are
    retried by the :class:`~pepperpy.net.Retry` policy; redirects are
    followed by the client itself so each hop is checked.

    Args:
        base_url: Prefix for relative URLs (``"https://api.example.com/v1"``).
        headers: Default headers for every request.
        auth: An :class:`~pepperpy.net.Auth` hook, or ``(user, password)`` for Basic.
        timeout: Default :class:`~pepperpy.net.Timeout` (or seconds for every phase).
        limits: Connection pool :class:`~pepperpy.net.Limits`.
        retry: The :class:`~pepperpy.net.Retry` policy; ``None`` disables retries.
        circuit_breaker: Per-host breaker thresholds; ``None`` disables it.
        rate_limit: A per-host :class:`~pepperpy.net.RateLimit`; ``None`` for none.
        tls: :class:`~pepperpy.net.TLSConfig` (verification is on by default).
        ssrf_guard: ``True`` or an :class:`~pepperpy.net.SSRFGuard` to refuse
            non-public addresses (for user-supplied URLs).
        max_response_size: Largest body read, in bytes or a size string
            (``"64MiB"``); ``None`` removes the limit.
        follow_redirects: Follow 3xx redirects (per request overridable).
        max_redirects: Redirects followed before TooManyRedirectsError.
        middleware: ``async def mw(request, call_next) -> Response`` hooks,
            outermost first; they run for every attempt.
        propagate_context: Send the pepperpy.context request id / traceparent.
        user_agent: The default ``User-Agent``.
        resolver: A custom aiohttp DNS resolver (the SSRF guard wraps it).
        cookies: Keep cookies the servers set and send them back (a jar per
            client, IP hosts included). Off by default, so no hidden state
            links one request to the next.
        metrics: A ``pepperpy.telemetry.Metrics`` registry to record request,
            latency, retry and in-flight metrics into (``None``: stats only).
        clock: Time source for backoff, rate limits and breakers.
    """

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Auth | tuple[str, str] | None = None,
        timeout: Timeout | float = _DEFAULT_TIMEOUT,
        limits: Limits = _DEFAULT_LIMITS,
        retry: Retry | bool | None = _DEFAULT_RETRY,
        circuit_breaker: CircuitBreakerConfig | bool | None = _DEFAULT_BREAKER,
        rate_limit: RateLimit | None = None,
        tls: TLSConfig = _DEFAULT_TLS,
        ssrf_guard: SSRFGuard | bool = False,
        max_response_size: int | str | None = "64MiB",
        follow_redirects: bool = True,
        max_redirects: int = 10,
        middleware: Sequence[Middleware] = (),
        propagate_context: bool = True,
        user_agent: str | None = f"pepperpy-net/{__version__}",
        resolver: AbstractResolver | None = None,
        cookies: bool = False,
        metrics: Any = None,
        clock: Clock = system_clock,
    ) -> None:
        self._cookies = cookies
        self._created_at = _creation_site()
        self._metrics = ClientMetrics(metrics) if metrics is not None else None
        self._session: aiohttp.ClientSession | None = None
        self._base_url = self._parse_base(base_url)
        default_headers: CIMultiDict[str] = CIMultiDict()
        if user_agent:
            default_headers["User-Agent"] = user_agent
        if headers:
            check_headers(headers, where="default")
            default_headers.update(headers)
        self._headers = default_headers
        self._auth = self._coerce_auth(auth)
        self._timeout = Timeout.coerce(timeout)
        self._client_timeout = aiohttp_timeout(self._timeout)
        if not isinstance(limits, Limits):
            raise InvalidArgumentError(
                "limits must be a pepperpy.net.Limits", code="pepperpy.net.invalid_limit"
            )
        self._limits = limits
        if retry is True:
            retry = _DEFAULT_RETRY
        elif retry is False:
            retry = None
        if circuit_breaker is True:
            circuit_breaker = _DEFAULT_BREAKER
        elif circuit_breaker is False:
            circuit_breaker = None
        _check_type("retry", retry, Retry)
        _check_type("circuit_breaker", circuit_breaker, CircuitBreakerConfig)
        _check_type("rate_limit", rate_limit, RateLimit)
        _check_type("tls", tls, TLSConfig, optional=False)
        for hook in middleware:
            if not callable(hook):
                raise InvalidArgumentError(
                    f"middleware must be async functions, got {type(hook).__name__}",
                    code="pepperpy.net.invalid_argument",
                    context={"middleware": safe_repr(hook)},
                    hint="Pass async def mw(request, call_next) -> Response functions.",
                )
        self._retry = retry
        self._breaker_config = circuit_breaker
        self._rate_limit = rate_limit
        self._tls = tls
        self._ssl = tls.build()
        if ssrf_guard is True:
            ssrf_guard = SSRFGuard()
        self._guard: SSRFGuard | None = ssrf_guard or None
        self._max_size = self._parse_size(max_response_size)
        self._follow = follow_redirects
        if (
            isinstance(max_redirects, bool)
            or not isinstance(max_redirects, int)
            or max_redirects < 0
        ):
            raise InvalidArgumentError(
                "max_redirects must be an integer >= 0",
                code="pepperpy.net.invalid_argument",
                context={"max_redirects": max_redirects},
            )
        self._max_redirects = max_redirects
        self._middleware = tuple(middleware)
        self._propagate = propagate_context
        self._resolver = resolver
        self._clock = clock
        self._hosts: dict[tuple[str, str, int | None], _Host] = {}
        self._slots = Slots(limits.max_connections)
        self._budget = RetryBudget(
            retry.budget_ratio if retry else 0.0,
            retry.budget_min_per_second if retry else 0.0,
            clock=clock,
        )
        self._sockets: weakref.WeakSet[WebSocketClient] = weakref.WeakSet()
        # Responses whose body is being read or may still be: stop() wakes their
        # readers. Each leaves the set when read or released.
        self._live: set[Response] = set()
        self._chain: Handler = self._build_chain()
        self._urls: dict[str, URL] = {}
        self._inject = context_injector() if propagate_context else None
        self._default_options = _Options(self._auth, retry, False, follow_redirects)

    # ----------------------------------------------------------------- setup

    @staticmethod
    def _parse_base(base_url: str | URL | None) -> URL | None:
        if base_url is None:
            return None
        url = base_url if isinstance(base_url, URL) else URL(str(base_url))
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidURLError(
                f"base_url must be an absolute http(s) URL, not {str(base_url)!r}",
                context={"base_url": str(base_url)},
                hint="Pass something like 'https://api.example.com/v1'.",
            )
        return url

    @staticmethod
    def _parse_size(value: int | str | None) -> int | None:
        if value is None:
            return None
        from pepperpy.core.utils import parse_size

        size = parse_size(value)
        if size <= 0:
            raise InvalidArgumentError(
                "max_response_size must be positive (or None for no limit)",
                code="pepperpy.net.invalid_limit",
                context={"max_response_size": value},
            )
        return size

    @staticmethod
    def _coerce_auth(auth: Auth | tuple[str, str] | None) -> Auth | None:
        if auth is None:
            return None
        if isinstance(auth, tuple) and len(auth) == 2:
            return BasicAuth(*auth)
        if not hasattr(auth, "apply"):
            raise InvalidArgumentError(
                f"auth must be an Auth hook or a (user, password) tuple, not {type(auth).__name__}",
                code="pepperpy.net.invalid_auth",
                hint="Use BearerAuth(token) or BasicAuth(user, password).",
            )
        return auth

    def _build_chain(self) -> Handler:
        handler: Handler = self._transmit
        for middleware in reversed(self._middleware):
            handler = _link(middleware, handler)
        return handler

    async def _on_start(self) -> None:
        limits = self._limits
        options: dict[str, Any] = {
            "limit": limits.max_connections,
            "limit_per_host": limits.max_connections_per_host,
            "use_dns_cache": limits.dns_cache_ttl > 0,
            "ttl_dns_cache": max(1, round(limits.dns_cache_ttl)) if limits.dns_cache_ttl else None,
            "keepalive_timeout": limits.keepalive if limits.keepalive > 0 else None,
            "force_close": limits.keepalive == 0,
            "ssl": self._ssl,
            "resolver": self._resolver,
        }
        # The guard sits in the connector, where every connection is made: each
        # request, redirect hop, WebSocket handshake and use of .session.
        connector = Connector(self._guard, **options)
        self._session = aiohttp.ClientSession(
            connector=connector,
            # every send goes through our Retry policy and budget, none through
            # aiohttp's own resend of a dropped idempotent request
            middlewares=(no_hidden_resend,),
            # cookies are opt-in: without them no hidden state links two requests
            cookie_jar=aiohttp.CookieJar(unsafe=True)
            if self._cookies
            else aiohttp.DummyCookieJar(),
            timeout=self._client_timeout,
            trust_env=False,
            raise_for_status=False,
            auto_decompress=True,
        )
        self._slots = Slots(limits.max_connections)
        self._hosts.clear()

    async def _on_stop(self) -> None:
        live, self._live = self._live, set()
        for response in live:
            if not response.closed:
                # aiohttp drops a body's reader when it closes the connection,
                # without waking it: a read in progress would wait for its timeout
                response.raw.content.set_exception(
                    ConnectionClosedError(
                        f"{response.request.method} {response.url}: the client was "
                        "stopped before the body was read",
                        context={"method": response.request.method, "url": str(response.url)},
                        hint="Read the body before stopping the client.",
                        retryable=False,
                    )
                )
        for socket in list(self._sockets):
            try:
                await socket.stop()
            except Exception:  # closing the session below is what matters
                pass
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        session = getattr(self, "_session", None)
        if session is None or session.closed:
            return
        try:
            _warn(
                f"HttpClient created at {self._created_at} was never closed; use "
                "'async with HttpClient(...)' or 'await client.stop()'",
                ResourceWarning,
                source=self,
            )
        finally:
            try:
                connector = session.connector
                session.detach()  # aiohttp must not warn a second time
                if connector is not None:
                    connector._close()
            except Exception:
                pass

    # ----------------------------------------------------------------- properties

    @property
    def base_url(self) -> URL | None:
        """The base URL relative URLs are resolved against."""
        return self._base_url

    @property
    def headers(self) -> CIMultiDict[str]:
        """A copy of the default headers."""
        return CIMultiDict(self._headers)

    @property
    def timeout(self) -> Timeout:
        """The default timeouts."""
        return self._timeout

    @property
    def session(self) -> aiohttp.ClientSession:
        """The underlying :class:`aiohttp.ClientSession` (an escape hatch).

        Raises:
            ClosedError: The client is not running.
        """
        self._ensure_running()
        assert self._session is not None
        return self._session

    def circuit_state(self, url: str | URL) -> CircuitState:
        """The circuit breaker state for *url*'s host."""
        return self._host_for(self._merge_url(url)).snapshot().circuit

    def stats(self) -> ClientStats:
        """Return a snapshot of the client's counters, per host and in total."""
        hosts = {host.name: host.snapshot() for host in self._hosts.values()}
        connector = self._session.connector if self._session is not None else None
        in_use = sum(h.in_flight for h in hosts.values())  # each holds one connection
        if isinstance(connector, Connector) and not connector.closed:
            open_ = max(in_use, connector.open_connections)
        else:
            open_ = in_use = 0
        return ClientStats(
            requests=sum(h.requests for h in hosts.values()),
            responses=sum(h.responses for h in hosts.values()),
            errors=sum(h.errors for h in hosts.values()),
            retries=sum(h.retries for h in hosts.values()),
            retries_denied=sum(h.retries_denied for h in hosts.values()),
            in_flight=sum(h.in_flight for h in hosts.values()),
            connections_open=open_,
            connections_in_use=in_use,
            retry_budget=self._budget.available,
            hosts=hosts,
        )

    # ----------------------------------------------------------------- building

    def _merge_url(self, url: str | URL) -> URL:
        if isinstance(url, URL):
            target = url
        else:
            if not isinstance(url, str):
                raise InvalidURLError(
                    f"url must be a str or yarl.URL, not {type(url).__name__}",
                    context={"url": repr(url)[:80]},
                )
            try:
                target = URL(url)
            except (ValueError, TypeError) as exc:
                raise InvalidURLError(f"invalid URL {url!r}: {exc}", context={"url": url}) from exc
        if target.scheme or target.is_absolute():
            if target.scheme not in ("http", "https") or not target.host:
                raise InvalidURLError(
                    f"unsupported URL scheme {target.scheme!r} in {str(target)!r}",
                    context={"url": str(target)},
                    hint="Use http:// or https:// (websocket() takes ws:// and wss://).",
                )
            return target
        base = self._base_url
        if base is None:
            raise InvalidURLError(
                f"relative URL {str(target)!r} needs a base_url",
                context={"url": str(target)},
                hint="Pass an absolute URL, or create the client with base_url=...",
            )
        path = str(target)
        if not path:
            return base
        joined = (
            str(base).rstrip("/") + "/" + path.lstrip("/")
            if path[0] not in "?#"
            else (str(base) + path)
        )
        return URL(joined)

    def _cache_url(self, url: str) -> URL:
        target = self._merge_url(url)
        if len(self._urls) >= 512:
            self._urls.clear()
        self._urls[url] = target
        return target

    def _dispatch(
        self, method: str, url: str | URL, kwargs: dict[str, Any]
    ) -> Coroutine[Any, Any, Response]:
        """Route a verb helper to :meth:`request`, the one request path."""
        return self.request(method, url, **kwargs)

    def _build(
        self,
        method: str,
        url: str | URL,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        content: Any,
        timeout: Timeout | float | None,
        idempotency_key: str | None,
        max_response_size: int | str | Missing | None,
        upload_progress: ProgressCallback | None,
        stream: bool,
    ) -> Request:
        if isinstance(url, str):
            cached = self._urls.get(url)
            target = self._cache_url(url) if cached is None else cached
        else:
            target = self._merge_url(url)
        if params:
            try:
                target = target.extend_query(params)
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentError(
                    f"params cannot become a query string: {exc}",
                    code="pepperpy.net.invalid_params",
                    hint="Use a mapping of str keys to str, int or float values (or lists).",
                ) from None
        merged = self._headers.copy()
        if self._inject is not None:
            self._inject(merged)  # context headers first: explicit ones below win
        if headers:
            check_headers(headers)
            merged.update(headers)
        given = (json is not MISSING) + (data is not None) + (content is not None)
        if given > 1:
            raise InvalidArgumentError(
                "pass only one of json=, data= and content=",
                code="pepperpy.net.invalid_body",
            )
        body: Body = None
        length: int | None = None
        if json is not MISSING:
            body = encode_json(json)
            length = len(body)
            merged.setdefault("Content-Type", "application/json")
        elif data is not None:
            try:
                body = urlencode(data, doseq=True).encode()
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentError(
                    f"data= cannot be form-encoded: {exc}",
                    code="pepperpy.net.invalid_body",
                    hint="Pass a mapping of field names to values (or pairs).",
                ) from None
            length = len(body)
            merged.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif content is not None:
            body, length = coerce_content(content)
            if length is not None and not isinstance(body, bytes):
                merged["Content-Length"] = str(length)
        if upload_progress is not None and body is not None:
            source: AsyncIterable[bytes] = _chunks(body) if isinstance(body, bytes) else body
            body = with_progress(source, length, upload_progress)
            if length is not None:
                merged["Content-Length"] = str(length)
        if idempotency_key is not None:
            check_headers({"Idempotency-Key": idempotency_key})
            merged["Idempotency-Key"] = idempotency_key
        if method not in _METHODS:
            method = self._check_method(method)
        return Request(
            method,
            target,
            merged,
            body,
            self._timeout if timeout is None else Timeout.coerce(timeout),
            self._max_size if max_response_size is MISSING else self._parse_size(max_response_size),
            stream,
        )

    @staticmethod
    def _check_method(method: object) -> str:
        if not isinstance(method, str) or not _TOKEN.fullmatch(method):
            raise InvalidArgumentError(
                f"invalid HTTP method {safe_repr(method)}: a method is an RFC 9110 token "
                "(no spaces, CR, LF or other separators)",
                code="pepperpy.net.invalid_method",
                context={"method": safe_repr(method)},
                hint="Pass a method such as 'GET' or 'POST'.",
            )
        return method.upper()

    def _options(
        self,
        auth: Auth | tuple[str, str] | Missing | None,
        retry: Retry | bool | None,
        follow_redirects: bool | None,
    ) -> _Options:
        if auth is MISSING and retry is None and follow_redirects is None:
            return self._default_options
        effective_auth = self._auth if auth is MISSING else self._coerce_auth(auth)
        if isinstance(retry, Retry):
            policy: Retry | None = retry
            force = False
        elif retry is False:
            policy, force = None, False
        else:
            policy, force = self._retry, retry is True
            if force and policy is None:
                policy = _DEFAULT_RETRY
        follow = self._follow if follow_redirects is None else follow_redirects
        return _Options(effective_auth, policy, force, follow)

    # ----------------------------------------------------------------- sending

    def _host_for(self, url: URL) -> _Host:
        key = (url.scheme, url.host or "", url.port)
        host = self._hosts.get(key)
        if host is None:
            limits = self._limits
            slots = (
                Slots(limits.max_connections_per_host)
                if limits.max_connections_per_host < limits.max_connections
                else None
            )
            bucket = TokenBucket(self._rate_limit, clock=self._clock) if self._rate_limit else None
            breaker = (
                CircuitBreaker(self._breaker_config, clock=self._clock)
                if self._breaker_config
                else None
            )
            host = _Host(
                f"{key[0]}://{key[1]}:{key[2]}", slots, self._slots, bucket, breaker, self._metrics
            )
            self._hosts[key] = host
        return host

    async def _wait_slots(self, host: _Host, request: Request) -> None:
        """The slow path of slot acquisition: a limiter is full, wait up to the pool timeout."""
        limit = request.timeout.pool
        started = time.monotonic()
        per_host = host.slots
        if per_host is not None:
            if per_host.free > 0 and not per_host.waiters:
                per_host.free -= 1
            elif not await per_host.wait(limit):
                raise self._pool_timeout(host, request, "per-host")
        slots = self._slots
        try:
            if slots.free > 0 and not slots.waiters:
                slots.free -= 1
                return
            remaining = max(0.0, limit - (time.monotonic() - started))
            acquired = await slots.wait(remaining)
        except BaseException:
            if per_host is not None:
                per_host.release()
            raise
        if not acquired:
            if per_host is not None:
                per_host.release()
            raise self._pool_timeout(host, request, "total")

    def _pool_timeout(self, host: _Host, request: Request, which: str) -> PoolTimeoutError:
        limit = (
            self._limits.max_connections_per_host
            if which == "per-host"
            else self._limits.max_connections
        )
        return PoolTimeoutError(
            f"{request.method} {request.url}: no free connection slot ({which} limit "
            f"{limit}) within the pool timeout ({request.timeout.pool}s)",
            context={
                "method": request.method,
                "url": str(request.url),
                "host": host.name,
                "limit": limit,
                "timeout": request.timeout.pool,
            },
        )

    async def _transmit(self, request: Request) -> Response:
        """The innermost handler: one attempt through aiohttp, no retry, no redirect."""
        session = self._session
        if session is None:
            self._ensure_running()
            raise AssertionError("unreachable")
        url = request.url
        host = self._hosts.get((url.scheme, url.host or "", url.port))
        if host is None:
            host = self._host_for(url)
        breaker = host.breaker
        if breaker is not None and not breaker.allow():
            host.rejected_by_breaker += 1
            raise CircuitOpenError(
                f"{request.method} {url}: the circuit for {host.name} is open after "
                f"repeated failures; retry in {breaker.retry_in:.1f}s",
                context={"host": host.name, "retry_in": round(breaker.retry_in, 3)},
            )
        slots = self._slots
        if host.bucket is None and host.slots is None and slots.free > 0 and not slots.waiters:
            slots.free -= 1  # the uncontended path: no await, no call
        else:
            try:
                if host.bucket is not None and await host.bucket.acquire(host=host.name):
                    host.rate_limited += 1
                await self._wait_slots(host, request)
            except BaseException:
                if breaker is not None:
                    breaker.release()
                raise
        host.in_flight += 1
        host.requests += 1
        metrics = self._metrics
        if metrics is not None:
            metrics.slots(host.name, host.in_flight)
        started = time.monotonic()
        timeout = request.timeout
        content = request.content
        watch: _WriteWatch | None = None
        if content is not None and (not isinstance(content, bytes) or len(content) > _WATCHED_BODY):
            watch = _WriteWatch(timeout.write)
            if isinstance(content, bytes):
                request.headers["Content-Length"] = str(len(content))
                content = watch.body(_chunks(content))
            else:
                content = watch.body(content)
        try:
            raw = await session.request(
                request.method,
                url,
                headers=request.headers,
                data=content,
                timeout=(
                    self._client_timeout if timeout is self._timeout else aiohttp_timeout(timeout)
                ),
                allow_redirects=False,
            )
        except BaseException as exc:
            host.release()
            if watch is not None and watch.stop():
                error: BaseException = WriteTimeoutError(
                    f"{request.method} {url}: the server accepted no more of the request body "
                    f"for longer than the write timeout ({timeout.write}s)",
                    context={
                        "method": request.method,
                        "url": str(url),
                        "host": url.host or "",
                        "timeout": timeout.write,
                    },
                )
            else:
                error = translate_error(exc, request)
            if isinstance(error, NetworkError):
                host.errors += 1
            if metrics is not None:
                metrics.error(host.name, request.method, error)
            if breaker is not None:
                if isinstance(error, _HOST_FAILURES):
                    breaker.record(False)
                else:
                    breaker.release()
            if error is exc:
                raise
            raise error from exc
        if watch is not None:
            watch.stop()
        status = raw.status
        host.responses += 1
        host.statuses[status] += 1
        # the breaker hears the outcome when the body is done (host.finish)
        live = self._live  # what stop() must wake while its body is unread
        if request.stream:
            finish = host.finish

            def on_release(status: int, error: BaseException | None) -> None:
                live.discard(response)  # never keep a response (and its body) alive
                finish(status, error)

            response = Response(raw, request, on_release, started)
        else:
            response = Response(raw, request, host.finish, started)
        live.add(response)
        if metrics is not None:
            metrics.response(host.name, request.method, status, response.elapsed)
        if not request.stream:
            try:
                await response.read()  # a failure is counted by host.release
            finally:
                live.discard(response)
        return response

    async def _send_retrying(
        self, request: Request, options: _Options, same_origin: bool
    ) -> Response:
        """Send *request* under the retry policy: auth, then the middleware chain, per attempt.

        Every attempt is one send (aiohttp's own resend is off), counted in the
        host's ``requests`` and paid for from the retry budget.
        """
        config = options.retry
        auth = options.auth if same_origin else None
        if config is None:
            if auth is not None:
                await auth.apply(request)
            return await self._chain(request)
        budget = self._budget
        budget.deposit()
        can_retry: bool | None = None  # worked out only when an attempt fails
        attempt = 1
        while True:
            request.attempt = attempt
            try:
                if auth is not None:
                    await auth.apply(request)
                response = await self._chain(request)
            except NetworkError as exc:
                if can_retry is None:
                    can_retry = _may_retry(request, options, config)
                if (
                    not can_retry
                    or attempt >= config.attempts
                    or not isinstance(exc, _RETRYABLE_ERRORS)
                ):
                    exc.context.setdefault("attempts", attempt)
                    raise
                if not budget.try_withdraw():
                    self._host_for(request.url).retries_denied += 1
                    exc.context.setdefault("attempts", attempt)
                    exc.context["retry_budget"] = "exhausted"
                    raise
                delay = config.backoff_delay(attempt)
            else:
                if response.status not in config.statuses:
                    response.attempts = attempt
                    return response  # the common case
                if can_retry is None:
                    can_retry = _may_retry(request, options, config)
                if not can_retry or attempt >= config.attempts:
                    response.attempts = attempt
                    return response
                wait = None
                if config.respect_retry_after:
                    wait = parse_retry_after(
                        response.headers.get("Retry-After"), self._clock.time()
                    )
                    if wait is not None and wait > config.max_retry_after:
                        response.attempts = attempt
                        return response
                if not budget.try_withdraw():
                    self._host_for(request.url).retries_denied += 1
                    response.attempts = attempt
                    return response
                delay = max(config.backoff_delay(attempt), wait or 0.0)
                await response.close()
            try:
                await self._clock.sleep(delay)
            except BaseException:
                budget.refund()  # cancelled in the backoff: no retry was sent
                raise
            host = self._host_for(request.url)
            host.retries += 1
            if self._metrics is not None:
                self._metrics.retry(host.name)
            attempt += 1

    async def _send(self, request: Request, options: _Options) -> Response:
        if self._session is None:
            self._ensure_running()
        # the headers as the caller gave them: a hop starts from these, not from
        # what Auth.apply added (any header: Authorization, an API key ...)
        plain = request.headers.copy() if options.auth is not None else None
        response = await self._send_retrying(request, options, True)
        if not options.follow or response.status not in _REDIRECTS:
            return response
        return await self._redirects(request, response, options, plain)

    async def _redirects(
        self,
        request: Request,
        response: Response,
        options: _Options,
        plain: CIMultiDict[str] | None,
    ) -> Response:
        origin = request.url.origin()
        history: list[Response] = []
        while True:
            if not options.follow or response.status not in _REDIRECTS:
                response.history = tuple(history)
                return response
            location = response.headers.get("Location")
            if location is None:
                response.history = tuple(history)
                return response
            await response.close()
            if len(history) >= self._max_redirects:
                raise TooManyRedirectsError(
                    f"{request.method} {origin}: more than {self._max_redirects} redirects",
                    context={
                        "url": str(request.url),
                        "max_redirects": self._max_redirects,
                        "chain": [str(r.url) for r in history[-5:]],
                    },
                )
            history.append(response)
            request = self._redirect(request, response.status, location, plain)
            same_origin = request.url.origin() == origin
            plain = request.headers.copy() if options.auth is not None else None
            response = await self._send_retrying(request, options, same_origin)

    def _redirect(
        self, request: Request, status: int, location: str, plain: CIMultiDict[str] | None
    ) -> Request:
        try:
            target = request.url.join(URL(location))
        except (ValueError, TypeError) as exc:
            raise InvalidURLError(
                f"the server redirected to an invalid URL {location!r}",
                context={"url": str(request.url), "location": location},
            ) from exc
        if target.scheme not in ("http", "https") or not target.host:
            raise InvalidURLError(
                f"the server redirected to a non-http(s) URL {str(target)!r}",
                context={"url": str(request.url), "location": location},
                hint="Only http:// and https:// redirects are followed.",
            )
        headers = (plain if plain is not None else request.headers).copy()
        method = request.method
        content = request.content
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method = "GET"
            content = None
            for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
                headers.popall(name, None)
        elif not request.replayable:
            raise NetworkError(
                f"cannot follow a {status} redirect: the streamed request body cannot be "
                "sent again",
                code="pepperpy.net.redirect_body",
                context={"url": str(request.url), "location": str(target)},
                hint="Send the body as bytes, or request the final URL directly.",
                retryable=False,
            )
        if target.origin() != request.url.origin():
            headers.popall("Authorization", None)
            headers.popall("Cookie", None)
            headers.popall("Proxy-Authorization", None)
            headers.popall("Host", None)  # a custom Host belongs to the first origin
        return Request(
            method=method,
            url=target,
            headers=headers,
            content=content,
            timeout=request.timeout,
            max_response_size=request.max_response_size,
            stream=request.stream,
            extensions=dict(request.extensions),
        )

    # ----------------------------------------------------------------- public API

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = MISSING,
        data: Mapping[str, Any] | None = None,
        content: Any = None,
        timeout: Timeout | float | None = None,
        auth: Auth | tuple[str, str] | Missing | None = MISSING,
        retry: Retry | bool | None = None,
        idempotency_key: str | None = None,
        follow_redirects: bool | None = None,
        max_response_size: int | str | Missing | None = MISSING,
        upload_progress: ProgressCallback | None = None,
    ) -> Response:
        """Send a request and read its whole body (bounded by the size limit).

        The connection is back in the pool when this returns. Non-2xx statuses
        are returned, not raised: call ``response.raise_for_status()``.

        Args:
            method: The HTTP method.
            url: Absolute, or relative to ``base_url``.
            params: Query parameters added to the URL.
            headers: Headers added to (and overriding) the defaults.
            json: A body encoded as JSON (attrs instances through
                pepperpy-serialization).
            data: A form body (``application/x-www-form-urlencoded``).
            content: Raw body: bytes, str, a :class:`~pathlib.Path` (streamed
                from disk), or an (async) iterable of bytes (streamed).
            timeout: Override the client's timeouts for this request.
            auth: Override the client's auth hook (``None`` sends none).
            retry: ``True`` retries even a non-idempotent method, ``False``
                never retries, a :class:`~pepperpy.net.Retry` replaces the
                policy; ``None`` keeps the client's.
            idempotency_key: Sent as ``Idempotency-Key``; makes the request retryable.
            follow_redirects: Override the client's redirect setting.
            max_response_size: Override the body size limit (``None``: no limit).
            upload_progress: Called with a :class:`~pepperpy.net.Progress` as
                the body is sent.

        Raises:
            NetworkError: A subclass says what failed (timeout phase, connect,
                closed connection, TLS, size, circuit open ...).
            HeaderInjectionError: A header is unsafe.
            BlockedAddressError: The SSRF guard refused the address.
            ClosedError: The client is not running.
        """
        built = self._build(
            method,
            url,
            params=params,
            headers=headers,
            json=json,
            data=data,
            content=content,
            timeout=timeout,
            idempotency_key=idempotency_key,
            max_response_size=max_response_size,
            upload_progress=upload_progress,
            stream=False,
        )
        options = (
            self._default_options
            if auth is MISSING and retry is None and follow_redirects is None
            else self._options(auth, retry, follow_redirects)
        )
        return await self._send(built, options)

    def stream(
        self,
        method: str,
        url: str | URL,
        **kwargs: Any,
    ) -> _StreamContext:
        """Send a request without reading the body: ``async with client.stream(...) as r:``.

        Takes the same arguments as :meth:`request`. Read the body with
        ``r.iter_bytes()`` (bounded by the size limit); the connection is
        released when the block exits. Retries cover everything up to the
        response headers.
        """
        return _StreamContext(self, method, url, kwargs)

    async def _open_stream(self, method: str, url: str | URL, kwargs: dict[str, Any]) -> Response:
        options = self._options(
            kwargs.pop("auth", MISSING),
            kwargs.pop("retry", None),
            kwargs.pop("follow_redirects", None),
        )
        built = self._build(
            method,
            url,
            params=kwargs.pop("params", None),
            headers=kwargs.pop("headers", None),
            json=kwargs.pop("json", MISSING),
            data=kwargs.pop("data", None),
            content=kwargs.pop("content", None),
            timeout=kwargs.pop("timeout", None),
            idempotency_key=kwargs.pop("idempotency_key", None),
            max_response_size=kwargs.pop("max_response_size", MISSING),
            upload_progress=kwargs.pop("upload_progress", None),
            stream=True,
        )
        if kwargs:
            raise InvalidArgumentError(
                f"unexpected argument(s) for stream(): {', '.join(sorted(kwargs))}",
                code="pepperpy.net.invalid_argument",
            )
        return await self._send(built, options)

    def get(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send a GET request (see :meth:`request` for the arguments)."""
        return self._dispatch("GET", url, kwargs)

    def head(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send a HEAD request."""
        return self._dispatch("HEAD", url, kwargs)

    def options(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send an OPTIONS request."""
        return self._dispatch("OPTIONS", url, kwargs)

    def delete(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send a DELETE request."""
        return self._dispatch("DELETE", url, kwargs)

    def post(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send a POST request (not retried unless idempotency_key or retry=True)."""
        return self._dispatch("POST", url, kwargs)

    def put(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send a PUT request."""
        return self._dispatch("PUT", url, kwargs)

    def patch(self, url: str | URL, **kwargs: Any) -> Coroutine[Any, Any, Response]:
        """Send a PATCH request (not retried unless idempotency_key or retry=True)."""
        return self._dispatch("PATCH", url, kwargs)

    @overload
    async def get_json(self, url: str | URL, *, type_: type[T], **kwargs: Any) -> T: ...
    @overload
    async def get_json(self, url: str | URL, *, type_: None = None, **kwargs: Any) -> Any: ...

    async def get_json(self, url: str | URL, *, type_: Any = None, **kwargs: Any) -> Any:
        """GET *url*, raise for 4xx/5xx, and decode the JSON body (into *type_* if given).

        Raises:
            HTTPStatusError: The status is 4xx or 5xx.
            ValidationError: The body is not JSON or does not fit *type_*.
            MissingDependencyError: *type_* needs pepperpy-serialization.
        """
        kwargs["headers"] = {"Accept": "application/json", **(kwargs.get("headers") or {})}
        response = await self.request("GET", url, **kwargs)
        response.raise_for_status()
        return await response.json(type_)

    @overload
    async def post_json(self, url: str | URL, body: Any, *, type_: type[T], **kwargs: Any) -> T: ...
    @overload
    async def post_json(
        self, url: str | URL, body: Any, *, type_: None = None, **kwargs: Any
    ) -> Any: ...

    async def post_json(
        self, url: str | URL, body: Any, *, type_: Any = None, **kwargs: Any
    ) -> Any:
        """POST *body* as JSON, raise for 4xx/5xx, and decode the JSON answer.

        *body* may be an attrs instance (unstructured with pepperpy-serialization).
        An empty answer (``204``) returns ``None``.
        """
        kwargs["headers"] = {"Accept": "application/json", **(kwargs.get("headers") or {})}
        method = kwargs.pop("method", "POST")
        response = await self.request(method, url, json=body, **kwargs)
        response.raise_for_status()
        if response.status == 204 or not await response.read():
            return None
        return await response.json(type_)

    async def download(
        self,
        url: str | URL,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = 64 * 1024,
        **kwargs: Any,
    ) -> int:
        """Stream *url* into the file *dest* without holding it in memory; return its size.

        The body goes to a temporary file beside *dest* that is renamed into
        place only when complete, so a failed download leaves nothing behind.
        Writes run in a worker thread. Set ``max_response_size=None`` (or a
        larger size) for files beyond the client's limit.

        Raises:
            HTTPStatusError: The status is 4xx or 5xx.
            ResponseTooLargeError: The file is larger than the size limit.
        """
        written = 0
        async with self.stream("GET", url, **kwargs) as response:
            response.raise_for_status()
            sink = FileSink(dest)
            await sink.open()
            try:
                async for chunk in response.iter_bytes(chunk_size, progress=progress):
                    await sink.write(chunk)
                    written += len(chunk)
                await sink.commit()
            except BaseException:
                sink.discard()
                raise
        return written

    async def upload(
        self,
        url: str | URL,
        source: bytes | str | Path | AsyncIterable[bytes],
        *,
        method: str = "PUT",
        progress: ProgressCallback | None = None,
        **kwargs: Any,
    ) -> Response:
        """Send *source* as the body (a Path is streamed from disk) with progress reports.

        A :class:`~pathlib.Path` is read in chunks in a worker thread and sent
        with its ``Content-Length``; an async iterable is sent chunked.
        """
        return await self.request(method, url, content=source, upload_progress=progress, **kwargs)

    def websocket(
        self,
        url: str | URL,
        *,
        heartbeat: float | None = 20.0,
        reconnect: Reconnect | None = None,
        send_queue_size: int = 100,
        receive_queue_size: int = 1000,
        mode: str = "json",
        type_: Any = None,
        headers: Mapping[str, str] | None = None,
        protocols: Sequence[str] = (),
        max_message_size: int = 4 * 1024 * 1024,
    ) -> WebSocketClient:
        """Return a :class:`~pepperpy.net.WebSocketClient` sharing this client's pool.

        ``ws://`` / ``wss://`` URLs, or relative ones against ``base_url``
        (its scheme switched to ws/wss). See :class:`WebSocketClient`.
        """
        from pepperpy.net._websocket import WebSocketClient

        socket = WebSocketClient(
            self,
            url,
            heartbeat=heartbeat,
            reconnect=reconnect,
            send_queue_size=send_queue_size,
            receive_queue_size=receive_queue_size,
            mode=mode,
            type_=type_,
            headers=headers,
            protocols=protocols,
            max_message_size=max_message_size,
        )
        self._sockets.add(socket)
        return socket

    def _ws_url(self, url: str | URL) -> URL:
        target = url if isinstance(url, URL) else URL(str(url))
        if target.is_absolute():
            if target.scheme in ("ws", "wss"):
                return target
            if target.scheme in ("http", "https"):
                return target.with_scheme("ws" if target.scheme == "http" else "wss")
            raise InvalidURLError(
                f"unsupported WebSocket URL scheme {target.scheme!r}",
                context={"url": str(target)},
                hint="Use ws:// or wss://.",
            )
        merged = self._merge_url(target)
        return merged.with_scheme("ws" if merged.scheme == "http" else "wss")

    def __repr__(self) -> str:
        base = f" base_url={str(self._base_url)!r}" if self._base_url else ""
        return f"<HttpClient{base} state={self.state.value}>"


def _check_type(name: str, value: object, cls: type, *, optional: bool = True) -> None:
    """Refuse a constructor argument of the wrong type (it would fail later, raw)."""
    if (value is None and optional) or isinstance(value, cls):
        return
    raise InvalidArgumentError(
        f"{name} must be a pepperpy.net.{cls.__name__}"
        + (" or None" if optional else "")
        + f", not {type(value).__name__}",
        code="pepperpy.net.invalid_argument",
        context={name: safe_repr(value)},
        hint=f"Pass {name}={cls.__name__}(...).",
    )


def _may_retry(request: Request, options: _Options, config: Retry) -> bool:
    """Whether *request* may be sent again: a replayable body and a safe method or key."""
    content = request.content
    return (content is None or isinstance(content, bytes)) and (
        options.force_retry
        or request.method in config.methods
        or "Idempotency-Key" in request.headers
    )


def _link(middleware: Middleware, call_next: Handler) -> Handler:
    async def handler(request: Request) -> Response:
        return await middleware(request, call_next)

    return handler


async def _chunks(data: bytes, size: int = 64 * 1024) -> Any:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class _WriteWatch:
    """The write timeout: bounds each wait for the peer to take the next body chunk.

    The body is handed to aiohttp through :meth:`body`; a timer runs from the
    moment a chunk is handed over until aiohttp asks for the next one (the
    chunk is written and drained). When it fires, the task waiting for the
    response is cancelled and :meth:`stop` reports it, so the caller raises
    :class:`~pepperpy.net.WriteTimeoutError` instead.
    """

    __slots__ = ("_active", "_fired", "_handle", "_loop", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._seconds = seconds
        self._handle: asyncio.TimerHandle | None = None
        self._active = True
        self._fired = False

    def _fire(self) -> None:
        self._handle = None
        if self._active and self._task is not None:
            self._fired = True
            self._task.cancel()

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    async def body(self, source: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Yield *source*'s chunks, timing how long each takes to be written."""
        try:
            async for chunk in source:
                if self._active:
                    self._handle = self._loop.call_later(self._seconds, self._fire)
                yield chunk
                self._disarm()
        finally:
            self._disarm()

    def stop(self) -> bool:
        """Stop watching; return whether the timeout fired (and cancelled the caller)."""
        self._active = False
        self._disarm()
        fired, self._fired = self._fired, False
        if fired and self._task is not None:
            uncancel: Callable[[], int] | None = getattr(self._task, "uncancel", None)
            if uncancel is not None and uncancel() > 0:  # Python 3.11+
                return False  # the caller was cancelled from outside too: that wins
        return fired


class _StreamContext:
    """``async with client.stream(...) as response`` (also awaitable)."""

    __slots__ = ("_args", "_client", "_method", "_response", "_url")

    def __init__(
        self, client: HttpClient, method: str, url: str | URL, args: dict[str, Any]
    ) -> None:
        self._client = client
        self._method = method
        self._url = url
        self._args = args
        self._response: Response | None = None

    async def __aenter__(self) -> Response:
        self._response = await self._client._open_stream(self._method, self._url, self._args)
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        response, self._response = self._response, None
        if response is not None:
            await response.close()

    def __await__(self) -> Any:
        return self._client._open_stream(self._method, self._url, self._args).__await__()
