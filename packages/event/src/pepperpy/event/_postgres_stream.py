"""An event stream in PostgreSQL (``pepperpy-event[postgres]``): :class:`PostgresStream`."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import system_clock
from pepperpy.event._stream import (
    ClockedStream,
    StreamDeadLetter,
    StreamError,
    StreamMessage,
    Waker,
    check_start,
    decode_data,
    encode_event,
    format_id,
    parse_id,
)

__all__ = ["PostgresStream"]

T = TypeVar("T")
Id = tuple[int, int]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pepperpy_streams (
    stream TEXT PRIMARY KEY,
    last_ms BIGINT NOT NULL,
    last_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS pepperpy_stream_entries (
    stream TEXT NOT NULL,
    ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    topic TEXT NOT NULL,
    data TEXT NOT NULL,
    meta TEXT,
    PRIMARY KEY (stream, ms, seq)
);
CREATE TABLE IF NOT EXISTS pepperpy_stream_groups (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (stream, grp)
);
CREATE TABLE IF NOT EXISTS pepperpy_stream_pending (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    consumer TEXT NOT NULL,
    delivered_at DOUBLE PRECISION NOT NULL,
    deliveries INTEGER NOT NULL,
    PRIMARY KEY (stream, grp, ms, seq)
);
CREATE INDEX IF NOT EXISTS pepperpy_stream_pending_consumer
    ON pepperpy_stream_pending (stream, grp, consumer, ms, seq);
"""

_SCHEMA_LOCK = int.from_bytes(
    hashlib.blake2b(b"pepperpy.event.schema", digest_size=8).digest(), "big", signed=True
)

_PENDING = """
SELECT p.ms, p.seq, e.topic, e.data, p.deliveries
FROM pepperpy_stream_pending AS p
LEFT JOIN pepperpy_stream_entries AS e ON e.stream = p.stream AND e.ms = p.ms AND e.seq = p.seq
WHERE p.stream = $1 AND p.grp = $2 AND {where}
ORDER BY p.ms, p.seq LIMIT $3
"""

_APPEND = """
INSERT INTO pepperpy_streams AS s (stream, last_ms, last_seq)
VALUES ($1, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint, 0)
ON CONFLICT (stream) DO UPDATE SET
    last_ms = GREATEST(s.last_ms, excluded.last_ms),
    last_seq = CASE WHEN excluded.last_ms > s.last_ms THEN 0 ELSE s.last_seq + 1 END
RETURNING last_ms, last_seq
"""

_NOW = "SELECT (extract(epoch FROM clock_timestamp()))::float8"


def _redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


