"""The :class:`TaskManager`: named bounded queues, priorities, retries, timeouts, shutdown."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import heapq
import itertools
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

import attrs

from pepperpy.core.exceptions import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
    safe_repr,
)
from pepperpy.core.types import Clock, Lifecycle, LifecycleState, system_clock
from pepperpy.core.utils import RetryPolicy, is_async_callable
from pepperpy.task._handle import (
    QueueFullError,
    TaskCancelledError,
    TaskHandle,
    TaskStatus,
    TaskTimeoutError,
)

if TYPE_CHECKING:
    from pepperpy.task._base import DurableQueueBase
    from pepperpy.task._group import TaskGroup
    from pepperpy.task._schedule import MissedRunPolicy, Schedule

__all__ = ["QueueStats", "ShutdownReport", "TaskEvent", "TaskManager"]

logger = logging.getLogger("pepperpy.task")

T = TypeVar("T")

_KEEP_FINISHED = 10_000


@attrs.frozen
class ShutdownReport:
    """What :meth:`TaskManager.shutdown` did.

    Attributes:
        completed: Tasks that finished while draining.
        cancelled: Handles of the tasks cancelled because the drain timed out
            (or that were still scheduled for later).
        timed_out: Whether the drain ran out of time.
    """

    completed: int
    cancelled: tuple[TaskHandle[Any], ...]
    timed_out: bool


@attrs.frozen
class TaskEvent:
    """What a hook added with :meth:`TaskManager.add_hook` receives.

    Attributes:
        kind: ``"started"``, ``"succeeded"``, ``"failed"``, ``"retrying"`` or
            ``"cancelled"``.
        task_id: The task id.
        name: The task name.
        queue: The work queue.
        attempt: The attempt number (0 when cancelled before starting).
        seconds: How long the attempt ran (0 for ``"started"`` and for a task
            cancelled before it started).
        error: The attempt's exception for ``"failed"`` and ``"retrying"``.
    """

    kind: str
    task_id: str
    name: str
    queue: str
    attempt: int
    seconds: float = 0.0
    error: BaseException | None = None


@attrs.frozen
class QueueStats:
    """A snapshot of one work queue."""

    name: str
    concurrency: int
    running: int
    pending: int
    submitted: int
    succeeded: int
    failed: int
    cancelled: int
    retried: int


class _Queue:
    __slots__ = (
        "cancelled",
        "failed",
        "heap",
        "limit",
        "max_pending",
        "name",
        "retried",
        "room",
        "running",
        "submitted",
        "succeeded",
        "waiting",
    )

    def __init__(self, name: str, limit: int, max_pending: int | None) -> None:
        self.name = name
        self.limit = limit
        self.max_pending = max_pending
        self.running = 0
        self.waiting = 0
        self.heap: list[tuple[int, int, _Job]] = []
        self.room: list[asyncio.Future[None]] = []  # spawn() callers waiting for room
        self.submitted = self.succeeded = self.failed = self.cancelled = self.retried = 0


class _Job:
    __slots__ = (
        "args",
        "began",
        "ctx",
        "first_at",
        "fn",
        "handle",
        "is_async",
        "kwargs",
        "queue",
        "retry",
        "slot",
        "task",
        "thread",
        "timed_out",
        "timeout",
        "timer",
    )

    def __init__(
        self,
        handle: TaskHandle[Any],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        queue: _Queue,
        retry: RetryPolicy | None,
        timeout: float | None,
    ) -> None:
        self.handle = handle
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.queue = queue
        self.retry = retry
        self.timeout = timeout
        self.is_async = _is_async(fn)
        self.ctx: contextvars.Context | None = None
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.Task[None] | None = None
        self.timed_out = False
        self.began = False  # the current attempt's coroutine took its first step
        self.slot = False  # the job holds one of its queue's slots
        self.thread: asyncio.Future[Any] | None = None  # a sync attempt's worker thread
        self.first_at: float | None = None  # the retry policy clock at the first attempt


_ASYNC_CACHE: dict[Any, bool] = {}


def _is_async(fn: Callable[..., Any]) -> bool:
    """``is_async_callable`` with a small cache keyed by the (hashable) function."""
    try:
        return _ASYNC_CACHE[fn]
    except (KeyError, TypeError):
        pass
    answer = is_async_callable(fn)
    try:
        if len(_ASYNC_CACHE) >= 1024:
            _ASYNC_CACHE.clear()
        _ASYNC_CACHE[fn] = answer
    except TypeError:  # unhashable callable
        pass
    return answer


def _check_int(name: str, value: object, minimum: int = 1, *, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(
            f"{name} must be an integer >= {minimum}, got {safe_repr(value)}",
            code=code,
            hint=f"Pass {name}={minimum} or more.",
        )
    return value


def _check_seconds(name: str, value: object, *, code: str, allow_zero: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)  # a NaN deadline breaks the order of the loop's timer heap
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        raise InvalidArgumentError(
            f"{name} must be a number of seconds {'>=' if allow_zero else '>'} 0, "
            f"got {safe_repr(value)}",
            code=code,
            hint=f"Pass {name} as seconds, e.g. {name}=5.",
        )
    return float(value)


def _check_priority(priority: object) -> None:
    if (
        isinstance(priority, bool)
        or not isinstance(priority, (int, float))
        or not math.isfinite(priority)
    ):
        raise InvalidArgumentError(
            f"priority must be an int, got {safe_repr(priority)}",
            code="pepperpy.task.priority",
            hint="Pass priority=0 (default); higher numbers start first.",
        )


class TaskManager(Lifecycle):
    """Runs sync and async callables in named, bounded work queues.

    ``submit`` returns a typed :class:`TaskHandle` at once; the task starts
    when its queue has a free slot, higher ``priority`` first. Retries follow
    a :class:`~pepperpy.core.utils.RetryPolicy` (cancellation never counts as
    a failure nor uses a retry), a per-task ``timeout`` cancels a slow attempt,
    and tasks can be delayed, repeated on an interval, or driven by cron
    expressions, all on the manager's :class:`~pepperpy.core.types.Clock`.

    Sync callables run in a worker thread so they never block the loop. A
    thread cannot be interrupted: ``cancel()`` and ``timeout`` settle a sync
    task's handle at once, but its thread runs to its end and keeps the queue
    slot until then.
    Every task runs with the pepperpy.context of the code that submitted it.

    Args:
        concurrency: Slots of the ``"default"`` queue.
        queues: More named queues: ``{"emails": 5}``.
        retry: Default retry policy (``None``: no retries).
        timeout: Default per-attempt timeout in seconds (``None``: none).
        shutdown_timeout: Seconds :meth:`stop` lets running work finish.
        durable: A durable queue whose tasks this manager also runs
            (:class:`DurableQueue`, :class:`RedisQueue` or :class:`PostgresQueue`).
        clock: Time source for delays, schedules, timeouts and backoff.
    """

    def __init__(
        self,
        *,
        concurrency: int = 100,
        queues: Mapping[str, int] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        shutdown_timeout: float = 10.0,
        durable: DurableQueueBase | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._dispatching = False
        self.clock = clock
        self.retry = retry
        self.timeout = (
            None
            if timeout is None
            else _check_seconds("timeout", timeout, code="pepperpy.task.invalid_timeout")
        )
        self.shutdown_timeout = _check_seconds(
            "shutdown_timeout",
            shutdown_timeout,
            code="pepperpy.task.shutdown_timeout",
            allow_zero=True,
        )
        self._queues: dict[str, _Queue] = {}
        self.add_queue("default", concurrency)
        for name, limit in (queues or {}).items():
            self.add_queue(name, limit)
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._id_prefix = uuid.uuid4().hex[:12] + "-"
        self._active: dict[str, TaskHandle[Any]] = {}
        self._dedup: dict[str, TaskHandle[Any]] = {}
        self._finished: OrderedDict[str, TaskHandle[Any]] = OrderedDict()
        self._inflight = 0
        self._idle: list[asyncio.Future[None]] = []
        self._timers: set[asyncio.Task[Any]] = set()
        self._schedules: list[Schedule] = []
        self._completed = 0
        self._hooks: list[Callable[[TaskEvent], Any]] = []
        self.durable = durable
        self.last_shutdown: ShutdownReport | None = None

    # ------------------------------------------------------------------ queues

    def add_queue(self, name: str, concurrency: int, *, max_pending: int | None = None) -> None:
        """Create (or resize) the work queue *name* with *concurrency* slots.

        Args:
            name: The queue name passed to ``submit(queue=...)``.
            concurrency: How many of its tasks run at once.
            max_pending: How many may wait; ``submit`` raises
                :class:`QueueFullError` beyond it (``None``: unbounded).
        """
        _check_int("concurrency", concurrency, code="pepperpy.task.concurrency")
        if max_pending is not None:
            _check_int("max_pending", max_pending, 0, code="pepperpy.task.max_pending")
        queue = self._queues.get(name)
        if queue is None:
            self._queues[name] = _Queue(name, concurrency, max_pending)
            return
        queue.limit = concurrency
        queue.max_pending = max_pending
        if self._dispatching:
            self._fill(queue)

    def add_hook(self, hook: Callable[[TaskEvent], Any]) -> None:
        """Call ``hook(TaskEvent)`` when an attempt starts and when it ends.

        Hooks run synchronously on the loop; keep them quick (count, observe a
        histogram, log). An exception in a hook is logged and ignored.
        """
        self._hooks.append(hook)

    def _emit(
        self,
        kind: str,
        handle: TaskHandle[Any],
        seconds: float = 0.0,
        error: BaseException | None = None,
    ) -> None:
        event = TaskEvent(
            kind, handle.id, handle.name, handle.queue, handle._attempts, seconds, error
        )
        for hook in self._hooks:
            try:
                hook(event)
            except Exception as exc:
                logger.warning("task hook %r failed: %s", hook, exc, exc_info=exc)

    def queue_stats(self) -> dict[str, QueueStats]:
        """Return a snapshot of every queue's counters."""
        return {
            q.name: QueueStats(
                q.name,
                q.limit,
                q.running,
                q.waiting,
                q.submitted,
                q.succeeded,
                q.failed,
                q.cancelled,
                q.retried,
            )
            for q in self._queues.values()
        }

    # ------------------------------------------------------------------ lifecycle

    async def _on_start(self) -> None:
        self._dispatching = True
        for queue in self._queues.values():
            self._fill(queue)
        if self.durable is not None:
            await self.durable._attach(self)

    async def _on_stop(self) -> None:
        self.last_shutdown = await self._shutdown(self.shutdown_timeout)

    async def shutdown(self, timeout: float | None = None) -> ShutdownReport:
        """Stop gracefully and say what happened.

        No new task is accepted; schedules and not-yet-due tasks are
        cancelled; running and queued tasks get *timeout* seconds (default
        ``shutdown_timeout``) to finish; whatever is left is cancelled.
        """
        if timeout is not None:
            self.shutdown_timeout = _check_seconds(
                "timeout", timeout, code="pepperpy.task.invalid_timeout", allow_zero=True
            )
        await self.stop()
        assert self.last_shutdown is not None or self._lc_state is LifecycleState.STOPPED
        return self.last_shutdown or ShutdownReport(0, (), False)

    async def _shutdown(self, timeout: float) -> ShutdownReport:
        cancelled = self._cancel_not_due()
        if self.durable is not None:
            await self.durable._stop_polling()
        done_before = self._completed
        timed_out = await self._idle_within(timeout)
        completed = self._completed - done_before
        if timed_out:
            self._cancel_running(cancelled, timeout)
        await self._await_tasks()
        if self.durable is not None:
            await self.durable._detach()
        self._dispatching = False
        return ShutdownReport(completed, tuple(cancelled), timed_out)

    def _cancel_not_due(self) -> list[TaskHandle[Any]]:
        """Cancel the schedules and the tasks not due yet; the tasks cancelled."""
        cancelled: list[TaskHandle[Any]] = []
        for schedule in list(self._schedules):
            schedule.cancel()
        for handle in list(self._active.values()):
            if handle._status is TaskStatus.SCHEDULED and self._cancel(handle):
                cancelled.append(handle)
        return cancelled

    async def _idle_within(self, timeout: float) -> bool:
        """Wait for the work in flight; whether *timeout* passed first."""
        if self._inflight:
            try:
                await self._wait_idle(timeout)
            except OperationTimeoutError:
                return True
        return False

    def _cancel_running(self, cancelled: list[TaskHandle[Any]], timeout: float) -> None:
        """Cancel what still runs after the shutdown timeout; add it to *cancelled*."""
        for handle in list(self._active.values()):
            if self._cancel(handle):
                cancelled.append(handle)
        logger.warning(
            "task manager stop: %d task(s) still running after %ss were cancelled: %s",
            len(cancelled),
            timeout,
            ", ".join(f"{h.name}({h.id})" for h in cancelled),
        )

    async def _await_tasks(self) -> None:
        """Wait for the timers and the tasks of the jobs still active to end."""
        pending = [t for t in self._timers if not t.done()]
        for job_handle in list(self._active.values()):
            job = job_handle._job
            if job is not None and job.task is not None and not job.task.done():
                pending.append(job.task)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no task is running, queued or waiting to retry.

        Tasks scheduled for later (``delay``, schedules) are not waited for.

        Raises:
            OperationTimeoutError: Work was still in flight after *timeout* seconds.
        """
        if self._inflight:
            await self._wait_idle(timeout)

    async def _wait_idle(self, timeout: float | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle.append(future)
        if timeout is None:
            await asyncio.shield(future)
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait((future, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            await asyncio.gather(sleeper, return_exceptions=True)
        if not future.done():
            future.cancel()
            raise OperationTimeoutError(
                f"{self._inflight} task(s) still in flight after {timeout}s",
                code="pepperpy.task.drain_timeout",
                context={"in_flight": self._inflight, "timeout": timeout},
                hint="Give the tasks more time, or find the one that never returns.",
            )

    def _settle(self, delta: int) -> None:
        self._inflight += delta
        if self._inflight == 0 and self._idle:
            waiters, self._idle = self._idle, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # ------------------------------------------------------------------ submitting

    @overload
    def submit(
        self,
        fn: Callable[..., Awaitable[T]],
        /,
        *args: Any,
        name: str | None = ...,
        queue: str = ...,
        priority: int = ...,
        retry: RetryPolicy | int | None = ...,
        timeout: float | None = ...,
        task_id: str | None = ...,
        dedup_key: str | None = ...,
        delay: float | None = ...,
        at: float | None = ...,
        **kwargs: Any,
    ) -> TaskHandle[T]: ...

    @overload
    def submit(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        name: str | None = ...,
        queue: str = ...,
        priority: int = ...,
        retry: RetryPolicy | int | None = ...,
        timeout: float | None = ...,
        task_id: str | None = ...,
        dedup_key: str | None = ...,
        delay: float | None = ...,
        at: float | None = ...,
        **kwargs: Any,
    ) -> TaskHandle[T]: ...

    def submit(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        name: str | None = None,
        queue: str = "default",
        priority: int = 0,
        retry: RetryPolicy | int | None = None,
        timeout: float | None = None,
        task_id: str | None = None,
        dedup_key: str | None = None,
        delay: float | None = None,
        at: float | None = None,
        **kwargs: Any,
    ) -> TaskHandle[Any]:
        """Submit ``fn(*args, **kwargs)`` and return its :class:`TaskHandle` at once.

        (If *fn* itself takes one of the keyword names below, wrap it in
        :func:`functools.partial`.)

        Args:
            fn: A coroutine function, or a sync function (run in a thread).
            *args: Positional arguments for *fn*.
            **kwargs: Keyword arguments for *fn*.
            name: A readable name for logs and reports.
            queue: The work queue (created with :meth:`add_queue` or ``queues=``).
            priority: Higher starts first among the queue's waiting tasks.
            retry: A :class:`RetryPolicy` or a number of attempts (default: the
                manager's). Cancellation never uses a retry.
            timeout: Seconds per attempt; a slow attempt fails with
                :class:`TaskTimeoutError` (which the policy may retry).
            task_id: The task id; submitting an id that is still active raises
                :class:`ConflictError`.
            dedup_key: While a task with this key is active, submitting another
                returns the existing handle instead.
            delay: Start after this many seconds (on the manager's clock).
            at: Start at this wall-clock time (``clock.time()`` scale).

        Raises:
            ClosedError: The manager is not running.
            NotFoundError: *queue* does not exist.
            QueueFullError: The queue holds ``max_pending`` waiting tasks.
        """
        if self._lc_state is not LifecycleState.RUNNING:
            self._ensure_running()
        if dedup_key is not None:
            existing = self._deduplicated(dedup_key)
            if existing is not None:
                return existing
        _check_priority(priority)
        q = self._queues.get(queue)
        if q is None:
            raise NotFoundError(
                f"no work queue named {queue!r}",
                code="pepperpy.task.queue",
                context={"queue": queue, "queues": sorted(self._queues)},
                hint=f"Create it first: tasks.add_queue({queue!r}, concurrency=...).",
            )
        if not callable(fn):
            raise InvalidArgumentError(
                f"submit() needs a callable, got {safe_repr(fn)}",
                code="pepperpy.task.callable",
                hint="Pass the function itself, not its result: submit(fn, arg).",
            )
        if task_id is None:
            task_id = f"{self._id_prefix}{next(self._ids)}"
        elif task_id in self._active:
            raise ConflictError(
                f"a task with id {task_id!r} is already active",
                code="pepperpy.task.duplicate_id",
                context={"task_id": task_id},
                hint="Use a new id, or pass dedup_key= to get the existing handle back.",
            )
        policy = self.retry if retry is None else _as_retry(retry)
        per_attempt = (
            self.timeout
            if timeout is None
            else _check_seconds("timeout", timeout, code="pepperpy.task.invalid_timeout")
        )
        start_in = self._start_in(at, delay)
        if start_in is None and self._full(q):
            raise QueueFullError(
                f"work queue {queue!r} already has {q.waiting} waiting tasks",
                context={"queue": queue, "max_pending": q.max_pending},
                hint="Use 'await tasks.spawn(...)' to wait for room, or raise max_pending.",
            )
        handle: TaskHandle[Any] = TaskHandle(
            self,
            task_id,
            name or getattr(fn, "__qualname__", None) or safe_repr(fn),
            queue,
            int(priority),
            dedup_key,
        )
        job = _Job(handle, fn, args, kwargs, q, policy, per_attempt)
        handle._job = job
        self._active[task_id] = handle
        if dedup_key is not None:
            self._dedup[dedup_key] = handle
        q.submitted += 1
        if start_in is not None and start_in > 0:
            handle._status = TaskStatus.SCHEDULED
            job.ctx = contextvars.copy_context()
            job.timer = self._timer(start_in, job)
        else:
            self._settle(1)
            self._enqueue(job, capture=True)
        return handle

    def _deduplicated(self, dedup_key: str) -> TaskHandle[Any] | None:
        """The active task submitted with *dedup_key*, if any."""
        try:
            return self._dedup.get(dedup_key)
        except TypeError:  # unhashable
            raise InvalidArgumentError(
                f"dedup_key must be a str, got {type(dedup_key).__name__}",
                code="pepperpy.task.dedup_key",
                hint="Pass a string naming the work, e.g. dedup_key=f'report:{day}'.",
            ) from None

    def _start_in(self, at: float | None, delay: float | None) -> float | None:
        """Seconds until a task submitted with *at* or *delay* starts (None: now)."""
        if at is not None:
            if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
                raise InvalidArgumentError(
                    f"at must be a finite clock time in seconds, got {safe_repr(at)}",
                    code="pepperpy.task.at",
                    hint="Pass at=clock.time() + seconds, or use delay=seconds.",
                )
            return max(0.0, float(at) - self.clock.time())
        if delay is not None:
            return _check_seconds("delay", delay, code="pepperpy.task.delay", allow_zero=True)
        return None

    @overload
    async def spawn(
        self, fn: Callable[..., Awaitable[T]], /, *args: Any, **options: Any
    ) -> TaskHandle[T]: ...

    @overload
    async def spawn(self, fn: Callable[..., T], /, *args: Any, **options: Any) -> TaskHandle[T]: ...

    async def spawn(self, fn: Callable[..., Any], /, *args: Any, **options: Any) -> TaskHandle[Any]:
        """Like :meth:`submit`, but wait for room instead of raising :class:`QueueFullError`.

        Use it in producers that must slow down when a queue created with
        ``max_pending`` is full (backpressure). Takes the same arguments as
        :meth:`submit`.
        """
        queue = options.get("queue", "default")
        q = self._queues.get(queue)
        while q is not None and self._full(q) and self._lc_state is LifecycleState.RUNNING:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            q.room.append(waiter)
            try:
                await waiter
            finally:
                if waiter in q.room:
                    q.room.remove(waiter)
        return self.submit(fn, *args, **options)

    def group(self, *, cancel_on_error: bool = True) -> TaskGroup:
        """Return a :class:`TaskGroup`: tasks that end with its ``async with`` block.

        Args:
            cancel_on_error: Cancel the other members as soon as one fails
                (the failure is raised when the block exits either way).
        """
        from pepperpy.task._group import TaskGroup

        self._ensure_running()
        return TaskGroup(self, cancel_on_error=cancel_on_error)

    def get(self, task_id: str) -> TaskHandle[Any]:
        """Return the handle of an active or recently finished task.

        Raises:
            NotFoundError: No such task (or it finished long ago).
        """
        handle = self._active.get(task_id) or self._finished.get(task_id)
        if handle is None:
            raise NotFoundError(
                f"no task with id {task_id!r}",
                code="pepperpy.task.not_found",
                context={"task_id": task_id},
                hint="Keep the handle returned by submit(); finished tasks are forgotten "
                f"after {_KEEP_FINISHED} newer ones.",
            )
        return handle

    @property
    def active(self) -> list[TaskHandle[Any]]:
        """Handles of every task not finished yet (scheduled, pending, running, retrying)."""
        return list(self._active.values())

    # ------------------------------------------------------------------ running

    def _timer(self, seconds: float, job: _Job) -> asyncio.Task[None]:
        async def wait_then_enqueue() -> None:
            await self.clock.sleep(seconds)
            job.timer = None
            if job.handle._status.is_final:
                return
            if job.handle._status is TaskStatus.SCHEDULED:
                self._settle(1)
            job.handle._status = TaskStatus.PENDING
            self._enqueue(job, capture=False)

        task = asyncio.get_running_loop().create_task(wait_then_enqueue())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)
        return task

    def _enqueue(self, job: _Job, *, capture: bool) -> None:
        q = job.queue
        if q.running < q.limit and not q.heap and self._dispatching:
            self._start(job)
            return
        if capture:
            job.ctx = contextvars.copy_context()
        job.handle._status = TaskStatus.PENDING
        heapq.heappush(q.heap, (-job.handle.priority, next(self._seq), job))
        q.waiting += 1
        if self._dispatching:
            self._fill(q)

    def _fill(self, q: _Queue) -> None:
        heap = q.heap
        while heap and q.running < q.limit:
            _, _, job = heapq.heappop(heap)
            if job.handle._status is not TaskStatus.PENDING:
                continue  # cancelled while waiting: no longer counted in q.waiting
            q.waiting -= 1
            self._start(job)
            self._make_room(q)

    @staticmethod
    def _make_room(q: _Queue) -> None:
        room = q.room
        while room:
            waiter = room.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    @staticmethod
    def _full(q: _Queue) -> bool:
        return q.max_pending is not None and q.running >= q.limit and q.waiting >= q.max_pending

    def _start(self, job: _Job) -> None:
        q = job.queue
        q.running += 1
        job.slot = True
        job.began = False
        handle = job.handle
        handle._status = TaskStatus.RUNNING
        handle._attempts += 1
        if handle._attempts == 1 and job.retry is not None:
            job.first_at = job.retry.clock.monotonic()
        coro = self._run(job)
        loop = asyncio.get_running_loop()
        ctx = job.ctx
        task = loop.create_task(coro) if ctx is None else ctx.run(loop.create_task, coro)
        job.task = task
        # Runs whatever happened to the coroutine, even when it was cancelled
        # before its first step (then _run's own bookkeeping never ran).
        task.add_done_callback(functools.partial(self._task_done, job))

    def _task_done(self, job: _Job, task: asyncio.Task[None]) -> None:
        if job.task is not task:
            return  # _run did its bookkeeping
        job.task = None
        if not job.began:  # cancelled before its first step: it never started
            job.handle._attempts -= 1
        self._release(job)
        self._finish_cancelled(job)  # a no-op when the handle is settled already

    def _release(self, job: _Job) -> None:
        """Give the job's slot back, once its worker thread (if any) has really ended."""
        if not job.slot:
            return
        # The slot now belongs to this attempt's thread (if it still runs), not to the
        # job: a retry may take another slot and start another thread meanwhile.
        job.slot = False
        thread, job.thread = job.thread, None
        if thread is not None and not thread.done():
            # A sync task cannot be interrupted: its slot stays taken until the thread ends.
            thread.add_done_callback(functools.partial(self._free_slot, job.queue))
            return
        self._free_slot(job.queue, thread)

    def _free_slot(self, q: _Queue, thread: asyncio.Future[Any] | None) -> None:
        if thread is not None and not thread.cancelled():
            thread.exception()  # reported through the handle (or dropped after a cancel)
        q.running -= 1
        if q.heap and self._dispatching:
            self._fill(q)

    async def _run(self, job: _Job) -> None:
        job.began = True
        handle = job.handle
        hooks = self._hooks
        started = 0.0
        if hooks:
            started = time.perf_counter()
            self._emit("started", handle)
        watchdog = None
        if job.timeout is not None:
            watchdog = asyncio.ensure_future(self._watch(job, job.timeout))
        outcome: BaseException | None = None
        result: Any = None
        try:
            result = await self._attempt(job)
        except asyncio.CancelledError as exc:
            if not job.timed_out or handle._status is TaskStatus.CANCELLED:
                self._abandon(job, watchdog)
                self._finish_cancelled(job, seconds=time.perf_counter() - started if hooks else 0)
                raise
            outcome = self._timed_out(job, exc)
        except Exception as exc:
            outcome = exc
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: settle, then propagate
            self._abandon(job, watchdog)
            if not handle._status.is_final:
                self._finish(job, TaskStatus.FAILED, None, exc)
            else:
                self._finish_cancelled(job)
            raise
        if watchdog is not None:
            watchdog.cancel()
        job.task = None
        job.timed_out = False
        self._release(job)
        elapsed = time.perf_counter() - started if hooks else 0.0
        await self._conclude(job, result, outcome, elapsed)

    async def _attempt(self, job: _Job) -> Any:
        """One attempt of the job's function: awaited, or run in a thread."""
        if job.is_async:
            return await job.fn(*job.args, **job.kwargs)
        thread = job.thread = asyncio.get_running_loop().run_in_executor(
            None,
            functools.partial(contextvars.copy_context().run, job.fn, *job.args, **job.kwargs),
        )
        # Shielded: cancelling the attempt cannot stop the thread, and the
        # slot is released only when the thread has ended (see _release).
        result = await asyncio.shield(thread)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    def _abandon(self, job: _Job, watchdog: asyncio.Future[None] | None) -> None:
        """Let go of an attempt that ends by raising (cancelled, or a BaseException)."""
        job.task = None
        self._release(job)
        if watchdog is not None:
            watchdog.cancel()

    def _timed_out(self, job: _Job, exc: asyncio.CancelledError) -> TaskTimeoutError:
        """The watchdog cancelled the attempt: undo that cancel, fail the attempt instead."""
        handle = job.handle
        current = asyncio.current_task()
        uncancel = getattr(current, "uncancel", None)
        if uncancel is not None:
            uncancel()
        outcome = TaskTimeoutError(
            f"task {handle.name!r} ({handle.id}) timed out after {job.timeout}s",
            context={"task_id": handle.id, "timeout": job.timeout, "attempt": handle._attempts},
            hint="Raise timeout=, or make the task faster.",
        )
        outcome.__cause__ = exc
        return outcome

    async def _conclude(
        self, job: _Job, result: Any, outcome: BaseException | None, elapsed: float
    ) -> None:
        """After an attempt: cancelled, succeeded, retried later, or failed for good."""
        handle = job.handle
        hooks = self._hooks
        if handle._status is TaskStatus.CANCELLED:
            # cancel() returned True: whatever the attempt did after that (returned,
            # raised another error), the task is cancelled and never runs again.
            self._finish_cancelled(job, seconds=elapsed)
            return
        if outcome is None:
            self._finish(job, TaskStatus.SUCCEEDED, result, None)
            if hooks:
                self._emit("succeeded", handle, elapsed)
            return
        wait, outcome = await self._retry_wait(job, outcome)
        if handle.status is TaskStatus.CANCELLED:  # cancel() while an async on_retry hook ran
            self._finish_cancelled(job, seconds=elapsed)
            return
        if wait is not None:
            handle._status = TaskStatus.RETRYING
            job.queue.retried += 1
            job.ctx = contextvars.copy_context()
            job.timer = self._timer(wait, job)
            if hooks:
                self._emit("retrying", handle, elapsed, outcome)
            return
        self._finish(job, TaskStatus.FAILED, None, outcome)
        if hooks:
            self._emit("failed", handle, elapsed, outcome)

    async def _retry_wait(
        self, job: _Job, outcome: BaseException
    ) -> tuple[float | None, BaseException]:
        """Seconds until the retry of a failed attempt (None: no retry), and the failure."""
        policy = job.retry
        if policy is None:
            return None, outcome
        started_at = job.first_at if job.first_at is not None else policy.clock.monotonic()
        # Attempts, retry_on, the deadline and on_retry, as RetryPolicy.acall applies them:
        # an async on_retry hook has finished before the retry is scheduled.
        try:
            return await policy.anext_delay(job.handle._attempts, outcome, started_at), outcome
        except asyncio.CancelledError:  # cancelled while the hook ran: no retry, settle
            self._finish_cancelled(job)
            raise
        except Exception as exc:  # a retry_on/on_retry hook failed: the task fails with it
            return None, exc
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: settle, then propagate
            self._finish(job, TaskStatus.FAILED, None, exc)
            raise

    async def _watch(self, job: _Job, seconds: float) -> None:
        await self.clock.sleep(seconds)
        task = job.task
        if task is not None and not task.done():
            job.timed_out = True
            task.cancel()

    def _finish(
        self, job: _Job, status: TaskStatus, result: Any, error: BaseException | None
    ) -> None:
        handle = job.handle
        handle._status = status
        q = job.queue
        if status is TaskStatus.SUCCEEDED:
            q.succeeded += 1
        else:
            q.failed += 1
            assert error is not None
            logger.warning(
                "task %s (%s) failed after %d attempt(s): %s: %s",
                handle.name,
                handle.id,
                handle._attempts,
                type(error).__name__,
                error,
            )
        handle._settle(result, error)
        self._forget(handle)
        self._completed += 1
        self._settle(-1)

    def _finish_cancelled(self, job: _Job, *, inflight: bool = True, seconds: float = 0.0) -> None:
        handle = job.handle
        if self._active.get(handle.id) is not handle:
            return  # already final
        handle._status = TaskStatus.CANCELLED
        job.queue.cancelled += 1
        handle._settle(
            None,
            TaskCancelledError(
                f"task {handle.name!r} ({handle.id}) was cancelled",
                context={"task_id": handle.id},
                hint="It was cancelled by cancel() or at shutdown; submit it again "
                "if it still has to run.",
            ),
        )
        self._forget(handle)
        if inflight:
            self._settle(-1)
        if self._hooks:
            self._emit("cancelled", handle, seconds)

    def _forget(self, handle: TaskHandle[Any]) -> None:
        self._active.pop(handle.id, None)
        if handle.dedup_key is not None and self._dedup.get(handle.dedup_key) is handle:
            del self._dedup[handle.dedup_key]
        self._finished[handle.id] = handle
        if len(self._finished) > _KEEP_FINISHED:
            self._finished.popitem(last=False)

    def _cancel(self, handle: TaskHandle[Any]) -> bool:
        status = handle._status
        if status.is_final:
            return False
        job: _Job = handle._job
        if status is TaskStatus.RUNNING and job.task is not None:
            handle._status = TaskStatus.CANCELLED
            job.task.cancel()  # _run finishes the bookkeeping
            return True
        if job.timer is not None:
            job.timer.cancel()
            job.timer = None
        if status is TaskStatus.PENDING:
            # It stays in its queue's heap and is skipped when popped, but it no
            # longer takes a waiting place (max_pending, spawn(), queue_stats()).
            job.queue.waiting -= 1
            self._make_room(job.queue)
        self._finish_cancelled(job, inflight=status is not TaskStatus.SCHEDULED)
        return True

    # ------------------------------------------------------------------ scheduling

    def every(
        self,
        interval: float,
        fn: Callable[..., Any],
        /,
        *args: Any,
        name: str | None = None,
        queue: str = "default",
        first_in: float | None = None,
        missed: MissedRunPolicy = "run_once",
        grace: float = 1.0,
        overlap: bool = False,
        **kwargs: Any,
    ) -> Schedule:
        """Run ``fn(*args, **kwargs)`` every *interval* seconds; return its :class:`Schedule`.

        Args:
            interval: Seconds between runs.
            fn: The function to run (sync or async).
            *args: Positional arguments for *fn*.
            name: The name of each run's task.
            queue: The work queue the runs go to.
            first_in: Seconds until the first run (default: *interval*).
            missed: What to do with runs missed by more than *grace* seconds
                (the process was busy, suspended, or the clock jumped):
                ``"run_once"`` (one catch-up run), ``"skip"`` or ``"run_all"``.
            grace: Lateness, in seconds, still counted as on time.
            overlap: Whether a run may start while the previous one is still running.
            **kwargs: Keyword arguments for *fn*.
        """
        from pepperpy.task._schedule import IntervalTrigger, Schedule

        trigger = IntervalTrigger(
            _check_seconds("interval", interval, code="pepperpy.task.interval"),
            first_in=None
            if first_in is None
            else _check_seconds(
                "first_in", first_in, code="pepperpy.task.first_in", allow_zero=True
            ),
        )
        grace = _check_seconds("grace", grace, code="pepperpy.task.grace", allow_zero=True)
        return Schedule._start(self, trigger, fn, args, kwargs, name, queue, missed, grace, overlap)

    def cron(
        self,
        expression: str,
        fn: Callable[..., Any],
        /,
        *args: Any,
        name: str | None = None,
        queue: str = "default",
        tz: Any = None,
        missed: MissedRunPolicy = "run_once",
        grace: float = 1.0,
        overlap: bool = False,
        **kwargs: Any,
    ) -> Schedule:
        """Run ``fn(*args, **kwargs)`` at the times of a cron *expression*.

        Five fields (minute hour day-of-month month day-of-week) with ``*``,
        lists, ranges, steps and names, or ``@hourly``/``@daily``/``@weekly``/
        ``@monthly``/``@yearly``; evaluated in UTC or the ``tz`` ``tzinfo``
        (daylight-saving changes: see :meth:`CronExpression.next_after`).
        *missed*, *grace* and *overlap* behave as in :meth:`every`.

        The schedule lives in this process: N worker processes each run it.
        For one run per fire time across workers, use the durable queue's
        :meth:`~pepperpy.task.DurableQueueBase.cron`.
        """
        from pepperpy.task._cron import CronExpression
        from pepperpy.task._schedule import CronTrigger, Schedule

        trigger = CronTrigger(CronExpression(expression), tz)
        grace = _check_seconds("grace", grace, code="pepperpy.task.grace", allow_zero=True)
        return Schedule._start(self, trigger, fn, args, kwargs, name, queue, missed, grace, overlap)

    def schedules(self) -> list[Schedule]:
        """Every active schedule."""
        return list(self._schedules)

    def __repr__(self) -> str:
        return (
            f"<TaskManager {self.state.value} active={len(self._active)} "
            f"queues={sorted(self._queues)}>"
        )


def _as_retry(retry: RetryPolicy | int) -> RetryPolicy:
    if isinstance(retry, RetryPolicy):
        return retry
    return RetryPolicy(attempts=_check_int("retry", retry, code="pepperpy.task.retry"))
