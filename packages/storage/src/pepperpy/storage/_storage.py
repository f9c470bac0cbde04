"""``Storage``: the async key-value and collection API over a pluggable backend."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pepperpy.core.exceptions import (
    InvalidArgumentError,
    PepperPyError,
    StartupError,
)
from pepperpy.core.types import Clock, Lifecycle, LifecycleState, system_clock
from pepperpy.core.utils import parse_duration
from pepperpy.io import atomic_open, read_bytes
from pepperpy.storage._backend import Backend, load_backend
from pepperpy.storage._codec import MAX_KEY_LENGTH, Codec, check_key, check_prefix
from pepperpy.storage._errors import StorageValueError, VersionConflictError, opened_read_only
from pepperpy.storage._model import (
    Check,
    Delete,
    Entry,
    Incr,
    Page,
    Put,
    Record,
    Txn,
    WriteOp,
    apply_op,
)

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["DATA_DIR_ENV", "Collection", "Storage", "Transaction", "default_data_dir"]

T = TypeVar("T")
R = TypeVar("R")

DATA_DIR_ENV = "PEPPERPY_DATA_DIR"
"""The environment variable naming the default data directory."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_MAX_SCAN = 10_000
_IO_BATCH = 500

_log = logging.getLogger("pepperpy.storage")

TTL = float | int | str | timedelta | None


