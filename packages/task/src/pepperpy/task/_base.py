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
    order: state ``"running"``, ``attempts + 1``, the lease, :attr:`worker_id`
    and a new **fencing token** (unique per claim, returned in the
    :class:`Claim`). An expired task that already used ``max_attempts``
    becomes ``"failed"`` (error :func:`lost_error`, expiring at *expires_at*)
    instead, and one whose cancellation was requested becomes ``"cancelled"``.
    Two workers never claim the same delivery.
``_renew_leases(leases: dict[id, token], lease_until)``
    Extend the leases of these tasks while they still hold these tokens.
``_cancel_flags(ids) -> set[str]``
    Which of these tasks have a cancellation request.

Every write a worker makes about a claimed task is **fenced**: it applies only
while the task is ``"running"`` with the claim's *token* (no other worker
claimed it since, e.g. after this one was paused past its lease), and returns
whether it applied:

``_finish(task_id, state, now, expires_at, *, token, result=None, error=None) -> bool``
    Final state ``"done"`` (with the JSON *result*), ``"failed"`` (with
    *error*) or ``"cancelled"``; the lease ends and the dedup key is free.
``_retry_later(task_id, run_at, error, now, expires_at, *, token) -> bool``
    Back to ``"queued"`` at *run_at* with the error of the failed attempt;
    ``"cancelled"`` instead when its cancellation was requested.
``_release(task_id, now, expires_at, *, token) -> bool``
    Back to ``"queued"`` without using an attempt (a graceful shutdown);
    ``"cancelled"`` instead when its cancellation was requested.

Operations for operators (the ``pepperpy-task failed`` command):

``_list_state(state, limit) -> list[DurableTask]``
    Up to *limit* stored tasks in *state*, oldest first.
``_requeue_failed(task_id, now) -> bool``
    A ``"failed"`` task becomes ``"queued"`` (due now, attempts back to 0).
``_delete_state(state) -> int``
    Delete every task in the (final) *state*; how many.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

import attrs

from pepperpy.core import safe_str
from pepperpy.core.exceptions import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
)
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, Lifecycle, system_clock
from pepperpy.core.utils import RetryPolicy, is_async_callable
from pepperpy.task._handle import TaskCancelledError, TaskError, TaskHandle, TaskTimeoutError

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
    """One delivery a worker claimed: what it needs to run the task.

    ``token`` is the claim's fencing token: the worker's later writes about
    the task apply only while the store still holds this token.
    """

    id: str
    name: str
    payload: str
    attempt: int
    max_attempts: int
    token: str = ""


def lost_error(attempts: int) -> str:
    """The error stored for a task whose worker died during its last allowed delivery."""
    return f"lost: the worker stopped responding during all {attempts} attempts"


