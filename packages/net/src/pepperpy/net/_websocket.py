"""A WebSocket client with heartbeat, reconnect with backoff and a bounded send queue."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from yarl import URL

from pepperpy.core.exceptions import InvalidArgumentError, ValidationError, safe_repr
from pepperpy.core.types import Lifecycle
from pepperpy.net._errors import (
    NetworkError,
    WebSocketClosedError,
    WebSocketError,
    WebSocketMessageTooLargeError,
)
from pepperpy.net._models import check_headers
from pepperpy.net._serial import decode_json, encode_json, structure
from pepperpy.net._translate import translate_error

if TYPE_CHECKING:
    from typing import TypeAlias

    from pepperpy.core.utils import RetryPolicy
    from pepperpy.net._client import HttpClient

__all__ = ["Reconnect", "WebSocketClient", "WebSocketStats"]

_MODES = ("json", "text", "bytes")
_WS: TypeAlias = "aiohttp.ClientWebSocketResponse[bool]"


@attrs.frozen
class Reconnect:
    """How a :class:`WebSocketClient` reconnects after the connection drops.

    The waits come from the core :class:`~pepperpy.core.utils.RetryPolicy`
    (exponential backoff with jitter).

    Attributes:
        attempts: Reconnect attempts in a row before giving up (``None``: forever).
        delay: The first wait in seconds.
        max_delay: The longest wait.
        backoff: The multiplier between waits.
        jitter: Random jitter passed to the core policy.
    """

    attempts: int | None = None
    delay: float = 0.1
    max_delay: float = 30.0
    backoff: float = 2.0
    jitter: float = 0.1

    @property
    def policy(self) -> RetryPolicy:
        """The core policy computing the waits."""
        from pepperpy.core.utils import RetryPolicy

        return RetryPolicy(
            attempts=max(1, self.attempts or 1),
            delay=self.delay,
            max_delay=self.max_delay,
            backoff=self.backoff,
            jitter=self.jitter,
        )


@attrs.frozen
class WebSocketStats:
    """Counters of a :class:`WebSocketClient`.

    Attributes:
        connected: Whether a connection is open now.
        connects: Successful connections (the first one included).
        reconnects: Successful reconnections.
        sent: Messages sent.
        received: Messages received.
        queued: Messages waiting in the send queue.
    """

    connected: bool
    connects: int
    reconnects: int
    sent: int
    received: int
    queued: int


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_CLOSED = object()


def _check_timeout(timeout: object) -> float | None:
    """*timeout* as seconds (``None``: no limit); NaN or a non-number is refused.

    A NaN deadline never arrives (``asyncio.wait_for`` waits forever), and a
    str fails inside asyncio with a raw ``TypeError``.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or math.isnan(timeout):
        raise InvalidArgumentError(
            f"timeout must be a number of seconds or None, not {safe_repr(timeout)}",
            code="pepperpy.net.invalid_argument",
            context={"timeout": safe_repr(timeout)},
        )
    return float(timeout)


