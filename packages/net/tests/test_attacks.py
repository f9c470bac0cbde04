"""Attacks on pepperpy-net's promises (issue 17, findings 1-7 and "close the class").

Each test tries to break a promise the docs make: the size limit counts decoded
bytes, the SSRF guard holds on every hop, every send goes through the retry
policy, every timeout counts against the breaker, the write phase is bounded,
an oversized WebSocket message says so, and bad input gets a PepperPyError.
The servers are real aiohttp (or raw asyncio) servers on 127.0.0.1, run on a
thread of their own; each counts what reaches it, so "not sent" is checked at
the receiving end.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import threading
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import brotli
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import PepperPyError
from pepperpy.net import (
    BearerAuth,
    BlockedAddressError,
    CircuitBreakerConfig,
    CircuitOpenError,
    CircuitState,
    ConnectionClosedError,
    HttpClient,
    InvalidURLError,
    NetworkTimeoutError,
    ResponseTooLargeError,
    Retry,
    SSRFGuard,
    Timeout,
    WebSocketError,
    WriteTimeoutError,
)

MiB = 1024 * 1024
LIMIT = 1 * MiB
BOMB_SIZE = 65 * MiB  # decoded size of every bomb: 65x LIMIT, 1 MiB over the default
QUICK = Timeout(connect=2, read=5, total=10, pool=2, write=5)
NO_WAIT_RETRY = Retry(attempts=3, delay=0, max_delay=0, jitter=0, budget_min_per_second=100)


# ----------------------------------------------------------------- servers


def _compress(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9)
    if encoding == "deflate":
        return zlib.compress(data, 9)
    return bytes(brotli.compress(data, quality=5))


_BOMBS = {enc: _compress(enc, b"\0" * BOMB_SIZE) for enc in ("gzip", "deflate", "br")}


class State:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.headers: dict[str, dict[str, str]] = {}
        self.public = 0
        self.internal = 0
        self.deaf = 0

    def public_url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.public}{path}"

    def guard(self) -> SSRFGuard:
        """A guard that lets the test reach the 'public' server only (ip:port allow)."""
        return SSRFGuard(allow=[f"127.0.0.1:{self.public}"])


def _public_app(state: State) -> web.Application:
    routes = web.RouteTableDef()

    @routes.route("*", "/bomb/{enc}")
    async def bomb(request: web.Request) -> web.StreamResponse:
        enc = request.match_info["enc"]
        body = _BOMBS[enc]
        if request.query.get("chunked"):
            response = web.StreamResponse(headers={"Content-Encoding": enc})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(body), 4096):
                await response.write(body[start : start + 4096])
            await response.write_eof()
            return response
        return web.Response(
            body=body,
            headers={"Content-Encoding": enc, "Content-Type": "application/json"},
        )

    @routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    @routes.get("/echo-auth/{key}")
    async def echo_auth(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        state.hits[key] += 1
        state.headers[key] = dict(request.headers)
        return web.json_response({"authorization": request.headers.get("Authorization")})

    @routes.route("*", "/drop/{key}")
    async def drop(request: web.Request) -> web.Response:
        """Counts the send, then drops the connection without an answer."""
        state.hits[request.match_info["key"]] += 1
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.05)
        return web.Response(status=500)

    @routes.route("*", "/status/{key}/{code}")
    async def status(request: web.Request) -> web.Response:
        state.hits[request.match_info["key"]] += 1
        return web.Response(status=int(request.match_info["code"]), text="x")

    @routes.get("/hang/{key}")
    async def hang(request: web.Request) -> web.Response:
        state.hits[request.match_info["key"]] += 1
        await asyncio.sleep(30)
        return web.Response(text="late")

    @routes.get("/stall-body/{key}")
    async def stall_body(request: web.Request) -> web.StreamResponse:
        """Sends the headers and 100 of 1000 bytes, then goes silent."""
        state.hits[request.match_info["key"]] += 1
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b"a" * 100)
        await asyncio.sleep(30)
        return response

    @routes.get("/ws-big")
    async def ws_big(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("x" * int(request.query.get("size", "4096")))
        await ws.receive()
        return ws

    app = web.Application()
    app.add_routes(routes)
    return app


def _internal_app(state: State) -> web.Application:
    """The 'internal' service an attacker wants to reach: it counts every visit."""

    async def anything(request: web.Request) -> web.StreamResponse:
        state.hits["internal"] += 1
        if request.headers.get("Upgrade", "").lower() == "websocket":
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.send_str("internal secret")
            await ws.close()
            return ws
        return web.Response(text="internal secret")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    return app


@pytest.fixture(scope="module")
def state() -> Iterator[State]:
    state = State()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        runners = []
        for attr, app in (("public", _public_app(state)), ("internal", _internal_app(state))):
            runner = web.AppRunner(app, handler_cancellation=True)
            await runner.setup()
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(runner, sock).start()
            setattr(state, attr, sock.getsockname()[1])
            runners.append(runner)
        # A peer that stops reading: a listening socket that never accepts. The
        # kernel completes the handshake and buffers what the client sends until
        # its buffers are full; then the client's writes block.
        deaf = socket.socket()
        deaf.bind(("127.0.0.1", 0))
        deaf.listen(16)
        state.deaf = deaf.getsockname()[1]
        ready.set()
        await stop.wait()
        deaf.close()
        for runner in runners:
            await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield state
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


@pytest.fixture
async def limited(state: State) -> AsyncIterator[HttpClient]:
    async with HttpClient(state.public_url(), timeout=QUICK, max_response_size=LIMIT) as client:
        yield client


# ----------------------------------------------------------------- 1: decompression bombs


async def _read_via(client: HttpClient, api: str, path: str, tmp_path: Path) -> Any:
    if api == "get":
        return await client.get(path)
    if api == "get+headers":  # an option-carrying call (the old "general" path)
        return await client.get(path, headers={"X-Trace": "1"})
    if api == "request":
        return await client.request("POST", path, content=b"x")
    if api == "get_json":
        return await client.get_json(path)
    if api == "download":
        return await client.download(path, tmp_path / "out.bin")
    async with client.stream("GET", path) as response:
        if api == "stream.read":
            return await response.read()
        if api == "stream.text":
            return await response.text()
        if api == "stream.json":
            return await response.json()
        assert api == "stream.iter_bytes"
        return [len(chunk) async for chunk in response.iter_bytes()]


READ_APIS = [
    "get",
    "get+headers",
    "request",
    "get_json",
    "download",
    "stream.read",
    "stream.text",
    "stream.json",
    "stream.iter_bytes",
]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
@pytest.mark.parametrize("api", READ_APIS)
async def test_decompression_bomb_stops_at_the_decoded_limit(
    limited: HttpClient, api: str, encoding: str, chunked: bool, tmp_path: Path
) -> None:
    """issue 17 #1: the limit counts decoded bytes and stops reading once passed.

    The compressed body (a few hundred bytes, announced in Content-Length well
    under the 1 MiB limit) decodes to 64 MiB. The error's ``size`` is how much
    was decoded when reading stopped: within one decoder step of the limit.
    """
    path = f"/bomb/{encoding}" + ("?chunked=1" if chunked else "")
    with pytest.raises(ResponseTooLargeError) as caught:
        await _read_via(limited, api, path, tmp_path)
    assert caught.value.context["limit"] == LIMIT
    assert LIMIT < caught.value.context["size"] <= LIMIT + MiB
    assert limited.stats().in_flight == 0
    assert not (tmp_path / "out.bin").exists()


async def test_bomb_under_the_default_limit(state: State) -> None:
    """issue 17 #1: the default 64 MiB limit holds against a bomb as well (seen: a
    254 KiB gzip body read as 256 MiB)."""
    async with HttpClient(state.public_url(), timeout=QUICK) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.get("/bomb/gzip")
    assert caught.value.context["limit"] == 64 * MiB
    assert 64 * MiB < caught.value.context["size"] <= 65 * MiB


# ----------------------------------------------------------------- 2: SSRF on every hop

# 127.0.0.1 (or "this host") in the spellings URL parsers and inet_aton accept.
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0x7f.1",  # hex, short form
    "0177.0.0.1",  # octal-ish
    "017700000001",  # octal
    "127.1",  # short form
    "127.0.0.1.",  # trailing dot
    "0.0.0.0",  # unspecified (reaches local services on Linux)
    "0",
    "localhost",
    "LOCALHOST.",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "[::127.0.0.1]",  # IPv4-compatible IPv6
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
]


def _blocked(exc: BaseException) -> bool:
    return isinstance(exc, BlockedAddressError) or (
        isinstance(exc, InvalidURLError) and "URL" in str(exc)
    )


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_guard_refuses_every_spelling_of_loopback(host: str) -> None:
    """issue 17 #2: the guard's verdict on IP literals, whatever their spelling."""
    guard = SSRFGuard()
    with pytest.raises(BlockedAddressError):
        guard.check_url(f"http://{host}:80/")


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_http_redirect_to_internal_address_is_refused(state: State, host: str) -> None:
    """issue 17 #2: a redirect hop to any spelling of loopback never reaches it."""
    before = state.hits["internal"]
    target = f"http://{host}:{state.internal}/secret"
    async with HttpClient(timeout=QUICK, ssrf_guard=state.guard()) as client:
        with pytest.raises(PepperPyError) as caught:
            await client.get(state.public_url("/redirect"), params={"to": target})
        assert _blocked(caught.value), caught.value
        with pytest.raises(PepperPyError) as caught:
            await client.get(target)
        assert _blocked(caught.value), caught.value
    assert state.hits["internal"] == before


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_websocket_redirect_to_internal_address_is_refused(state: State, host: str) -> None:
    """issue 17 #2: aiohttp's ws_connect follows an http(s) redirect; the hop meets the guard."""
    before = state.hits["internal"]
    target = f"http://{host}:{state.internal}/ws"
    async with HttpClient(timeout=QUICK, ssrf_guard=state.guard()) as client:
        socket_ = client.websocket(
            state.public_url("/redirect") + "?to=" + target, reconnect=None, mode="text"
        )
        with pytest.raises(PepperPyError) as caught:
            await socket_.start()
        assert any(isinstance(e, BlockedAddressError) for e in _chain(caught.value)), caught.value
    assert state.hits["internal"] == before


