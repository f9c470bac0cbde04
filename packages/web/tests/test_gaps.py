"""Issue 25, the remaining gaps, on real servers (Starlette, FastAPI, aiohttp) and pepperpy-net.

* gap b: the built-in ``/metrics``, ``/healthz`` and ``/readyz`` carry a request id and are
  counted in ``http_server_requests_total``; like starlette-exporter's ``skip_paths`` and
  OpenTelemetry's excluded URLs they stay out of the latency histogram, the in-flight gauge
  and tracing unless ``Web(observe_builtins=True)``; asgi-correlation-id gives every
  response its ``X-Request-ID``, probes included.
* gap c: ``Web(ready_on_startup=False)``: ``/readyz`` is 503 after startup until the
  application calls ``health.set_ready()`` (a Kubernetes readiness probe waits for warm-up).
* gap d: ``json_body`` accepts a pepperpy-validation ``Validation(...)`` instance.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pepperpy import context
from pepperpy.net import HttpClient
from pepperpy.validation import Validation
from pepperpy.web.validation import read_json

BUILTINS = ("/metrics", "/healthz", "/readyz")


def _samples(text: str, name: str) -> dict[tuple[str, str, str], float]:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    family = families.get(name.removesuffix("_total").removesuffix("_count"))
    if family is None:
        return {}
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in family.samples
        if s.name == name
    }


async def _scrape(client: HttpClient) -> str:
    r = await client.get("/metrics")
    assert r.status == 200
    return await r.text()


# ------------------------------------------------------------------ gap b: built-ins


@pytest.mark.parametrize("path", BUILTINS)
async def test_builtin_endpoints_return_the_request_id(
    served: Any, client: HttpClient, path: str
) -> None:
    """issue 25 gap b: a probe's X-Request-ID is echoed, or a new one is made and returned."""
    r = await client.get(path, headers={"X-Request-ID": "probe-1"})
    assert r.status == 200
    assert r.headers["X-Request-ID"] == "probe-1"
    r = await client.get(path)
    made = r.headers["X-Request-ID"]
    assert len(made) == 32 and made != "probe-1"


async def test_health_checks_run_in_the_probes_request_context(
    served: Any, client: HttpClient
) -> None:
    """issue 25 gap b: a health check's logs carry the probe's request id (context is bound)."""
    seen: list[Any] = []

    async def check() -> bool:
        seen.append((context.get("request_id"), context.get("route")))
        return True

    served.stack.health.register_check("ctx", check)
    r = await client.get("/healthz", headers={"X-Request-ID": "probe-2"})
    assert r.status == 200
    assert seen == [("probe-2", "/healthz")]


async def test_builtins_are_counted_but_not_timed_or_traced(
    served: Any, client: HttpClient
) -> None:
    """issue 25 gap b: counted by route and status; no latency, in-flight or span by default."""
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    assert (await client.get("/users/1")).status == 200
    await _scrape(client)
    text = await _scrape(client)  # the first scrape is counted once it has finished
    counts = _samples(text, "http_server_requests_total")
    assert counts[("GET", "/healthz", "200")] == 1
    assert counts[("GET", "/readyz", "200")] == 1
    assert counts[("GET", "/metrics", "200")] == 1
    assert counts[("GET", "/users/{user_id}", "200")] == 1
    timed = _samples(text, "http_server_request_duration_seconds_count")
    assert {route for _, route, _ in timed} == {"/users/{user_id}"}
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert [s.value for s in families["http_server_requests_in_flight"].samples] == [0]
    names = [span.name for span in served.stack.spans.spans]
    assert "GET /users/{user_id}" in names
    assert not [name for name in names if name.split()[-1] in BUILTINS]


async def test_failing_readiness_is_counted_with_its_status(
    served: Any, client: HttpClient
) -> None:
    """issue 25 gap b: a 503 probe is counted under 503 (alerting on failed probes works)."""
    served.stack.health.set_ready(False)
    r = await client.get("/readyz", headers={"X-Request-ID": "probe-3"})
    assert r.status == 503
    assert r.headers["X-Request-ID"] == "probe-3"
    counts = _samples(await _scrape(client), "http_server_requests_total")
    assert counts[("GET", "/readyz", "503")] == 1


@pytest.mark.parametrize("framework", ["starlette", "fastapi", "aiohttp"])
async def test_observe_builtins_times_and_traces_them(kit: Any, framework: str) -> None:
    """issue 25 gap b: Web(observe_builtins=True) treats the built-ins like any route."""
    stack = kit.make_stack(observe_builtins=True)
    url, stop = await kit.serve(framework, stack)
    try:
        async with HttpClient(url, retry=None, circuit_breaker=None) as client:
            assert (await client.get("/healthz")).status == 200
            text = await _scrape(client)
            families = {f.name: f for f in text_string_to_metric_families(text)}
            in_flight = [s.value for s in families["http_server_requests_in_flight"].samples]
            assert in_flight == [1]  # the scrape itself is being served
            text = await _scrape(client)
    finally:
        await stop()
    timed = _samples(text, "http_server_request_duration_seconds_count")
    assert timed[("GET", "/healthz", "200")] == 1
    assert timed[("GET", "/metrics", "200")] == 1  # the first scrape; the second is rendering
    assert [s.name for s in stack.spans.find("GET /healthz")] == ["GET /healthz"]


