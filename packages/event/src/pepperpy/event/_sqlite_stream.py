"""An event stream in a SQLite file (``pepperpy-event[sqlite]``): :class:`SQLiteStream`."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.core.utils import import_driver
from pepperpy.event._sql_stream import Id, SQLStream
from pepperpy.event._stream import (
    StreamError,
    StreamMessage,
    Waker,
    check_poll_interval,
)

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["SQLiteStream"]

T = TypeVar("T")

_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}
"""SQLiteStream(synchronous=...) values and their PRAGMA synchronous levels."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pepperpy_streams (
    stream TEXT PRIMARY KEY,
    last_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pepperpy_stream_entries (
    stream TEXT NOT NULL,
    ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    topic TEXT NOT NULL,
    data TEXT NOT NULL,
    meta TEXT,
    PRIMARY KEY (stream, ms, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pepperpy_stream_groups (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (stream, grp)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pepperpy_stream_pending (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    delivered_at REAL NOT NULL,
    deliveries INTEGER NOT NULL,
    PRIMARY KEY (stream, grp, ms, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pepperpy_stream_pending_consumer
    ON pepperpy_stream_pending (stream, grp, consumer, ms, seq);
"""

# Is there a new entry for the group, an idle pending one, or no group yet?
_ANYTHING = """
SELECT CASE WHEN g.grp IS NULL THEN 1 ELSE
    EXISTS (SELECT 1 FROM pepperpy_stream_entries AS e
            WHERE e.stream = g.stream AND (e.ms, e.seq) > (g.ms, g.seq))
    OR EXISTS (SELECT 1 FROM pepperpy_stream_pending AS p
               WHERE p.stream = g.stream AND p.grp = g.grp AND p.delivered_at <= q.idle)
END
FROM (SELECT ? AS stream, ? AS grp, ? AS idle) AS q
LEFT JOIN pepperpy_stream_groups AS g ON g.stream = q.stream AND g.grp = q.grp
"""

# Readers of one file in this process, woken when a stream of theirs gets an entry.
_wakers: dict[tuple[str, str], Waker] = {}
_wakers_lock = threading.Lock()


def _waker(path: str, key: str) -> Waker:
    with _wakers_lock:
        found = _wakers.get((path, key))
        if found is None:
            found = _wakers[(path, key)] = Waker()
        return found


class SQLiteStream(SQLStream):
    """A durable, at-least-once event stream in a SQLite file (WAL), shared by processes.

    The semantics are :class:`~pepperpy.event.RedisStream`'s (consumer groups,
    acknowledgements, redelivery, claims after ``claim_after``, dead letters
    after ``max_deliveries``). Every claim is one ``BEGIN IMMEDIATE``
    transaction, so the processes sharing the file each get a group's entries
    exactly once per delivery; an entry stays pending until acknowledged, so
    a consumer killed mid-handler loses nothing.

    Durability: the file is in WAL mode. With ``synchronous="full"`` (the
    default) every commit is flushed to disk (fsync) before ``publish`` or
    ``ack`` returns, so a published event or an acknowledgement survives a
    process crash *and* an OS crash or power loss (on storage that honours
    fsync). With ``synchronous="normal"`` commits are flushed only at WAL
    checkpoints: they survive a process crash (``kill -9``) but an OS crash or
    power loss may lose the last commits (the file stays consistent; a lost
    acknowledgement means the event is delivered again, a lost publish that
    it is gone). ``"normal"`` is faster when writes are frequent.

    Readers in this process are woken by a publish at once; other processes
    notice new entries within ``poll_interval`` seconds.

    Args:
        path: The SQLite file (created with its directory if missing).
        stream: The stream's name.
        group: The consumer group.
        consumer: This consumer's name in the group (default: host, pid and a random part).
        namespace: Prefix of the stream's full name.
        maxlen: Keep only the newest *maxlen* entries (``None``: keep all).
        claim_after: Seconds an entry may stay pending before any consumer takes it over.
        max_deliveries: Attempts before an event goes to the dead-letter stream.
        batch: The most entries read at once.
        block: Seconds a read waits for new entries.
        poll_interval: Seconds between looks for entries other processes appended.
        synchronous: ``"full"`` (default: commits survive an OS crash) or
            ``"normal"`` (commits survive a process crash only); SQLite's
            ``PRAGMA synchronous``.
        clock: Time source: ids and idle times use its wall-clock ``time()``,
            which all processes sharing the file must agree on.
    """

    backend = "sqlite"
    _no_limit = -1

    def __init__(
        self,
        path: str | os.PathLike[str],
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
        poll_interval: float = 0.1,
        synchronous: Literal["full", "normal"] = "full",
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(
            stream, group, consumer, namespace, maxlen, claim_after, max_deliveries, batch, block
        )
        if not isinstance(path, (str, os.PathLike)) or str(path) in ("", ":memory:"):
            raise InvalidArgumentError(
                f"SQLiteStream needs a file path, got {_safe_repr(path)}",
                code="pepperpy.event.sqlite_path",
                hint="Pass a file such as 'events.db'; for a stream in this process only, "
                "use MemoryStream (memory://).",
            )
        if synchronous not in _SYNCHRONOUS:
            raise InvalidArgumentError(
                f"synchronous must be 'full' or 'normal', got {_safe_repr(synchronous)}",
                code="pepperpy.event.sqlite_synchronous",
                hint="Keep 'full' (commits survive an OS crash or power loss), or pick "
                "'normal' (faster; commits survive a process crash only).",
            )
        self.path = Path(path)
        self.synchronous = synchronous
        self.clock = clock
        self._poll = check_poll_interval(poll_interval, "0.1")
        self._waker = _waker(str(self.path.resolve()), self.key)
        self._pending_cursor = (0, 0)
        self._db: aiosqlite.Connection | None = None
        self._lock: asyncio.Lock | None = None

    @classmethod
    def from_url(cls, url: str, stream: str = "events", **options: Any) -> SQLiteStream:
        """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``."""
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise InvalidArgumentError(
                f"{url!r} is not a sqlite:/// URL",
                code="pepperpy.event.stream_url",
                hint="Write three slashes before a relative path (sqlite:///events.db) and "
                "four before an absolute one (sqlite:////var/lib/app/events.db).",
            )
        return cls(unquote(parts.path[1:]), stream, **options)

    # ------------------------------------------------------------------ connection

    async def _connection(self) -> aiosqlite.Connection:
        self._check_open()
        if self._db is not None:
            return self._db
        driver = import_driver("aiosqlite", area="event", user="SQLiteStream", extra="sqlite")
        try:
            await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
            db: aiosqlite.Connection = await driver.connect(str(self.path), isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._failed(exc, "open the file") from exc
        try:
            await db.execute("PRAGMA busy_timeout=10000")
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute(f"PRAGMA synchronous={_SYNCHRONOUS[self.synchronous]}")
            await db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            await db.close()
            raise self._failed(exc, "create the schema") from exc
        if self._closed:  # closed while opening
            await db.close()
            self._check_open()
        self._db = db
        return db

    def _failed(self, exc: BaseException, operation: str) -> StreamError:
        error = StreamError(
            f"SQLite stream {self.key!r} in {str(self.path)!r}: {operation} failed: "
            f"{type(exc).__name__}: {exc}",
            context={"stream": self.key, "path": str(self.path), "operation": operation},
            hint="Check that the file is writable and its disk has room; unacknowledged "
            "events stay pending and are delivered again.",
            retryable=True,
        )
        error.__cause__ = exc
        return error

    async def _transaction(
        self, operation: str, work: Callable[[aiosqlite.Connection], Awaitable[T]]
    ) -> T:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            db = await self._connection()
            try:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    result = await work(db)
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(exc, operation) from exc
            return result

    # ------------------------------------------------------------------ dialect

    async def _fetch(self, conn: Any, sql: str, *args: Any) -> Sequence[Any]:
        async with conn.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def _fetchrow(self, conn: Any, sql: str, *args: Any) -> Any:
        async with conn.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def _execute(self, conn: Any, sql: str, *args: Any) -> None:
        await conn.execute(sql, args)

    async def _executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        await conn.executemany(sql, rows)

    async def _now(self, conn: Any) -> float:
        return float(self.clock.time())

    async def _append(self, conn: Any, key: str, topic: str, body: str, meta: str | None) -> Id:
        row = await self._fetchrow(
            conn, "SELECT last_ms, last_seq FROM pepperpy_streams WHERE stream = ?", key
        )
        last = (int(row[0]), int(row[1])) if row else (0, 0)
        ms = int(self.clock.time() * 1000)
        entry = (ms, 0) if ms > last[0] else (last[0], last[1] + 1)
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
        await self._execute(
            conn,
            "INSERT INTO pepperpy_streams (stream, last_ms, last_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET last_ms = excluded.last_ms, "
            "last_seq = excluded.last_seq",
            key,
            entry[0],
            entry[1],
        )
        return entry

    async def _delete_pending(self, conn: Any, ids: list[Id]) -> int:
        acked = 0
        for ms, seq in ids:
            cursor = await conn.execute(
                "DELETE FROM pepperpy_stream_pending WHERE stream = ? AND grp = ? "
                "AND ms = ? AND seq = ?",
                (self.key, self.group, ms, seq),
            )
            acked += max(0, cursor.rowcount)
            await cursor.close()
        return acked

    # ------------------------------------------------------------------ reads

    async def _anything_to_read(self, now: float) -> bool:
        """Whether a read could hand something out (a cheap look without the write lock)."""
        if self._pending_cursor is not None:
            return True
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            db = await self._connection()
            try:
                async with db.execute(
                    _ANYTHING, (self.key, self.group, now - self.claim_after)
                ) as cursor:
                    row = await cursor.fetchone()
            except sqlite3.Error as exc:
                raise self._failed(exc, "read") from exc
        return bool(row and row[0])

    async def _attempt(self) -> list[StreamMessage]:
        now = self.clock.time()
        own_cursor = self._pending_cursor
        if not await self._anything_to_read(now):
            return []  # idle readers of a shared file do not queue for its write lock
        return await self._take(own_cursor, now)

    async def aclose(self) -> None:
        """Close the connection to the file (idempotent)."""
        self._closed = True
        db, self._db = self._db, None
        if db is not None:
            if self._lock is not None:
                async with self._lock:
                    await db.close()
            else:
                await db.close()
