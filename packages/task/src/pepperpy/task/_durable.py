"""The durable task queue in SQLite (aiosqlite): at-least-once, leases, stored results.

:class:`DurableQueue` implements only the storage operations of
:class:`~pepperpy.task._base.DurableQueueBase` (the worker loop lives there);
every operation is one ``BEGIN IMMEDIATE`` transaction on one connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.task._base import (
    Claim,
    DurableQueueBase,
    DurableTask,
    DurableTaskError,
    NewTask,
    lost_error,
)

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["DurableQueue", "DurableTask", "DurableTaskError"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pepperpy_tasks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    run_at REAL NOT NULL,
    lease_until REAL,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    dedup_key TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_token TEXT,
    result TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    finished_at REAL,
    expires_at REAL
);
CREATE INDEX IF NOT EXISTS pepperpy_tasks_ready ON pepperpy_tasks (state, run_at);
CREATE INDEX IF NOT EXISTS pepperpy_tasks_dedup ON pepperpy_tasks (dedup_key);
"""

_COLUMNS = (
    "id, name, state, attempts, max_attempts, priority, run_at, dedup_key, result, error, "
    "created_at, finished_at, expires_at"
)


_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}
"""DurableQueue(synchronous=...) values and their PRAGMA synchronous levels."""


def _row_to_task(row: Any) -> DurableTask:
    values = list(row)
    values[8] = json.loads(values[8]) if values[8] is not None else None
    return DurableTask(*values)


