"""Real servers on 127.0.0.1 serving the same application three ways.

* Starlette under uvicorn, with ``app.add_middleware(PepperPyMiddleware, web=...)``;
* FastAPI under uvicorn, permissions as dependencies;
* aiohttp's web server with ``pepperpy.web.aiohttp.setup``.

Each is driven by pepperpy-net's ``HttpClient``. The routes exercise every
feature: the request id and route in pepperpy.context, a handler raising each
error class, bearer tokens and a permission, validated JSON bodies, a
registry scope per request and the registry's lifespan, /metrics, /healthz
and /readyz.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import pytest
import uvicorn
from aiohttp import web as aioweb
from starlette.requests import Request  # module level: FastAPI resolves annotations here

from pepperpy import context
from pepperpy.core import (
    ConflictError,
    ExternalError,
    NotFoundError,
    OperationTimeoutError,
    ValidationError,
)
from pepperpy.core.exceptions import ErrorDetail
from pepperpy.net import HttpClient
from pepperpy.registry import Registry
from pepperpy.security import (
    AuthenticationError,
    AuthFailure,
    EphemeralKeyRingWarning,
    Policy,
    Principal,
    Security,
)
from pepperpy.telemetry import Health, InMemoryExporter, Metrics, Tracer
from pepperpy.validation import Validation
from pepperpy.web import Web
from pepperpy.web.security import principal, requires

SECRET = "hunter2-s3cr3t"

logger = logging.getLogger("tests.web.handlers")


@attrs.define
class Item:
    """The attrs class bodies are validated against."""

    name: str
    qty: int


CHECKED = Validation({"name": str, "qty": int}, coerce=True)
"""A pepperpy-validation instance given to ``json_body`` as is (issue 25 gap d)."""


class Counter:
    """A singleton created and cleaned up by the app's lifespan (via the registry)."""

    def __init__(self) -> None:
        self.events: list[str] = []


class PerRequest:
    """A scoped service: one per request."""

    created = 0

    def __init__(self) -> None:
        PerRequest.created += 1
        self.number = PerRequest.created


def error_for(kind: str) -> BaseException:
    """The error a handler raises for /raise/{kind}."""
    errors: dict[str, BaseException] = {
        "validation": ValidationError(errors=[ErrorDetail("/name", "required", code="missing")]),
        "not_found": NotFoundError("No such thing."),
        "conflict": ConflictError("Version mismatch."),
        "authentication": AuthenticationError(AuthFailure.EXPIRED),
        "timeout": OperationTimeoutError(f"db at postgres://app:{SECRET}@db timed out"),
        "external": ExternalError(f"upstream said password={SECRET}"),
        "secret_message": NotFoundError(f"no user; password={SECRET}"),
        "runtime": RuntimeError(f"boom password={SECRET}"),
    }
    return errors[kind]


@attrs.define
class Stack:
    """One application's PepperPy parts, for assertions."""

    web: Web
    security: Security
    metrics: Metrics
    spans: InMemoryExporter
    health: Health
    registry: Registry
    counter: Counter
    release: asyncio.Event = attrs.field(factory=asyncio.Event)
    slow_done: list[str] = attrs.field(factory=list)

    async def relay(self, base: str) -> dict[str, Any]:
        """Call this same server with pepperpy-net (context propagated) and report both sides."""
        async with HttpClient(base, retry=None, circuit_breaker=None) as http:
            downstream = json.loads(await (await http.get("/users/7")).text())
        return {
            "upstream": {
                "request_id": context.get("request_id"),
                "trace_id": context.get("trace_id"),
            },
            "downstream": downstream,
        }

    async def slow(self) -> dict[str, Any]:
        """A handler body that waits until the test releases it."""
        rid = context.get("request_id")
        await self.release.wait()
        self.slow_done.append(context.get("request_id"))
        return {"request_id": rid}


