"""The default backend: SQLite in WAL mode, one group-committing writer, aiosqlite readers.

Write path
    Every write operation (from any task) is appended to a queue. One flusher
    task takes everything queued (up to ``max_batch``) and hands the whole
    batch to the single writer connection, which lives in its own thread:
    ``BEGIN IMMEDIATE``, apply each operation, ``COMMIT``, one thread hop and
    one commit (one WAL sync) for the batch. While a batch commits, new writes
    pile up and form the next batch, so throughput rises with concurrency
    instead of paying one commit per ``put``. Conditions (versions, counters)
    are checked before anything is written, so a failing operation gets its own
    error and the rest of its batch commits; if SQLite itself fails mid-batch,
    the batch is rolled back and replayed one operation per transaction so
    that every caller still gets its own result.

Read path
    A small set of aiosqlite connections (``query_only``). Concurrent ``get``
    calls issued in the same event loop tick are coalesced into one
    ``WHERE key IN (...)`` query.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import mmap
import os
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import quote

import aiosqlite

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError
from pepperpy.storage._backend import Backend
from pepperpy.storage._errors import (
    StorageError,
    from_os_error,
    from_sqlite_error,
    opened_read_only,
)
from pepperpy.storage._memory import prefix_end
from pepperpy.storage._model import Put, Record, WriteOp, apply_op

__all__ = ["SCHEMA_VERSION", "SQLiteBackend"]

T = TypeVar("T")

MIGRATIONS: list[tuple[int, tuple[str, ...]]] = [
    (
        1,
        (
            "CREATE TABLE IF NOT EXISTS kv ("
            " key TEXT PRIMARY KEY NOT NULL,"
            " value BLOB NOT NULL,"
            " version INTEGER NOT NULL,"
            " expires_at REAL"
            ") WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS kv_expires_at ON kv(expires_at) "
            "WHERE expires_at IS NOT NULL",
        ),
    ),
    (
        2,
        # The store-wide revision counter every version comes from (no ABA). A store
        # written by 0.1.0 starts it above every version it holds.
        (
            "INSERT OR REPLACE INTO pepperpy_meta (key, value) "
            "VALUES ('revision', (SELECT coalesce(max(version), 0) FROM kv))",
        ),
    ),
]
"""The backend's own schema, one entry per version, applied in order on open."""

SCHEMA_VERSION = MIGRATIONS[-1][0]
"""The schema version this release writes."""

_UPSERT = (
    "INSERT INTO kv (key, value, version, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, "
    "expires_at = excluded.expires_at"
)
_GET_REVISION = (
    "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM pepperpy_meta WHERE key = 'revision'),"
    " (SELECT max(version) FROM kv), 0)"
)
_SET_REVISION = "INSERT OR REPLACE INTO pepperpy_meta (key, value) VALUES ('revision', ?)"

_SYNC_MODES = {"off": "OFF", "normal": "NORMAL", "full": "FULL", "extra": "EXTRA"}
_IN_CHUNK = 500


def _set_result(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


class _Worker:
    """A thread owning one sqlite3 connection; runs submitted functions in order."""

    def __init__(self, name: str) -> None:
        self._queue: queue.SimpleQueue[
            tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop] | None
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, fut, loop = item
            try:
                result = fn()
            except BaseException as exc:
                with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                    loop.call_soon_threadsafe(_set_exception, fut, exc)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_set_result, fut, result)

    async def call(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, fut, loop))
        return await fut

    def stop(self) -> None:
        self._queue.put(None)


def _chained(error: StorageError, cause: BaseException) -> StorageError:
    error.__cause__ = cause
    return error


def _daemonize(connection: aiosqlite.Connection) -> None:
    """Let the interpreter exit even if the store was never stopped.

    aiosqlite's worker thread is not a daemon, so a forgotten ``stop()`` would
    make the process hang at exit. Committed data is already durable, so the
    reader threads can simply die with the process.
    """
    thread = getattr(connection, "_thread", connection)
    if isinstance(thread, threading.Thread) and not thread.is_alive():
        thread.daemon = True


def _plain_put(op: WriteOp) -> bool:
    return type(op) is Put and op.expected is None


