"""The aiohttp web server middleware (``pepperpy-web[aiohttp]``).

::

    app = web.Application()
    setup(app, Web(security=security, metrics=metrics))
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from pepperpy.core import InvalidArgumentError
from pepperpy.web._core import UNMATCHED, Exchange, Web

__all__ = ["json_body", "middleware", "setup"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The request being served, for the response-prepare hook (a handler-prepared response)
_SERVING: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "pepperpy_web_aiohttp", default=None
)


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED
    return resource.canonical


def middleware(service: Web) -> Any:
    """The aiohttp middleware serving every request through *service*.

    Same behaviour as the ASGI middleware: request id, trace context, route
    and principal in pepperpy.context, bad input refused, bearer tokens
    authenticated, problem details, metrics, spans and a registry scope.
    aiohttp's own ``HTTPException`` responses pass through (with the request id).
    """
    if not isinstance(service, Web):
        raise InvalidArgumentError(
            f"middleware() takes a pepperpy.web.Web, got {type(service).__name__}",
            code="pepperpy.web.web",
        )

    @web.middleware
    async def pepperpy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        endpoint = service.endpoint(request.method, request.path)
        if endpoint is not None:
            exchange = service.begin(
                request.method, request.path, request.headers.items(), request.path
            )
            status, headers, body = await service.serve_endpoint(
                endpoint, exchange, request.headers.get("Accept")
            )
            return web.Response(status=status, body=body, headers=dict(headers))
        exchange = service.begin(
            request.method, request.path, request.headers.items(), _route(request)
        )
        serving = _SERVING.set(exchange)
        async with service.request(exchange):
            try:
                if exchange.error is not None:
                    raise exchange.error
                await service.authenticate(exchange)
                response = await handler(request)
            except web.HTTPException as exc:
                exchange.status = exc.status
                exc.headers["X-Request-ID"] = exchange.request_id
                raise
            except Exception as exc:
                problem = service.problem(exc, exchange)
                reply = dict(problem.response_headers())
                reply["X-Request-ID"] = exchange.request_id
                return web.Response(status=problem.status, body=problem.body(), headers=reply)
            finally:
                _SERVING.reset(serving)
            exchange.status = response.status
            if not response.prepared:
                response.headers["X-Request-ID"] = exchange.request_id
            return response

    return pepperpy_middleware


async def _tag_prepared(request: web.BaseRequest, response: web.StreamResponse) -> None:
    exchange = _SERVING.get()
    if exchange is not None:
        response.headers["X-Request-ID"] = exchange.request_id


def setup(app: web.Application, service: Web) -> None:
    """Add the middleware to *app* and tie the registry to its startup and cleanup.

    It also hooks ``on_response_prepare``, so a response the handler prepares
    itself (a ``StreamResponse``: server-sent events, downloads) carries
    ``X-Request-ID`` too; with :func:`middleware` alone only the responses a
    handler returns unprepared get it.
    """
    app.middlewares.append(middleware(service))
    app.on_response_prepare.append(_tag_prepared)

    async def lifespan(_: web.Application) -> AsyncIterator[None]:
        await service.startup()
        try:
            yield
        finally:
            await service.shutdown()

    app.cleanup_ctx.append(lifespan)


async def json_body(request: web.Request, schema: Any = None) -> Any:
    """Read, size-check, parse and validate an aiohttp request's JSON body.

    See :func:`pepperpy.web.asgi.json_body`; the same errors.
    """
    from pepperpy.web._body import check_content_type, limit_of, parse_json, too_large, validate

    check_content_type(request.headers.get("Content-Type"))
    limit = limit_of()
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return await validate(parse_json(b"".join(chunks)), schema)