async def test_websocket_redirect_to_a_ws_url_is_not_followed(state: State) -> None:
    """Close the class: a redirect to a ws:// URL is refused (aiohttp follows http(s) only)."""
    before = state.hits["internal"]
    target = f"ws://127.0.0.1:{state.internal}/ws"
    async with HttpClient(timeout=QUICK, ssrf_guard=state.guard()) as client:
        socket_ = client.websocket(
            state.public_url("/redirect") + "?to=" + target, reconnect=None, mode="text"
        )
        with pytest.raises(PepperPyError):
            await socket_.start()
    assert state.hits["internal"] == before


async def test_the_raw_session_is_guarded_too(state: State) -> None:
    """issue 17 #2: the guard sits in the connector, so client.session cannot bypass it."""
    before = state.hits["internal"]
    async with HttpClient(timeout=QUICK, ssrf_guard=state.guard()) as client:
        session = client.session
        with pytest.raises(BlockedAddressError):
            async with session.get(f"http://127.0.0.1:{state.internal}/"):
                pass
        with pytest.raises(BlockedAddressError):  # aiohttp follows this redirect itself
            async with session.get(
                state.public_url("/redirect"),
                params={"to": f"http://127.0.0.1:{state.internal}/"},
            ):
                pass
        with pytest.raises(BlockedAddressError):
            await session.ws_connect(f"ws://127.0.0.1:{state.internal}/")
        async with session.get(state.public_url("/echo-auth/raw-ok")) as ok:
            assert ok.status == 200  # the allowed endpoint still works
    assert state.hits["internal"] == before


