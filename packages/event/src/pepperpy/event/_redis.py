"""Events across processes on Redis (``pepperpy-event[redis]``): Streams and pub/sub.

:class:`RedisStream` is durable and at-least-once: events are appended to a
Redis Stream (``XADD``), read through a consumer group (``XREADGROUP``) and
acknowledged (``XACK``) only after the handler returned. An event whose
handler failed, or whose consumer died, stays pending and is handed out again:
a consumer first re-reads its own pending entries after (re)connecting, and
claims other consumers' entries idle longer than ``claim_after``
(``XAUTOCLAIM``). After ``max_deliveries`` attempts an event is moved to the
dead-letter stream ``<stream>:dead`` and acknowledged.

:class:`RedisPubSub` is fire-and-forget (``PUBLISH``/``PSUBSCRIBE``): only
subscribers connected at the time get an event, nothing is stored.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from pepperpy.core.exceptions import ConfigurationError, ExternalError, InvalidArgumentError

__all__ = [
    "REDIS_URL_ENV",
    "PubSubSubscription",
    "RedisPubSub",
    "RedisStream",
    "StreamError",
    "StreamMessage",
]

REDIS_URL_ENV = "PEPPERPY_REDIS_URL"
"""The environment variable the Redis transports read their URL from when given none."""

_log = logging.getLogger("pepperpy.event.redis")


class StreamError(ExternalError):
    """Redis could not be reached or failed a stream command (retryable)."""

    code = "pepperpy.event.redis"


@attrs.frozen
class StreamMessage:
    """One event read from a :class:`RedisStream`.

    Attributes:
        id: The stream entry id (``"1700000000000-0"``), increasing in append order.
        topic: The topic it was published on.
        data: The JSON payload.
        deliveries: How many times it has been handed out (1 the first time).
    """

    id: str
    topic: str
    data: Any
    deliveries: int = 1


def _client(client: Any, what: str) -> tuple[Any, bool]:
    if client is None:
        client = os.environ.get(REDIS_URL_ENV)
        if not client:
            raise ConfigurationError(
                f"{what} needs a client or a URL",
                code="pepperpy.event.no_redis_url",
                context={"env": REDIS_URL_ENV},
                hint="Pass 'redis://host:6379/0' or a redis.asyncio.Redis, or set "
                f"${REDIS_URL_ENV}.",
            )
    if not isinstance(client, str):
        return client, False
    try:
        aioredis = importlib.import_module("redis.asyncio")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            f"{what} needs the redis package",
            code="pepperpy.event.missing_driver",
            hint="Install the extra: pip install 'pepperpy-event[redis]'.",
        ) from exc
    return aioredis.Redis.from_url(client), True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _encode(topic: str, data: Any) -> dict[str, str]:
    if not isinstance(topic, str) or not topic:
        raise InvalidArgumentError(
            f"topic must be a non-empty string, got {topic!r}",
            code="pepperpy.event.topic",
            hint="Publish on a dotted topic such as 'orders.paid'.",
        )
    try:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_unstructure)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"cannot send a {type(data).__name__} over Redis: {exc}",
            code="pepperpy.event.payload",
            context={"topic": topic},
            hint="Send JSON-like payloads or attrs instances (pepperpy-serialization converts "
            "them).",
        ) from exc
    return {"t": topic, "d": body}


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


class RedisStream:
    """A durable, at-least-once event stream on Redis Streams with one consumer group.

    Every process that publishes uses :meth:`publish`; every process that
    handles uses :meth:`consume` (or :meth:`forward` into a local
    :class:`~pepperpy.event.EventManager`) with the same *group*, and each
    event is handled by one of them. Several groups each get every event.

    Args:
        client: A ``redis.asyncio.Redis`` client or a URL; default ``$PEPPERPY_REDIS_URL``.
        stream: The stream's name (the Redis key is ``<namespace>:<stream>``).
        group: The consumer group.
        consumer: This consumer's name in the group (default: host, pid and a random part).
        namespace: Prefix of the Redis keys.
        maxlen: Trim the stream to about this many entries on publish (``None``: keep all).
        claim_after: Seconds an entry may stay pending with another consumer
            before this one takes it over.
        max_deliveries: Attempts before an event goes to the dead-letter stream.
        batch: The most entries read at once.
        block: Seconds a read waits for new entries.
    """

    def __init__(
        self,
        client: Any = None,
        stream: str = "events",
        *,
        group: str = "default",
        consumer: str | None = None,
        namespace: str = "pepperpy:events",
        maxlen: int | None = None,
        claim_after: float = 30.0,
        max_deliveries: int = 5,
        batch: int = 100,
        block: float = 1.0,
    ) -> None:
        if max_deliveries < 1 or batch < 1 or claim_after <= 0 or block <= 0:
            raise InvalidArgumentError(
                "need max_deliveries >= 1, batch >= 1, claim_after > 0 and block > 0",
                context={"max_deliveries": max_deliveries, "batch": batch},
                hint="For example claim_after=30, max_deliveries=5, batch=100, block=1.",
            )
        self.client, self._owns_client = _client(client, "RedisStream")
        self.key = f"{namespace}:{stream}"
        self.dead_key = f"{self.key}:dead"
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.maxlen = maxlen
        self.claim_after = claim_after
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.block = block
        self._group_ready = False
        self._pending_cursor: str | None = "0"  # re-read our own pending entries first
        self.handled = 0
        """Events handled and acknowledged by :meth:`consume` (for stats and tests)."""
        self.dead_lettered = 0
        """Events moved to the dead-letter stream."""

    def __repr__(self) -> str:
        return f"RedisStream({self.key!r}, group={self.group!r}, consumer={self.consumer!r})"

    def _failed(self, exc: Exception, operation: str) -> StreamError:
        error = StreamError(
            f"Redis stream {self.key!r}: {operation} failed: {type(exc).__name__}: {exc}",
            context={"stream": self.key, "group": self.group, "operation": operation},
            hint="Check that the Redis server is running and reachable; unacknowledged "
            "events stay pending and are delivered again.",
            retryable=True,
        )
        error.__cause__ = exc
        return error

    async def publish(self, topic: str, data: Any = None) -> str:
        """Append an event; return its stream id. Durable once Redis persisted it."""
        fields = _encode(topic, data)
        try:
            if self.maxlen is None:
                entry = await self.client.xadd(self.key, fields)
            else:
                entry = await self.client.xadd(
                    self.key, fields, maxlen=self.maxlen, approximate=True
                )
        except Exception as exc:
            raise self._failed(exc, "publish") from exc
        return _text(entry)

    async def ensure_group(self, *, start: str = "0") -> None:
        """Create the stream and the group if missing (from *start*: ``"0"`` = every entry)."""
        try:
            await self.client.xgroup_create(self.key, self.group, id=start, mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise self._failed(exc, "create the group") from exc
        self._group_ready = True

    def _messages(self, entries: Any, deliveries: dict[str, int] | None = None) -> list[Any]:
        out = []
        for raw_id, fields in entries or ():
            if fields is None:  # deleted from the stream while pending
                continue
            entry_id = _text(raw_id)
            decoded = {_text(k): _text(v) for k, v in fields.items()}
            try:
                data = json.loads(decoded.get("d", "null"))
            except ValueError:
                data = decoded.get("d")
            out.append(
                StreamMessage(
                    entry_id,
                    decoded.get("t", ""),
                    data,
                    (deliveries or {}).get(entry_id, 1),
                )
            )
        return out

    async def _delivery_counts(self, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        rows = await self.client.xpending_range(
            self.key, self.group, min=ids[0], max=ids[-1], count=len(ids) + 100,
            consumername=self.consumer,
        )  # fmt: skip
        return {_text(row["message_id"]): int(row["times_delivered"]) for row in rows}

    async def read(self, *, block: float | None = None) -> list[StreamMessage]:
        """Hand out up to ``batch`` events.

        First, once after (re)connecting, this consumer's own pending entries
        (from a previous run that did not acknowledge them); then entries of
        any consumer pending longer than ``claim_after`` (a dead consumer, a
        failed handler); then new ones, waiting up to *block* seconds.
        """
        try:
            if not self._group_ready:
                await self.ensure_group()
            if self._pending_cursor is not None:
                reply = await self.client.xreadgroup(
                    self.group, self.consumer, {self.key: self._pending_cursor}, count=self.batch
                )
                entries = [e for e in (reply[0][1] if reply else []) if e[1] is not None]
                if entries:
                    ids = [_text(e[0]) for e in entries]
                    self._pending_cursor = ids[-1]
                    return self._messages(entries, await self._delivery_counts(ids))
                self._pending_cursor = None
            claimed = await self.client.xautoclaim(
                self.key,
                self.group,
                self.consumer,
                min_idle_time=max(1, round(self.claim_after * 1000)),
                start_id="0-0",
                count=self.batch,
            )
            entries = [e for e in (claimed[1] if claimed else []) if e[1] is not None]
            if entries:
                ids = [_text(e[0]) for e in entries]
                return self._messages(entries, await self._delivery_counts(ids))
            wait = self.block if block is None else block
            reply = await self.client.xreadgroup(
                self.group,
                self.consumer,
                {self.key: ">"},
                count=self.batch,
                block=max(1, round(wait * 1000)),
            )
        except StreamError:
            raise
        except Exception as exc:
            self._pending_cursor = "0"  # after reconnecting, start with our own pending
            raise self._failed(exc, "read") from exc
        return self._messages(reply[0][1] if reply else [])

    async def ack(self, *messages: StreamMessage) -> int:
        """Acknowledge handled events; return how many were still pending."""
        if not messages:
            return 0
        try:
            return int(await self.client.xack(self.key, self.group, *(m.id for m in messages)))
        except Exception as exc:
            raise self._failed(exc, "ack") from exc

    async def dead_letter(self, message: StreamMessage, error: str) -> None:
        """Move *message* to ``<stream>:dead`` (with the error) and acknowledge it."""
        fields = {
            "t": message.topic,
            "d": json.dumps(message.data),
            "id": message.id,
            "group": self.group,
            "error": error[:1000],
            "deliveries": str(message.deliveries),
        }
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.xadd(self.dead_key, fields)
                pipe.xack(self.key, self.group, message.id)
                await pipe.execute()
        except Exception as exc:
            raise self._failed(exc, "dead-letter") from exc
        self.dead_lettered += 1

    async def pending(self) -> int:
        """How many events the group has handed out but not had acknowledged."""
        try:
            if not self._group_ready:
                await self.ensure_group()
            summary = await self.client.xpending(self.key, self.group)
        except StreamError:
            raise
        except Exception as exc:
            raise self._failed(exc, "pending") from exc
        return int(summary["pending"])

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
        ``max_deliveries``, then it is dead-lettered. Redis outages are logged
        and retried every *retry_interval* seconds: nothing acknowledged is
        lost, nothing unacknowledged is skipped.
        """
        stop = stop or asyncio.Event()
        last_error = ""
        while not stop.is_set():
            try:
                messages = await self.read(block=min(self.block, 0.5))
            except StreamError as exc:
                text = str(exc.__cause__ or exc)
                if text != last_error:
                    _log.warning("stream %s: %s; retrying", self.key, text)
                    last_error = text
                await _sleep_or_stop(stop, retry_interval)
                continue
            last_error = ""
            for message in messages:
                if stop.is_set():
                    return
                if message.deliveries > self.max_deliveries:
                    await self._settle(self.dead_letter(message, "too many deliveries"), stop)
                    continue
                try:
                    result = handler(message)
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    _log.warning(
                        "stream %s: handler failed for %s (delivery %d): %s",
                        self.key,
                        message.id,
                        message.deliveries,
                        exc,
                    )
                    if message.deliveries >= self.max_deliveries:
                        await self._settle(self.dead_letter(message, repr(exc)), stop)
                    continue
                if await self._settle(self.ack(message), stop):
                    self.handled += 1

    async def _settle(self, op: Awaitable[Any], stop: asyncio.Event) -> bool:
        """Run an ack/dead-letter; on an outage keep the entry pending (it comes back)."""
        try:
            await op
        except StreamError as exc:
            _log.warning("stream %s: %s; the event stays pending", self.key, exc.__cause__)
            self._pending_cursor = "0"
            return False
        return True

    async def forward(self, manager: Any, *, stop: asyncio.Event | None = None) -> None:
        """Publish every event of the stream into a local ``EventManager``, then ack it.

        The ack follows ``manager.publish`` returning, that is after inline
        handlers ran (concurrent or queued subscriptions only got it started
        or enqueued).
        """

        async def deliver(message: StreamMessage) -> None:
            await manager.publish(message.topic, message.data)

        await self.consume(deliver, stop=stop)

    async def aclose(self) -> None:
        """Close the client if this stream made it from a URL."""
        if self._owns_client:
            await self.client.aclose()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


