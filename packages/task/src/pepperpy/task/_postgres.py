"""The durable task queue on PostgreSQL (``pepperpy-task[postgres]``, asyncpg).

:class:`PostgresQueue` implements the storage operations of
:class:`~pepperpy.task.DurableQueueBase` on one PostgreSQL table per queue, so
workers on several machines share it; ``TaskManager(durable=PostgresQueue(...))``
runs it exactly like the SQLite and Redis queues (one conformance suite runs
against all three).

Table (``pepperpy_tasks`` by default, in ``schema`` when given; created on
start, idempotently, under an advisory lock)
    One row per task, the columns of :class:`~pepperpy.task.DurableTask` plus
    ``payload``, ``lease_until``, ``worker``, ``cancel_requested`` and ``seq``
    (a ``bigserial``: insertion order). A partial index over queued and running
    rows in claim order, one over leases, and a partial unique index on
    ``dedup_key`` among queued and running tasks, so two producers racing with
    the same key store one task.

Claim
    One transaction: tasks whose last allowed delivery died with its worker
    (lease expired, ``attempts >= max_attempts``) become ``"failed"``, then
    ``SELECT ... ORDER BY priority DESC, run_at, seq LIMIT n FOR UPDATE SKIP
    LOCKED`` picks ready tasks among the worker's registered names (queued and
    due, or running with an expired lease) and marks them running with a lease,
    in the same statement. ``SKIP LOCKED`` lets workers claim concurrently
    without waiting on each other or taking the same task. A connection lost
    before ``COMMIT`` changes nothing.

Wake-ups
    ``enqueue`` sends ``NOTIFY`` on the table's channel in the same statement as
    the ``INSERT``; a worker listens (``LISTEN``) on one pooled connection and polls at
    once instead of waiting for ``poll_interval`` (polling still runs, so a lost
    notification only costs latency).

Why asyncpg: the same choice as pepperpy-storage's PostgreSQL backend (binary
protocol in Cython without libpq, prepared statements cached per connection,
its own asyncio pool, ``LISTEN`` callbacks); see that package's README.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pepperpy.core.exceptions import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    PepperPyError,
)
from pepperpy.core.utils import import_driver
from pepperpy.task._base import Claim, DurableQueueBase, DurableTask, NewTask

__all__ = ["POSTGRES_DSN_ENV", "PostgresQueue"]

logger = logging.getLogger("pepperpy.task")

T = TypeVar("T")

POSTGRES_DSN_ENV = "PEPPERPY_POSTGRES_DSN"
"""The environment variable :class:`PostgresQueue` reads its DSN from when given none."""

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,47}$")

_COLUMNS = (
    "id, name, state, attempts, max_attempts, priority, run_at, dedup_key, result, error, "
    "created_at, finished_at, expires_at"
)


def _check_ident(label: str, ident: object, *, code: str) -> None:
    if ident is not None and (not isinstance(ident, str) or not _IDENT.match(ident)):
        raise InvalidArgumentError(
            f"invalid {label} name {ident!r}",
            code=code,
            context={label: ident},
            hint="Use 1-48 lower-case letters, digits and '_', not starting with a digit.",
        )


def _asyncpg() -> Any:
    return import_driver("asyncpg", area="task", user="PostgresQueue", extra="postgres")


def _redact(dsn: str) -> str:
    """The DSN without its password (for errors and ``repr``)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _lock_id(text: str) -> int:
    digest = hashlib.blake2b(b"pepperpy.task\x00" + text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lost_connection(exc: BaseException) -> bool:
    """Whether *exc* means the connection (or the server) went away."""
    if isinstance(exc, (OSError, asyncio.TimeoutError, ConnectionError)):
        return True
    asyncpg = _asyncpg()
    if isinstance(
        exc,
        (
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.CannotConnectNowError,
            asyncpg.PostgresConnectionError,
        ),
    ):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(("08", "57P"))


class PostgresQueue(DurableQueueBase):
    """The durable task queue stored in PostgreSQL, shared by every worker.

    Same API and semantics as :class:`~pepperpy.task.DurableQueue` (leases of
    ``visibility_timeout`` renewed while a task runs, redelivery after a worker
    died, retries with backoff up to ``max_attempts``, delays, priorities,
    ``dedup_key``, cancellation, results kept for ``result_ttl``); workers claim
    with ``SELECT ... FOR UPDATE SKIP LOCKED``. While the server is unreachable,
    calls raise a retryable :class:`~pepperpy.core.ExternalError` and workers
    keep polling (logging a warning) until it is back.

    Args:
        dsn: ``postgresql://user[:password]@host[:port]/database``, or an
            ``asyncpg`` pool to share (it is not closed by the queue); default
            ``$PEPPERPY_POSTGRES_DSN``.
        table: The queue's table (created on start when missing); queues in
            different tables never see each other's tasks.
        schema: Qualify the table with this schema (created when missing);
            ``None`` uses the connection's ``search_path``.
        min_size: Pool connections opened up front (DSN only).
        max_size: The most pool connections (DSN only).
        connect_timeout: Seconds to wait for a connection (DSN only).
        command_timeout: Seconds a statement may run (DSN only).
        listen: Wake workers with ``LISTEN``/``NOTIFY`` when a task is enqueued.
        options: As for :class:`~pepperpy.task.DurableQueue` (``queue``,
            ``concurrency``, ``visibility_timeout``, ``result_ttl``,
            ``poll_interval``, ``max_attempts``, ``retry``, ``clock``).

    Raises:
        ConfigurationError: No DSN or pool was given or found.
        InvalidArgumentError: A bad table or schema name, or pool size.
    """

    def __init__(
        self,
        dsn: Any = None,
        *,
        table: str = "pepperpy_tasks",
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        command_timeout: float = 30.0,
        listen: bool = True,
        **options: Any,
    ) -> None:
        if dsn is None:
            dsn = os.environ.get(POSTGRES_DSN_ENV)
            if not dsn:
                raise ConfigurationError(
                    "PostgresQueue needs a DSN or an asyncpg pool",
                    code="pepperpy.task.no_postgres_dsn",
                    context={"env": POSTGRES_DSN_ENV},
                    hint="Pass 'postgresql://user@host:5432/db' or an asyncpg pool, or set "
                    f"${POSTGRES_DSN_ENV}.",
                )
        if not isinstance(dsn, str) and not hasattr(dsn, "acquire"):
            raise InvalidArgumentError(
                f"dsn must be a DSN string or an asyncpg pool, got {type(dsn).__name__}",
                code="pepperpy.task.postgres_dsn",
                hint="Pass 'postgresql://user@host:5432/db' or asyncpg.create_pool(...).",
            )
        _check_ident("table", table, code="pepperpy.task.postgres_table")
        _check_ident("schema", schema, code="pepperpy.task.postgres_schema")
        if min_size < 0 or max_size < 1 or min_size > max_size:
            raise InvalidArgumentError(
                "need 0 <= min_size <= max_size and max_size >= 1",
                code="pepperpy.task.postgres_pool",
                context={"min_size": min_size, "max_size": max_size},
                hint="For example min_size=1, max_size=10.",
            )
        super().__init__(**options)
        self.dsn = dsn if isinstance(dsn, str) else None
        self.table = table
        self.schema = schema
        self.min_size = min_size
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.listen = listen
        self._given_pool = None if isinstance(dsn, str) else dsn
        self._pool: Any = None
        self._listener: Any = None
        # A channel name has at most 63 bytes (pg_notify refuses longer ones): hash it.
        digest = hashlib.blake2b(f"{schema or ''}.{table}".encode(), digest_size=8).hexdigest()
        self._channel = f"pepperpy_tasks_{digest}"
        self._qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
        self._sql()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgresQueue:
        """``postgresql://user@host:5432/db`` (or ``postgres://``), for :func:`connect_queue`."""
        return cls(url, **options)

    def __repr__(self) -> str:
        return f"<PostgresQueue {self._qualified.replace(chr(34), '')} {self.state.value}>"

    def _sql(self) -> None:
        t = self._qualified
        self._q_insert = (
            "WITH stored AS ("
            f"INSERT INTO {t} (id, name, payload, priority, state, run_at, max_attempts, "
            "dedup_key, created_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8) "
            "ON CONFLICT DO NOTHING RETURNING id) "
            "SELECT id, pg_notify($9, '') FROM stored"
        )
        self._q_dedup = (
            f"SELECT id FROM {t} WHERE dedup_key = $1 AND state IN ('queued', 'running')"
        )
        self._q_lost = (
            f"UPDATE {t} SET state = CASE WHEN cancel_requested THEN 'cancelled' "
            "ELSE 'failed' END, lease_until = NULL, lease_token = NULL, "
            "error = CASE WHEN cancel_requested THEN error ELSE "
            "'lost: the worker stopped responding during all ' || attempts || "
            "' attempts' END, finished_at = $2, expires_at = $3 "
            f"WHERE id IN (SELECT id FROM {t} WHERE name = ANY($1::text[]) AND "
            "((state = 'running' AND lease_until < $2 AND "
            "(attempts >= max_attempts OR cancel_requested)) "
            "OR (state = 'queued' AND cancel_requested)) FOR UPDATE SKIP LOCKED)"
        )
        self._q_claim = (
            f"WITH picked AS (SELECT id FROM {t} WHERE name = ANY($1::text[]) AND "
            "NOT cancel_requested AND ((state = 'queued' AND run_at <= $2) OR "
            "(state = 'running' AND lease_until < $2 AND attempts < max_attempts)) "
            "ORDER BY priority DESC, run_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED) "
            f"UPDATE {t} AS t SET state = 'running', lease_until = $4, worker = $5, "
            "lease_token = $6, attempts = t.attempts + 1 FROM picked WHERE t.id = picked.id "
            "RETURNING t.id, t.name, t.payload, t.attempts, t.max_attempts, "
            "t.priority, t.run_at, t.seq"
        )

    # ------------------------------------------------------------------ errors

    def _error(self, exc: BaseException, operation: str) -> ExternalError:
        where = _redact(self.dsn) if self.dsn else "the given pool"
        context: dict[str, Any] = {
            "operation": operation,
            "table": self._qualified.replace('"', ""),
            "error": type(exc).__name__,
        }
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate:
            context["sqlstate"] = sqlstate
        if _lost_connection(exc):
            return ExternalError(
                f"PostgreSQL task queue: cannot {operation}: {where} is unreachable or the "
                f"connection was lost ({type(exc).__name__}: {exc})",
                code="pepperpy.task.postgres_unavailable",
                context=context,
                hint="Check that the server is running and reachable; a transaction cut "
                "before COMMIT changed nothing and stored tasks are not lost, so retry.",
                retryable=True,
            )
        collided = isinstance(sqlstate, str) and sqlstate in ("40001", "40P01", "55P03")
        return ExternalError(
            f"PostgreSQL task queue: cannot {operation}: {type(exc).__name__}: {exc}",
            code="pepperpy.task.postgres",
            context=context,
            hint="Concurrent transactions collided; nothing was written. Retry."
            if collided
            else "See the chained asyncpg error (permissions, a table of another layout?).",
            retryable=collided,
        )

    async def _db(self, operation: str, work: Callable[[Any], Awaitable[T]]) -> T:
        pool = self._pool
        if pool is None:
            self._ensure_running()  # raises ClosedError
            raise AssertionError("unreachable")  # pragma: no cover
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        except PepperPyError:
            raise
        except Exception as exc:
            raise self._error(exc, operation) from exc

    # ------------------------------------------------------------------ open / close

    async def _open(self) -> None:
        asyncpg = _asyncpg()
        if self._given_pool is not None:
            self._pool = self._given_pool
        else:
            settings = (
                {}
                if "application_name" in (self.dsn or "")
                else {"application_name": "pepperpy-task"}
            )
            try:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self.min_size,
                    max_size=self.max_size,
                    timeout=self.connect_timeout,
                    command_timeout=self.command_timeout,
                    server_settings=settings,
                )
            except Exception as exc:
                raise self._error(exc, "connect") from exc
        await self._db("create the table", self._migrate)

    async def _schema_ready(self, conn: Any) -> bool:
        """Whether the table, its indexes and the fencing column all exist already.

        Then no DDL runs at start: ``CREATE INDEX`` and ``ALTER TABLE`` lock the
        table even when there is nothing to do, so a worker starting while another
        one is paused inside a transaction (SIGSTOP, a frozen VM) would wait for it.
        """
        table = self.table
        names = [f"{table}_claim", f"{table}_leases", f"{table}_expiry", f"{table}_dedup"]
        ready = await conn.fetchval(
            "SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = "
            "coalesce($1, current_schema()) AND tablename = $2 AND indexname = ANY($3::text[]))"
            " = 4 AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
            "coalesce($1, current_schema()) AND table_name = $2 AND column_name = 'lease_token')",
            self.schema,
            table,
            names,
        )
        return bool(ready)

    async def _migrate(self, conn: Any) -> None:
        t, table = self._qualified, self.table
        if await self._schema_ready(conn):
            return
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1)", _lock_id(f"{self.schema}.{table}")
            )
            if self.schema:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {t} ("
                " seq bigserial NOT NULL,"
                " id text PRIMARY KEY,"
                " name text NOT NULL,"
                " payload text NOT NULL,"
                " priority integer NOT NULL DEFAULT 0,"
                " state text NOT NULL,"
                " run_at double precision NOT NULL,"
                " lease_until double precision,"
                " worker text,"
                " attempts integer NOT NULL DEFAULT 0,"
                " max_attempts integer NOT NULL,"
                " dedup_key text,"
                " cancel_requested boolean NOT NULL DEFAULT false,"
                " lease_token text,"
                " result text,"
                " error text,"
                " created_at double precision NOT NULL,"
                " finished_at double precision,"
                " expires_at double precision)"
            )
            # A table made by 0.1.0 gets the fencing column.
            await conn.execute(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS lease_token text")
            await conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_claim" ON {t} '
                "(priority DESC, run_at, seq) WHERE state IN ('queued', 'running')"
            )
            await conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_leases" ON {t} (lease_until) '
                "WHERE state = 'running'"
            )
            await conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_expiry" ON {t} (expires_at) '
                "WHERE state IN ('done', 'failed', 'cancelled')"
            )
            await conn.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_dedup" ON {t} (dedup_key) '
                "WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running')"
            )

    async def _close(self) -> None:
        await self._stop_listening()
        pool, self._pool = self._pool, None
        if pool is not None and self._given_pool is None:
            try:
                await asyncio.wait_for(pool.close(), 5)
            except Exception:  # a broken server: do not hang the shutdown
                pool.terminate()

    # ------------------------------------------------------------------ wake-ups

    async def _start_listening(self) -> None:
        if not self.listen or self._pool is None:
            return
        listener = self._listener
        if listener is not None and not listener.is_closed():
            return
        if listener is not None:  # its connection died (server restart, terminated)
            self._listener = None
            with contextlib.suppress(Exception):
                await self._pool.release(listener)
        try:
            conn = await self._pool.acquire()
        except Exception as exc:
            logger.debug("postgres task queue: no LISTEN connection (polling only): %s", exc)
            return
        try:
            await conn.add_listener(self._channel, self._notified)
        except Exception as exc:
            logger.debug("postgres task queue: LISTEN failed (polling only): %s", exc)
            with contextlib.suppress(Exception):
                await self._pool.release(conn)
            return
        self._listener = conn

    def _notified(self, *_: Any) -> None:
        self._woken()

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None or self._pool is None:
            return
        with contextlib.suppress(Exception):
            if not listener.is_closed():
                await asyncio.wait_for(listener.remove_listener(self._channel, self._notified), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pool.release(listener), 5)

    async def _detach(self) -> None:
        await self._stop_polling()
        await self._stop_listening()
        await super()._detach()

    # ------------------------------------------------------------------ storage operations

    async def _insert(self, task: NewTask) -> str:
        async def insert(conn: Any) -> str:
            for _ in range(10):
                row = await conn.fetchrow(
                    self._q_insert,
                    task.id,
                    task.name,
                    task.payload,
                    task.priority,
                    float(task.run_at),
                    task.max_attempts,
                    task.dedup_key,
                    float(task.created_at),
                    self._channel,
                )
                if row is not None:
                    return str(row[0])
                if task.dedup_key is not None:
                    held = await conn.fetchval(self._q_dedup, task.dedup_key)
                    if held is not None:
                        return str(held)
                if await conn.fetchval(f"SELECT 1 FROM {self._qualified} WHERE id = $1", task.id):
                    raise self._duplicate_id(task.id)
                # The task holding the dedup key finished in between: store ours now.
            raise ExternalError(
                f"PostgreSQL task queue: cannot enqueue {task.name!r}: its dedup key "
                f"{task.dedup_key!r} kept changing hands",
                code="pepperpy.task.postgres_dedup_race",
                context={"dedup_key": task.dedup_key},
                hint="Producers and workers are racing on this key; retry.",
                retryable=True,
            )

        return await self._db("enqueue", insert)

    async def _load(self, task_id: str) -> DurableTask | None:
        async def load(conn: Any) -> DurableTask | None:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM {self._qualified} WHERE id = $1", task_id
            )
            if row is None:
                return None
            values = list(row)
            values[8] = json.loads(values[8]) if values[8] is not None else None
            return DurableTask(*values)

        return await self._db("get", load)

    async def _request_cancel(self, task_id: str, now: float, expires_at: float) -> bool | None:
        t = self._qualified

        async def cancel(conn: Any) -> bool | None:
            async with conn.transaction():
                state = await conn.fetchval(
                    f"SELECT state FROM {t} WHERE id = $1 FOR UPDATE", task_id
                )
                if state is None:
                    return None
                if state == "queued":
                    await conn.execute(
                        f"UPDATE {t} SET state = 'cancelled', finished_at = $2, expires_at = $3 "
                        "WHERE id = $1",
                        task_id,
                        float(now),
                        float(expires_at),
                    )
                    return True
                if state == "running":
                    await conn.execute(
                        f"UPDATE {t} SET cancel_requested = true WHERE id = $1", task_id
                    )
                    return True
                return False

        return await self._db("cancel", cancel)

    async def _count_states(self) -> dict[str, int]:
        async def count(conn: Any) -> dict[str, int]:
            rows = await conn.fetch(f"SELECT state, count(*) FROM {self._qualified} GROUP BY state")
            return {str(state): int(n) for state, n in rows}

        return await self._db("count tasks", count)

    async def _purge(self, now: float) -> int:
        async def purge(conn: Any) -> int:
            status = await conn.execute(
                f"DELETE FROM {self._qualified} WHERE state IN ('done', 'failed', 'cancelled') "
                "AND expires_at < $1",
                float(now),
            )
            return int(status.split()[-1])

        return await self._db("purge", purge)

    async def _claim(
        self, limit: int, names: list[str], now: float, lease_until: float, expires_at: float
    ) -> list[Claim]:
        if self._manager is not None and self.listen:
            # Only the poller claims, so this never races; it reconnects after a lost one.
            await self._start_listening()
        token = uuid.uuid4().hex

        async def claim(conn: Any) -> list[Claim]:
            async with conn.transaction():
                await conn.execute(self._q_lost, names, float(now), float(expires_at))
                rows = await conn.fetch(
                    self._q_claim,
                    names,
                    float(now),
                    limit,
                    float(lease_until),
                    self.worker_id,
                    token,
                )
            rows = sorted(rows, key=lambda r: (-r["priority"], r["run_at"], r["seq"]))
            return [
                Claim(r["id"], r["name"], r["payload"], r["attempts"], r["max_attempts"], token)
                for r in rows
            ]

        return await self._db("claim tasks", claim)

    async def _renew_leases(self, leases: dict[str, str], lease_until: float) -> None:
        async def renew(conn: Any) -> None:
            await conn.execute(
                f"UPDATE {self._qualified} AS t SET lease_until = $1 FROM "
                "unnest($2::text[], $3::text[]) AS held(id, token) "
                "WHERE t.id = held.id AND t.lease_token = held.token AND t.state = 'running'",
                float(lease_until),
                list(leases),
                list(leases.values()),
            )

        await self._db("renew leases", renew)

    async def _cancel_flags(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()

        async def flags(conn: Any) -> set[str]:
            rows = await conn.fetch(
                f"SELECT id FROM {self._qualified} WHERE id = ANY($1::text[]) AND cancel_requested",
                ids,
            )
            return {str(row[0]) for row in rows}

        return await self._db("check cancellations", flags)

    async def _finish(
        self,
        task_id: str,
        state: str,
        now: float,
        expires_at: float,
        *,
        token: str,
        result: str | None = None,
        error: str | None = None,
    ) -> bool:
        t = self._qualified

        async def finish(conn: Any) -> bool:
            if state == "cancelled":  # keeps the last attempt's error, if any
                status = await conn.execute(
                    f"UPDATE {t} SET state = 'cancelled', lease_until = NULL, lease_token = NULL, "
                    "finished_at = $2, expires_at = $3 "
                    "WHERE id = $1 AND state = 'running' AND lease_token = $4",
                    task_id,
                    float(now),
                    float(expires_at),
                    token,
                )
            else:
                status = await conn.execute(
                    f"UPDATE {t} SET state = $2, result = $3, error = $4, lease_until = NULL, "
                    "lease_token = NULL, finished_at = $5, expires_at = $6 "
                    "WHERE id = $1 AND state = 'running' AND lease_token = $7",
                    task_id,
                    state,
                    result,
                    error,
                    float(now),
                    float(expires_at),
                    token,
                )
            return _updated(status)

        return await self._db(f"store the {state} task", finish)

    async def _retry_later(
        self, task_id: str, run_at: float, error: str, now: float, expires_at: float, *, token: str
    ) -> bool:
        async def retry(conn: Any) -> bool:
            status = await conn.execute(
                f"UPDATE {self._qualified} SET error = $2, lease_until = NULL, lease_token = NULL, "
                "state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, "
                "run_at = CASE WHEN cancel_requested THEN run_at ELSE $3 END, "
                "finished_at = CASE WHEN cancel_requested THEN $4 ELSE finished_at END, "
                "expires_at = CASE WHEN cancel_requested THEN $5 ELSE expires_at END "
                "WHERE id = $1 AND state = 'running' AND lease_token = $6",
                task_id,
                error,
                float(run_at),
                float(now),
                float(expires_at),
                token,
            )
            return _updated(status)

        return await self._db("queue a retry", retry)

    async def _release(self, task_id: str, now: float, expires_at: float, *, token: str) -> bool:
        async def release(conn: Any) -> bool:
            status = await conn.execute(
                f"UPDATE {self._qualified} SET lease_until = NULL, lease_token = NULL, "
                "worker = NULL, "
                "state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, "
                "attempts = CASE WHEN cancel_requested THEN attempts "
                "ELSE GREATEST(attempts - 1, 0) END, "
                "finished_at = CASE WHEN cancel_requested THEN $2 ELSE finished_at END, "
                "expires_at = CASE WHEN cancel_requested THEN $3 ELSE expires_at END "
                "WHERE id = $1 AND state = 'running' AND lease_token = $4",
                task_id,
                float(now),
                float(expires_at),
                token,
            )
            return _updated(status)

        return await self._db("release a task", release)

    async def _list_state(self, state: str, limit: int) -> list[DurableTask]:
        async def listing(conn: Any) -> list[DurableTask]:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM {self._qualified} WHERE state = $1 "
                "ORDER BY created_at, seq LIMIT $2",
                state,
                limit,
            )
            tasks = []
            for row in rows:
                values = list(row)
                values[8] = json.loads(values[8]) if values[8] is not None else None
                tasks.append(DurableTask(*values))
            return tasks

        return await self._db("list tasks", listing)

    async def _requeue_failed(self, task_id: str, now: float) -> bool:
        async def requeue(conn: Any) -> bool:
            status = await conn.execute(
                f"UPDATE {self._qualified} SET state = 'queued', attempts = 0, run_at = $2, "
                "cancel_requested = false, finished_at = NULL, expires_at = NULL, worker = NULL "
                "WHERE id = $1 AND state = 'failed'",
                task_id,
                float(now),
            )
            return _updated(status)

        return await self._db("queue a failed task again", requeue)

    async def _delete_state(self, state: str) -> int:
        async def delete(conn: Any) -> int:
            status = await conn.execute(f"DELETE FROM {self._qualified} WHERE state = $1", state)
            return int(status.split()[-1])

        return await self._db("delete tasks", delete)


def _updated(status: str) -> bool:
    """Whether an ``UPDATE n`` command status changed a row."""
    return int(status.split()[-1]) > 0
