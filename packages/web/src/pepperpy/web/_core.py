"""The framework-neutral core: request context, errors to problems, metrics and spans.

The ASGI and aiohttp middlewares are thin adapters over :class:`Web`: each
feature (request ids, trace context, authentication, body limits, problem
details, metrics, spans, registry scopes, the built-in endpoints) has one
code path here.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from pepperpy import context
from pepperpy.core import InvalidArgumentError, PepperPyError, safe_str
from pepperpy.web._errors import BadRequestError, HTTPError, PayloadTooLargeError
from pepperpy.web._problem import Problem, problem_for

if TYPE_CHECKING:
    from pepperpy.registry import Registry
    from pepperpy.security import Principal, Security
    from pepperpy.telemetry import Health, Metrics, Tracer

__all__ = ["ROUTE", "UNMATCHED", "Exchange", "Web", "current_web"]

logger = logging.getLogger("pepperpy.web")

ROUTE = "route"
"""The context key of the matched route template (``/users/{id}``)."""

METHOD = "http_method"
"""The context key of the request method."""

PRINCIPAL = "principal"
"""The context key of the authenticated principal's id."""

UNMATCHED = "<unmatched>"
"""The route label of a request that matched no route (never the raw path)."""

_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
_BAD_HEADER = re.compile(r"[\r\n\x00]")
_BEARER = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAX_AUTHORIZATION = 8192
_MAX_CHILDREN = 4096  # cached metric children (method, route template, status)
_CURRENT: contextvars.ContextVar[Web | None] = contextvars.ContextVar("pepperpy_web", default=None)

Endpoint = Callable[[str | None], Awaitable[tuple[int, list[tuple[str, str]], bytes]]]


def _check_size(max_body_size: object) -> None:
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
        raise InvalidArgumentError(
            f"max_body_size must be an int, got {type(max_body_size).__name__}",
            code="pepperpy.web.max_body_size",
            hint="Pass a number of bytes, e.g. 1_048_576.",
        )
    if max_body_size < 0:
        raise InvalidArgumentError(
            f"max_body_size must be >= 0, got {max_body_size}",
            code="pepperpy.web.max_body_size",
            hint="Pass a number of bytes, e.g. 1_048_576.",
        )


def _check_statuses(statuses: Mapping[type[BaseException], int]) -> None:
    for status in statuses.values():
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise InvalidArgumentError(
                f"statuses must map exception classes to 4xx/5xx ints, got {status!r}",
                code="pepperpy.web.statuses",
                hint="Map an error class to a status such as 404 or 503.",
            )


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"{name} must be True or False, got {type(value).__name__}",
            code="pepperpy.web.flag",
            hint=f"Pass {name}=True or {name}=False.",
        )
    return value


def current_web() -> Web | None:
    """The :class:`Web` serving the current request, if any."""
    return _CURRENT.get()


@attrs.define(eq=False)
class Exchange:
    """The state of one request while it is served.

    Attributes:
        method: The request method.
        path: The raw path (logs only; metrics use :attr:`route`).
        route: The route template, or :data:`UNMATCHED`.
        request_id: The request id: the caller's ``X-Request-ID`` when well
            formed, else a new one.
        values: What is bound in pepperpy.context for the request.
        error: Bad input found before the handler ran (answered as a problem).
        status: The response status, once known.
        principal: The authenticated principal, if any.
        authorization: The ``Authorization`` header, if any.
    """

    method: str
    path: str
    route: str
    request_id: str
    values: dict[str, Any]
    error: PepperPyError | None = None
    status: int = 500
    principal: Any = None
    authorization: str | None = None
    started: float = 0.0
    _principal_scope: Any = None