class RedisPubSub:
    """Fire-and-forget events over Redis pub/sub: nothing stored, no acknowledgement.

    Args:
        client: A ``redis.asyncio.Redis`` client or a URL; default ``$PEPPERPY_REDIS_URL``.
        namespace: Prefix of the channels (``<namespace>:<topic>``).
    """

    def __init__(self, client: Any = None, *, namespace: str = "pepperpy:events") -> None:
        self.client, self._owns_client = _client(client, "RedisPubSub")
        self.namespace = namespace

    async def publish(self, topic: str, data: Any = None) -> int:
        """Send an event; return how many subscribers received it."""
        fields = _encode(topic, data)
        try:
            return int(await self.client.publish(f"{self.namespace}:{topic}", fields["d"]))
        except Exception as exc:
            raise StreamError(
                f"Redis pub/sub publish on {topic!r} failed: {exc}",
                context={"topic": topic},
                hint="Check that the Redis server is running and reachable.",
                retryable=True,
            ) from exc

    async def subscribe(self, pattern: str) -> PubSubSubscription:
        """Subscribe to topics matching a glob *pattern*; iterate the result for events.

        The subscription is active when this returns; ``aclose()`` it to stop.
        """
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        prefix = f"{self.namespace}:"
        try:
            await pubsub.psubscribe(prefix + pattern)
        except Exception as exc:
            await pubsub.aclose()
            raise StreamError(
                f"Redis pub/sub subscribe to {pattern!r} failed: {exc}",
                context={"pattern": pattern},
                hint="Check that the Redis server is running and reachable.",
                retryable=True,
            ) from exc
        return PubSubSubscription(pubsub, prefix)

    async def aclose(self) -> None:
        """Close the client if this object made it from a URL."""
        if self._owns_client:
            await self.client.aclose()


class PubSubSubscription:
    """An active :meth:`RedisPubSub.subscribe`: ``async for topic, data in sub``."""

    def __init__(self, pubsub: Any, prefix: str) -> None:
        self._pubsub = pubsub
        self._prefix = prefix

    def __aiter__(self) -> PubSubSubscription:
        return self

    async def __anext__(self) -> tuple[str, Any]:
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            channel = _text(message["channel"])
            return channel[len(self._prefix) :], json.loads(_text(message["data"]))

    async def aclose(self) -> None:
        """Unsubscribe and release the connection."""
        await self._pubsub.aclose()

    async def __aenter__(self) -> PubSubSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
