"""An event stream in PostgreSQL (``pepperpy-event[postgres]``): :class:`PostgresStream`."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import system_clock
from pepperpy.core.utils import import_driver
from pepperpy.event._sql_stream import Id, SQLStream, numbered
from pepperpy.event._stream import (
    StreamError,
    StreamMessage,
    Waker,
    check_poll_interval,
)

__all__ = ["PostgresStream"]

T = TypeVar("T")

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


class PostgresStream(SQLStream):
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
    _lock_group = " FOR UPDATE"

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
            stream, group, consumer, namespace, maxlen, claim_after, max_deliveries, batch, block
        )
        if not isinstance(dsn, str) or urlsplit(dsn).scheme not in ("postgres", "postgresql"):
            raise InvalidArgumentError(
                f"PostgresStream needs a postgresql:// DSN, got {_safe_repr(dsn)}",
                code="pepperpy.event.postgres_dsn",
                hint="Pass 'postgresql://user:password@127.0.0.1:5432/dbname'.",
            )
        self.dsn = dsn
        self.application_name = f"pepperpy.event {self.consumer}"[:63]
        """The connections' ``application_name`` (visible in ``pg_stat_activity``)."""
        self.clock = system_clock
        self._poll = check_poll_interval(poll_interval, "0.5")
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
        return import_driver("asyncpg", area="event", user="PostgresStream", extra="postgres")

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

    # ------------------------------------------------------------------ dialect

    async def _fetch(self, conn: Any, sql: str, *args: Any) -> Sequence[Any]:
        return await conn.fetch(numbered(sql), *args)  # type: ignore[no-any-return]

    async def _fetchrow(self, conn: Any, sql: str, *args: Any) -> Any:
        return await conn.fetchrow(numbered(sql), *args)

    async def _execute(self, conn: Any, sql: str, *args: Any) -> None:
        await conn.execute(numbered(sql), *args)

    async def _executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        await conn.executemany(numbered(sql), rows)

    async def _now(self, conn: Any) -> float:
        return float(await conn.fetchval(_NOW))

    async def _append(self, conn: Any, key: str, topic: str, body: str, meta: str | None) -> Id:
        row = await conn.fetchrow(_APPEND, key)
        entry = (int(row[0]), int(row[1]))
        await self._execute(
            conn,
            "INSERT INTO pepperpy_stream_entries (stream, ms, seq, topic, data, meta) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            key,
            entry[0],
            entry[1],
            topic,
            body,
            meta,
        )
        return entry

    async def _published(self, conn: Any) -> None:
        await conn.execute("SELECT pg_notify($1, '')", self._channel)

    async def _delete_pending(self, conn: Any, ids: list[Id]) -> int:
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

    # ------------------------------------------------------------------ reads

    async def _read(self, block: float, stop: asyncio.Event | None) -> list[StreamMessage]:
        if block > 0:
            self._check_open()
            await self._listen()
        return await super()._read(block, stop)

    async def aclose(self) -> None:
        """Close the connections (idempotent)."""
        self._closed = True
        pool, self._pool = self._pool, None
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
        if pool is not None:
            await pool.close()
