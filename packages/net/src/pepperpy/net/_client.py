"""The HTTP client: one pooled aiohttp session with timeouts, retries and guards.

The parts of a request live in their own modules, in the order a request
passes them: :mod:`._building` (arguments to a checked Request),
:mod:`._retrying` (the retry loop; each attempt applies auth and runs the
middleware chain), :mod:`._hosts` (per-host breaker, rate limit and slots),
:mod:`._attempt` (one send through aiohttp and the body read) and
:mod:`._redirects` (each hop goes round the same loop again).
"""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from collections.abc import AsyncIterable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, Lifecycle, Missing, system_clock
from pepperpy.net._attempt import Transmitter
from pepperpy.net._auth import Auth, BasicAuth
from pepperpy.net._breaker import CircuitBreakerConfig, CircuitState
from pepperpy.net._building import RequestBuilder, parse_base, parse_size
from pepperpy.net._config import Limits, Timeout, TLSConfig, aiohttp_timeout
from pepperpy.net._connector import Connector, open_session
from pepperpy.net._errors import ConnectionClosedError, InvalidURLError
from pepperpy.net._hosts import HostTable
from pepperpy.net._metrics import ClientMetrics
from pepperpy.net._models import (
    Handler,
    Middleware,
    ProgressCallback,
    Request,
    Response,
    check_headers,
)
from pepperpy.net._ratelimit import RateLimit
from pepperpy.net._redirects import REDIRECTS, follow
from pepperpy.net._retry import Retry, RetryBudget
from pepperpy.net._retrying import Options, RetryLoop
from pepperpy.net._serial import context_injector
from pepperpy.net._ssrf import SSRFGuard
from pepperpy.net._stats import ClientStats
from pepperpy.net._streams import FileSink
from pepperpy.net._version import __version__

if TYPE_CHECKING:
    from types import FrameType, TracebackType

    from aiohttp.abc import AbstractResolver

    from pepperpy.net._websocket import Reconnect, WebSocketClient

__all__ = ["HttpClient"]

