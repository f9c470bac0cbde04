"""pepperpy.net: 2,000 GETs at concurrency 50 against raw aiohttp and httpx.

The server runs in a separate process (so it does not share the GIL with the
clients) on 127.0.0.1. One operation = 2,000 GET requests (body read) issued
by 50 concurrent workers; the clients are created once and reused, as an
application would. Target: pepperpy within 1.15x of the raw aiohttp session.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from harness import acompare

REQUIRES = ["httpx"]

TOTAL = 2000
CONCURRENCY = 50

_SERVER = r"""
import asyncio, socket, sys
from aiohttp import web

async def hello(request):
    return web.Response(body=b'{"id": 1, "name": "ada", "tags": ["x", "y"]}',
                        content_type="application/json")

async def main():
    app = web.Application()
    app.router.add_get("/item", hello)
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


async def _fan_out(get: object) -> None:
    per_worker = TOTAL // CONCURRENCY

    async def worker() -> None:
        for _ in range(per_worker):
            await get()  # type: ignore[operator]

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def _start_server() -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def _stop_server(server: subprocess.Popen[str]) -> None:
    if server.stdin is not None:
        server.stdin.close()
    server.wait(10)


async def bench_get_2000_at_50():
    import aiohttp
    import httpx

    from pepperpy.net import HttpClient

    server, port = _start_server()
    try:
        url = f"http://127.0.0.1:{port}/item"
        async with (
            HttpClient() as ours,
            aiohttp.ClientSession() as raw,
            httpx.AsyncClient(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
            ) as peer,
        ):

            async def ours_get() -> None:
                response = await ours.get(url)
                assert response.status == 200

            async def raw_get() -> None:
                async with raw.get(url) as response:
                    await response.read()
                    assert response.status == 200

            async def httpx_get() -> None:
                response = await peer.get(url)
                assert response.status_code == 200

            # Two comparisons: httpx is ~10x slower here, so pairing it with the
            # aiohttp rounds would stretch each round across machine phases.
            await acompare(
                "net: 2,000 GETs, concurrency 50 (one op = 2,000 requests)",
                {
                    "pepperpy": lambda: _fan_out(ours_get),
                    "aiohttp (raw session)": lambda: _fan_out(raw_get),
                },
                inner=1,
                samples=15,
                note="target: within 1.15x of raw aiohttp",
            )
            return await acompare(
                "net: 2,000 GETs, concurrency 50, vs httpx",
                {
                    "pepperpy": lambda: _fan_out(ours_get),
                    "httpx.AsyncClient": lambda: _fan_out(httpx_get),
                },
                inner=1,
                samples=3,
            )
    finally:
        _stop_server(server)
