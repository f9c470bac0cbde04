"""Real aiohttp servers on 127.0.0.1, run in a background thread with their own loop.

Running the servers on another loop keeps the tests' ``asyncio.all_tasks()``
about the client alone, so leak checks see only what the client left behind.
Fault endpoints: stalls before headers and mid-body, dropped connections,
500/503/429 with and without ``Retry-After``, oversize bodies, redirects.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from pepperpy.net import HttpClient


class Servers:
    """Handles to the servers: base URLs and per-key hit counters."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.port = 0
        self.other_port = 0
        self.raw_port = 0
        self.seen_headers: dict[str, dict[str, str]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_url(self) -> str:
        return f"http://127.0.0.1:{self.other_port}"

    @property
    def raw_url(self) -> str:
        return f"http://127.0.0.1:{self.raw_port}"


def _payload(size: int) -> bytes:
    block = hashlib.sha256(str(size).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def _build_app(state: Servers) -> web.Application:
    routes = web.RouteTableDef()
    _body_routes(routes, state)
    _fault_routes(routes, state)
    _redirect_routes(routes, state)
    _websocket_routes(routes, state)
    app = web.Application()
    app.add_routes(routes)
    return app


def _body_routes(routes: web.RouteTableDef, state: Servers) -> None:
    """Well-behaved endpoints: JSON, echo, upload digests, statuses, sized bodies."""

    @routes.get("/json")
    async def json_ok(request: web.Request) -> web.Response:
        return web.json_response({"id": 1, "name": "ada", "tags": ["x"]})

    @routes.route("*", "/echo")
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        key = request.query.get("key")
        if key:
            state.hits[key] += 1
            state.seen_headers[key] = dict(request.headers)
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": body.decode("utf-8", errors="replace"),
            }
        )

    @routes.route("*", "/upload")
    async def upload(request: web.Request) -> web.Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.content.iter_any():
            digest.update(chunk)
            size += len(chunk)
        return web.json_response(
            {
                "size": size,
                "sha256": digest.hexdigest(),
                "chunked": request.headers.get("Transfer-Encoding") == "chunked",
                "content_length": request.headers.get("Content-Length"),
            }
        )

    @routes.route("*", "/status/{code}")
    async def status(request: web.Request) -> web.Response:
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        key = request.query.get("key")
        if key:
            state.hits[key] += 1
        return web.Response(status=int(request.match_info["code"]), headers=headers, text="x")

    @routes.get("/bytes/{size}")
    async def sized(request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["size"])
        data = _payload(size)
        if request.query.get("chunked"):
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, size, 8192):
                await response.write(data[start : start + 8192])
            await response.write_eof()
            return response
        return web.Response(body=data)

    @routes.get("/set-cookie")
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="set")
        response.set_cookie("session", "abc123")
        return response


def _fault_routes(routes: web.RouteTableDef, state: Servers) -> None:
    """Misbehaving endpoints: failures then success, stalls, a slow drip."""

    @routes.route("*", "/flaky/{key}")
    async def flaky(request: web.Request) -> web.Response:
        """Fails the first ``fail`` calls per key with ``status``, then answers 200."""
        key = request.match_info["key"]
        state.hits[key] += 1
        if state.hits[key] <= int(request.query.get("fail", "1")):
            code = int(request.query.get("status", "503"))
            headers = {}
            if "retry_after" in request.query:
                headers["Retry-After"] = request.query["retry_after"]
            if code == 0:  # drop the connection instead of answering
                assert request.transport is not None
                request.transport.close()
                await asyncio.sleep(0.05)
                return web.Response(status=500)
            return web.Response(status=code, headers=headers, text="try later")
        return web.json_response({"ok": True, "hits": state.hits[key]})

    @routes.get("/stall-headers")
    async def stall_headers(request: web.Request) -> web.Response:
        key = request.query.get("key")
        if key:
            state.hits[key] += 1
        await asyncio.sleep(float(request.query.get("delay", "5")))
        return web.Response(text="late")

    @routes.get("/stall-body")
    async def stall_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b"a" * 100)
        await asyncio.sleep(5)
        await response.write(b"b" * 900)
        return response

    @routes.get("/drip")
    async def drip(request: web.Request) -> web.StreamResponse:
        """A byte every ``interval`` seconds: never silent for long, never done soon."""
        response = web.StreamResponse()
        await response.prepare(request)
        interval = float(request.query.get("interval", "0.02"))
        for _ in range(int(request.query.get("count", "200"))):
            await response.write(b".")
            await asyncio.sleep(interval)
        await response.write_eof()
        return response


