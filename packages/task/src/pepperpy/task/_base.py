"""The durable queue's worker loop and the storage contract every backend implements.

:class:`DurableQueueBase` owns everything that is the same whatever stores the
tasks: registration, argument checks, polling and wake-ups, the lease-renewal
timer, the claimed tasks' handles in the :class:`~pepperpy.task.TaskManager`,
running the functions (sync ones in a thread), retries with backoff, and
cancellation. It reaches the stored tasks only through the storage operations
below, which a backend implements (SQLite: :class:`~pepperpy.task.DurableQueue`,
Redis: :class:`~pepperpy.task.RedisQueue`, PostgreSQL:
:class:`~pepperpy.task.PostgresQueue`). Each operation is atomic: it is applied
whole or not at all, so a crash or a dropped connection never leaves half of it.

Storage contract (times are ``clock.time()`` values, computed by the caller):

``_open()`` / ``_close()``
    Connect (and create the schema, idempotently) / disconnect.
``_insert(task: NewTask) -> str``
    Store a queued task and return its id; when ``task.dedup_key`` is held by a
    queued or running task, store nothing and return that task's id; when the
    id exists, raise :meth:`_duplicate_id`.
``_load(task_id) -> DurableTask | None``
    The stored task, or ``None``.
``_request_cancel(task_id, now, expires_at) -> bool | None``
    A queued task becomes ``"cancelled"``; a running one gets its cancel flag;
    ``False`` for a finished task, ``None`` for a missing one.
``_count_states() -> dict[str, int]``
    Stored tasks per state (states with none may be left out).
``_purge(now) -> int``
    Delete finished tasks with ``expires_at < now``; how many.
``_claim(limit, names, now, lease_until, expires_at) -> list[Claim]``
    Among tasks whose name is in *names* that are queued with ``run_at <= now``
    or running with ``lease_until < now`` (their worker died), take up to
    *limit*, highest priority first, then earliest ``run_at``, then insertion
    order: state ``"running"``, ``attempts + 1``, the lease and
    :attr:`worker_id`. An expired task that already used ``max_attempts``
    becomes ``"failed"`` (error :func:`lost_error`, expiring at *expires_at*)
    instead. Two workers never claim the same delivery.
``_renew_leases(ids, lease_until)``
    Extend the leases of these tasks while this worker still holds them.
``_cancel_flags(ids) -> set[str]``
    Which of these tasks have a cancellation request.
``_finish(task_id, state, now, expires_at, *, result=None, error=None)``
    Final state ``"done"`` (with the JSON *result*), ``"failed"`` (with
    *error*) or ``"cancelled"``; the lease ends and the dedup key is free.
``_retry_later(task_id, run_at, error)``
    Back to ``"queued"`` at *run_at* with the error of the failed attempt.
``_release(task_id)``
    Back to ``"queued"`` without using an attempt (a graceful shutdown), only
    while it is running.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

import attrs

from pepperpy.core.exceptions import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
)
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, Lifecycle, system_clock
from pepperpy.core.utils import RetryPolicy, is_async_callable
from pepperpy.task._handle import TaskCancelledError, TaskError, TaskHandle

if TYPE_CHECKING:
    from pepperpy.task._manager import TaskManager

__all__ = [
    "Claim",
    "DurableQueueBase",
    "DurableTask",
    "DurableTaskError",
    "NewTask",
    "lost_error",
]

logger = logging.getLogger("pepperpy.task")

F = TypeVar("F", bound=Callable[..., Any])

FINISHED_STATES = ("done", "failed", "cancelled")


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
        return self.state in FINISHED_STATES


@attrs.frozen
class NewTask:
    """A task to store (what :meth:`DurableQueueBase.enqueue` hands a backend).

    ``payload`` is the JSON text ``{"args": [...], "kwargs": {...}}``.
    """

    id: str
    name: str
    payload: str
    priority: int
    run_at: float
    max_attempts: int
    dedup_key: str | None
    created_at: float


class Claim(NamedTuple):
    """One delivery a worker claimed: what it needs to run the task."""

    id: str
    name: str
    payload: str
    attempt: int
    max_attempts: int


def lost_error(attempts: int) -> str:
    """The error stored for a task whose worker died during its last allowed delivery."""
    return f"lost: the worker stopped responding during all {attempts} attempts"


def _not_found(task_id: str) -> NotFoundError:
    return NotFoundError(
        f"no durable task {task_id!r}",
        code="pepperpy.task.not_found",
        context={"task_id": task_id},
        hint="The id is wrong, or the finished task expired (result_ttl).",
    )


async def _cancel_for_sure(task: asyncio.Task[None]) -> None:
    """Cancel *task* and wait for it, cancelling again if a library swallowed it.

    Some drivers lose a cancellation that lands inside their own timeout
    handling on Python < 3.11; the loops also stop once they are no longer the
    queue's current poller/heartbeat, so this always ends.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("durable queue loop ended with an error: %r", task.exception())