def default_data_dir() -> Path:
    """``$PEPPERPY_DATA_DIR`` if set, else ``./data`` (relative to the working directory)."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data")


def _raise_if_error(result: Any) -> Any:
    if isinstance(result, BaseException):
        raise result
    return result


class Storage(Lifecycle):
    """An async key-value store with typed collections, over a pluggable backend.

    Create one with :meth:`create` (SQLite under the data directory by
    default) or pass a :class:`Backend`. The store starts on first use;
    ``async with``/``start()``/``stop()`` control it explicitly::

        storage = Storage.create("app")                 # ./data/app.sqlite3
        await storage.put("user/1", {"name": "Ada"}, ttl="1h")
        entry = await storage.get_entry("user/1")        # value + version
        await storage.put("user/1", {"name": "Ada L."}, version=entry.version)

    Keys are non-empty strings (at most ``max_key_length`` characters, no NUL).
    Values are JSON-like data or attrs instances, serialized with
    :mod:`pepperpy.serialization` (never pickle). Every write is atomic and
    returns only once committed.

    Args:
        backend: Where the data lives.
        name: The store's name (for errors and reprs).
        format: The serialization format: ``"json"`` (default) or ``"msgpack"``.
        clock: Time source for TTLs.
        default_ttl: TTL applied when a write gives none (``None`` = keep forever).
        purge_interval: Seconds between background sweeps deleting expired
            keys (expired keys are invisible at once either way); ``None`` to
            disable.
        max_key_length: The longest key accepted.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        name: str = "data",
        format: str = "json",
        clock: Clock = system_clock,
        default_ttl: TTL = None,
        purge_interval: float | None = 60.0,
        max_key_length: int = MAX_KEY_LENGTH,
    ) -> None:
        if not isinstance(backend, Backend):
            raise InvalidArgumentError(
                f"backend must be a pepperpy.storage.Backend, not {type(backend).__name__}",
                context={"backend": repr(backend)},
                hint="Use Storage.create(name, backend='sqlite'|'memory'|'filesystem').",
            )
        if format != "json":
            from pepperpy.serialization import get_format

            try:
                get_format(format)
            except PepperPyError as exc:
                raise InvalidArgumentError(
                    f"unknown or unavailable serialization format {format!r}",
                    context={"format": format},
                    hint="Use 'json' (default), or install the extra providing the format.",
                ) from exc
        self.backend = backend
        self.name = name
        self.format = format
        self.clock = clock
        self.default_ttl = self._ttl_seconds(default_ttl)
        self.purge_interval = purge_interval
        self.max_key_length = max_key_length
        self._codec = Codec(format)
        self._purger: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped_by_user = False

    @classmethod
    def create(
        cls,
        name: str = "data",
        *,
        data_dir: str | os.PathLike[str] | None = None,
        backend: str | Backend | type[Backend] = "sqlite",
        format: str = "json",
        clock: Clock = system_clock,
        default_ttl: TTL = None,
        purge_interval: float | None = 60.0,
        **options: Any,
    ) -> Storage:
        """Create a named store; nothing is opened until first use.

        Args:
            name: Letters, digits, ``_ . -``; the SQLite file is
                ``<data_dir>/<name>.sqlite3``.
            data_dir: Defaults to ``$PEPPERPY_DATA_DIR`` or ``./data``.
            backend: ``"sqlite"`` (default), ``"memory"``, ``"filesystem"``, a
                name registered under the ``pepperpy.storage.backends`` entry
                point group, a :class:`Backend` class or instance.
            format: The serialization format (``"json"`` or ``"msgpack"``).
            clock: Time source for TTLs.
            default_ttl: TTL for writes that give none.
            purge_interval: Seconds between sweeps of expired keys (``None``: never).
            options: Passed to the backend (e.g. ``synchronous="full"``).
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidArgumentError(
                f"invalid store name {name!r}",
                context={"name": repr(name)},
                hint="Use 1-100 letters, digits, '_', '.' or '-', starting with a letter or "
                "digit (no path separators; use data_dir= for the location).",
            )
        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        if isinstance(backend, Backend):
            instance = backend
        else:
            cls_ = load_backend(backend) if isinstance(backend, str) else backend
            try:
                instance = cls_.from_options(name=name, data_dir=directory, **options)
            except TypeError as exc:
                if not options:
                    raise
                raise InvalidArgumentError(
                    f"the {cls_.name!r} storage backend does not accept the options "
                    f"{sorted(options)}: {exc}",
                    context={"backend": cls_.name, "options": sorted(options)},
                    hint="Check the backend's options (read_only= is for sqlite and "
                    "filesystem; dsn= for postgres).",
                ) from exc
        return cls(
            instance,
            name=name,
            format=format,
            clock=clock,
            default_ttl=default_ttl,
            purge_interval=purge_interval,
        )

    def __repr__(self) -> str:
        return (
            f"Storage(name={self.name!r}, backend={self.backend.name!r}, "
            f"location={self.backend.location!r}, state={self.state.value!r})"
        )

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Open the backend; a failure raises the backend's own clear error.

        Raises:
            StorageError: The database cannot be opened (read-only, corrupted ...).
        """
        self._stopped_by_user = False
        try:
            await super().start()
        except StartupError as exc:
            cause = exc.__cause__
            if isinstance(cause, PepperPyError):
                raise cause  # noqa: B904 - the cause is the clear error; keep its chain
            raise

    async def stop(self) -> None:
        """Flush and close the backend; later calls raise ``ClosedError`` until started again."""
        self._stopped_by_user = True
        await super().stop()

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only (``read_only=True``): reads only."""
        return self.backend.read_only

    async def _on_start(self) -> None:
        await self.backend.open()
        self._loop = asyncio.get_running_loop()
        if self.purge_interval and not self.backend.read_only:
            self._purger = asyncio.ensure_future(self._purge_loop(self.purge_interval))

    async def _on_stop(self) -> None:
        purger, self._purger = self._purger, None
        if purger is not None and purger.get_loop() is asyncio.get_running_loop():
            purger.cancel()
            try:
                await purger
            except asyncio.CancelledError:
                pass
        await self.backend.close()

    async def _purge_loop(self, interval: float) -> None:
        while True:
            await self.clock.sleep(interval)
            try:
                await self.backend.purge_expired(self.clock.time())
            except Exception as exc:  # keep sweeping; reads filter expired keys anyway
                _log.warning("storage %r: purging expired keys failed: %s", self.name, exc)

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Used from a new event loop (asyncio.run twice): the old purge task died
            # with its loop; start it again here.
            self._loop = loop
            if self.purge_interval and not self.backend.read_only:
                self._purger = loop.create_task(self._purge_loop(self.purge_interval))

    async def _ready(self) -> None:
        state = self.state
        if state is LifecycleState.RUNNING:
            self._check_loop()
            return
        if (
            state is LifecycleState.NEW
            or state is LifecycleState.STARTING
            or (state is LifecycleState.STOPPED and not self._stopped_by_user)
        ):
            # First use, or the automatic start of an earlier call was cancelled or
            # failed: start (again). Only an explicit stop() keeps the store closed.
            await self.start()
            return
        self._ensure_running()

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _ttl_seconds(ttl: TTL) -> float | None:
        if ttl is None:
            return None
        try:
            seconds = parse_duration(ttl) if not isinstance(ttl, bool) else -1.0
        except (PepperPyError, TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"invalid ttl {ttl!r}",
                context={"ttl": repr(ttl)},
                hint="Pass seconds (30), a duration string ('1h30m') or a timedelta.",
            ) from exc
        if seconds <= 0:
            raise InvalidArgumentError(
                f"ttl must be positive, got {ttl!r}",
                context={"ttl": repr(ttl)},
                hint="Pass a positive duration, or None to keep the key forever.",
            )
        return seconds

    def _expires_at(self, ttl: TTL) -> float | None:
        seconds = self._ttl_seconds(ttl) if ttl is not None else self.default_ttl
        return None if seconds is None else self.clock.time() + seconds

    def _key(self, key: object) -> str:
        return check_key(key, self.max_key_length)

    @staticmethod
    def _version(version: object) -> int | None:
        if version is None:
            return None
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise InvalidArgumentError(
                f"version must be an int >= 0 or None, got {version!r}",
                context={"version": repr(version)},
                hint="Pass the version from get_entry() (0 = the key must not exist yet).",
            )
        return version

    def _check_writable(self, operation: str = "write") -> None:
        if self.backend.read_only:
            raise opened_read_only(self.backend.location, operation)

    async def _write_one(self, op: WriteOp) -> Any:
        self._check_writable()
        if self.state is not LifecycleState.RUNNING:
            await self._ready()
        else:
            self._check_loop()
        result = await self.backend.write_one(op, self.clock.time())
        if isinstance(result, BaseException):
            raise result
        return result

    async def _verify(self, checks: list[Put | Delete | Incr | Check]) -> None:
        """Commit a transaction that only read: its reads must still be current.

        Through the write path (atomic with other writers); on a read-only store,
        with one read of every key.
        """
        if not self.backend.read_only:
            await self._write_one(Txn(tuple(checks)))
            return
        await self._ready()
        rows = await self.backend.get_many([check.key for check in checks])
        now = self.clock.time()
        for check in checks:
            assert isinstance(check, Check)
            row = rows.get(check.key)
            actual = row.version if row is not None and row.alive(now) else 0
            if actual != check.expected:
                raise VersionConflictError(
                    f"key {check.key!r} is at version {actual}, not the expected {check.expected}",
                    context={"key": check.key, "expected": check.expected, "actual": actual},
                    hint="Someone else wrote it first: run the transaction again.",
                )

    async def _record(self, key: str) -> Record | None:
        await self._ready()
        rows = await self.backend.get_many([key])
        record = rows.get(key)
        if record is None or not record.alive(self.clock.time()):
            return None
        return record

    # ----------------------------------------------------------------- key-value API

    @overload
    async def get(self, key: str, default: Any = None, *, type: type[T]) -> T | Any: ...

    @overload
    async def get(self, key: str, default: Any = None, *, type: None = None) -> Any: ...

    async def get(self, key: str, default: Any = None, *, type: Any = None) -> Any:
        """Return the value stored at *key*, or *default* if it is missing or expired.

        Args:
            key: The key.
            default: Returned when the key is missing or expired.
            type: Structure the value into this type (an attrs class, ``list[int]`` ...).
        """
        record = await self._record(self._key(key))
        if record is None:
            return default
        return self._codec.decode(record.value, type, key)

    async def get_entry(self, key: str, *, type: Any = None) -> Entry[Any] | None:
        """Return the value with its version and expiry, or ``None`` if missing/expired."""
        record = await self._record(self._key(key))
        if record is None:
            return None
        value = self._codec.decode(record.value, type, key)
        return Entry(key, value, record.version, record.expires_at)

    async def exists(self, key: str) -> bool:
        """Whether *key* holds a live value."""
        return await self._record(self._key(key)) is not None

    async def put(
        self, key: str, value: Any, *, ttl: TTL = None, version: int | None = None
    ) -> int:
        """Store *value* at *key*; returns the key's new version once committed.

        Args:
            key: The key.
            value: JSON-like data or an attrs instance.
            ttl: Expire the key after this duration (seconds, ``"10m"``, timedelta).
            version: Only write if the key is at this version (0 = must not
                exist); otherwise raise :class:`VersionConflictError`.

        Raises:
            StorageKeyError: The key is unusable.
            StorageValueError: The value cannot be serialized (nothing is written).
            VersionConflictError: *version* did not match.
            StorageError: The backend failed (read-only, disk full ...).
        """
        key = check_key(key, self.max_key_length)
        data = self._codec.encode(value, key)
        expires = None if ttl is None and self.default_ttl is None else self._expires_at(ttl)
        op = Put(key, data, expires, None if version is None else self._version(version))
        return int(await self._write_one(op))

    async def set(self, key: str, value: Any, *, ttl: TTL = None) -> int:
        """Alias of :meth:`put` (dict-like naming)."""
        return await self.put(key, value, ttl=ttl)

    async def delete(self, key: str, *, version: int | None = None) -> bool:
        """Delete *key*; returns whether a live value existed.

        Raises:
            VersionConflictError: *version* was given and did not match.
        """
        key = self._key(key)
        return bool(await self._write_one(Delete(key, self._version(version))))

    async def compare_and_set(self, key: str, value: Any, *, version: int, ttl: TTL = None) -> bool:
        """Write *value* only if *key* is at *version* (0 = absent); ``False`` on mismatch."""
        if version is None:
            raise InvalidArgumentError(
                "compare_and_set needs a version",
                hint="Pass version=entry.version, or version=0 for 'only if absent'.",
            )
        try:
            await self.put(key, value, ttl=ttl, version=version)
        except VersionConflictError:
            return False
        return True

    async def incr(self, key: str, amount: int = 1, *, ttl: TTL = None) -> int:
        """Atomically add *amount* to the integer at *key* (missing = 0); return the result.

        An existing TTL is kept unless *ttl* is given.

        Raises:
            StorageValueError: The key holds something other than an integer.
        """
        key = self._key(key)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidArgumentError(
                f"amount must be an int, got {type(amount).__name__}",
                context={"key": key, "amount": repr(amount)},
                hint="Counters hold integers; pass e.g. amount=1.",
            )
        expires = self._expires_at(ttl) if ttl is not None else None
        op = Incr(key, amount, expires, self._codec.decode, self._codec.encode)
        return int(await self._write_one(op))

    async def decr(self, key: str, amount: int = 1, *, ttl: TTL = None) -> int:
        """Atomically subtract *amount* (see :meth:`incr`)."""
        return await self.incr(key, -amount, ttl=ttl)

    async def get_many(self, keys: Iterable[str], *, type: Any = None) -> dict[str, Any]:
        """Return ``{key: value}`` for the keys that exist (missing and expired left out)."""
        wanted = [self._key(key) for key in keys]
        if not wanted:
            return {}
        await self._ready()
        rows = await self.backend.get_many(wanted)
        now = self.clock.time()
        return {
            key: self._codec.decode(rows[key].value, type, key)
            for key in wanted
            if key in rows and rows[key].alive(now)
        }

    async def put_many(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]],
        *,
        ttl: TTL = None,
    ) -> list[int]:
        """Store several values atomically (all or none); returns their new versions.

        Every key and value is validated before anything is written.
        """
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        expires = self._expires_at(ttl)
        ops: list[Put | Delete | Incr | Check] = []
        for pair in pairs:
            key, value = pair
            key = self._key(key)
            ops.append(Put(key, self._codec.encode(value, key), expires))
        if not ops:
            return []
        return [int(v) for v in await self._write_one(Txn(tuple(ops)))]

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Delete several keys atomically; returns how many existed."""
        ops: list[Put | Delete | Incr | Check] = [Delete(self._key(key)) for key in keys]
        if not ops:
            return 0
        return sum(1 for existed in await self._write_one(Txn(tuple(ops))) if existed)

    # ----------------------------------------------------------------- scans

    async def scan(
        self,
        prefix: str = "",
        *,
        limit: int = 100,
        cursor: str | None = None,
        type: Any = None,
    ) -> Page[Any]:
        """Return one page of live keys starting with *prefix*, in key order.

        Pass the returned ``page.cursor`` to get the next page; it is ``None``
        on the last page. Pagination is stable under concurrent writes (the
        cursor is the last key seen).
        """
        prefix = check_prefix(prefix)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_SCAN:
            raise InvalidArgumentError(
                f"limit must be an int between 1 and {_MAX_SCAN}, got {limit!r}",
                context={"limit": repr(limit)},
                hint="Page through large ranges with the returned cursor.",
            )
        if cursor is not None:
            cursor = check_prefix(cursor, "cursor")
        await self._ready()
        records = await self.backend.scan(
            prefix, after=cursor, limit=limit + 1, now=self.clock.time()
        )
        more = len(records) > limit
        records = records[:limit]
        items = [(r.key, self._codec.decode(r.value, type, r.key)) for r in records]
        return Page(items, records[-1].key if more and records else None)

    async def items(
        self, prefix: str = "", *, batch_size: int = _IO_BATCH, type: Any = None
    ) -> AsyncIterator[tuple[str, Any]]:
        """Iterate over every live ``(key, value)`` with *prefix*, page by page."""
        cursor: str | None = None
        while True:
            page = await self.scan(prefix, limit=batch_size, cursor=cursor, type=type)
            for item in page.items:
                yield item
            if page.cursor is None:
                return
            cursor = page.cursor

    async def keys(self, prefix: str = "") -> list[str]:
        """Every live key with *prefix* (use :meth:`items`/:meth:`scan` for big ranges)."""
        return [key async for key, _ in self.items(prefix)]

    async def count(self, prefix: str = "") -> int:
        """How many live keys start with *prefix*."""
        prefix = check_prefix(prefix)
        await self._ready()
        return await self.backend.count(prefix, self.clock.time())

    async def clear(self, prefix: str = "") -> int:
        """Delete every key starting with *prefix* (everything by default); returns the count."""
        removed = 0
        while True:
            page = await self.scan(prefix, limit=_IO_BATCH)
            if not page.items:
                return removed
            removed += await self.delete_many(page.keys())

    async def purge_expired(self) -> int:
        """Delete expired keys now (they are already invisible); returns how many."""
        self._check_writable("purge expired keys")
        await self._ready()
        return await self.backend.purge_expired(self.clock.time())

    def stats(self) -> dict[str, Any]:
        """Counters for monitoring: the store's name, backend, state and backend figures.

        For SQLite: ``batches`` (write transactions committed), ``operations``
        (writes in them; ``operations / batches`` is the group-commit factor),
        ``pending`` (queued writes), ``cache_hits`` and ``cache_size``.
        """
        return {
            "name": self.name,
            "backend": self.backend.name,
            "location": self.backend.location,
            "state": self.state.value,
            **self.backend.stats(),
        }

    # ----------------------------------------------------------------- transactions

    def transaction(self) -> Transaction:
        """Start an optimistic transaction (``async with storage.transaction() as tx``).

        Reads inside it are tracked and see the transaction's own staged
        writes (``put``, ``delete``, ``incr``); writes are buffered and
        committed at the end of the block, atomically, only if none of the
        keys read changed meanwhile, a delete and re-create included (else
        :class:`VersionConflictError`, and nothing is written). An exception
        in the block discards the writes.
        """
        return Transaction(self)

    async def transact(self, fn: Callable[[Transaction], Awaitable[R]], *, attempts: int = 5) -> R:
        """Run ``await fn(tx)`` in a transaction, retrying on conflicts up to *attempts* times."""
        if attempts < 1:
            raise InvalidArgumentError(
                "attempts must be >= 1", context={"attempts": attempts}, hint="Pass attempts=5."
            )
        for attempt in range(1, attempts + 1):
            tx = Transaction(self)
            result = await fn(tx)
            try:
                await tx.commit()
            except VersionConflictError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0)
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    # ----------------------------------------------------------------- collections

    def collection(self, name: str, type_: type[T], *, key_field: str = "id") -> Collection[T]:
        """A typed view of the keys ``<name>/<id>`` whose values are *type_* instances."""
        return Collection(self, name, type_, key_field=key_field)

    async def save(self, record: Any, *, key: str | None = None, ttl: TTL = None) -> str:
        """Store *record* and return its key: a pipeline step (``.add_step(storage.save)``).

        Without *key*, the key is ``<kind>/<id>``: ``id`` comes from the
        record's ``id`` item or attribute (a new UUID when it has none) and
        ``kind`` is ``records`` for mappings or the lower-cased class name.
        """
        if key is None:
            if isinstance(record, Mapping):
                ident = record.get("id")
                kind = "records"
            else:
                ident = getattr(record, "id", None)
                kind = type(record).__name__.lower()
            key = f"{kind}/{ident if ident is not None else uuid.uuid4().hex}"
        await self.put(key, record, ttl=ttl)
        return key

    # ----------------------------------------------------------------- backup

    async def export_jsonl(self, path: str | os.PathLike[str], *, prefix: str = "") -> int:
        """Write every live key with *prefix* to *path* as JSON lines; returns the count.

        Each line is ``{"key": ..., "value": ..., "expires_at": ...}``. Pages
        are streamed to a temporary file that replaces *path* only when the
        export is complete (memory stays bounded, a failed export leaves the
        previous backup intact).
        """
        prefix = check_prefix(prefix)
        await self._ready()
        count = 0
        async with atomic_open(path, "wb") as out:
            cursor: str | None = None
            while True:
                records = await self.backend.scan(
                    prefix, after=cursor, limit=_IO_BATCH, now=self.clock.time()
                )
                if not records:
                    break
                lines = [
                    json.dumps(
                        {
                            "key": r.key,
                            "value": self._codec.decode(r.value, None, r.key),
                            "expires_at": r.expires_at,
                        },
                        ensure_ascii=False,
                    )
                    for r in records
                ]
                await out.write(("\n".join(lines) + "\n").encode("utf-8"))
                count += len(records)
                cursor = records[-1].key
        return count

    async def import_jsonl(self, path: str | os.PathLike[str]) -> int:
        """Load a file written by :meth:`export_jsonl`; returns how many keys were written.

        Existing keys are overwritten; already-expired entries are skipped.
        Every line is validated before anything is written.

        Raises:
            StorageValueError: A line is malformed (its number is given).
        """
        data = await read_bytes(path)
        now = self.clock.time()
        ops: list[Put | Delete | Incr | Check] = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key = self._key(item["key"])
                expires = item.get("expires_at")
                if expires is not None and not isinstance(expires, (int, float)):
                    raise TypeError("expires_at must be a number or null")
            except (ValueError, KeyError, TypeError, PepperPyError) as exc:
                raise StorageValueError(
                    f"line {number} of {os.fspath(path)!r} is not a valid export entry: {exc}",
                    context={"path": os.fspath(path), "line": number},
                    hint='Each line must be {"key": str, "value": ..., "expires_at": '
                    "number|null} as written by export_jsonl.",
                ) from exc
            if expires is not None and expires <= now:
                continue
            ops.append(Put(key, self._codec.encode(item.get("value"), key), expires))
        for start in range(0, len(ops), _IO_BATCH):
            await self._write_one(Txn(tuple(ops[start : start + _IO_BATCH])))
        return len(ops)

    export = export_jsonl
    import_ = import_jsonl


