"""Errors raised by the event bus and streams, the record of a failed handler, and ERRORS."""

from __future__ import annotations

import traceback
from typing import Any

from pepperpy.core.exceptions import (
    ClosedError,
    ConfigurationError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    OperationTimeoutError,
    PepperPyError,
    safe_repr,
)

__all__ = ["ERRORS", "BackpressureError", "EventError", "HandlerError", "StreamError"]


class EventError(PepperPyError):
    """The root of the errors the event bus raises on purpose."""

    code = "pepperpy.event"


class BackpressureError(EventError):
    """A queued subscription is full and its policy is ``"error"``."""

    code = "pepperpy.event.backpressure"
    retryable = True


class HandlerError(EventError):
    """A handler raised while handling an event.

    The handler's exception is chained as ``__cause__`` and kept in
    :attr:`cause`; :attr:`traceback` is its formatted traceback, so the record
    stays useful after it has been stored, logged or sent to a dead-letter topic.

    Attributes:
        handler: The handler's name (its qualified name).
        topic: The topic the event was published on.
        event: The published event (or payload).
        cause: The handler's exception.
        traceback: The formatted traceback of *cause*.
        errors: With the ``"raise"`` policy, every handler error of the publish.
    """

    code = "pepperpy.event.handler_failed"

    def __init__(self, handler: str, topic: str, event: Any, cause: BaseException) -> None:
        super().__init__(
            f"handler {handler!r} failed on {topic!r}: {type(cause).__name__}: {cause}",
            context={"handler": handler, "topic": topic, "event": safe_repr(event)},
            hint="Fix the handler; other handlers still received the event.",
        )
        self.handler = handler
        self.topic = topic
        self.event = event
        self.cause = cause
        self.traceback = "".join(
            traceback.format_exception(type(cause), cause, cause.__traceback__)
        )
        self.errors: list[HandlerError] = [self]
        self.__cause__ = cause


class StreamError(ExternalError):
    """The stream's store (Redis, the SQLite file) failed a command (retryable)."""

    code = "pepperpy.event.stream"