class _WalWatch:
    """Reads the WAL-index header that SQLite keeps in the ``-shm`` file.

    Every commit by any connection in any process changes this 48-byte header
    (frame count, salts, checksums), and SQLite writes it to shared memory before
    the commit returns. Comparing it is a memory read, no system call, so the
    read cache can check "has anything been committed since?" on every hit.
    Two copies are kept by SQLite; a torn read (copies differ) counts as changed.
    """

    def __init__(self, path: str) -> None:
        self._file = open(path + "-shm", "rb")  # noqa: SIM115 - kept open while mapped
        try:
            self._map = mmap.mmap(self._file.fileno(), 96, access=mmap.ACCESS_READ)
        except BaseException:
            self._file.close()
            raise

    def stamp(self) -> bytes | None:
        data = self._map[:96]
        return data[:48] if data[:48] == data[48:] else None

    def close(self) -> None:
        self._map.close()
        self._file.close()


class _SQLRows:
    """:class:`RowAccess` over the writer connection (runs in the writer thread).

    *revision* is the store's revision read inside the write transaction; it is
    written back before ``COMMIT`` when versions were handed out.
    """

    __slots__ = ("conn", "revision")

    def __init__(self, conn: sqlite3.Connection, revision: int) -> None:
        self.conn = conn
        self.revision = revision

    def next_version(self) -> int:
        self.revision += 1
        return self.revision

    def read(self, key: str) -> Record | None:
        row = self.conn.execute(
            "SELECT value, version, expires_at FROM kv WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else Record(key, row[0], row[1], row[2])

    def write(self, record: Record) -> None:
        self.conn.execute(_UPSERT, (record.key, record.value, record.version, record.expires_at))

    def remove(self, key: str) -> None:
        self.conn.execute("DELETE FROM kv WHERE key = ?", (key,))


class SQLiteBackend(Backend):
    """SQLite storage: WAL journal, one group-committing writer, concurrent readers.

    Args:
        path: The database file (created with its directory when missing).
        readers: How many reader connections serve ``get``/``scan``.
        busy_timeout: Seconds a writer waits for another process's write lock.
        synchronous: ``"normal"`` (default; a committed write survives the
            process being killed, WAL syncs at checkpoints) or ``"full"`` (also
            survives power loss, one sync per committed batch).
        max_batch: The most operations committed in one transaction.
        read_only: Open the file for reading only (SQLite ``mode=ro``, no writer
            thread, nothing created or migrated): a store on a read-only
            directory or mount can be read; every write raises
            :class:`StorageError` ``pepperpy.storage.read_only``. When the
            directory is read-only and no ``-wal`` file is left, the file is
            opened ``immutable`` (nobody can write it there).
        read_cache: How many recently read rows to keep in memory (0 disables).
            A cached row is served only while no connection, in any process, has
            committed anything since it was read (checked through SQLite's
            shared WAL index on every hit), so the cache never serves stale data.
    """

    name: ClassVar[str] = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readers: int = 2,
        busy_timeout: float = 10.0,
        synchronous: str = "normal",
        max_batch: int = 512,
        read_cache: int = 1024,
        read_only: bool = False,
    ) -> None:
        if synchronous not in _SYNC_MODES:
            raise InvalidArgumentError(
                f"synchronous must be one of {sorted(_SYNC_MODES)}, not {synchronous!r}",
                context={"synchronous": synchronous},
                hint="Use 'normal' (crash-safe) or 'full' (power-loss safe).",
            )
        if readers < 1 or max_batch < 1 or busy_timeout < 0:
            raise InvalidArgumentError(
                "readers and max_batch must be >= 1 and busy_timeout >= 0",
                context={"readers": readers, "max_batch": max_batch, "busy_timeout": busy_timeout},
                hint="For example readers=2, max_batch=512, busy_timeout=10.",
            )
        self.path = os.fspath(path)
        self.readers = readers
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self.max_batch = max_batch
        self.read_cache = max(0, int(read_cache))
        self.read_only = bool(read_only)
        self._cache: OrderedDict[str, Record | None] = OrderedDict()
        self._cache_stamp: bytes | None = None
        self._wal: _WalWatch | None = None
        self._writer: _Worker | None = None
        self._conn: sqlite3.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader = 0
        self._pending: list[tuple[WriteOp, float, asyncio.Future[Any]]] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self._read_waiters: dict[str, asyncio.Future[Record | None]] = {}
        self._read_scheduled = False
        self._read_tasks: set[asyncio.Task[None]] = set()
        self.cache_hits = 0
        self.operations = 0
        """Reads served from the read cache (for stats and tests)."""
        self.batches = 0
        """How many write transactions were committed (for stats and tests)."""

    @classmethod
    def from_options(cls, *, name: str, data_dir: Path, **options: Any) -> SQLiteBackend:
        """Use ``<data_dir>/<name>.sqlite3``."""
        return cls(Path(data_dir) / f"{name}.sqlite3", **options)

    @property
    def location(self) -> str:
        """The database file path."""
        return self.path

    def __repr__(self) -> str:
        return f"SQLiteBackend({self.path!r})"

    def stats(self) -> dict[str, Any]:
        """Write batches committed, operations written, queued writes, read-cache figures."""
        return {
            "batches": self.batches,
            "operations": self.operations,
            "pending": len(self._pending),
            "cache_hits": self.cache_hits,
            "cache_size": len(self._cache),
            "readers": len(self._readers),
        }

    # ----------------------------------------------------------------- open / close

    def _open_writer(self) -> int:
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise from_os_error(exc, "create the data directory", directory) from exc
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise from_sqlite_error(exc, "open", self.path) from exc
        self._conn = conn
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                conn.execute(f"PRAGMA synchronous = {_SYNC_MODES[self.synchronous]}")
                conn.execute("PRAGMA schema_version").fetchone()
                self._migrate(conn)
                break
            except sqlite3.OperationalError as exc:
                # Processes opening a new file at once both switch it to WAL: SQLite
                # answers one of them SQLITE_BUSY at once, without waiting (a deadlock
                # otherwise). Try again until busy_timeout, as a busy wait would.
                if "locked" in str(exc) and time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                raise from_sqlite_error(exc, "open", self.path) from exc
            except sqlite3.Error as exc:
                raise from_sqlite_error(exc, "open", self.path) from exc
        return 1 if str(mode).lower() == "wal" else 0

    def _schema_version(self, conn: sqlite3.Connection) -> int:
        try:
            row = conn.execute(
                "SELECT value FROM pepperpy_meta WHERE key = 'schema_version'"
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return 0
            raise
        return int(row[0]) if row else 0

    def _newer_schema(self, version: int) -> StorageError:
        return StorageError(
            f"{self.path!r} uses storage schema {version}; this release knows up to "
            f"{SCHEMA_VERSION}",
            code="pepperpy.storage.schema",
            context={"path": self.path, "found": version, "supported": SCHEMA_VERSION},
            hint="Upgrade pepperpy-storage to open this database.",
            retryable=False,
        )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = self._schema_version(conn)
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise self._newer_schema(version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS pepperpy_meta "
                "(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID"
            )
            version = self._schema_version(conn)  # another process may have migrated
            for number, statements in MIGRATIONS:
                if number <= version:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO pepperpy_meta (key, value) "
                    "VALUES ('schema_version', ?)",
                    (str(number),),
                )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _reader_target(self) -> tuple[str, bool]:
        """What the readers connect to: the path, or a read-only URI (``mode=ro``)."""
        if not self.read_only:
            return self.path, False
        if not os.path.isfile(self.path):
            raise StorageError(
                f"cannot open {self.path!r} read-only: there is no store there",
                code="pepperpy.storage.unavailable",
                context={"operation": "open", "path": self.path},
                hint="read_only=True opens an existing store; check the name and data_dir, "
                "or open it without read_only=True once to create it.",
                retryable=False,
            )
        uri = "file:" + quote(os.path.abspath(self.path)) + "?mode=ro"
        directory = os.path.dirname(os.path.abspath(self.path))
        has_wal = os.path.exists(self.path + "-wal") and os.path.getsize(self.path + "-wal") > 0
        if (
            not os.path.exists(self.path + "-shm")
            and not has_wal
            and not os.access(directory, os.W_OK)
        ):
            # WAL mode needs a -shm file SQLite cannot create on a read-only directory; with
            # no -wal left nothing is pending and nobody can write there: read the file as is.
            uri += "&immutable=1"
        return uri, True

    async def _connect_reader(self, target: str, uri: bool) -> aiosqlite.Connection:
        try:
            pending = aiosqlite.connect(
                target, isolation_level=None, timeout=self.busy_timeout, uri=uri
            )
            _daemonize(pending)
            reader = await pending
        except sqlite3.Error as exc:
            raise from_sqlite_error(exc, "open a reader on", self.path) from exc
        try:
            await reader.execute("PRAGMA query_only = ON")
            if self.read_only and not self._readers:
                await self._check_schema(reader)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await reader.close()
            if isinstance(exc, sqlite3.Error):
                raise from_sqlite_error(exc, "open a reader on", self.path) from exc
            raise
        return reader

    async def _check_schema(self, reader: aiosqlite.Connection) -> None:
        """Read-only opens migrate nothing: the schema must be one this release reads."""
        try:
            rows = list(
                await reader.execute_fetchall(
                    "SELECT value FROM pepperpy_meta WHERE key = 'schema_version'"
                )
            )
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            rows = []
        version = int(rows[0][0]) if rows else 0
        if version > SCHEMA_VERSION:
            raise self._newer_schema(version)
        if version < 1:
            raise StorageError(
                f"cannot open {self.path!r} read-only: it holds no pepperpy store",
                code="pepperpy.storage.schema",
                context={"path": self.path, "found": version, "supported": SCHEMA_VERSION},
                hint="Check the path; a store is created by opening it without read_only=True.",
                retryable=False,
            )

    async def open(self) -> None:
        """Start the writer thread, set WAL mode, migrate the schema, open the readers.

        With ``read_only=True`` only the readers are opened (``mode=ro``).
        """
        self._closing = False
        if not self.read_only:
            self._writer = _Worker(f"pepperpy-storage-writer:{os.path.basename(self.path)}")
            await self._writer.call(self._open_writer)
        target, uri = self._reader_target()
        for _ in range(self.readers):
            self._readers.append(await self._connect_reader(target, uri))
        self._loop = asyncio.get_running_loop()
        if not self.read_only:
            self._wake = asyncio.Event()
            self._flusher = asyncio.ensure_future(self._flush_loop())
        if self.read_cache:
            try:
                self._wal = _WalWatch(self.path)
            except (OSError, ValueError):
                self._wal = None  # not in WAL mode (or no -shm): no cache

    async def close(self) -> None:
        """Commit what is queued, close the readers, checkpoint and close the writer."""
        if self._wake is not None:
            self._adopt_loop(asyncio.get_running_loop())
        self._closing = True
        if self._flusher is not None:
            if self._wake is not None:
                self._wake.set()
            try:
                await asyncio.shield(self._flusher)
            except asyncio.CancelledError:
                self._flusher.cancel()
                raise
            self._flusher = None
        if self._wal is not None:
            self._wal.close()
            self._wal = None
        self._cache.clear()
        for task in list(self._read_tasks):
            with contextlib.suppress(BaseException):
                await task
        readers, self._readers = self._readers, []
        for reader in readers:
            with contextlib.suppress(Exception):
                await reader.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                await writer.call(self._close_writer)
            writer.stop()

    def _close_writer(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.close()

    # ----------------------------------------------------------------- writes

    def _adopt_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Move the loop-bound helpers to *loop* (the store outlived its first event loop).

        ``asyncio.run()`` called twice with one store: the first loop and its
        flusher task are gone, so start a new flusher here. Operations still
        queued belonged to the dead loop; nobody can be waiting for them.
        """
        if self._loop is loop:
            return
        self._loop = loop
        self._pending = []
        self._read_waiters = {}
        self._read_scheduled = False
        self._read_tasks = set()
        if not self.read_only:
            self._wake = asyncio.Event()
            self._flusher = loop.create_task(self._flush_loop())

    async def write(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        """Queue *ops* for the next group commit and wait for their results."""
        if self.read_only:
            raise opened_read_only(self.path)
        if self._wake is None or self._closing:
            raise StorageError(
                f"the SQLite backend for {self.path!r} is closed",
                code="pepperpy.storage.closed",
                context={"path": self.path},
                hint="Start the storage again before writing.",
                retryable=False,
            )
        loop = asyncio.get_running_loop()
        self._adopt_loop(loop)
        futures = []
        for op in ops:
            fut: asyncio.Future[Any] = loop.create_future()
            self._pending.append((op, now, fut))
            futures.append(fut)
        self._wake.set()
        return [await fut for fut in futures]

    def write_one(self, op: WriteOp, now: float) -> asyncio.Future[Any]:  # type: ignore[override]
        """Queue one operation; the returned future resolves to its result or exception."""
        wake = self._wake
        if wake is None or self._closing:
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            fut.set_result(
                opened_read_only(self.path)
                if self.read_only
                else StorageError(
                    f"the SQLite backend for {self.path!r} is closed",
                    code="pepperpy.storage.closed",
                    context={"path": self.path},
                    hint="Start the storage again before writing.",
                    retryable=False,
                )
            )
            return fut
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt_loop(loop)
            wake = self._wake
            assert wake is not None
        fut = loop.create_future()
        self._pending.append((op, now, fut))
        wake.set()
        return fut

    async def _flush_loop(self) -> None:
        assert self._wake is not None
        assert self._writer is not None
        wake = self._wake
        while True:
            if not self._pending:
                if self._closing:
                    return
                await wake.wait()
                wake.clear()
                continue
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            items = [(op, now) for op, now, _ in batch]
            try:
                results = await self._writer.call(functools.partial(self._apply_batch, items))
            except BaseException as exc:  # the thread died or we are cancelled
                failed = batch if isinstance(exc, Exception) else batch + self._pending
                for _, _, fut in failed:
                    _set_result(fut, self._aborted(exc))
                if not isinstance(exc, Exception):
                    self._pending.clear()
                    raise
                continue
            for (_, _, fut), result in zip(batch, results, strict=True):
                _set_result(fut, result)

    def _aborted(self, exc: BaseException) -> StorageError:
        error = StorageError(
            f"the write to {self.path!r} was aborted: {type(exc).__name__}: {exc}",
            code="pepperpy.storage.aborted",
            context={"path": self.path},
            hint="The storage is shutting down or its writer failed; it may not have been "
            "committed. Check with a read before retrying.",
        )
        error.__cause__ = exc
        return error

    def _apply_batch(self, items: list[tuple[WriteOp, float]]) -> list[Any]:
        """Runs in the writer thread: one transaction for the whole batch."""
        conn = self._conn
        if conn is None:
            return [
                StorageError("the writer connection is closed", code="pepperpy.storage.closed")
                for _ in items
            ]
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            # One error object per caller: each raises (and extends the traceback of) its own.
            return [_chained(from_sqlite_error(exc, "write", self.path), exc) for _ in items]
        results: list[Any] = []
        execute = conn.execute
        try:
            start = int(execute(_GET_REVISION).fetchone()[0])
            rows = _SQLRows(conn, start)
            index = 0
            while index < len(items):
                op = items[index][0]
                if _plain_put(op):
                    # A run of unconditional puts: one executemany, same semantics as apply_op.
                    end = index + 1
                    while end < len(items) and _plain_put(items[end][0]):
                        end += 1
                    # Versions next_version() would hand out, in order: revision+1, +2 ...
                    first = rows.revision + 1
                    rows.revision += end - index
                    puts = cast("list[tuple[Put, float]]", items[index:end])
                    conn.executemany(
                        _UPSERT,
                        [
                            (put.key, put.value, version, put.expires_at)
                            for version, (put, _) in enumerate(puts, first)
                        ],
                    )
                    results.extend(range(first, rows.revision + 1))
                    index = end
                    continue
                try:
                    results.append(apply_op(op, rows, items[index][1]))
                except PepperPyError as exc:
                    results.append(exc)
                index += 1
            if rows.revision != start:
                execute(_SET_REVISION, (str(rows.revision),))
            execute("COMMIT")
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if len(items) == 1:
                if isinstance(exc, sqlite3.Error):
                    return [_chained(from_sqlite_error(exc, "write", self.path), exc)]
                return [exc]
            # Isolate the culprit: replay one operation per transaction.
            return [self._apply_batch([item])[0] for item in items]
        self.batches += 1
        self.operations += len(items)
        return results

    async def purge_expired(self, now: float) -> int:
        """Delete expired rows in one writer transaction."""
        if self.read_only:
            raise opened_read_only(self.path, "purge expired keys")
        assert self._writer is not None

        def purge() -> int:
            assert self._conn is not None
            try:
                cursor = self._conn.execute(
                    "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
                )
            except sqlite3.Error as exc:
                raise from_sqlite_error(exc, "purge expired keys in", self.path) from exc
            return cursor.rowcount

        return await self._writer.call(purge)

    # ----------------------------------------------------------------- reads

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            raise StorageError(
                f"the SQLite backend for {self.path!r} is closed",
                code="pepperpy.storage.closed",
                context={"path": self.path},
                hint="Start the storage again before reading.",
                retryable=False,
            )
        self._next_reader = (self._next_reader + 1) % len(self._readers)
        return self._readers[self._next_reader]

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return list(await self._reader().execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise from_sqlite_error(exc, "read from", self.path) from exc

    async def _query_keys(self, keys: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            if len(chunk) == 1:
                sql = "SELECT key, value, version, expires_at FROM kv WHERE key = ?"
            else:
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT key, value, version, expires_at FROM kv WHERE key IN ({marks})"
            for key, value, version, expires_at in await self._fetch(sql, chunk):
                out[key] = Record(key, value, version, expires_at)
        return out

    async def get_many(self, keys: Sequence[str]) -> dict[str, Record]:
        """Fetch rows; single-key lookups from concurrent tasks share one query."""
        if len(keys) != 1:
            return await self._query_keys(list(dict.fromkeys(keys)))
        key = keys[0]
        stamp = self._wal.stamp() if self._wal is not None else None
        if stamp is not None:
            if stamp != self._cache_stamp:
                self._cache.clear()  # something was committed: forget everything
                self._cache_stamp = stamp
            elif key in self._cache:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                cached = self._cache[key]
                return {} if cached is None else {key: cached}
        record = await self._read_one(key)
        # Keep it only if nothing was committed between before the query and now.
        if (
            stamp is not None
            and self._wal is not None
            and self._cache_stamp == stamp
            and self._wal.stamp() == stamp
        ):
            self._cache[key] = record
            if len(self._cache) > self.read_cache:
                self._cache.popitem(last=False)
        return {} if record is None else {key: record}

    async def _read_one(self, key: str) -> Record | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop and self._readers:
            self._adopt_loop(loop)
        fut = self._read_waiters.get(key)
        if fut is None:
            fut = loop.create_future()
            self._read_waiters[key] = fut
            if not self._read_scheduled:
                self._read_scheduled = True
                loop.call_soon(self._flush_reads)
        return await asyncio.shield(fut)

    def _flush_reads(self) -> None:
        self._read_scheduled = False
        waiters, self._read_waiters = self._read_waiters, {}
        if not waiters:
            return
        task = asyncio.ensure_future(self._run_reads(waiters))
        self._read_tasks.add(task)
        task.add_done_callback(self._read_tasks.discard)

    async def _run_reads(self, waiters: dict[str, asyncio.Future[Record | None]]) -> None:
        try:
            rows = await self._query_keys(list(waiters))
        except BaseException as exc:
            for fut in waiters.values():
                _set_exception(fut, exc)
                if not fut.cancelled():
                    fut.exception()  # mark retrieved: the waiters may all be gone
            if not isinstance(exc, Exception):
                raise
            return
        for key, fut in waiters.items():
            _set_result(fut, rows.get(key))

    async def scan(self, prefix: str, *, after: str | None, limit: int, now: float) -> list[Record]:
        """Range query on the primary key, skipping expired rows."""
        clauses = ["(expires_at IS NULL OR expires_at > ?)"]
        params: list[Any] = [now]
        if prefix:
            clauses.append("key >= ?")
            params.append(prefix)
            end = prefix_end(prefix)
            if end is not None:
                clauses.append("key < ?")
                params.append(end)
        if after is not None:
            clauses.append("key > ?")
            params.append(after)
        params.append(limit)
        sql = (
            "SELECT key, value, version, expires_at FROM kv WHERE "
            + " AND ".join(clauses)
            + " ORDER BY key LIMIT ?"
        )
        return [Record(k, v, ver, exp) for k, v, ver, exp in await self._fetch(sql, params)]

    async def count(self, prefix: str, now: float) -> int:
        """Count live keys with *prefix*."""
        clauses = ["(expires_at IS NULL OR expires_at > ?)"]
        params: list[Any] = [now]
        if prefix:
            clauses.append("key >= ?")
            params.append(prefix)
            end = prefix_end(prefix)
            if end is not None:
                clauses.append("key < ?")
                params.append(end)
        rows = await self._fetch("SELECT count(*) FROM kv WHERE " + " AND ".join(clauses), params)
        return int(rows[0][0])

    async def schema_version(self) -> int:
        """The schema version recorded in the database."""
        rows = await self._fetch("SELECT value FROM pepperpy_meta WHERE key = 'schema_version'", [])
        return int(rows[0][0]) if rows else 0
