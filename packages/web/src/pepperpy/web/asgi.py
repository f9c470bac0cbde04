"""The pure ASGI middleware: Starlette, FastAPI, Litestar or any ASGI application.

Add it inside the framework's own error handling so handler errors reach it::

    app.add_middleware(PepperPyMiddleware, web=web)      # Starlette / FastAPI

or wrap any ASGI callable: ``app = PepperPyMiddleware(app, web=web)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pepperpy.core import InvalidArgumentError
from pepperpy.web._core import UNMATCHED, Web

__all__ = ["PepperPyMiddleware", "body", "json_body", "route_template"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = b"x-request-id"


def _match_full(route: Any, scope: Scope) -> tuple[bool, Scope]:
    matches = getattr(route, "matches", None)
    if matches is None:
        return False, {}
    try:
        match, child = matches(scope)
    except Exception:
        return False, {}
    return getattr(match, "name", None) == "FULL", child


def route_template(scope: Scope, app: Any = None) -> str:
    """The route template serving *scope* (``/users/{id}``), or ``<unmatched>``.

    Uses the ``route`` a Starlette/FastAPI router stores in the scope once it
    has routed; before that, it asks the application's router (its public
    ``routes`` and ``Route.matches``), descending into mounts. The router is
    the scope's ``app`` (set once a Starlette/FastAPI app has the request:
    ``app.add_middleware``), else *app*'s (a middleware wrapping the
    application from outside passes the application). Never the raw path, so
    metrics keep a bounded number of label values.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and route is not None and not hasattr(route, "routes"):
        return path
    router = getattr(scope.get("app", app), "router", None)
    routes = getattr(router, "routes", None)
    prefix = ""
    current: Scope = scope
    for _ in range(8):  # mounts nest rarely; the bound keeps a cycle harmless
        if not routes:
            break
        for candidate in routes:
            full, child = _match_full(candidate, current)
            if not full:
                continue
            template = getattr(candidate, "path", None)
            if not isinstance(template, str):
                return UNMATCHED
            inner = getattr(candidate, "routes", None)
            if inner:
                prefix += template
                current = {**current, **child}
                routes = inner
                break
            return prefix + template
        else:
            return UNMATCHED
    return UNMATCHED


class PepperPyMiddleware:
    """ASGI middleware serving every request through a :class:`~pepperpy.web.Web`.

    Per HTTP request: request id (``X-Request-ID`` read or made, and
    returned), trace context, route and principal bound in pepperpy.context;
    bad input refused; the bearer token authenticated; the body size limited;
    every :class:`~pepperpy.core.PepperPyError` escaping the application
    answered as RFC 9457 problem details; metrics and a server span. The
    ``lifespan`` protocol starts and stops the registry. WebSocket scopes pass
    through untouched.

    Args:
        app: The ASGI application to wrap.
        web: What to serve with (default: ``Web()``, context and problems only).
    """

    def __init__(self, app: ASGIApp, web: Web | None = None) -> None:
        if not callable(app):
            raise InvalidArgumentError(
                f"app must be an ASGI callable, got {type(app).__name__}",
                code="pepperpy.web.app",
            )
        if web is not None and not isinstance(web, Web):
            raise InvalidArgumentError(
                f"web must be a pepperpy.web.Web, got {type(web).__name__}",
                code="pepperpy.web.web",
                hint="Pass web=Web(...).",
            )
        self.app = app
        self.web = web if web is not None else Web()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        kind = scope.get("type")
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        web = self.web

        async def lifespan_receive() -> Message:
            message = await receive()
            if message.get("type") == "lifespan.startup":
                await web.startup()
            return message

        async def lifespan_send(message: Message) -> None:
            if message.get("type") == "lifespan.shutdown.complete":
                await web.shutdown()
            await send(message)

        await self.app(scope, lifespan_receive, lifespan_send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        web = self.web
        method: str = scope.get("method", "GET")
        path: str = scope.get("path", "")
        raw_headers = scope.get("headers") or ()
        headers_text = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
        endpoint = web.endpoint(method, path)
        if endpoint is not None:
            accept = next((v for k, v in headers_text if k.lower() == "accept"), None)
            exchange = web.begin(method, path, headers_text, path)
            status, headers, body = await web.serve_endpoint(endpoint, exchange, accept)
            await _respond(send, status, headers, body, head=method == "HEAD")
            return
        exchange = web.begin(method, path, headers_text, route_template(scope, self.app))
        rid = exchange.request_id.encode("ascii")
        started = False
        limit = web.max_body_size
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise web.too_large()
            return message

        async def tagged_send(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
                exchange.status = int(message.get("status", 200))
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != _REQUEST_ID
                ]
                headers.append((_REQUEST_ID, rid))
                message["headers"] = headers
            await send(message)

        async with web.request(exchange):
            try:
                if exchange.error is not None:
                    raise exchange.error
                await web.authenticate(exchange)
                await self.app(scope, limited_receive, tagged_send)
            except Exception as exc:
                problem = web.problem(exc, exchange)
                if started:
                    raise  # the response is under way: the server closes the connection
                headers = problem.response_headers()
                headers.append(("x-request-id", exchange.request_id))
                await _respond(send, problem.status, headers, problem.body())
            finally:
                if exchange.route == UNMATCHED and "route" in scope:
                    exchange.route = route_template(scope)


async def _respond(
    send: Send, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False
) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def json_body(request: Any, schema: Any = None) -> Any:
    """Read, size-check, parse and validate a Starlette/FastAPI request's JSON body.

    *request* is anything with ``headers`` and an async ``stream()`` of bytes
    (Starlette's ``Request``). *schema* is a pepperpy-validation ``Schema``,
    a dict spec or an attrs class (needs ``pepperpy-web[validation]``); without
    one the parsed JSON is returned.

    Raises:
        UnsupportedMediaTypeError: not ``application/json`` (415).
        PayloadTooLargeError: over the limit (413).
        BadRequestError: ``pepperpy.web.malformed_json`` (400).
        ValidationError: every problem, with JSON pointers (422).
    """
    from pepperpy.web._body import check_content_type, limit_of, parse_json, too_large, validate

    check_content_type(request.headers.get("content-type"))
    limit = limit_of()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    data = parse_json(b"".join(chunks))
    return await validate(data, schema)


def body(schema: Any = None) -> Callable[..., Awaitable[Any]]:
    """A FastAPI dependency returning the request's validated JSON body (see :func:`json_body`).

    ``item: Item = Depends(body(Item))``. Needs Starlette (FastAPI brings it).
    """
    from starlette.requests import Request

    async def dependency(request: Request) -> Any:
        return await json_body(request, schema)

    # FastAPI reads the signature; give it the class, not this module's string annotation
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    )
    dependency.__name__ = f"body_{getattr(schema, '__name__', 'json')}"
    return dependency