ERRORS = ErrorCatalogue(
    "pepperpy.event",
    ErrorCode(
        "pepperpy.event",
        EventError,
        "An event bus error with no more specific code (the root class's default).",
        "Read the message and the hint.",
    ),
    ErrorCode(
        "pepperpy.event.backpressure",
        BackpressureError,
        "A subscription's queue (or concurrency limit) is full and its backpressure is 'error'.",
        "Retry later (retryable), or subscribe with backpressure='block' or a larger queue_size.",
    ),
    ErrorCode(
        "pepperpy.event.handler_failed",
        HandlerError,
        "A handler raised while handling an event; `cause` is its exception.",
        "Fix the handler; other handlers still received the event.",
    ),
    ErrorCode(
        "pepperpy.event.stream",
        StreamError,
        "An event stream's store (Redis, SQLite, PostgreSQL) failed a command.",
        "Retry (retryable); check that the store is reachable.",
    ),
    ErrorCode(
        "pepperpy.event.closed",
        ClosedError,
        "The event manager stopped while publish() or wait_for() was waiting.",
        "Do not publish to a stopped manager; create a new one.",
    ),
    ErrorCode(
        "pepperpy.event.stream_closed",
        ClosedError,
        "An event stream was used after close().",
        "Open a new stream (connect_stream) instead of reusing a closed one.",
    ),
    ErrorCode(
        "pepperpy.event.wait_timeout",
        OperationTimeoutError,
        "wait_for() saw no matching event within its timeout.",
        "Publish the awaited event sooner, or pass a larger timeout.",
    ),
    ErrorCode(
        "pepperpy.event.drain_timeout",
        OperationTimeoutError,
        "drain() found events still pending after its timeout.",
        "Pass a larger timeout, or find the handler that does not finish.",
    ),
    ErrorCode(
        "pepperpy.event.no_redis_url",
        ConfigurationError,
        "A Redis stream or pub/sub got no client nor URL, and PEPPERPY_REDIS_URL is unset.",
        "Pass url=... or client=..., or set PEPPERPY_REDIS_URL.",
    ),
    ErrorCode(
        "pepperpy.event.handler",
        InvalidArgumentError,
        "A handler passed to subscribe() or consume() is not callable.",
        "Pass a function or coroutine function taking the event.",
    ),
    ErrorCode(
        "pepperpy.event.target",
        InvalidArgumentError,
        "subscribe() got neither a topic pattern nor an event class.",
        "Pass a topic pattern such as 'orders.*' or an attrs event class.",
    ),
    ErrorCode(
        "pepperpy.event.delivery",
        InvalidArgumentError,
        "delivery is not 'inline', 'concurrent' or 'queued'.",
        "Use one of the delivery modes the message lists.",
    ),
    ErrorCode(
        "pepperpy.event.invalid_backpressure",
        InvalidArgumentError,
        "backpressure is not 'block', 'drop_oldest' or 'error' ('drop_oldest': queued only).",
        "Use a backpressure policy the message lists for that delivery mode.",
    ),
    ErrorCode(
        "pepperpy.event.priority",
        InvalidArgumentError,
        "priority is not an integer.",
        "Pass an int: higher runs first, 0 is the default.",
    ),
    ErrorCode(
        "pepperpy.event.once",
        InvalidArgumentError,
        "once is not True or False.",
        "Pass once=True or once=False.",
    ),
    ErrorCode(
        "pepperpy.event.weak",
        InvalidArgumentError,
        "weak is not True or False.",
        "Pass weak=True or weak=False.",
    ),
    ErrorCode(
        "pepperpy.event.envelope",
        InvalidArgumentError,
        "envelope is not True or False.",
        "Pass envelope=True or envelope=False.",
    ),
    ErrorCode(
        "pepperpy.event.filter",
        InvalidArgumentError,
        "filter is neither a callable nor None.",
        "Pass a function taking the event and returning a bool.",
    ),
    ErrorCode(
        "pepperpy.event.name",
        InvalidArgumentError,
        "A subscription's name is neither a string nor None.",
        "Pass a short label such as name='billing'.",
    ),
    ErrorCode(
        "pepperpy.event.queue_size",
        InvalidArgumentError,
        "queue_size is not an integer >= 1.",
        "Pass queue_size=1 or more.",
    ),
    ErrorCode(
        "pepperpy.event.workers",
        InvalidArgumentError,
        "workers is not an integer >= 1.",
        "Pass workers=1 or more.",
    ),
    ErrorCode(
        "pepperpy.event.max_concurrency",
        InvalidArgumentError,
        "max_concurrency is not an integer >= 1.",
        "Pass max_concurrency=1 or more.",
    ),
    ErrorCode(
        "pepperpy.event.max_topics",
        InvalidArgumentError,
        "max_topics is not an integer >= 1.",
        "Pass max_topics=1 or more.",
    ),
    ErrorCode(
        "pepperpy.event.max_errors",
        InvalidArgumentError,
        "max_errors is not an integer >= 0.",
        "Pass max_errors=0 or more.",
    ),
    ErrorCode(
        "pepperpy.event.stop_timeout",
        InvalidArgumentError,
        "stop_timeout is not a finite number of seconds >= 0.",
        "Pass stop_timeout=5 (seconds), or 0 not to wait.",
    ),
    ErrorCode(
        "pepperpy.event.timeout",
        InvalidArgumentError,
        "A timeout of wait_for() or drain() is not a finite number of seconds >= 0.",
        "Pass timeout=5 (seconds), 0, or None to wait without limit.",
    ),
    ErrorCode(
        "pepperpy.event.dead_letter_topic",
        InvalidArgumentError,
        "dead_letter_topic is not a valid topic.",
        "Pass a dotted topic without wildcards, e.g. 'events.dead_letter'.",
    ),
    ErrorCode(
        "pepperpy.event.clock",
        InvalidArgumentError,
        "clock lacks time() or async sleep().",
        "Pass pepperpy.core.system_clock (the default) or a ManualClock in tests.",
    ),
    ErrorCode(
        "pepperpy.event.on_error",
        InvalidArgumentError,
        "on_error is not a known error policy nor a callable.",
        "Use 'log', 'collect', 'raise', 'dead_letter' or a function taking a HandlerError.",
    ),
    ErrorCode(
        "pepperpy.event.subscription",
        InvalidArgumentError,
        "unsubscribe() got something other than a Subscription of this manager.",
        "Pass the Subscription that this manager's subscribe() returned.",
    ),
    ErrorCode(
        "pepperpy.event.middleware",
        InvalidArgumentError,
        "A middleware is not an async function (event, call_next).",
        "Pass an async function that awaits call_next(event).",
    ),
    ErrorCode(
        "pepperpy.event.event",
        InvalidArgumentError,
        "publish() got None or a class instead of a topic or an event object.",
        "Publish an instance, or a topic with its payload.",
    ),
    ErrorCode(
        "pepperpy.event.data",
        InvalidArgumentError,
        "publish() got data alongside an event object.",
        "Pass data only with a topic; an event object carries its own fields.",
    ),
    ErrorCode(
        "pepperpy.event.predicate",
        InvalidArgumentError,
        "wait_for()'s predicate is neither a callable nor None.",
        "Pass a function taking the event and returning a bool.",
    ),
    ErrorCode(
        "pepperpy.event.topic",
        InvalidArgumentError,
        "A topic is not a non-empty string of valid segments (wildcards, NUL, bad Unicode).",
        "Use dotted non-empty segments; wildcards '*' and '#' only as whole segments of a pattern.",
    ),
    ErrorCode(
        "pepperpy.event.payload",
        InvalidArgumentError,
        "An event's payload cannot be stored in an event stream (not JSON-serialisable).",
        "Publish JSON-compatible data, or an attrs event the serializer handles.",
    ),
    ErrorCode(
        "pepperpy.event.stream_id",
        InvalidArgumentError,
        "A stream entry id is malformed or out of range.",
        "Pass an id the stream returned, such as '1700000000000-0'.",
    ),
    ErrorCode(
        "pepperpy.event.stream_options",
        InvalidArgumentError,
        "A stream option (block, batch, maxlen, ...) is out of range, or not one its URL takes.",
        "Fix the option the message names.",
    ),
    ErrorCode(
        "pepperpy.event.invalid_stream",
        InvalidArgumentError,
        "A stream's name is empty, not a string, or holds NUL.",
        "Name the stream, e.g. stream='orders'.",
    ),
    ErrorCode(
        "pepperpy.event.group",
        InvalidArgumentError,
        "A stream's consumer group name is empty, not a string, or holds NUL.",
        "Name the group, e.g. group='billing'.",
    ),
    ErrorCode(
        "pepperpy.event.namespace",
        InvalidArgumentError,
        "A stream's namespace is empty, not a string, or holds NUL.",
        "Pass a non-empty namespace, or keep the default.",
    ),
    ErrorCode(
        "pepperpy.event.consumer",
        InvalidArgumentError,
        "A stream consumer's name is neither a non-empty string nor None.",
        "Name the consumer (stable across restarts), or leave it None.",
    ),
    ErrorCode(
        "pepperpy.event.stream_message",
        InvalidArgumentError,
        "ack() got something other than a StreamMessage.",
        "Acknowledge the StreamMessage objects the stream delivered.",
    ),
    ErrorCode(
        "pepperpy.event.forward_target",
        InvalidArgumentError,
        "forward() got something without publish() (not an EventManager).",
        "Pass the EventManager to forward the stream's events to.",
    ),
    ErrorCode(
        "pepperpy.event.hub",
        InvalidArgumentError,
        "MemoryStream's hub is neither a MemoryHub nor a name.",
        "Pass a MemoryHub, a hub name, or leave the default.",
    ),
    ErrorCode(
        "pepperpy.event.postgres_dsn",
        InvalidArgumentError,
        "PostgresStream got something other than a postgresql:// DSN.",
        "Pass a DSN such as 'postgresql://user@127.0.0.1/db'.",
    ),
    ErrorCode(
        "pepperpy.event.sqlite_path",
        InvalidArgumentError,
        "SQLiteStream got no file path (or ':memory:', which processes cannot share).",
        "Pass a file path such as 'events.db'.",
    ),
    ErrorCode(
        "pepperpy.event.sqlite_synchronous",
        InvalidArgumentError,
        "SQLiteStream's synchronous is not 'full' or 'normal'.",
        "Pass synchronous='full' (the default) or 'normal'.",
    ),
    ErrorCode(
        "pepperpy.event.stream_url",
        InvalidArgumentError,
        "A sqlite:// stream URL has a host or no absolute path.",
        "Write sqlite:///relative.db or sqlite:////absolute/path.db.",
    ),
)
"""The error codes pepperpy-event raises: ``ERRORS[code]`` gives the class, meaning and what to do.

The codes pepperpy-core's shared helpers raise on this package's behalf
(``pepperpy.event.unknown_backend``, ``pepperpy.event.missing_driver``, ...
from :func:`connect_stream` and the Redis transports) are in core's catalogue,
``pepperpy.core.ERRORS``.
"""
