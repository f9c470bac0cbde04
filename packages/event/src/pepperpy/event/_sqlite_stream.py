"""An event stream in a SQLite file (``pepperpy-event[sqlite]``): :class:`SQLiteStream`."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, system_clock
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

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["SQLiteStream"]

T = TypeVar("T")
Id = tuple[int, int]

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

_PENDING = """
SELECT p.ms, p.seq, e.topic, e.data, p.deliveries
FROM pepperpy_stream_pending AS p
LEFT JOIN pepperpy_stream_entries AS e ON e.stream = p.stream AND e.ms = p.ms AND e.seq = p.seq
WHERE p.stream = ? AND p.grp = ? AND {where}
ORDER BY p.ms, p.seq LIMIT ?
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


class SQLiteStream(ClockedStream):
    """A durable, at-least-once event stream in a SQLite file (WAL), shared by processes.

    The semantics are :class:`~pepperpy.event.RedisStream`'s (consumer groups,
    acknowledgements, redelivery, claims after ``claim_after``, dead letters
    after ``max_deliveries``). Every claim is one ``BEGIN IMMEDIATE``
    transaction, so the processes sharing the file each get a group's entries
    exactly once per delivery; an entry stays pending until acknowledged, so
    a consumer killed mid-handler loses nothing. Published entries survive
    process crashes and restarts (``synchronous=NORMAL`` in WAL mode: a power
    loss may drop the last commits).

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
        clock: Time source: ids and idle times use its wall-clock ``time()``,
            which all processes sharing the file must agree on.
    """

    backend = "sqlite"

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
        clock: Clock = system_clock,
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
        if not isinstance(path, (str, os.PathLike)) or str(path) in ("", ":memory:"):
            raise InvalidArgumentError(
                f"SQLiteStream needs a file path, got {_safe_repr(path)}",
                code="pepperpy.event.sqlite_path",
                hint="Pass a file such as 'events.db'; for a stream in this process only, "
                "use MemoryStream (memory://).",
            )
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, (int, float))
            or not poll_interval > 0
        ):
            raise InvalidArgumentError(
                f"poll_interval must be a number of seconds > 0, got {_safe_repr(poll_interval)}",
                code="pepperpy.event.stream_options",
                hint="For example poll_interval=0.1.",
            )
        self.path = Path(path)
        self.clock = clock
        self._poll = float(poll_interval)
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
        try:
            driver = importlib.import_module("aiosqlite")
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "SQLiteStream needs the aiosqlite package",
                code="pepperpy.event.missing_driver",
                hint="Install the extra: pip install 'pepperpy-event[sqlite]'.",
            ) from exc
        try:
            await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
            db: aiosqlite.Connection = await driver.connect(str(self.path), isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._failed(exc, "open the file") from exc
        try:
            await db.execute("PRAGMA busy_timeout=10000")
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
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

    # ------------------------------------------------------------------ helpers

    async def _append(
        self, db: aiosqlite.Connection, key: str, topic: str, body: str, meta: str | None
    ) -> Id:
        async with db.execute(
            "SELECT last_ms, last_seq FROM pepperpy_streams WHERE stream = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        last = (int(row[0]), int(row[1])) if row else (0, 0)
        ms = int(self.clock.time() * 1000)
        entry = (ms, 0) if ms > last[0] else (last[0], last[1] + 1)
        await db.execute(
            "INSERT INTO pepperpy_stream_entries (stream, ms, seq, topic, data, meta) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key, entry[0], entry[1], topic, body, meta),
        )
        await db.execute(
            "INSERT INTO pepperpy_streams (stream, last_ms, last_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET last_ms = excluded.last_ms, "
            "last_seq = excluded.last_seq",
            (key, entry[0], entry[1]),
        )
        return entry

    async def _group(self, db: aiosqlite.Connection, start: str = "0") -> Id:
        async with db.execute(
            "SELECT ms, seq FROM pepperpy_stream_groups WHERE stream = ? AND grp = ?",
            (self.key, self.group),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            return int(row[0]), int(row[1])
        if start == "$":
            async with db.execute(
                "SELECT last_ms, last_seq FROM pepperpy_streams WHERE stream = ?", (self.key,)
            ) as cursor:
                last = await cursor.fetchone()
            cursor_id = (int(last[0]), int(last[1])) if last else (0, 0)
        else:
            cursor_id = parse_id(start)
        await db.execute(
            "INSERT INTO pepperpy_stream_groups (stream, grp, ms, seq) VALUES (?, ?, ?, ?)",
            (self.key, self.group, *cursor_id),
        )
        return cursor_id

    # ------------------------------------------------------------------ API

    async def publish(self, topic: str, data: Any = None) -> str:
        """Append an event; return its id. Durable once this returns."""
        self._check_open()
        topic, body = encode_event(topic, data)

        async def work(db: aiosqlite.Connection) -> Id:
            entry = await self._append(db, self.key, topic, body, None)
            if self.maxlen is not None:
                async with db.execute(
                    "SELECT ms, seq FROM pepperpy_stream_entries WHERE stream = ? "
                    "ORDER BY ms DESC, seq DESC LIMIT 1 OFFSET ?",
                    (self.key, self.maxlen),
                ) as cursor:
                    boundary = await cursor.fetchone()
                if boundary is not None:
                    await db.execute(
                        "DELETE FROM pepperpy_stream_entries "
                        "WHERE stream = ? AND (ms, seq) <= (?, ?)",
                        (self.key, boundary[0], boundary[1]),
                    )
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

        async def work(db: aiosqlite.Connection) -> None:
            await self._group(db, start)

        await self._transaction("create the group", work)

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

        async def claim(
            db: aiosqlite.Connection, where: str, args: tuple[Any, ...]
        ) -> tuple[list[StreamMessage], Id | None, int]:
            async with db.execute(
                _PENDING.format(where=where), (self.key, self.group, *args, self.batch)
            ) as cursor:
                rows = list(await cursor.fetchall())
            out: list[StreamMessage] = []
            last: Id | None = None
            for ms, seq, topic, data, deliveries in rows:
                last = (int(ms), int(seq))
                if topic is None:  # trimmed away while pending
                    await db.execute(
                        "DELETE FROM pepperpy_stream_pending WHERE stream = ? AND grp = ? "
                        "AND ms = ? AND seq = ?",
                        (self.key, self.group, ms, seq),
                    )
                    continue
                await db.execute(
                    "UPDATE pepperpy_stream_pending SET consumer = ?, delivered_at = ?, "
                    "deliveries = deliveries + 1 WHERE stream = ? AND grp = ? AND ms = ? "
                    "AND seq = ?",
                    (self.consumer, now, self.key, self.group, ms, seq),
                )
                out.append(StreamMessage(format_id(last), topic, decode_data(data), deliveries + 1))
            return out, last, len(rows)

        async def work(db: aiosqlite.Connection) -> tuple[list[StreamMessage], Id | None]:
            cursor_id = await self._group(db)
            pending_cursor = own_cursor
            while pending_cursor is not None:
                mine = "p.consumer = ? AND (p.ms, p.seq) > (?, ?)"
                out, last, seen = await claim(db, mine, (self.consumer, *pending_cursor))
                if not seen:
                    pending_cursor = None
                    break
                pending_cursor = last
                if out:
                    return out, pending_cursor
            out, _, _ = await claim(db, "p.delivered_at <= ?", (now - self.claim_after,))
            if out:
                return out, None
            async with db.execute(
                "SELECT ms, seq, topic, data FROM pepperpy_stream_entries WHERE stream = ? "
                "AND (ms, seq) > (?, ?) ORDER BY ms, seq LIMIT ?",
                (self.key, *cursor_id, self.batch),
            ) as cursor:
                rows = list(await cursor.fetchall())
            if not rows:
                return [], None
            await db.executemany(
                "INSERT INTO pepperpy_stream_pending (stream, grp, ms, seq, consumer, "
                "delivered_at, deliveries) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [(self.key, self.group, ms, seq, self.consumer, now) for ms, seq, _, _ in rows],
            )
            await db.execute(
                "UPDATE pepperpy_stream_groups SET ms = ?, seq = ? WHERE stream = ? AND grp = ?",
                (rows[-1][0], rows[-1][1], self.key, self.group),
            )
            return [
                StreamMessage(format_id((ms, seq)), topic, decode_data(data), 1)
                for ms, seq, topic, data in rows
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

        async def work(db: aiosqlite.Connection) -> int:
            acked = 0
            for ms, seq in ids:
                cursor = await db.execute(
                    "DELETE FROM pepperpy_stream_pending WHERE stream = ? AND grp = ? "
                    "AND ms = ? AND seq = ?",
                    (self.key, self.group, ms, seq),
                )
                acked += max(0, cursor.rowcount)
                await cursor.close()
            return acked

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

        async def work(db: aiosqlite.Connection) -> None:
            await self._append(db, self.dead_key, topic, body, meta)
            await db.execute(
                "DELETE FROM pepperpy_stream_pending WHERE stream = ? AND grp = ? "
                "AND ms = ? AND seq = ?",
                (self.key, self.group, ms, seq),
            )

        await self._transaction("dead-letter", work)
        self.dead_lettered += 1

    async def dead_letters(self, limit: int | None = None) -> list[StreamDeadLetter]:
        """The dead-letter stream's entries, oldest first (at most *limit*)."""
        self._check_open()
        count = -1 if limit is None else max(0, limit)

        async def work(db: aiosqlite.Connection) -> list[Any]:
            async with db.execute(
                "SELECT ms, seq, topic, data, meta FROM pepperpy_stream_entries "
                "WHERE stream = ? ORDER BY ms, seq LIMIT ?",
                (self.dead_key, count),
            ) as cursor:
                return list(await cursor.fetchall())

        rows = await self._transaction("read dead letters", work)
        out = []
        for ms, seq, topic, data, meta in rows:
            info = json.loads(meta) if meta else {}
            out.append(
                StreamDeadLetter(
                    id=format_id((ms, seq)),
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

        async def work(db: aiosqlite.Connection) -> int:
            await self._group(db)
            async with db.execute(
                "SELECT COUNT(*) FROM pepperpy_stream_pending WHERE stream = ? AND grp = ?",
                (self.key, self.group),
            ) as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0

        return await self._transaction("pending", work)

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
