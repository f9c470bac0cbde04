"""Durable event streams: the :class:`EventStream` contract, its shared parts and the factory.

An event stream is an append-only log of ``(topic, data)`` events read through
consumer groups, with the semantics of Redis Streams: every group gets every
event; within a group, each event is handed to one consumer and stays
*pending* until acknowledged; an unacknowledged event comes back (to its own
consumer after a restart, to any consumer once idle for ``claim_after``);
after ``max_deliveries`` attempts it goes to the dead-letter stream
``<stream>:dead``. :class:`~pepperpy.event.MemoryStream`,
:class:`~pepperpy.event.SQLiteStream` and :class:`~pepperpy.event.RedisStream`
implement it and pass one conformance suite; :func:`connect_stream` picks one
from a URL, so moving from one process to several is a setting.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import math
import os
import re
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import attrs

from pepperpy.core.exceptions import ClosedError, InvalidArgumentError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.utils import Backends, cancel_requested
from pepperpy.event._cancel import is_handler_failure
from pepperpy.event._errors import StreamError

__all__ = [
    "ENTRY_POINT_GROUP",
    "STREAM_URL_ENV",
    "EventStream",
    "StreamDeadLetter",
    "StreamError",
    "StreamMessage",
    "connect_stream",
    "stream_backends",
]

ENTRY_POINT_GROUP = "pepperpy.event.backends"
"""The entry point group stream backends register under (name = URL scheme)."""

STREAM_URL_ENV = "PEPPERPY_EVENT_STREAM_URL"
"""The environment variable :func:`connect_stream` reads when given no URL."""

_BACKENDS = Backends(
    "event",
    "event stream backend",
    ENTRY_POINT_GROUP,
    {
        "memory": "pepperpy.event._memory_stream:MemoryStream",
        "sqlite": "pepperpy.event._sqlite_stream:SQLiteStream",
        "postgres": "pepperpy.event._postgres_stream:PostgresStream",
        "postgresql": "pepperpy.event._postgres_stream:PostgresStream",
        "redis": "pepperpy.event._redis:RedisStream",
        "rediss": "pepperpy.event._redis:RedisStream",
        "unix": "pepperpy.event._redis:RedisStream",
    },
)

_log = logging.getLogger("pepperpy.event.stream")

_ID = re.compile(r"(\d+)(?:-(\d+))?")


@attrs.frozen
class StreamMessage:
    """One event read from an :class:`EventStream`.

    Attributes:
        id: The entry id (``"1700000000000-0"``: milliseconds, then a sequence
            number), increasing in append order.
        topic: The topic it was published on.
        data: The JSON payload (attrs instances arrive as dicts).
        deliveries: How many times it has been handed out (1 the first time).
    """

    id: str
    topic: str
    data: Any
    deliveries: int = 1


@attrs.frozen
class StreamDeadLetter:
    """An event moved to the dead-letter stream ``<stream>:dead``.

    Attributes:
        id: Its id in the dead-letter stream.
        message_id: Its id in the original stream.
        topic: The topic it was published on.
        data: The JSON payload.
        group: The consumer group that gave up on it.
        error: Why (the handler's last exception, or ``"too many deliveries"``).
        deliveries: How many times it had been handed out.
    """

    id: str
    message_id: str
    topic: str
    data: Any
    group: str
    error: str
    deliveries: int


@runtime_checkable
class EventStream(Protocol):
    """A durable, at-least-once event stream read through consumer groups.

    Implemented by :class:`~pepperpy.event.MemoryStream` (one process),
    :class:`~pepperpy.event.SQLiteStream` (processes sharing a file) and
    :class:`~pepperpy.event.RedisStream` (processes on several machines), with
    the same semantics; :func:`connect_stream` builds one from a URL.
    """

    group: str
    consumer: str
    claim_after: float
    max_deliveries: int
    batch: int
    block: float
    handled: int
    dead_lettered: int

    async def publish(self, topic: str, data: Any = None) -> str:
        """Append an event; return its id."""
        ...

    async def ensure_group(self, *, start: str = "0") -> None:
        """Create the group if missing, reading from *start* (``"0"``, ``"$"`` or an id)."""
        ...

    async def read(self, *, block: float | None = None) -> list[StreamMessage]:
        """Hand out up to ``batch`` events: own pending, then idle claimed, then new."""
        ...

    async def ack(self, *messages: StreamMessage) -> int:
        """Acknowledge handled events; return how many were still pending."""
        ...

    async def dead_letter(self, message: StreamMessage, error: str) -> None:
        """Move *message* to the dead-letter stream and acknowledge it."""
        ...

    async def dead_letters(self, limit: int | None = None) -> list[StreamDeadLetter]:
        """The dead-letter stream's entries, oldest first."""
        ...

    async def pending(self) -> int:
        """How many events the group has handed out but not had acknowledged."""
        ...

    async def consume(
        self,
        handler: Callable[[StreamMessage], Awaitable[Any] | Any],
        *,
        stop: asyncio.Event | None = None,
        retry_interval: float = 0.5,
    ) -> None:
        """Handle events until *stop* is set, acknowledging each after its handler."""
        ...

    async def forward(self, manager: Any, *, stop: asyncio.Event | None = None) -> None:
        """Publish every event into a local ``EventManager``, then acknowledge it."""
        ...

    async def aclose(self) -> None:
        """Release the stream's connections; later calls raise ``ClosedError``."""
        ...

    async def __aenter__(self) -> EventStream:
        """Return the stream itself (``async with connect_stream(...) as stream``)."""
        ...

    async def __aexit__(self, *exc: object) -> None:
        """Close the stream (:meth:`aclose`)."""
        ...


# --------------------------------------------------------------------------- helpers


def encode_event(topic: str, data: Any) -> tuple[str, str]:
    """Validate *topic* and serialize *data* to JSON text (shared by every backend)."""
    if not isinstance(topic, str) or not topic:
        raise InvalidArgumentError(
            f"topic must be a non-empty string, got {_safe_repr(topic)}",
            code="pepperpy.event.topic",
            hint="Publish on a dotted topic such as 'orders.paid'.",
        )
    if "\x00" in topic:
        raise InvalidArgumentError(
            f"topic {_safe_repr(topic)} contains a NUL character",
            code="pepperpy.event.topic",
            hint="Publish on a dotted topic such as 'orders.paid'.",
        )
    try:
        topic.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(
            f"topic {_safe_repr(topic)} is not valid Unicode text: {exc.reason}",
            code="pepperpy.event.topic",
            hint="Publish on a dotted topic such as 'orders.paid' (no lone surrogates).",
        ) from exc
    try:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_unstructure)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"cannot store a {type(data).__name__} in an event stream: {exc}",
            code="pepperpy.event.payload",
            context={"topic": topic},
            hint="Send JSON-like payloads or attrs instances (pepperpy-serialization converts "
            "them).",
        ) from exc
    return topic, body