async def test_guard_off_reaches_internal_service(state: State) -> None:
    """The control for the SSRF tests: without the guard the internal server answers."""
    before = state.hits["internal"]
    async with HttpClient(timeout=QUICK) as client:
        response = await client.get(f"http://127.0.0.1:{state.internal}/secret")
        assert await response.text() == "internal secret"
    assert state.hits["internal"] == before + 1


async def test_cross_host_redirect_strips_authorization(state: State) -> None:
    """Close the class: Authorization, Cookie and Proxy-Authorization are dropped on a
    cross-origin redirect (urllib3's Retry.remove_headers_on_redirect does the same when
    scheme, host or port change) and kept on a same-origin one."""
    other = f"http://localhost:{state.public}/echo-auth/cross"
    async with HttpClient(state.public_url(), timeout=QUICK, auth=BearerAuth("s3cr3t")) as client:
        same = await client.get("/redirect", params={"to": "/echo-auth/same"})
        assert (await same.json())["authorization"] == "Bearer s3cr3t"
        cross = await client.get(
            "/redirect",
            params={"to": other},
            headers={"Authorization": "Bearer explicit", "Cookie": "a=b"},
        )
        assert (await cross.json())["authorization"] is None
        assert "Cookie" not in state.headers["cross"]


# ----------------------------------------------------------------- 3: one request path


