"""Issue 25 on real servers: Starlette and FastAPI under uvicorn, aiohttp; pepperpy-net's client.

Each test runs on the three frameworks (the ``served`` fixture), so one code
path per feature is checked three ways.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pepperpy.net import HttpClient

# -------------------------------------------------------------- problem details

EXPECTED = {
    # kind: (status, code)
    "validation": (422, "pepperpy.validation"),
    "not_found": (404, "pepperpy.not_found"),
    "conflict": (409, "pepperpy.conflict"),
    "authentication": (401, "pepperpy.security.authentication.expired"),
    "timeout": (504, "pepperpy.timeout"),
    "external": (500, "pepperpy.external"),
    "secret_message": (404, "pepperpy.not_found"),
    "runtime": (500, "pepperpy.web.internal"),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
async def test_each_error_class_is_a_problem(
    served: Any, client: HttpClient, kit: Any, kind: str
) -> None:
    """issue 25 (errors): RFC 9457 body, documented status, code, request id, no secrets."""
    r = await client.get(f"/raise/{kind}", headers={"X-Request-ID": f"rid-{kind}"})
    status, code = EXPECTED[kind]
    assert r.status == status
    body = await kit.problem(r)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["request_id"] == f"rid-{kind}" == r.headers["X-Request-ID"]
    text = json.dumps(body)
    assert kit.secret not in text
    if status >= 500:
        # nothing from the server's internals: not the message, not the class name
        assert "postgres" not in text and "upstream" not in text and "boom" not in text
        assert "RuntimeError" not in text and "Traceback" not in text
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    if kind == "validation":
        assert body["errors"] == [{"pointer": "/name", "detail": "required", "code": "missing"}]
    if kind == "secret_message":
        assert "***" in body["detail"]


# ------------------------------------------------------------------ auth & authz


async def test_auth_failures_and_permission_denials(
    served: Any, client: HttpClient, kit: Any
) -> None:
    """issue 25 (auth): missing, malformed and forged credentials -> 401; denied -> 403."""
    security = served.stack.security
    r = await client.get("/me")
    assert r.status == 401
    assert (await kit.problem(r))["code"] == "pepperpy.web.missing_credentials"
    assert r.headers["WWW-Authenticate"] == "Bearer"

    for header in ("Basic YWxhZGRpbjpvcGVu", "Bearer", "Bearer a b", "Bearer {x}", "token"):
        r = await client.get("/me", headers={"Authorization": header})
        assert r.status == 401, header
        body = await kit.problem(r)
        assert body["code"] == "pepperpy.web.bad_authorization", header
        assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_request"'

    forged = security.issue_token("ann")[:-4] + "AAAA"
    r = await client.get("/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status == 401
    body = await kit.problem(r)
    assert body["code"].startswith("pepperpy.security.authentication.")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert forged not in json.dumps(body)

    ann = security.issue_token("ann", roles=["viewer"])
    r = await client.get("/me", headers={"Authorization": f"Bearer {ann}"})
    assert r.status == 200
    assert json.loads(await r.text()) == {"id": "ann", "bound": "ann"}  # in pepperpy.context too

    r = await client.get("/admin", headers={"Authorization": f"Bearer {ann}"})
    assert r.status == 403
    body = await kit.problem(r)
    assert body["code"] == "pepperpy.security.authorization"

    r = await client.get("/admin")
    assert r.status == 401

    root = security.issue_token("root", roles=["admin"])
    r = await client.get("/admin", headers={"Authorization": f"Bearer {root}"})
    assert r.status == 200
    assert json.loads(await r.text()) == {"ok": True, "id": "root"}


async def test_denial_is_explained_in_debug_logs(
    served: Any, client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    """issue 25 (authz): the Policy's explain() goes to the debug log."""
    token = served.stack.security.issue_token("ann", roles=["viewer"])
    with caplog.at_level(logging.DEBUG, logger="pepperpy.web.security"):
        r = await client.get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 403
    explained = [rec.getMessage() for rec in caplog.records if rec.name == "pepperpy.web.security"]
    assert any(m.startswith("DENY 'ann' -> 'admin:read'") for m in explained), explained


# ------------------------------------------------------------------------ bodies