def decode_data(body: str | None) -> Any:
    """The payload of a stored JSON text (the text itself if it is not JSON)."""
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _unstructure(obj: Any) -> Any:
    try:
        serialization = importlib.import_module("pepperpy.serialization")
    except ImportError:
        serialization = None
    if serialization is None and attrs.has(type(obj)):
        return attrs.asdict(obj)
    if serialization is not None:
        converted = serialization.unstructure(obj)
        if converted is not obj:
            return converted
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def parse_id(text: str) -> tuple[int, int]:
    """``"<ms>-<seq>"`` or ``"<ms>"`` as a tuple; :class:`InvalidArgumentError` otherwise."""
    match = _ID.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArgumentError(
            f"{_safe_repr(text)} is not a stream entry id",
            code="pepperpy.event.stream_id",
            hint="Use '0' (every entry), '$' (only new ones) or an id such as '1700000000000-0'.",
        )
    value = int(match.group(1)), int(match.group(2) or 0)
    if max(value) >= 2**63:
        raise InvalidArgumentError(
            f"{_safe_repr(text)} is out of range for a stream entry id",
            code="pepperpy.event.stream_id",
            hint="Both parts of an id are below 2**63, e.g. '1700000000000-0'.",
        )
    return value


def format_id(value: tuple[int, int]) -> str:
    """The text form of an entry id tuple."""
    return f"{value[0]}-{value[1]}"


def check_start(start: str) -> str:
    """Validate ``ensure_group(start=...)``: ``"0"``, ``"$"`` or an entry id."""
    if start != "$":
        parse_id(start)
    return start


def check_block(block: float | None, default: float) -> float:
    """Validate ``read(block=...)``: ``None`` (the stream's ``block``) or finite seconds >= 0."""
    wait = default if block is None else block
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait < math.inf:
        raise InvalidArgumentError(
            f"block must be a finite number of seconds >= 0, got {_safe_repr(wait)}",
            code="pepperpy.event.stream_options",
            hint="Pass block=0 to return at once, or the seconds to wait for events.",
        )
    return float(wait)


