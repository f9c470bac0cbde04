"""An in-process, typed, async publish/subscribe bus.

:class:`EventManager` routes attrs event objects by class and any payload by
dotted topic, with ``*``/``#`` wildcards; runs handlers in a deterministic
priority order, inline, concurrently or through a bounded queue; isolates
handler failures behind an error policy; carries the publisher's
pepperpy.context values to every handler; and shuts down cleanly with
:meth:`EventManager.drain`.

Across processes (``pepperpy-event[redis]``): :class:`RedisStream` (Redis
Streams, consumer groups, at-least-once with redelivery and dead letters) and
:class:`RedisPubSub` (fire-and-forget).
"""

from pepperpy.event._errors import BackpressureError, EventError, HandlerError
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
from pepperpy.event._redis import (
    REDIS_URL_ENV,
    PubSubSubscription,
    RedisPubSub,
    RedisStream,
    StreamError,
    StreamMessage,
)
from pepperpy.event._topics import matches, topic, topic_of
from pepperpy.event._version import __version__

__all__ = [
    "REDIS_URL_ENV",
    "Backpressure",
    "BackpressureError",
    "DeadLetter",
    "Delivery",
    "ErrorPolicy",
    "Event",
    "EventError",
    "EventManager",
    "HandlerError",
    "Middleware",
    "PubSubSubscription",
    "RedisPubSub",
    "RedisStream",
    "StreamError",
    "StreamMessage",
    "Subscription",
    "TopicStats",
    "__version__",
    "matches",
    "topic",
    "topic_of",
]
