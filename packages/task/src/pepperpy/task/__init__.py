"""Async task management: bounded work queues, retries, schedules, a durable queue.

:class:`TaskManager` runs sync and async callables in named queues with their
own concurrency, priorities, retries with backoff (cancellation never uses a
retry), per-task timeouts, ids and de-duplication keys, and typed
:class:`TaskHandle` results. It schedules delayed, interval and cron tasks on
the core ``Clock``, runs a crash-safe SQLite :class:`DurableQueue` (or the
same queue on Redis, :class:`RedisQueue`, ``pepperpy-task[redis]``, or on
PostgreSQL, :class:`PostgresQueue`, ``pepperpy-task[postgres]``: all three share
the worker loop of :class:`DurableQueueBase`; :func:`connect_queue` picks one from
a URL), and shuts
down gracefully: stop accepting, drain with a timeout, cancel the rest and
report it.
"""

from pepperpy.task._base import DurableQueueBase, DurableTask, DurableTaskError
from pepperpy.task._connect import ENTRY_POINT_GROUP, QUEUE_URL_ENV, connect_queue, queue_backends
from pepperpy.task._cron import CronExpression
from pepperpy.task._durable import DurableQueue
from pepperpy.task._errors import ERRORS
from pepperpy.task._group import TaskGroup
from pepperpy.task._handle import (
    QueueFullError,
    TaskCancelledError,
    TaskError,
    TaskHandle,
    TaskStatus,
    TaskTimeoutError,
)
from pepperpy.task._manager import QueueStats, ShutdownReport, TaskEvent, TaskManager
from pepperpy.task._postgres import PostgresQueue
from pepperpy.task._redis import RedisQueue
from pepperpy.task._schedule import CronTrigger, IntervalTrigger, MissedRunPolicy, Schedule
from pepperpy.task._version import __version__

__all__ = [
    "ENTRY_POINT_GROUP",
    "ERRORS",
    "QUEUE_URL_ENV",
    "CronExpression",
    "CronTrigger",
    "DurableQueue",
    "DurableQueueBase",
    "DurableTask",
    "DurableTaskError",
    "IntervalTrigger",
    "MissedRunPolicy",
    "PostgresQueue",
    "QueueFullError",
    "QueueStats",
    "RedisQueue",
    "Schedule",
    "ShutdownReport",
    "TaskCancelledError",
    "TaskError",
    "TaskEvent",
    "TaskGroup",
    "TaskHandle",
    "TaskManager",
    "TaskStatus",
    "TaskTimeoutError",
    "__version__",
    "connect_queue",
    "queue_backends",
]
