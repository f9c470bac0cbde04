"""The backend-neutral data model: records, write operations and their semantics.

Every backend stores :class:`Record` rows and applies :class:`WriteOp` values
through :func:`apply_op`, so versions, expiry, compare-and-set, counters and
transactions behave identically everywhere; a backend only provides row access
(:class:`RowAccess`) and its own atomicity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from pepperpy.storage._errors import StorageValueError, VersionConflictError

__all__ = [
    "Check",
    "Delete",
    "Entry",
    "Incr",
    "Page",
    "Put",
    "Record",
    "RowAccess",
    "Txn",
    "WriteOp",
    "apply_op",
    "versions_needed",
]

T = TypeVar("T")


@attrs.frozen(slots=True)
class Record:
    """One stored row: serialized *value*, its *version* and optional expiry time."""

    key: str
    value: bytes
    version: int
    expires_at: float | None = None

    def alive(self, now: float) -> bool:
        """Whether the record has not expired at *now*."""
        return self.expires_at is None or self.expires_at > now


@attrs.frozen(slots=True)
class Entry(Generic[T]):
    """A decoded value with its metadata, as returned by :meth:`Storage.get_entry`.

    Attributes:
        key: The key.
        value: The decoded value.
        version: The store-wide revision of the key's last write: greater than
            every version the store handed out before, so a version is never
            seen twice for a key, even after a delete and re-create or a purge
            (no ABA). Pass it to ``put(..., version=)`` or
            :meth:`Storage.compare_and_set`.
        expires_at: Wall-clock expiry time (seconds since the epoch), or ``None``.
    """

    key: str
    value: T
    version: int
    expires_at: float | None = None


@attrs.frozen(slots=True)
class Page(Generic[T]):
    """One page of a prefix scan.

    Attributes:
        items: ``(key, value)`` pairs in key order.
        cursor: Pass it as ``cursor=`` to get the next page; ``None`` on the last page.
    """

    items: list[tuple[str, T]]
    cursor: str | None

    def keys(self) -> list[str]:
        """The keys of this page."""
        return [key for key, _ in self.items]

    def values(self) -> list[T]:
        """The values of this page."""
        return [value for _, value in self.items]

    def __len__(self) -> int:
        return len(self.items)


# --------------------------------------------------------------------------- operations


@attrs.frozen(slots=True)
class Put:
    """Write *value*; with *expected* (0 = must not exist) only if the version matches."""

    key: str
    value: bytes
    expires_at: float | None = None
    expected: int | None = None


@attrs.frozen(slots=True)
class Delete:
    """Remove the key; with *expected*, only if the version matches. Result: existed."""

    key: str
    expected: int | None = None


@attrs.frozen(slots=True)
class Incr:
    """Add *amount* to the integer stored at the key (absent = 0). Result: the new value."""

    key: str
    amount: int
    expires_at: float | None
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]


@attrs.frozen(slots=True)
class Check:
    """Assert the key is at version *expected* (0 = absent); writes nothing."""

    key: str
    expected: int


@attrs.frozen(slots=True)
class Txn:
    """Apply *ops* all-or-nothing: every check passes first, then every write."""

    ops: tuple[Put | Delete | Incr | Check, ...]


WriteOp = Put | Delete | Incr | Check | Txn
"""Any operation a backend's write path accepts."""


class RowAccess(Protocol):
    """What :func:`apply_op` needs from a backend, inside its write transaction."""

    def read(self, key: str) -> Record | None:
        """Return the row for *key* (expired or not), or ``None``."""
        ...

    def write(self, record: Record) -> None:
        """Insert or replace the row."""
        ...

    def remove(self, key: str) -> None:
        """Delete the row if present."""
        ...

    def next_version(self) -> int:
        """A version greater than every version this store has handed out (a revision).

        Backends keep one counter per store (or per table) that survives
        deletes, purges and restarts, and advance it inside the write
        transaction, so a key's version never repeats (no ABA).
        """
        ...


def versions_needed(ops: Sequence[WriteOp]) -> int:
    """The most versions applying *ops* can take (for backends that reserve them up front)."""
    total = 0
    for op in ops:
        if isinstance(op, Txn):
            total += versions_needed(op.ops)
        elif isinstance(op, (Put, Incr)):
            total += 1
    return total


def _current_version(row: Record | None, now: float) -> int:
    return row.version if row is not None and row.alive(now) else 0


def _conflict(key: str, expected: int, actual: int) -> VersionConflictError:
    return VersionConflictError(
        f"key {key!r} is at version {actual}, not the expected {expected}",
        context={"key": key, "expected": expected, "actual": actual},
        hint="Someone else wrote it first: read it again (get_entry) and retry with the "
        "new version.",
    )


def _check(op: Put | Delete | Incr | Check, rows: RowAccess, now: float) -> Record | None:
    row = rows.read(op.key)
    expected = getattr(op, "expected", None)
    if expected is not None:
        actual = _current_version(row, now)
        if actual != expected:
            raise _conflict(op.key, expected, actual)
    return row


def _apply_single(
    op: Put | Delete | Incr | Check, row: Record | None, rows: RowAccess, now: float
) -> Any:
    if isinstance(op, Put):
        version = rows.next_version()
        rows.write(Record(op.key, op.value, version, op.expires_at))
        return version
    if isinstance(op, Delete):
        if row is None:
            return False
        rows.remove(op.key)
        return row.alive(now)
    if isinstance(op, Incr):
        current = 0
        expires_at = op.expires_at
        if row is not None and row.alive(now):
            current = op.decode(row.value)
            if expires_at is None:
                expires_at = row.expires_at
        if isinstance(current, bool) or not isinstance(current, int):
            raise StorageValueError(
                f"key {op.key!r} holds a {type(current).__name__}, not an integer counter",
                context={"key": op.key, "type": type(current).__name__},
                hint="Use incr() only on keys that hold integers (or do not exist yet).",
            )
        value = current + op.amount
        rows.write(Record(op.key, op.encode(value), rows.next_version(), expires_at))
        return value
    return None  # Check: nothing to write


class _Overlay:
    """Buffers a transaction's writes so they reach the backend only if all succeed."""

    def __init__(self, base: RowAccess) -> None:
        self.base = base
        self.changes: dict[str, Record | None] = {}

    def read(self, key: str) -> Record | None:
        if key in self.changes:
            return self.changes[key]
        return self.base.read(key)

    def write(self, record: Record) -> None:
        self.changes[record.key] = record

    def remove(self, key: str) -> None:
        self.changes[key] = None

    def next_version(self) -> int:
        return self.base.next_version()

    def flush(self) -> None:
        for key, record in self.changes.items():
            if record is None:
                self.base.remove(key)
            else:
                self.base.write(record)


def apply_op(op: WriteOp, rows: RowAccess, now: float) -> Any:
    """Apply *op* to *rows* at time *now* and return its result.

    Every condition is verified before anything is written, so an operation
    that raises (a version conflict, a bad counter) has changed nothing; a
    :class:`Txn` is staged in memory and reaches *rows* only when every one of
    its operations succeeded. Results: ``Put`` → new version, ``Delete`` →
    whether a live key existed, ``Incr`` → new counter value, ``Check`` →
    ``None``, ``Txn`` → the list of its results.
    """
    if isinstance(op, Txn):
        overlay = _Overlay(rows)
        results = [apply_op(inner, overlay, now) for inner in op.ops]
        overlay.flush()
        return results
    row = _check(op, rows, now)
    return _apply_single(op, row, rows, now)
