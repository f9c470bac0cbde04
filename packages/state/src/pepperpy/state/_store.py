"""Persistence of state: a snapshot plus a log of changes, each change one atomic write.

Crash safety comes from the shape of the data, not from multi-key transactions:

* every committed change (one slice, or every slice of a transaction) is ONE
  record written with ONE atomic put, so a crash leaves it fully there or absent;
* a snapshot is one put carrying the sequence number it covers; log records at
  or below it are deleted afterwards, and skipped on load if a crash left them.

Loading replays the records newer than the snapshot, in sequence order.

One writer at a time (issue 18 #8): a record is created only if no record
has its number and the snapshot does not cover it, and a snapshot never
replaces a newer one. A second :class:`~pepperpy.state.StateManager` on the
same store, whose view is no longer current, so gets
:class:`~pepperpy.state.ConcurrentWriterError` instead of overwriting the
first one's records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import JSONValue
from pepperpy.state._errors import ConcurrentWriterError

__all__ = [
    "ChangeRecord",
    "MemoryStateStore",
    "SliceRecord",
    "StateSnapshot",
    "StateStore",
    "StorageStateStore",
]


@attrs.frozen
class SliceRecord:
    """One slice's committed value (JSON-like) and version; ``deleted`` marks removal."""

    version: int
    value: JSONValue
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        data: dict[str, Any] = {"version": self.version, "value": self.value}
        if self.deleted:
            data["deleted"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SliceRecord:
        """Build from :meth:`to_json` output."""
        return cls(int(data["version"]), data.get("value"), bool(data.get("deleted", False)))


@attrs.frozen
class ChangeRecord:
    """One committed change: every slice it touched, applied all together or not at all."""

    seq: int
    changes: Mapping[str, SliceRecord]
    origin: str | None = None
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "seq": self.seq,
            "origin": self.origin,
            "at": self.at,
            "changes": {name: rec.to_json() for name, rec in self.changes.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeRecord:
        """Build from :meth:`to_json` output."""
        return cls(
            int(data["seq"]),
            {name: SliceRecord.from_json(rec) for name, rec in data["changes"].items()},
            data.get("origin"),
            float(data.get("at", 0.0)),
        )


@attrs.frozen
class StateSnapshot:
    """Every slice as of change number ``seq`` (records up to ``seq`` are folded in)."""

    seq: int
    slices: Mapping[str, SliceRecord]
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "seq": self.seq,
            "at": self.at,
            "slices": {name: rec.to_json() for name, rec in self.slices.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StateSnapshot:
        """Build from :meth:`to_json` output."""
        return cls(
            int(data["seq"]),
            {name: SliceRecord.from_json(rec) for name, rec in data["slices"].items()},
            float(data.get("at", 0.0)),
        )


class StateStore(Protocol):
    """Where a :class:`~pepperpy.state.StateManager` keeps its state across restarts.

    Implementations must make :meth:`append` and :meth:`write_snapshot` atomic
    (all of the record or none of it), and keep one writer at a time:
    :meth:`append` creates a record only if no record has its ``seq`` and the
    snapshot does not cover it, and :meth:`write_snapshot` never replaces a
    newer snapshot; otherwise both raise
    :class:`~pepperpy.state.ConcurrentWriterError`. :class:`StorageStateStore` uses a
    pepperpy-storage store; :class:`MemoryStateStore` keeps everything in
    memory (tests, or state that must survive only a manager restart).
    """

    async def load(self) -> tuple[StateSnapshot | None, list[ChangeRecord]]:
        """Return the latest snapshot and the change records after it, oldest first."""
        ...

    async def append(self, record: ChangeRecord) -> None:
        """Durably and atomically record one committed change (create-only)."""
        ...

    async def write_snapshot(self, snapshot: StateSnapshot) -> None:
        """Atomically store *snapshot* unless a newer one is stored; drop the records it covers."""
        ...


def _concurrent_writer(seq: int, store: object, why: str) -> ConcurrentWriterError:
    return ConcurrentWriterError(
        f"another StateManager writes to this store: {why}",
        context={"seq": seq, "store": safe_repr(store)},
        hint="Run one StateManager per store (or per prefix); restart this one to load the "
        "current state. Nothing was written or applied.",
    )


def _check_json(value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"state value is not JSON-like: {exc}",
            code="pepperpy.state.not_json",
            context={"value": safe_repr(value)},
            hint="Store JSON-like values or attrs instances in state slices.",
        ) from None


class MemoryStateStore:
    """A :class:`StateStore` in process memory.

    Values are round-tripped through JSON on every write, exactly as a real
    store would see them, so a value that could not be persisted fails here too.
    Share one instance between managers to simulate a restart.
    """

    def __init__(self) -> None:
        self._snapshot: dict[str, Any] | None = None
        self._records: dict[int, str] = {}

    async def load(self) -> tuple[StateSnapshot | None, list[ChangeRecord]]:
        """Return the snapshot and the newer records."""
        snapshot = None if self._snapshot is None else StateSnapshot.from_json(self._snapshot)
        floor = snapshot.seq if snapshot is not None else 0
        records = [
            ChangeRecord.from_json(json.loads(self._records[seq]))
            for seq in sorted(self._records)
            if seq > floor
        ]
        return snapshot, records

    async def append(self, record: ChangeRecord) -> None:
        """Keep *record* (as JSON text), unless its number is taken or covered by the snapshot."""
        data = record.to_json()
        _check_json(data)
        if record.seq in self._records:
            raise _concurrent_writer(record.seq, self, f"change #{record.seq} is already recorded")
        if self._snapshot is not None and int(self._snapshot["seq"]) >= record.seq:
            raise _concurrent_writer(
                record.seq, self, f"the snapshot already covers change #{record.seq}"
            )
        self._records[record.seq] = json.dumps(data)

    async def write_snapshot(self, snapshot: StateSnapshot) -> None:
        """Keep *snapshot* (unless a newer one is kept) and drop the records it covers."""
        data = snapshot.to_json()
        _check_json(data)
        if self._snapshot is not None and int(self._snapshot["seq"]) > snapshot.seq:
            raise _concurrent_writer(
                snapshot.seq, self, f"a newer snapshot (#{self._snapshot['seq']}) is stored"
            )
        self._snapshot = json.loads(json.dumps(data))
        for seq in [s for s in self._records if s <= snapshot.seq]:
            del self._records[seq]

    @property
    def record_count(self) -> int:
        """How many change records are kept (not yet folded into a snapshot)."""
        return len(self._records)


class _StorageLike(Protocol):
    async def get(self, key: str, default: Any = None) -> Any: ...

    async def put(self, key: str, value: Any, **kwargs: Any) -> Any: ...

    async def delete(self, key: str) -> Any: ...

    async def scan(self, prefix: str, **kwargs: Any) -> Any: ...

    async def get_entry(self, key: str) -> Any: ...

    async def compare_and_set(self, key: str, value: Any, *, version: int) -> bool: ...


class StorageStateStore:
    """A :class:`StateStore` on a pepperpy-storage ``Storage`` (SQLite by default).

    Keys: ``<prefix>snapshot`` holds the snapshot, ``<prefix>log/<seq>`` one
    record per committed change (zero-padded so a prefix scan returns them in
    order). Each is a single ``put``, which the storage backend commits
    atomically. A log record is written create-only (``compare_and_set(...,
    version=0)``) and the snapshot with a compare-and-set on its version, so a
    second manager on the same keys gets
    :class:`~pepperpy.state.ConcurrentWriterError`, in this process or another.

    Args:
        storage: A started ``Storage`` (the caller owns its lifecycle).
        prefix: Key prefix, so several state managers can share one store.
    """

    def __init__(self, storage: _StorageLike, *, prefix: str = "state/") -> None:
        self._storage = storage
        self._prefix = prefix

    @property
    def storage(self) -> Any:
        """The underlying storage."""
        return self._storage

    def _log_key(self, seq: int) -> str:
        return f"{self._prefix}log/{seq:020d}"

    async def load(self) -> tuple[StateSnapshot | None, list[ChangeRecord]]:
        """Read the snapshot and scan the log after it."""
        raw = await self._storage.get(f"{self._prefix}snapshot", None)
        snapshot = None if raw is None else StateSnapshot.from_json(raw)
        floor = snapshot.seq if snapshot is not None else 0
        records: list[ChangeRecord] = []
        cursor: str | None = None
        while True:
            page = await self._storage.scan(f"{self._prefix}log/", limit=500, cursor=cursor)
            for _key, value in page.items:
                record = ChangeRecord.from_json(value)
                if record.seq > floor:
                    records.append(record)
            cursor = page.cursor
            if cursor is None:
                break
        records.sort(key=lambda r: r.seq)
        return snapshot, records

    async def append(self, record: ChangeRecord) -> None:
        """Create *record* with one put; refuse a number that is taken or below the snapshot.

        Raises:
            ConcurrentWriterError: Another manager wrote this change number
                (the record is there, or a snapshot already covers it).
        """
        key = self._log_key(record.seq)
        if not await self._storage.compare_and_set(key, record.to_json(), version=0):
            raise _concurrent_writer(record.seq, self, f"change #{record.seq} is already recorded")
        # A snapshot writes first and deletes the records it covers afterwards, so
        # a number freed that way is below the snapshot: our record would be skipped.
        raw = await self._storage.get(f"{self._prefix}snapshot", None)
        if raw is not None and int(raw["seq"]) >= record.seq:
            await self._storage.delete(key)
            raise _concurrent_writer(
                record.seq, self, f"the snapshot already covers change #{record.seq}"
            )

    async def write_snapshot(self, snapshot: StateSnapshot) -> None:
        """Write *snapshot* unless a newer one is stored, then delete the records it covers.

        Raises:
            ConcurrentWriterError: A newer snapshot is stored (written by another manager).
        """
        name = f"{self._prefix}snapshot"
        while True:
            entry = await self._storage.get_entry(name)
            if entry is not None and int(entry.value["seq"]) > snapshot.seq:
                raise _concurrent_writer(
                    snapshot.seq, self, f"a newer snapshot (#{entry.value['seq']}) is stored"
                )
            version = 0 if entry is None else int(entry.version)
            if await self._storage.compare_and_set(name, snapshot.to_json(), version=version):
                break
        cursor: str | None = None
        stale: list[str] = []
        while True:
            page = await self._storage.scan(f"{self._prefix}log/", limit=500, cursor=cursor)
            for key, value in page.items:
                if int(value["seq"]) <= snapshot.seq:
                    stale.append(key)
            cursor = page.cursor
            if cursor is None:
                break
        delete_many = getattr(self._storage, "delete_many", None)
        if delete_many is not None:
            for start in range(0, len(stale), 500):
                await delete_many(stale[start : start + 500])
        else:
            for key in stale:
                await self._storage.delete(key)

    def __repr__(self) -> str:
        return f"StorageStateStore({self._storage!r}, prefix={self._prefix!r})"