def dead_letter_from_fields(entry_id: str, fields: dict[str, str]) -> StreamDeadLetter:
    """A dead letter stored as text fields (``t``, ``d``, ``id``, ``group``, ``error``, ...)."""
    return StreamDeadLetter(
        id=entry_id,
        message_id=fields.get("id", ""),
        topic=fields.get("t", ""),
        data=decode_data(fields.get("d")),
        group=fields.get("group", ""),
        error=fields.get("error", ""),
        deliveries=int(fields.get("deliveries", "0")),
    )


def check_poll_interval(poll_interval: float, example: str) -> float:
    """Validate a stream's ``poll_interval``: a number of seconds > 0."""
    if (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, (int, float))
        or not poll_interval > 0
    ):
        raise InvalidArgumentError(
            f"poll_interval must be a number of seconds > 0, got {_safe_repr(poll_interval)}",
            code="pepperpy.event.stream_options",
            hint=f"For example poll_interval={example}.",
        )
    return float(poll_interval)


def default_consumer() -> str:
    """A consumer name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _check_name(label: str, text: object, *, code: str) -> None:
    if not isinstance(text, str) or not text or "\x00" in text:
        raise InvalidArgumentError(
            f"{label} must be a non-empty string without NUL, got {_safe_repr(text)}",
            code=code,
            hint=f"Name the {label}, e.g. {label}='orders'.",
        )


class StreamBase:
    """What every built-in stream shares: options, counters, ``consume``, ``forward``."""

    backend = "stream"

    def __init__(  # positional, so the backends pass their options on in one line
        self,
        stream: str,
        group: str,
        consumer: str | None,
        namespace: str,
        maxlen: int | None,
        claim_after: float,
        max_deliveries: int,
        batch: int,
        block: float,
    ) -> None:
        # "pepperpy.event.stream" is StreamError's: a bad stream name is invalid_stream.
        _check_name("stream", stream, code="pepperpy.event.invalid_stream")
        _check_name("group", group, code="pepperpy.event.group")
        _check_name("namespace", namespace, code="pepperpy.event.namespace")
        if consumer is not None and (
            not isinstance(consumer, str) or not consumer or "\x00" in consumer
        ):
            raise InvalidArgumentError(
                f"consumer must be a non-empty string or None, got {_safe_repr(consumer)}",
                code="pepperpy.event.consumer",
                hint="Name the consumer (stable across restarts to get its pending events "
                "back first), or leave it None for a unique name.",
            )
        numbers = {"claim_after": claim_after, "block": block}
        counts = {"max_deliveries": max_deliveries, "batch": batch}
        if maxlen is not None:
            counts["maxlen"] = maxlen
        bad_number = any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf
            for v in numbers.values()
        )
        bad_count = any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in counts.values()
        )
        if bad_number or bad_count:
            raise InvalidArgumentError(
                "need max_deliveries >= 1, batch >= 1, maxlen >= 1 or None, and finite "
                "claim_after > 0 and block > 0",
                code="pepperpy.event.stream_options",
                context={k: _safe_repr(v) for k, v in {**numbers, **counts}.items()},
                hint="For example claim_after=30, max_deliveries=5, batch=100, block=1.",
            )
        self.stream = stream
        self.namespace = namespace
        self.key = f"{namespace}:{stream}"
        """The stream's full name (``<namespace>:<stream>``)."""
        self.dead_key = f"{self.key}:dead"
        """The dead-letter stream's full name."""
        self.group = group
        self.consumer = consumer or default_consumer()
        self.maxlen = maxlen
        self.claim_after = float(claim_after)
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.block = float(block)
        self.handled = 0
        """Events handled and acknowledged by :meth:`consume` (for stats and tests)."""
        self.dead_lettered = 0
        """Events moved to the dead-letter stream by this object."""
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.key!r}, group={self.group!r}, consumer={self.consumer!r})"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(
                f"{type(self).__name__} {self.key!r} is closed",
                code="pepperpy.event.stream_closed",
                context={"stream": self.key},
                hint="Create a new stream object (or connect_stream(...)) after aclose().",
            )

    def _check_messages(self, messages: tuple[Any, ...]) -> None:
        for message in messages:
            if not isinstance(message, StreamMessage):
                raise InvalidArgumentError(
                    f"can only acknowledge StreamMessage objects, got {_safe_repr(message)}",
                    code="pepperpy.event.stream_message",
                    hint="Pass the messages read() returned.",
                )

    def _after_outage(self) -> None:
        """Called when an acknowledgement could not be stored; the entry stays pending."""

    async def _read(self, block: float, stop: asyncio.Event) -> list[StreamMessage]:
        """One read for :meth:`consume`; may return early when *stop* is set."""
        return await self.read(block=block)  # type: ignore[attr-defined,no-any-return]

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def consume(
        self,
        handler: Callable[[StreamMessage], Awaitable[Any] | Any],
        *,
        stop: asyncio.Event | None = None,
        retry_interval: float = 0.5,
    ) -> None:
        """Handle events until *stop* is set (or the task is cancelled).

        Each event is acknowledged after *handler* (sync or async) returned; if
        it raises, the event stays pending and comes back (after
        ``claim_after``, or when this consumer restarts) until
        ``max_deliveries``, then it is dead-lettered. Store outages
        (:class:`StreamError`) are logged and retried every *retry_interval*
        seconds: nothing acknowledged is lost, nothing unacknowledged is skipped.
        """
        if not callable(handler):
            raise InvalidArgumentError(
                f"handler must be callable, got {_safe_repr(handler)}",
                code="pepperpy.event.handler",
                hint="Pass a function taking a StreamMessage (sync or async).",
            )
        self._check_open()
        stop = stop or asyncio.Event()
        last_error = ""
        while not stop.is_set():
            try:
                messages = await self._read(min(self.block, 0.5), stop)
            except StreamError as exc:
                text = str(exc.__cause__ or exc)
                if text != last_error:
                    _log.warning("stream %s: %s; retrying", self.key, text)
                    last_error = text
                await self._sleep(retry_interval, stop)
                continue
            last_error = ""
            for message in messages:
                if stop.is_set():
                    return
                await self._handle(handler, message)

    async def _handle(
        self, handler: Callable[[StreamMessage], Awaitable[Any] | Any], message: StreamMessage
    ) -> None:
        """Hand one event to *handler* and ack it; a failure leaves it pending.

        At its last delivery a failed event is dead-lettered, past it the
        event is dead-lettered without calling *handler*.
        """
        if message.deliveries > self.max_deliveries:
            await self._settle(self.dead_letter(message, "too many deliveries"))  # type: ignore[attr-defined]
            return
        try:
            result = handler(message)
            if inspect.isawaitable(result):
                await result
        except BaseException as exc:
            # Any exception is the handler's failure (the event stays
            # pending), except this consumer's own cancellation.
            if not is_handler_failure(exc, stopping=None):
                raise
            _log.warning(
                "stream %s: handler failed for %s (delivery %d): %s",
                self.key,
                message.id,
                message.deliveries,
                exc,
            )
            if message.deliveries >= self.max_deliveries:
                await self._settle(self.dead_letter(message, repr(exc)))  # type: ignore[attr-defined]
            if cancel_requested():  # the handler swallowed our cancellation
                raise asyncio.CancelledError from None
            return
        if await self._settle(self.ack(message)):  # type: ignore[attr-defined]
            self.handled += 1

    async def _settle(self, op: Awaitable[Any]) -> bool:
        """Run an ack/dead-letter; on an outage keep the entry pending (it comes back)."""
        try:
            await op
        except StreamError as exc:
            _log.warning("stream %s: %s; the event stays pending", self.key, exc.__cause__)
            self._after_outage()
            return False
        return True

    async def forward(self, manager: Any, *, stop: asyncio.Event | None = None) -> None:
        """Publish every event of the stream into a local ``EventManager``, then ack it.

        The ack follows ``manager.publish`` returning, that is after inline
        handlers ran (concurrent or queued subscriptions only got it started
        or enqueued).
        """
        if not callable(getattr(manager, "publish", None)):
            raise InvalidArgumentError(
                f"forward() needs an EventManager, got {_safe_repr(manager)}",
                code="pepperpy.event.forward_target",
                hint="Pass a running pepperpy.event.EventManager.",
            )

        async def deliver(message: StreamMessage) -> None:
            await manager.publish(message.topic, message.data)

        await self.consume(deliver, stop=stop)

    async def __aenter__(self) -> Any:
        self._check_open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- factory