class DurableQueueBase(Lifecycle):
    """A durable task queue: the worker loop, over a backend's storage operations.

    Producers ``await queue.enqueue("name", *args)``; a :class:`TaskManager`
    created with ``durable=queue`` claims ready tasks whose name it has
    registered (several services can share one queue), runs the function, and
    stores its JSON result for ``result_ttl`` seconds. A claim is a lease of
    ``visibility_timeout`` seconds, renewed while the task runs: when a worker
    dies mid-task, the lease expires and another worker (or the restarted one)
    runs the task again. Delivery is therefore at-least-once: make tasks
    idempotent.

    This class is not used directly: :class:`DurableQueue` (SQLite),
    :class:`RedisQueue` and :class:`PostgresQueue` store the tasks; any of
    them can be passed to ``TaskManager(durable=...)``. The module docstring
    of ``pepperpy.task._base`` documents the storage contract a new backend
    implements.

    Args:
        queue: The manager's work queue the tasks run in (created on attach).
        concurrency: Slots of that work queue.
        visibility_timeout: Seconds a claim lasts without renewal.
        result_ttl: Seconds finished tasks (results and errors) are kept.
        poll_interval: Seconds between polls for ready tasks.
        max_attempts: Default deliveries allowed per task.
        retry: Backoff between failed attempts (its ``attempts`` is ignored:
            ``max_attempts`` rules).
        clock: Time source (wall-clock ``time()`` values are stored).
    """

    def __init__(
        self,
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
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidArgumentError(
                f"concurrency must be an integer >= 1, got {_safe_repr(concurrency)}",
                code="pepperpy.task.concurrency",
                hint="concurrency is how many durable tasks this worker runs at once.",
            )
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
        self._manager: TaskManager | None = None
        self._poller: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._running: set[str] = set()
        self._handles: dict[str, TaskHandle[Any]] = {}
        self._cancel_requested: set[str] = set()
        self._releases: set[asyncio.Future[None]] = set()
        self._started_by_manager = False

    # ------------------------------------------------------------------ storage contract

    async def _open(self) -> None:
        """Connect to the storage and create its schema (idempotent)."""
        raise NotImplementedError

    async def _close(self) -> None:
        """Disconnect; must tolerate a partial :meth:`_open`."""
        raise NotImplementedError

    async def _insert(self, task: NewTask) -> str:
        """Store *task* (see the module docstring); return the stored or dedup'ed id."""
        raise NotImplementedError

    async def _load(self, task_id: str) -> DurableTask | None:
        """Return the stored task, or ``None``."""
        raise NotImplementedError

    async def _request_cancel(self, task_id: str, now: float, expires_at: float) -> bool | None:
        """Cancel a queued task or flag a running one; ``False`` finished, ``None`` missing."""
        raise NotImplementedError

    async def _count_states(self) -> dict[str, int]:
        """Return the number of stored tasks per state."""
        raise NotImplementedError

    async def _purge(self, now: float) -> int:
        """Delete finished tasks whose ``expires_at`` is before *now*; return how many."""
        raise NotImplementedError

    async def _claim(
        self, limit: int, names: list[str], now: float, lease_until: float, expires_at: float
    ) -> list[Claim]:
        """Claim up to *limit* ready deliveries of *names* (see the module docstring)."""
        raise NotImplementedError

    async def _renew_leases(self, ids: list[str], lease_until: float) -> None:
        """Move the leases of the tasks this worker still holds to *lease_until*."""
        raise NotImplementedError

    async def _cancel_flags(self, ids: list[str]) -> set[str]:
        """Return the ids among *ids* whose cancellation was requested."""
        raise NotImplementedError

    async def _finish(
        self,
        task_id: str,
        state: str,
        now: float,
        expires_at: float,
        *,
        result: str | None = None,
        error: str | None = None,
    ) -> None:
        """Store a final state (``"done"``, ``"failed"`` or ``"cancelled"``)."""
        raise NotImplementedError

    async def _retry_later(self, task_id: str, run_at: float, error: str) -> None:
        """Queue the task again at *run_at*, keeping the failed attempt's *error*."""
        raise NotImplementedError

    async def _release(self, task_id: str) -> None:
        """Give a running task back without using an attempt."""
        raise NotImplementedError

    def _duplicate_id(self, task_id: str) -> ConflictError:
        """The error :meth:`_insert` raises when *task_id* is stored already."""
        return ConflictError(
            f"a durable task with id {task_id!r} already exists",
            code="pepperpy.task.duplicate_id",
            context={"task_id": task_id},
            hint="Use a new id, or dedup_key= to reuse a queued task.",
        )

    def _woken(self) -> None:
        """Wake the poller now (a backend calls it when it learns of new work)."""
        if self._wake is not None:
            self._wake.set()

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
        self._wake = asyncio.Event()
        await self._open()

    async def _on_stop(self) -> None:
        await self._close()

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

        When this returns, the task is stored (a crash of the producer, the
        worker or the server afterwards does not lose it).

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
            ConflictError: *task_id* exists already.
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
        if max_attempts is not None and (
            isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1
        ):
            raise InvalidArgumentError(
                f"max_attempts must be an integer >= 1, got {_safe_repr(max_attempts)}",
                code="pepperpy.task.max_attempts",
                hint="max_attempts counts every delivery, the first included.",
            )
        self._ensure_running()
        now = self.clock.time()
        stored = await self._insert(
            NewTask(
                id=task_id or uuid.uuid4().hex,
                name=name,
                payload=payload,
                priority=int(priority),
                run_at=now + (delay or 0.0),
                max_attempts=max_attempts or self.max_attempts,
                dedup_key=dedup_key,
                created_at=now,
            )
        )
        self._woken()
        return stored

    async def get(self, task_id: str) -> DurableTask:
        """Return the stored state of a task.

        Raises:
            NotFoundError: No such task (or its record expired).
        """
        self._ensure_running()
        task = await self._load(task_id)
        if task is None:
            raise _not_found(task_id)
        return task

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
        self._ensure_running()
        now = self.clock.time()
        cancelled = await self._request_cancel(task_id, now, now + self.result_ttl)
        if cancelled is None:
            raise _not_found(task_id)
        if cancelled:
            self._woken()
        return cancelled

    async def counts(self) -> dict[str, int]:
        """Return how many stored tasks are in each state (states with none are left out)."""
        self._ensure_running()
        return {state: n for state, n in (await self._count_states()).items() if n}

    async def purge_expired(self) -> int:
        """Delete finished tasks whose ``result_ttl`` has passed; return how many."""
        self._ensure_running()
        return await self._purge(self.clock.time())

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
        self._heartbeat = loop.create_task(self._renewer())

    async def _stop_polling(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            await _cancel_for_sure(poller)

    async def _detach(self) -> None:
        await self._stop_polling()
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            await _cancel_for_sure(heartbeat)
        self._manager = None
        if self._started_by_manager:
            self._started_by_manager = False
            await self.stop()

    async def _claim_ready(self, limit: int) -> list[Claim]:
        names = sorted(self._functions)
        if not names:
            return []
        now = self.clock.time()
        return await self._claim(
            limit, names, now, now + self.visibility_timeout, now + self.result_ttl
        )

    async def _poll(self) -> None:
        assert self._wake is not None
        wake = self._wake
        polls = 0
        failing = False
        while asyncio.current_task() is self._poller:
            manager = self._manager
            assert manager is not None
            free = self.concurrency - len(self._running)
            claimed: list[Claim] = []
            if free > 0:
                try:
                    claimed = await self._claim_shielded(free)
                except Exception as exc:  # a locked file or a lost server must not kill it
                    # One warning per outage, not one per poll.
                    level = logging.DEBUG if failing else logging.WARNING
                    logger.log(level, "durable queue poll failed (retrying): %s", exc)
                    failing = True
                else:
                    if failing:
                        logger.warning("durable queue polls again after a failure")
                    failing = False
            for index, claim in enumerate(claimed):
                try:
                    handle = manager.submit(
                        self._execute,
                        claim,
                        name=f"durable:{claim.name}",
                        queue=self.queue,
                    )
                except BaseException:  # the manager is stopping: hand the rest back
                    await asyncio.shield(self._give_back_all(claimed[index:]))
                    raise
                self._running.add(claim.id)
                handle.add_done_callback(self._never_started)
                self._handles[claim.id] = handle
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
            wake.clear()
            await self._wait(wake, self.poll_interval)

    async def _claim_shielded(self, limit: int) -> list[Claim]:
        """Claim; if the poller is cancelled meanwhile, give back what the store handed out.

        Otherwise a shutdown landing mid-claim would leave those tasks leased to
        nobody until the lease runs out, and use up one of their attempts.
        """
        job = asyncio.ensure_future(self._claim_ready(limit))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            give_back = asyncio.ensure_future(self._give_back_claimed(job))
            self._releases.add(give_back)
            give_back.add_done_callback(self._releases.discard)
            raise

    async def _give_back_claimed(self, job: asyncio.Future[list[Claim]]) -> None:
        try:
            claimed = await job
        except Exception:  # the claim itself failed: nothing was handed out
            return
        await self._give_back_all(claimed)

    async def _give_back_all(self, claims: list[Claim]) -> None:
        for claim in claims:
            await self._give_back(claim.id)

    async def _check_cancels(self) -> None:
        flagged = await self._cancel_flags(sorted(self._running))
        for task_id in flagged:
            handle = self._handles.get(task_id)
            if handle is not None and task_id not in self._cancel_requested:
                self._cancel_requested.add(task_id)
                handle.cancel()

    def _never_started(self, handle: Any) -> None:
        """Release a claimed task whose run was cancelled before it started."""
        task_id = handle._job.args[0].id
        self._handles.pop(task_id, None)
        if handle.cancelled() and handle.attempts == 0 and task_id in self._running:
            self._running.discard(task_id)
            release = asyncio.ensure_future(self._give_back(task_id))
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

    async def _renewer(self) -> None:
        while asyncio.current_task() is self._heartbeat:
            await self.clock.sleep(self.visibility_timeout / 3)
            if not self._running:
                continue
            lease = self.clock.time() + self.visibility_timeout
            try:
                await self._renew_leases(sorted(self._running), lease)
            except Exception as exc:
                logger.warning("durable queue lease renewal failed: %s", exc)

    async def _execute(self, claim: Claim) -> None:
        task_id = claim.id
        try:
            fn = self._functions.get(claim.name)
            if fn is None:
                await self._store_failure(
                    task_id, f"no task function registered as {claim.name!r}", final=True
                )
                return
            data = json.loads(claim.payload)
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
                    await asyncio.shield(self._give_back(task_id))
                raise
            except Exception as exc:
                text = f"{type(exc).__name__}: {exc}"
                final = claim.attempt >= claim.max_attempts or not self.retry.should_retry(exc)
                await self._store_failure(task_id, text, final=final, attempt=claim.attempt)
                return
            now = self.clock.time()
            try:
                await self._finish(task_id, "done", now, now + self.result_ttl, result=encoded)
            except Exception as exc:
                # The lease runs out and the task is delivered again (at least once).
                logger.warning(
                    "durable task %s finished but its result could not be stored; it runs "
                    "again after its lease: %s",
                    task_id,
                    exc,
                )
        finally:
            self._running.discard(task_id)
            self._handles.pop(task_id, None)
            self._cancel_requested.discard(task_id)
            self._woken()

    async def _store_failure(
        self, task_id: str, text: str, *, final: bool, attempt: int = 1
    ) -> None:
        try:
            if final:
                now = self.clock.time()
                await self._finish(task_id, "failed", now, now + self.result_ttl, error=text)
            else:
                run_at = self.clock.time() + self.retry.delay_for(attempt)
                await self._retry_later(task_id, run_at, text)
        except Exception as exc:
            logger.warning(
                "durable task %s failed (%s) and that could not be stored; it runs again "
                "after its lease: %s",
                task_id,
                text,
                exc,
            )
            return
        if final:
            logger.warning("durable task %s failed: %s", task_id, text)

    async def _mark_cancelled(self, task_id: str) -> None:
        now = self.clock.time()
        try:
            await self._finish(task_id, "cancelled", now, now + self.result_ttl)
        except Exception as exc:
            logger.warning("durable task %s could not be marked cancelled: %s", task_id, exc)

    async def _give_back(self, task_id: str) -> None:
        try:
            await self._release(task_id)
        except Exception as exc:
            logger.warning("durable task %s could not be released: %s", task_id, exc)