async def test_a_bad_header_on_a_probe_is_a_problem_with_the_request_id(kit: Any) -> None:
    """issue 25 gap b: built-ins share the request path: bad input is a problem-details 400."""
    from pepperpy.web.asgi import PepperPyMiddleware

    stack = kit.make_stack()
    middleware = PepperPyMiddleware(_never_called, web=stack.web)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/healthz",
        "headers": [(b"x-request-id", b"probe-4"), (b"x-note", b"a\r\nb")],
    }
    await middleware(scope, receive, send)
    assert sent[0]["status"] == 400
    headers = dict(sent[0]["headers"])
    assert headers[b"x-request-id"] == b"probe-4"
    assert headers[b"content-type"] == b"application/problem+json"
    assert json.loads(sent[1]["body"])["code"] == "pepperpy.web.bad_header"


async def _never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the built-in endpoint is answered by the middleware")


# ------------------------------------------------------------------ gap c: readiness


@pytest.mark.parametrize("framework", ["starlette", "fastapi", "aiohttp"])
async def test_ready_on_startup_false_waits_for_the_application(kit: Any, framework: str) -> None:
    """issue 25 gap c: not ready after startup until the app says so; not ready after shutdown."""
    stack = kit.make_stack(ready_on_startup=False)
    url, stop = await kit.serve(framework, stack)
    try:
        assert stack.counter.events == ["start"]  # the registry did start
        async with HttpClient(url, retry=None, circuit_breaker=None) as client:
            r = await client.get("/readyz")
            assert r.status == 503
            assert json.loads(await r.text())["ready"] is False
            assert (await client.get("/healthz")).status == 200  # alive, only not ready
            stack.health.set_ready()  # the documented way: warm-up done
            r = await client.get("/readyz")
            assert r.status == 200
            assert json.loads(await r.text())["ready"] is True
    finally:
        await stop()
    assert not stack.health.ready


def test_ready_on_startup_must_be_a_bool(kit: Any) -> None:
    """issue 25 gap c: a non-bool ready_on_startup is refused up front."""
    from pepperpy.core import InvalidArgumentError

    with pytest.raises(InvalidArgumentError) as caught:
        kit.make_stack(ready_on_startup="no")
    assert caught.value.code == "pepperpy.web.flag"


# ------------------------------------------------------------ gap d: Validation(...)


async def test_json_body_accepts_a_validation_instance(served: Any, client: HttpClient) -> None:
    """issue 25 gap d: json_body(request, Validation(spec)) validates with that instance."""
    r = await client.post("/checked", json={"name": "pen", "qty": "2"})
    assert r.status == 200  # the instance's coerce=True turned "2" into 2
    assert json.loads(await r.text()) == {"name": "pen", "qty": 2}
    r = await client.post("/checked", json={"qty": "many"})
    assert r.status == 422
    pointers = sorted(e["pointer"] for e in json.loads(await r.text())["errors"])
    assert pointers == ["/name", "/qty"]


async def test_read_json_accepts_a_validation_instance() -> None:
    """issue 25 gap d: the framework-neutral read_json takes the instance too."""
    checked = Validation({"title": str, "pages": int})
    data = await read_json(b'{"title": "a", "pages": 3}', "application/json", checked)
    assert data == {"title": "a", "pages": 3}
    bare = Validation()  # no schema: the parsed JSON, as Validation() itself returns it
    assert await read_json(b"[1, 2]", "application/json", bare) == [1, 2]


# ------------------------------------------- request id on streamed aiohttp responses


async def test_a_streamed_aiohttp_response_carries_the_request_id(kit: Any) -> None:
    """issue 25 (request id, as asgi-correlation-id does for every response): a handler that
    prepares its own StreamResponse (server-sent events, downloads) still returns the id."""
    from aiohttp import web as aioweb

    from pepperpy.web import Web
    from pepperpy.web.aiohttp import setup

    async def events(request: aioweb.Request) -> aioweb.StreamResponse:
        response = aioweb.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)  # headers leave here, before the middleware sees it
        await response.write(f"data: {context.get('request_id')}\n\n".encode())
        await response.write_eof()
        return response

    app = aioweb.Application()
    app.router.add_get("/events", events)
    setup(app, Web())
    runner = aioweb.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await aioweb.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with HttpClient(url, retry=None, circuit_breaker=None) as client:
            r = await client.get("/events", headers={"X-Request-ID": "sse-1"})
            assert r.status == 200
            assert r.headers["X-Request-ID"] == "sse-1"
            assert await r.text() == "data: sse-1\n\n"
    finally:
        await runner.cleanup()