def stream_backends() -> list[str]:
    """URL schemes :func:`connect_stream` accepts: the built-in ones and entry points."""
    return _BACKENDS.names()


def connect_stream(
    url: str | None = None,
    stream: str = "events",
    *,
    group: str = "default",
    consumer: str | None = None,
    **options: Any,
) -> EventStream:
    """Open the event stream a URL names; the application code stays the same.

    ``memory://`` (or ``memory://<hub>``) keeps the stream in this process;
    ``sqlite:///events.db`` (relative) or ``sqlite:////var/lib/app/events.db``
    (absolute) shares it between the processes of one machine
    (``pepperpy-event[sqlite]``); ``redis://host:6379/0`` between machines
    (``pepperpy-event[redis]``). Other schemes are looked up under the
    ``pepperpy.event.backends`` entry point group.

    Args:
        url: Where the stream lives; default ``$PEPPERPY_EVENT_STREAM_URL``.
        stream: The stream's name.
        group: The consumer group.
        consumer: This consumer's name (default: host, pid and a random part).
        **options: ``namespace``, ``maxlen``, ``claim_after``, ``max_deliveries``,
            ``batch``, ``block``, and what the backend adds (``clock`` for memory
            and SQLite, ``poll_interval`` and ``synchronous`` for SQLite).

    Raises:
        ConfigurationError: No URL, or no backend for its scheme.
        InvalidArgumentError: An option the backend does not take, or a bad value.
    """
    url, scheme, cls = _BACKENDS.for_url(
        url,
        noun="stream",
        env=STREAM_URL_ENV,
        examples="memory://, sqlite:///events.db or redis://host:6379/0",
    )
    url_given = {"client", "path", "dsn", "hub", "stream"}
    accepted = set(inspect.signature(cls).parameters) - url_given
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InvalidArgumentError(
            f"{scheme}:// streams do not take {', '.join(unknown)}",
            code="pepperpy.event.stream_options",
            context={"url": url, "unknown": unknown, "accepted": sorted(accepted)},
            hint="Pass only the options this backend accepts (listed in 'accepted').",
        )
    return cls.from_url(url, stream, group=group, consumer=consumer, **options)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- waiting