def test_one_request_path_and_no_private_reads() -> None:
    """issue 17 #3: no second hand-inlined path, no reads of other objects' private state.

    issue 24: the client's request path spans its private modules now; each is read.
    """
    import pepperpy.net._client as module

    package = Path(module.__file__).parent
    path_modules = ["_client", "_building", "_retrying", "_hosts", "_attempt", "_redirects"]
    source = "\n".join((package / f"{name}.py").read_text() for name in path_modules)
    assert "_fast_request" not in source
    assert "_fast" not in re.findall(r"self\.(_fast)\b", source)
    private = re.findall(
        r"\b(?:breaker|budget|response|raw|session|slots|bucket)\._[a-z]\w*", source
    )
    assert private == []


@pytest.mark.parametrize("how", ["plain", "with-options", "middleware"])
async def test_every_call_shape_goes_through_the_same_guards(state: State, how: str) -> None:
    """issue 17 #3: the plain call (once the fast path) and option-carrying calls agree."""

    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    middleware = [passthrough] if how == "middleware" else []
    key = f"drop-shape-{how}"
    async with HttpClient(
        state.public_url(),
        timeout=QUICK,
        retry=NO_WAIT_RETRY,
        max_response_size=LIMIT,
        middleware=middleware,
    ) as client:
        kwargs: dict[str, Any] = {"headers": {"X-A": "1"}} if how == "with-options" else {}
        with pytest.raises(ResponseTooLargeError):
            await client.get("/bomb/gzip", **kwargs)
        with pytest.raises(ConnectionClosedError):
            await client.get(f"/drop/{key}", **kwargs)
    assert state.hits[key] == 3


# ----------------------------------------------------------------- 4: breaker on hangs


@pytest.mark.parametrize(
    "timeout",
    [
        Timeout(connect=2, read=0.2, total=0.2, pool=2),  # the default shape: read == total
        Timeout(connect=2, read=5, total=0.2, pool=2),  # the total limit fires
        Timeout(connect=2, read=0.2, total=5, pool=2),  # the read limit fires
    ],
    ids=["read=total", "total", "read"],
)
async def test_breaker_opens_on_a_hanging_host(state: State, timeout: Timeout) -> None:
    """issue 17 #4: every timeout counts as a host failure; threshold 3 opens on the 3rd."""
    key = f"hang-{timeout.read}-{timeout.total}"
    async with HttpClient(
        state.public_url(),
        timeout=timeout,
        retry=None,
        circuit_breaker=CircuitBreakerConfig(failure_threshold=3, recovery_time=60),
    ) as client:
        for _ in range(3):
            with pytest.raises(NetworkTimeoutError):
                await client.get(f"/hang/{key}")
        assert client.circuit_state(f"/hang/{key}") is CircuitState.OPEN
        with pytest.raises(CircuitOpenError):
            await client.get(f"/hang/{key}")
    assert state.hits[key] == 3


