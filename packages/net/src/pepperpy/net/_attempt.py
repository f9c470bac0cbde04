"""One attempt: a request admitted by its host, sent through aiohttp, its body read.

:class:`Transmitter` is the innermost handler of the client's middleware
chain: no retry and no redirect happen here (the retry loop and the redirect
follower sit above the chain). It owns the response-reading side of an
attempt: the write timeout on the request body, the translation of aiohttp's
failures, the host's verdict, and reading the body under the size limit
unless the caller streams it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import aiohttp

from pepperpy.net._config import Timeout, aiohttp_timeout
from pepperpy.net._errors import WriteTimeoutError
from pepperpy.net._hosts import Host, HostTable
from pepperpy.net._metrics import ClientMetrics
from pepperpy.net._models import Request, Response
from pepperpy.net._translate import translate_error

__all__ = ["Transmitter", "chunks"]

_WATCHED_BODY = 64 * 1024  # bytes bodies above this are sent in watched chunks


class Transmitter:
    """Send one attempt at a request through the client's aiohttp session.

    Args:
        hosts: The client's hosts (admission: breaker, rate limit, slots).
        timeout: The client's default :class:`~pepperpy.net.Timeout`.
        metrics: Where request metrics go (``None``: counters only).
        closed: Raises :class:`~pepperpy.core.ClosedError` (the client is not running).
    """

    __slots__ = ("_client_timeout", "_closed", "_hosts", "_metrics", "_timeout", "live", "session")

    def __init__(
        self,
        hosts: HostTable,
        timeout: Timeout,
        metrics: ClientMetrics | None,
        closed: Callable[[], None],
    ) -> None:
        self._hosts = hosts
        self._timeout = timeout
        self._client_timeout = aiohttp_timeout(timeout)
        self._metrics = metrics
        self._closed = closed
        self.session: aiohttp.ClientSession | None = None
        # Responses whose body is being read or may still be: stopping the client
        # wakes their readers. Each leaves the set when read or released.
        self.live: set[Response] = set()

    async def send(self, request: Request) -> Response:
        """The innermost handler: one attempt through aiohttp, no retry, no redirect."""
        session = self.session
        if session is None:
            self._closed()
            raise AssertionError("unreachable")
        host = await self._hosts.admit(request)
        started = time.monotonic()
        timeout = request.timeout
        content = request.content
        watch: _WriteWatch | None = None
        if content is not None and (not isinstance(content, bytes) or len(content) > _WATCHED_BODY):
            watch = _WriteWatch(timeout.write)
            if isinstance(content, bytes):
                request.headers["Content-Length"] = str(len(content))
                content = watch.body(chunks(content))
            else:
                content = watch.body(content)
        try:
            raw = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=content,
                timeout=(
                    self._client_timeout if timeout is self._timeout else aiohttp_timeout(timeout)
                ),
                allow_redirects=False,
            )
        except BaseException as exc:
            error = self._failure(host, request, exc, watch)
            if error is exc:
                raise
            raise error from exc
        if watch is not None:
            watch.stop()
        return await self._respond(host, request, raw, started)

    def _failure(
        self, host: Host, request: Request, exc: BaseException, watch: _WriteWatch | None
    ) -> BaseException:
        """Record an attempt that got no response; return the error to raise."""
        if watch is not None and watch.stop():
            timeout = request.timeout
            url = request.url
            error: BaseException = WriteTimeoutError(
                f"{request.method} {url}: the server accepted no more of the request body "
                f"for longer than the write timeout ({timeout.write}s)",
                context={
                    "method": request.method,
                    "url": str(url),
                    "host": url.host or "",
                    "timeout": timeout.write,
                },
            )
        else:
            error = translate_error(exc, request)
        host.failed(error)
        if self._metrics is not None:
            self._metrics.error(host.name, request.method, error)
        return error

    async def _respond(
        self, host: Host, request: Request, raw: aiohttp.ClientResponse, started: float
    ) -> Response:
        """Wrap *raw*; read its body unless the request streams it."""
        status = raw.status
        host.responses += 1
        host.statuses[status] += 1
        # the breaker hears the outcome when the body is done (host.finish)
        live = self.live  # what stopping the client must wake while its body is unread
        if request.stream:
            finish = host.finish

            def on_release(status: int, error: BaseException | None) -> None:
                live.discard(response)  # never keep a response (and its body) alive
                finish(status, error)

            response = Response(raw, request, on_release, started)
        else:
            response = Response(raw, request, host.finish, started)
        live.add(response)
        if self._metrics is not None:
            self._metrics.response(host.name, request.method, status, response.elapsed)
        if not request.stream:
            try:
                await response.read()  # a failure is counted by host.release
            finally:
                live.discard(response)
        return response


async def chunks(data: bytes, size: int = 64 * 1024) -> Any:
    """Yield *data* in pieces of *size* bytes (a watched or progress-reported body)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


class _WriteWatch:
    """The write timeout: bounds each wait for the peer to take the next body chunk.

    The body is handed to aiohttp through :meth:`body`; a timer runs from the
    moment a chunk is handed over until aiohttp asks for the next one (the
    chunk is written and drained). When it fires, the task waiting for the
    response is cancelled and :meth:`stop` reports it, so the caller raises
    :class:`~pepperpy.net.WriteTimeoutError` instead.
    """

    __slots__ = ("_active", "_fired", "_handle", "_loop", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._seconds = seconds
        self._handle: asyncio.TimerHandle | None = None
        self._active = True
        self._fired = False

    def _fire(self) -> None:
        self._handle = None
        if self._active and self._task is not None:
            self._fired = True
            self._task.cancel()

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    async def body(self, source: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Yield *source*'s chunks, timing how long each takes to be written."""
        try:
            async for chunk in source:
                if self._active:
                    self._handle = self._loop.call_later(self._seconds, self._fire)
                yield chunk
                self._disarm()
        finally:
            self._disarm()

    def stop(self) -> bool:
        """Stop watching; return whether the timeout fired (and cancelled the caller)."""
        self._active = False
        self._disarm()
        fired, self._fired = self._fired, False
        if fired and self._task is not None:
            uncancel: Callable[[], int] | None = getattr(self._task, "uncancel", None)
            if uncancel is not None and uncancel() > 0:  # Python 3.11+
                return False  # the caller was cancelled from outside too: that wins
        return fired