def make_stack(**web_options: Any) -> Stack:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EphemeralKeyRingWarning)
        policy = Policy().role("admin", "admin:read")
        security = Security(policy=policy)
    metrics = Metrics()
    spans = InMemoryExporter()
    tracer = Tracer("test", exporters=[spans])
    health = Health()
    registry = Registry()
    counter = Counter()

    async def make_counter() -> AsyncIterator[Counter]:
        counter.events.append("start")
        yield counter
        counter.events.append("stop")

    registry.register(Counter, make_counter)
    registry.register(PerRequest, lifetime="scoped")
    web = Web(
        security=security,
        metrics=metrics,
        tracer=tracer,
        health=health,
        registry=registry,
        max_body_size=web_options.pop("max_body_size", 4096),
        **web_options,
    )
    return Stack(web, security, metrics, spans, health, registry, counter)


def _whoami() -> dict[str, Any]:
    logger.info("handling", extra={"seen_request_id": context.get("request_id")})
    return {
        "request_id": context.get("request_id"),
        "route": context.get("route"),
        "trace_id": context.get("trace_id"),
    }


async def _slow_whoami() -> dict[str, Any]:
    before = context.get("request_id")
    await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    after = _whoami()
    after["before"] = before
    return after


# --------------------------------------------------------------------- Starlette


def starlette_app(stack: Stack) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from pepperpy.web.asgi import PepperPyMiddleware, json_body

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(await _slow_whoami())

    async def user(request: Request) -> JSONResponse:
        return JSONResponse(_whoami())

    async def raise_(request: Request) -> JSONResponse:
        raise error_for(request.path_params["kind"])

    async def items(request: Request) -> JSONResponse:
        item = await json_body(request, Item)
        return JSONResponse(attrs.asdict(item))

    async def checked(request: Request) -> JSONResponse:
        return JSONResponse(await json_body(request, CHECKED))

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"id": principal().id, "bound": context.get("principal")})

    @requires("admin:read")
    async def admin(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "id": principal().id})

    async def scoped(request: Request) -> JSONResponse:
        a = await stack.registry.get(PerRequest)
        b = await stack.registry.get(PerRequest)
        return JSONResponse({"same": a is b, "number": a.number})

    async def slow(request: Request) -> JSONResponse:
        return JSONResponse(await stack.slow())

    async def relay(request: Request) -> JSONResponse:
        return JSONResponse(await stack.relay(str(request.base_url)))

    app = Starlette(
        routes=[
            Route("/relay", relay),
            Route("/slow", slow),
            Route("/hello", hello),
            Route("/users/{user_id}", user),
            Route("/raise/{kind}", raise_),
            Route("/items", items, methods=["POST"]),
            Route("/checked", checked, methods=["POST"]),
            Route("/me", me),
            Route("/admin", admin),
            Route("/scoped", scoped),
        ]
    )
    app.add_middleware(PepperPyMiddleware, web=stack.web)
    return app


# ----------------------------------------------------------------------- FastAPI


def fastapi_app(stack: Stack) -> Any:
    from fastapi import Depends, FastAPI

    from pepperpy.web.asgi import PepperPyMiddleware, body, json_body
    from pepperpy.web.security import permission

    app = FastAPI()

    @app.post("/items-dependency")
    async def items_dependency(item: Item = Depends(body(Item))) -> dict[str, Any]:  # noqa: B008
        return attrs.asdict(item)

    @app.get("/relay")
    async def relay(request: Request) -> dict[str, Any]:
        return await stack.relay(str(request.base_url))

    @app.get("/slow")
    async def slow() -> dict[str, Any]:
        return await stack.slow()

    @app.get("/hello")
    async def hello() -> dict[str, Any]:
        return await _slow_whoami()

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> dict[str, Any]:
        return _whoami()

    @app.get("/raise/{kind}")
    async def raise_(kind: str) -> None:
        raise error_for(kind)

    @app.post("/items")
    async def items(request: Request) -> dict[str, Any]:
        item = await json_body(request, Item)
        return attrs.asdict(item)

    @app.post("/checked")
    async def checked(request: Request) -> Any:
        return await json_body(request, CHECKED)

    @app.get("/me")
    async def me() -> dict[str, Any]:
        return {"id": principal().id, "bound": context.get("principal")}

    @app.get("/admin")
    async def admin(who: Principal = Depends(permission("admin:read"))) -> dict[str, Any]:  # noqa: B008
        return {"ok": True, "id": who.id}

    @app.get("/scoped")
    async def scoped() -> dict[str, Any]:
        a = await stack.registry.get(PerRequest)
        b = await stack.registry.get(PerRequest)
        return {"same": a is b, "number": a.number}

    app.add_middleware(PepperPyMiddleware, web=stack.web)
    return app