async def test_bodies(served: Any, client: HttpClient, kit: Any) -> None:
    """issue 25 (bodies, bad input): content type, malformed JSON, size, every error at once."""
    r = await client.post("/items", json={"name": "pen", "qty": 2})
    assert r.status == 200
    assert json.loads(await r.text()) == {"name": "pen", "qty": 2}

    r = await client.post("/items", json={"qty": "many", "extra": 1})
    assert r.status == 422
    body = await kit.problem(r)
    assert body["code"].startswith("pepperpy.validation")
    pointers = sorted(e["pointer"] for e in body["errors"])
    assert pointers == ["/name", "/qty"]  # every error at once

    r = await client.post(
        "/items", content=b'{"name": "pen",', headers={"Content-Type": "application/json"}
    )
    assert r.status == 400
    assert (await kit.problem(r))["code"] == "pepperpy.web.malformed_json"

    r = await client.post(
        "/items", content=b'{"name": NaN, "qty": 1}', headers={"Content-Type": "application/json"}
    )
    assert r.status == 400
    assert (await kit.problem(r))["code"] == "pepperpy.web.malformed_json"

    r = await client.post("/items", content=b"name=pen", headers={"Content-Type": "text/plain"})
    assert r.status == 415
    assert (await kit.problem(r))["code"] == "pepperpy.web.unsupported_media_type"

    big = json.dumps({"name": "x" * 5000, "qty": 1}).encode()
    r = await client.post("/items", content=big, headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert (await kit.problem(r))["code"] == "pepperpy.web.body_too_large"

    async def chunks() -> Any:  # no Content-Length: the limit is counted while reading
        for _ in range(10):
            yield b" " * 1000

    r = await client.post("/items", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert (await kit.problem(r))["code"] == "pepperpy.web.body_too_large"


# ------------------------------------------------------------------- trace context


async def test_traceparent(served: Any, client: HttpClient, kit: Any) -> None:
    """issue 25 (context, bad input): traceparent continued with its sampling; malformed refused."""
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    r = await client.get("/users/1", headers={"traceparent": f"00-{trace_id}-{parent}-01"})
    assert r.status == 200
    assert json.loads(await r.text())["trace_id"] == trace_id
    spans = [s for s in served.stack.spans.spans if s.trace_id == trace_id]
    assert len(spans) == 1
    assert spans[0].parent_id == parent
    assert spans[0].name == "GET /users/{user_id}"
    assert spans[0].attributes["http.status_code"] == 200

    unsampled = "5bf92f3577b34da6a3ce929d0e0e4736"
    r = await client.get("/users/1", headers={"traceparent": f"00-{unsampled}-{parent}-00"})
    assert r.status == 200
    assert not [s for s in served.stack.spans.spans if s.trace_id == unsampled]

    for bad in ("00-xyz", f"00-{'0' * 32}-{parent}-01", f"ff-{trace_id}-{parent}-01"):
        r = await client.get("/users/1", headers={"traceparent": bad})
        assert r.status == 400, bad
        assert (await kit.problem(r))["code"] == "pepperpy.web.bad_traceparent"


# --------------------------------------------------------------- concurrency


async def test_200_concurrent_requests_never_mix(
    served: Any, client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    """issue 25 (context): 200 concurrent requests, distinct ids, logs and spans never mixed."""
    ids = [f"req-{i:03d}" for i in range(200)]
    with caplog.at_level(logging.INFO, logger="tests.web.handlers"):
        responses = await asyncio.gather(
            *(client.get("/hello", headers={"X-Request-ID": rid}) for rid in ids)
        )
    bodies = [json.loads(await r.text()) for r in responses]
    for rid, r, body in zip(ids, responses, bodies, strict=True):
        assert r.status == 200
        assert r.headers["X-Request-ID"] == rid
        assert body["request_id"] == rid
        assert body["before"] == rid  # still the same after the handler awaited
    logged = [
        rec.__dict__["seen_request_id"]
        for rec in caplog.records
        if rec.name == "tests.web.handlers"
    ]
    assert sorted(logged) == ids
    spans = [s for s in served.stack.spans.spans if s.name == "GET /hello"]
    assert sorted(s.request_id for s in spans) == ids
    assert len({s.trace_id for s in spans}) == 200


# ----------------------------------------------------------------------- metrics


async def test_metrics_by_route_template(served: Any, client: HttpClient) -> None:
    """issue 25 (metrics): counts and latency by route template, never the raw path."""
    for n in range(3):
        assert (await client.get(f"/users/{n}")).status == 200
    assert (await client.get("/raise/not_found")).status == 404
    assert (await client.get("/no/such/path/123")).status == 404
    r = await client.get("/metrics")
    assert r.status == 200
    families = {f.name: f for f in text_string_to_metric_families(await r.text())}
    requests = families["http_server_requests"]
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in requests.samples
        if s.name == "http_server_requests_total"
    }
    assert counts[("GET", "/users/{user_id}", "200")] == 3
    assert counts[("GET", "/raise/{kind}", "404")] == 1
    assert counts[("GET", "<unmatched>", "404")] == 1
    assert not any("/users/1" == route or "123" in route for _, route, _ in counts)
    latency = families["http_server_request_duration_seconds"]
    count = [
        s.value
        for s in latency.samples
        if s.name.endswith("_count") and s.labels["route"] == "/users/{user_id}"
    ]
    assert count == [3]
    in_flight = families["http_server_requests_in_flight"]
    assert [s.value for s in in_flight.samples] == [0]


# --------------------------------------------------------- health and lifespan


async def test_health_readiness_and_registry_lifespan(
    served: Any, client: HttpClient, kit: Any
) -> None:
    """issue 25 (health, lifespan, DI): /readyz after startup; a registry scope per request."""
    stack = served.stack
    assert stack.counter.events == ["start"]  # the lifespan started the registry
    r = await client.get("/readyz")
    assert r.status == 200
    assert json.loads(await r.text())["ready"] is True
    r = await client.get("/healthz")
    assert r.status == 200

    stack.health.register_check("db", lambda: False, critical=True)
    r = await client.get("/healthz")
    assert r.status == 503
    r = await client.get("/readyz")
    assert r.status == 503

    first = json.loads(await (await client.get("/scoped")).text())
    second = json.loads(await (await client.get("/scoped")).text())
    assert first["same"] is True and second["same"] is True
    assert first["number"] != second["number"]


@pytest.mark.parametrize("framework", ["starlette", "fastapi", "aiohttp"])
async def test_lifespan_stops_the_registry(kit: Any, framework: str) -> None:
    """issue 25 (lifespan): shutdown stops the registry and declares the service not ready."""
    stack = kit.make_stack()
    _url, stop = await kit.serve(framework, stack)
    try:
        assert stack.counter.events == ["start"]
        assert stack.health.ready
    finally:
        await stop()
    assert stack.counter.events == ["start", "stop"]
    assert not stack.health.ready


# ------------------------------------------------------------------ cancellation


async def test_a_client_that_gives_up_leaves_nothing_behind(
    served: Any, client: HttpClient
) -> None:
    """issue 25 (cancellation): a slow handler whose client went away is counted, not leaked."""
    from pepperpy.net import NetworkError

    with pytest.raises(NetworkError):
        await client.get("/slow", headers={"X-Request-ID": "gone-1"}, timeout=0.2)
    served.stack.release.set()
    for _ in range(500):  # wait (not timed) until the server finished with the request
        r = await client.get("/metrics")
        text = await r.text()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        flight = [s.value for s in families["http_server_requests_in_flight"].samples]
        slow = [
            s
            for s in families["http_server_requests"].samples
            if s.name == "http_server_requests_total" and s.labels["route"] == "/slow"
        ]
        if flight == [0] and slow:
            break
        await asyncio.sleep(0.01)
    assert flight == [0]
    assert len(slow) == 1 and slow[0].value == 1
    assert slow[0].labels["status"] in ("200", "499")
    assert served.stack.slow_done in ([], ["gone-1"])  # finished in its own context, or cancelled


# ------------------------------------------------------------ outgoing calls


async def test_outgoing_pepperpy_net_calls_carry_the_request(
    served: Any, client: HttpClient
) -> None:
    """issue 25 (context): a handler's pepperpy-net call sends the request id and trace on."""
    trace_id, parent = "6bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    r = await client.get(
        "/relay",
        headers={"X-Request-ID": "relay-1", "traceparent": f"00-{trace_id}-{parent}-01"},
    )
    assert r.status == 200
    body = json.loads(await r.text())
    assert body["upstream"] == {"request_id": "relay-1", "trace_id": trace_id}
    assert body["downstream"]["request_id"] == "relay-1"
    assert body["downstream"]["trace_id"] == trace_id
    downstream = [
        s for s in served.stack.spans.spans if s.trace_id == trace_id and s.name.endswith("}")
    ]
    upstream = [s for s in served.stack.spans.spans if s.name == "GET /relay"]
    assert len(downstream) == 1 and len(upstream) == 1
    assert downstream[0].parent_id == upstream[0].span_id  # a child of the server span


async def test_fastapi_body_dependency(kit: Any) -> None:
    """issue 25 (bodies): FastAPI gets a dependency for a validated body, same errors."""
    stack = kit.make_stack()
    url, stop = await kit.serve("fastapi", stack)
    try:
        async with HttpClient(url, retry=None, circuit_breaker=None) as http:
            r = await http.post("/items-dependency", json={"name": "pen", "qty": 2})
            assert r.status == 200
            assert json.loads(await r.text()) == {"name": "pen", "qty": 2}
            r = await http.post("/items-dependency", json={"qty": "x"})
            assert r.status == 422
            body = await kit.problem(r)
            assert sorted(e["pointer"] for e in body["errors"]) == ["/name", "/qty"]
            r = await http.post(
                "/items-dependency", content=b"{", headers={"Content-Type": "application/json"}
            )
            assert r.status == 400
            assert (await kit.problem(r))["code"] == "pepperpy.web.malformed_json"
    finally:
        await stop()
