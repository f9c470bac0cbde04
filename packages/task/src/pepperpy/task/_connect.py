"""Open the durable queue a URL names, so moving it to a server is a setting, not code."""

from __future__ import annotations

import inspect
from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError, PluginError
from pepperpy.core.utils import Backends
from pepperpy.task._base import DurableQueueBase

__all__ = ["ENTRY_POINT_GROUP", "QUEUE_URL_ENV", "connect_queue", "queue_backends"]

ENTRY_POINT_GROUP = "pepperpy.task.backends"
"""The entry point group durable queue backends register under (name = URL scheme)."""

QUEUE_URL_ENV = "PEPPERPY_TASK_QUEUE_URL"
"""The environment variable :func:`connect_queue` reads when given no URL."""

_BACKENDS = Backends(
    "task",
    "durable queue backend",
    ENTRY_POINT_GROUP,
    {
        "sqlite": "pepperpy.task._durable:DurableQueue",
        "redis": "pepperpy.task._redis:RedisQueue",
        "rediss": "pepperpy.task._redis:RedisQueue",
        "unix": "pepperpy.task._redis:RedisQueue",
        "postgres": "pepperpy.task._postgres:PostgresQueue",
        "postgresql": "pepperpy.task._postgres:PostgresQueue",
    },
)


def queue_backends() -> list[str]:
    """URL schemes :func:`connect_queue` accepts: the built-in ones and entry points."""
    return _BACKENDS.names()


def _accepted(cls: Any) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for param in inspect.signature(init).parameters.values():
            if param.kind is param.KEYWORD_ONLY:
                names.add(param.name)
    return names


def connect_queue(url: str | None = None, **options: Any) -> DurableQueueBase:
    """Create the durable queue a URL names; the code enqueuing and running tasks stays the same.

    ``sqlite:///tasks.db`` (relative) or ``sqlite:////var/lib/app/tasks.db``
    (absolute): :class:`~pepperpy.task.DurableQueue`, shared by the processes
    of one machine. ``redis://host:6379/0``: :class:`~pepperpy.task.RedisQueue`
    (``pepperpy-task[redis]``). ``postgresql://user@host/db``:
    :class:`~pepperpy.task.PostgresQueue` (``pepperpy-task[postgres]``). Other
    schemes are looked up under the ``pepperpy.task.backends`` entry point
    group (the class needs a ``from_url(url, **options)`` classmethod).

    Args:
        url: Where the queue lives; default ``$PEPPERPY_TASK_QUEUE_URL``.
        **options: The queue's options (``visibility_timeout``, ``poll_interval``,
            ``concurrency``, ...) and the backend's own (``namespace`` for Redis,
            ``table`` and ``schema`` for PostgreSQL).

    Raises:
        ConfigurationError: No URL, or no backend for its scheme.
        InvalidArgumentError: A malformed URL, or an option the backend does not take.
    """
    url, scheme, cls = _BACKENDS.for_url(
        url,
        noun="queue",
        env=QUEUE_URL_ENV,
        examples="sqlite:///tasks.db, redis://host:6379/0 or postgresql://user@host/db",
    )
    accepted = _accepted(cls)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InvalidArgumentError(
            f"{scheme}:// queues do not take {', '.join(unknown)}",
            code="pepperpy.task.queue_options",
            context={"url": url, "unknown": unknown, "accepted": sorted(accepted)},
            hint="Pass only the options this backend accepts (listed in 'accepted').",
        )
    queue = cls.from_url(url, **options)
    if not isinstance(queue, DurableQueueBase):
        raise PluginError(
            f"durable queue backend {scheme!r} returned {type(queue).__name__}, "
            "not a DurableQueueBase",
            code="pepperpy.task.backend_load",
            context={"backend": scheme},
            hint="A backend subclasses pepperpy.task.DurableQueueBase.",
        )
    return queue
