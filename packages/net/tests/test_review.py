"""Hostile review of pepperpy-net after the issue 17 fixes: the variations next to each finding.

Each test names the promise it attacks. Servers are real aiohttp servers on
127.0.0.1, on a thread of their own, counting what reaches them.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from pepperpy.core import ManualClock
from pepperpy.core.exceptions import InvalidArgumentError, ValidationError
from pepperpy.net import (
    BlockedAddressError,
    CircuitBreakerConfig,
    CircuitState,
    ConnectionClosedError,
    HttpClient,
    Request,
    Retry,
    Timeout,
)

QUICK = Timeout(connect=2, read=5, total=10, pool=2, write=5)


class Server:
    def __init__(self) -> None:
        self.port = 0
        self.hits: Counter[str] = Counter()
        self.headers: dict[str, dict[str, str]] = {}

    def url(self, path: str = "", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _app(server: Server) -> web.Application:
    routes = web.RouteTableDef()

    @routes.route("*", "/redirect/{status}")
    async def redirect(request: web.Request) -> web.Response:
        return web.Response(
            status=int(request.match_info["status"]), headers={"Location": request.query["to"]}
        )

    @routes.route("*", "/echo/{key}")
    async def echo(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        server.hits[key] += 1
        server.headers[key] = dict(request.headers)
        return web.json_response({"ok": True})

    @routes.get("/status/{key}/{code}")
    async def status(request: web.Request) -> web.Response:
        server.hits[request.match_info["key"]] += 1
        return web.Response(status=int(request.match_info["code"]), text="x")

    @routes.get("/deep-json")
    async def deep_json(request: web.Request) -> web.Response:
        depth = 100_000
        return web.Response(body=b"[" * depth + b"]" * depth, content_type="application/json")

    @routes.get("/ws-deep")
    async def ws_deep(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str("[" * 100_000 + "]" * 100_000)
        await ws.receive()
        return ws

    @routes.get("/ws-big")
    async def ws_big(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_bytes(b"x" * 64 * 1024)
        await ws.receive()
        return ws

    @routes.get("/stall-body/{key}")
    async def stall_body(request: web.Request) -> web.StreamResponse:
        """Sends the headers and 100 of 1000 bytes, then goes silent."""
        server.hits[request.match_info["key"]] += 1
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b"a" * 100)
        await asyncio.sleep(60)
        return response

    app = web.Application()
    app.add_routes(routes)
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = Server()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        runner = web.AppRunner(_app(server), handler_cancellation=True)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        server.port = sock.getsockname()[1]
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


class ApiKeyAuth:
    """A custom Auth (the Auth protocol's own example shape) using a non-Authorization header."""

    async def apply(self, request: Request) -> None:
        request.headers["X-Api-Key"] = "s3cr3t"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_custom_auth_credentials_do_not_follow_a_cross_host_redirect(
    server: Server, status: int
) -> None:
    """Auth's promise: "credentials are not sent along a redirect to another host".

    A custom Auth that sets a header other than Authorization (an API key) had
    its header copied onto the cross-origin hop, for every redirect status.
    requests/httpx rebuild auth per hop; urllib3 strips what it knows of.
    """
    key = f"cross-{status}"
    other = server.url(f"/echo/{key}", host="localhost")
    async with HttpClient(server.url(), timeout=QUICK, auth=ApiKeyAuth()) as client:
        same = await client.get(f"/redirect/{status}", params={"to": f"/echo/same-{status}"})
        await same.read()
        assert server.headers[f"same-{status}"].get("X-Api-Key") == "s3cr3t"
        response = await client.get(f"/redirect/{status}", params={"to": other})
        await response.read()
    assert server.hits[key] == 1
    assert "X-Api-Key" not in server.headers[key]


async def test_raw_session_through_a_proxy_is_guarded(server: Server) -> None:
    """SSRFGuard's promise: every connection, "any use of client.session" included.

    A request sent through the raw session with ``proxy=`` on loopback reached it:
    the connector checked only the target URL's literal host, and a proxy resolves
    the target's name itself, out of the guard's sight. A guarded connector now
    refuses proxied requests (and never contacts the proxy).
    """
    async with HttpClient(ssrf_guard=True, timeout=QUICK) as client:
        before = server.hits["proxied"]
        with pytest.raises(BlockedAddressError):
            await client.session.get("http://public.example/echo/proxied", proxy=server.url())
        with pytest.raises(BlockedAddressError):
            await client.session.get(
                "http://93.184.215.14/echo/proxied", proxy="http://public.example:3128"
            )
    assert server.hits["proxied"] == before


SLOW = Timeout(connect=60, read=60, total=60, pool=60, write=60)


@pytest.mark.parametrize("api", ["get", "stream"])
async def test_stop_ends_a_request_reading_its_body(server: Server, api: str) -> None:
    """The lifecycle's promise: a stopped client holds no connection and no request.

    A request blocked reading a silent body outlived ``stop()`` until its own timeout
    (the connection was closed under it, but aiohttp drops the body's reader on close
    without waking it). It now ends at once with ConnectionClosedError.
    """
    client = HttpClient(server.url(), timeout=SLOW, retry=None)
    await client.start()
    if api == "stream":
        context = client.stream("GET", "/stall-body/stop-stream")
        response = await context.__aenter__()

        async def drain() -> None:
            try:
                async for _ in response.iter_bytes():
                    pass
            finally:
                await context.__aexit__(None, None, None)

        task = asyncio.ensure_future(drain())
    else:
        task = asyncio.ensure_future(client.get("/stall-body/stop-get"))
    while not server.hits[f"stop-{api}"]:  # noqa: ASYNC110 - counted on the server's thread
        await asyncio.sleep(0.01)
    await client.stop()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(task, 20)  # a hang guard, far below the 60 s timeouts
    assert client.stats().in_flight == 0


@pytest.mark.parametrize(
    "options",
    [
        {"retry": 3},
        {"circuit_breaker": 5},
        {"rate_limit": 5},
        {"tls": "strict"},
        {"headers": [("Accept", "x")]},
        {"middleware": [5]},
    ],
)
def test_constructor_arguments_of_the_wrong_type_are_invalid_argument(
    options: dict[str, Any],
) -> None:
    """Only PepperPyError escapes: ``HttpClient(retry=3)`` was a raw AttributeError (at
    construction, or later on the first request for ``circuit_breaker=``/``rate_limit=``);
    ``middleware=[5]`` a raw TypeError on the first request."""
    with pytest.raises(InvalidArgumentError):
        HttpClient("http://127.0.0.1:9", **options)


@pytest.mark.parametrize("flag", [True, False])
async def test_constructor_retry_and_breaker_take_a_bool(server: Server, flag: bool) -> None:
    """``retry=False`` works per request (the docs use it) and was a raw AttributeError on
    the client: both spellings now mean the default policy (True) or none (False)."""
    async with HttpClient(server.url(), timeout=QUICK, retry=flag, circuit_breaker=flag) as client:
        response = await client.get(f"/echo/bool-{flag}")
        assert response.status == 200
        assert client.stats().hosts[server.url()].circuit is CircuitState.CLOSED


@pytest.mark.parametrize("options", [{"params": {"a": object()}}, {"data": 5}, {"headers": ["x"]}])
async def test_request_arguments_of_the_wrong_type_are_invalid_argument(
    server: Server, options: dict[str, Any]
) -> None:
    """Only PepperPyError escapes: ``params={"a": object()}`` and ``data=5`` were raw
    TypeErrors from yarl and urlencode; nothing is sent."""
    async with HttpClient(server.url(), timeout=QUICK) as client:
        with pytest.raises(InvalidArgumentError):
            await client.get("/echo/typed", **options)
    assert server.hits["typed"] == 0


async def test_websocket_max_message_size_zero_is_refused(server: Server) -> None:
    """issue 17 #7's limit must hold: ``max_message_size=0`` went to aiohttp, which reads
    0 as "no limit", so a 64 KiB message was received. A size must be an int >= 1."""
    async with HttpClient(server.url(), timeout=QUICK) as client:
        for size in (0, -1, 1.5, None, True):
            with pytest.raises(InvalidArgumentError):
                client.websocket("/ws-big", mode="bytes", max_message_size=size)


@pytest.mark.parametrize("timeout", [float("nan"), "1", True])
@pytest.mark.parametrize("call", ["receive", "send", "flush", "wait_connected"])
async def test_websocket_timeouts_refuse_nan_and_non_numbers(
    server: Server, timeout: Any, call: str
) -> None:
    """A NaN timeout waited forever (asyncio.wait_for never reaches a NaN deadline) and a
    str one was a raw TypeError from asyncio, leaving an unawaited coroutine behind."""
    async with HttpClient(server.url(), timeout=QUICK) as client:
        async with client.websocket(
            "/ws-big", mode="bytes", max_message_size=1024 * 1024, reconnect=None
        ) as ws:
            with pytest.raises(InvalidArgumentError):
                if call == "receive":
                    await ws.receive(timeout=timeout)
                elif call == "send":
                    await ws.send(b"x", timeout=timeout)
                elif call == "flush":
                    await ws.flush(timeout=timeout)
                else:
                    await ws.wait_connected(timeout=timeout)


@pytest.mark.parametrize("value", ["x", "5", 10**400, True, None, b"1"])
@pytest.mark.parametrize("phase", ["connect", "read", "total", "pool", "write"])
def test_timeout_phase_of_the_wrong_type_is_invalid_argument(value: Any, phase: str) -> None:
    """issue 17 #6's class: Timeout(read="x") was a raw ValueError from its float
    converter, Timeout(read=10**400) a raw OverflowError, and Timeout(read=True) passed
    as 1 s (the converter ran before the bool check)."""
    with pytest.raises(InvalidArgumentError):
        Timeout(**{phase: value})


@pytest.mark.parametrize("api", ["get", "stream"])
async def test_a_cancelled_half_open_trial_gives_no_verdict(server: Server, api: str) -> None:
    """issue 17 #4's class (the breaker judges what the host did): a half-open trial
    whose body read was cancelled by the caller was recorded as a success, closing the
    circuit on a host whose body had stalled. A cancelled trial now hands its slot back
    and the circuit stays half-open for the next trial."""
    clock = ManualClock()
    breaker = CircuitBreakerConfig(failure_threshold=1, recovery_time=10)
    async with HttpClient(
        server.url(), timeout=SLOW, retry=None, circuit_breaker=breaker, clock=clock
    ) as client:
        await (await client.get(f"/status/trip-{api}/500")).read()
        assert client.circuit_state(server.url()) is CircuitState.OPEN
        clock.advance_sync(10)
        assert client.circuit_state(server.url()) is CircuitState.HALF_OPEN
        key = f"trial-{api}"
        if api == "stream":

            async def trial() -> None:
                async with client.stream("GET", f"/stall-body/{key}") as response:
                    async for _ in response.iter_bytes():
                        pass

        else:

            async def trial() -> None:
                await client.get(f"/stall-body/{key}")

        task = asyncio.ensure_future(trial())
        while not server.hits[key]:  # noqa: ASYNC110 - counted on the server's thread
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.circuit_state(server.url()) is CircuitState.HALF_OPEN
        # the slot came back: the next trial is let through and decides
        await (await client.get(f"/echo/after-{api}")).read()
        assert client.circuit_state(server.url()) is CircuitState.CLOSED


async def test_a_retry_cancelled_in_its_backoff_is_neither_counted_nor_paid(
    server: Server,
) -> None:
    """issue 17 #5's class (every send counted, every retry paid from the budget): a
    request cancelled while sleeping before its retry had already counted the retry in
    stats (and metrics) and spent a budget token on a send that never happened."""
    clock = ManualClock()
    retry = Retry(attempts=3, delay=5, max_delay=5, jitter=0, respect_retry_after=False)
    async with HttpClient(
        server.url(), timeout=QUICK, retry=retry, circuit_breaker=None, clock=clock
    ) as client:
        before = client.stats().retry_budget
        task = asyncio.ensure_future(client.get("/status/backoff/503"))
        while clock.sleepers == 0:  # noqa: ASYNC110 - the backoff begins on the clock
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stats = client.stats()
    assert server.hits["backoff"] == 1
    assert stats.retries == 0
    assert stats.retry_budget == pytest.approx(before + retry.budget_ratio)


async def test_deeply_nested_json_responses_are_validation_errors(server: Server) -> None:
    """Only PepperPyError escapes: a response (or a WebSocket message) of JSON nested
    100,000 deep made ``response.json()`` raise a raw RecursionError (the standard
    library's parser), which the ValueError handler did not catch."""
    async with HttpClient(server.url(), timeout=QUICK) as client:
        response = await client.get("/deep-json")
        with pytest.raises(ValidationError):
            await response.json()
        with pytest.raises(ValidationError):
            await client.get_json("/deep-json")
        async with client.websocket("/ws-deep", mode="json", reconnect=None) as ws:
            with pytest.raises(ValidationError):
                await ws.receive(timeout=10)


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "body", [float("nan"), {"a": float("inf")}, "\ud800", {"\udc80": 1}, _deep(100_000)]
)
async def test_json_bodies_that_are_not_json_are_invalid_argument(
    server: Server, body: Any
) -> None:
    """Only PepperPyError escapes, and what is sent is JSON: a lone surrogate was a raw
    UnicodeEncodeError, deep nesting a raw RecursionError, and NaN went out as the
    token ``NaN``, which no JSON parser accepts. Nothing is sent."""
    async with HttpClient(server.url(), timeout=QUICK) as client:
        with pytest.raises(InvalidArgumentError):
            await client.post("/echo/json-body", json=body)
        async with client.websocket("/ws-big", mode="json", reconnect=None) as ws:
            with pytest.raises(InvalidArgumentError):
                await ws.send(body)
            if isinstance(body, str):
                async with client.websocket("/ws-big", mode="text", reconnect=None) as text:
                    with pytest.raises(InvalidArgumentError):
                        await text.send(body)
    assert server.hits["json-body"] == 0


@pytest.mark.parametrize("api", ["get", "stream"])
async def test_the_client_keeps_no_finished_response_alive(server: Server, api: str) -> None:
    """No leak from the stop() fix above: the client tracks a response only while its
    body may still be read, so a finished response (and its body) is the caller's to
    drop; nothing in the client refers to it."""
    async with HttpClient(server.url(), timeout=QUICK) as client:
        if api == "stream":
            async with client.stream("GET", "/echo/keep") as response:
                await response.read()
        else:
            response = await client.get("/echo/keep")
        holders = [ref for ref in gc.get_referrers(response) if isinstance(ref, (set, dict))]
        assert holders == []
