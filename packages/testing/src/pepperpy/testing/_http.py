"""A real aiohttp server on 127.0.0.1 for tests, with canned routes and a request log."""

from __future__ import annotations

import asyncio
import json as _json
from dataclasses import dataclass, field
from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import Lifecycle

__all__ = ["HttpTestServer", "RecordedRequest"]


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.body)


@dataclass
class _Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    responses: list[tuple[int, bytes, dict[str, str]]] = field(default_factory=list)


class HttpTestServer(Lifecycle):
    """An aiohttp server on 127.0.0.1 (a free port) serving canned responses.

    ``server.route("GET", "/users/1", json={"id": 1})``; ``sequence=[...]`` gives
    successive responses (the last repeats), which is how retries are tested.
    Every request is kept in :attr:`requests`. Unknown routes answer 404.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: dict[tuple[str, str], _Route] = {}
        self._runner: Any = None
        self.port: int = 0

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:43117``."""
        self._ensure_running()
        return f"http://127.0.0.1:{self.port}"

    def route(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        sequence: list[tuple[int, Any]] | None = None,
    ) -> None:
        """Answer ``method path`` with this response (replacing an earlier route)."""
        if json is not None and body:
            raise InvalidArgumentError("pass json= or body=, not both")
        hdrs = dict(headers or {})
        raw = body.encode() if isinstance(body, str) else body
        if json is not None:
            raw = _json.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        route = _Route(status, raw, hdrs, delay)
        for st, payload in sequence or []:
            data = payload if isinstance(payload, bytes) else _json.dumps(payload).encode()
            route.responses.append((st, data, hdrs))
        self._routes[(method.upper(), path)] = route

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.read()
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.query), dict(request.headers), body
            )
        )
        route = self._routes.get((request.method, request.path))
        if route is None:
            return web.Response(status=404, text=f"no route for {request.method} {request.path}")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.responses:
            status, data, headers = (
                route.responses.pop(0) if len(route.responses) > 1 else route.responses[0]
            )
            return web.Response(status=status, body=data, headers=headers)
        return web.Response(status=route.status, body=route.body, headers=route.headers)

    async def _on_start(self) -> None:
        try:
            from aiohttp import web
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InvalidArgumentError(
                "HttpTestServer needs aiohttp", hint="pip install 'pepperpy-testing[http]'"
            ) from exc
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