class Waker:
    """Wakes the readers of a stream in this process when an event is appended.

    Readers may wait on other event loops (threads): each is woken on its own loop.
    """

    def __init__(self) -> None:
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()

    def register(self) -> asyncio.Event:
        """A fresh event set by the next :meth:`notify`; :meth:`unregister` it after use."""
        event = asyncio.Event()
        with self._lock:
            self._waiters[event] = asyncio.get_running_loop()
        return event

    def unregister(self, event: asyncio.Event) -> None:
        """Forget a registered event."""
        with self._lock:
            self._waiters.pop(event, None)

    def notify(self) -> None:
        """Wake every registered reader."""
        with self._lock:
            waiters = list(self._waiters.items())
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for event, loop in waiters:
            if loop is running:
                event.set()
            else:
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # that loop has closed: nobody is waiting there
                    pass


async def wait_any(clock: Any, seconds: float, *events: asyncio.Event) -> None:
    """Return after *seconds* on *clock*, or as soon as one of *events* is set."""
    if any(event.is_set() for event in events):
        return
    tasks = [asyncio.ensure_future(clock.sleep(seconds))]
    tasks += [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ClockedStream(StreamBase):
    """A stream whose store lives here (memory, SQLite): time and waiting on a ``Clock``."""

    clock: Any
    _waker: Waker
    _poll: float = float("inf")
    _pending_cursor: tuple[int, int] | None = (0, 0)

    async def _attempt(self) -> list[StreamMessage]:
        """One atomic read: own pending entries, else idle ones claimed, else new ones."""
        raise NotImplementedError

    def _after_outage(self) -> None:
        self._pending_cursor = (0, 0)  # after an outage, start with our own pending

    async def read(self, *, block: float | None = None) -> list[StreamMessage]:
        """Hand out up to ``batch`` events.

        First, once after (re)starting, this consumer's own pending entries
        (from a previous run that did not acknowledge them); then entries of
        any consumer pending longer than ``claim_after`` (a dead consumer, a
        failed handler); then new ones, waiting up to *block* seconds (on the
        stream's clock) for some to arrive.
        """
        return await self._read(check_block(block, self.block), None)

    async def _read(self, block: float, stop: asyncio.Event | None) -> list[StreamMessage]:
        self._check_open()
        deadline = self.clock.monotonic() + block
        while True:
            waiter = self._waker.register()
            try:
                messages = await self._attempt()
                if messages:
                    return messages
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0 or (stop is not None and stop.is_set()):
                    return []
                events = (waiter,) if stop is None else (waiter, stop)
                await wait_any(self.clock, min(remaining, self._poll), *events)
            finally:
                self._waker.unregister(waiter)

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        await wait_any(self.clock, seconds, stop)