@pytest.mark.parametrize("api", ["get", "stream.iter_bytes", "stream.read"])
async def test_breaker_counts_a_body_that_stalls(state: State, api: str) -> None:
    """issue 17 #4: a timeout while reading the body counts too, streamed or not."""
    key = f"stall-{api}"
    timeout = Timeout(connect=2, read=0.2, total=5, pool=2)
    async with HttpClient(
        state.public_url(),
        timeout=timeout,
        retry=None,
        circuit_breaker=CircuitBreakerConfig(failure_threshold=2, recovery_time=60),
    ) as client:
        for _ in range(2):
            with pytest.raises(NetworkTimeoutError):
                if api == "get":
                    await client.get(f"/stall-body/{key}")
                else:
                    async with client.stream("GET", f"/stall-body/{key}") as response:
                        if api == "stream.read":
                            await response.read()
                        else:
                            async for _chunk in response.iter_bytes():
                                pass
        assert client.circuit_state("/") is CircuitState.OPEN
        with pytest.raises(CircuitOpenError):
            await client.get(f"/stall-body/{key}")
        assert client.stats().in_flight == 0
    assert state.hits[key] == 2


def test_read_timer_is_on_by_default() -> None:
    """issue 17 #4: the default Timeout keeps a per-read timer (aiohttp's sock_read)."""
    from pepperpy.net._config import aiohttp_timeout

    default = Timeout()
    assert aiohttp_timeout(default).sock_read == default.read
    assert aiohttp_timeout(Timeout.all(3)).sock_read == 3


# ----------------------------------------------------------------- 5: hidden resends


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
async def test_dropped_connection_is_sent_exactly_attempts_times(state: State, method: str) -> None:
    """issue 17 #5: aiohttp's own reconnect-and-resend is off; the server counts 3 sends."""
    key = f"drop-{method}"
    async with HttpClient(state.public_url(), timeout=QUICK, retry=NO_WAIT_RETRY) as client:
        with pytest.raises(ConnectionClosedError) as caught:
            await client.request(method, f"/drop/{key}")
        assert caught.value.context["attempts"] == 3
        assert client.stats().requests == 3
    assert state.hits[key] == 3


async def test_dropped_connection_without_retry_is_sent_once(state: State) -> None:
    """issue 17 #5: retry=None means one send, at the server too."""
    async with HttpClient(state.public_url(), timeout=QUICK, retry=None) as client:
        with pytest.raises(ConnectionClosedError):
            await client.get("/drop/once")
        with pytest.raises(ConnectionClosedError):
            await client.get("/drop/once-b", retry=False)
        with pytest.raises(ConnectionClosedError):
            await client.post("/drop/once-post", content=b"x")
    assert (state.hits["once"], state.hits["once-b"], state.hits["once-post"]) == (1, 1, 1)


async def test_raw_session_does_not_resend_either(state: State) -> None:
    """issue 17 #5: the session the client owns sends a dropped GET once."""
    async with HttpClient(state.public_url(), timeout=QUICK) as client:
        with pytest.raises(aiohttp.ClientError):
            async with client.session.get(state.public_url("/drop/raw")):
                pass
    assert state.hits["raw"] == 1


async def test_status_retries_are_counted_at_the_server(state: State) -> None:
    """Close the class: a retried 503 reaches the server `attempts` times, no more."""
    async with HttpClient(state.public_url(), timeout=QUICK, retry=NO_WAIT_RETRY) as client:
        response = await client.get("/status/s503/503")
        assert (response.status, response.attempts) == (503, 3)
        response = await client.post("/status/p503/503", content=b"x")
        assert (response.status, response.attempts) == (503, 1)
    assert (state.hits["s503"], state.hits["p503"]) == (3, 1)


async def test_exhausted_budget_stops_resends_at_the_server(state: State) -> None:
    """Close the class: with the retry budget spent, each request is sent once."""
    stingy = Retry(attempts=3, delay=0, jitter=0, budget_ratio=0, budget_min_per_second=0)
    async with HttpClient(state.public_url(), timeout=QUICK, retry=stingy) as client:
        for _ in range(3):
            with pytest.raises(ConnectionClosedError):
                await client.get("/drop/budget")
        assert client.stats().retries_denied == 3
    assert state.hits["budget"] == 3


