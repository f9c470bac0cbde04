"""pepperpy.web: a hello-world route with the full middleware stack vs the bare framework.

Three measurements (issue 25's target: the whole stack costs at most 1.3x the
bare framework's time per request, and no more than the hand-assembled peer
stack):

* in-process ASGI: one op = one request through a Starlette app called
  directly (no sockets, no HTTP parsing): the strictest view of the
  middleware's own cost;
* Starlette under uvicorn and aiohttp's server, each in its own process on
  127.0.0.1: one op = 2,000 GETs from 50 concurrent workers of a raw aiohttp
  client session.

"Full stack" is ``Web(security, metrics, tracer, health, registry)``: request
id and trace context in pepperpy.context, a server span (no exporter), the
request counter, latency histogram and in-flight gauge by route template, a
registry scope per request, problem details on error (none raised here). The
peer stack is asgi-correlation-id + starlette-exporter (request id and
Prometheus metrics by route template).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from typing import Any

from harness import acompare

REQUIRES = ["starlette", "uvicorn", "asgi-correlation-id", "starlette-exporter"]

_REQUEST_ID = b"1b4e28ba-2fa1-4d2b-883f-0016d3cca427"
TOTAL = 2000
CONCURRENCY = 50

_STACK = r"""
import warnings
from pepperpy.registry import Registry
from pepperpy.security import EphemeralKeyRingWarning, Policy, Security
from pepperpy.telemetry import Health, Metrics, Tracer
from pepperpy.web import Web

def full_web():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EphemeralKeyRingWarning)
        security = Security(policy=Policy())
    return Web(security=security, metrics=Metrics(), tracer=Tracer("bench"), health=Health(),
               registry=Registry())
"""

_STARLETTE = r"""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hello(request):
    return JSONResponse({"hello": "world"})

def starlette_app(kind):
    app = Starlette(routes=[Route("/hello/{name}", hello)])
    if kind == "full":
        from pepperpy.web.asgi import PepperPyMiddleware
        app.add_middleware(PepperPyMiddleware, web=full_web())
    elif kind == "peer":
        from asgi_correlation_id import CorrelationIdMiddleware
        from starlette_exporter import PrometheusMiddleware
        app.add_middleware(PrometheusMiddleware, group_paths=True, app_name="bench")
        app.add_middleware(CorrelationIdMiddleware)
    return app
"""

_UVICORN_SERVER = (
    _STACK
    + _STARLETTE
    + r"""
import asyncio, socket, sys, uvicorn

async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    server = uvicorn.Server(uvicorn.Config(starlette_app(sys.argv[1]), log_level="error",
                                           access_log=False, lifespan="on"))
    server.install_signal_handlers = lambda: None
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    print(sock.getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.should_exit = True
    await task

asyncio.run(main())
"""
)

_AIOHTTP_SERVER = (
    _STACK
    + r"""
import asyncio, socket, sys
from aiohttp import web

async def hello(request):
    return web.json_response({"hello": "world"})

async def main():
    app = web.Application()
    app.router.add_get("/hello/{name}", hello)
    if sys.argv[1] == "full":
        from pepperpy.web.aiohttp import setup
        setup(app, full_web())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock, backlog=512).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()

asyncio.run(main())
"""
)


def _start(script: str, kind: str) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, "-c", script, kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}/hello/ada"


def _stop(server: subprocess.Popen[str]) -> None:
    if server.stdin is not None:
        server.stdin.close()
    server.wait(10)


async def _fan_out(session: Any, url: str) -> None:
    per_worker = TOTAL // CONCURRENCY

    async def worker() -> None:
        for _ in range(per_worker):
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def bench_asgi_in_process():
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(_STACK + _STARLETTE, namespace)  # the same code the servers run
    apps = {kind: namespace["starlette_app"](kind) for kind in ("full", "bare", "peer")}
    scope_template = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/hello/ada",
        "raw_path": b"/hello/ada",
        "root_path": "",
        "query_string": b"",
        # a UUID4: asgi-correlation-id's default validator accepts it (no warning logged)
        "headers": [(b"host", b"bench"), (b"x-request-id", _REQUEST_ID)],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def caller(app: Any) -> Any:
        async def call() -> None:
            statuses: list[int] = []

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await app(dict(scope_template), receive, send)
            assert statuses == [200], statuses

        return call

    return await acompare(
        "web: hello-world through a Starlette app, in-process ASGI (one op = 1 request)",
        {
            "pepperpy-web full stack": caller(apps["full"]),
            "starlette (bare)": caller(apps["bare"]),
            "asgi-correlation-id + starlette-exporter": caller(apps["peer"]),
        },
        inner=500,
        samples=30,
        note="target: <= 1.3x bare, <= peer stack",
    )


async def bench_starlette_under_uvicorn():
    import aiohttp

    servers = {kind: _start(_UVICORN_SERVER, kind) for kind in ("full", "bare", "peer")}
    try:
        limits = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=limits) as session:
            urls = {kind: _url(port) for kind, (_, port) in servers.items()}
            return await acompare(
                "web: Starlette under uvicorn, 2,000 GETs at concurrency 50 (one op = 2,000)",
                {
                    "pepperpy-web full stack": lambda: _fan_out(session, urls["full"]),
                    "starlette (bare)": lambda: _fan_out(session, urls["bare"]),
                    "asgi-correlation-id + starlette-exporter": lambda: _fan_out(
                        session, urls["peer"]
                    ),
                },
                inner=1,
                samples=9,
                note="target: <= 1.3x bare, <= peer stack",
            )
    finally:
        for server, _ in servers.values():
            _stop(server)


async def bench_aiohttp_server():
    import aiohttp

    servers = {kind: _start(_AIOHTTP_SERVER, kind) for kind in ("full", "bare")}
    try:
        limits = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=limits) as session:
            urls = {kind: _url(port) for kind, (_, port) in servers.items()}
            return await acompare(
                "web: aiohttp server, 2,000 GETs at concurrency 50 (one op = 2,000)",
                {
                    "pepperpy-web full stack": lambda: _fan_out(session, urls["full"]),
                    "aiohttp (bare)": lambda: _fan_out(session, urls["bare"]),
                },
                inner=1,
                samples=9,
                note="target: <= 1.3x bare",
            )
    finally:
        for server, _ in servers.values():
            _stop(server)
