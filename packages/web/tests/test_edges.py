"""Issue 25, behaviours at the edges of the ASGI adapter and the core, called in-process.

Real Starlette applications (routers, mounts) are called through the
middleware directly: the cases need control over the ASGI messages (a
cancelled request, a response already under way, a WebSocket scope) that a
client on a socket cannot give deterministically.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from pepperpy import context
from pepperpy.core import InvalidArgumentError, NotFoundError
from pepperpy.registry import Registry
from pepperpy.telemetry import Metrics
from pepperpy.web import ERRORS, Problem, Web
from pepperpy.web.asgi import PepperPyMiddleware


async def call(app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    """Call *app* with a GET of *path*; return (status, headers, body)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
    }
    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m["body"] for m in sent[1:])


async def counts(metrics: Metrics) -> dict[tuple[str, str, str], float]:
    body, _ = await metrics.arender(None)
    text = body.decode() if isinstance(body, bytes) else body
    out: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "http_server_requests_total":
                out[(s.labels["method"], s.labels["route"], s.labels["status"])] = s.value
    return out


async def in_flight(metrics: Metrics) -> list[float]:
    body, _ = await metrics.arender(None)
    text = body.decode() if isinstance(body, bytes) else body
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return [s.value for s in families["http_server_requests_in_flight"].samples]


# ---------------------------------------------------------- route templates


@pytest.mark.parametrize("wrap", ["add_middleware", "outside"])
async def test_mounted_routes_are_labelled_by_their_full_template(wrap: str) -> None:
    """issue 25 (metrics): a route inside a Mount is /api/items/{item_id}, in the context
    while the handler runs and in the metrics, whether the middleware is added with
    ``app.add_middleware`` or wraps the application from outside (both documented)."""

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"route": context.get("route")})

    app = Starlette(routes=[Mount("/api", routes=[Route("/items/{item_id}", item)])])
    metrics = Metrics()
    if wrap == "add_middleware":
        app.add_middleware(PepperPyMiddleware, web=Web(metrics=metrics))
        served: Any = app
    else:
        served = PepperPyMiddleware(app, web=Web(metrics=metrics))
    status, _, body = await call(served, "/api/items/5")
    assert status == 200
    assert json.loads(body) == {"route": "/api/items/{item_id}"}
    status, _, _ = await call(served, "/api/nothing/here")
    assert status == 404
    seen = await counts(metrics)
    assert seen[("GET", "/api/items/{item_id}", "200")] == 1
    assert seen[("GET", "<unmatched>", "404")] == 1
    assert not any("5" in route or "nothing" in route for _, route, _ in seen)


# ------------------------------------------------------------- construction


def test_the_adapters_refuse_what_they_cannot_serve() -> None:
    """issue 25 (bad arguments): a clear, catalogued error instead of a crash per request."""
    from pepperpy.web.aiohttp import middleware

    cases = [
        (lambda: PepperPyMiddleware("app"), "pepperpy.web.app"),  # type: ignore[arg-type]
        (lambda: PepperPyMiddleware(_never, web="web"), "pepperpy.web.web"),  # type: ignore[arg-type]
        (lambda: middleware("web"), "pepperpy.web.web"),  # type: ignore[arg-type]
        (lambda: Web(max_body_size=1.5), "pepperpy.web.max_body_size"),  # type: ignore[arg-type]
        (lambda: Web(strict_traceparent=None), "pepperpy.web.flag"),  # type: ignore[arg-type]
    ]
    for build, code in cases:
        with pytest.raises(InvalidArgumentError) as caught:
            build()
        assert caught.value.code == code
        assert isinstance(caught.value, ERRORS[code].error)


async def _never(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called")


# ----------------------------------------------------------------- protocol


async def test_websocket_scopes_pass_through_untouched() -> None:
    """issue 25 (ASGI): WebSocket connections reach the app as they came (no HTTP handling)."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send, context.get("request_id")))

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing is sent for the app")

    scope = {"type": "websocket", "path": "/ws", "headers": [(b"x-note", b"a\r\nb")]}
    await PepperPyMiddleware(app, web=Web())(scope, receive, send)
    assert seen == [(scope, receive, send, None)]


async def test_a_content_length_that_is_not_a_number_is_a_400() -> None:
    """issue 25 (bad input): Content-Length: 12abc is a problem, not a crash or a hang."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the handler never runs")

    status, headers, body = await call(
        PepperPyMiddleware(app, web=Web()), "/", [(b"content-length", b"12abc")]
    )
    assert status == 400
    assert json.loads(body)["code"] == "pepperpy.web.bad_header"
    assert headers[b"content-type"] == b"application/problem+json"


