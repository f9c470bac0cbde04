"""The in-memory backend: a dict and a sorted key index, for tests and caches."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pepperpy.core.exceptions import PepperPyError
from pepperpy.storage._backend import Backend
from pepperpy.storage._model import Record, WriteOp, apply_op

__all__ = ["MemoryBackend"]


_SURROGATES = range(0xD800, 0xE000)


def prefix_end(prefix: str) -> str | None:
    """The smallest valid string greater than every string starting with *prefix*.

    The next code point after U+D7FF is U+E000: the surrogates U+D800..U+DFFF
    cannot be encoded (SQLite and PostgreSQL refuse them) and no key contains
    them, so the range end skips them. A last character of U+10FFFF carries over
    to the one before it; ``None`` means "no upper bound" (the prefix is empty
    or all U+10FFFF). *prefix* must not contain surrogates itself.
    """
    while prefix:
        following = ord(prefix[-1]) + 1
        if following in _SURROGATES:
            following = _SURROGATES.stop
        if following <= 0x10FFFF:
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


class _DictRows:
    def __init__(self, backend: MemoryBackend) -> None:
        self.backend = backend

    def read(self, key: str) -> Record | None:
        return self.backend._rows.get(key)

    def write(self, record: Record) -> None:
        rows = self.backend._rows
        if record.key not in rows:
            self.backend._sorted = None
        rows[record.key] = record

    def remove(self, key: str) -> None:
        if self.backend._rows.pop(key, None) is not None:
            self.backend._sorted = None

    def next_version(self) -> int:
        self.backend._revision += 1
        return self.backend._revision


class MemoryBackend(Backend):
    """Keeps everything in the process; lost on exit. Every operation is atomic.

    Versions come from one revision counter for the whole store (it survives
    deletes, purges and ``stop()``/``start()``), so a version never repeats.

    Writes run synchronously on the event loop (they are dict updates), so a
    transaction is isolated from every other task without locks.
    """

    name: ClassVar[str] = "memory"

    def __init__(self) -> None:
        self._rows: dict[str, Record] = {}
        self._sorted: list[str] | None = []
        self._revision = 0

    @property
    def _keys(self) -> list[str]:
        """The keys in order; re-sorted lazily after keys were added or removed."""
        keys = self._sorted
        if keys is None:
            keys = self._sorted = sorted(self._rows)
        return keys

    @classmethod
    def from_options(cls, *, name: str, data_dir: Path, **options: Any) -> MemoryBackend:
        """Build an empty in-memory store (*name* and *data_dir* are unused)."""
        return cls(**options)

    @property
    def location(self) -> str:
        """``"memory"``."""
        return "memory"

    def stats(self) -> dict[str, Any]:
        """How many rows are held (expired ones included until purged)."""
        return {"rows": len(self._rows)}

    async def open(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to release; the data stays until the object is dropped."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, Record]:
        """Look the keys up in the dict."""
        rows = self._rows
        return {key: rows[key] for key in keys if key in rows}

    async def write(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        """Apply each operation; a failing one leaves the store unchanged."""
        access = _DictRows(self)
        results: list[Any] = []
        for op in ops:
            try:
                results.append(apply_op(op, access, now))
            except PepperPyError as exc:
                results.append(exc)
        return results

    async def scan(self, prefix: str, *, after: str | None, limit: int, now: float) -> list[Record]:
        """Walk the sorted key index from *prefix* (or after *after*)."""
        keys = self._keys
        start = prefix if after is None or after < prefix else after
        index = (
            bisect.bisect_right(keys, start)
            if after is not None and start == after
            else (bisect.bisect_left(keys, start))
        )
        out: list[Record] = []
        while index < len(keys) and len(out) < limit:
            key = keys[index]
            if not key.startswith(prefix):
                break
            record = self._rows[key]
            if record.alive(now):
                out.append(record)
            index += 1
        return out

    async def count(self, prefix: str, now: float) -> int:
        """Count live keys with the prefix."""
        keys = self._keys
        index = bisect.bisect_left(keys, prefix)
        total = 0
        while index < len(keys) and keys[index].startswith(prefix):
            if self._rows[keys[index]].alive(now):
                total += 1
            index += 1
        return total

    async def purge_expired(self, now: float) -> int:
        """Drop expired rows."""
        access = _DictRows(self)
        dead = [key for key, record in self._rows.items() if not record.alive(now)]
        for key in dead:
            access.remove(key)
        return len(dead)