class DurableQueue(DurableQueueBase):
    """A task queue stored in a SQLite file, surviving crashes and restarts.

    Producers ``await queue.enqueue("name", *args)``; a :class:`TaskManager`
    created with ``durable=queue`` claims ready tasks whose name it has
    registered (several services can share one file), runs the function,
    and stores its JSON result for ``result_ttl`` seconds. A claim is a lease
    of ``visibility_timeout`` seconds, renewed while the task runs: when a
    worker dies mid-task, the lease expires and another worker (or the
    restarted one) runs the task again. Delivery is therefore at-least-once:
    make tasks idempotent. :class:`RedisQueue` and :class:`PostgresQueue` are
    the same queue on a server, shared by machines.

    Arguments and results must be JSON values.

    Args:
        path: The SQLite file (created if missing).
        queue: The manager's work queue the tasks run in (created on attach).
        concurrency: Slots of that work queue.
        visibility_timeout: Seconds a claim lasts without renewal.
        result_ttl: Seconds finished tasks (results and errors) are kept.
        poll_interval: Seconds between polls for ready tasks.
        max_attempts: Default deliveries allowed per task.
        retry: Backoff between failed attempts (its ``attempts`` is ignored:
            ``max_attempts`` rules).
        clock: Time source (wall-clock ``time()`` is stored in the file).
        synchronous: ``"full"`` (default): a task is on disk when ``enqueue()``
            and every state change return, surviving a process crash and an OS
            crash or power loss (SQLite fsyncs each commit). ``"normal"``: commits
            survive a process crash, but an OS crash may lose the last ones (WAL
            checkpoints alone are fsynced); faster.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "full",
        **options: Any,
    ) -> None:
        if not isinstance(synchronous, str) or synchronous not in _SYNCHRONOUS:
            raise InvalidArgumentError(
                f"synchronous must be 'full' or 'normal', got {safe_repr(synchronous)}",
                code="pepperpy.task.sqlite_synchronous",
                hint="Use 'full' (commits survive an OS crash) or 'normal' (a process crash only).",
            )
        super().__init__(**options)
        self.path = Path(path)
        self.synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        self._db_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"<DurableQueue {self.path} {self.state.value}>"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> DurableQueue:
        """``sqlite:///relative/tasks.db`` or ``sqlite:////absolute/tasks.db``."""
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise InvalidArgumentError(
                f"{url!r} is not a sqlite:/// URL",
                code="pepperpy.task.queue_url",
                hint="Write three slashes before a relative path (sqlite:///tasks.db) and "
                "four before an absolute one (sqlite:////var/lib/app/tasks.db).",
            )
        return cls(unquote(parts.path[1:]), **options)

    # ------------------------------------------------------------------ plumbing

    async def _open(self) -> None:
        import aiosqlite

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db_lock = asyncio.Lock()
        db = await aiosqlite.connect(str(self.path), isolation_level=None)
        self._db = db
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={_SYNCHRONOUS[self.synchronous]}")
        await db.execute("PRAGMA busy_timeout=10000")
        await db.executescript(_SCHEMA)
        cursor = await db.execute("PRAGMA table_info(pepperpy_tasks)")
        columns = {row[1] for row in await cursor.fetchall()}
        if "lease_token" not in columns:  # a file made by 0.1.0: add the fencing column
            try:
                await db.execute("ALTER TABLE pepperpy_tasks ADD COLUMN lease_token TEXT")
            except Exception:  # another process added it in between
                pass

    async def _close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        db = self._db
        lock = self._db_lock
        if db is None or lock is None:
            self._ensure_running()  # raises ClosedError
            raise AssertionError("unreachable")  # pragma: no cover
        async with lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                result = await work(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
            return result

    async def _read(self, sql: str, params: Any) -> list[Any]:
        db = self._db
        lock = self._db_lock
        if db is None or lock is None:
            self._ensure_running()
            raise AssertionError("unreachable")  # pragma: no cover
        async with lock:
            cursor = await db.execute(sql, params)
            return list(await cursor.fetchall())

    # ------------------------------------------------------------------ storage operations

    async def _insert(self, task: NewTask) -> str:
        async def insert(db: aiosqlite.Connection) -> str:
            if task.dedup_key is not None:
                cursor = await db.execute(
                    "SELECT id FROM pepperpy_tasks WHERE dedup_key = ? "
                    "AND state IN ('queued', 'running')",
                    (task.dedup_key,),
                )
                row = await cursor.fetchone()
                if row is not None:
                    return str(row[0])
            cursor = await db.execute("SELECT 1 FROM pepperpy_tasks WHERE id = ?", (task.id,))
            if await cursor.fetchone() is not None:
                raise self._duplicate_id(task.id)
            await db.execute(
                "INSERT INTO pepperpy_tasks (id, name, payload, priority, state, run_at, "
                "max_attempts, dedup_key, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (
                    task.id,
                    task.name,
                    task.payload,
                    task.priority,
                    task.run_at,
                    task.max_attempts,
                    task.dedup_key,
                    task.created_at,
                ),
            )
            return task.id

        return await self._transaction(insert)

    async def _load(self, task_id: str) -> DurableTask | None:
        rows = await self._read(f"SELECT {_COLUMNS} FROM pepperpy_tasks WHERE id = ?", (task_id,))
        return _row_to_task(rows[0]) if rows else None

    async def _request_cancel(self, task_id: str, now: float, expires_at: float) -> bool | None:
        async def cancel(db: aiosqlite.Connection) -> bool | None:
            cursor = await db.execute("SELECT state FROM pepperpy_tasks WHERE id = ?", (task_id,))
            row = await cursor.fetchone()
            if row is None:
                return None
            if row[0] == "queued":
                await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'cancelled', finished_at = ?, "
                    "expires_at = ? WHERE id = ?",
                    (now, expires_at, task_id),
                )
                return True
            if row[0] == "running":
                await db.execute(
                    "UPDATE pepperpy_tasks SET cancel_requested = 1 WHERE id = ?", (task_id,)
                )
                return True
            return False

        return await self._transaction(cancel)

    async def _count_states(self) -> dict[str, int]:
        rows = await self._read("SELECT state, COUNT(*) FROM pepperpy_tasks GROUP BY state", ())
        return {str(state): int(count) for state, count in rows}

    async def _purge(self, now: float) -> int:
        async def purge(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "DELETE FROM pepperpy_tasks WHERE state IN ('done', 'failed', 'cancelled') "
                "AND expires_at < ?",
                (now,),
            )
            return int(cursor.rowcount or 0)

        return await self._transaction(purge)

    async def _claim(
        self, limit: int, names: list[str], now: float, lease_until: float, expires_at: float
    ) -> list[Claim]:
        marks = ", ".join("?" * len(names))
        token = uuid.uuid4().hex

        async def claim(db: aiosqlite.Connection) -> list[Claim]:
            # Only tasks this worker can run: other services may share the file.
            cursor = await db.execute(
                "SELECT id, name, payload, attempts, max_attempts, cancel_requested "
                f"FROM pepperpy_tasks WHERE name IN ({marks}) AND ((state = 'queued' AND "
                "run_at <= ?) OR (state = 'running' AND lease_until < ?)) "
                "ORDER BY priority DESC, run_at, rowid LIMIT ?",
                (*names, now, now, limit),
            )
            rows = [tuple(row) for row in await cursor.fetchall()]
            claimed: list[Claim] = []
            for task_id, name, payload, attempts, max_attempts, cancel in rows:
                if cancel:  # a cancellation requested while it ran: never deliver it again
                    await db.execute(
                        "UPDATE pepperpy_tasks SET state = 'cancelled', lease_until = NULL, "
                        "lease_token = NULL, finished_at = ?, expires_at = ? WHERE id = ?",
                        (now, expires_at, task_id),
                    )
                    continue
                if attempts >= max_attempts:  # its last delivery died with its worker
                    await db.execute(
                        "UPDATE pepperpy_tasks SET state = 'failed', lease_until = NULL, "
                        "lease_token = NULL, error = ?, finished_at = ?, expires_at = ? "
                        "WHERE id = ?",
                        (lost_error(attempts), now, expires_at, task_id),
                    )
                    continue
                await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'running', lease_until = ?, worker = ?, "
                    "lease_token = ?, attempts = attempts + 1 WHERE id = ?",
                    (lease_until, self.worker_id, token, task_id),
                )
                claimed.append(Claim(task_id, name, payload, attempts + 1, max_attempts, token))
            return claimed

        return await self._transaction(claim)

    async def _renew_leases(self, leases: dict[str, str], lease_until: float) -> None:
        async def renew(db: aiosqlite.Connection) -> None:
            await db.executemany(
                "UPDATE pepperpy_tasks SET lease_until = ? WHERE id = ? AND lease_token = ? "
                "AND state = 'running'",
                [(lease_until, task_id, token) for task_id, token in leases.items()],
            )

        await self._transaction(renew)

    async def _cancel_flags(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        marks = ", ".join("?" * len(ids))
        rows = await self._read(
            f"SELECT id FROM pepperpy_tasks WHERE id IN ({marks}) AND cancel_requested = 1", ids
        )
        return {str(row[0]) for row in rows}

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
        async def finish(db: aiosqlite.Connection) -> bool:
            if state == "cancelled":  # keeps the last attempt's error, if any
                cursor = await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'cancelled', lease_until = NULL, "
                    "lease_token = NULL, finished_at = ?, expires_at = ? "
                    "WHERE id = ? AND state = 'running' AND lease_token = ?",
                    (now, expires_at, task_id, token),
                )
            else:
                cursor = await db.execute(
                    "UPDATE pepperpy_tasks SET state = ?, result = ?, error = ?, "
                    "lease_until = NULL, lease_token = NULL, finished_at = ?, expires_at = ? "
                    "WHERE id = ? AND state = 'running' AND lease_token = ?",
                    (state, result, error, now, expires_at, task_id, token),
                )
            return bool(cursor.rowcount)

        return await self._transaction(finish)

    async def _back_to_queue(
        self,
        db: aiosqlite.Connection,
        task_id: str,
        token: str,
        now: float,
        expires_at: float,
        assignments: str,
        params: tuple[Any, ...],
    ) -> bool:
        """Queue a task this claim still holds again, or cancel it when that was asked."""
        cursor = await db.execute(
            "SELECT cancel_requested FROM pepperpy_tasks WHERE id = ? AND state = 'running' "
            "AND lease_token = ?",
            (task_id, token),
        )
        row = await cursor.fetchone()
        if row is None:
            return False
        if row[0]:
            await db.execute(
                "UPDATE pepperpy_tasks SET state = 'cancelled', lease_until = NULL, "
                "lease_token = NULL, finished_at = ?, expires_at = ? WHERE id = ?",
                (now, expires_at, task_id),
            )
            return True
        await db.execute(
            f"UPDATE pepperpy_tasks SET state = 'queued', lease_until = NULL, lease_token = NULL, "
            f"{assignments} WHERE id = ?",
            (*params, task_id),
        )
        return True

    async def _retry_later(
        self, task_id: str, run_at: float, error: str, now: float, expires_at: float, *, token: str
    ) -> bool:
        async def retry(db: aiosqlite.Connection) -> bool:
            return await self._back_to_queue(
                db, task_id, token, now, expires_at, "error = ?, run_at = ?", (error, run_at)
            )

        return await self._transaction(retry)

    async def _release(self, task_id: str, now: float, expires_at: float, *, token: str) -> bool:
        async def release(db: aiosqlite.Connection) -> bool:
            return await self._back_to_queue(
                db,
                task_id,
                token,
                now,
                expires_at,
                "worker = NULL, attempts = MAX(attempts - 1, 0)",
                (),
            )

        return await self._transaction(release)

    async def _list_state(self, state: str, limit: int) -> list[DurableTask]:
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM pepperpy_tasks WHERE state = ? "
            "ORDER BY created_at, rowid LIMIT ?",
            (state, limit),
        )
        return [_row_to_task(row) for row in rows]

    async def _requeue_failed(self, task_id: str, now: float) -> bool:
        async def requeue(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "UPDATE pepperpy_tasks SET state = 'queued', attempts = 0, run_at = ?, "
                "cancel_requested = 0, finished_at = NULL, expires_at = NULL, worker = NULL "
                "WHERE id = ? AND state = 'failed'",
                (now, task_id),
            )
            return bool(cursor.rowcount)

        return await self._transaction(requeue)

    async def _delete_state(self, state: str) -> int:
        async def delete(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM pepperpy_tasks WHERE state = ?", (state,))
            return int(cursor.rowcount or 0)

        return await self._transaction(delete)
