"""A durable SQLite task queue (aiosqlite): at-least-once, leases, stored results."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, NotFoundError, OperationTimeoutError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, Lifecycle, system_clock
from pepperpy.core.utils import RetryPolicy, is_async_callable
from pepperpy.task._handle import TaskCancelledError, TaskError, TaskHandle

if TYPE_CHECKING:
    import aiosqlite

    from pepperpy.task._manager import TaskManager

__all__ = ["DurableQueue", "DurableTask", "DurableTaskError"]

logger = logging.getLogger("pepperpy.task")

F = TypeVar("F", bound=Callable[..., Any])

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


class DurableTaskError(TaskError):
    """A durable task failed for good; :attr:`error` is the stored error text."""

    code = "pepperpy.task.durable_failed"

    def __init__(self, task_id: str, name: str, error: str) -> None:
        super().__init__(
            f"durable task {name!r} ({task_id}) failed: {error}",
            context={"task_id": task_id, "name": name},
            hint="See the error; enqueue the task again once the cause is fixed.",
        )
        self.task_id = task_id
        self.error = error


@attrs.frozen
class DurableTask:
    """The stored state of one durable task.

    Attributes:
        state: ``"queued"``, ``"running"``, ``"done"``, ``"failed"`` or ``"cancelled"``.
        attempts: Deliveries so far (a crashed worker's delivery counts;
            a graceful shutdown's cancelled one does not).
        result: The JSON-decoded result once ``"done"``.
        error: The last error text, if any.
        expires_at: When a finished task's record (and result) is purged.
    """

    id: str
    name: str
    state: str
    attempts: int
    max_attempts: int
    priority: int
    run_at: float
    dedup_key: str | None
    result: Any
    error: str | None
    created_at: float
    finished_at: float | None
    expires_at: float | None

    @property
    def done(self) -> bool:
        """Whether the task finished (``"done"``, ``"failed"`` or ``"cancelled"``)."""
        return self.state in ("done", "failed", "cancelled")


def _row_to_task(row: Any) -> DurableTask:
    values = list(row)
    values[8] = json.loads(values[8]) if values[8] is not None else None
    return DurableTask(*values)


class DurableQueue(Lifecycle):
    """A task queue stored in SQLite, surviving crashes and restarts.

    Producers ``await queue.enqueue("name", *args)``; a :class:`TaskManager`
    created with ``durable=queue`` claims ready tasks whose name it has
    registered (several services can share one file), runs the function,
    and stores its JSON result for ``result_ttl`` seconds. A claim is a lease
    of ``visibility_timeout`` seconds, renewed while the task runs: when a worker dies mid-task, the
    lease expires and another worker (or the restarted one) runs the task
    again. Delivery is therefore at-least-once: make tasks idempotent.

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
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        queue: str = "durable",
        concurrency: int = 10,
        visibility_timeout: float = 30.0,
        result_ttl: float = 86_400.0,
        poll_interval: float = 0.5,
        max_attempts: int = 3,
        retry: RetryPolicy | None = None,
        clock: Clock = system_clock,
    ) -> None:
        for label, value in (
            ("visibility_timeout", visibility_timeout),
            ("result_ttl", result_ttl),
            ("poll_interval", poll_interval),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise InvalidArgumentError(
                    f"{label} must be a number of seconds > 0, got {_safe_repr(value)}",
                    code=f"pepperpy.task.{label}",
                    hint=f"Pass {label} in seconds, e.g. {label}=30.",
                )
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidArgumentError(
                f"max_attempts must be an integer >= 1, got {_safe_repr(max_attempts)}",
                code="pepperpy.task.max_attempts",
                hint="max_attempts counts every delivery, the first included.",
            )
        self.path = Path(path)
        self.queue = queue
        self.concurrency = concurrency
        self.visibility_timeout = float(visibility_timeout)
        self.result_ttl = float(result_ttl)
        self.poll_interval = float(poll_interval)
        self.max_attempts = max_attempts
        self.retry = retry or RetryPolicy(attempts=max_attempts, delay=1.0)
        self.clock = clock
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._functions: dict[str, Callable[..., Any]] = {}
        self._db: aiosqlite.Connection | None = None
        self._db_lock: asyncio.Lock | None = None
        self._manager: TaskManager | None = None
        self._poller: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._running: set[str] = set()
        self._handles: dict[str, TaskHandle[Any]] = {}
        self._cancel_requested: set[str] = set()
        self._releases: set[asyncio.Future[None]] = set()
        self._started_by_manager = False

    # ------------------------------------------------------------------ registry

    @overload
    def register(self, fn: F, /) -> F: ...

    @overload
    def register(self, fn: None = None, /, *, name: str | None = None) -> Callable[[F], F]: ...

    def register(self, fn: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
        """Register a task function under *name* (default: its ``__name__``).

        Use as ``@queue.register`` or ``@queue.register(name="emails.send")``.
        Every process that runs tasks registers the same names.
        """

        def decorate(func: Any) -> Any:
            key = name or getattr(func, "__name__", None)
            if not key or not callable(func):
                raise InvalidArgumentError(
                    f"cannot register {_safe_repr(func)} as a durable task",
                    code="pepperpy.task.register",
                    hint="Register a named function, or pass name=.",
                )
            self._functions[key] = func
            return func

        return decorate(fn) if fn is not None else decorate

    # ------------------------------------------------------------------ lifecycle

    async def _on_start(self) -> None:
        import aiosqlite

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        db = await aiosqlite.connect(str(self.path), isolation_level=None)
        self._db = db
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=10000")
        await db.executescript(_SCHEMA)

    async def _on_stop(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    def _conn(self) -> aiosqlite.Connection:
        self._ensure_running()
        assert self._db is not None
        return self._db

    async def _transaction(self, work: Callable[[aiosqlite.Connection], Any]) -> Any:
        db = self._conn()
        assert self._db_lock is not None
        async with self._db_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                result = await work(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
            return result

    # ------------------------------------------------------------------ producing

    async def enqueue(
        self,
        name: str,
        /,
        *args: Any,
        priority: int = 0,
        delay: float | None = None,
        task_id: str | None = None,
        dedup_key: str | None = None,
        max_attempts: int | None = None,
        **kwargs: Any,
    ) -> str:
        """Store a task and return its id; it runs once a worker claims it.

        Args:
            name: The registered function name (it need not be registered in
                this process: only workers need it).
            *args: JSON values passed to the function.
            **kwargs: JSON values passed to the function by keyword.
            priority: Higher is claimed first.
            delay: Seconds before the task may run.
            task_id: The id (default: a new one); an existing id raises
                :class:`~pepperpy.core.ConflictError`.
            dedup_key: While a queued or running task has this key, its id is
                returned and nothing new is stored.
            max_attempts: Deliveries allowed (default: the queue's).

        Raises:
            InvalidArgumentError: The arguments are not JSON values.
        """
        try:
            payload = json.dumps({"args": list(args), "kwargs": kwargs})
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"arguments of durable task {name!r} are not JSON values: {exc}",
                code="pepperpy.task.payload",
                context={"name": name},
                hint="Pass ids, strings, numbers, lists and dicts; load objects inside the task.",
            ) from exc
        now = self.clock.time()
        new_id = task_id or uuid.uuid4().hex
        attempts_allowed = max_attempts or self.max_attempts

        async def insert(db: aiosqlite.Connection) -> str:
            if dedup_key is not None:
                cursor = await db.execute(
                    "SELECT id FROM pepperpy_tasks WHERE dedup_key = ? "
                    "AND state IN ('queued', 'running')",
                    (dedup_key,),
                )
                row = await cursor.fetchone()
                if row is not None:
                    return str(row[0])
            cursor = await db.execute("SELECT 1 FROM pepperpy_tasks WHERE id = ?", (new_id,))
            if await cursor.fetchone() is not None:
                from pepperpy.core.exceptions import ConflictError

                raise ConflictError(
                    f"a durable task with id {new_id!r} already exists",
                    code="pepperpy.task.duplicate_id",
                    context={"task_id": new_id},
                    hint="Use a new id, or dedup_key= to reuse a queued task.",
                )
            await db.execute(
                "INSERT INTO pepperpy_tasks (id, name, payload, priority, state, run_at, "
                "max_attempts, dedup_key, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                (
                    new_id,
                    name,
                    payload,
                    int(priority),
                    now + (delay or 0.0),
                    attempts_allowed,
                    dedup_key,
                    now,
                ),
            )
            return new_id

        stored: str = await self._transaction(insert)
        if self._wake is not None:
            self._wake.set()
        return stored

    async def get(self, task_id: str) -> DurableTask:
        """Return the stored state of a task.

        Raises:
            NotFoundError: No such task (or its record expired).
        """
        db = self._conn()
        assert self._db_lock is not None
        async with self._db_lock:
            cursor = await db.execute(
                f"SELECT {_COLUMNS} FROM pepperpy_tasks WHERE id = ?", (task_id,)
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFoundError(
                f"no durable task {task_id!r}",
                code="pepperpy.task.not_found",
                context={"task_id": task_id},
                hint="The id is wrong, or the finished task expired (result_ttl).",
            )
        return _row_to_task(row)

    async def result(self, task_id: str, *, timeout: float | None = None) -> Any:
        """Wait for a task to finish and return its result.

        Polls every ``poll_interval`` seconds on the queue's clock.

        Raises:
            DurableTaskError: The task failed for good.
            TaskCancelledError: The task was cancelled.
            OperationTimeoutError: It did not finish within *timeout* seconds.
            NotFoundError: No such task.
        """
        started = self.clock.monotonic()
        while True:
            task = await self.get(task_id)
            if task.state == "done":
                return task.result
            if task.state == "failed":
                raise DurableTaskError(task.id, task.name, task.error or "unknown error")
            if task.state == "cancelled":
                raise TaskCancelledError(
                    f"durable task {task.name!r} ({task.id}) was cancelled",
                    context={"task_id": task.id},
                    hint="Enqueue it again if it still has to run.",
                )
            if timeout is not None and self.clock.monotonic() - started >= timeout:
                raise OperationTimeoutError(
                    f"durable task {task_id!r} not finished after {timeout}s",
                    code="pepperpy.task.result_timeout",
                    context={"task_id": task_id, "state": task.state},
                    hint="Check that a worker (TaskManager(durable=...)) is running.",
                )
            await self.clock.sleep(self.poll_interval)

    async def cancel(self, task_id: str) -> bool:
        """Cancel a durable task: a queued one never runs, a running one is stopped.

        A running task is cancelled by its worker at the worker's next poll
        (within ``poll_interval`` seconds); the cancellation is final, never
        retried, and :meth:`result` raises :class:`TaskCancelledError`.

        Returns:
            ``False`` when the task had already finished.

        Raises:
            NotFoundError: No such task.
        """
        now = self.clock.time()

        async def cancel(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute("SELECT state FROM pepperpy_tasks WHERE id = ?", (task_id,))
            row = await cursor.fetchone()
            if row is None:
                raise NotFoundError(
                    f"no durable task {task_id!r}",
                    code="pepperpy.task.not_found",
                    context={"task_id": task_id},
                    hint="The id is wrong, or the finished task expired (result_ttl).",
                )
            if row[0] == "queued":
                await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'cancelled', finished_at = ?, "
                    "expires_at = ? WHERE id = ?",
                    (now, now + self.result_ttl, task_id),
                )
                return True
            if row[0] == "running":
                await db.execute(
                    "UPDATE pepperpy_tasks SET cancel_requested = 1 WHERE id = ?", (task_id,)
                )
                return True
            return False

        cancelled: bool = await self._transaction(cancel)
        if cancelled and self._wake is not None:
            self._wake.set()
        return cancelled

    async def counts(self) -> dict[str, int]:
        """Return how many stored tasks are in each state."""
        db = self._conn()
        assert self._db_lock is not None
        async with self._db_lock:
            cursor = await db.execute("SELECT state, COUNT(*) FROM pepperpy_tasks GROUP BY state")
            rows = await cursor.fetchall()
        return {str(state): int(count) for state, count in rows}

    async def purge_expired(self) -> int:
        """Delete finished tasks whose ``result_ttl`` has passed; return how many."""
        now = self.clock.time()

        async def purge(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "DELETE FROM pepperpy_tasks WHERE state IN ('done', 'failed', 'cancelled') "
                "AND expires_at < ?",
                (now,),
            )
            return int(cursor.rowcount or 0)

        purged: int = await self._transaction(purge)
        return purged

    # ------------------------------------------------------------------ consuming

    async def _attach(self, manager: TaskManager) -> None:
        if not self.is_running:
            await self.start()
            self._started_by_manager = True
        self._manager = manager
        if self.queue not in manager._queues:
            manager.add_queue(self.queue, self.concurrency)
        loop = asyncio.get_running_loop()
        self._poller = loop.create_task(self._poll())
        self._heartbeat = loop.create_task(self._renew())

    async def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    async def _detach(self) -> None:
        await self._stop_polling()
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        self._manager = None
        if self._started_by_manager:
            self._started_by_manager = False
            await self.stop()

    async def _claim(self, limit: int) -> list[tuple[str, str, str, int, int]]:
        now = self.clock.time()
        lease = now + self.visibility_timeout

        names = sorted(self._functions)
        if not names:
            return []
        marks = ", ".join("?" * len(names))

        async def claim(db: aiosqlite.Connection) -> list[tuple[str, str, str, int, int]]:
            # Only tasks this worker can run: other services may share the file.
            cursor = await db.execute(
                "SELECT id, name, payload, attempts, max_attempts FROM pepperpy_tasks "
                f"WHERE name IN ({marks}) AND ((state = 'queued' AND run_at <= ?) "
                "OR (state = 'running' AND lease_until < ?)) "
                "ORDER BY priority DESC, run_at, rowid LIMIT ?",
                (*names, now, now, limit),
            )
            rows = [tuple(row) for row in await cursor.fetchall()]
            claimed: list[tuple[str, str, str, int, int]] = []
            for task_id, name, payload, attempts, max_attempts in rows:
                if attempts >= max_attempts:  # its last delivery died with its worker
                    await db.execute(
                        "UPDATE pepperpy_tasks SET state = 'failed', lease_until = NULL, "
                        "error = ?, finished_at = ?, expires_at = ? WHERE id = ?",
                        (
                            f"lost: the worker stopped responding during all {attempts} attempts",
                            now,
                            now + self.result_ttl,
                            task_id,
                        ),
                    )
                    continue
                await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'running', lease_until = ?, worker = ?, "
                    "attempts = attempts + 1 WHERE id = ?",
                    (lease, self.worker_id, task_id),
                )
                claimed.append((task_id, name, payload, attempts + 1, max_attempts))
            return claimed

        result: list[tuple[str, str, str, int, int]] = await self._transaction(claim)
        return result

    async def _poll(self) -> None:
        assert self._wake is not None
        wake = self._wake
        polls = 0
        while True:
            manager = self._manager
            assert manager is not None
            free = self.concurrency - len(self._running)
            claimed: list[tuple[str, str, str, int, int]] = []
            if free > 0:
                try:
                    claimed = await self._claim(free)
                except Exception as exc:  # a locked or broken file must not kill the worker
                    logger.warning("durable queue poll failed: %s", exc)
            for task_id, name, payload, attempt, max_attempts in claimed:
                self._running.add(task_id)
                handle = manager.submit(
                    self._execute,
                    task_id,
                    name,
                    payload,
                    attempt,
                    max_attempts,
                    name=f"durable:{name}",
                    queue=self.queue,
                )
                handle.add_done_callback(self._never_started)
                self._handles[task_id] = handle
            if self._running:
                try:
                    await self._check_cancels()
                except Exception as exc:
                    logger.warning("durable queue cancel check failed: %s", exc)
            polls += 1
            if polls % 100 == 0:
                try:
                    await self.purge_expired()
                except Exception as exc:
                    logger.warning("durable queue purge failed: %s", exc)
            if claimed and len(claimed) == free:
                wake.clear()
                await self._wait(wake, self.poll_interval)
                continue
            wake.clear()
            await self._wait(wake, self.poll_interval)

    async def _check_cancels(self) -> None:
        ids = list(self._running)
        db = self._conn()
        assert self._db_lock is not None
        marks = ", ".join("?" * len(ids))
        async with self._db_lock:
            cursor = await db.execute(
                f"SELECT id FROM pepperpy_tasks WHERE id IN ({marks}) AND cancel_requested = 1",
                ids,
            )
            rows = await cursor.fetchall()
        for (task_id,) in rows:
            handle = self._handles.get(task_id)
            if handle is not None and task_id not in self._cancel_requested:
                self._cancel_requested.add(task_id)
                handle.cancel()

    def _never_started(self, handle: Any) -> None:
        """Release a claimed task whose run was cancelled before it started."""
        task_id = handle._job.args[0]
        self._handles.pop(task_id, None)
        if handle.cancelled() and handle.attempts == 0 and task_id in self._running:
            self._running.discard(task_id)
            release = asyncio.ensure_future(self._release(task_id))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)

    async def _wait(self, wake: asyncio.Event, seconds: float) -> None:
        waiter = asyncio.ensure_future(wake.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait((waiter, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
            await asyncio.gather(waiter, sleeper, return_exceptions=True)

    async def _renew(self) -> None:
        while True:
            await self.clock.sleep(self.visibility_timeout / 3)
            if not self._running:
                continue
            lease = self.clock.time() + self.visibility_timeout
            ids = list(self._running)

            async def renew(
                db: aiosqlite.Connection, lease: float = lease, ids: list[str] = ids
            ) -> None:
                await db.executemany(
                    "UPDATE pepperpy_tasks SET lease_until = ? WHERE id = ? AND worker = ? "
                    "AND state = 'running'",
                    [(lease, task_id, self.worker_id) for task_id in ids],
                )

            try:
                await self._transaction(renew)
            except Exception as exc:
                logger.warning("durable queue lease renewal failed: %s", exc)

    async def _execute(
        self, task_id: str, name: str, payload: str, attempt: int, max_attempts: int
    ) -> None:
        try:
            fn = self._functions.get(name)
            if fn is None:
                await self._fail(task_id, f"no task function registered as {name!r}", final=True)
                return
            data = json.loads(payload)
            try:
                if is_async_callable(fn):
                    result = await fn(*data["args"], **data["kwargs"])
                else:  # blocking work stays off the loop
                    result = await asyncio.to_thread(fn, *data["args"], **data["kwargs"])
                    if asyncio.iscoroutine(result):
                        result = await result
                encoded = json.dumps(result)
            except asyncio.CancelledError:
                if task_id in self._cancel_requested:
                    await asyncio.shield(self._mark_cancelled(task_id))
                else:
                    await asyncio.shield(self._release(task_id))
                raise
            except Exception as exc:
                text = f"{type(exc).__name__}: {exc}"
                final = attempt >= max_attempts or not self.retry.should_retry(exc)
                await self._fail(task_id, text, final=final, attempt=attempt)
                return
            await self._complete(task_id, encoded)
        finally:
            self._running.discard(task_id)
            self._handles.pop(task_id, None)
            self._cancel_requested.discard(task_id)
            if self._wake is not None:
                self._wake.set()

    async def _mark_cancelled(self, task_id: str) -> None:
        now = self.clock.time()

        async def mark(db: aiosqlite.Connection) -> None:
            await db.execute(
                "UPDATE pepperpy_tasks SET state = 'cancelled', lease_until = NULL, "
                "finished_at = ?, expires_at = ? WHERE id = ?",
                (now, now + self.result_ttl, task_id),
            )

        try:
            await self._transaction(mark)
        except Exception as exc:
            logger.warning("durable task %s could not be marked cancelled: %s", task_id, exc)

    async def _complete(self, task_id: str, encoded: str) -> None:
        now = self.clock.time()

        async def done(db: aiosqlite.Connection) -> None:
            await db.execute(
                "UPDATE pepperpy_tasks SET state = 'done', result = ?, error = NULL, "
                "lease_until = NULL, finished_at = ?, expires_at = ? WHERE id = ?",
                (encoded, now, now + self.result_ttl, task_id),
            )

        await self._transaction(done)

    async def _fail(self, task_id: str, text: str, *, final: bool, attempt: int = 1) -> None:
        now = self.clock.time()

        async def fail(db: aiosqlite.Connection) -> None:
            if final:
                await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'failed', error = ?, lease_until = NULL, "
                    "finished_at = ?, expires_at = ? WHERE id = ?",
                    (text, now, now + self.result_ttl, task_id),
                )
            else:
                await db.execute(
                    "UPDATE pepperpy_tasks SET state = 'queued', error = ?, lease_until = NULL, "
                    "run_at = ? WHERE id = ?",
                    (text, now + self.retry.delay_for(attempt), task_id),
                )

        await self._transaction(fail)
        if final:
            logger.warning("durable task %s failed: %s", task_id, text)

    async def _release(self, task_id: str) -> None:
        """Give a cancelled task back, without using up an attempt."""

        async def release(db: aiosqlite.Connection) -> None:
            await db.execute(
                "UPDATE pepperpy_tasks SET state = 'queued', lease_until = NULL, worker = NULL, "
                "attempts = MAX(attempts - 1, 0) WHERE id = ? AND state = 'running'",
                (task_id,),
            )

        try:
            await self._transaction(release)
        except Exception as exc:
            logger.warning("durable task %s could not be released: %s", task_id, exc)

    def __repr__(self) -> str:
        return f"<DurableQueue {self.path} {self.state.value}>"
