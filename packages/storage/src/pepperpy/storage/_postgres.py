"""The PostgreSQL backend (``pepperpy-storage[postgres]``): asyncpg, group commit, advisory locks.

Schema
    One table (``pepperpy_storage`` by default) holds every store, keyed by
    ``(store, key)``; keys use the ``"C"`` collation so a prefix scan walks the
    primary key in code point order, exactly like SQLite and the memory backend.

Write path
    Like the SQLite backend, writes from every task are queued and one flusher
    commits everything queued in one transaction (up to ``max_batch``
    operations). Inside it the flusher takes a transaction-scoped advisory lock
    per key (in a global order, so two processes never deadlock), reads the
    current rows, applies the operations with :func:`~pepperpy.storage.apply_op`
    (the same code as every other backend: versions, compare-and-set, TTL,
    counters, all-or-nothing :class:`~pepperpy.storage.Txn`) and writes the
    final rows back with one ``INSERT ... ON CONFLICT`` and one ``DELETE``.
    The locks make a read-then-write safe against other processes using the
    same table, including for keys that do not exist yet. A batch either
    commits whole or not at all: a connection dropped before ``COMMIT`` leaves
    nothing behind, and every caller of that batch gets a retryable
    :class:`~pepperpy.storage.StorageError`.

Read path
    Pool connections; concurrent single-key ``get`` calls issued in the same
    event-loop tick share one ``key = ANY($2)`` query.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import Awaitable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, PepperPyError
from pepperpy.core.utils import import_driver
from pepperpy.storage._backend import Backend
from pepperpy.storage._errors import StorageError
from pepperpy.storage._memory import prefix_end
from pepperpy.storage._model import Put, Record, Txn, WriteOp, apply_op, versions_needed

__all__ = ["DSN_ENV", "POSTGRES_SCHEMA_VERSION", "PostgresBackend"]

DSN_ENV = "PEPPERPY_POSTGRES_DSN"
"""The environment variable the backend reads its DSN from when none is given."""

POSTGRES_SCHEMA_VERSION = 2
"""The version of the table layout this release writes.

1: the table. 2: the ``<table>_revision`` sequence every version is drawn from
(one per table, so a version never repeats for a key: no ABA).
"""

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_LOCK_NAMESPACE = b"pepperpy.storage\x00"


def _lock_ids(table: str, store: str, keys: Iterable[str]) -> list[int]:
    """Stable signed 64-bit advisory-lock ids for *keys* of one store, sorted, no duplicates.

    BLAKE2b of ``namespace table NUL store NUL key``: the common prefix is hashed
    once and copied per key (the same digest as hashing each string whole).
    """
    prefix = hashlib.blake2b(_LOCK_NAMESPACE + f"{table}\x00{store}\x00".encode(), digest_size=8)
    ids = set()
    for key in keys:
        hasher = prefix.copy()
        hasher.update(key.encode())
        ids.add(int.from_bytes(hasher.digest(), "big", signed=True))
    return sorted(ids)


def _lock_id(table: str, store: str, key: str) -> int:
    """A stable signed 64-bit advisory-lock id for one key of one store."""
    return _lock_ids(table, store, (key,))[0]


def _redact(dsn: str) -> str:
    """The DSN without its password (for errors, ``repr`` and ``location``)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _keys_of(op: WriteOp) -> list[str]:
    if isinstance(op, Txn):
        return [inner.key for inner in op.ops]
    return [op.key]


async def _keep_session(conn: Any) -> None:
    """The pool's reset when a connection is released: nothing to undo, no round trip.

    asyncpg rolls back a transaction left open before calling this. The default
    reset then sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    on every release, one more round trip per read and per batch. This backend's
    connections never hold session state (only transaction-scoped locks, no
    cursors, no LISTEN, no SET; the DSN's settings are startup settings), so there
    is nothing for it to reset.
    """


