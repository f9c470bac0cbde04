"""Request and response objects, header checks and progress reports."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, Union, overload

import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from pepperpy.core.exceptions import InvalidArgumentError, ValidationError, safe_repr
from pepperpy.net._config import Timeout
from pepperpy.net._errors import (
    HeaderInjectionError,
    HTTPStatusError,
    NetworkError,
    ResponseTooLargeError,
)
from pepperpy.net._serial import decode_json, structure
from pepperpy.net._translate import translate_error

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "Body",
    "Handler",
    "Middleware",
    "Progress",
    "ProgressCallback",
    "Request",
    "Response",
    "check_headers",
]

T = TypeVar("T")

Body = Union[bytes, AsyncIterable[bytes], None]
"""What a request sends: bytes (replayable), an async iterable of chunks (streamed), or nothing."""

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE_RE = re.compile(r"[\r\n\x00]")


def check_headers(headers: Mapping[str, str], *, where: str = "request") -> None:
    """Refuse header names that are not RFC 9110 tokens and values with CR, LF or NUL.

    Raises:
        HeaderInjectionError: naming the offending header.
        InvalidArgumentError: *headers* is not a mapping.
    """
    if not isinstance(headers, Mapping):
        raise InvalidArgumentError(
            f"{where} headers must be a mapping of names to values, not {type(headers).__name__}",
            code="pepperpy.net.invalid_headers",
            context={"type": type(headers).__name__},
            hint='Pass a dict such as {"Accept": "application/json"}.',
        )
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN_RE.fullmatch(name):
            raise HeaderInjectionError(
                f"invalid {where} header name {safe_repr(name)}",
                context={"header": safe_repr(name)},
            )
        if not isinstance(value, str):
            raise HeaderInjectionError(
                f"{where} header {name!r} must be a str, not {type(value).__name__}",
                context={"header": name, "value": safe_repr(value)},
            )
        if _BAD_VALUE_RE.search(value):
            raise HeaderInjectionError(
                f"{where} header {name!r} contains CR, LF or NUL (header injection)",
                context={"header": name, "value": safe_repr(value)},
            )


@attrs.frozen
class Progress:
    """A progress report for an upload or a download.

    Attributes:
        done: Bytes transferred so far.
        total: Bytes expected in all, when known (``Content-Length``).
    """

    done: int
    total: int | None

    @property
    def fraction(self) -> float | None:
        """``done / total`` between 0 and 1, or ``None`` when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], Union[Awaitable[None], None]]
"""A sync or async function called with a :class:`Progress` after each chunk."""


