"""An event stream kept in this process: :class:`MemoryStream` and its :class:`MemoryHub`."""

from __future__ import annotations

import bisect
import threading
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.event._stream import (
    ClockedStream,
    StreamDeadLetter,
    StreamMessage,
    Waker,
    check_start,
    dead_letter_from_fields,
    decode_data,
    encode_event,
    format_id,
    parse_id,
)

__all__ = ["MemoryHub", "MemoryStream"]

Id = tuple[int, int]


@attrs.define
class _Pending:
    consumer: str
    delivered_at: float
    deliveries: int


@attrs.define
class _Group:
    cursor: Id
    pel: dict[Id, _Pending] = attrs.field(factory=dict)


@attrs.define
class _Log:
    ids: list[Id] = attrs.field(factory=list)
    fields: dict[Id, dict[str, str]] = attrs.field(factory=dict)
    last: Id = (0, 0)
    groups: dict[str, _Group] = attrs.field(factory=dict)
    waker: Waker = attrs.field(factory=Waker)

    def append(self, now: float, fields: dict[str, str], maxlen: int | None) -> Id:
        ms = int(now * 1000)
        entry = (ms, 0) if ms > self.last[0] else (self.last[0], self.last[1] + 1)
        self.ids.append(entry)
        self.fields[entry] = fields
        self.last = entry
        if maxlen is not None and len(self.ids) > maxlen:
            for old in self.ids[: len(self.ids) - maxlen]:
                del self.fields[old]
            del self.ids[: len(self.ids) - maxlen]
        self.waker.notify()
        return entry


class MemoryHub:
    """A set of in-memory streams; streams opened on the same hub share their entries.

    ``MemoryStream(..., hub="name")`` uses the process-wide hub of that name
    (what ``memory://name`` selects); pass a :class:`MemoryHub` instance to keep
    streams apart from every other one (in tests, say).
    """

    _named: ClassVar[dict[str, MemoryHub]] = {}
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._logs: dict[str, _Log] = {}

    @classmethod
    def named(cls, name: str) -> MemoryHub:
        """The process-wide hub called *name* (created on first use)."""
        with cls._named_lock:
            hub = cls._named.get(name)
            if hub is None:
                hub = cls._named[name] = cls()
            return hub

    def log(self, key: str) -> _Log:
        """The entries of the stream *key* (created on first use)."""
        found = self._logs.get(key)
        if found is None:
            found = self._logs[key] = _Log()
        return found

    def drop(self, key: str) -> None:
        """Forget the stream *key*, its groups and its dead letters."""
        self._logs.pop(key, None)
        self._logs.pop(f"{key}:dead", None)

    def __repr__(self) -> str:
        return f"MemoryHub(streams={sorted(self._logs)})"


