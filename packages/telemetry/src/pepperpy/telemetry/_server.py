"""Exposition: an aiohttp app serving /metrics, /health and /ready; the stdlib HTTP server."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from pepperpy.core.exceptions import ConfigurationError
from pepperpy.core.types import Lifecycle
from pepperpy.telemetry._health import Health
from pepperpy.telemetry._metrics import Metrics

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["TelemetryServer", "create_app", "start_http_server"]


def _aiohttp() -> Any:
    try:
        from aiohttp import web
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "the /metrics web app needs aiohttp",
            code="pepperpy.telemetry.aiohttp_missing",
            hint="Install the extra: pip install 'pepperpy-telemetry[aiohttp]', or use "
            "start_http_server() (no extra dependency).",
        ) from exc
    return web


def create_app(
    metrics: Metrics | None = None,
    health: Health | None = None,
    *,
    metrics_path: str = "/metrics",
    health_path: str = "/health",
    ready_path: str = "/ready",
) -> web.Application:
    """Return an aiohttp application exposing metrics and health.

    * ``GET /metrics``: the registry in the Prometheus text format, or
      OpenMetrics when the ``Accept`` header asks for it; rendered in a worker
      thread so a large registry never blocks the event loop; gzip when the
      client accepts it.
    * ``GET /health``: the :class:`HealthReport` as JSON; 503 when failing.
    * ``GET /ready``: 200 when ready and not failing, else 503.

    Mount it in your own app with ``app.add_subapp("/ops", create_app(...))``
    or serve it with :class:`TelemetryServer`.
    """
    aio = _aiohttp()
    registry = metrics if metrics is not None else Metrics.default()
    checks = health if health is not None else Health()

    async def metrics_handler(request: web.Request) -> web.StreamResponse:
        body, content_type = await registry.arender(request.headers.get("Accept"))
        response: web.Response = aio.Response(body=body, headers={"Content-Type": content_type})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response.enable_compression()
        return response

    async def health_handler(request: web.Request) -> web.StreamResponse:
        report = await checks.run()
        response: web.Response = aio.Response(
            text=json.dumps(report.to_dict()),
            status=report.http_status,
            content_type="application/json",
        )
        return response

    async def ready_handler(request: web.Request) -> web.StreamResponse:
        report = await checks.readiness()
        body = {"ready": report.ready, "status": report.status}
        response: web.Response = aio.Response(
            text=json.dumps(body),
            status=200 if report.ready else 503,
            content_type="application/json",
        )
        return response

    app: web.Application = aio.Application()
    app.router.add_get(metrics_path, metrics_handler)
    app.router.add_get(health_path, health_handler)
    app.router.add_get(ready_path, ready_handler)
    return app


class TelemetryServer(Lifecycle):
    """Serves :func:`create_app` on *host*:*port* (a :class:`Lifecycle`: ``async with``).

    Args:
        metrics: The registry to expose (default: :meth:`Metrics.default`).
        health: The health checks (default: none, always ok).
        host: Interface to bind; loopback by default.
        port: TCP port; 0 picks a free one (see :attr:`port`).
    """

    def __init__(
        self,
        metrics: Metrics | None = None,
        health: Health | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.metrics = metrics
        self.health = health
        self.host = host
        self._port = port
        self._runner: Any = None

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self._port}"

    async def _on_start(self) -> None:
        web = _aiohttp()
        runner = web.AppRunner(create_app(self.metrics, self.health), access_log=None)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        server = site._server
        if server is not None and server.sockets:
            self._port = int(server.sockets[0].getsockname()[1])

    async def _on_stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def start_http_server(
    metrics: Metrics | None = None, *, port: int = 0, addr: str = "127.0.0.1"
) -> tuple[Any, threading.Thread]:
    """Serve ``/metrics`` with prometheus_client's own HTTP server in a daemon thread.

    For applications without aiohttp. Returns ``(server, thread)``; stop with
    ``server.shutdown()``. ``server.server_port`` is the bound port.
    """
    import prometheus_client

    registry = (metrics if metrics is not None else Metrics.default()).registry
    server, thread = prometheus_client.start_http_server(port, addr=addr, registry=registry)
    return server, thread
