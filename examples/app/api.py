"""The HTTP API (aiohttp): bearer-token auth, authorization, decrypted reads.

GET /customers/{id}   Authorization: Bearer <token>
                      support: the record with e-mail and phone decrypted
                      analyst: the record with masked personal fields only
                      anyone else: 403; bad or missing token: 401; unknown id: 404
GET /stats            running totals (the StateManager slice)
GET /health           health checks (pepperpy-telemetry)
GET /metrics          Prometheus metrics (pepperpy-telemetry)
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.domain import PERSONAL_FIELDS
from app.observability import AppMetrics
from app.settings import Settings
from pepperpy import context
from pepperpy.cache import TieredCache, cached
from pepperpy.core.exceptions import NotFoundError
from pepperpy.core.types import Lifecycle
from pepperpy.logging import Logging
from pepperpy.security import AuthenticationError, Policy, Principal, Security
from pepperpy.state import StateManager
from pepperpy.storage import Storage
from pepperpy.telemetry import Health, Metrics, Tracer

log = Logging.get_logger("example.api")

READ = "customers:read"
READ_PERSONAL = "customers:read_personal"


def make_policy() -> Policy:
    """Roles as data: support reads everything, analysts see masked personal fields."""
    return Policy().role("analyst", READ).role("support", READ_PERSONAL, inherits=["analyst"])


class CustomerReader:
    """Reads stored customers through a pepperpy-cache TieredCache (single-flight on misses)."""

    def __init__(self, storage: Storage, security: Security, cache: TieredCache[Any, Any]) -> None:
        self.security = security
        self.cache = cache

        @cached(cache=cache)
        async def load(customer_id: str) -> dict[str, Any]:
            record = await storage.get(f"records/{customer_id}")
            if record is None:  # errors are not cached, so a later insert is seen
                raise NotFoundError(
                    f"no customer {customer_id!r}",
                    code="pepperpy.example.customer_not_found",
                    context={"id": customer_id},
                )
            return dict(record)

        self.load = load

    def reveal(self, record: dict[str, Any]) -> dict[str, Any]:
        """Decrypt the personal fields (the envelope is bound to the record's id)."""
        out = dict(record)
        for field in record.get("encrypted", PERSONAL_FIELDS):
            sealed = base64.urlsafe_b64decode(record[field])
            out[field] = self.security.decrypt(sealed, context=record["id"].encode()).decode()
        out.pop("encrypted", None)
        return out

    @staticmethod
    def masked(record: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if k not in PERSONAL_FIELDS and k != "encrypted"}
        return out


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _problem(status: int, error: str, **details: Any) -> web.Response:
    return web.json_response({"error": error, **details}, status=status)


def create_app(
    *,
    security: Security,
    reader: CustomerReader,
    state: StateManager,
    health: Health,
    metrics: Metrics,
    app_metrics: AppMetrics,
    tracer: Tracer,
) -> web.Application:
    """Build the aiohttp application."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The caller's request id and trace (sent by pepperpy-net as X-Request-ID and
        # traceparent) are restored, so logs and spans join the caller's trace.
        incoming = context.extract_headers(request.headers)
        request_id = incoming.get("request_id") or uuid.uuid4().hex[:12]
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        async with (
            context.scope(incoming, request_id=request_id),
            tracer.span(f"{request.method} {name}", {"http.path": request.path}) as span,
        ):
            try:
                response = await handler(request)
                status = response.status
                response.headers["X-Request-ID"] = request_id
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                span.set_attribute("http.status", status)
                elapsed = time.perf_counter() - started
                app_metrics.http_requests.labels(route=name, status=str(status)).inc()
                app_metrics.http_seconds.labels(route=name).observe(elapsed)
                log.debug("{} {} -> {}", request.method, request.path, status, ms=elapsed * 1e3)

    async def authenticate(request: web.Request) -> Principal | web.Response:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _problem(401, "unauthenticated", reason="missing_bearer_token")
        try:
            return await security.authenticate(token)
        except AuthenticationError as exc:
            await log.info("authentication refused ({})", exc.reason.value)
            return _problem(401, "unauthenticated", reason=exc.reason.value)

    async def get_customer(request: web.Request) -> web.Response:
        principal = await authenticate(request)
        if isinstance(principal, web.Response):
            return principal
        decision = security.authorize(principal, READ)
        if not decision.allowed:
            return _problem(403, "forbidden", reason=decision.reason)
        customer_id = request.match_info["id"]
        try:
            record = await reader.load(customer_id)
        except NotFoundError:
            return _problem(404, "not_found", id=customer_id)
        if security.authorize(principal, READ_PERSONAL).allowed:
            body = reader.reveal(record)
            log.debug("revealed {} to {}", customer_id, principal.id, user=principal.id)
        else:
            body = reader.masked(record)
        return web.json_response(body)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(state.get("totals").to_dict())

    async def health_endpoint(request: web.Request) -> web.Response:
        report = await health.run()
        return web.json_response(report.to_dict(), status=report.http_status)

    async def ready_endpoint(request: web.Request) -> web.Response:
        report = await health.readiness()
        status = report.http_status if report.ready else 503
        return web.json_response(report.to_dict(), status=status)

    async def metrics_endpoint(request: web.Request) -> web.Response:
        body, content_type = await metrics.arender(request.headers.get("Accept"))
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    app = web.Application(middlewares=[observe])
    app.router.add_get("/customers/{id}", get_customer)
    app.router.add_get("/stats", stats)
    app.router.add_get("/health", health_endpoint)
    app.router.add_get("/ready", ready_endpoint)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


class ApiServer(Lifecycle):
    """Serves the app on 127.0.0.1 while running (port 0: any free port)."""

    def __init__(
        self,
        settings: Settings,
        security: Security,
        reader: CustomerReader,
        state: StateManager,
        health: Health,
        metrics: Metrics,
        app_metrics: AppMetrics,
        tracer: Tracer,
    ) -> None:
        super().__init__()
        self.host = settings.api.host
        self.port = settings.api.port
        self.app = create_app(
            security=security,
            reader=reader,
            state=state,
            health=health,
            metrics=metrics,
            app_metrics=app_metrics,
            tracer=tracer,
        )
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _on_start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        await log.info("API listening on {}", self.url)

    async def _on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