class MemoryStream(ClockedStream):
    """A durable-for-the-process, at-least-once event stream in memory.

    The semantics are :class:`~pepperpy.event.RedisStream`'s (consumer groups,
    acknowledgements, redelivery, claims after ``claim_after``, dead letters
    after ``max_deliveries``); only the entries live in this process, shared by
    every ``MemoryStream`` with the same hub, namespace and stream name. Start
    with it, and move to :class:`~pepperpy.event.SQLiteStream` or Redis by
    changing the URL given to :func:`~pepperpy.event.connect_stream`.

    Args:
        stream: The stream's name.
        group: The consumer group.
        consumer: This consumer's name in the group (default: host, pid and a random part).
        namespace: Prefix of the stream's full name.
        hub: A :class:`MemoryHub`, or the name of a process-wide one.
        maxlen: Keep only the newest *maxlen* entries (``None``: keep all).
        claim_after: Seconds an entry may stay pending before any consumer takes it over.
        max_deliveries: Attempts before an event goes to the dead-letter stream.
        batch: The most entries read at once.
        block: Seconds a read waits for new entries.
        clock: Time source for ids, idle times and waiting (a ``ManualClock`` in tests).
    """

    backend = "memory"

    def __init__(
        self,
        stream: str = "events",
        *,
        group: str = "default",
        consumer: str | None = None,
        namespace: str = "pepperpy:events",
        hub: MemoryHub | str = "default",
        maxlen: int | None = None,
        claim_after: float = 30.0,
        max_deliveries: int = 5,
        batch: int = 100,
        block: float = 1.0,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(
            stream, group, consumer, namespace, maxlen, claim_after, max_deliveries, batch, block
        )
        if isinstance(hub, str):
            hub = MemoryHub.named(hub)
        elif not isinstance(hub, MemoryHub):
            raise InvalidArgumentError(
                f"hub must be a MemoryHub or a name, got {_safe_repr(hub)}",
                code="pepperpy.event.hub",
                hint="Pass hub='name' (shared in this process) or a MemoryHub().",
            )
        self.hub = hub
        self.clock = clock
        self._log = hub.log(self.key)
        self._dead = hub.log(self.dead_key)
        self._waker = self._log.waker
        self._pending_cursor = (0, 0)

    @classmethod
    def from_url(cls, url: str, stream: str = "events", **options: Any) -> MemoryStream:
        """``memory://`` (the default hub) or ``memory://<hub>``."""
        name = urlsplit(url).netloc or "default"
        return cls(stream, hub=name, **options)

    async def publish(self, topic: str, data: Any = None) -> str:
        """Append an event; return its id."""
        self._check_open()
        topic, body = encode_event(topic, data)
        return format_id(self._log.append(self.clock.time(), {"t": topic, "d": body}, self.maxlen))

    def _group(self, start: str = "0") -> _Group:
        group = self._log.groups.get(self.group)
        if group is None:
            cursor = self._log.last if start == "$" else parse_id(start)
            group = self._log.groups[self.group] = _Group(cursor)
        return group

    async def ensure_group(self, *, start: str = "0") -> None:
        """Create the group if missing, reading from *start*.

        ``"0"``: every entry; ``"$"``: only entries appended from now on; an
        id: entries after it. An existing group is left as it is.
        """
        self._check_open()
        self._group(check_start(start))

    def _message(self, entry: Id, deliveries: int) -> StreamMessage:
        fields = self._log.fields[entry]
        return StreamMessage(format_id(entry), fields["t"], decode_data(fields["d"]), deliveries)

    async def _attempt(self) -> list[StreamMessage]:
        self._check_open()
        group = self._group()
        now = self.clock.time()
        out: list[StreamMessage] = []
        if self._pending_cursor is not None:
            after = self._pending_cursor
            mine = sorted(
                e for e, p in group.pel.items() if p.consumer == self.consumer and e > after
            )
            for entry in mine[: self.batch]:
                self._pending_cursor = entry
                if entry not in self._log.fields:  # trimmed away while pending
                    del group.pel[entry]
                    continue
                pending = group.pel[entry]
                pending.delivered_at, pending.deliveries = now, pending.deliveries + 1
                out.append(self._message(entry, pending.deliveries))
            if out:
                return out
            if not mine:
                self._pending_cursor = None
            else:
                return await self._attempt()
        idle = sorted(e for e, p in group.pel.items() if now - p.delivered_at >= self.claim_after)
        for entry in idle[: self.batch]:
            if entry not in self._log.fields:
                del group.pel[entry]
                continue
            pending = group.pel[entry]
            pending.consumer, pending.delivered_at = self.consumer, now
            pending.deliveries += 1
            out.append(self._message(entry, pending.deliveries))
        if out:
            return out
        start = bisect.bisect_right(self._log.ids, group.cursor)
        for entry in self._log.ids[start : start + self.batch]:
            group.pel[entry] = _Pending(self.consumer, now, 1)
            group.cursor = entry
            out.append(self._message(entry, 1))
        return out

    async def ack(self, *messages: StreamMessage) -> int:
        """Acknowledge handled events; return how many were still pending."""
        self._check_open()
        self._check_messages(messages)
        group = self._group()
        acked = 0
        for message in messages:
            if group.pel.pop(parse_id(message.id), None) is not None:
                acked += 1
        return acked

    async def dead_letter(self, message: StreamMessage, error: str) -> None:
        """Move *message* to ``<stream>:dead`` (with the error) and acknowledge it."""
        self._check_open()
        self._check_messages((message,))
        _, body = encode_event(message.topic, message.data)
        fields = {
            "t": message.topic,
            "d": body,
            "id": message.id,
            "group": self.group,
            "error": str(error)[:1000],
            "deliveries": str(message.deliveries),
        }
        self._dead.append(self.clock.time(), fields, None)
        self._group().pel.pop(parse_id(message.id), None)
        self.dead_lettered += 1

    async def dead_letters(self, limit: int | None = None) -> list[StreamDeadLetter]:
        """The dead-letter stream's entries, oldest first (at most *limit*)."""
        self._check_open()
        ids = self._dead.ids if limit is None else self._dead.ids[: max(0, limit)]
        return [dead_letter_from_fields(format_id(e), self._dead.fields[e]) for e in ids]

    async def pending(self) -> int:
        """How many events the group has handed out but not had acknowledged."""
        self._check_open()
        return len(self._group().pel)

    async def aclose(self) -> None:
        """Close this handle (the entries stay in the hub for the other handles)."""
        self._closed = True
