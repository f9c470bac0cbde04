"""An in-process, typed, async publish/subscribe bus.

:class:`EventManager` routes attrs event objects by class and any payload by
dotted topic, with ``*``/``#`` wildcards; runs handlers in a deterministic
priority order, inline, concurrently or through a bounded queue; isolates
handler failures behind an error policy; carries the publisher's
pepperpy.context values to every handler; and shuts down cleanly with
:meth:`EventManager.drain`.

Durable event streams (:class:`EventStream`: consumer groups, at-least-once
with acknowledgements, redelivery and dead letters) with one API on three
stores, picked by :func:`connect_stream` from a URL: :class:`MemoryStream`
(this process), :class:`SQLiteStream` (processes sharing a file,
``pepperpy-event[sqlite]``), :class:`RedisStream` and :class:`PostgresStream`
(machines, ``pepperpy-event[redis]`` / ``[postgres]``); plus
:class:`RedisPubSub` (fire-and-forget).
"""

from pepperpy.event._errors import ERRORS, BackpressureError, EventError, HandlerError
from pepperpy.event._manager import (
    Backpressure,
    DeadLetter,
    Delivery,
    ErrorPolicy,
    Event,
    EventManager,
    Middleware,
    Subscription,
    TopicStats,
)
from pepperpy.event._memory_stream import MemoryHub, MemoryStream
from pepperpy.event._postgres_stream import PostgresStream
from pepperpy.event._redis import REDIS_URL_ENV, PubSubSubscription, RedisPubSub, RedisStream
from pepperpy.event._sqlite_stream import SQLiteStream
from pepperpy.event._stream import (
    ENTRY_POINT_GROUP,
    STREAM_URL_ENV,
    EventStream,
    StreamDeadLetter,
    StreamError,
    StreamMessage,
    connect_stream,
    stream_backends,
)
from pepperpy.event._topics import matches, topic, topic_of
from pepperpy.event._version import __version__

__all__ = [
    "ENTRY_POINT_GROUP",
    "ERRORS",
    "REDIS_URL_ENV",
    "STREAM_URL_ENV",
    "Backpressure",
    "BackpressureError",
    "DeadLetter",
    "Delivery",
    "ErrorPolicy",
    "Event",
    "EventError",
    "EventManager",
    "EventStream",
    "HandlerError",
    "MemoryHub",
    "MemoryStream",
    "Middleware",
    "PostgresStream",
    "PubSubSubscription",
    "RedisPubSub",
    "RedisStream",
    "SQLiteStream",
    "StreamDeadLetter",
    "StreamError",
    "StreamMessage",
    "Subscription",
    "TopicStats",
    "__version__",
    "connect_stream",
    "matches",
    "stream_backends",
    "topic",
    "topic_of",
]