# ----------------------------------------------------------------------- aiohttp


def aiohttp_app(stack: Stack) -> aioweb.Application:
    from pepperpy.web.aiohttp import json_body, setup

    async def hello(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response(await _slow_whoami())

    async def user(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response(_whoami())

    async def raise_(request: aioweb.Request) -> aioweb.Response:
        raise error_for(request.match_info["kind"])

    async def items(request: aioweb.Request) -> aioweb.Response:
        item = await json_body(request, Item)
        return aioweb.json_response(attrs.asdict(item))

    async def checked(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response(await json_body(request, CHECKED))

    async def me(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response({"id": principal().id, "bound": context.get("principal")})

    @requires("admin:read")
    async def admin(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response({"ok": True, "id": principal().id})

    async def scoped(request: aioweb.Request) -> aioweb.Response:
        a = await stack.registry.get(PerRequest)
        b = await stack.registry.get(PerRequest)
        return aioweb.json_response({"same": a is b, "number": a.number})

    async def slow(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response(await stack.slow())

    async def relay(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response(await stack.relay(str(request.url.origin())))

    app = aioweb.Application()
    app.router.add_get("/relay", relay)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hello", hello)
    app.router.add_get("/users/{user_id}", user)
    app.router.add_get("/raise/{kind}", raise_)
    app.router.add_post("/items", items)
    app.router.add_post("/checked", checked)
    app.router.add_get("/me", me)
    app.router.add_get("/admin", admin)
    app.router.add_get("/scoped", scoped)
    setup(app, stack.web)
    return app


# ------------------------------------------------------------------------ servers


@attrs.define
class Served:
    """A running server: its base URL, its stack and its framework's name."""

    kind: str
    url: str
    stack: Stack


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def _serve_uvicorn(app: Any) -> tuple[str, Callable[[], Awaitable[None]]]:
    sock = _socket()
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)

    async def stop() -> None:
        server.should_exit = True
        await task
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


async def _serve_aiohttp(app: aioweb.Application) -> tuple[str, Callable[[], Awaitable[None]]]:
    runner = aioweb.AppRunner(app, access_log=None)
    await runner.setup()
    site = aioweb.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}", runner.cleanup


async def serve(kind: str, stack: Stack) -> tuple[str, Callable[[], Awaitable[None]]]:
    """Start *kind*'s app for *stack*; return its URL and a stop function."""
    if kind == "starlette":
        return await _serve_uvicorn(starlette_app(stack))
    if kind == "fastapi":
        return await _serve_uvicorn(fastapi_app(stack))
    return await _serve_aiohttp(aiohttp_app(stack))


FRAMEWORKS = ["starlette", "fastapi", "aiohttp"]


@pytest.fixture(params=FRAMEWORKS)
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    stack = make_stack()
    url, stop = await serve(request.param, stack)
    try:
        yield Served(request.param, url, stack)
    finally:
        await stop()


@pytest.fixture
async def client(served: Served) -> AsyncIterator[HttpClient]:
    async with HttpClient(
        served.url, retry=None, circuit_breaker=None, propagate_context=False
    ) as http:
        yield http


async def _problem(response: Any) -> dict[str, Any]:
    """The problem-details body of *response* (checking its content type)."""
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = json.loads(await response.text())
    return body


@attrs.define
class Kit:
    """Helpers for test modules (pytest's importlib mode keeps conftest unimportable)."""

    secret: str = SECRET
    make_stack: Callable[..., Stack] = make_stack
    serve: Callable[[str, Stack], Awaitable[tuple[str, Callable[[], Awaitable[None]]]]] = serve
    problem: Callable[[Any], Awaitable[dict[str, Any]]] = _problem
    frameworks: tuple[str, ...] = tuple(FRAMEWORKS)
    per_request: type = PerRequest


@pytest.fixture
def kit() -> Kit:
    return Kit()