class WebSocketClient(Lifecycle):
    """A WebSocket connection that keeps itself alive. Create it with ``client.websocket(url)``.

    * **Heartbeat**: a ping every *heartbeat* seconds; a missing pong drops
      the connection (and triggers a reconnect).
    * **Reconnect**: with a :class:`Reconnect` policy, a dropped connection
      is reopened with backoff; unsent messages wait in the queue meanwhile.
      Without one, a drop closes the client for good.
    * **Messages**: in ``"json"`` mode messages are encoded/decoded as JSON
      (structured into *type_* with pepperpy-serialization when given);
      ``"text"`` and ``"bytes"`` pass them through.
    * **Bounded queues**: :meth:`send` waits while *send_queue_size* messages
      are queued (:meth:`send_nowait` raises instead); incoming messages wait
      in a queue of *receive_queue_size*, so a slow reader slows the socket,
      not memory.

    ``async with client.websocket("/ws") as ws:`` connects (the first
    connection must succeed) and closes on exit; ``async for message in ws``
    reads until the socket is closed for good.
    """

    def __init__(
        self,
        client: HttpClient,
        url: str | URL,
        *,
        heartbeat: float | None = 20.0,
        reconnect: Reconnect | None = None,
        send_queue_size: int = 100,
        receive_queue_size: int = 1000,
        mode: str = "json",
        type_: Any = None,
        headers: Mapping[str, str] | None = None,
        protocols: Sequence[str] = (),
        max_message_size: int = 4 * 1024 * 1024,
    ) -> None:
        if mode not in _MODES:
            raise InvalidArgumentError(
                f"mode must be one of {', '.join(_MODES)}, not {mode!r}",
                code="pepperpy.net.invalid_argument",
            )
        for name, size in (
            ("send_queue_size", send_queue_size),
            ("receive_queue_size", receive_queue_size),
        ):
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise InvalidArgumentError(
                    f"{name} must be an integer >= 1 (queues are always bounded)",
                    code="pepperpy.net.invalid_argument",
                    context={name: size},
                )
        if (
            isinstance(max_message_size, bool)
            or not isinstance(max_message_size, int)
            or max_message_size < 1
        ):
            # aiohttp reads 0 as "no limit": a limit that silently does not hold
            raise InvalidArgumentError(
                f"max_message_size must be an integer >= 1 (bytes), not {max_message_size!r}",
                code="pepperpy.net.invalid_argument",
                context={"max_message_size": safe_repr(max_message_size)},
                hint="Messages are always bounded; pass the largest message you accept.",
            )
        if heartbeat is not None and not heartbeat > 0:
            raise InvalidArgumentError(
                "heartbeat must be > 0 seconds or None",
                code="pepperpy.net.invalid_argument",
                context={"heartbeat": heartbeat},
            )
        if headers:
            check_headers(headers)
        self._client = client
        self.url = client._ws_url(url)
        """The ``ws://`` or ``wss://`` URL."""
        self._heartbeat = heartbeat
        self._reconnect = reconnect
        self._mode = mode
        self._type = type_
        self._headers = dict(headers or {})
        self._protocols = tuple(protocols)
        self._max_size = max_message_size
        self._too_large = False
        self._send_size = send_queue_size
        self._receive_size = receive_queue_size
        self._ws: _WS | None = None
        self._runner: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[Any] | None = None
        self._inbox: asyncio.Queue[Any] | None = None
        self._inflight: Any = None
        self._has_inflight = False
        self._closing = False
        self._final_error: BaseException | None = None
        self._connects = self._reconnects = self._sent = self._received = 0
        self._connected: asyncio.Event | None = None
        self._closed: asyncio.Event | None = None

    # ----------------------------------------------------------------- lifecycle

    async def _on_start(self) -> None:
        self._client._ensure_running()
        self._closing = False
        self._final_error = None
        self._outbox = asyncio.Queue(self._send_size)
        self._inbox = asyncio.Queue(self._receive_size)
        self._connected = asyncio.Event()
        self._closed = asyncio.Event()
        self._ws = await self._connect()
        self._runner = asyncio.get_running_loop().create_task(
            self._run(), name=f"pepperpy.net websocket {self.url}"
        )

    async def _on_stop(self) -> None:
        self._closing = True
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._connected is not None:
            self._connected.clear()
        self._signal_closed()

    def _signal_closed(self) -> None:
        if self._closed is not None:
            self._closed.set()
        inbox = self._inbox
        if inbox is None:
            return
        # The marker wakes receivers blocked on an empty inbox. A full inbox has
        # no blocked receiver; they drain it and then see the socket is closed.
        with contextlib.suppress(asyncio.QueueFull):
            inbox.put_nowait(_CLOSED)

    async def _connect(self) -> _WS:
        client = self._client
        session = client.session
        url = self.url  # the SSRF guard runs in the connector, on every handshake hop
        timeout = client.timeout
        try:
            ws = await asyncio.wait_for(
                session.ws_connect(
                    url,
                    heartbeat=self._heartbeat,
                    protocols=self._protocols,
                    headers={**self._request_headers(), **self._headers},
                    max_msg_size=self._max_size,
                    ssl=client._ssl,
                ),
                timeout.connect + timeout.read,
            )
        except BaseException as exc:
            error = translate_error(exc, None)
            if error is exc:
                raise
            if isinstance(error, NetworkError):
                error.context["url"] = str(url)
            raise error from exc
        self._connects += 1
        if self._connected is not None:
            self._connected.set()
        return ws

    def _request_headers(self) -> dict[str, str]:
        headers = dict(self._client._headers)
        if self._client._propagate:
            from pepperpy.net._serial import context_headers

            context_headers(headers)
        return headers

    # ----------------------------------------------------------------- background

    async def _run(self) -> None:
        while True:
            ws = self._ws
            assert ws is not None
            await self._pump(ws)
            if self._connected is not None:
                self._connected.clear()
            with contextlib.suppress(Exception):
                await ws.close()
            if self._closing:
                return
            replacement = await self._reopen()
            if replacement is None:
                return
            self._ws = replacement
            self._reconnects += 1

    async def _pump(self, ws: _WS) -> None:
        loop = asyncio.get_running_loop()
        reader = loop.create_task(self._read_loop(ws))
        writer = loop.create_task(self._write_loop(ws))
        try:
            await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, writer):
                task.cancel()
            for task in (reader, writer):
                with contextlib.suppress(BaseException):
                    await task

    async def _reopen(self) -> _WS | None:
        policy = self._reconnect
        if policy is None:
            if self._too_large:
                self._final_error = WebSocketClosedError(
                    f"the WebSocket {self.url} was closed (code 1009): a message exceeded "
                    f"max_message_size={self._max_size} bytes",
                    context={"url": str(self.url), "limit": self._max_size},
                    hint="Raise max_message_size, or pass reconnect=Reconnect() to "
                    "reconnect after such messages.",
                )
            else:
                self._final_error = WebSocketClosedError(
                    f"the WebSocket {self.url} was closed by the peer or the network",
                    context={"url": str(self.url)},
                    hint="Pass reconnect=Reconnect() to reconnect automatically.",
                )
            self._signal_closed()
            return None
        core = policy.policy
        attempt = 0
        last: BaseException | None = None
        while policy.attempts is None or attempt < policy.attempts:
            attempt += 1
            await self._client._clock.sleep(core.delay_for(attempt))
            try:
                ws = await self._connect()
                self._too_large = False
                return ws
            except (NetworkError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                last = exc
        self._final_error = WebSocketClosedError(
            f"the WebSocket {self.url} could not reconnect after {attempt} attempts: {last}",
            context={"url": str(self.url), "attempts": attempt},
        )
        self._signal_closed()
        return None

    async def _read_loop(self, ws: _WS) -> None:
        inbox = self._inbox
        assert inbox is not None
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT or message.type is aiohttp.WSMsgType.BINARY:
                item = self._decode(message.data)
            else:  # ERROR: the connection is broken
                error = message.data
                if (
                    isinstance(error, aiohttp.WebSocketError)
                    and error.code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
                ):
                    self._too_large = True
                    await inbox.put(
                        _Failure(
                            WebSocketMessageTooLargeError(
                                f"a WebSocket message from {self.url} exceeded "
                                f"max_message_size={self._max_size} bytes ({error}); "
                                "the connection was closed with code 1009",
                                context={"url": str(self.url), "limit": self._max_size},
                            )
                        )
                    )
                return
            self._received += 1
            await inbox.put(item)

    def _decode(self, data: str | bytes) -> Any:
        if self._mode == "bytes":
            return data if isinstance(data, bytes) else data.encode()
        if self._mode == "text":
            return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
        try:
            value = decode_json(data)
        except ValueError as exc:
            return _Failure(
                ValidationError(
                    f"a WebSocket message from {self.url} is not valid JSON: {exc}",
                    code="pepperpy.net.websocket.invalid_json",
                    context={"url": str(self.url), "message": safe_repr(data)},
                    hint="Use mode='text' for non-JSON messages.",
                )
            )
        if self._type is None:
            return value
        try:
            return structure(value, self._type)
        except ValidationError as exc:
            return _Failure(exc)

    async def _write_loop(self, ws: _WS) -> None:
        outbox = self._outbox
        assert outbox is not None
        while True:
            if not self._has_inflight:
                self._inflight = await outbox.get()
                self._has_inflight = True
            message = self._inflight
            if isinstance(message, bytes):
                await ws.send_bytes(message)
            else:
                await ws.send_str(message)
            self._has_inflight = False
            self._inflight = None
            self._sent += 1
            outbox.task_done()

    # ----------------------------------------------------------------- public API

    def _encode(self, message: Any) -> str | bytes:
        if self._mode == "json":
            return encode_json(message).decode()
        if self._mode == "text":
            if not isinstance(message, str):
                raise InvalidArgumentError(
                    f"text-mode WebSocket messages must be str, not {type(message).__name__}",
                    code="pepperpy.net.invalid_message",
                )
            try:  # checked here: in the writer task the error would reach nobody
                message.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidArgumentError(
                    "a text WebSocket message holds a lone surrogate, which UTF-8 cannot encode",
                    code="pepperpy.net.invalid_message",
                    hint="Remove the lone surrogate (\\ud800-\\udfff) from the text.",
                ) from None
            return message
        if not isinstance(message, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(
                f"bytes-mode WebSocket messages must be bytes, not {type(message).__name__}",
                code="pepperpy.net.invalid_message",
            )
        return bytes(message)

    def _check_open(self) -> asyncio.Queue[Any]:
        if self._final_error is not None:
            raise self._final_error
        self._ensure_running()
        assert self._outbox is not None
        return self._outbox

    async def send(self, message: Any, *, timeout: float | None = None) -> None:
        """Queue *message* for sending, waiting while the send queue is full.

        Args:
            message: The message (JSON-able in ``"json"`` mode, str or bytes otherwise).
            timeout: Longest wait for queue space; ``None`` waits as long as
                the socket is open.

        Raises:
            WebSocketError: The queue stayed full for *timeout* seconds.
            WebSocketClosedError: The socket is closed for good.
        """
        timeout = _check_timeout(timeout)
        outbox = self._check_open()
        item = self._encode(message)
        if timeout is None:
            await outbox.put(item)
            return
        try:
            await asyncio.wait_for(outbox.put(item), timeout)
        except asyncio.TimeoutError:
            raise WebSocketError(
                f"the send queue of {self.url} stayed full for {timeout}s",
                code="pepperpy.net.websocket.backpressure",
                context={"url": str(self.url), "queue_size": self._send_size},
                hint="The peer reads slower than you send; slow down or raise send_queue_size.",
            ) from None

    def send_nowait(self, message: Any) -> None:
        """Queue *message* without waiting.

        Raises:
            WebSocketError: The send queue is full (backpressure).
        """
        outbox = self._check_open()
        try:
            outbox.put_nowait(self._encode(message))
        except asyncio.QueueFull:
            raise WebSocketError(
                f"the send queue of {self.url} is full ({self._send_size} messages)",
                code="pepperpy.net.websocket.backpressure",
                context={"url": str(self.url), "queue_size": self._send_size},
                hint="Use 'await ws.send(...)' to wait for room, or raise send_queue_size.",
            ) from None

    async def receive(self, *, timeout: float | None = None) -> Any:
        """Return the next message (decoded per the mode).

        Raises:
            WebSocketClosedError: The socket is closed for good and nothing is left.
            OperationTimeoutError: Nothing arrived within *timeout* seconds.
            ValidationError: The message is not JSON, or does not fit ``type_``.
        """
        timeout = _check_timeout(timeout)
        inbox = self._inbox
        if inbox is None:
            self._ensure_running()
            raise AssertionError("unreachable")
        if inbox.empty() and self._final_error is not None:
            raise self._final_error
        if inbox.empty() and not self.is_running:
            self._ensure_running()
        if timeout is None:
            item = await inbox.get()
        else:
            try:
                item = await asyncio.wait_for(inbox.get(), timeout)
            except asyncio.TimeoutError:
                from pepperpy.core.exceptions import OperationTimeoutError

                raise OperationTimeoutError(
                    f"no WebSocket message from {self.url} within {timeout}s",
                    code="pepperpy.net.websocket.receive_timeout",
                    context={"url": str(self.url), "timeout": timeout},
                ) from None
        if item is _CLOSED:
            self._signal_closed()  # leave the marker for other receivers
            raise self._final_error or WebSocketClosedError(
                f"the WebSocket {self.url} is closed", context={"url": str(self.url)}
            )
        if isinstance(item, _Failure):
            raise item.error
        return item

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued message has been handed to the socket.

        Call it before :meth:`stop` to avoid dropping queued messages (stop
        does not wait for them).

        Raises:
            OperationTimeoutError: Messages were still queued after *timeout* seconds.
            WebSocketClosedError: The socket closed for good before they were sent.
        """
        timeout = _check_timeout(timeout)
        outbox = self._check_open()
        closed = self._closed
        assert closed is not None
        loop = asyncio.get_running_loop()
        drained = loop.create_task(outbox.join())
        ended = loop.create_task(closed.wait())
        try:
            done, _ = await asyncio.wait(
                {drained, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (drained, ended):
                task.cancel()
            await asyncio.gather(drained, ended, return_exceptions=True)
        if drained in done:
            return
        if self._final_error is not None or ended in done:
            raise self._final_error or WebSocketClosedError(
                f"the WebSocket {self.url} closed with messages unsent",
                context={"url": str(self.url)},
            )
        from pepperpy.core.exceptions import OperationTimeoutError

        raise OperationTimeoutError(
            f"{outbox.qsize() + int(self._has_inflight)} WebSocket message(s) to {self.url} "
            f"still queued after {timeout}s",
            code="pepperpy.net.websocket.flush_timeout",
            context={"url": str(self.url), "timeout": timeout},
        )

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until a connection is open (after a drop, until the reconnect succeeds)."""
        timeout = _check_timeout(timeout)
        event = self._connected
        if event is None:
            self._ensure_running()
            raise AssertionError("unreachable")
        if timeout is None:
            await event.wait()
        else:
            await asyncio.wait_for(event.wait(), timeout)

    async def __aiter__(self) -> AsyncIterator[Any]:
        """Yield messages until the socket is closed for good."""
        while True:
            try:
                yield await self.receive()
            except WebSocketClosedError:
                return

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""
        return self._ws is not None and not self._ws.closed and self.is_running

    def stats(self) -> WebSocketStats:
        """A snapshot of the counters."""
        return WebSocketStats(
            connected=self.connected,
            connects=self._connects,
            reconnects=self._reconnects,
            sent=self._sent,
            received=self._received,
            queued=(self._outbox.qsize() if self._outbox is not None else 0)
            + int(self._has_inflight),
        )

    def __repr__(self) -> str:
        return f"<WebSocketClient {self.url} state={self.state.value}>"
