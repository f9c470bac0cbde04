"""What the SQL streams (SQLite, PostgreSQL) share: one algorithm, two dialects.

Both keep the same four tables (``pepperpy_streams``, ``pepperpy_stream_entries``,
``pepperpy_stream_groups``, ``pepperpy_stream_pending``). The statements here
are written with ``?`` placeholders; a backend runs them through its
``_fetch``/``_fetchrow``/``_execute``/``_executemany`` hooks (PostgreSQL numbers
them ``$1, $2, ...``), in the transactions of its ``_transaction`` hook.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pepperpy.event._stream import (
    ClockedStream,
    StreamDeadLetter,
    StreamMessage,
    check_start,
    decode_data,
    encode_event,
    format_id,
    parse_id,
)

__all__ = ["Id", "SQLStream", "numbered"]

T = TypeVar("T")
Id = tuple[int, int]

_PENDING = """
SELECT p.ms, p.seq, e.topic, e.data, p.deliveries
FROM pepperpy_stream_pending AS p
LEFT JOIN pepperpy_stream_entries AS e ON e.stream = p.stream AND e.ms = p.ms AND e.seq = p.seq
WHERE p.stream = ? AND p.grp = ? AND {where}
ORDER BY p.ms, p.seq LIMIT ?
"""

_DELETE_PENDING = (
    "DELETE FROM pepperpy_stream_pending WHERE stream = ? AND grp = ? AND ms = ? AND seq = ?"
)


@functools.lru_cache(maxsize=64)
def numbered(sql: str) -> str:
    """*sql* with its ``?`` placeholders numbered ``$1, $2, ...`` (PostgreSQL's style)."""
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


class SQLStream(ClockedStream):
    """The stream algorithms over SQL; subclasses supply the connection and dialect hooks."""

    _lock_group = ""
    """Appended to the group's SELECT to lock its row (``" FOR UPDATE"`` where supported)."""
    _no_limit: Any = None
    """The ``LIMIT`` value that means no limit."""

    # ------------------------------------------------------------------ hooks

    async def _transaction(self, operation: str, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run *work* in one transaction; store errors become retryable StreamErrors."""
        raise NotImplementedError

    async def _fetch(self, conn: Any, sql: str, *args: Any) -> Sequence[Any]:
        raise NotImplementedError

    async def _fetchrow(self, conn: Any, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def _execute(self, conn: Any, sql: str, *args: Any) -> None:
        raise NotImplementedError

    async def _executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    async def _append(self, conn: Any, key: str, topic: str, body: str, meta: str | None) -> Id:
        """Append an entry to stream *key* with the next id; return the id."""
        raise NotImplementedError

    async def _now(self, conn: Any) -> float:
        """The wall-clock time pending entries are stamped and compared with."""
        raise NotImplementedError

    async def _published(self, conn: Any) -> None:
        """Called in the publishing transaction after the entry was stored."""

    async def _delete_pending(self, conn: Any, ids: list[Id]) -> int:
        """Delete the group's pending entries *ids*; return how many there were."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers

    async def _group(self, conn: Any, start: str = "0") -> Id:
        """The group's cursor (created from *start* if missing; locked where supported)."""
        row = await self._fetchrow(
            conn,
            "SELECT ms, seq FROM pepperpy_stream_groups WHERE stream = ? AND grp = ?"
            + self._lock_group,
            self.key,
            self.group,
        )
        if row is not None:
            return int(row[0]), int(row[1])
        if start == "$":
            last = await self._fetchrow(
                conn, "SELECT last_ms, last_seq FROM pepperpy_streams WHERE stream = ?", self.key
            )
            cursor_id = (int(last[0]), int(last[1])) if last else (0, 0)
        else:
            cursor_id = parse_id(start)
        await self._execute(
            conn,
            "INSERT INTO pepperpy_stream_groups (stream, grp, ms, seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            self.key,
            self.group,
            *cursor_id,
        )
        return await self._group(conn, start)  # a concurrent creator may have won

    async def _claim(
        self, conn: Any, now: float, where: str, args: tuple[Any, ...]
    ) -> tuple[list[StreamMessage], Id | None, int]:
        """Take over the group's pending entries matching *where* (after the id *args*)."""
        rows = await self._fetch(
            conn, _PENDING.format(where=where), self.key, self.group, *args, self.batch
        )
        out: list[StreamMessage] = []
        last: Id | None = None
        gone: list[Id] = []
        for ms, seq, topic, data, deliveries in rows:
            last = (int(ms), int(seq))
            if topic is None:  # trimmed away while pending
                gone.append(last)
                continue
            out.append(StreamMessage(format_id(last), topic, decode_data(data), deliveries + 1))
        if gone:
            await self._executemany(
                conn, _DELETE_PENDING, [(self.key, self.group, ms, seq) for ms, seq in gone]
            )
        if out:
            await self._executemany(
                conn,
                "UPDATE pepperpy_stream_pending SET consumer = ?, delivered_at = ?, "
                "deliveries = deliveries + 1 WHERE stream = ? AND grp = ? AND ms = ? AND seq = ?",
                [(self.consumer, now, self.key, self.group, *parse_id(m.id)) for m in out],
            )
        return out, last, len(rows)

    async def _take(self, own_cursor: Id | None, now: float | None) -> list[StreamMessage]:
        """One read transaction: own pending entries after *own_cursor*, idle ones, new ones.

        *now* is the time to stamp deliveries with (``None``: ask :meth:`_now` in the
        transaction).
        """

        async def work(conn: Any) -> tuple[list[StreamMessage], Id | None]:
            cursor_id = await self._group(conn)
            at = await self._now(conn) if now is None else now
            pending_cursor = own_cursor
            while pending_cursor is not None:
                mine = "p.consumer = ? AND (p.ms, p.seq) > (?, ?)"
                out, last, seen = await self._claim(
                    conn, at, mine, (self.consumer, *pending_cursor)
                )
                if not seen:
                    pending_cursor = None
                    break
                pending_cursor = last
                if out:
                    return out, pending_cursor
            out, _, _ = await self._claim(conn, at, "p.delivered_at <= ?", (at - self.claim_after,))
            if out:
                return out, None
            rows = await self._fetch(
                conn,
                "SELECT ms, seq, topic, data FROM pepperpy_stream_entries WHERE stream = ? "
                "AND (ms, seq) > (?, ?) ORDER BY ms, seq LIMIT ?",
                self.key,
                *cursor_id,
                self.batch,
            )
            if not rows:
                return [], None
            await self._executemany(
                conn,
                "INSERT INTO pepperpy_stream_pending (stream, grp, ms, seq, consumer, "
                "delivered_at, deliveries) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [(self.key, self.group, r[0], r[1], self.consumer, at) for r in rows],
            )
            await self._execute(
                conn,
                "UPDATE pepperpy_stream_groups SET ms = ?, seq = ? WHERE stream = ? AND grp = ?",
                rows[-1][0],
                rows[-1][1],
                self.key,
                self.group,
            )
            return [
                StreamMessage(format_id((int(r[0]), int(r[1]))), r[2], decode_data(r[3]), 1)
                for r in rows
            ], None

        try:
            messages, cursor_after = await self._transaction("read", work)
        except BaseException:  # an outage, or cancelled mid-claim: start with our own pending
            self._pending_cursor = (0, 0)
            raise
        self._pending_cursor = cursor_after
        return messages

    async def _attempt(self) -> list[StreamMessage]:
        return await self._take(self._pending_cursor, None)

    # ------------------------------------------------------------------ API

    async def publish(self, topic: str, data: Any = None) -> str:
        """Append an event; return its id. Durable once this returns."""
        self._check_open()
        topic, body = encode_event(topic, data)

        async def work(conn: Any) -> Id:
            entry = await self._append(conn, self.key, topic, body, None)
            if self.maxlen is not None:
                boundary = await self._fetchrow(
                    conn,
                    "SELECT ms, seq FROM pepperpy_stream_entries WHERE stream = ? "
                    "ORDER BY ms DESC, seq DESC LIMIT 1 OFFSET ?",
                    self.key,
                    self.maxlen,
                )
                if boundary is not None:
                    await self._execute(
                        conn,
                        "DELETE FROM pepperpy_stream_entries "
                        "WHERE stream = ? AND (ms, seq) <= (?, ?)",
                        self.key,
                        boundary[0],
                        boundary[1],
                    )
            await self._published(conn)
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

    async def ack(self, *messages: StreamMessage) -> int:
        """Acknowledge handled events; return how many were still pending."""
        self._check_open()
        self._check_messages(messages)
        if not messages:
            return 0
        ids = [parse_id(m.id) for m in messages]

        async def work(conn: Any) -> int:
            return await self._delete_pending(conn, ids)

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
            await self._execute(conn, _DELETE_PENDING, self.key, self.group, ms, seq)

        await self._transaction("dead-letter", work)
        self.dead_lettered += 1

    async def dead_letters(self, limit: int | None = None) -> list[StreamDeadLetter]:
        """The dead-letter stream's entries, oldest first (at most *limit*)."""
        self._check_open()
        count = self._no_limit if limit is None else max(0, limit)

        async def work(conn: Any) -> list[Any]:
            return list(
                await self._fetch(
                    conn,
                    "SELECT ms, seq, topic, data, meta FROM pepperpy_stream_entries "
                    "WHERE stream = ? ORDER BY ms, seq LIMIT ?",
                    self.dead_key,
                    count,
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
            row = await self._fetchrow(
                conn,
                "SELECT COUNT(*) FROM pepperpy_stream_pending WHERE stream = ? AND grp = ?",
                self.key,
                self.group,
            )
            return int(row[0]) if row else 0

        return await self._transaction("pending", work)