class PostgresStream(ClockedStream):
    """A durable, at-least-once event stream in PostgreSQL, shared by machines.

    The semantics are :class:`~pepperpy.event.RedisStream`'s (consumer groups,
    acknowledgements, redelivery, claims after ``claim_after``, dead letters
    after ``max_deliveries``), checked by the same conformance suite. Each read
    locks its group's row (``SELECT ... FOR UPDATE``) for one transaction, so
    the consumers of a group each get its entries exactly once per delivery;
    publishers of a stream are serialized by its row, so ids increase in
    commit order. Ids and idle times use the server's clock, like Redis.
    Readers are woken by ``LISTEN``/``NOTIFY`` and also look every
    ``poll_interval`` seconds.

    Args:
        dsn: A ``postgresql://user:password@host:5432/db`` DSN.
        stream: The stream's name.
        group: The consumer group.
        consumer: This consumer's name in the group (default: host, pid and a random part).
        namespace: Prefix of the stream's full name.
        maxlen: Keep only the newest *maxlen* entries (``None``: keep all).
        claim_after: Seconds an entry may stay pending before any consumer takes it over.
        max_deliveries: Attempts before an event goes to the dead-letter stream.
        batch: The most entries read at once.
        block: Seconds a read waits for new entries.
        poll_interval: Seconds between looks for new entries when no notification came.
    """

    backend = "postgres"

    def __init__(
        self,
        dsn: str,
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
        poll_interval: float = 0.5,
    ) -> None:
        super().__init__(
            stream,
            group=group,
            consumer=consumer,
            namespace=namespace,
            maxlen=maxlen,
            claim_after=claim_after,
            max_deliveries=max_deliveries,
            batch=batch,
            block=block,
        )
        if not isinstance(dsn, str) or urlsplit(dsn).scheme not in ("postgres", "postgresql"):
            raise InvalidArgumentError(
                f"PostgresStream needs a postgresql:// DSN, got {_safe_repr(dsn)}",
                code="pepperpy.event.postgres_dsn",
                hint="Pass 'postgresql://user:password@127.0.0.1:5432/dbname'.",
            )
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, (int, float))
            or not poll_interval > 0
        ):
            raise InvalidArgumentError(
                f"poll_interval must be a number of seconds > 0, got {_safe_repr(poll_interval)}",
                code="pepperpy.event.stream_options",
                hint="For example poll_interval=0.5.",
            )
        self.dsn = dsn
        self.application_name = f"pepperpy.event {self.consumer}"[:63]
        """The connections' ``application_name`` (visible in ``pg_stat_activity``)."""
        self.clock = system_clock
        self._poll = float(poll_interval)
        self._waker = Waker()
        self._pending_cursor = (0, 0)
        self._channel = (
            "pepperpy_stream_" + hashlib.blake2b(self.key.encode(), digest_size=12).hexdigest()
        )
        self._pool: Any = None
        self._listener: Any = None
        self._open_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return (
            f"PostgresStream({_redact(self.dsn)!r}, {self.key!r}, group={self.group!r}, "
            f"consumer={self.consumer!r})"
        )

    @classmethod
    def from_url(cls, url: str, stream: str = "events", **options: Any) -> PostgresStream:
        """``postgresql://user:password@host:5432/db`` (or ``postgres://``)."""
        return cls(url, stream, **options)

    # ------------------------------------------------------------------ connection

    def _failed(self, exc: BaseException, operation: str) -> StreamError:
        error = StreamError(
            f"PostgreSQL stream {self.key!r} on {_redact(self.dsn)}: {operation} failed: "
            f"{type(exc).__name__}: {exc}",
            context={"stream": self.key, "operation": operation},
            hint="Check that the PostgreSQL server is running and reachable; unacknowledged "
            "events stay pending and are delivered again.",
            retryable=True,
        )
        error.__cause__ = exc
        return error

    def _driver(self) -> Any:
        try:
            return importlib.import_module("asyncpg")
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "PostgresStream needs the asyncpg package",
                code="pepperpy.event.missing_driver",
                hint="Install the extra: pip install 'pepperpy-event[postgres]'.",
            ) from exc

    def _opened(self) -> Any:
        return self._pool

    async def _connect(self) -> Any:
        self._check_open()
        if self._pool is not None:
            return self._pool
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._opened() is not None:  # another task connected meanwhile
                return self._opened()
            asyncpg = self._driver()
            try:
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=4,
                    server_settings={"application_name": self.application_name},
                )
            except Exception as exc:
                raise self._failed(exc, "connect") from exc
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                    await conn.execute(_SCHEMA)
            except Exception as exc:
                await pool.close()
                raise self._failed(exc, "create the schema") from exc
            if self._closed:  # closed while connecting
                await pool.close()
                self._check_open()
            self._pool = pool
            return pool

    async def _listen(self) -> None:
        """Subscribe to this stream's notifications (best effort: polling is the fallback)."""
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            listener = await self._driver().connect(
                self.dsn, server_settings={"application_name": self.application_name}
            )
            await listener.add_listener(self._channel, lambda *_: self._waker.notify())
        except Exception:
            return  # polling every poll_interval still finds new entries
        if self._closed:
            await listener.close()
            return
        self._listener = listener

    async def _transaction(self, operation: str, work: Callable[[Any], Awaitable[T]]) -> T:
        pool = await self._connect()
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn)
        except (StreamError, InvalidArgumentError):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("asyncpg") or isinstance(
                exc, (OSError, ConnectionError, asyncio.TimeoutError)
            ):
                raise self._failed(exc, operation) from exc
            raise

    # ------------------------------------------------------------------ helpers

    async def _append(self, conn: Any, key: str, topic: str, body: str, meta: str | None) -> Id:
        row = await conn.fetchrow(_APPEND, key)
        entry = (int(row[0]), int(row[1]))
        await conn.execute(
            "INSERT INTO pepperpy_stream_entries (stream, ms, seq, topic, data, meta) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            key,
            entry[0],
            entry[1],
            topic,
            body,
            meta,
        )
        return entry

    async def _group(self, conn: Any, start: str = "0") -> Id:
        """The group's cursor, its row locked until the transaction ends."""
        row = await conn.fetchrow(
            "SELECT ms, seq FROM pepperpy_stream_groups WHERE stream = $1 AND grp = $2 FOR UPDATE",
            self.key,
            self.group,
        )
        if row is not None:
            return int(row[0]), int(row[1])
        if start == "$":
            last = await conn.fetchrow(
                "SELECT last_ms, last_seq FROM pepperpy_streams WHERE stream = $1", self.key
            )
            cursor_id = (int(last[0]), int(last[1])) if last else (0, 0)
        else:
            cursor_id = parse_id(start)
        await conn.execute(
            "INSERT INTO pepperpy_stream_groups (stream, grp, ms, seq) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT DO NOTHING",
            self.key,
            self.group,
            *cursor_id,
        )
        return await self._group(conn, start)  # a concurrent creator may have won

    # ------------------------------------------------------------------ API

    async def publish(self, topic: str, data: Any = None) -> str:
        """Append an event; return its id. Durable once this returns."""
        self._check_open()
        topic, body = encode_event(topic, data)

        async def work(conn: Any) -> Id:
            entry = await self._append(conn, self.key, topic, body, None)
            if self.maxlen is not None:
                boundary = await conn.fetchrow(
                    "SELECT ms, seq FROM pepperpy_stream_entries WHERE stream = $1 "
                    "ORDER BY ms DESC, seq DESC LIMIT 1 OFFSET $2",
                    self.key,
                    self.maxlen,
                )
                if boundary is not None:
                    await conn.execute(
                        "DELETE FROM pepperpy_stream_entries "
                        "WHERE stream = $1 AND (ms, seq) <= ($2, $3)",
                        self.key,
                        boundary[0],
                        boundary[1],
                    )
            await conn.execute("SELECT pg_notify($1, '')", self._channel)
            return entry

        entry = await self._transaction("publish", work)
        self._waker.notify()
        return format_id(entry)

    async def ensure_group(self, *, start: str = "0") -> None:
        """Create the group if missing, reading from *start*.

        ``"0"``: every entry; ``"$"``: only entries appended from now on; an
        id: entries after it. An existing group is left as it is.
        """
        self._check_open()
        check_start(start)

        async def work(conn: Any) -> None:
            await self._group(conn, start)

        await self._transaction("create the group", work)

    async def _read(self, block: float, stop: asyncio.Event | None) -> list[StreamMessage]:
        if block > 0:
            self._check_open()
            await self._listen()
        return await super()._read(block, stop)

    async def _attempt(self) -> list[StreamMessage]:
        own_cursor = self._pending_cursor

        async def claim(
            conn: Any, now: float, where: str, args: tuple[Any, ...]
        ) -> tuple[list[StreamMessage], Id | None, int]:
            rows = await conn.fetch(
                _PENDING.format(where=where), self.key, self.group, self.batch, *args
            )
            out: list[StreamMessage] = []
            last: Id | None = None
            gone: list[tuple[int, int]] = []
            for ms, seq, topic, data, deliveries in rows:
                last = (int(ms), int(seq))
                if topic is None:  # trimmed away while pending
                    gone.append(last)
                    continue
                out.append(StreamMessage(format_id(last), topic, decode_data(data), deliveries + 1))
            if gone:
                await conn.executemany(
                    "DELETE FROM pepperpy_stream_pending WHERE stream = $1 AND grp = $2 "
                    "AND ms = $3 AND seq = $4",
                    [(self.key, self.group, ms, seq) for ms, seq in gone],
                )
            if out:
                await conn.executemany(
                    "UPDATE pepperpy_stream_pending SET consumer = $1, delivered_at = $2, "
                    "deliveries = deliveries + 1 WHERE stream = $3 AND grp = $4 AND ms = $5 "
                    "AND seq = $6",
                    [(self.consumer, now, self.key, self.group, *parse_id(m.id)) for m in out],
                )
            return out, last, len(rows)

        async def work(conn: Any) -> tuple[list[StreamMessage], Id | None]:
            cursor_id = await self._group(conn)
            now = float(await conn.fetchval(_NOW))
            pending_cursor = own_cursor
            while pending_cursor is not None:
                mine = "p.consumer = $4 AND (p.ms, p.seq) > ($5, $6)"
                out, last, seen = await claim(conn, now, mine, (self.consumer, *pending_cursor))
                if not seen:
                    pending_cursor = None
                    break
                pending_cursor = last
                if out:
                    return out, pending_cursor
            idle = "p.delivered_at <= $4"
            out, _, _ = await claim(conn, now, idle, (now - self.claim_after,))
            if out:
                return out, None
            rows = await conn.fetch(
                "SELECT ms, seq, topic, data FROM pepperpy_stream_entries WHERE stream = $1 "
                "AND (ms, seq) > ($2, $3) ORDER BY ms, seq LIMIT $4",
                self.key,
                *cursor_id,
                self.batch,
            )
            if not rows:
                return [], None
            await conn.executemany(
                "INSERT INTO pepperpy_stream_pending (stream, grp, ms, seq, consumer, "
                "delivered_at, deliveries) VALUES ($1, $2, $3, $4, $5, $6, 1)",
                [(self.key, self.group, r[0], r[1], self.consumer, now) for r in rows],
            )
            await conn.execute(
                "UPDATE pepperpy_stream_groups SET ms = $1, seq = $2 "
                "WHERE stream = $3 AND grp = $4",
                rows[-1][0],
                rows[-1][1],
                self.key,
                self.group,
            )
            return [
                StreamMessage(format_id((r[0], r[1])), r[2], decode_data(r[3]), 1) for r in rows
            ], None

        try:
            messages, cursor_after = await self._transaction("read", work)
        except BaseException:  # an outage, or cancelled mid-claim: start with our own pending
            self._pending_cursor = (0, 0)
            raise
        self._pending_cursor = cursor_after
        return messages

    async def ack(self, *messages: StreamMessage) -> int:
        """Acknowledge handled events; return how many were still pending."""
        self._check_open()
        self._check_messages(messages)
        if not messages:
            return 0
        ids = [parse_id(m.id) for m in messages]

        async def work(conn: Any) -> int:
            rows = await conn.fetch(
                "DELETE FROM pepperpy_stream_pending AS p USING unnest($3::bigint[], "
                "$4::bigint[]) AS a(ms, seq) WHERE p.stream = $1 AND p.grp = $2 "
                "AND p.ms = a.ms AND p.seq = a.seq RETURNING p.ms",
                self.key,
                self.group,
                [ms for ms, _ in ids],
                [seq for _, seq in ids],
            )
            return len(rows)

        return await self._transaction("ack", work)

    async def dead_letter(self, message: StreamMessage, error: str) -> None:
        """Move *message* to ``<stream>:dead`` (with the error) and acknowledge it."""
        self._check_open()
        self._check_messages((message,))
        topic, body = encode_event(message.topic, message.data)
        ms, seq = parse_id(message.id)
        meta = json.dumps(
            {
                "id": message.id,
                "group": self.group,
                "error": str(error)[:1000],
                "deliveries": message.deliveries,
            }
        )

        async def work(conn: Any) -> None:
            await self._append(conn, self.dead_key, topic, body, meta)
            await conn.execute(
                "DELETE FROM pepperpy_stream_pending WHERE stream = $1 AND grp = $2 "
                "AND ms = $3 AND seq = $4",
                self.key,
                self.group,
                ms,
                seq,
            )

        await self._transaction("dead-letter", work)
        self.dead_lettered += 1

    async def dead_letters(self, limit: int | None = None) -> list[StreamDeadLetter]:
        """The dead-letter stream's entries, oldest first (at most *limit*)."""
        self._check_open()

        async def work(conn: Any) -> list[Any]:
            return list(
                await conn.fetch(
                    "SELECT ms, seq, topic, data, meta FROM pepperpy_stream_entries "
                    "WHERE stream = $1 ORDER BY ms, seq LIMIT $2",
                    self.dead_key,
                    None if limit is None else max(0, limit),
                )
            )

        rows = await self._transaction("read dead letters", work)
        out = []
        for ms, seq, topic, data, meta in rows:
            info = json.loads(meta) if meta else {}
            out.append(
                StreamDeadLetter(
                    id=format_id((int(ms), int(seq))),
                    message_id=str(info.get("id", "")),
                    topic=topic,
                    data=decode_data(data),
                    group=str(info.get("group", "")),
                    error=str(info.get("error", "")),
                    deliveries=int(info.get("deliveries", 0)),
                )
            )
        return out

    async def pending(self) -> int:
        """How many events the group has handed out but not had acknowledged."""
        self._check_open()

        async def work(conn: Any) -> int:
            await self._group(conn)
            count = await conn.fetchval(
                "SELECT COUNT(*) FROM pepperpy_stream_pending WHERE stream = $1 AND grp = $2",
                self.key,
                self.group,
            )
            return int(count)

        return await self._transaction("pending", work)

    async def aclose(self) -> None:
        """Close the connections (idempotent)."""
        self._closed = True
        pool, self._pool = self._pool, None
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
        if pool is not None:
            await pool.close()