def _redirect_routes(routes: web.RouteTableDef, state: Servers) -> None:
    """Redirects: to a given target, for method rewriting, and a loop."""

    @routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        key = request.query.get("key")
        if key:
            state.hits[key] += 1
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["to"]})

    @routes.route("*", "/redirect-method")
    async def redirect_method(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "303"))
        return web.Response(status=status, headers={"Location": "/echo"})

    @routes.get("/loop")
    async def loop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/loop"})


def _websocket_routes(routes: web.RouteTableDef, state: Servers) -> None:
    """WebSocket endpoints: echo, accept-once, and one that never answers pings."""

    @routes.get("/ws")
    async def ws_echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        state.hits["ws-connect"] += 1
        state.seen_headers["ws"] = dict(request.headers)
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                if message.data == "close-me":
                    await ws.close()
                    break
                if message.data in ("garbage", '"garbage"'):
                    await ws.send_str("{not json")
                    continue
                await ws.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(message.data)
        return ws

    @routes.get("/ws-once")
    async def ws_once(request: web.Request) -> web.StreamResponse:
        """Accepts one connection per key and closes it; refuses every later one."""
        key = "ws-once-" + request.query.get("key", "")
        state.hits[key] += 1
        if state.hits[key] > 1:
            return web.Response(status=403, text="go away")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        await ws.close()
        return ws

    @routes.get("/ws-deaf")
    async def ws_deaf(request: web.Request) -> web.WebSocketResponse:
        """Never answers pings: the client's heartbeat must notice."""
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        state.hits["ws-deaf"] += 1
        if state.hits["ws-deaf"] > 1:  # the reconnection behaves
            async for message in ws:
                if message.type is aiohttp.WSMsgType.PING:
                    await ws.pong(message.data)
                elif message.type is aiohttp.WSMsgType.TEXT:
                    await ws.send_str(message.data)
            return ws
        await asyncio.sleep(5)
        return ws


async def _raw_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A raw TCP server: reads the request line, then misbehaves on purpose."""
    try:
        line = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        path = line.split(b" ")[1] if b" " in line else b"/"
        if path.startswith(b"/close-mid-body"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            await writer.drain()
        elif path.startswith(b"/garbage"):
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
        # /close and anything else: close without a word
    finally:
        writer.close()


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    state = Servers()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None
    runners: list[web.AppRunner] = []

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        for attr in ("port", "other_port"):
            runner = web.AppRunner(_build_app(state), handler_cancellation=True)
            await runner.setup()
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            site = web.SockSite(runner, sock)
            await site.start()
            setattr(state, attr, sock.getsockname()[1])
            runners.append(runner)
        raw = await asyncio.start_server(_raw_handler, "127.0.0.1", 0)
        state.raw_port = raw.sockets[0].getsockname()[1]
        ready.set()
        await stop.wait()
        raw.close()
        for runner in runners:
            await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "test servers did not start"
    yield state
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


def assert_no_leaks(client: HttpClient) -> None:
    """No connection is lent out, no slot is held, no task is left behind."""
    stats = client.stats()
    assert stats.connections_in_use == 0
    assert stats.in_flight == 0
    connector = client.session.connector
    assert connector is not None
    assert len(connector._acquired) == 0
    current = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert leftover == []


@pytest.fixture
async def client(servers: Servers) -> AsyncIterator[HttpClient]:
    async with HttpClient(servers.url, timeout=10.0) as client:
        yield client


@pytest.fixture
def no_leaks() -> Any:
    """The leak check, as a fixture (test modules cannot import conftest)."""
    return assert_no_leaks


@pytest.fixture
def payload() -> Any:
    """``payload(size)``: the deterministic bytes /bytes/{size} serves."""
    return _payload