def _set_result(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


class _NotStarted(Exception):
    """The batch's transaction could not begin (its ``__cause__`` says why)."""


class _Finish:
    """Commit a started asyncpg transaction on success, roll it back on error."""

    __slots__ = ("transaction",)

    def __init__(self, transaction: Any) -> None:
        self.transaction = transaction

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is None:
            await self.transaction.commit()
            return
        with contextlib.suppress(Exception):
            await self.transaction.rollback()


class _BatchRows:
    """:class:`RowAccess` over rows prefetched for one batch; remembers what changed.

    *versions* are drawn from the table's revision sequence for this batch, in order.
    """

    __slots__ = ("changes", "rows", "versions")

    def __init__(self, rows: dict[str, Record], versions: list[int]) -> None:
        self.rows: dict[str, Record | None] = dict(rows)
        self.changes: dict[str, Record | None] = {}
        self.versions = iter(versions)

    def next_version(self) -> int:
        return next(self.versions)

    def read(self, key: str) -> Record | None:
        return self.rows.get(key)

    def write(self, record: Record) -> None:
        self.rows[record.key] = record
        self.changes[record.key] = record

    def remove(self, key: str) -> None:
        if self.rows.get(key) is not None:
            self.changes[key] = None
        self.rows[key] = None


class PostgresBackend(Backend):
    """PostgreSQL storage through asyncpg: one table, group-committed writes, a pool.

    Args:
        dsn: ``postgresql://user[:password]@host[:port]/database``; defaults to
            ``$PEPPERPY_POSTGRES_DSN``. Query parameters that are not connection
            options become server settings (``?search_path=tenant_a``).
        store: Which store in the table this backend reads and writes
            (``Storage.create`` passes its name).
        table: The table name (created on open when missing).
        schema: Qualify the table with this schema (created when missing);
            ``None`` uses the connection's ``search_path``.
        min_size: Connections opened up front.
        max_size: The most pool connections (reads run concurrently; writes
            use one at a time per backend).
        max_batch: The most operations committed in one transaction.
        connect_timeout: Seconds to wait for a connection.
        command_timeout: Seconds a statement may run.

    Raises:
        ConfigurationError: No DSN was given or found, or asyncpg is missing.
        InvalidArgumentError: A bad table/schema name or pool size.
    """

    name: ClassVar[str] = "postgres"

    def __init__(
        self,
        dsn: str | None = None,
        *,
        store: str = "data",
        table: str = "pepperpy_storage",
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        max_batch: int = 512,
        connect_timeout: float = 10.0,
        command_timeout: float = 30.0,
    ) -> None:
        dsn = dsn if dsn is not None else os.environ.get(DSN_ENV)
        if not dsn:
            raise ConfigurationError(
                "the postgres storage backend needs a DSN",
                code="pepperpy.storage.no_dsn",
                context={"env": DSN_ENV},
                hint=f"Pass dsn='postgresql://user@host:5432/db' or set ${DSN_ENV}.",
            )
        for label, ident in (("table", table), ("schema", schema)):
            if ident is not None and not _IDENT.match(ident):
                raise InvalidArgumentError(
                    f"invalid {label} name {ident!r}",
                    context={label: ident},
                    hint="Use 1-63 lower-case letters, digits and '_', not starting with a digit.",
                )
        if min_size < 0 or max_size < 1 or min_size > max_size or max_batch < 1:
            raise InvalidArgumentError(
                "need 0 <= min_size <= max_size, max_size >= 1 and max_batch >= 1",
                context={"min_size": min_size, "max_size": max_size, "max_batch": max_batch},
                hint="For example min_size=1, max_size=10, max_batch=512.",
            )
        self.dsn = dsn
        self.store = store
        self.table = table
        self.schema = schema
        self.min_size = min_size
        self.max_size = max_size
        self.max_batch = max_batch
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self._qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
        self._meta = f'"{schema}"."{table}_meta"' if schema else f'"{table}_meta"'
        self._sequence = f'"{schema}"."{table}_revision"' if schema else f'"{table}_revision"'
        self._pool: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[WriteOp, float, asyncio.Future[Any]]] = []
        self._wake: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self._adopting: asyncio.Task[None] | None = None
        self._read_waiters: dict[str, asyncio.Future[Record | None]] = {}
        self._read_scheduled = False
        self._read_tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Write transactions committed (for stats and tests)."""
        self.operations = 0
        """Operations written (for stats and tests)."""
        self._sql()

    def _sql(self) -> None:
        t = self._qualified
        # A join on unnest() walks the primary key once per wanted key, whatever the
        # table's statistics say (``key = ANY($2)`` may get a cached sequential plan).
        self._q_get = (
            "SELECT t.key, t.value, t.version, t.expires_at "
            f"FROM unnest($2::text[]) AS w(key) JOIN {t} AS t "
            "ON t.store = $1 AND t.key = w.key"
        )
        self._q_upsert = (
            f"INSERT INTO {t} (store, key, value, version, expires_at) "
            "SELECT $1, * FROM unnest($2::text[], $3::bytea[], $4::bigint[], $5::float8[]) "
            "ON CONFLICT (store, key) DO UPDATE SET value = EXCLUDED.value, "
            "version = EXCLUDED.version, expires_at = EXCLUDED.expires_at"
        )
        self._q_delete = (
            f"DELETE FROM {t} AS t USING unnest($2::text[]) AS w(key) "
            "WHERE t.store = $1 AND t.key = w.key"
        )
        self._q_lock = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k"
        # Sequence values are handed out in increasing order and never twice; a
        # rolled-back batch leaves a gap, which is fine for versions.
        # The locks and then the versions in one round trip: the uncorrelated
        # subquery is a one-time filter, evaluated (every lock taken) before the
        # first row, so every nextval comes after the locks, as with two statements.
        self._q_lock_versions = (
            f"SELECT nextval('{self._sequence}') AS v FROM generate_series(1, $2) "
            "WHERE (SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k) >= 0 "
            "ORDER BY v"
        )
        self._q_purge = (
            f"DELETE FROM {t} WHERE store = $1 AND expires_at IS NOT NULL AND expires_at <= $2"
        )

    @classmethod
    def from_options(cls, *, name: str, data_dir: Path, **options: Any) -> PostgresBackend:
        """Use the store *name* in the shared table (*data_dir* is unused)."""
        options.setdefault("store", name)
        return cls(**options)

    @property
    def location(self) -> str:
        """The DSN (password hidden), the table and the store."""
        return f"{_redact(self.dsn)} {self._qualified.replace(chr(34), '')}[{self.store}]"

    def __repr__(self) -> str:
        return f"PostgresBackend({_redact(self.dsn)!r}, store={self.store!r})"

    def stats(self) -> dict[str, Any]:
        """Write batches committed, operations written, queued writes, pool size."""
        pool = self._pool
        return {
            "batches": self.batches,
            "operations": self.operations,
            "pending": len(self._pending),
            "pool_size": pool.get_size() if pool is not None else 0,
        }

    # ----------------------------------------------------------------- errors

    def _error(self, exc: BaseException, operation: str) -> StorageError:
        """Translate an asyncpg/OS failure into a :class:`StorageError` that says what to do."""
        ctx = {
            "operation": operation,
            "dsn": _redact(self.dsn),
            "store": self.store,
            "error": type(exc).__name__,
        }
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate:
            ctx["sqlstate"] = sqlstate
        lost = self._lost(exc)
        if lost:
            error = StorageError(
                f"cannot {operation}: PostgreSQL at {_redact(self.dsn)} is unreachable or the "
                f"connection was lost ({type(exc).__name__}: {exc})",
                code="pepperpy.storage.unavailable",
                context=ctx,
                hint="Check that the server is running and reachable; a write interrupted "
                "before COMMIT changed nothing, so it is safe to retry (read it back first "
                "if the connection dropped during COMMIT).",
                retryable=True,
            )
        elif sqlstate in ("40001", "40P01", "55P03"):
            error = StorageError(
                f"cannot {operation}: PostgreSQL aborted the transaction ({exc})",
                code="pepperpy.storage.locked",
                context=ctx,
                hint="Concurrent transactions collided; nothing was written. Retry.",
                retryable=True,
            )
        elif sqlstate == "42501":
            error = StorageError(
                f"cannot {operation}: permission denied in PostgreSQL ({exc})",
                code="pepperpy.storage.read_only",
                context=ctx,
                hint="Grant the role CREATE on the schema and write access to the table.",
                retryable=False,
            )
        else:
            error = StorageError(
                f"cannot {operation} in PostgreSQL at {_redact(self.dsn)}: {exc}",
                code="pepperpy.storage.error",
                context=ctx,
                hint="See the chained asyncpg error.",
            )
        error.__cause__ = exc
        return error

    @staticmethod
    def _lost(exc: BaseException) -> bool:
        """Whether *exc* means the connection (or the server) went away."""
        asyncpg = _asyncpg()
        if isinstance(
            exc,
            (
                OSError,
                asyncpg.InternalClientError,
                asyncio.TimeoutError,
                asyncpg.ConnectionDoesNotExistError,
                asyncpg.InterfaceError,
                asyncpg.CannotConnectNowError,
                asyncpg.PostgresConnectionError,
            ),
        ):
            return True
        sqlstate = getattr(exc, "sqlstate", None)
        return isinstance(sqlstate, str) and sqlstate.startswith(("08", "57P"))

    def _closed(self) -> StorageError:
        return StorageError(
            f"the PostgreSQL backend for store {self.store!r} is closed",
            code="pepperpy.storage.closed",
            context={"dsn": _redact(self.dsn), "store": self.store},
            hint="Start the storage again before using it.",
            retryable=False,
        )

    # ----------------------------------------------------------------- open / close

    async def _create_pool(self) -> Any:
        asyncpg = _asyncpg()
        # Name the connections (pg_stat_activity) unless the DSN does.
        settings = (
            {} if "application_name" in self.dsn else {"application_name": "pepperpy-storage"}
        )
        try:
            pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.min_size,
                max_size=self.max_size,
                timeout=self.connect_timeout,
                command_timeout=self.command_timeout,
                server_settings=settings,
                reset=_keep_session,
            )
        except Exception as exc:
            raise self._error(exc, "connect to") from exc
        return pool

    async def _migrate(self) -> None:
        t, meta = self._qualified, self._meta
        lock = _lock_id("schema", self.schema or "", self.table)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
                if self.schema:
                    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {meta} (key text PRIMARY KEY, value text NOT NULL)"
                )
                found = await conn.fetchval(f"SELECT value FROM {meta} WHERE key = 'schema'")
                version = int(found) if found is not None else 0
                if version > POSTGRES_SCHEMA_VERSION:
                    raise StorageError(
                        f"table {t} uses storage schema {version}; this release knows up to "
                        f"{POSTGRES_SCHEMA_VERSION}",
                        code="pepperpy.storage.schema",
                        context={"table": t, "found": version},
                        hint="Upgrade pepperpy-storage to use this table.",
                        retryable=False,
                    )
                if version < 1:
                    await self._create_table(conn)
                if version < 2:
                    # Start the sequence above every version a 0.1.0 table holds.
                    await conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {self._sequence}")
                    await conn.execute(
                        f"SELECT setval('{self._sequence}', "
                        f"(SELECT coalesce(max(version), 0) + 1 FROM {t}), false)"
                    )
                if version < POSTGRES_SCHEMA_VERSION:
                    await conn.execute(
                        f"INSERT INTO {meta} (key, value) VALUES ('schema', $1) "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        str(POSTGRES_SCHEMA_VERSION),
                    )
        except PepperPyError:
            raise
        except Exception as exc:
            raise self._error(exc, "create the table") from exc

    async def _create_table(self, conn: Any) -> None:
        t = self._qualified
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {t} ("
            " store text NOT NULL,"
            ' key text COLLATE "C" NOT NULL,'
            " value bytea NOT NULL,"
            " version bigint NOT NULL,"
            " expires_at double precision,"
            " PRIMARY KEY (store, key))"
        )
        await conn.execute(
            f'CREATE INDEX IF NOT EXISTS "{self.table}_expires_at" ON {t} '
            "(store, expires_at) WHERE expires_at IS NOT NULL"
        )

    async def open(self) -> None:
        """Create the pool, create or check the table, start the flusher."""
        self._closing = False
        self._pool = await self._create_pool()
        try:
            await self._migrate()
        except BaseException:
            await self._terminate_pool()
            raise
        self._loop = asyncio.get_running_loop()
        self._pending = []
        self._wake = asyncio.Event()
        self._flusher = asyncio.ensure_future(self._flush_loop())

    async def _terminate_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                pool.terminate()

    async def close(self) -> None:
        """Commit what is queued, then close the pool."""
        if self._wake is not None and self._pool is not None:
            await self._adopt_loop()
        self._closing = True
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            if self._wake is not None:
                self._wake.set()
            try:
                await asyncio.shield(flusher)
            except asyncio.CancelledError:
                flusher.cancel()
                raise
            except Exception:
                pass
        for task in list(self._read_tasks):
            with contextlib.suppress(BaseException):
                await task
        pool, self._pool = self._pool, None
        self._wake = None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except Exception:
                pool.terminate()

    async def _adopt_loop(self) -> None:
        """Rebuild the pool and flusher when the store is used from a new event loop.

        asyncpg connections belong to the loop that opened them; after
        ``asyncio.run()`` returned, that loop is gone, so open new ones here.
        """
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        adopting = self._adopting
        if adopting is not None and adopting.get_loop() is loop:
            await asyncio.shield(adopting)
            return

        async def adopt() -> None:
            old, self._pool = self._pool, None
            if old is not None:
                with contextlib.suppress(Exception):
                    old.terminate()
            self._pending = []
            self._read_waiters = {}
            self._read_scheduled = False
            self._read_tasks = set()
            self._pool = await self._create_pool()
            self._wake = asyncio.Event()
            self._flusher = loop.create_task(self._flush_loop())
            self._loop = loop

        self._adopting = loop.create_task(adopt())
        try:
            await asyncio.shield(self._adopting)
        finally:
            if self._adopting.done():
                self._adopting = None

    # ----------------------------------------------------------------- writes

    def _enqueue(
        self, op: WriteOp, now: float, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[Any]:
        """Queue *op* for the next group commit; its future resolves to the result or error."""
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending.append((op, now, fut))
        assert self._wake is not None
        self._wake.set()
        return fut

    async def write(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        """Queue *ops* for the next group commit and wait for their results."""
        if self._wake is None or self._closing:
            raise self._closed()
        await self._adopt_loop()
        loop = asyncio.get_running_loop()
        futures = [self._enqueue(op, now, loop) for op in ops]
        return [await fut for fut in futures]

    def write_one(self, op: WriteOp, now: float) -> Awaitable[Any]:  # type: ignore[override]
        """Queue one operation; the awaitable resolves to its result or the exception it raised.

        On the loop the backend was opened in (the usual case) this is the queued
        operation's future itself, with no coroutine in between.
        """
        if self._wake is None or self._closing:
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            fut.set_result(self._closed())
            return fut
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            return self._write_one_adopting(op, now)
        return self._enqueue(op, now, loop)

    async def _write_one_adopting(self, op: WriteOp, now: float) -> Any:
        return (await self.write([op], now))[0]

    async def _flush_loop(self) -> None:
        wake = self._wake
        assert wake is not None
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
                results = await self._apply_batch(items)
            except Exception as exc:  # never let one batch kill the flusher
                results = [self._error(exc, "write to") for _ in batch]
            except BaseException as exc:  # cancelled (loop shutting down)
                error = self._error(exc, "write to")
                for _, _, fut in batch + self._pending:
                    _set_result(fut, error)
                self._pending.clear()
                raise
            for (_, _, fut), result in zip(batch, results, strict=True):
                _set_result(fut, result)

    async def _apply_batch(self, items: list[tuple[WriteOp, float]]) -> list[Any]:
        """One transaction for the whole batch; isolate failures by replaying one by one."""
        asyncpg = _asyncpg()
        pool = self._pool
        if pool is None:
            return [self._closed() for _ in items]
        for attempt in range(3):
            try:
                async with pool.acquire() as conn:
                    return await self._commit(conn, items)
            except _NotStarted as wrapper:
                # The connection died before BEGIN went through (the server closed it
                # while idle): nothing was sent, so another connection may take it.
                exc = wrapper.__cause__ if isinstance(wrapper.__cause__, Exception) else wrapper
                if attempt < 2:
                    continue
                return [self._error(exc, "write to") for _ in items]
            except Exception as exc:
                if self._lost(exc):
                    # Nothing was committed; one error object per caller.
                    return [self._error(exc, "write to") for _ in items]
                if getattr(exc, "sqlstate", None) in ("40001", "40P01") and attempt < 2:
                    continue  # deadlock/serialization with another client: run it again
                if len(items) > 1:
                    # Isolate the culprit: replay one operation per transaction.
                    return [(await self._apply_batch([item]))[0] for item in items]
                if isinstance(exc, asyncpg.PostgresError):
                    return [self._error(exc, "write to")]
                return [exc]
        raise AssertionError("unreachable")  # pragma: no cover

    async def _commit(self, conn: Any, items: list[tuple[WriteOp, float]]) -> list[Any]:
        keys = sorted({key for op, _ in items for key in _keys_of(op)})
        locks = _lock_ids(self.table, self.store, keys)
        transaction = conn.transaction()
        try:
            await transaction.start()
        except Exception as exc:
            if self._lost(exc):
                raise _NotStarted from exc
            raise
        async with _Finish(transaction):
            needed = versions_needed([op for op, _ in items])
            if needed:
                versions = [r[0] for r in await conn.fetch(self._q_lock_versions, locks, needed)]
            else:
                await conn.execute(self._q_lock, locks)
                versions = []
            # Rows are read in a later statement, so with a snapshot taken after the
            # locks. An unconditional put reads nothing: a batch of only those skips it.
            if all(type(op) is Put and op.expected is None for op, _ in items):
                fetched: list[Any] = []
            else:
                fetched = await conn.fetch(self._q_get, self.store, keys)
            rows = _BatchRows(
                {r[0]: Record(r[0], bytes(r[1]), r[2], r[3]) for r in fetched}, versions
            )
            results: list[Any] = []
            for op, now in items:
                try:
                    results.append(apply_op(op, rows, now))
                except PepperPyError as exc:
                    results.append(exc)
            written = [record for record in rows.changes.values() if record is not None]
            removed = [key for key, record in rows.changes.items() if record is None]
            if removed:
                await conn.execute(self._q_delete, self.store, removed)
            if written:
                await conn.execute(
                    self._q_upsert,
                    self.store,
                    [r.key for r in written],
                    [r.value for r in written],
                    [r.version for r in written],
                    [r.expires_at for r in written],
                )
            await self._before_commit(conn)
        self.batches += 1
        self.operations += len(items)
        return results

    async def _before_commit(self, conn: Any) -> None:
        """A hook between the last write and ``COMMIT`` (fault-injection tests use it)."""

    async def purge_expired(self, now: float) -> int:
        """Delete the store's expired rows in one statement."""
        await self._adopt_loop()
        pool = self._ready_pool()
        try:
            status = await pool.execute(self._q_purge, self.store, now)
        except Exception as exc:
            raise self._error(exc, "purge expired keys in") from exc
        return int(str(status).rsplit(" ", 1)[-1])

    # ----------------------------------------------------------------- reads

    def _ready_pool(self) -> Any:
        if self._pool is None or self._closing:
            raise self._closed()
        return self._pool

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        await self._adopt_loop()
        for attempt in range(3):
            pool = self._ready_pool()
            try:
                return list(await pool.fetch(sql, *args))
            except Exception as exc:
                if attempt < 2 and self._lost(exc) and not isinstance(exc, OSError):
                    continue  # a pooled connection the server had closed: reads may repeat
                raise self._error(exc, "read from") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _query_keys(self, keys: list[str]) -> dict[str, Record]:
        rows = await self._fetch(self._q_get, self.store, keys)
        return {r[0]: Record(r[0], bytes(r[1]), r[2], r[3]) for r in rows}

    async def get_many(self, keys: Sequence[str]) -> dict[str, Record]:
        """Fetch rows; single-key lookups from concurrent tasks share one query."""
        if len(keys) != 1:
            return await self._query_keys(list(dict.fromkeys(keys)))
        await self._adopt_loop()
        self._ready_pool()
        key = keys[0]
        fut = self._read_waiters.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._read_waiters[key] = fut
            if not self._read_scheduled:
                self._read_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush_reads)
        record = await asyncio.shield(fut)
        return {} if record is None else {key: record}

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
                if not fut.done():
                    fut.set_exception(exc)
                    fut.exception()  # mark retrieved: the waiters may all be gone
            if not isinstance(exc, Exception):
                raise
            return
        for key, fut in waiters.items():
            _set_result(fut, rows.get(key))

    def _range(self, prefix: str, now: float) -> tuple[list[str], list[Any]]:
        clauses = ["store = $1", "(expires_at IS NULL OR expires_at > $2)"]
        params: list[Any] = [self.store, now]
        if prefix:
            params.append(prefix)
            clauses.append(f"key >= ${len(params)}")
            end = prefix_end(prefix)
            if end is not None:
                params.append(end)
                clauses.append(f"key < ${len(params)}")
        return clauses, params

    async def scan(self, prefix: str, *, after: str | None, limit: int, now: float) -> list[Record]:
        """Range query on the primary key (code point order), skipping expired rows."""
        clauses, params = self._range(prefix, now)
        if after is not None:
            params.append(after)
            clauses.append(f"key > ${len(params)}")
        params.append(limit)
        sql = (
            f"SELECT key, value, version, expires_at FROM {self._qualified} WHERE "
            + " AND ".join(clauses)
            + f" ORDER BY key LIMIT ${len(params)}"
        )
        return [Record(k, bytes(v), ver, exp) for k, v, ver, exp in await self._fetch(sql, *params)]

    async def count(self, prefix: str, now: float) -> int:
        """Count the live keys with *prefix*."""
        clauses, params = self._range(prefix, now)
        sql = f"SELECT count(*) FROM {self._qualified} WHERE " + " AND ".join(clauses)
        rows = await self._fetch(sql, *params)
        return int(rows[0][0])

    async def schema_version(self) -> int:
        """The table layout version recorded in the database."""
        rows = await self._fetch(f"SELECT value FROM {self._meta} WHERE key = 'schema'")
        return int(rows[0][0]) if rows else 0


def _asyncpg() -> Any:
    return import_driver(
        "asyncpg", area="storage", user="the postgres storage backend", extra="postgres"
    )