class _OneRow:
    """:class:`RowAccess` over one key's row, to replay a transaction's staged writes."""

    __slots__ = ("row",)

    def __init__(self, row: Record | None) -> None:
        self.row = row

    def read(self, key: str) -> Record | None:
        return self.row

    def write(self, record: Record) -> None:
        self.row = record

    def remove(self, key: str) -> None:
        self.row = None

    def next_version(self) -> int:
        return 0  # the real version is given at commit; reads inside the tx never show it


class Transaction:
    """An optimistic multi-key transaction; see :meth:`Storage.transaction`.

    Reads are repeatable (a key is fetched once, then served from the
    transaction) and see the transaction's own staged writes: ``get`` after
    ``put``, ``delete`` or ``incr`` returns what the commit would store.
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._reads: dict[str, Record | None] = {}
        self._ops: list[Put | Delete | Incr] = []
        self._done = False

    def _check_open(self) -> None:
        if self._done:
            raise InvalidArgumentError(
                "this transaction is already committed or discarded",
                hint="Start a new one with storage.transaction().",
            )

    async def _read(self, key: str) -> Record | None:
        if key in self._reads:
            return self._reads[key]
        record = await self._storage._record(key)
        return self._reads.setdefault(key, record)

    async def get(self, key: str, default: Any = None, *, type: Any = None) -> Any:
        """Read *key* as this transaction sees it: its own staged writes applied.

        The stored value is read once and its version checked at commit.

        Raises:
            StorageValueError: A staged ``incr`` meets a value that is not an integer.
        """
        self._check_open()
        storage = self._storage
        key = storage._key(key)
        staged = [op for op in self._ops if op.key == key]
        if staged and not isinstance(staged[0], Incr):
            row = None  # overwritten by this transaction: the stored value does not matter
        else:
            row = await self._read(key)
        now = storage.clock.time()
        if staged:
            rows = _OneRow(row)
            for op in staged:
                apply_op(op, rows, now)
            row = rows.row
        if row is None or not row.alive(now):
            return default
        return storage._codec.decode(row.value, type, key)

    def put(self, key: str, value: Any, *, ttl: TTL = None) -> None:
        """Stage a write (validated now, applied at commit)."""
        self._check_open()
        key = self._storage._key(key)
        data = self._storage._codec.encode(value, key)
        self._ops.append(Put(key, data, self._storage._expires_at(ttl)))

    def delete(self, key: str) -> None:
        """Stage a delete."""
        self._check_open()
        self._ops.append(Delete(self._storage._key(key)))

    def incr(self, key: str, amount: int = 1) -> None:
        """Stage a counter increment (applied at commit; ``get`` shows its result now)."""
        self._check_open()
        key = self._storage._key(key)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidArgumentError(
                f"amount must be an int, got {type(amount).__name__}",
                context={"key": key, "amount": repr(amount)},
                hint="Counters hold integers; pass e.g. amount=1.",
            )
        codec = self._storage._codec
        self._ops.append(Incr(key, amount, None, codec.decode, codec.encode))

    async def commit(self) -> list[Any]:
        """Apply the staged writes atomically if nothing read has changed; return their results.

        Raises:
            VersionConflictError: A key read (or written) here was changed by
                someone else first; nothing was written.
        """
        self._check_open()
        self._done = True
        checks: list[Put | Delete | Incr | Check] = [
            Check(key, 0 if record is None else record.version)
            for key, record in self._reads.items()
        ]
        if not self._ops:
            if checks:
                await self._storage._verify(checks)
            return []
        results = await self._storage._write_one(Txn((*checks, *self._ops)))
        return list(results[len(checks) :])

    def discard(self) -> None:
        """Drop the staged writes."""
        self._done = True
        self._ops.clear()

    async def __aenter__(self) -> Transaction:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None and not self._done:
            await self.commit()
        elif not self._done:
            self.discard()


class Collection(Generic[T]):
    """Typed values under the key prefix ``<name>/``; see :meth:`Storage.collection`.

    ::

        users = storage.collection("users", User)
        await users.save(User(id="ada", name="Ada"))    # key "users/ada"
        ada = await users.get("ada")                    # -> User
        page = await users.scan(limit=50)               # Page[User], keys without prefix
    """

    def __init__(
        self, storage: Storage, name: str, type_: type[T], *, key_field: str = "id"
    ) -> None:
        if not isinstance(name, str) or not name or "/" in name:
            raise InvalidArgumentError(
                f"invalid collection name {name!r}",
                context={"name": repr(name)},
                hint="Use a non-empty name without '/', such as 'users'.",
            )
        self.storage = storage
        self.name = name
        self.type = type_
        self.key_field = key_field
        self.prefix = f"{name}/"

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, {getattr(self.type, '__name__', self.type)!r})"

    def _key(self, ident: object) -> str:
        if isinstance(ident, bool) or not isinstance(ident, (str, int)):
            raise InvalidArgumentError(
                f"a collection id must be a str or int, not {type(ident).__name__}",
                context={"collection": self.name, "id": repr(ident)},
                hint="Use the record's identifier, e.g. a string or an integer.",
            )
        return f"{self.prefix}{ident}"

    def _ident_of(self, obj: T) -> str | int:
        ident = getattr(obj, self.key_field, None)
        if ident is None:
            raise InvalidArgumentError(
                f"{type(obj).__name__} has no {self.key_field!r} to use as its id",
                context={"collection": self.name, "key_field": self.key_field},
                hint="Give the record that attribute, pass key_field= to collection(), or use "
                "put(id, obj).",
            )
        if isinstance(ident, bool) or not isinstance(ident, (str, int)):
            raise InvalidArgumentError(
                f"{type(obj).__name__}.{self.key_field} must be a str or int",
                context={"collection": self.name, "id": repr(ident)},
                hint="Use a string or integer identifier.",
            )
        return ident

    async def get(self, ident: str | int) -> T | None:
        """Return the record with *ident*, or ``None``."""
        value: T | None = await self.storage.get(self._key(ident), type=self.type)
        return value

    async def get_entry(self, ident: str | int) -> Entry[T] | None:
        """Return the record with its version, or ``None``."""
        return await self.storage.get_entry(self._key(ident), type=self.type)

    async def put(
        self, ident: str | int, obj: T, *, ttl: TTL = None, version: int | None = None
    ) -> int:
        """Store *obj* under *ident*; returns the new version."""
        key = self._key(ident)
        self.storage._codec.check_type(obj, self.type, key)
        return await self.storage.put(key, obj, ttl=ttl, version=version)

    async def save(self, obj: T, *, ttl: TTL = None) -> str | int:
        """Store *obj* under its own id (the ``key_field`` attribute); returns the id."""
        ident = self._ident_of(obj)
        await self.put(ident, obj, ttl=ttl)
        return ident

    async def delete(self, ident: str | int, *, version: int | None = None) -> bool:
        """Delete the record with *ident*; returns whether it existed."""
        return await self.storage.delete(self._key(ident), version=version)

    async def compare_and_set(self, ident: str | int, obj: T, *, version: int) -> bool:
        """Store *obj* only if the record is at *version* (0 = absent)."""
        key = self._key(ident)
        self.storage._codec.check_type(obj, self.type, key)
        return await self.storage.compare_and_set(key, obj, version=version)

    async def get_many(self, idents: Iterable[str | int]) -> dict[str, T]:
        """Return ``{id: record}`` for the ids that exist."""
        found = await self.storage.get_many([self._key(i) for i in idents], type=self.type)
        return {key[len(self.prefix) :]: value for key, value in found.items()}

    async def scan(self, *, limit: int = 100, cursor: str | None = None) -> Page[T]:
        """One page of records in id order (ids without the collection prefix)."""
        page = await self.storage.scan(self.prefix, limit=limit, cursor=cursor, type=self.type)
        items = [(key[len(self.prefix) :], value) for key, value in page.items]
        return Page(items, page.cursor)

    async def all(self) -> list[T]:
        """Every record (use :meth:`items` or :meth:`scan` for big collections)."""
        return [value async for _, value in self.items()]

    async def items(self) -> AsyncIterator[tuple[str, T]]:
        """Iterate over ``(id, record)`` pairs in id order."""
        async for key, value in self.storage.items(self.prefix, type=self.type):
            yield key[len(self.prefix) :], value

    async def count(self) -> int:
        """How many records the collection holds."""
        return await self.storage.count(self.prefix)

    async def clear(self) -> int:
        """Delete every record of the collection."""
        return await self.storage.clear(self.prefix)
