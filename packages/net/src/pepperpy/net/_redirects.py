"""Redirects, followed by the client itself so each hop passes every check again.

Each hop is a new :class:`~pepperpy.net.Request` sent through the same retry
loop (and so the same auth, middleware, breaker, slots and SSRF guard) as
the first; credentials never cross to another origin.
"""

from __future__ import annotations

from multidict import CIMultiDict
from yarl import URL

from pepperpy.net._errors import InvalidURLError, NetworkError, TooManyRedirectsError
from pepperpy.net._models import Request, Response
from pepperpy.net._retrying import Options, RetryLoop

__all__ = ["REDIRECTS", "follow"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# headers that belong to the first origin and never follow a hop to another one
_ORIGIN_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization", "Host")


async def follow(
    loop: RetryLoop,
    request: Request,
    response: Response,
    options: Options,
    plain: CIMultiDict[str] | None,
    max_redirects: int,
) -> Response:
    """Follow *response*'s redirects (at most *max_redirects*); return the final response.

    *plain* holds *request*'s headers as the caller gave them (before auth
    added any), when an auth hook is in use: each hop starts from those.

    Raises:
        TooManyRedirectsError: More than *max_redirects* hops.
        InvalidURLError: A ``Location`` is malformed or not http(s).
        NetworkError: A 307/308 would resend a streamed body (``redirect_body``).
    """
    origin = request.url.origin()
    history: list[Response] = []
    while True:
        if not options.follow or response.status not in REDIRECTS:
            response.history = tuple(history)
            return response
        location = response.headers.get("Location")
        if location is None:
            response.history = tuple(history)
            return response
        await response.close()
        if len(history) >= max_redirects:
            raise TooManyRedirectsError(
                f"{request.method} {origin}: more than {max_redirects} redirects",
                context={
                    "url": str(request.url),
                    "max_redirects": max_redirects,
                    "chain": [str(r.url) for r in history[-5:]],
                },
            )
        history.append(response)
        request = _hop(request, response.status, location, plain)
        same_origin = request.url.origin() == origin
        plain = request.headers.copy() if options.auth is not None else None
        response = await loop.send(request, options, same_origin)


def _hop(request: Request, status: int, location: str, plain: CIMultiDict[str] | None) -> Request:
    """The request for one redirect hop from *request* to *location*."""
    target = _target(request, location)
    headers = (plain if plain is not None else request.headers).copy()
    method = request.method
    content = request.content
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
        content = None
        for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
            headers.popall(name, None)
    elif not request.replayable:
        raise NetworkError(
            f"cannot follow a {status} redirect: the streamed request body cannot be sent again",
            code="pepperpy.net.redirect_body",
            context={"url": str(request.url), "location": str(target)},
            hint="Send the body as bytes, or request the final URL directly.",
            retryable=False,
        )
    if target.origin() != request.url.origin():
        for name in _ORIGIN_HEADERS:  # a custom Host belongs to the first origin too
            headers.popall(name, None)
    return Request(
        method=method,
        url=target,
        headers=headers,
        content=content,
        timeout=request.timeout,
        max_response_size=request.max_response_size,
        stream=request.stream,
        extensions=dict(request.extensions),
    )


def _target(request: Request, location: str) -> URL:
    """*location* resolved against *request*'s URL; only http(s) targets are followed."""
    try:
        target = request.url.join(URL(location))
    except (ValueError, TypeError) as exc:
        raise InvalidURLError(
            f"the server redirected to an invalid URL {location!r}",
            context={"url": str(request.url), "location": location},
        ) from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise InvalidURLError(
            f"the server redirected to a non-http(s) URL {str(target)!r}",
            context={"url": str(request.url), "location": location},
            hint="Only http:// and https:// redirects are followed.",
        )
    return target