@attrs.define(slots=True, eq=False)
class Request:
    """One outgoing HTTP request, as middleware sees it (mutable on purpose).

    Attributes:
        method: The upper-case method.
        url: The absolute URL (a :class:`yarl.URL`).
        headers: Case-insensitive headers; middleware may change them.
        content: The body: bytes, an async iterable of chunks, or ``None``.
        timeout: The time limits of this request.
        max_response_size: The body size limit in bytes (``None``: no limit).
        stream: Whether the body is left unread for the caller to stream.
        attempt: The attempt number, 1 for the first (retries count up).
        extensions: Free-form per-request data for middleware.
    """

    method: str
    url: URL
    headers: CIMultiDict[str]
    content: Body = None
    timeout: Timeout = attrs.field(factory=Timeout)
    max_response_size: int | None = None
    stream: bool = False
    attempt: int = 1
    extensions: dict[str, Any] = attrs.field(factory=dict)

    @property
    def host(self) -> str:
        """The URL's host."""
        return self.url.host or ""

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again (bytes or none) for a retry or redirect."""
        return self.content is None or isinstance(self.content, (bytes, bytearray))

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


_NO_BODY = object()


class Response:
    """An HTTP response. Its body is read once, bounded by the size limit.

    Responses from :meth:`HttpClient.request` and the verb helpers are already
    read and their connection released; responses from
    :meth:`HttpClient.stream` hold the connection until read, iterated to the
    end, or closed (use ``async with``).

    The size limit counts *decoded* bytes (after gzip, deflate, br or zstd)
    on every reading path, and reading stops as soon as it is passed.
    """

    __slots__ = (
        "_body",
        "_max_size",
        "_on_release",
        "_raw",
        "_released",
        "attempts",
        "elapsed",
        "history",
        "request",
    )

    def __init__(
        self,
        raw: aiohttp.ClientResponse,
        request: Request,
        on_release: Callable[[int, BaseException | None], None] | None = None,
        started: float | None = None,
    ) -> None:
        self._raw = raw
        self.request = request
        """The :class:`Request` that produced this response (the last hop)."""
        self._max_size = request.max_response_size
        self._on_release = on_release
        self._released = False
        self._body: Any = _NO_BODY
        self.history: tuple[Response, ...] = ()
        """Redirect responses that led here, oldest first."""
        self.attempts = 1
        """Attempts made for the last hop (1 when it was not retried)."""
        self.elapsed = 0.0 if started is None else time.monotonic() - started
        """Seconds from sending the request to receiving the headers."""

    # ----------------------------------------------------------------- metadata

    @property
    def status(self) -> int:
        """The status code."""
        return self._raw.status

    @property
    def reason(self) -> str:
        """The reason phrase."""
        return self._raw.reason or ""

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response headers (case-insensitive)."""
        return self._raw.headers

    @property
    def url(self) -> URL:
        """The URL this response came from."""
        return self._raw.url

    @property
    def content_type(self) -> str:
        """The media type, without parameters (``"application/json"``)."""
        return self._raw.content_type

    @property
    def content_length(self) -> int | None:
        """The announced body length, when the server sent one."""
        return self._raw.content_length

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self._raw.status < 300

    @property
    def is_redirect(self) -> bool:
        """Whether the status is a redirect with a ``Location``."""
        return self._raw.status in (301, 302, 303, 307, 308) and "Location" in self._raw.headers

    @property
    def raw(self) -> aiohttp.ClientResponse:
        """The underlying :class:`aiohttp.ClientResponse` (an escape hatch)."""
        return self._raw

    def raise_for_status(self) -> Response:
        """Raise :class:`~pepperpy.net.HTTPStatusError` for 4xx/5xx; return self otherwise."""
        status = self._raw.status
        if status < 400:
            return self
        body = self._body if isinstance(self._body, bytes) else b""
        raise HTTPStatusError(
            f"{self.request.method} {self.url} returned {status} {self.reason}".rstrip(),
            status=status,
            context={
                "method": self.request.method,
                "url": str(self.url),
                "status": status,
                "body": safe_repr(body[:200]),
            },
            hint="Client errors (4xx) mean the request must change; server errors (5xx) "
            "may pass on retry.",
        )

    # ----------------------------------------------------------------- body

    def _limit_error(self, size: int, *, announced: bool) -> ResponseTooLargeError:
        how = "announces" if announced else "exceeded"
        return ResponseTooLargeError(
            f"response from {self.url} {how} {size} bytes, over the {self._max_size}-byte limit",
            context={"url": str(self.url), "limit": self._max_size, "size": size},
        )

    async def read(self) -> bytes:
        """Read the whole body (once; later calls return it again).

        Raises:
            ResponseTooLargeError: The decoded body is larger than
                ``max_response_size``; reading stops there and the connection
                is closed, not reused.
            NetworkError: The connection failed while reading (a subclass says how).
        """
        if self._body is not _NO_BODY:
            return bytes(self._body)
        raw = self._raw
        limit = self._max_size
        if self.request.method == "HEAD" or raw.status in (204, 304):
            limit = None  # no body follows, whatever Content-Length announces
        content = raw.content
        try:
            announced = raw.content_length
            if limit is not None and announced is not None and announced > limit:
                raise self._limit_error(announced, announced=True)
            body = await content.readany()
            size = len(body)
            if limit is not None and size > limit:
                raise self._limit_error(size, announced=False)
            if body and not content.at_eof():  # more than one chunk: the counted loop
                body = await self._read_rest(content, body, limit)
        except BaseException as exc:
            error = exc
            if isinstance(exc, Exception) and not isinstance(exc, NetworkError):
                error = translate_error(exc, self.request)
            self._abort(error)
            if error is not exc:
                raise error from exc
            raise
        self._body = body
        if self.request.content is None:
            self.release()  # no request body writer to wait for
        else:
            await self._settle()
        return body

    async def _read_rest(
        self, content: aiohttp.StreamReader, first: bytes, limit: int | None
    ) -> bytes:
        """The rest of a body that came in more than one chunk, counted against *limit*."""
        parts = [first]
        size = len(first)
        while True:
            chunk = await content.readany()
            if not chunk:
                return b"".join(parts)
            size += len(chunk)
            if limit is not None and size > limit:
                raise self._limit_error(size, announced=False)
            parts.append(chunk)

    async def _chunks(self, chunk_size: int) -> AsyncIterator[bytes]:
        """Decoded chunks for :meth:`iter_bytes`, counted against the limit as they come.

        :meth:`read` runs the same count inline (it is on every request's path).

        aiohttp decodes gzip/deflate/br/zstd a bounded step at a time and stops
        reading the socket while its buffer is full, so stopping here stops the
        transfer and the decoding.
        """
        raw = self._raw
        limit = self._max_size
        if self.request.method == "HEAD" or raw.status in (204, 304):
            limit = None  # no body follows, whatever Content-Length announces
        announced = raw.content_length
        if limit is not None and announced is not None and announced > limit:
            raise self._limit_error(announced, announced=True)
        content = raw.content
        size = 0
        try:
            while True:
                chunk = await content.read(chunk_size)
                if not chunk:
                    return
                size += len(chunk)
                if limit is not None and size > limit:
                    raise self._limit_error(size, announced=False)
                yield chunk
        except NetworkError:
            raise
        except Exception as exc:
            raise translate_error(exc, self.request) from exc

    async def iter_bytes(
        self, chunk_size: int = 65536, *, progress: ProgressCallback | None = None
    ) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most *chunk_size* bytes, bounded by the size limit.

        *progress* is called after each chunk. The connection is released at
        the end, and closed if iteration stops early or fails.
        """
        if self._body is not _NO_BODY:
            body = bytes(self._body)
            for start in range(0, len(body), chunk_size):
                yield body[start : start + chunk_size]
            return
        from pepperpy.core.utils import call_maybe_async

        total = self._raw.content_length
        done = 0
        failure: BaseException | None = None
        completed = False
        try:
            async for chunk in self._chunks(chunk_size):
                done += len(chunk)
                yield chunk
                if progress is not None:
                    await call_maybe_async(progress, Progress(done, total))
            completed = True
            self._body = b""  # consumed: a later read() returns nothing more
            await self._settle()
        except (NetworkError, asyncio.CancelledError) as exc:
            failure = exc  # a cancellation is no verdict on the host (see _Host.finish)
            raise
        finally:
            if not completed:
                self._abort(failure)

    async def text(self, encoding: str | None = None) -> str:
        """Read the body and decode it (charset from ``Content-Type``, else UTF-8)."""
        body = await self.read()
        return body.decode(encoding or self._raw.charset or "utf-8", errors="replace")

    @overload
    async def json(self) -> Any: ...
    @overload
    async def json(self, type_: type[T]) -> T: ...
    @overload
    async def json(self, type_: Any) -> Any: ...

    async def json(self, type_: Any = None) -> Any:
        """Read the body as JSON; with *type_*, structure it into that type.

        Structuring uses :mod:`pepperpy.serialization` (``pip install
        pepperpy-serialization``); its :class:`~pepperpy.core.ValidationError`
        lists every field that did not fit, with its path.

        Raises:
            ValidationError: The body is not valid JSON (or does not fit *type_*).
        """
        body = await self.read()
        try:
            data = decode_json(body)
        except ValueError as exc:
            raise ValidationError(
                f"response from {self.url} is not valid JSON: {exc}",
                code="pepperpy.net.invalid_json",
                context={"url": str(self.url), "body": safe_repr(body[:200])},
                hint="Check the endpoint; use .text() to see what it returned.",
            ) from exc
        if type_ is None:
            return data
        return structure(data, type_)

    # ----------------------------------------------------------------- release

    def release(self) -> None:
        """Return the connection to the pool (idempotent)."""
        if self._released:
            return
        self._released = True
        try:
            self._raw.release()
        finally:
            on_release, self._on_release = self._on_release, None
            if on_release is not None:
                on_release(self._raw.status, None)

    def _abort(self, error: BaseException | None = None) -> None:
        """Close the connection without reuse (the body was not fully read).

        *error* is what ended the read (the client counts it against the host).
        """
        if self._released:
            return
        self._released = True
        try:
            self._raw.close()
        finally:
            on_release, self._on_release = self._on_release, None
            if on_release is not None:
                on_release(self._raw.status, error)

    async def close(self) -> None:
        """Release the connection; an unread body is discarded with its connection."""
        if self._released:
            return
        await self._settle()  # aiohttp closes, rather than reuses, a half-read connection

    async def _settle(self) -> None:
        """Release, then wait for a streamed request body's writer to wind down.

        aiohttp cancels an unfinished body writer on release and hands the
        connection back only once it has stopped; waiting here means no task
        and no connection outlives the response.
        """
        self.release()
        if self.request.content is not None:
            await self._raw.wait_for_close()
            await asyncio.sleep(0)  # the writer's done-callbacks run on the next turn

    @property
    def closed(self) -> bool:
        """Whether the connection has been released or closed."""
        return self._released

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status}] {self.request.method} {self.url}>"


Handler = Callable[[Request], Awaitable[Response]]
"""Sends a request and returns its response: the next step of a middleware chain."""

Middleware = Callable[[Request, Handler], Awaitable[Response]]
"""``async def middleware(request, call_next) -> Response``: see request/response hooks."""
