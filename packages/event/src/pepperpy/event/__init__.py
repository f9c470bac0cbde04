"""An in-process, typed, async publish/subscribe bus.

:class:`EventManager` routes attrs event objects by class and any payload by
dotted topic, with ``*``/``#`` wildcards; runs handlers in a deterministic
priority order, inline, concurrently or through a bounded queue; isolates
handler failures behind an error policy; carries the publisher's
pepperpy.context values to every handler; and shuts down cleanly with
:meth:`EventManager.drain`.
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
from pepperpy.event._topics import matches, topic, topic_of
from pepperpy.event._version import __version__

__all__ = [
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
    "Subscription",
    "TopicStats",
    "__version__",
    "matches",
    "topic",
    "topic_of",
]