T = TypeVar("T")

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
        base = parse_base(base_url)
        default_headers: CIMultiDict[str] = CIMultiDict()
        if user_agent:
            default_headers["User-Agent"] = user_agent
        if headers:
            check_headers(headers, where="default")
            default_headers.update(headers)
        self._headers = default_headers
        self._auth = self._coerce_auth(auth)
        self._timeout = Timeout.coerce(timeout)
        if not isinstance(limits, Limits):
            raise InvalidArgumentError(
                "limits must be a pepperpy.net.Limits", code="pepperpy.net.invalid_limit"
            )
        self._limits = limits
        retry = _DEFAULT_RETRY if retry is True else (None if retry is False else retry)
        if circuit_breaker is True:
            circuit_breaker = _DEFAULT_BREAKER
        elif circuit_breaker is False:
            circuit_breaker = None
        _check_type("retry", retry, Retry)
        _check_type("circuit_breaker", circuit_breaker, CircuitBreakerConfig)
        _check_type("rate_limit", rate_limit, RateLimit)
        _check_type("tls", tls, TLSConfig, optional=False)
        _check_middleware(middleware)
        self._retry = retry
        self._tls = tls
        self._ssl = tls.build()
        self._guard: SSRFGuard | None = SSRFGuard() if ssrf_guard is True else (ssrf_guard or None)
        max_size = parse_size(max_response_size)
        _check_max_redirects(max_redirects)
        self._follow = follow_redirects
        self._max_redirects = max_redirects
        self._middleware = tuple(middleware)
        self._propagate = propagate_context
        self._resolver = resolver
        self._clock = clock
        self._builder = RequestBuilder(
            base,
            default_headers,
            context_injector() if propagate_context else None,
            self._timeout,
            max_size,
        )
        self._hosts = HostTable(limits, rate_limit, circuit_breaker, self._metrics, clock)
        # a client without a policy still funds the retries a call asks for
        # (retry=True or retry=Retry(...)), on the default policy's budget
        funding = retry or _DEFAULT_RETRY
        self._budget = RetryBudget(funding.budget_ratio, funding.budget_min_per_second, clock=clock)
        self._sockets: weakref.WeakSet[WebSocketClient] = weakref.WeakSet()
        # the one request path: retry loop -> auth + middleware -> one attempt
        self._transmitter = Transmitter(
            self._hosts, self._timeout, self._metrics, self._ensure_running
        )
        self._loop = RetryLoop(self._build_chain(), self._budget, self._hosts, clock, self._metrics)
        self._default_options = Options(self._auth, retry, False, follow_redirects)

    # ----------------------------------------------------------------- setup

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
        handler: Handler = self._transmitter.send
        for middleware in reversed(self._middleware):
            handler = _link(middleware, handler)
        return handler

    async def _on_start(self) -> None:
        self._transmitter.session = open_session(
            self._limits,
            self._guard,
            ssl=self._ssl,
            resolver=self._resolver,
            cookies=self._cookies,
            timeout=aiohttp_timeout(self._timeout),
        )
        self._hosts.reset()

    async def _on_stop(self) -> None:
        transmitter = self._transmitter
        live, transmitter.live = transmitter.live, set()
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
        session, transmitter.session = transmitter.session, None
        if session is not None:
            await session.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        transmitter = getattr(self, "_transmitter", None)
        session = transmitter.session if transmitter is not None else None
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
        return self._builder.base_url

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
        session = self._transmitter.session
        assert session is not None
        return session

    def circuit_state(self, url: str | URL) -> CircuitState:
        """The circuit breaker state for *url*'s host."""
        return self._hosts.get(self._merge_url(url)).snapshot().circuit

    def stats(self) -> ClientStats:
        """Return a snapshot of the client's counters, per host and in total."""
        hosts = self._hosts.snapshots()
        session = self._transmitter.session
        connector = session.connector if session is not None else None
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
        return self._builder.merge_url(url)

    def _dispatch(
        self, method: str, url: str | URL, kwargs: dict[str, Any]
    ) -> Coroutine[Any, Any, Response]:
        """Route a verb helper to :meth:`request`, the one request path."""
        return self.request(method, url, **kwargs)

    def _options(
        self,
        auth: Auth | tuple[str, str] | Missing | None,
        retry: Retry | bool | None,
        follow_redirects: bool | None,
    ) -> Options:
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
        return Options(effective_auth, policy, force, follow)

    # ----------------------------------------------------------------- sending

    async def _send(self, request: Request, options: Options) -> Response:
        """The one request path: the retry loop (auth, middleware, one attempt), then redirects."""
        if self._transmitter.session is None:
            self._ensure_running()
        # the headers as the caller gave them: a hop starts from these, not from
        # what Auth.apply added (any header: Authorization, an API key ...)
        plain = request.headers.copy() if options.auth is not None else None
        response = await self._loop.send(request, options, True)
        if not options.follow or response.status not in REDIRECTS:
            return response
        return await follow(self._loop, request, response, options, plain, self._max_redirects)

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
        built = self._builder.build(
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
        built = self._builder.build(
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
        base_url = self._builder.base_url
        base = f" base_url={str(base_url)!r}" if base_url else ""
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


def _check_middleware(middleware: Sequence[Middleware]) -> None:
    """Refuse a middleware hook that cannot be called."""
    for hook in middleware:
        if not callable(hook):
            raise InvalidArgumentError(
                f"middleware must be async functions, got {type(hook).__name__}",
                code="pepperpy.net.invalid_argument",
                context={"middleware": safe_repr(hook)},
                hint="Pass async def mw(request, call_next) -> Response functions.",
            )


def _check_max_redirects(max_redirects: object) -> None:
    """Refuse a redirect limit that is not an integer >= 0."""
    if isinstance(max_redirects, bool) or not isinstance(max_redirects, int) or max_redirects < 0:
        raise InvalidArgumentError(
            "max_redirects must be an integer >= 0",
            code="pepperpy.net.invalid_argument",
            context={"max_redirects": max_redirects},
        )


def _link(middleware: Middleware, call_next: Handler) -> Handler:
    async def handler(request: Request) -> Response:
        return await middleware(request, call_next)

    return handler


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
