"""The catalogue of the error codes pepperpy-task raises (``ERRORS``).

The error classes live beside what raises them: :class:`TaskError` and its
kin in ``_handle``, :class:`DurableTaskError` in ``_base``.
"""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
    PluginError,
)
from pepperpy.task._base import DurableTaskError
from pepperpy.task._handle import QueueFullError, TaskCancelledError, TaskError, TaskTimeoutError

__all__ = ["ERRORS"]

ERRORS = ErrorCatalogue(
    "pepperpy.task",
    ErrorCode(
        "pepperpy.task",
        TaskError,
        "A task error with no more specific code (the root class's default).",
        "Read the message and the hint.",
    ),
    ErrorCode(
        "pepperpy.task.cancelled",
        TaskCancelledError,
        "The awaited task was cancelled (by cancel() or at shutdown).",
        "Treat the task as not done; submit it again if it still has to run.",
    ),
    ErrorCode(
        "pepperpy.task.timeout",
        TaskTimeoutError,
        "A task ran longer than its timeout and was cancelled (it may be retried).",
        "Retry (retryable), or raise the task's timeout.",
    ),
    ErrorCode(
        "pepperpy.task.queue_full",
        QueueFullError,
        "A work queue already holds max_pending waiting tasks.",
        "Retry later, or raise the queue's max_pending.",
    ),
    ErrorCode(
        "pepperpy.task.durable_failed",
        DurableTaskError,
        "A durable task failed for good; `error` is the stored error text.",
        "Fix the cause, then enqueue the task again (or retry it from the CLI).",
    ),
    ErrorCode(
        "pepperpy.task.duplicate_id",
        ConflictError,
        "A task with this id is already active (or stored, for a durable queue).",
        "Use a new id, or await the existing task.",
    ),
    ErrorCode(
        "pepperpy.task.not_found",
        NotFoundError,
        "No task has the id that was asked for.",
        "Check the id; a finished durable task is gone once its result_ttl passed.",
    ),
    ErrorCode(
        "pepperpy.task.queue",
        NotFoundError,
        "No work queue has the name that was asked for.",
        "Add the queue first (add_queue or queues=...), or use an existing name.",
    ),
    ErrorCode(
        "pepperpy.task.result_timeout",
        OperationTimeoutError,
        "A task's result was not ready within the timeout given to wait for it.",
        "Wait longer, or check that a worker runs the task.",
    ),
    ErrorCode(
        "pepperpy.task.drain_timeout",
        OperationTimeoutError,
        "drain() found tasks still in flight after its timeout.",
        "Pass a larger timeout, or find the task that does not finish.",
    ),
    ErrorCode(
        "pepperpy.task.redis",
        ExternalError,
        "A Redis command of the durable queue failed.",
        "Retry when `retryable` is true; check that Redis is reachable.",
    ),
    ErrorCode(
        "pepperpy.task.postgres",
        ExternalError,
        "A PostgreSQL statement of the durable queue failed.",
        "Retry when `retryable` is true; read the SQL error in the message.",
    ),
    ErrorCode(
        "pepperpy.task.postgres_unavailable",
        ExternalError,
        "PostgreSQL is unreachable or the connection was lost.",
        "Retry (retryable); check that the server is up and the DSN is right.",
    ),
    ErrorCode(
        "pepperpy.task.postgres_dedup_race",
        ExternalError,
        "A task's dedup key kept changing hands while it was enqueued.",
        "Retry the enqueue (retryable).",
    ),
    ErrorCode(
        "pepperpy.task.no_redis_url",
        ConfigurationError,
        "RedisQueue got no client nor URL, and PEPPERPY_REDIS_URL is unset.",
        "Pass url=... or client=..., or set PEPPERPY_REDIS_URL.",
    ),
    ErrorCode(
        "pepperpy.task.no_postgres_dsn",
        ConfigurationError,
        "PostgresQueue got no DSN nor pool, and its DSN environment variable is unset.",
        "Pass dsn=... (or an asyncpg pool), or set the variable the hint names.",
    ),
    ErrorCode(
        "pepperpy.task.backend_load",
        PluginError,
        "A queue backend registered for a URL scheme returned no DurableQueueBase.",
        "Fix or uninstall the plugin that registers that scheme.",
    ),
    ErrorCode(
        "pepperpy.task.callable",
        InvalidArgumentError,
        "submit() or a schedule got something that is not callable.",
        "Pass a function, coroutine function or other callable.",
    ),
    ErrorCode(
        "pepperpy.task.priority",
        InvalidArgumentError,
        "priority is not an int.",
        "Pass an int: higher runs first, 0 is the default.",
    ),
    ErrorCode(
        "pepperpy.task.dedup_key",
        InvalidArgumentError,
        "dedup_key is not a str.",
        "Pass a string that names the work, e.g. 'report:2024-05'.",
    ),
    ErrorCode(
        "pepperpy.task.at",
        InvalidArgumentError,
        "at is not a finite clock time in seconds.",
        "Pass a time from the manager's clock, e.g. clock.time() + 60.",
    ),
    ErrorCode(
        "pepperpy.task.invalid_timeout",
        InvalidArgumentError,
        "A timeout (of a task, an attempt, or shutdown()) is not a valid number of seconds.",
        "Pass seconds, e.g. timeout=5, or None for no limit.",
    ),
    ErrorCode(
        "pepperpy.task.shutdown_timeout",
        InvalidArgumentError,
        "shutdown_timeout is not a number of seconds >= 0.",
        "Pass seconds, e.g. shutdown_timeout=5, or 0 not to wait.",
    ),
    ErrorCode(
        "pepperpy.task.delay",
        InvalidArgumentError,
        "delay is not a number of seconds >= 0.",
        "Pass seconds, e.g. delay=5.",
    ),
    ErrorCode(
        "pepperpy.task.interval",
        InvalidArgumentError,
        "A schedule's interval is not a number of seconds > 0.",
        "Pass seconds, e.g. interval=60.",
    ),
    ErrorCode(
        "pepperpy.task.first_in",
        InvalidArgumentError,
        "A schedule's first_in is not a number of seconds >= 0.",
        "Pass seconds, or None to wait one interval.",
    ),
    ErrorCode(
        "pepperpy.task.grace",
        InvalidArgumentError,
        "A schedule's grace is not a number of seconds (>= 0, or > 0 for durable schedules).",
        "Pass seconds, e.g. grace=30.",
    ),
    ErrorCode(
        "pepperpy.task.retry",
        InvalidArgumentError,
        "retry (a number of attempts) is not an integer >= 1.",
        "Pass retry=3, or a RetryPolicy.",
    ),
    ErrorCode(
        "pepperpy.task.concurrency",
        InvalidArgumentError,
        "concurrency is not an integer >= 1.",
        "Pass concurrency=1 or more.",
    ),
    ErrorCode(
        "pepperpy.task.max_pending",
        InvalidArgumentError,
        "max_pending is not an integer >= 0.",
        "Pass max_pending=0 (no limit) or more.",
    ),
    ErrorCode(
        "pepperpy.task.max_attempts",
        InvalidArgumentError,
        "max_attempts is not an integer >= 1.",
        "Pass max_attempts=1 or more; it counts the first delivery.",
    ),
    ErrorCode(
        "pepperpy.task.task_timeout",
        InvalidArgumentError,
        "A durable queue's task_timeout is not a number of seconds > 0.",
        "Pass seconds, e.g. task_timeout=30, or None for no limit.",
    ),
    ErrorCode(
        "pepperpy.task.visibility_timeout",
        InvalidArgumentError,
        "visibility_timeout is not a number of seconds > 0.",
        "Pass seconds, e.g. visibility_timeout=30.",
    ),
    ErrorCode(
        "pepperpy.task.result_ttl",
        InvalidArgumentError,
        "result_ttl is not a number of seconds > 0.",
        "Pass seconds, e.g. result_ttl=3600.",
    ),
    ErrorCode(
        "pepperpy.task.poll_interval",
        InvalidArgumentError,
        "poll_interval is not a number of seconds > 0.",
        "Pass seconds, e.g. poll_interval=0.5.",
    ),
    ErrorCode(
        "pepperpy.task.register",
        InvalidArgumentError,
        "register() got no callable, or a callable without a name.",
        "Decorate a function, or pass name=... for other callables.",
    ),
    ErrorCode(
        "pepperpy.task.payload",
        InvalidArgumentError,
        "A durable task's or schedule's arguments are not JSON values.",
        "Pass JSON-compatible arguments (str, int, float, bool, None, lists, dicts).",
    ),
    ErrorCode(
        "pepperpy.task.missed",
        InvalidArgumentError,
        "A schedule's missed policy is not one of the known policies.",
        "Use one of the MissedRunPolicy values the message lists.",
    ),
    ErrorCode(
        "pepperpy.task.cron",
        InvalidArgumentError,
        "A cron expression is malformed.",
        "Fix the expression; the message says which field is wrong.",
    ),
    ErrorCode(
        "pepperpy.task.group_closed",
        InvalidArgumentError,
        "A TaskGroup got a task outside its 'async with' block.",
        "Submit tasks inside the 'async with TaskGroup()' block.",
    ),
    ErrorCode(
        "pepperpy.task.namespace",
        InvalidArgumentError,
        "RedisQueue's namespace is not a non-empty string.",
        "Pass a non-empty namespace, or keep the default.",
    ),
    ErrorCode(
        "pepperpy.task.postgres_dsn",
        InvalidArgumentError,
        "PostgresQueue's dsn is neither a DSN string nor an asyncpg pool.",
        "Pass 'postgresql://user@host:5432/db' or asyncpg.create_pool(...).",
    ),
    ErrorCode(
        "pepperpy.task.postgres_table",
        InvalidArgumentError,
        "PostgresQueue's table name is not a valid identifier.",
        "Use 1-48 lower-case letters, digits and '_', not starting with a digit.",
    ),
    ErrorCode(
        "pepperpy.task.postgres_schema",
        InvalidArgumentError,
        "PostgresQueue's schema name is not a valid identifier.",
        "Use 1-48 lower-case letters, digits and '_', not starting with a digit.",
    ),
    ErrorCode(
        "pepperpy.task.postgres_pool",
        InvalidArgumentError,
        "PostgresQueue's pool sizes are not 0 <= min_size <= max_size, max_size >= 1.",
        "Pass for example min_size=1, max_size=10.",
    ),
    ErrorCode(
        "pepperpy.task.sqlite_synchronous",
        InvalidArgumentError,
        "DurableQueue's synchronous is not 'full' or 'normal'.",
        "Pass synchronous='full' (the default) or 'normal'.",
    ),
    ErrorCode(
        "pepperpy.task.queue_url",
        InvalidArgumentError,
        "A sqlite:// queue URL has a host or no absolute path.",
        "Write sqlite:///relative.db or sqlite:////absolute/path.db.",
    ),
    ErrorCode(
        "pepperpy.task.queue_options",
        InvalidArgumentError,
        "A queue URL sets options its scheme does not take.",
        "Drop the options the message names.",
    ),
    ErrorCode(
        "pepperpy.task.cli_option",
        InvalidArgumentError,
        "pepperpy-task got an --option that is not KEY=VALUE.",
        "Write --option key=value.",
    ),
    ErrorCode(
        "pepperpy.task.cli_module",
        InvalidArgumentError,
        "pepperpy-task cannot import the module it was given.",
        "Check the module path and that it is importable (PYTHONPATH).",
    ),
    ErrorCode(
        "pepperpy.task.cli_queue",
        InvalidArgumentError,
        "pepperpy-task's target is not one durable queue (none, several, or another object).",
        "Name the queue, e.g. app.tasks:queue.",
    ),
    ErrorCode(
        "pepperpy.task.cli_empty",
        InvalidArgumentError,
        "pepperpy-task's queue has no registered task function.",
        "Register task functions on the queue in the module it imports.",
    ),
    ErrorCode(
        "pepperpy.task.cli_retry",
        InvalidArgumentError,
        "pepperpy-task retry got no task ids and no --all.",
        "Pass task ids, or --all to retry every failed task.",
    ),
)
"""The error codes pepperpy-task raises: ``ERRORS[code]`` gives the class, meaning and what to do.

The codes pepperpy-core's shared helpers raise on this package's behalf
(``pepperpy.task.unknown_backend``, ``pepperpy.task.missing_driver``, ... from
:func:`connect_queue` and the Redis/PostgreSQL drivers) are in core's
catalogue, ``pepperpy.core.ERRORS``.
"""