async def test_an_error_after_the_response_started_reaches_the_server() -> None:
    """issue 25 (errors): once headers are sent no problem can replace them: the error
    propagates so the server aborts the connection, and the request is counted as sent."""
    metrics = Metrics()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise NotFoundError("gone mid-stream")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/stream", "headers": []}
    with pytest.raises(NotFoundError):
        await PepperPyMiddleware(app, web=Web(metrics=metrics))(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert sent[0]["status"] == 200
    assert (await counts(metrics))[("GET", "<unmatched>", "404")] == 1
    assert await in_flight(metrics) == [0]


async def test_a_request_cancelled_by_the_server_is_counted_as_499() -> None:
    """issue 25 (cancellation): a client that goes away (the server cancels the request task)
    is counted under 499, the in-flight gauge returns to 0 and the context is left."""
    metrics = Metrics()
    entered = asyncio.Event()

    async def handler(request: Request) -> JSONResponse:
        entered.set()
        await asyncio.Event().wait()  # until cancelled
        raise AssertionError("not reached")

    app = PepperPyMiddleware(Starlette(routes=[Route("/slow", handler)]), web=Web(metrics=metrics))
    task = asyncio.ensure_future(call(app, "/slow"))
    await entered.wait()
    assert await in_flight(metrics) == [1]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await counts(metrics))[("GET", "/slow", "499")] == 1
    assert await in_flight(metrics) == [0]
    assert context.get("request_id") is None


async def test_a_registry_scope_that_cannot_open_still_leaves_the_request_clean() -> None:
    """issue 25 (DI): a scope that fails to open is a 500 problem; nothing stays bound."""

    class Closed(Registry):
        def scope(self) -> Any:  # a registry that refuses new scopes (e.g. shutting down)
            raise NotFoundError("no scopes while stopping")

    metrics = Metrics()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the handler never runs")

    web = Web(metrics=metrics, registry=Closed())
    with pytest.raises(NotFoundError):
        await call(PepperPyMiddleware(app, web=web), "/x")
    assert await in_flight(metrics) == [0]
    assert (await counts(metrics))[("GET", "<unmatched>", "500")] == 1
    assert context.get("request_id") is None


# -------------------------------------------------------------- problems


def test_a_status_without_a_reason_phrase_has_a_generic_title() -> None:
    """issue 25 (errors): Web(statuses={X: 599}) gives title "Error", not a crash."""
    assert Problem(599, "app.odd", "x").title == "Error"
    assert Problem(404, "app.nf", "x").to_dict()["title"] == "Not Found"
    assert "request_id" not in Problem(404, "app.nf", "x").to_dict()


# ------------------------------------------------------------------ permissions


def test_permission_checks_outside_a_served_request_say_what_is_missing() -> None:
    """issue 25 (authorization): authorize() with no Web(security=...) serving the request is
    a catalogued configuration error, not an AttributeError; an empty action is refused."""
    from pepperpy.security import Principal, use_principal
    from pepperpy.web.security import authorize, permission, requires

    with use_principal(Principal("ann", roles=frozenset({"admin"}))):
        with pytest.raises(InvalidArgumentError) as caught:
            authorize("docs:write")
    assert caught.value.code == "pepperpy.web.no_security"
    for make in (requires, permission):
        with pytest.raises(InvalidArgumentError) as bad:
            make("")
        assert bad.value.code == "pepperpy.web.action"


# -------------------------------------------------------------------- lifespan


async def test_startup_and_shutdown_with_only_the_parts_given() -> None:
    """issue 25 (lifespan): readiness without a registry, a registry without health."""
    from pepperpy.telemetry import Health

    health = Health()
    only_health = Web(health=health)
    await only_health.startup()
    assert health.ready
    await only_health.shutdown()
    assert not health.ready

    events: list[str] = []

    class Pool:
        pass

    async def make_pool() -> Any:
        events.append("open")
        yield Pool()
        events.append("close")

    registry = Registry()
    registry.register(Pool, make_pool)
    only_registry = Web(registry=registry)
    await only_registry.startup()
    assert events == ["open"]
    await only_registry.shutdown()
    assert events == ["open", "close"]