# ----------------------------------------------------------------- 6: write timeout


async def _endless(chunks: int = 1024) -> AsyncIterator[bytes]:
    block = b"\0" * 65536
    for _ in range(chunks):
        yield block


@pytest.mark.parametrize("body", ["stream", "bytes"])
async def test_write_timeout_against_a_peer_that_stops_reading(state: State, body: str) -> None:
    """issue 17 #6: httpx's write timeout; a peer that never reads gets WriteTimeoutError."""
    timeout = Timeout(connect=2, read=20, total=20, pool=2, write=0.3)
    content: Any = _endless() if body == "stream" else b"\0" * (48 * MiB)
    async with HttpClient(timeout=timeout, retry=None) as client:
        with pytest.raises(WriteTimeoutError) as caught:
            await client.post(f"http://127.0.0.1:{state.deaf}/upload", content=content)
        assert caught.value.phase == "write"
        assert caught.value.context["timeout"] == 0.3
        assert client.stats().in_flight == 0


async def test_cancelling_a_blocked_upload_is_a_cancellation(state: State) -> None:
    """issue 17 #6: the write timer never turns the caller's own cancel into a timeout."""
    timeout = Timeout(connect=2, read=20, total=20, pool=2, write=20)
    async with HttpClient(timeout=timeout, retry=None) as client:
        task = asyncio.ensure_future(
            client.post(f"http://127.0.0.1:{state.deaf}/upload", content=_endless())
        )
        for _ in range(500):  # until the request holds its slot (bounded, not timed)
            if client.stats().in_flight == 1:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.stats().in_flight == 0


def test_write_timeout_is_a_timeout_field() -> None:
    """issue 17 #6: Timeout has a validated write phase; Timeout(n) sets it too."""
    assert Timeout().write == 30.0
    assert Timeout.all(4).write == 4.0
    with pytest.raises(PepperPyError):
        Timeout(write=0)


# ----------------------------------------------------------------- 7: WebSocket limit


async def test_oversized_websocket_message_names_the_limit(state: State) -> None:
    """issue 17 #7: a message over max_message_size raises an error naming the limit."""
    async with HttpClient(state.public_url(), timeout=QUICK) as client:
        async with client.websocket("/ws-big?size=4096", mode="text", max_message_size=1024) as ws:
            with pytest.raises(WebSocketError) as caught:
                await ws.receive(timeout=5)
            assert caught.value.code == "pepperpy.net.websocket.message_too_large"
            assert caught.value.context["limit"] == 1024
            assert "1024" in str(caught.value)
            assert "max_message_size" in (caught.value.hint or "")
            with pytest.raises(WebSocketError) as closed:
                await ws.receive(timeout=5)
            assert "1024" in str(closed.value)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "method", ["GET\r\nX-Injected: 1", "GET /x HTTP/1.1\r\n", "GE T", "", "G\x00T", "GET\n"]
)
async def test_bad_method_is_a_pepperpy_error(limited: HttpClient, method: str) -> None:
    """Close the class: a CR/LF (or any non-token) in the method is refused before sending."""
    with pytest.raises(PepperPyError) as caught:
        await limited.request(method, "/echo-auth/bad-method")
    assert caught.value.code.startswith("pepperpy.net.")
    assert caught.value.hint


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.text(max_size=8),
    name=st.text(max_size=8),
    value=st.text(max_size=8),
    path=st.text(max_size=8),
)
async def test_any_input_is_a_response_or_a_pepperpy_error(
    limited: HttpClient, method: str, name: str, value: str, path: str
) -> None:
    """Close the class: whatever the method, header and path, no raw ValueError escapes."""
    try:
        await limited.request(
            method or "GET", "/echo-auth/fuzz" + path, headers={name or "X": value}
        )
    except PepperPyError as exc:
        assert exc.code, exc  # noqa: PT017 - any response or any PepperPyError passes
        assert exc.hint is not None, exc  # noqa: PT017
