"""Task handles, statuses and the errors of the task package."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pepperpy.core.exceptions import ConflictError, OperationTimeoutError, PepperPyError

if TYPE_CHECKING:
    from pepperpy.task._manager import TaskManager

__all__ = [
    "QueueFullError",
    "TaskCancelledError",
    "TaskError",
    "TaskHandle",
    "TaskStatus",
    "TaskTimeoutError",
]

T = TypeVar("T")


class TaskError(PepperPyError):
    """The root of the errors the task package raises on purpose."""

    code = "pepperpy.task"


class TaskCancelledError(TaskError):
    """Raised when awaiting a task that was cancelled (by ``cancel()`` or at shutdown)."""

    code = "pepperpy.task.cancelled"


class TaskTimeoutError(TaskError, OperationTimeoutError):
    """A task ran longer than its ``timeout``; it was cancelled (and may be retried)."""

    code = "pepperpy.task.timeout"
    retryable = True


class QueueFullError(TaskError, ConflictError):
    """A work queue already holds ``max_pending`` waiting tasks."""

    code = "pepperpy.task.queue_full"


class TaskStatus(str, enum.Enum):
    """Where a task is in its life; the last three are final."""

    SCHEDULED = "scheduled"
    """Waiting for its start time (``delay``/``at``)."""
    PENDING = "pending"
    """Queued, waiting for a free slot in its work queue."""
    RUNNING = "running"
    RETRYING = "retrying"
    """Failed, waiting for the backoff delay before the next attempt."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Whether the task has finished (succeeded, failed or cancelled)."""
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class TaskHandle(Generic[T]):
    """A typed handle on a submitted task.

    ``await handle`` returns the task's result or raises its exception
    (:class:`TaskCancelledError` when it was cancelled). Cancelling the code
    that awaits a handle never cancels the task itself: use :meth:`cancel`.

    Attributes:
        id: The task id (given to ``submit`` or generated).
        name: A readable name (the function's by default).
        queue: The work queue it runs in.
        priority: Higher runs first among waiting tasks of its queue.
        dedup_key: The de-duplication key it was submitted with, if any.
    """

    __slots__ = (
        "_attempts",
        "_done",
        "_error",
        "_future",
        "_job",
        "_manager",
        "_result",
        "_status",
        "dedup_key",
        "id",
        "name",
        "priority",
        "queue",
    )

    def __init__(
        self,
        manager: TaskManager,
        task_id: str,
        name: str,
        queue: str,
        priority: int,
        dedup_key: str | None,
    ) -> None:
        self._manager = manager
        self.id = task_id
        self.name = name
        self.queue = queue
        self.priority = priority
        self.dedup_key = dedup_key
        self._future: asyncio.Future[T] | None = None  # made on first wait
        self._result: Any = None
        self._error: BaseException | None = None
        self._done = False
        self._status = TaskStatus.PENDING
        self._attempts = 0
        self._job: Any = None

    @property
    def status(self) -> TaskStatus:
        """The current :class:`TaskStatus`."""
        return self._status

    @property
    def attempts(self) -> int:
        """How many times the task has started (retries included, cancellations not)."""
        return self._attempts

    def done(self) -> bool:
        """Whether the task has finished."""
        return self._done

    def cancelled(self) -> bool:
        """Whether the task was cancelled."""
        return self._status is TaskStatus.CANCELLED

    def cancel(self) -> bool:
        """Cancel the task: a waiting task never starts, a running one is cancelled.

        Cancellation is final: it is never retried and never counts as an
        attempt, whatever the task does once cancelled (raise another error,
        return a value). A sync task's thread cannot be interrupted: the handle
        settles at once, the thread runs to its end (holding its queue slot).

        Returns:
            ``False`` when the task had already finished.
        """
        return self._manager._cancel(self)

    def exception(self) -> BaseException | None:
        """The exception of a failed or cancelled task, ``None`` otherwise (or while running)."""
        return self._error if self._done else None

    def _settle(self, result: Any, error: BaseException | None) -> None:
        """Record the outcome (called once by the manager) and wake any waiter."""
        self._result = result
        self._error = error
        self._done = True
        future = self._future
        if future is not None and not future.done():
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
                future.exception()  # reported through the handle, never "unretrieved"

    def _waiter(self) -> asyncio.Future[T]:
        future = self._future
        if future is None:
            future = self._future = asyncio.get_running_loop().create_future()
            if self._done:
                if self._error is None:
                    future.set_result(self._result)
                else:
                    future.set_exception(self._error)
                    future.exception()
        return future

    def add_done_callback(self, fn: Callable[[TaskHandle[T]], Any]) -> None:
        """Call ``fn(handle)`` when the task finishes (soon after, if it has)."""
        self._waiter().add_done_callback(lambda _: fn(self))

    async def result(self, timeout: float | None = None) -> T:
        """Wait for the result, at most *timeout* seconds on the manager's clock.

        The task keeps running when the wait times out.

        Raises:
            OperationTimeoutError: The task did not finish in time.
            TaskCancelledError: The task was cancelled.
            Exception: Whatever the task raised.
        """
        if timeout is None or self._done:
            return await self
        future = self._waiter()
        sleeper = asyncio.ensure_future(self._manager.clock.sleep(timeout))
        try:
            await asyncio.wait((future, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
        if not future.done():
            raise OperationTimeoutError(
                f"task {self.name!r} ({self.id}) did not finish within {timeout}s",
                code="pepperpy.task.result_timeout",
                context={"task_id": self.id, "timeout": timeout, "status": self._status.value},
                hint="Wait longer, or cancel() the task if it is stuck.",
            )
        return future.result()

    def __await__(self) -> Generator[Any, None, T]:
        if self._done:
            if self._error is not None:
                raise self._error
            result: T = self._result
            return result
        return (yield from asyncio.shield(self._waiter()).__await__())

    def __repr__(self) -> str:
        return f"<TaskHandle {self.name} id={self.id} {self._status.value}>"
