"""The HTTP API (aiohttp on pepperpy-web): bearer-token auth, authorization, decrypted reads.

GET /customers/{id}   Authorization: Bearer <token>
                      support: the record with e-mail and phone decrypted
                      analyst: the record with masked personal fields only
                      anyone else: 403; bad or missing token: 401; unknown id: 404
GET /stats            running totals (the StateManager slice)
GET /health           health checks (pepperpy-telemetry, served by pepperpy-web)
GET /ready            readiness: 503 until the data set is loaded
GET /metrics          Prometheus metrics (pepperpy-telemetry, served by pepperpy-web)

pepperpy-web does what a hand-written middleware did here before: the request
id (the caller's ``X-Request-ID`` or a new one, returned), the caller's
``traceparent`` continued in a server span, the principal and route template in
pepperpy.context, request count and latency by route template, and every error
as an RFC 9457 problem-details response (401, 403, 404 ...).
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from app.domain import PERSONAL_FIELDS
from app.settings import Settings
from pepperpy.cache import TieredCache, cached
from pepperpy.core.exceptions import NotFoundError
from pepperpy.core.types import Lifecycle
from pepperpy.logging import Logging
from pepperpy.security import Policy, Security
from pepperpy.state import StateManager
from pepperpy.storage import Storage
from pepperpy.telemetry import Health, Metrics, Tracer
from pepperpy.web import Web
from pepperpy.web.aiohttp import middleware
from pepperpy.web.security import authorize

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


def make_web(*, security: Security, health: Health, metrics: Metrics, tracer: Tracer) -> Web:
    """Everything the API gets from pepperpy-web, in one object.

    The probes keep the paths this service always had (``/health``, ``/ready``).
    """
    return Web(
        security=security,
        metrics=metrics,
        tracer=tracer,
        health=health,
        health_path="/health",
        ready_path="/ready",
        max_body_size=64 * 1024,  # the API reads no bodies; refuse big ones early
    )


def create_app(*, service: Web, reader: CustomerReader, state: StateManager) -> web.Application:
    """Build the aiohttp application on *service*."""
    security = service.security
    assert security is not None

    async def get_customer(request: web.Request) -> web.Response:
        # No token: 401; a refused token was already a 401 before the handler ran;
        # a principal without the permission: 403. All as problem details.
        principal = authorize(READ)
        customer_id = request.match_info["id"]
        record = await reader.load(customer_id)  # NotFoundError: a 404 problem
        if security.authorize(principal, READ_PERSONAL).allowed:
            body = reader.reveal(record)
            log.debug("revealed {} to {}", customer_id, principal.id, user=principal.id)
        else:
            body = reader.masked(record)
        return web.json_response(body)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(state.get("totals").to_dict())

    # middleware(), not setup(): the service's own Registry starts and stops the
    # components, and main.py declares the service ready once the data is loaded.
    app = web.Application(middlewares=[middleware(service)])
    app.router.add_get("/customers/{id}", get_customer)
    app.router.add_get("/stats", stats)
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
        tracer: Tracer,
    ) -> None:
        super().__init__()
        self.host = settings.api.host
        self.port = settings.api.port
        self.web = make_web(security=security, health=health, metrics=metrics, tracer=tracer)
        self.app = create_app(service=self.web, reader=reader, state=state)
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