def _positive_seconds(label: str, value: object, *, code: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidArgumentError(
            f"{label} must be a number of seconds > 0, got {_safe_repr(value)}",
            code=code,
            hint=f"Pass {label} in seconds, e.g. {label}=30.",
        )
    return float(value)


@attrs.frozen
class _CronSpec:
    expression: Any  # CronExpression
    tz: Any
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    grace: float
    priority: int
    max_attempts: int | None
    key: str


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
        task_timeout: Seconds one attempt of a task may run (``None``: no
            limit; ``register(timeout=)`` sets it per function, like arq's
            ``job_timeout``); a slow attempt fails with
            :class:`~pepperpy.task.TaskTimeoutError` and is retried up to
            ``max_attempts``. A sync function's thread cannot be interrupted: its
            attempt fails at the timeout, and its slot is free when the thread ends.
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
        task_timeout: float | None = None,
        clock: Clock = system_clock,
    ) -> None:
        if task_timeout is not None:
            task_timeout = _positive_seconds(
                "task_timeout", task_timeout, code="pepperpy.task.task_timeout"
            )
        visibility_timeout = _positive_seconds(
            "visibility_timeout", visibility_timeout, code="pepperpy.task.visibility_timeout"
        )
        result_ttl = _positive_seconds("result_ttl", result_ttl, code="pepperpy.task.result_ttl")
        poll_interval = _positive_seconds(
            "poll_interval", poll_interval, code="pepperpy.task.poll_interval"
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
        self.task_timeout = task_timeout
        self._timeouts: dict[str, float | None] = {}
        self._lingering: dict[str, asyncio.Future[Any]] = {}
        self._crons: list[_CronSpec] = []
        self._cron_tasks: list[asyncio.Task[None]] = []
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._functions: dict[str, Callable[..., Any]] = {}
        self._manager: TaskManager | None = None
        self._poller: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._running: dict[str, str] = {}  # claimed task id -> its fencing token
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

    async def _renew_leases(self, leases: dict[str, str], lease_until: float) -> None:
        """Move the leases of the tasks still held with these tokens to *lease_until*."""
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
        token: str,
        result: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Store a final state while the claim *token* holds; whether it applied."""
        raise NotImplementedError

    async def _retry_later(
        self, task_id: str, run_at: float, error: str, now: float, expires_at: float, *, token: str
    ) -> bool:
        """Queue the task again at *run_at* (or cancel it, if asked); fenced by *token*."""
        raise NotImplementedError

    async def _release(self, task_id: str, now: float, expires_at: float, *, token: str) -> bool:
        """Give a running task back without using an attempt (or cancel it, if asked)."""
        raise NotImplementedError

    async def _list_state(self, state: str, limit: int) -> list[DurableTask]:
        """Up to *limit* stored tasks in *state*, oldest first."""
        raise NotImplementedError

    async def _requeue_failed(self, task_id: str, now: float) -> bool:
        """Queue a failed task again (attempts back to 0); ``False`` if it is not failed."""
        raise NotImplementedError

    async def _delete_state(self, state: str) -> int:
        """Delete every stored task in the final *state*; return how many."""
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
    def register(
        self, fn: None = None, /, *, name: str | None = None, timeout: float | None = None
    ) -> Callable[[F], F]: ...

    def register(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Register a task function under *name* (default: its ``__name__``).

        Use as ``@queue.register`` or ``@queue.register(name="emails.send")``.
        Every process that runs tasks registers the same names. *timeout*
        limits each attempt of this function (default: ``task_timeout``).
        """
        limit = (
            None
            if timeout is None
            else _positive_seconds("timeout", timeout, code="pepperpy.task.invalid_timeout")
        )

        def decorate(func: Any) -> Any:
            key = name or getattr(func, "__name__", None)
            if not key or not callable(func):
                raise InvalidArgumentError(
                    f"cannot register {_safe_repr(func)} as a durable task",
                    code="pepperpy.task.register",
                    hint="Register a named function, or pass name=.",
                )
            self._functions[key] = func
            if timeout is not None:
                self._timeouts[key] = limit
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

    # ------------------------------------------------------------------ durable schedules

    def cron(
        self,
        expression: str,
        name: str,
        /,
        *args: Any,
        tz: Any = None,
        grace: float = 60.0,
        priority: int = 0,
        max_attempts: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Enqueue the task *name* at the times of a cron *expression*, once per fire time.

        Every worker process (every ``TaskManager(durable=queue)``) runs the
        schedule, and all of them enqueue the same task id for a fire time
        (``cron:<name>:<key>:<timestamp>``, a dedup key per fire time as arq
        does), so the task runs once per fire time however many workers there
        are, and a restarted worker does not run a fire time again (as long as
        its record is kept, ``result_ttl``). A fire time missed by more than
        *grace* seconds (every worker was down) is skipped. The expression and
        *tz* are read as in :meth:`TaskManager.cron`.

        Call it before the manager starts (like :meth:`register`).

        Raises:
            InvalidArgumentError: A malformed expression or bad *grace*.
        """
        from pepperpy.task._cron import CronExpression

        parsed = CronExpression(expression)
        grace_s = _positive_seconds("grace", grace, code="pepperpy.task.grace")
        try:
            payload = json.dumps([expression, str(tz), list(args), kwargs], sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"arguments of durable schedule {name!r} are not JSON values: {exc}",
                code="pepperpy.task.payload",
                context={"name": name},
                hint="Pass ids, strings, numbers, lists and dicts.",
            ) from exc
        key = hashlib.blake2b(payload.encode(), digest_size=6).hexdigest()
        self._crons.append(
            _CronSpec(parsed, tz, name, args, kwargs, grace_s, int(priority), max_attempts, key)
        )
        if self._manager is not None:  # already consuming: start it now
            self._start_cron(self._crons[-1])

    def _start_cron(self, spec: _CronSpec) -> None:
        task = asyncio.get_running_loop().create_task(self._cron_loop(spec))
        self._cron_tasks.append(task)

    async def _cron_loop(self, spec: _CronSpec) -> None:
        from pepperpy.task._schedule import CronTrigger

        trigger = CronTrigger(spec.expression, spec.tz)
        clock = self.clock
        # The latest fire time within the grace period runs too (a worker restarted
        # right after it); its id makes sure it runs once.
        fire = trigger.next(clock.time() - spec.grace)
        while True:
            now = clock.time()
            if now < fire:
                await clock.sleep(fire - now)
                continue
            if now - fire <= spec.grace:
                task_id = f"cron:{spec.name}:{spec.key}:{int(fire)}"
                try:
                    await self.enqueue(
                        spec.name,
                        *spec.args,
                        task_id=task_id,
                        priority=spec.priority,
                        max_attempts=spec.max_attempts,
                        **spec.kwargs,
                    )
                except ConflictError:
                    pass  # another worker (or this one before a restart) enqueued it
                except Exception as exc:
                    logger.warning(
                        "durable schedule %s could not enqueue its run at %s: %s",
                        spec.name,
                        fire,
                        exc,
                    )
            else:
                logger.info("durable schedule %s skipped its run at %s (late)", spec.name, fire)
            fire = trigger.next(fire)

    # ------------------------------------------------------------------ operators

    async def failed(self, limit: int = 100) -> list[DurableTask]:
        """Return up to *limit* failed tasks, oldest first."""
        self._ensure_running()
        return await self._list_state("failed", max(1, int(limit)))

    async def retry_failed(self, task_id: str | None = None) -> int:
        """Queue failed tasks again (one, or all when *task_id* is ``None``); return how many.

        Each gets ``max_attempts`` fresh attempts; its last error is kept until it runs.
        """
        self._ensure_running()
        if task_id is not None:
            ids = [task_id]
        else:
            ids = [t.id for t in await self._list_state("failed", 1_000_000)]
        count = 0
        for one in ids:
            if await self._requeue_failed(one, self.clock.time()):
                count += 1
        if count:
            self._woken()
        return count

    async def purge_failed(self) -> int:
        """Delete every failed task now (not waiting for ``result_ttl``); return how many."""
        self._ensure_running()
        return await self._delete_state("failed")

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
        for spec in self._crons:
            self._start_cron(spec)

    async def _stop_polling(self) -> None:
        crons, self._cron_tasks = self._cron_tasks, []
        for task in crons:
            await _cancel_for_sure(task)
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
                self._running[claim.id] = claim.token
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
            await self._give_back(claim)

    async def _check_cancels(self) -> None:
        flagged = await self._cancel_flags(sorted(self._running))
        for task_id in flagged:
            handle = self._handles.get(task_id)
            if handle is not None and task_id not in self._cancel_requested:
                self._cancel_requested.add(task_id)
                handle.cancel()

    def _never_started(self, handle: Any) -> None:
        """Release a claimed task whose run was cancelled before it started.

        The store turns it ``"cancelled"`` instead when its cancellation was requested.
        """
        claim: Claim = handle._job.args[0]
        self._handles.pop(claim.id, None)
        if handle.cancelled() and handle.attempts == 0 and claim.id in self._running:
            self._running.pop(claim.id, None)
            self._cancel_requested.discard(claim.id)
            release = asyncio.ensure_future(self._give_back(claim))
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
                # Fenced: a lease another worker took over (this one was paused past
                # it) is not extended.
                await self._renew_leases(dict(self._running), lease)
            except Exception as exc:
                logger.warning("durable queue lease renewal failed: %s", exc)

    async def _invoke(self, claim: Claim, fn: Callable[..., Any], data: Any) -> Any:
        """Run the task function, within its timeout (``register(timeout=)`` / ``task_timeout``)."""
        timeout = self._timeouts.get(claim.name, self.task_timeout)
        args, kwargs = data["args"], data["kwargs"]
        if is_async_callable(fn):
            if timeout is None:
                return await fn(*args, **kwargs)
            work: asyncio.Future[Any] = asyncio.ensure_future(fn(*args, **kwargs))
        else:  # blocking work stays off the loop
            work = asyncio.get_running_loop().run_in_executor(
                None, functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
            )
            if timeout is None:
                result = await work
                return (await result) if asyncio.iscoroutine(result) else result
        sleeper = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait((work, sleeper), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            work.cancel()
            if isinstance(work, asyncio.Task):  # let its cleanup run before the bookkeeping
                await asyncio.gather(work, return_exceptions=True)
            raise
        finally:
            sleeper.cancel()
        if not work.done():
            if isinstance(work, asyncio.Task):
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            error = TaskTimeoutError(
                f"durable task {claim.name!r} ({claim.id}) timed out after {timeout}s",
                context={"task_id": claim.id, "timeout": timeout, "attempt": claim.attempt},
                hint="Raise the timeout (register(timeout=) or task_timeout=), or make the "
                "task faster.",
            )
            if not isinstance(work, asyncio.Task):
                # A thread cannot be interrupted: _execute stores the failure, then
                # keeps the slot until the thread ends.
                self._lingering[claim.id] = work
            raise error
        result = work.result()
        return (await result) if asyncio.iscoroutine(result) else result

    async def _execute(self, claim: Claim) -> None:
        task_id = claim.id
        try:
            fn = self._functions.get(claim.name)
            if fn is None:
                await self._store_failure(
                    claim, f"no task function registered as {claim.name!r}", final=True
                )
                return
            data = json.loads(claim.payload)
            try:
                result = await self._invoke(claim, fn, data)
                encoded = json.dumps(result)
            except asyncio.CancelledError:
                if task_id in self._cancel_requested:
                    await asyncio.shield(self._mark_cancelled(claim))
                else:
                    await asyncio.shield(self._give_back(claim))
                raise
            except Exception as exc:
                # Stored and shown by `pepperpy-task failed`: it leaves the process, so it
                # goes through the redactor (which never raises on a hostile __str__).
                text = f"{type(exc).__name__}: {safe_str(exc, 2000)}"
                try:
                    final = claim.attempt >= claim.max_attempts or not self.retry.should_retry(exc)
                except Exception as hook_error:  # a raising retry_on: fail now, say why
                    final = True
                    text += (
                        f" (and retry_on raised {type(hook_error).__name__}: "
                        f"{safe_str(hook_error, 500)})"
                    )
                await self._store_failure(claim, text, final=final)
                thread = self._lingering.pop(task_id, None)
                if thread is not None:  # a timed-out sync attempt: its slot ends with it
                    await asyncio.gather(thread, return_exceptions=True)
                return
            now = self.clock.time()
            try:
                stored = await self._finish(
                    task_id, "done", now, now + self.result_ttl, token=claim.token, result=encoded
                )
            except Exception as exc:
                # The lease runs out and the task is delivered again (at least once).
                logger.warning(
                    "durable task %s finished but its result could not be stored; it runs "
                    "again after its lease: %s",
                    task_id,
                    exc,
                )
            else:
                if not stored:
                    _fenced(task_id, "its result")
        finally:
            self._lingering.pop(task_id, None)
            self._running.pop(task_id, None)
            self._handles.pop(task_id, None)
            self._cancel_requested.discard(task_id)
            self._woken()

    async def _store_failure(self, claim: Claim, text: str, *, final: bool) -> None:
        task_id = claim.id
        now = self.clock.time()
        try:
            if final:
                stored = await self._finish(
                    task_id, "failed", now, now + self.result_ttl, token=claim.token, error=text
                )
            else:
                run_at = now + self.retry.delay_for(claim.attempt)
                stored = await self._retry_later(
                    task_id, run_at, text, now, now + self.result_ttl, token=claim.token
                )
        except Exception as exc:
            logger.warning(
                "durable task %s failed (%s) and that could not be stored; it runs again "
                "after its lease: %s",
                task_id,
                text,
                exc,
            )
            return
        if not stored:
            _fenced(task_id, f"its failure ({text})")
        elif final:
            logger.warning("durable task %s failed: %s", task_id, text)

    async def _mark_cancelled(self, claim: Claim) -> None:
        now = self.clock.time()
        try:
            stored = await self._finish(
                claim.id, "cancelled", now, now + self.result_ttl, token=claim.token
            )
        except Exception as exc:
            logger.warning("durable task %s could not be marked cancelled: %s", claim.id, exc)
        else:
            if not stored:
                _fenced(claim.id, "its cancellation")

    async def _give_back(self, claim: Claim) -> None:
        now = self.clock.time()
        try:
            await self._release(claim.id, now, now + self.result_ttl, token=claim.token)
        except Exception as exc:
            logger.warning("durable task %s could not be released: %s", claim.id, exc)


def _fenced(task_id: str, what: str) -> None:
    logger.warning(
        "durable task %s: %s was not stored: this worker no longer holds the task's lease "
        "(it was paused or cut off past visibility_timeout and another worker claimed it)",
        task_id,
        what,
    )