class Web:
    """What a web service gets from PepperPy; give one to a middleware.

    Every part is optional; without any, requests still get a request id,
    trace context and problem details.

    Args:
        security: A pepperpy-security ``Security``: ``Authorization: Bearer``
            tokens are authenticated and the principal bound for the request;
            :func:`pepperpy.web.security.requires` checks its ``Policy``.
        metrics: A pepperpy-telemetry ``Metrics``: request count and latency
            by method, route template and status, and an in-flight gauge;
            served at *metrics_path*.
        tracer: A pepperpy-telemetry ``Tracer``: a server span per request,
            continuing the caller's ``traceparent`` (its sampling honoured).
        health: A pepperpy-telemetry ``Health``, served at *health_path*
            (liveness: every check) and *ready_path* (readiness).
        registry: A pepperpy-registry ``Registry``, started and stopped with
            the application and given a scope per request.
        max_body_size: Largest request body in bytes (413 beyond it).
        statuses: Overrides of the default status per exception class.
        strict_traceparent: A malformed ``traceparent`` is refused (400,
            ``pepperpy.web.bad_traceparent``); with ``False`` it is ignored and
            a new trace starts, as W3C Trace Context describes.
        metrics_path: Where metrics are served (``None``: nowhere).
        health_path: Where the health report is served (``None``: nowhere).
        ready_path: Where readiness is served (``None``: nowhere).
        ready_on_startup: Declare the service ready once :meth:`startup` has
            started the registry (the default). With ``False`` the
            application decides: ``/readyz`` answers 503 until it calls
            ``health.set_ready()`` (e.g. once caches are warm), as a
            Kubernetes readiness probe expects.
        observe_builtins: The built-in endpoints (metrics, health,
            readiness) always get a request id (returned in
            ``X-Request-ID``), the request's pepperpy.context and a count in
            ``http_server_requests_total`` under their path and status; by
            default they stay out of the latency histogram, the in-flight
            gauge and tracing (scrapes and probes would drown the service's
            own latency, as starlette-exporter's ``skip_paths`` and
            OpenTelemetry's excluded URLs do). ``True`` times, gauges and
            traces them like any route.
    """

    def __init__(
        self,
        *,
        security: Security | None = None,
        metrics: Metrics | None = None,
        tracer: Tracer | None = None,
        health: Health | None = None,
        registry: Registry | None = None,
        max_body_size: int = 1024 * 1024,
        statuses: Mapping[type[BaseException], int] | None = None,
        strict_traceparent: bool = True,
        metrics_path: str | None = "/metrics",
        health_path: str | None = "/healthz",
        ready_path: str | None = "/readyz",
        ready_on_startup: bool = True,
        observe_builtins: bool = False,
    ) -> None:
        _check_size(max_body_size)
        _check_statuses(statuses or {})
        self.security = security
        self.metrics = metrics
        self.tracer = tracer
        self.health = health
        self.registry = registry
        self.max_body_size = max_body_size
        self.statuses: dict[type[BaseException], int] = dict(statuses or {})
        self.strict_traceparent = _flag("strict_traceparent", strict_traceparent)
        self.ready_on_startup = _flag("ready_on_startup", ready_on_startup)
        self.observe_builtins = _flag("observe_builtins", observe_builtins)
        self._endpoints: dict[str, Endpoint] = {}
        if metrics is not None and metrics_path:
            self._endpoints[metrics_path] = self._metrics_endpoint
        if health is not None and health_path:
            self._endpoints[health_path] = self._health_endpoint
        if health is not None and ready_path:
            self._endpoints[ready_path] = self._ready_endpoint
        self._children: dict[tuple[str, str, int, bool], tuple[Any, Any]] = {}
        self._requests: Any = None
        self._latency: Any = None
        self._in_flight: Any = None
        if metrics is not None:
            from pepperpy.web._telemetry import request_metrics

            self._requests, self._latency, self._in_flight = request_metrics(metrics)

    def _observe(self, method: str, route: str, status: int, elapsed: float | None) -> None:
        """Count a finished request; *elapsed* ``None``: an unobserved built-in (count only)."""
        timed = elapsed is not None
        key = (method, route, status, timed)
        children = self._children.get(key)
        if children is None:
            text = (method, route, str(status))
            # an untimed built-in gets no latency series at all (not even an empty one)
            latency = self._latency.labels(*text) if timed else None
            children = (self._requests.labels(*text), latency)
            if len(self._children) < _MAX_CHILDREN:
                self._children[key] = children
        children[0].inc()
        if elapsed is not None:
            children[1].observe(elapsed)
            self._in_flight.dec()

    def __repr__(self) -> str:
        parts = [
            name
            for name in ("security", "metrics", "tracer", "health", "registry")
            if getattr(self, name) is not None
        ]
        return f"Web({', '.join(parts) or 'core'})"

    # -- built-in endpoints ----------------------------------------------------

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        """The built-in endpoint (metrics, health, readiness) serving *path*, if any."""
        if not self._endpoints or method not in ("GET", "HEAD"):
            return None
        return self._endpoints.get(path)

    async def serve_endpoint(
        self, endpoint: Endpoint, exchange: Exchange, accept: str | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer a built-in endpoint (see :meth:`endpoint`) for *exchange*.

        The request's context is bound while the endpoint runs (a health
        check's logs carry the request id), bad input found by :meth:`begin`
        is a problem-details response, the request is counted, and the
        response headers end with ``x-request-id``. Timed, gauged and traced
        only with ``observe_builtins=True``. Never raises an ``Exception``.
        """
        async with _RequestScope(self, exchange, full=self.observe_builtins):
            try:
                if exchange.error is not None:
                    raise exchange.error
                status, headers, body = await endpoint(accept)
            except Exception as exc:
                problem = self.problem(exc, exchange)
                status, headers, body = problem.status, problem.response_headers(), problem.body()
            exchange.status = status
        return status, [*headers, ("x-request-id", exchange.request_id)], body

    async def _metrics_endpoint(
        self, accept: str | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.metrics is not None
        body, content_type = await self.metrics.arender(accept)
        return 200, [("content-type", content_type)], body

    async def _health_endpoint(
        self, accept: str | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.health is not None
        report = await self.health.run()
        body = json.dumps(report.to_dict(), default=str).encode()
        return report.http_status, [("content-type", "application/json")], body

    async def _ready_endpoint(self, accept: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.health is not None
        report = await self.health.run()
        body = json.dumps({"ready": report.ready, "status": report.status}).encode()
        return (200 if report.ready else 503), [("content-type", "application/json")], body

    # -- lifespan --------------------------------------------------------------

    async def startup(self) -> None:
        """Start the registry (dependency order), then declare the service ready.

        With ``ready_on_startup=False`` readiness is left to the application
        (``health.set_ready()``).
        """
        if self.registry is not None:
            await self.registry.start()
        if self.health is not None and self.ready_on_startup:
            self.health.set_ready(True)

    async def shutdown(self) -> None:
        """Declare the service not ready, then stop the registry (reverse order)."""
        if self.health is not None:
            self.health.set_ready(False)
        if self.registry is not None:
            await self.registry.stop()

    # -- requests --------------------------------------------------------------

    def begin(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], route: str
    ) -> Exchange:
        """Read a request's headers into an :class:`Exchange`; never raises.

        Bad input found here (CR/LF/NUL in a header value, a malformed
        ``traceparent`` or ``Content-Length``, a body announced over the
        limit) is kept in :attr:`Exchange.error` and answered as a problem
        once the request id is known.
        """
        error: PepperPyError | None = None
        wanted: dict[str, str] = {}
        length: str | None = None
        authorization: str | None = None
        for name, value in headers:
            lower = name.lower()
            if error is None and _BAD_HEADER.search(value):
                error = BadRequestError(
                    "A header value contains a CR, LF or NUL character.",
                    code="pepperpy.web.bad_header",
                    context={"header": safe_str(lower, 64)},
                    hint="Send header values without control characters.",
                )
            if lower in ("x-request-id", "traceparent", "tracestate"):
                wanted[lower] = value
            elif lower == "content-length":
                length = value
            elif lower == "authorization":
                authorization = value
        snapshot = context.extract_headers(wanted) if wanted else None
        values: dict[str, Any] = dict(snapshot) if snapshot is not None else {}
        request_id = values.get(context.REQUEST_ID)
        if not isinstance(request_id, str):
            request_id = context.new_request_id()
            values[context.REQUEST_ID] = request_id
        if (
            error is None
            and self.strict_traceparent
            and "traceparent" in wanted
            and context.TRACE_ID not in values
        ):
            error = BadRequestError(
                "The traceparent header is malformed.",
                code="pepperpy.web.bad_traceparent",
                hint="Send a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>) or none.",
            )
        if error is None and length is not None:
            error = self._check_length(length)
        values[ROUTE] = route
        values[METHOD] = method
        return Exchange(
            method=method if method in _METHODS else "OTHER",
            path=path,
            route=route,
            request_id=request_id,
            values=values,
            error=error,
            authorization=authorization,
        )

    def _check_length(self, length: str) -> PepperPyError | None:
        text = length.strip()
        if not text.isdigit() or len(text) > 19:
            return BadRequestError(
                "The Content-Length header is not a number.",
                code="pepperpy.web.bad_header",
                context={"header": "content-length"},
                hint="Send a decimal Content-Length, or none with chunked encoding.",
            )
        if int(text) > self.max_body_size:
            return self.too_large()
        return None

    def too_large(self) -> PayloadTooLargeError:
        """The error for a body over :attr:`max_body_size`."""
        return PayloadTooLargeError(
            f"The request body is larger than {self.max_body_size} bytes.",
            context={"limit": self.max_body_size},
            hint="Send a smaller body.",
        )

    def request(self, exchange: Exchange) -> _RequestScope:
        """``async with web.request(exchange):`` binds the request for its lifetime.

        Inside: the pepperpy.context values (request id, trace, route, method),
        the in-flight gauge, a server span, a registry scope, and this
        :class:`Web` as :func:`current_web`. On exit the request is counted
        and timed by method, route template and :attr:`Exchange.status`.
        """
        return _RequestScope(self, exchange)

    async def authenticate(self, exchange: Exchange) -> Principal | None:
        """Authenticate the ``Authorization: Bearer`` header, if any, and bind the principal.

        Raises:
            HTTPError: ``pepperpy.web.bad_authorization`` (401) for a header
                that is not ``Bearer <token>``.
            AuthenticationError: pepperpy-security refused the token (401).
        """
        header = exchange.authorization
        if self.security is None or header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if (
            scheme.lower() != "bearer"
            or not token
            or len(header) > _MAX_AUTHORIZATION
            or not _BEARER.fullmatch(token)
        ):
            raise HTTPError(
                "The Authorization header is malformed.",
                status=401,
                code="pepperpy.web.bad_authorization",
                hint="Send 'Authorization: Bearer <token>'.",
            )
        principal = await self.security.authenticate(token)
        from pepperpy.security import use_principal

        bound = use_principal(principal)
        bound.__enter__()
        exchange._principal_scope = bound
        exchange.principal = principal
        context.bind(**{PRINCIPAL: principal.id})
        return principal

    def problem(self, exc: BaseException, exchange: Exchange) -> Problem:
        """The problem details for *exc*, logged (server errors with their traceback)."""
        problem = problem_for(exc, request_id=exchange.request_id, statuses=self.statuses)
        exchange.status = problem.status
        if problem.status >= 500:
            logger.error(
                "%s %s failed with %s (%s)",
                exchange.method,
                exchange.route,
                problem.status,
                problem.code,
                exc_info=exc,
                extra={"request_id": exchange.request_id, "code": problem.code},
            )
        else:
            logger.info(
                "%s %s refused with %s (%s)",
                exchange.method,
                exchange.route,
                problem.status,
                problem.code,
                extra={"request_id": exchange.request_id, "code": problem.code},
            )
        return problem


class _RequestScope:
    __slots__ = (
        "_exchange",
        "_full",
        "_registry_scope",
        "_scope",
        "_span",
        "_span_scope",
        "_token",
        "_web",
    )

    def __init__(self, web: Web, exchange: Exchange, *, full: bool = True) -> None:
        self._web = web
        self._exchange = exchange
        self._full = full  # False: an unobserved built-in (context and count only)
        self._scope: context.scope | None = None
        self._span: Any = None
        self._span_scope: Any = None
        self._registry_scope: Any = None
        self._token: contextvars.Token[Web | None] | None = None

    async def __aenter__(self) -> Exchange:
        web, ex = self._web, self._exchange
        ex.started = time.perf_counter()
        self._scope = context.scope(ex.values)
        self._scope.__enter__()
        self._token = _CURRENT.set(web)
        if not self._full:
            return ex
        if web._in_flight is not None:
            web._in_flight.inc()
        try:
            if web.tracer is not None:
                span_scope = web.tracer.span(
                    f"{ex.method} {ex.route}",
                    {"http.method": ex.method, "http.route": ex.route},
                )
                self._span = await span_scope.__aenter__()
                self._span_scope = span_scope
            if web.registry is not None:
                registry_scope = web.registry.scope()
                await registry_scope.__aenter__()
                self._registry_scope = registry_scope
        except BaseException:
            await self._leave(None)
            raise
        return ex

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._leave(exc)

    async def _leave(self, exc: BaseException | None) -> None:
        web, ex = self._web, self._exchange
        if exc is not None and not isinstance(exc, Exception):
            ex.status = 499  # cancelled: the client went away
        span = self._span
        if span is not None:
            span.set_attribute("http.status_code", ex.status)
            span.set_attribute("http.route", ex.route)
            if ex.status >= 500:
                span.set_status("error", f"HTTP {ex.status}")
        try:
            if ex._principal_scope is not None:
                ex._principal_scope.__exit__(None, None, None)
            if self._registry_scope is not None:
                await self._registry_scope.__aexit__(None, None, None)
        finally:
            if self._span_scope is not None:
                await self._span_scope.__aexit__(None, None, None)
            if web._requests is not None:
                elapsed = time.perf_counter() - ex.started if self._full else None
                web._observe(ex.method, ex.route, ex.status, elapsed)
            if self._token is not None:
                _CURRENT.reset(self._token)
            if self._scope is not None:
                self._scope.__exit__(None, None, None)
