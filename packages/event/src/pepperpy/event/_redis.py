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

import json
import os
from typing import Any

from pepperpy.core.exceptions import ConfigurationError
from pepperpy.core.utils import import_driver
from pepperpy.event._stream import (
    StreamBase,
    StreamDeadLetter,
    StreamError,
    StreamMessage,
    check_block,
    check_start,
    dead_letter_from_fields,
    decode_data,
    encode_event,
)

__all__ = [
    "REDIS_URL_ENV",
    "PubSubSubscription",
    "RedisPubSub",
    "RedisStream",
]

REDIS_URL_ENV = "PEPPERPY_REDIS_URL"
"""The environment variable the Redis transports read their URL from when given none."""


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
    aioredis = import_driver("redis.asyncio", area="event", user=what, extra="redis")
    return aioredis.Redis.from_url(client), True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStream(StreamBase):
    """A durable, at-least-once event stream on Redis Streams with one consumer group.

    Every process that publishes uses :meth:`publish`; every process that
    handles uses :meth:`consume` (or :meth:`forward` into a local
    :class:`~pepperpy.event.EventManager`) with the same *group*, and each
    event is handled by one of them. Several groups each get every event.
    Idle times are measured by the Redis server's clock.

    Args:
        client: A ``redis.asyncio.Redis`` client or a URL; default ``$PEPPERPY_REDIS_URL``.
        stream: The stream's name (the Redis key is ``<namespace>:<stream>``).
        group: The consumer group.
        consumer: This consumer's name in the group (default: host, pid and a random part).
        namespace: Prefix of the Redis keys.
        maxlen: Trim the stream to about this many entries on publish (``None``: keep all).
        claim_after: Seconds an entry may stay pending before any consumer takes it over.
        max_deliveries: Attempts before an event goes to the dead-letter stream.
        batch: The most entries read at once.
        block: Seconds a read waits for new entries.
    """

    backend = "redis"

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
        super().__init__(
            stream, group, consumer, namespace, maxlen, claim_after, max_deliveries, batch, block
        )
        self.client, self._owns_client = _client(client, "RedisStream")
        self._group_ready = False
        self._pending_cursor: str | None = "0"  # re-read our own pending entries first

    @classmethod
    def from_url(cls, url: str, stream: str = "events", **options: Any) -> RedisStream:
        """``redis://host:6379/0`` (or ``rediss://``, ``unix://``): a client of its own."""
        return cls(url, stream, **options)

    def _after_outage(self) -> None:
        self._pending_cursor = "0"  # after reconnecting, start with our own pending

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
        self._check_open()
        topic, body = encode_event(topic, data)
        fields = {"t": topic, "d": body}
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
        """Create the stream and the group if missing, reading from *start*.

        ``"0"``: every entry; ``"$"``: only entries appended from now on; an
        id: entries after it. An existing group is left as it is.
        """
        self._check_open()
        check_start(start)
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
            out.append(
                StreamMessage(
                    entry_id,
                    decoded.get("t", ""),
                    decode_data(decoded.get("d", "null")),
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
        self._check_open()
        wait = check_block(block, self.block)
        try:
            if not self._group_ready:
                await self.ensure_group()
            while self._pending_cursor is not None:
                reply = await self.client.xreadgroup(
                    self.group, self.consumer, {self.key: self._pending_cursor}, count=self.batch
                )
                raw = reply[0][1] if reply else []
                if not raw:
                    self._pending_cursor = None
                    break
                self._pending_cursor = _text(raw[-1][0])
                entries = [e for e in raw if e[1] is not None]
                if entries:
                    ids = [_text(e[0]) for e in entries]
                    return self._messages(entries, await self._delivery_counts(ids))
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
            if wait <= 0:
                reply = await self.client.xreadgroup(
                    self.group, self.consumer, {self.key: ">"}, count=self.batch
                )
            else:
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
        self._check_open()
        self._check_messages(messages)
        if not messages:
            return 0
        try:
            return int(await self.client.xack(self.key, self.group, *(m.id for m in messages)))
        except Exception as exc:
            raise self._failed(exc, "ack") from exc

    async def dead_letter(self, message: StreamMessage, error: str) -> None:
        """Move *message* to ``<stream>:dead`` (with the error) and acknowledge it."""
        self._check_open()
        self._check_messages((message,))
        topic, body = encode_event(message.topic, message.data)
        fields = {
            "t": topic,
            "d": body,
            "id": message.id,
            "group": self.group,
            "error": str(error)[:1000],
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

    async def dead_letters(self, limit: int | None = None) -> list[StreamDeadLetter]:
        """The dead-letter stream's entries, oldest first (at most *limit*)."""
        self._check_open()
        if limit is not None and limit <= 0:
            return []
        try:
            rows = await self.client.xrange(self.dead_key, count=limit)
        except Exception as exc:
            raise self._failed(exc, "read dead letters") from exc
        out = []
        for raw_id, raw_fields in rows:
            fields = {_text(k): _text(v) for k, v in raw_fields.items()}
            out.append(dead_letter_from_fields(_text(raw_id), fields))
        return out

    async def pending(self) -> int:
        """How many events the group has handed out but not had acknowledged."""
        self._check_open()
        try:
            if not self._group_ready:
                await self.ensure_group()
            summary = await self.client.xpending(self.key, self.group)
        except StreamError:
            raise
        except Exception as exc:
            raise self._failed(exc, "pending") from exc
        return int(summary["pending"])

    async def aclose(self) -> None:
        """Close the client if this stream made it from a URL (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            await self.client.aclose()


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
        topic, body = encode_event(topic, data)
        try:
            return int(await self.client.publish(f"{self.namespace}:{topic}", body))
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
